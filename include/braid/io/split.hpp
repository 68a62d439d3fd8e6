// Splitting a duplex stream (TcpStream, UnixStream, DuplexStream) into a read
// half and a write half that two tasks use at the same time.
//
//   auto [rd, wr] = braid::io::split(stream);            // borrowed: stream outlives them
//   auto [ord, owr] = braid::io::into_split(std::move(stream));   // owned: movable into tasks
//
// Dropping an owned write half shuts the write side down (the peer reads
// end of file), as in Tokio.  Two tasks reading one socket stream at once
// both wait and take turns (each byte goes to one of them); a DuplexStream
// keeps one reader and one writer.
//
// Halves join again (Tokio's unsplit and reunite):
//   S& s2 = rd.unsplit(wr);                        // borrowed halves: the stream they share
//   S s3 = std::move(ord).reunite(std::move(owr)); // owned halves: the stream itself
// rd.is_pair_of(wr) tells whether two halves came from one split.  Joining
// halves of different splits throws braid::Error(BRAID_EINVAL) and leaves
// both halves as they were.
#pragma once

#include <braid/error.hpp>
#include <braid/io/buffer.hpp>

#include <memory>
#include <span>
#include <string>
#include <utility>

namespace braid::io {

namespace detail {
[[noreturn]] inline void not_a_pair(const char* what) {
    throw Error(BRAID_EINVAL, std::string(what) + ": the halves come from different streams");
}
}  // namespace detail

template <class S>
class WriteHalf;
template <class S>
class OwnedWriteHalf;

template <class S>
class ReadHalf {
public:
    explicit ReadHalf(S& s) : s_(&s) {}
    auto read(MutableBuffer b) { return s_->read(b); }
    auto read_exact(MutableBuffer b) { return s_->read_exact(b); }
    auto peek(MutableBuffer b)
        requires requires(S& s) { s.peek(b); }
    {
        return s_->peek(b);
    }
    bool is_pair_of(const WriteHalf<S>& w) const noexcept { return w.s_ == s_; }
    // The stream both halves borrow.
    S& unsplit(const WriteHalf<S>& w) const {
        if (!is_pair_of(w)) detail::not_a_pair("ReadHalf::unsplit");
        return *s_;
    }

private:
    S* s_;
};

template <class S>
class WriteHalf {
public:
    explicit WriteHalf(S& s) : s_(&s) {}
    bool is_pair_of(const ReadHalf<S>& r) const noexcept { return r.is_pair_of(*this); }
    auto write(ConstBuffer b) { return s_->write(b); }
    auto write_all(ConstBuffer b) { return s_->write_all(b); }
    auto write_vectored(std::span<const ConstBuffer> bufs)
        requires requires(S& s) { s.write_vectored(bufs); }
    {
        return s_->write_vectored(bufs);
    }
    auto flush() { return s_->flush(); }
    auto shutdown() { return s_->shutdown(); }

private:
    friend class ReadHalf<S>;
    S* s_;
};

template <class S>
class OwnedReadHalf {
public:
    explicit OwnedReadHalf(std::shared_ptr<S> s) : s_(std::move(s)) {}
    auto read(MutableBuffer b) { return s_->read(b); }
    auto read_exact(MutableBuffer b) { return s_->read_exact(b); }
    auto peek(MutableBuffer b)
        requires requires(S& s) { s.peek(b); }
    {
        return s_->peek(b);
    }
    // The stream both halves share.
    S& stream() const { return *s_; }
    bool is_pair_of(const OwnedWriteHalf<S>& w) const noexcept { return w.s_ == s_; }
    // The stream back from its two halves (without shutting its write side
    // down); both halves are empty afterwards.
    S reunite(OwnedWriteHalf<S>&& w) && {
        if (!is_pair_of(w) || !s_) detail::not_a_pair("OwnedReadHalf::reunite");
        w.s_.reset();
        std::shared_ptr<S> p = std::move(s_);
        return std::move(*p);
    }

private:
    std::shared_ptr<S> s_;
};

template <class S>
class OwnedWriteHalf {
public:
    explicit OwnedWriteHalf(std::shared_ptr<S> s) : s_(std::move(s)) {}
    OwnedWriteHalf(OwnedWriteHalf&&) noexcept = default;
    OwnedWriteHalf& operator=(OwnedWriteHalf&& o) noexcept {
        if (this != &o) {
            shut();
            s_ = std::move(o.s_);
        }
        return *this;
    }
    ~OwnedWriteHalf() { shut(); }
    auto write(ConstBuffer b) { return s_->write(b); }
    auto write_all(ConstBuffer b) { return s_->write_all(b); }
    auto write_vectored(std::span<const ConstBuffer> bufs)
        requires requires(S& s) { s.write_vectored(bufs); }
    {
        return s_->write_vectored(bufs);
    }
    auto flush() { return s_->flush(); }
    auto shutdown() { return s_->shutdown(); }
    S& stream() const { return *s_; }
    bool is_pair_of(const OwnedReadHalf<S>& r) const noexcept { return r.is_pair_of(*this); }
    // OwnedReadHalf::reunite, from this side.
    S reunite(OwnedReadHalf<S>&& r) && { return std::move(r).reunite(std::move(*this)); }

private:
    friend class OwnedReadHalf<S>;
    void shut() noexcept {
        if (s_) {
            try {
                s_->shutdown_write();
            } catch (...) {
            }
        }
    }
    std::shared_ptr<S> s_;
};

template <class S>
std::pair<ReadHalf<S>, WriteHalf<S>> split(S& s) {
    return {ReadHalf<S>(s), WriteHalf<S>(s)};
}

template <class S>
std::pair<OwnedReadHalf<S>, OwnedWriteHalf<S>> into_split(S&& s) {
    auto p = std::make_shared<S>(std::move(s));
    return {OwnedReadHalf<S>(p), OwnedWriteHalf<S>(p)};
}

}  // namespace braid::io
