// The wake relay of an async generator (braid::Stream<T>).
//
// A generator runs inside whichever task calls next() on it, and that can
// be a different task (or select branch) each time.  Whatever the generator
// awaits must therefore not register the consumer's waker directly: the
// consumer of one next() may be gone (a cancelled select branch) while the
// generator still waits on the same timer or channel.  Instead everything
// inside the generator sees the relay's Context, whose waker forwards to the
// consumer that is waiting right now (`target`), if any.
//
//   attach(cx)  the generator is waiting; wake-ups go to cx from now on.  A
//               wake-up that arrived while nobody was attached is passed on
//               at once (as a wake of cx), so none is lost.
//   detach()    the consumer stops waiting (its next() finished or was
//               cancelled).  When detach returns, no wake-up is being
//               forwarded to the old consumer and none will be.
//
// The relay lives in the generator's frame, so its address never changes
// while registrations point at it.  attach/detach are called only by the
// thread that polls the stream; the waker may run on any thread.  The lock
// is a tiny spin lock held only around the forwarding call (wakers are
// quick and never block, braid/task.h).
#pragma once

#include <braid/detail/context.hpp>

#include <atomic>

namespace braid::detail {

inline void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

class WakeRelay {
public:
    WakeRelay() noexcept {
        ctx.wake_fn = &WakeRelay::wake;
        ctx.wake_data = this;
    }
    WakeRelay(const WakeRelay&) = delete;
    WakeRelay& operator=(const WakeRelay&) = delete;

    // What the generator's coroutines wait through.
    Context ctx;

    void attach(Context& cx) {
        lock();
        target_ = &cx;
        bool missed = pending_;
        pending_ = false;
        unlock();
        attached_ = true;
        if (missed) cx.wake_fn(cx.wake_data);
    }

    void detach() noexcept {
        if (!attached_) return;
        lock();
        target_ = nullptr;
        unlock();
        attached_ = false;
    }

    bool attached() const noexcept { return attached_; }

private:
    static void wake(void* p) {
        auto* r = static_cast<WakeRelay*>(p);
        r->lock();
        if (Context* t = r->target_) t->wake_fn(t->wake_data);
        else r->pending_ = true;
        r->unlock();
    }
    void lock() noexcept {
        while (busy_.exchange(true, std::memory_order_acquire))
            while (busy_.load(std::memory_order_relaxed)) spin_pause();
    }
    void unlock() noexcept { busy_.store(false, std::memory_order_release); }

    std::atomic<bool> busy_{false};
    Context* target_ = nullptr;  // guarded by busy_
    bool pending_ = false;       // guarded by busy_: a wake-up with no target
    bool attached_ = false;      // the polling thread's view
};

}  // namespace braid::detail
