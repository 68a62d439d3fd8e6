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
#pragma once

#include <braid/io/buffer.hpp>

#include <memory>
#include <utility>

namespace braid::io {

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

private:
    S* s_;
};

template <class S>
class WriteHalf {
public:
    explicit WriteHalf(S& s) : s_(&s) {}
    auto write(ConstBuffer b) { return s_->write(b); }
    auto write_all(ConstBuffer b) { return s_->write_all(b); }
    auto flush() { return s_->flush(); }
    auto shutdown() { return s_->shutdown(); }

private:
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
    auto flush() { return s_->flush(); }
    auto shutdown() { return s_->shutdown(); }
    S& stream() const { return *s_; }

private:
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
