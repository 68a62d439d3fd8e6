// Framing: turning a byte stream into a stream of frames and back (Tokio's
// tokio_util::codec).  A Decoder takes frames off the front of a ByteBuffer;
// an Encoder appends one frame's bytes to a std::string.
//
//   braid::io::FramedRead frames(std::move(reader), braid::io::LinesCodec());
//   while (auto line = co_await frames.next()) use(*line);      // a braid stream
//
//   braid::io::FramedWrite out(std::move(writer), braid::io::LengthDelimitedCodec());
//   co_await out.send("frame one");                              // a sink: send = feed + flush
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

template <AsyncRead R, Decoder D>
class FramedRead : public braid::stream::StreamBase<FramedRead<R, D>> {
public:
    using item_type = typename D::item_type;
    static constexpr std::size_t kReadChunk = 8 * 1024;

    FramedRead(R reader, D decoder)
        : st_(std::make_unique<State>(static_cast<R&&>(reader), std::move(decoder))), frames_(run(*st_)) {}

    braid::stream::Poll<item_type> poll_next(braid::detail::Context& cx) { return frames_.poll_next(cx); }
    void detach() noexcept { frames_.detach(); }

    R& get_ref() { return st_->reader; }
    D& decoder() { return st_->codec; }
    // Bytes read but not decoded yet.
    const ByteBuffer& read_buffer() const { return st_->buf; }

private:
    struct State {
        State(R r, D d) : reader(static_cast<R&&>(r)), codec(std::move(d)) {}
        R reader;
        D codec;
        ByteBuffer buf;
        bool eof = false;
    };
    // The decoder is asked only when there is something new to look at:
    // decode after bytes arrived (again after each frame it gave), and
    // decode_eof, until it gives nothing, once the reader reached end of file.
    static braid::Stream<item_type> run(State& s) {
        bool readable = false;  // bytes (or end of file) came since the decoder last gave nothing
        for (;;) {
            if (readable) {
                if (s.eof) {
                    std::optional<item_type> last = s.codec.decode_eof(s.buf);
                    if (!last) co_return;
                    co_yield std::move(*last);
                    continue;
                }
                if (std::optional<item_type> item = s.codec.decode(s.buf)) {
                    co_yield std::move(*item);
                    continue;
                }
                readable = false;
            }
            MutableBuffer room = s.buf.prepare(kReadChunk);
            std::size_t n = co_await s.reader.read(room);
            s.buf.commit(n);
            if (n == 0) s.eof = true;
            readable = true;
        }
    }

    std::unique_ptr<State> st_;
    braid::Stream<item_type> frames_;
};

template <class R, class D>
FramedRead(R, D) -> FramedRead<R, D>;

template <AsyncWrite W, class E>
class FramedWrite {
public:
    // send() flushes on its own once this much is buffered (feed does not).
    static constexpr std::size_t kHighWater = 64 * 1024;

    FramedWrite(W writer, E encoder) : writer_(static_cast<W&&>(writer)), codec_(std::move(encoder)) {}
    FramedWrite(FramedWrite&&) noexcept = default;

    // Encodes item into the buffer (nothing is written yet).
    template <class T>
        requires Encoder<E, T>
    void feed(const T& item) {
        codec_.encode(item, buf_);
    }
    // feed + flush.
    template <class T>
        requires Encoder<E, T>
    Task<void> send(const T& item) {
        codec_.encode(item, buf_);
        co_await flush();
    }
    // Writes everything buffered, then flushes the writer.
    Task<void> flush() {
        while (sent_ < buf_.size()) {
            std::size_t n = co_await writer_.write(ConstBuffer(buf_.data() + sent_, buf_.size() - sent_));
            if (n == 0) throw IoError(BRAID_EPIPE, 0, "FramedWrite: the writer took no bytes");
            sent_ += n;
        }
        buf_.clear();
        sent_ = 0;
        co_await writer_.flush();
    }
    // Flushes, then shuts the writer down.
    Task<void> close() {
        co_await flush();
        co_await writer_.shutdown();
    }

    std::size_t buffered() const { return buf_.size() - sent_; }
    W& get_ref() { return writer_; }
    E& encoder() { return codec_; }

private:
    W writer_;
    E codec_;
    std::string buf_;
    std::size_t sent_ = 0;
};

template <class W, class E>
FramedWrite(W, E) -> FramedWrite<W, E>;

}  // namespace braid::io
