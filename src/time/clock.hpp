// The runtime's clock: CLOCK_MONOTONIC in nanoseconds, or a virtual clock
// that moves only when told to (paused time, for tests).
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>

namespace braid::detail {

inline int64_t monotonic_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

class Clock {
public:
    explicit Clock(bool paused) : paused_(paused), virtual_now_(monotonic_ns()) {}
    bool paused() const { return paused_; }
    int64_t now() const {
        return paused_ ? virtual_now_.load(std::memory_order_acquire) : monotonic_ns();
    }
    // Paused clocks only: moves forward to `t` (never backwards).
    void advance_to(int64_t t) {
        int64_t cur = virtual_now_.load(std::memory_order_relaxed);
        while (t > cur && !virtual_now_.compare_exchange_weak(cur, t, std::memory_order_acq_rel)) {
        }
    }

private:
    const bool paused_;
    std::atomic<int64_t> virtual_now_;
};

}  // namespace braid::detail
