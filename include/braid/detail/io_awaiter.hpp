// Leaf awaiters over the C I/O poll functions (tcp.h, unix_socket.h,
// process.h pipes): one C call per poll, nothing allocated.
//
//   XferAwaiter<H, Fn, All>  read/write/peek some bytes (All = false), or
//                            read exactly / write all of the buffer (All)
//
// Cancelling one that is pending removes its waker (the poll function with a
// NULL waker and the wake_data it registered with: the C layer keys
// registrations by wake_data, so that several tasks may wait on one handle
// and each removes only its own).  A single read or write is cancel-safe: a poll that returned
// BRAID_PENDING moved nothing.  The All forms are not: bytes moved before the
// cancellation are gone from the stream (read) or sent (write), and the
// awaiter that knew how many is destroyed.
//
// A poll that completes after an earlier one registered a waker removes that
// registration (with a NULL waker) before returning: the C layer calls
// wakers under the lock that removal takes, so once the awaiter is done no
// wake of it is still running.
//
// g++ 12 skips the destructor of a temporary awaiter whose await_resume
// throws, so nothing here relies on the destructor after a failure: a poll
// that fails has no waker registered.
#pragma once

#include <braid/detail/context.hpp>
#include <braid/io/error.hpp>

#include <coroutine>
#include <cstddef>
#include <utility>

namespace braid::detail {

template <class H>
using XferPollFn = int (*)(H*, void*, std::size_t, braid_wake_fn, void*, std::size_t*);

template <class H, XferPollFn<H> Fn, bool All>
class [[nodiscard]] XferAwaiter : public LeafAwaiter<XferAwaiter<H, Fn, All>> {
public:
    XferAwaiter(H* h, void* buf, std::size_t len, const char* what) : h_(h), buf_(static_cast<char*>(buf)), len_(len), what_(what) {}
    XferAwaiter(XferAwaiter&& o) noexcept
        : h_(std::exchange(o.h_, nullptr)), buf_(o.buf_), len_(o.len_), done_(o.done_), completed_(o.completed_),
          what_(o.what_) {}
    XferAwaiter(const XferAwaiter&) = delete;
    ~XferAwaiter() { unregister(); }
    // Drops the waker; nothing is moved meanwhile (the All forms keep the
    // count of what they moved so far).
    void unregister() noexcept {
        if (registered_) drop_waker();
        registered_ = nullptr;
    }

    bool ready_now() const { return All && len_ == 0; }
    int poll(braid_wake_fn w, void* d) {
        if (!h_) return fail(BRAID_ECLOSED);
        // A kept awaiter raced again after it completed (a select loop
        // passing it by lvalue) starts a new transfer at the start of the
        // buffer; one that only lost a race keeps its count.
        if (completed_) {
            completed_ = false;
            done_ = 0;
            os_error_ = 0;
        }
        for (;;) {
            std::size_t n = 0;
            int rc = Fn(h_, buf_ + done_, len_ - done_, w, d, &n);
            // Done after a wait: the waker registered then may be being
            // called right now (the readiness fast path takes no lock), so
            // remove it under the source's lock before this frame can go.
            // (Also a registration under an older wake_data.)
            if (registered_ && (rc != BRAID_PENDING || registered_ != d)) drop_waker();
            registered_ = rc == BRAID_PENDING ? d : nullptr;
            if (rc != 0) return rc < 0 ? fail(rc) : rc;
            done_ += n;
            if constexpr (!All) {
                completed_ = true;
                return 0;
            } else {
                if (done_ == len_) {
                    completed_ = true;
                    return 0;
                }
                if (n == 0) return fail(BRAID_EEOF);
            }
        }
    }
    // Some: the bytes moved.  All: nothing (the whole buffer was moved).
    auto finish(int st) {
        if (st < 0) throw_io(st, os_error_, what_);
        if constexpr (All) return;
        else return done_;
    }

private:
    void drop_waker() noexcept {
        std::size_t n;
        Fn(h_, nullptr, 0, nullptr, registered_, &n);
    }
    int fail(int rc) {
        os_error_ = os_error_of(rc);
        completed_ = true;
        return rc;
    }
    H* h_;
    char* buf_;
    std::size_t len_;
    std::size_t done_ = 0;
    bool completed_ = false;  // the last poll ended a transfer: the next starts a new one
    const char* what_;
    int os_error_ = 0;
    void* registered_ = nullptr;  // the wake_data of our registration
};

// An awaiter of a pair whose result is only its first member (a
// datagram's size without its sender: UdpSocket::recv, UnixDatagram::recv).
template <class A>
struct [[nodiscard]] FirstOf {
    A inner;
    bool await_ready() { return inner.await_ready(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        return inner.await_suspend(h);
    }
    auto await_resume() { return inner.await_resume().first; }
    void unregister() noexcept { inner.unregister(); }
};

}  // namespace braid::detail
