// braid::io::duplex: an in-memory, bidirectional byte pipe between two
// DuplexStream ends (Tokio's tokio::io::duplex), for tests and for plumbing
// two parts of a program together without sockets.
//
//   auto [a, b] = braid::io::duplex(64 * 1024);   // each direction buffers at most 64 KiB
//   co_await a.write_all("ping");  std::size_t n = co_await b.read(buf);
//
// A write waits while its direction's buffer is full; a read waits while it
// is empty.  shutdown() (or dropping an end) makes the other end's reads
// return 0 (end of file) once the buffer is drained; writing towards an end
// that was dropped throws IoError(BRAID_EPIPE).  read and write are
// cancel-safe; read_exact and write_all are not.  Everything happens in this
// header (no syscalls): the waker of a waiting task is kept and called under
// the pipe's lock, like the engine's.
#pragma once

#include <braid/detail/context.hpp>
#include <braid/io/buffer.hpp>
#include <braid/io/error.hpp>
#include <braid/io/ext.hpp>
#include <braid/task.h>
#include <braid/task.hpp>

#include <algorithm>
#include <coroutine>
#include <cstddef>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>

namespace braid::io {

namespace detail {

// One direction.
struct DuplexPipe {
    explicit DuplexPipe(std::size_t max) : max(max ? max : 1) {}
    std::mutex mu;
    std::deque<std::byte> buf;
    const std::size_t max;
    bool write_closed = false;  // the writing end shut down or went away
    bool read_closed = false;   // the reading end went away
    braid_wake_fn reader = nullptr;
    void* reader_data = nullptr;
    braid_wake_fn writer = nullptr;
    void* writer_data = nullptr;

    static void wake(braid_wake_fn& f, void*& d) {
        if (braid_wake_fn g = std::exchange(f, nullptr)) g(d);
    }
};

// Completing at once takes a unit of the task's cooperative budget; with
// none left the task yields (woken at once, nothing done).
inline bool coop_or_yield(braid_wake_fn w, void* d) {
    if (braid_coop_take()) return true;
    w(d);
    return false;
}

class [[nodiscard]] DuplexRead : public braid::detail::LeafAwaiter<DuplexRead> {
public:
    DuplexRead(DuplexPipe* p, MutableBuffer b) : p_(p), b_(b) {}
    DuplexRead(DuplexRead&& o) noexcept : p_(std::exchange(o.p_, nullptr)), b_(o.b_) {}
    ~DuplexRead() { unregister(); }
    void unregister() noexcept {
        if (registered_) {
            std::lock_guard<std::mutex> g(p_->mu);
            if (p_->reader_data == data_) p_->reader = nullptr;
        }
        registered_ = false;
    }
    bool ready_now() const { return false; }
    int poll(braid_wake_fn w, void* d) {
        if (b_.size == 0) return BRAID_EINVAL;
        std::lock_guard<std::mutex> g(p_->mu);
        registered_ = false;
        if (!p_->buf.empty()) {
            if (!coop_or_yield(w, d)) return BRAID_PENDING;
            n_ = std::min(b_.size, p_->buf.size());
            std::copy_n(p_->buf.begin(), n_, b_.bytes());
            p_->buf.erase(p_->buf.begin(), p_->buf.begin() + std::ptrdiff_t(n_));
            DuplexPipe::wake(p_->writer, p_->writer_data);
            return 0;
        }
        if (p_->write_closed) {
            n_ = 0;
            return 0;
        }
        p_->reader = w;
        p_->reader_data = data_ = d;
        registered_ = true;
        return BRAID_PENDING;
    }
    std::size_t finish(int st) {
        if (st < 0) throw IoError(st, 0, "DuplexStream::read");
        return n_;
    }

private:
    DuplexPipe* p_;
    MutableBuffer b_;
    std::size_t n_ = 0;
    void* data_ = nullptr;
    bool registered_ = false;
};

class [[nodiscard]] DuplexWrite : public braid::detail::LeafAwaiter<DuplexWrite> {
public:
    DuplexWrite(DuplexPipe* p, ConstBuffer b) : p_(p), b_(b) {}
    DuplexWrite(DuplexWrite&& o) noexcept : p_(std::exchange(o.p_, nullptr)), b_(o.b_) {}
    ~DuplexWrite() { unregister(); }
    void unregister() noexcept {
        if (registered_) {
            std::lock_guard<std::mutex> g(p_->mu);
            if (p_->writer_data == data_) p_->writer = nullptr;
        }
        registered_ = false;
    }
    bool ready_now() const { return false; }
    int poll(braid_wake_fn w, void* d) {
        std::lock_guard<std::mutex> g(p_->mu);
        registered_ = false;
        if (p_->read_closed) return BRAID_EPIPE;
        if (p_->write_closed) return BRAID_ECLOSED;
        if (b_.size == 0) return 0;
        if (p_->buf.size() < p_->max) {
            if (!coop_or_yield(w, d)) return BRAID_PENDING;
            n_ = std::min(b_.size, p_->max - p_->buf.size());
            p_->buf.insert(p_->buf.end(), b_.bytes(), b_.bytes() + n_);
            DuplexPipe::wake(p_->reader, p_->reader_data);
            return 0;
        }
        p_->writer = w;
        p_->writer_data = data_ = d;
        registered_ = true;
        return BRAID_PENDING;
    }
    std::size_t finish(int st) {
        if (st < 0) throw IoError(st, 0, "DuplexStream::write");
        return n_;
    }

private:
    DuplexPipe* p_;
    ConstBuffer b_;
    std::size_t n_ = 0;
    void* data_ = nullptr;
    bool registered_ = false;
};

}  // namespace detail

class DuplexStream {
public:
    DuplexStream(std::shared_ptr<detail::DuplexPipe> in, std::shared_ptr<detail::DuplexPipe> out)
        : in_(std::move(in)), out_(std::move(out)) {}
    DuplexStream(DuplexStream&&) noexcept = default;
    DuplexStream& operator=(DuplexStream&& o) noexcept {
        if (this != &o) {
            close();
            in_ = std::move(o.in_);
            out_ = std::move(o.out_);
        }
        return *this;
    }
    ~DuplexStream() { close(); }

    detail::DuplexRead read(MutableBuffer b) { return detail::DuplexRead(pipe(in_), b); }
    detail::DuplexWrite write(ConstBuffer b) { return detail::DuplexWrite(pipe(out_), b); }
    Task<void> read_exact(MutableBuffer b) { return io::read_exact(*this, b); }
    Task<void> write_all(ConstBuffer b) { return io::write_all(*this, b); }
    std::suspend_never flush() { return {}; }
    // The other end reads end of file once it drained what was written.
    std::suspend_never shutdown() {
        shutdown_write();
        return {};
    }
    void shutdown_write() {
        detail::DuplexPipe* p = pipe(out_);
        std::lock_guard<std::mutex> g(p->mu);
        p->write_closed = true;
        detail::DuplexPipe::wake(p->reader, p->reader_data);
    }

private:
    static detail::DuplexPipe* pipe(const std::shared_ptr<detail::DuplexPipe>& p) {
        if (!p) throw IoError(BRAID_ECLOSED, 0, "DuplexStream: moved-from");
        return p.get();
    }
    void close() noexcept {
        if (out_) {
            std::lock_guard<std::mutex> g(out_->mu);
            out_->write_closed = true;
            detail::DuplexPipe::wake(out_->reader, out_->reader_data);
        }
        if (in_) {
            std::lock_guard<std::mutex> g(in_->mu);
            in_->read_closed = true;
            in_->buf.clear();
            detail::DuplexPipe::wake(in_->writer, in_->writer_data);
        }
    }
    std::shared_ptr<detail::DuplexPipe> in_, out_;
};

// Two connected ends; each direction buffers at most max_buf_size bytes.
inline std::pair<DuplexStream, DuplexStream> duplex(std::size_t max_buf_size) {
    auto ab = std::make_shared<detail::DuplexPipe>(max_buf_size);
    auto ba = std::make_shared<detail::DuplexPipe>(max_buf_size);
    return {DuplexStream(ba, ab), DuplexStream(ab, ba)};
}

}  // namespace braid::io
