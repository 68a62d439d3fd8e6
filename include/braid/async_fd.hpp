// braid::AsyncFd: readiness of a file descriptor the caller owns, on the
// runtime's reactor.  The Tokio pattern: await readable()/writable(), try the
// non-blocking syscall, and on EAGAIN call guard.clear_ready() and await
// again.  The fd is not closed by AsyncFd.
#pragma once

#include <braid/detail/context.hpp>
#include <braid/error.hpp>
#include <braid/fd.h>

#include <utility>

namespace braid {

enum Interest : int { Readable = BRAID_READABLE, Writable = BRAID_WRITABLE };

class AsyncFd {
public:
    // Registers fd with the calling thread's runtime.  Throws braid::Error
    // (BRAID_EBADF for an fd epoll cannot watch, BRAID_EBUSY when the fd has
    // an AsyncFd in this runtime already, BRAID_EINVAL off-runtime).
    explicit AsyncFd(int fd) { detail::check(braid_fd_new(&f_, nullptr, fd), "AsyncFd"); }
    AsyncFd(AsyncFd&& o) noexcept : f_(std::exchange(o.f_, nullptr)) {}
    AsyncFd& operator=(AsyncFd&& o) noexcept {
        if (this != &o) {
            braid_fd_free(f_);
            f_ = std::exchange(o.f_, nullptr);
        }
        return *this;
    }
    AsyncFd(const AsyncFd&) = delete;
    ~AsyncFd() { braid_fd_free(f_); }

    int fd() const { return braid_fd_get(native()); }

    // What an await of readiness gives: the ready bits, and the way to say
    // "the syscall said EAGAIN, forget that readiness".
    class ReadyGuard {
    public:
        ReadyGuard(braid_fd* f, int bits) : f_(f), bits_(bits) {}
        int ready() const { return bits_; }
        bool readable() const { return bits_ & BRAID_READABLE; }
        bool writable() const { return bits_ & BRAID_WRITABLE; }
        void clear_ready() { braid_fd_clear_ready(f_, bits_); }

    private:
        braid_fd* f_;
        int bits_;
    };

    class [[nodiscard]] Ready : public detail::LeafAwaiter<Ready> {
    public:
        Ready(braid_fd* f, int interest) : f_(f), interest_(interest) {}
        Ready(Ready&& o) noexcept : f_(std::exchange(o.f_, nullptr)), interest_(o.interest_) {}
        // Cancelled while pending, or done after a wait: remove our
        // registration (a readiness that arrives later stays cached on the
        // AsyncFd, so nothing is lost; other tasks' registrations stay).
        ~Ready() { unregister(); }
        // Forgets the waker, keeps the AsyncFd's cached readiness (a select
        // branch over a kept Ready ending).
        void unregister() noexcept {
            if (f_ && registered_) {
                int ignored;
                braid_fd_poll_ready(f_, interest_, nullptr, registered_, &ignored);
            }
            registered_ = nullptr;
        }
        // The first poll finds cached readiness without suspending.
        bool ready_now() const { return false; }
        int poll(braid_wake_fn w, void* d) {
            int rc = braid_fd_poll_ready(f_, interest_, w, d, &bits_);
            if (registered_ && (rc != BRAID_PENDING || registered_ != d)) unregister();
            registered_ = rc == BRAID_PENDING ? d : nullptr;
            return rc;
        }
        ReadyGuard finish(int st) {
            if (st < 0) throw Error(st, "AsyncFd");
            return ReadyGuard(f_, bits_);
        }

    private:
        braid_fd* f_;
        int interest_;
        int bits_ = 0;
        void* registered_ = nullptr;  // the wake_data of our registration
    };

    Ready readable() { return Ready(native(), BRAID_READABLE); }
    Ready writable() { return Ready(native(), BRAID_WRITABLE); }
    Ready ready(int interest) { return Ready(native(), interest); }

    braid_fd* native_handle() const noexcept { return f_; }

private:
    braid_fd* native() const {
        if (!f_) throw Error(BRAID_EINVAL, "moved-from AsyncFd");
        return f_;
    }
    braid_fd* f_ = nullptr;
};

}  // namespace braid
