// Parks one thread until another unparks it.  An unpark that comes first is
// remembered, so no wake-up is lost; unpark costs no syscall unless the
// thread is really asleep.
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
    void park() {
        // A wake-up often follows within microseconds (a task spawned or woken
        // right after this worker ran dry): look a few times before sleeping.
        for (int i = 0; i < 3; ++i) {
            int expected = kNotified;
            if (state_.compare_exchange_strong(expected, kEmpty, std::memory_order_acquire)) return;
            std::this_thread::yield();
        }
        int expected = kNotified;
        if (state_.compare_exchange_strong(expected, kEmpty, std::memory_order_acquire)) return;
        std::unique_lock<std::mutex> lk(mu_);
        expected = kEmpty;
        if (!state_.compare_exchange_strong(expected, kParked, std::memory_order_acquire)) {
            state_.store(kEmpty, std::memory_order_relaxed);  // it was NOTIFIED
            return;
        }
        cv_.wait(lk, [&] { return state_.load(std::memory_order_acquire) == kNotified; });
        state_.store(kEmpty, std::memory_order_relaxed);
    }

    void unpark() {
        if (state_.exchange(kNotified, std::memory_order_release) == kParked) {
            { std::lock_guard<std::mutex> g(mu_); }
            cv_.notify_one();
        }
    }

private:
    static constexpr int kEmpty = 0, kParked = 1, kNotified = 2;
    perturb::Atomic<int> state_{kEmpty};
    std::mutex mu_;
    std::condition_variable cv_;
};

}  // namespace braid::detail
