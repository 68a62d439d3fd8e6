// Readiness of an I/O object, as Tokio's Interest and Ready: what a task
// waits for (readable(), writable(), ready(interest)) and what it learns.
//
//   braid::Ready r = co_await stream.ready(braid::Readable | braid::Writable);
//   if (r.is_readable()) { auto n = stream.try_read(buf); /* nullopt: not after all */ }
//
// Readiness is what the reactor last saw, not a promise: the attempt after
// it (try_read, try_write, try_send, ...) may find nothing and return
// std::nullopt, which forgets that readiness; the task then waits again.
#pragma once

#include <braid/detail/context.hpp>
#include <braid/io.h>
#include <braid/io/error.hpp>

#include <cstddef>
#include <optional>
#include <utility>

namespace braid {

// Bits of an interest: Readable, Writable, or Readable | Writable.
enum Interest : int { Readable = BRAID_IO_READABLE, Writable = BRAID_IO_WRITABLE };

// What a readiness wait reports.
class Ready {
public:
    constexpr Ready() = default;
    constexpr explicit Ready(int bits) : bits_(bits) {}
    constexpr bool is_empty() const { return bits_ == 0; }
    constexpr bool is_readable() const { return bits_ & (BRAID_IO_READABLE | BRAID_IO_READ_CLOSED); }
    constexpr bool is_writable() const { return bits_ & (BRAID_IO_WRITABLE | BRAID_IO_WRITE_CLOSED); }
    // The peer shut its write side (or the socket failed): reads will not wait.
    constexpr bool is_read_closed() const { return bits_ & BRAID_IO_READ_CLOSED; }
    // The peer is gone (or the socket failed): writes will not wait.
    constexpr bool is_write_closed() const { return bits_ & BRAID_IO_WRITE_CLOSED; }
    constexpr int bits() const { return bits_; }

private:
    int bits_ = 0;
};

namespace detail {

template <class H>
using ReadyPollFn = int (*)(H*, int, braid_wake_fn, void*, int*);

// Waits until some bit of the interest is ready (the C poll_ready function
// Fn of handle H).  Cancel-safe: cancelling removes only its registration.
template <class H, ReadyPollFn<H> Fn>
class [[nodiscard]] ReadyAwaiter : public LeafAwaiter<ReadyAwaiter<H, Fn>> {
public:
    ReadyAwaiter(H* h, int interest, const char* what) : h_(h), interest_(interest), what_(what) {}
    ReadyAwaiter(ReadyAwaiter&& o) noexcept
        : h_(std::exchange(o.h_, nullptr)), interest_(o.interest_), what_(o.what_) {}
    ReadyAwaiter(const ReadyAwaiter&) = delete;
    ~ReadyAwaiter() { unregister(); }
    void unregister() noexcept {
        if (h_ && registered_) {
            int ignored;
            Fn(h_, interest_, nullptr, registered_, &ignored);
        }
        registered_ = nullptr;
    }
    bool ready_now() const { return false; }
    int poll(braid_wake_fn w, void* d) {
        int rc = Fn(h_, interest_, w, d, &bits_);
        if (registered_ && (rc != BRAID_PENDING || registered_ != d)) unregister();
        registered_ = rc == BRAID_PENDING ? d : nullptr;
        return rc;
    }
    Ready finish(int st) {
        if (st < 0) throw_io(st, 0, what_);
        return Ready(bits_);
    }

private:
    H* h_;
    int interest_;
    const char* what_;
    int bits_ = 0;
    void* registered_ = nullptr;  // the wake_data of our registration
};

// An attempt that never waits: the bytes moved, std::nullopt for
// BRAID_EAGAIN, IoError for a failure.  `n` by reference: it is the
// out-parameter of the call that gives rc, in the same argument list (read
// only here, once that call has run).
inline std::optional<std::size_t> attempt(int rc, const std::size_t& n, const char* what) {
    if (rc == BRAID_EAGAIN) return std::nullopt;
    if (rc < 0) throw_io(rc, os_error_of(rc), what);
    return n;
}

}  // namespace detail
}  // namespace braid
