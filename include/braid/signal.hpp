// Unix signals, as awaitables and as repeatable receivers.
//
//   co_await braid::signal::ctrl_c();                 // the next SIGINT
//   braid::signal::Signal term(SIGTERM);              // listening from here on
//   for (;;) { co_await term.recv(); reload(); }      // every delivery
//
// Listening starts when the Signal (or ctrl_c()'s awaitable) is created, so
// a signal sent after that is never missed.  Several listeners of one signal
// all hear it.  Once a signal was listened for, its default action does not
// come back when the listeners (or the runtime) go: later deliveries with no
// listener are dropped (Tokio's rule; braid/signal.h).
#pragma once

#include <braid/detail/context.hpp>
#include <braid/error.hpp>
#include <braid/signal.h>

#include <csignal>
#include <utility>

namespace braid::signal {

class Signal {
public:
    // Listens for `signum` on the calling thread's runtime.  Throws
    // braid::Error(BRAID_EINVAL) for a signal that cannot be watched.
    explicit Signal(int signum) { detail::check(braid_signal_new(&s_, nullptr, signum), "signal"); }
    Signal(Signal&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    Signal& operator=(Signal&& o) noexcept {
        if (this != &o) {
            braid_signal_free(s_);
            s_ = std::exchange(o.s_, nullptr);
        }
        return *this;
    }
    Signal(const Signal&) = delete;
    ~Signal() { braid_signal_free(s_); }

    class [[nodiscard]] Recv : public detail::LeafAwaiter<Recv> {
    public:
        explicit Recv(braid_signal* s) : s_(s) {}
        Recv(Recv&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
        ~Recv() { unregister(); }
        // Drops the waker; a delivery meanwhile is counted for the next recv.
        void unregister() noexcept {
            if (status_ == BRAID_PENDING && s_) braid_signal_unregister(s_);
        }
        bool ready_now() const { return false; }
        int poll(braid_wake_fn w, void* d) { return braid_signal_poll_recv(s_, w, d); }
        void finish(int st) const { detail::check(st, "signal recv"); }

    private:
        braid_signal* s_;
    };
    // Completes at the next delivery (or at once if one arrived unconsumed).
    Recv recv() { return Recv(native()); }

private:
    braid_signal* native() const {
        if (!s_) throw Error(BRAID_EINVAL, "moved-from Signal");
        return s_;
    }
    braid_signal* s_ = nullptr;
};

// co_await ctrl_c(): completes at the next SIGINT after the call.
class [[nodiscard]] CtrlC {
public:
    CtrlC() : sig_(SIGINT), recv_(sig_.recv()) {}
    CtrlC(CtrlC&&) = default;  // the listener moves; recv_ keeps pointing at it
    bool await_ready() { return recv_.await_ready(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) { return recv_.await_suspend(h); }
    void await_resume() { recv_.await_resume(); }
    void unregister() noexcept { recv_.unregister(); }

private:
    Signal sig_;
    Signal::Recv recv_;
};
inline CtrlC ctrl_c() { return CtrlC(); }

}  // namespace braid::signal
