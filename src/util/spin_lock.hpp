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
        if (!locked_.exchange(true, std::memory_order_acquire)) [[likely]] return;
        lock_contended();
    }
    bool try_lock() noexcept { return !locked_.exchange(true, std::memory_order_acquire); }
    void unlock() noexcept { locked_.store(false, std::memory_order_release); }

private:
    // Out of line: the spinning (and the yield it may call) would otherwise
    // be inlined into every function that takes a lock, and give each of
    // them a stack frame on its uncontended path too.
    [[gnu::noinline]] void lock_contended() noexcept {
        for (int spins = 0;; ++spins) {
            while (locked_.load(std::memory_order_relaxed)) backoff(spins++);
            if (!locked_.exchange(true, std::memory_order_acquire)) return;
        }
    }

    perturb::Atomic<bool> locked_{false};
};

}  // namespace braid::detail
