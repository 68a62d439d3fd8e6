// A lock for critical sections of a few instructions (channel slots, wait
// lists): one byte, test-and-test-and-set, yields the CPU when contended
// for long.
#pragma once

#include <atomic>

#include "util/backoff.hpp"
#include "util/perturb.hpp"

namespace braid::detail {

class SpinLock {
public:
    void lock() noexcept {
        for (int spins = 0;; ++spins) {
            if (!locked_.exchange(true, std::memory_order_acquire)) return;
            while (locked_.load(std::memory_order_relaxed)) backoff(spins++);
        }
    }
    bool try_lock() noexcept { return !locked_.exchange(true, std::memory_order_acquire); }
    void unlock() noexcept { locked_.store(false, std::memory_order_release); }

private:
    perturb::Atomic<bool> locked_{false};
};

}  // namespace braid::detail
