// The runtime's clock: CLOCK_MONOTONIC in nanoseconds, or a virtual clock
// that moves only when told to (paused time, for tests).  A clock can be
// paused and resumed while the runtime runs (braid_runtime_pause).
//
// Instants are int64_t nanoseconds.  Deadline arithmetic saturates: a sum
// past INT64_MAX is kFarFuture, a deadline that is never due (no clock
// reaches it: the paused clock stops one nanosecond short of it).
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>

namespace braid::detail {

inline constexpr int64_t kFarFuture = INT64_MAX;

// a + b, saturated to [INT64_MIN, INT64_MAX].
inline int64_t add_sat(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}
// a - b, saturated.
inline int64_t sub_sat(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r)) return b < 0 ? INT64_MAX : INT64_MIN;
    return r;
}

inline int64_t monotonic_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

class Clock {
public:
    explicit Clock(bool paused) : paused_(paused), virtual_now_(monotonic_ns()) {}
    bool paused() const { return paused_.load(std::memory_order_acquire); }
    int64_t now() const {
        if (paused()) return virtual_now_.load(std::memory_order_acquire);
        return monotonic_ns() + offset_.load(std::memory_order_relaxed);
    }
    // now() at the kernel's tick resolution (a few ms) when not paused: a
    // cheaper read, for a task's spawn time.
    int64_t coarse_now() const {
        if (paused_) return virtual_now_.load(std::memory_order_acquire);
        timespec ts;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
    }
    // Paused clocks only: moves forward to `t` (never backwards, never onto
    // the far future).
    void advance_to(int64_t t) {
        if (t >= kFarFuture) t = kFarFuture - 1;
        int64_t cur = virtual_now_.load(std::memory_order_relaxed);
        while (t > cur && !virtual_now_.compare_exchange_weak(cur, t, std::memory_order_acq_rel)) {
        }
    }
    // Freezes the clock where it is now.  False when it was paused already.
    // (pause and resume are serialised by their caller, Core.)
    bool pause() {
        if (paused()) return false;
        virtual_now_.store(now(), std::memory_order_release);
        paused_.store(true, std::memory_order_release);
        return true;
    }
    // Lets the clock run again from where it stands (the time advanced while
    // paused is kept, as Tokio's resume keeps it).  False when not paused.
    bool resume() {
        if (!paused()) return false;
        offset_.store(virtual_now_.load(std::memory_order_acquire) - monotonic_ns(), std::memory_order_relaxed);
        paused_.store(false, std::memory_order_release);
        return true;
    }

private:
    std::atomic<bool> paused_;
    std::atomic<int64_t> virtual_now_;
    std::atomic<int64_t> offset_{0};  // running: the clock is monotonic_ns() + offset_
};

}  // namespace braid::detail
