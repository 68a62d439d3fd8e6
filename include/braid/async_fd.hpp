// braid::AsyncFd<T>: readiness of a file descriptor on the runtime's
// reactor (Tokio's AsyncFd).  The Tokio pattern: await readable()/writable(),
// try the non-blocking syscall, and on EAGAIN call guard.clear_ready() and
// await again (guard.try_io does both).
//
// T is what holds the fd:
//   - int (AsyncFd<> or AsyncFd<int>, what `braid::AsyncFd a(fd)` deduces):
//     a raw fd the caller owns; AsyncFd never closes it;
//   - an object with `int fd() const` (or `int as_raw_fd() const`) that
//     owns its fd (closes it when destroyed): the AsyncFd owns the object, deregisters the fd when it
//     goes and then destroys the object; into_inner() gives it back
//     deregistered.
//
//   braid::AsyncFd<Pipe> a(Pipe(fds[0]));
//   for (;;) {
//       auto guard = co_await a.readable();
//       auto n = guard.try_io([&](Pipe& p) { return ::read(p.fd(), buf, sizeof buf); });
//       if (n) break;            // nullopt: EAGAIN, the readiness was cleared
//   }
#pragma once

#include <braid/detail/context.hpp>
#include <braid/error.hpp>
#include <braid/fd.h>
#include <braid/io/ready.hpp>

#include <cerrno>
#include <optional>
#include <type_traits>
#include <utility>

namespace braid {

namespace detail {
inline int raw_fd(int fd) { return fd; }
template <class T>
int raw_fd(const T& t) {
    if constexpr (requires { t.fd(); }) return t.fd();
    else return t.as_raw_fd();
}
}  // namespace detail

template <class T = int>
class AsyncFd {
public:
    // Registers the fd of `inner` with the calling thread's runtime.  Throws
    // braid::Error (BRAID_EBADF for an fd epoll cannot watch, BRAID_EBUSY
    // when the fd has an AsyncFd in this runtime already, BRAID_EINVAL
    // off-runtime); `inner` is destroyed then (closing an owned fd).
    explicit AsyncFd(T inner) : inner_(std::move(inner)) {
        detail::check(braid_fd_new(&f_, nullptr, detail::raw_fd(inner_)), "AsyncFd");
    }
    AsyncFd(AsyncFd&& o) noexcept : inner_(std::move(o.inner_)), f_(std::exchange(o.f_, nullptr)) {}
    AsyncFd& operator=(AsyncFd&& o) noexcept {
        if (this != &o) {
            braid_fd_free(f_);
            inner_ = std::move(o.inner_);
            f_ = std::exchange(o.f_, nullptr);
        }
        return *this;
    }
    AsyncFd(const AsyncFd&) = delete;
    // Deregisters first, then destroys the inner object (which may close
    // the fd).
    ~AsyncFd() { braid_fd_free(f_); }

    int fd() const { return braid_fd_get(native()); }
    const T& get_ref() const { return inner_; }
    T& get_mut() { return inner_; }
    // Deregisters and gives the inner object back (its fd open); the
    // AsyncFd is empty afterwards.
    T into_inner() {
        braid_fd_free(std::exchange(f_, nullptr));
        return std::move(inner_);
    }

    // What an await of readiness gives: the ready bits, and the way to say
    // "the syscall said EAGAIN, forget that readiness".  It refers to the
    // AsyncFd, which must stay where it is while the guard is used.
    class ReadyGuard {
    public:
        ReadyGuard(AsyncFd* owner, int bits) : owner_(owner), bits_(bits) {}
        int ready() const { return bits_; }
        bool readable() const { return bits_ & BRAID_READABLE; }
        bool writable() const { return bits_ & BRAID_WRITABLE; }
        void clear_ready() { braid_fd_clear_ready(owner_->f_, bits_); }
        T& get_inner() { return owner_->inner_; }
        // Tokio's try_io: runs f(inner), a non-blocking syscall returning
        // an integer (negative with errno on failure).  EAGAIN: the
        // readiness is cleared and nullopt returned (await again); anything
        // else is returned as it is (a negative value with errno set is the
        // caller's to report).
        template <class F>
        auto try_io(F&& f) -> std::optional<std::invoke_result_t<F, T&>> {
            using R = std::invoke_result_t<F, T&>;
            static_assert(std::is_integral_v<R>, "try_io: f returns the syscall's integer result");
            errno = 0;
            R r = f(owner_->inner_);
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                clear_ready();
                return std::nullopt;
            }
            return r;
        }

    private:
        AsyncFd* owner_;
        int bits_;
    };

    class [[nodiscard]] Ready : public detail::LeafAwaiter<Ready> {
    public:
        Ready(AsyncFd* owner, int interest) : owner_(owner), f_(owner->f_), interest_(interest) {}
        Ready(Ready&& o) noexcept
            : owner_(o.owner_), f_(std::exchange(o.f_, nullptr)), interest_(o.interest_) {}
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
            return ReadyGuard(owner_, bits_);
        }

    private:
        AsyncFd* owner_;  // for the guard: where the AsyncFd is when the wait ends
        braid_fd* f_;     // the registration (it stays put when the AsyncFd moves)
        int interest_;
        int bits_ = 0;
        void* registered_ = nullptr;  // the wake_data of our registration
    };

    Ready readable() { return ready(BRAID_READABLE); }
    Ready writable() { return ready(BRAID_WRITABLE); }
    Ready ready(int interest) {
        native();
        return Ready(this, interest);
    }
    // Tokio's AsyncFd::try_io: one attempt without waiting, when the
    // cached readiness has some bit of `interest` (else nullopt, and f is
    // not called); then as ReadyGuard::try_io.
    template <class F>
    auto try_io(int interest, F&& f) -> std::optional<std::invoke_result_t<F, T&>> {
        int bits = 0;
        char key;  // this attempt's own registration, removed at once
        int rc = braid_fd_poll_ready(native(), interest, &no_wake, &key, &bits);
        if (rc == BRAID_PENDING) {
            braid_fd_poll_ready(f_, interest, nullptr, &key, &bits);
            return std::nullopt;
        }
        detail::check(rc, "AsyncFd::try_io");
        return ReadyGuard(this, bits).try_io(std::forward<F>(f));
    }

    braid_fd* native_handle() const noexcept { return f_; }

private:
    static void no_wake(void*) {}
    braid_fd* native() const {
        if (!f_) throw Error(BRAID_EINVAL, "moved-from AsyncFd");
        return f_;
    }
    T inner_;
    braid_fd* f_ = nullptr;
};

AsyncFd(int) -> AsyncFd<int>;

}  // namespace braid
