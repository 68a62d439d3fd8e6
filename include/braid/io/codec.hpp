// Framing: turning a byte stream into a stream of frames and back (Tokio's
// tokio_util::codec).  A Decoder takes frames off the front of a ByteBuffer;
// an Encoder appends one frame's bytes to a std::string.
//
//   braid::io::FramedRead frames(std::move(reader), braid::io::LinesCodec());
//   while (auto line = co_await frames.next()) use(*line);      // a braid stream
//
//   braid::io::FramedWrite out(std::move(writer), braid::io::LengthDelimitedCodec());
//   co_await out.send("frame one");                              // a sink: send = ready + feed + flush
//   out.feed("two"); out.feed("three"); co_await out.flush();
//   co_await out.close();                                        // flush + shutdown
//
// FramedRead is an AsyncStream (next(), and every combinator of
// braid/stream.hpp).  next() is cancel-safe (the partial frame stays
// buffered).  FramedWrite::flush is cancel-safe (what was sent leaves the
// buffer); send is not (its frame may be half sent).
//
// Decoder<D>:  using item_type = ...;
//              std::optional<item_type> decode(ByteBuffer&)       a frame, or nullopt: need more bytes
//              std::optional<item_type> decode_eof(ByteBuffer&)   at end of file: the last frame, or
//                                                                 nullopt when nothing is left; throws
//                                                                 if a partial frame is left
// FramedRead calls decode only after bytes arrived (and again after each
// frame it gave, until it gives nothing), and decode_eof, until it gives
// nothing, once the reader reached end of file; then the stream ends.  Like
// every braid stream it ends for good there, and after an exception (Tokio's
// FramedRead goes on reading after either).
// Encoder<E, T>: void encode(const T& item, std::string& out)
#pragma once

#include <braid/detail/context.hpp>
#include <braid/io/buffer.hpp>
#include <braid/io/error.hpp>
#include <braid/io/ext.hpp>
#include <braid/io/traits.hpp>
#include <braid/stream/core.hpp>
#include <braid/stream/generator.hpp>
#include <braid/task.hpp>

#include <concepts>
#include <cstddef>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace braid::io {

// Bytes read but not yet decoded: a string with a consumed prefix.
class ByteBuffer {
public:
    std::size_t size() const { return data_.size() - start_; }
    bool empty() const { return size() == 0; }
    const char* data() const { return data_.data() + start_; }
    std::string_view view() const { return {data(), size()}; }
    // Drops n bytes off the front.
    void consume(std::size_t n) {
        start_ += std::min(n, size());
        if (start_ == data_.size()) data_.clear(), start_ = 0;
    }
    // Takes n bytes off the front.
    std::string take(std::size_t n) {
        n = std::min(n, size());
        std::string out(data(), n);
        consume(n);
        return out;
    }
    void append(const void* p, std::size_t n) { data_.append(static_cast<const char*>(p), n); }
    // Room for n more bytes at the end; commit(k) keeps k of them.
    MutableBuffer prepare(std::size_t n) {
        if (start_ > 0 && start_ >= data_.size() / 2) {  // compact before growing
            data_.erase(0, start_);
            start_ = 0;
        }
        used_ = data_.size();
        data_.resize(used_ + n);
        return MutableBuffer(data_.data() + used_, n);
    }
    void commit(std::size_t k) { data_.resize(used_ + k); }

private:
    std::string data_;
    std::size_t start_ = 0;
    std::size_t used_ = 0;
};

template <class D>
concept Decoder = requires(D& d, ByteBuffer& b) {
    typename D::item_type;
    { d.decode(b) } -> std::same_as<std::optional<typename D::item_type>>;
    { d.decode_eof(b) } -> std::same_as<std::optional<typename D::item_type>>;
};

template <class E, class T>
concept Encoder = requires(E& e, const T& item, std::string& out) { e.encode(item, out); };

// What a framed transport is made of (tokio_util's FramedParts): the
// stream, the codec, the bytes read but not decoded yet, and the bytes
// encoded but not written yet.  into_parts() takes a FramedRead,
// FramedWrite or Framed apart; their constructors from parts go on where
// the parts left off.
template <class IO, class Codec>
struct FramedParts {
    IO io;
    Codec codec;
    ByteBuffer read_buf{};
    std::string write_buf{};
};

namespace detail {
// The frames decoded from what `reader` gives, buffered in `buf`.  The
// decoder is asked only when there is something new to look at: decode
// after bytes arrived (again after each frame it gave), and decode_eof,
// until it gives nothing, once the reader reached end of file.  Bytes
// already in `buf` count as arrived.
template <class R, class D>
braid::Stream<typename D::item_type> decode_frames(R& reader, D& codec, ByteBuffer& buf, std::size_t chunk) {
    bool eof = false;
    bool readable = !buf.empty();  // bytes (or end of file) came since the decoder last gave nothing
    for (;;) {
        if (readable) {
            if (eof) {
                std::optional<typename D::item_type> last = codec.decode_eof(buf);
                if (!last) co_return;
                co_yield std::move(*last);
                continue;
            }
            if (std::optional<typename D::item_type> item = codec.decode(buf)) {
                co_yield std::move(*item);
                continue;
            }
            readable = false;
        }
        MutableBuffer room = buf.prepare(chunk);
        std::size_t n = co_await reader.read(room);
        buf.commit(n);
        if (n == 0) eof = true;
        readable = true;
    }
}

// Writes buf[sent..] to w, moving `sent` as bytes leave (a cancelled flush
// never sends a byte twice), then flushes w.
template <class W>
Task<void> write_frames(W& w, std::string& buf, std::size_t& sent, const char* who) {
    while (sent < buf.size()) {
        std::size_t n = co_await w.write(ConstBuffer(buf.data() + sent, buf.size() - sent));
        if (n == 0) throw IoError(BRAID_EPIPE, 0, std::string(who) + ": the writer took no bytes");
        sent += n;
    }
    buf.clear();
    sent = 0;
    co_await w.flush();
}

// The bytes buffered for writing that make a framed writer's ready() write
// them out first (Tokio's backpressure boundary, 8 KiB).
inline constexpr std::size_t kBackpressureBoundary = 8 * 1024;

// ready() of a framed writer: write_frames when buf[sent..] holds
// `boundary` bytes or more, else nothing.
template <class W>
Task<void> write_when_full(W& w, std::string& buf, std::size_t& sent, std::size_t boundary, const char* who) {
    if (buf.size() - sent >= boundary && buf.size() > sent) co_await write_frames(w, buf, sent, who);
}
}  // namespace detail

template <AsyncRead R, Decoder D>
class FramedRead : public braid::stream::StreamBase<FramedRead<R, D>> {
public:
    using item_type = typename D::item_type;
    static constexpr std::size_t kReadChunk = 8 * 1024;

    FramedRead(R reader, D decoder) : FramedRead(FramedParts<R, D>{static_cast<R&&>(reader), std::move(decoder)}) {}
    // From parts: the bytes of parts.read_buf are decoded first.
    explicit FramedRead(FramedParts<R, D> parts)
        : st_(std::make_unique<State>(static_cast<R&&>(parts.io), std::move(parts.codec), std::move(parts.read_buf))),
          frames_(detail::decode_frames(st_->reader, st_->codec, st_->buf, kReadChunk)) {}

    braid::stream::Poll<item_type> poll_next(braid::detail::Context& cx) { return frames_.poll_next(cx); }
    void detach() noexcept { frames_.detach(); }

    R& get_ref() { return st_->reader; }
    D& decoder() { return st_->codec; }
    // Bytes read but not decoded yet.
    const ByteBuffer& read_buffer() const { return st_->buf; }

    // The reader, the decoder and the bytes not decoded yet.
    FramedParts<R, D> into_parts() && {
        frames_ = braid::Stream<item_type>();
        return {static_cast<R&&>(st_->reader), std::move(st_->codec), std::move(st_->buf), {}};
    }
    // The same reader and buffered bytes with another decoder: f(decoder).
    template <class F>
    auto map_decoder(F f) && {
        using D2 = std::remove_cvref_t<std::invoke_result_t<F&, D&&>>;
        FramedParts<R, D> p = std::move(*this).into_parts();
        return FramedRead<R, D2>(FramedParts<R, D2>{static_cast<R&&>(p.io), f(std::move(p.codec)), std::move(p.read_buf), {}});
    }

private:
    struct State {
        State(R r, D d, ByteBuffer b) : reader(static_cast<R&&>(r)), codec(std::move(d)), buf(std::move(b)) {}
        R reader;
        D codec;
        ByteBuffer buf;
    };

    std::unique_ptr<State> st_;
    braid::Stream<item_type> frames_;
};

template <class R, class D>
FramedRead(R, D) -> FramedRead<R, D>;

template <AsyncWrite W, class E>
class FramedWrite {
public:
    FramedWrite(W writer, E encoder) : writer_(static_cast<W&&>(writer)), codec_(std::move(encoder)) {}
    // From parts: the bytes of parts.write_buf are written first.
    explicit FramedWrite(FramedParts<W, E> parts)
        : writer_(static_cast<W&&>(parts.io)), codec_(std::move(parts.codec)), buf_(std::move(parts.write_buf)) {}

    // Encodes item into the buffer (nothing is written yet).  A producer
    // that only feeds awaits ready() before each feed, so that the buffer
    // stays bounded (Tokio's SinkExt::feed).
    template <class T>
        requires Encoder<E, T>
    void feed(const T& item) {
        codec_.encode(item, buf_);
    }
    // Waits until another frame may be fed (Tokio's Sink::poll_ready): while
    // backpressure_boundary() bytes or more wait in the buffer, it writes
    // them out first (flush).
    Task<void> ready() { return detail::write_when_full(writer_, buf_, sent_, boundary_, "FramedWrite"); }
    // ready + feed + flush.
    template <class T>
        requires Encoder<E, T>
    Task<void> send(const T& item) {
        co_await ready();
        codec_.encode(item, buf_);
        co_await flush();
    }
    // Writes everything buffered, then flushes the writer.
    Task<void> flush() { return detail::write_frames(writer_, buf_, sent_, "FramedWrite"); }
    // Flushes, then shuts the writer down.
    Task<void> close() {
        co_await flush();
        co_await writer_.shutdown();
    }

    std::size_t buffered() const { return buf_.size() - sent_; }
    // How many buffered bytes make ready() write them out (8 KiB unless set;
    // 0: ready() writes out whatever is buffered).
    std::size_t backpressure_boundary() const { return boundary_; }
    void set_backpressure_boundary(std::size_t n) { boundary_ = n; }
    W& get_ref() { return writer_; }
    E& encoder() { return codec_; }

    // The writer, the encoder and the bytes not written yet.
    FramedParts<W, E> into_parts() && {
        buf_.erase(0, sent_);
        sent_ = 0;
        return {static_cast<W&&>(writer_), std::move(codec_), {}, std::move(buf_)};
    }
    // The same writer and buffered bytes with another encoder: f(encoder).
    template <class F>
    auto map_encoder(F f) && {
        using E2 = std::remove_cvref_t<std::invoke_result_t<F&, E&&>>;
        FramedParts<W, E> p = std::move(*this).into_parts();
        return FramedWrite<W, E2>(FramedParts<W, E2>{static_cast<W&&>(p.io), f(std::move(p.codec)), {}, std::move(p.write_buf)});
    }

private:
    W writer_;
    E codec_;
    std::string buf_;
    std::size_t sent_ = 0;
    std::size_t boundary_ = detail::kBackpressureBoundary;
};

template <class W, class E>
FramedWrite(W, E) -> FramedWrite<W, E>;

}  // namespace braid::io
