// A reader-writer spin lock for short critical sections that readers may
// hold across threads (a watch channel's borrow): not tied to the thread
// that locked it.  Writer-preferring: a writer that wants the lock keeps new
// readers out, then waits for the readers inside to leave.
#pragma once

#include <atomic>
#include <cstdint>

#include "util/backoff.hpp"

namespace braid::detail {

class RwSpinLock {
public:
    void lock_shared() noexcept {
        for (int spins = 0;; ++spins) {
            uint32_t s = s_.load(std::memory_order_relaxed);
            if (!(s & kWriter) && s_.compare_exchange_weak(s, s + 1, std::memory_order_acquire)) return;
            backoff(spins);
        }
    }
    void unlock_shared() noexcept { s_.fetch_sub(1, std::memory_order_release); }

    void lock() noexcept {
        for (int spins = 0;; ++spins) {
            uint32_t s = s_.load(std::memory_order_relaxed);
            if (!(s & kWriter) && s_.compare_exchange_weak(s, s | kWriter, std::memory_order_acquire)) break;
            backoff(spins);
        }
        for (int spins = 0; s_.load(std::memory_order_acquire) != kWriter; ++spins) backoff(spins);
    }
    void unlock() noexcept { s_.fetch_and(~kWriter, std::memory_order_release); }

private:
    static constexpr uint32_t kWriter = 0x80000000u;
    std::atomic<uint32_t> s_{0};
};

}  // namespace braid::detail
