// braid::io::Framed<T, C>: one object that reads and writes frames with one
// codec over one duplex stream (tokio_util's Framed): a stream of decoded
// frames, like FramedRead, and a sink of encoded ones, like FramedWrite.
//
//   braid::io::Framed conn(std::move(tcp), braid::io::LinesCodec());
//   while (auto line = co_await conn.next()) co_await conn.send(*line);   // an echo
//
// C is a Decoder and an Encoder of what is sent.  Reading and writing share
// nothing but the codec: a task may send between two next(), or one task
// read while another writes (not two readers or two writers at once).
// next() is cancel-safe, flush() too; send() is not (see codec.hpp).
//
//   auto parts = std::move(conn).into_parts();           // stream, codec, both buffers
//   auto other = std::move(conn).map_codec(f);            // the same buffers, codec f(codec)
//   auto [rd, wr] = std::move(conn).into_split();         // FramedRead + FramedWrite over owned halves
//   auto back = braid::io::unsplit(std::move(rd), std::move(wr));   // and back
//
// into_split copies the codec (one for each half); unsplit keeps the read
// half's, and throws braid::Error(BRAID_EINVAL), leaving both halves as
// they were, when they come from different streams.
#pragma once

#include <braid/io/codec.hpp>
#include <braid/io/split.hpp>
#include <braid/io/traits.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace braid::io {

template <class T, Decoder C>
    requires AsyncRead<std::remove_reference_t<T>> && AsyncWrite<std::remove_reference_t<T>>
class Framed : public braid::stream::StreamBase<Framed<T, C>> {
public:
    using item_type = typename C::item_type;
    static constexpr std::size_t kReadChunk = 8 * 1024;

    Framed(T io, C codec) : Framed(FramedParts<T, C>{static_cast<T&&>(io), std::move(codec)}) {}
    // From parts: parts.read_buf is decoded before anything is read, and
    // parts.write_buf written before anything sent after it.
    explicit Framed(FramedParts<T, C> parts)
        : st_(std::make_unique<State>(std::move(parts))),
          frames_(detail::decode_frames(st_->io, st_->codec, st_->read_buf, kReadChunk)) {}

    braid::stream::Poll<item_type> poll_next(braid::detail::Context& cx) { return frames_.poll_next(cx); }
    void detach() noexcept { frames_.detach(); }

    // Encodes item into the write buffer (nothing is written yet); await
    // ready() before each feed to keep the buffer bounded, as FramedWrite.
    template <class U>
        requires Encoder<C, U>
    void feed(const U& item) {
        st_->codec.encode(item, st_->write_buf);
    }
    // Waits until another frame may be fed: writes the buffer out first
    // while it holds backpressure_boundary() bytes or more.
    Task<void> ready() {
        return detail::write_when_full(st_->io, st_->write_buf, st_->sent, st_->boundary, "Framed");
    }
    // ready + feed + flush.
    template <class U>
        requires Encoder<C, U>
    Task<void> send(const U& item) {
        co_await ready();
        feed(item);
        co_await flush();
    }
    // Writes everything buffered, then flushes the stream.
    Task<void> flush() { return detail::write_frames(st_->io, st_->write_buf, st_->sent, "Framed"); }
    // Flushes, then shuts the stream's write side down.
    Task<void> close() {
        co_await flush();
        co_await st_->io.shutdown();
    }

    T& get_ref() { return st_->io; }
    C& codec() { return st_->codec; }
    // Bytes read but not decoded yet.
    const ByteBuffer& read_buffer() const { return st_->read_buf; }
    // Bytes encoded but not written yet.
    std::size_t buffered() const { return st_->write_buf.size() - st_->sent; }
    // How many buffered bytes make ready() write them out (8 KiB unless set).
    std::size_t backpressure_boundary() const { return st_->boundary; }
    void set_backpressure_boundary(std::size_t n) { st_->boundary = n; }

    FramedParts<T, C> into_parts() && {
        frames_ = braid::Stream<item_type>();
        State& s = *st_;
        s.write_buf.erase(0, s.sent);
        s.sent = 0;
        return {static_cast<T&&>(s.io), std::move(s.codec), std::move(s.read_buf), std::move(s.write_buf)};
    }
    // The same stream and buffers with the codec f(codec).
    template <class F>
    auto map_codec(F f) && {
        using C2 = std::remove_cvref_t<std::invoke_result_t<F&, C&&>>;
        FramedParts<T, C> p = std::move(*this).into_parts();
        return Framed<T, C2>(
            FramedParts<T, C2>{static_cast<T&&>(p.io), f(std::move(p.codec)), std::move(p.read_buf), std::move(p.write_buf)});
    }
    // A FramedRead and a FramedWrite over the owned halves of the stream
    // (io::into_split), each with a copy of the codec and its own buffer.
    auto into_split() &&
        requires(!std::is_reference_v<T> && std::is_copy_constructible_v<C>)
    {
        FramedParts<T, C> p = std::move(*this).into_parts();
        auto [rd, wr] = io::into_split(std::move(p.io));
        using R = decltype(rd);
        using W = decltype(wr);
        return std::pair<FramedRead<R, C>, FramedWrite<W, C>>(
            FramedRead<R, C>(FramedParts<R, C>{std::move(rd), p.codec, std::move(p.read_buf), {}}),
            FramedWrite<W, C>(FramedParts<W, C>{std::move(wr), std::move(p.codec), {}, std::move(p.write_buf)}));
    }

private:
    struct State {
        explicit State(FramedParts<T, C>&& p)
            : io(static_cast<T&&>(p.io)), codec(std::move(p.codec)), read_buf(std::move(p.read_buf)),
              write_buf(std::move(p.write_buf)) {}
        T io;
        C codec;
        ByteBuffer read_buf;
        std::string write_buf;
        std::size_t sent = 0;
        std::size_t boundary = detail::kBackpressureBoundary;
    };

    std::unique_ptr<State> st_;
    braid::Stream<item_type> frames_;
};

template <class T, class C>
Framed(T, C) -> Framed<T, C>;

// A Framed again from the two framed halves of one stream (Tokio's reunite
// of a split Framed): the stream reunited, the read half's codec and
// unread bytes, the write half's unwritten bytes.
template <class S, class C, class E>
Framed<S, C> unsplit(FramedRead<OwnedReadHalf<S>, C>&& rd, FramedWrite<OwnedWriteHalf<S>, E>&& wr) {
    if (!rd.get_ref().is_pair_of(wr.get_ref())) detail::not_a_pair("io::unsplit");
    FramedParts<OwnedReadHalf<S>, C> r = std::move(rd).into_parts();
    FramedParts<OwnedWriteHalf<S>, E> w = std::move(wr).into_parts();
    S s = std::move(r.io).reunite(std::move(w.io));
    return Framed<S, C>(FramedParts<S, C>{std::move(s), std::move(r.codec), std::move(r.read_buf), std::move(w.write_buf)});
}

}  // namespace braid::io
