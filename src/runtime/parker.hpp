// Parks one thread until another unparks it.  An unpark that comes first is
// remembered, so no wake-up is lost; unpark costs no syscall unless the
// thread is really asleep.  A thread sleeps either on the parker's condition
// variable (park) or in the I/O driver's epoll_wait (park_in): an unpark then
// calls the driver's wake function (an eventfd write), and only while the
// thread really sleeps there.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "util/perturb.hpp"

namespace braid::detail {

class Parker {
public:
    // A wake-up often follows within microseconds (a task spawned or woken
    // right after this worker ran dry): looks a few times, yielding, before
    // the caller sleeps.  True when it took a notification.
    bool take_early_notification() {
        for (int i = 0; i < 4; ++i) {
            if (i > 0) std::this_thread::yield();
            int expected = kNotified;
            if (state_.compare_exchange_strong(expected, kEmpty, std::memory_order_acquire)) return true;
        }
        return false;
    }

    // Sleeps on the condition variable (call take_early_notification first).
    void park() {
        std::unique_lock<std::mutex> lk(mu_);
        int expected = kEmpty;
        if (!state_.compare_exchange_strong(expected, kParked, std::memory_order_acquire)) {
            state_.store(kEmpty, std::memory_order_relaxed);  // it was NOTIFIED
            return;
        }
        cv_.wait(lk, [&] { return state_.load(std::memory_order_acquire) == kNotified; });
        state_.store(kEmpty, std::memory_order_relaxed);
    }

    // Parks in a driver: `wait()` blocks until the driver has something, its
    // own timeout, or `wake(ctx)` (what an unpark calls while `wait` may be
    // blocked).  Returns with no notification pending, whatever ended the
    // wait: the caller looks at what there is to do.
    template <class Wait>
    void park_in(Wait&& wait, void (*wake)(void*), void* ctx) {
        if (!enter_driver(wake, ctx)) return;
        wait();
        state_.exchange(kEmpty, std::memory_order_acquire);
    }

    // The thread leaves for a host's event loop that watches the driver's
    // fd (the host-driven flavor, between turns): it does not block here, and
    // the next unpark calls wake(ctx) once to make the fd readable.  An
    // unpark that came first (while the thread was running) calls it now.
    void away(void (*wake)(void*), void* ctx) {
        if (!enter_driver(wake, ctx)) wake(ctx);
    }
    // Back from the host (a turn begins): notifications count again.
    void back() { state_.exchange(kEmpty, std::memory_order_acquire); }

    void unpark() {
        int prev = state_.exchange(kNotified, std::memory_order_acq_rel);
        if (prev == kParked) {
            { std::lock_guard<std::mutex> g(mu_); }
            cv_.notify_one();
        } else if (prev == kParkedDriver) {
            wake_.load(std::memory_order_relaxed)(wake_ctx_.load(std::memory_order_relaxed));
        }
    }

private:
    static constexpr int kEmpty = 0, kParked = 1, kNotified = 2, kParkedDriver = 3;

    // The state "parked in the driver" with wake(ctx) as the way out; false
    // (and the notification taken) when an unpark came first.
    bool enter_driver(void (*wake)(void*), void* ctx) {
        wake_.store(wake, std::memory_order_relaxed);
        wake_ctx_.store(ctx, std::memory_order_relaxed);
        int expected = kEmpty;
        if (state_.compare_exchange_strong(expected, kParkedDriver, std::memory_order_acq_rel)) return true;
        state_.store(kEmpty, std::memory_order_relaxed);  // it was NOTIFIED
        return false;
    }

    perturb::Atomic<int> state_{kEmpty};
    std::mutex mu_;
    std::condition_variable cv_;
    // The driver a park_in sleeps in (set before the state says so; atomic
    // because an unparker of the previous park may still read it).
    std::atomic<void (*)(void*)> wake_{nullptr};
    std::atomic<void*> wake_ctx_{nullptr};
};

}  // namespace braid::detail
