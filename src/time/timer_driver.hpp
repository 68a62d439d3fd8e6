// Timers: an indexed min-heap of deadlines owned by the runtime.  A timer
// is an entry that a waker is attached to; the reactor keeps one libuv
// timer armed for the earliest deadline (in real time), or, with paused
// time, the scheduler fires due entries when it advances the clock.
#pragma once

#include <braid/task.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "time/clock.hpp"

namespace braid::detail {

class TimerDriver;

struct TimerEntry {
    TimerDriver* driver;
    int64_t deadline;
    uint64_t seq = 0;                 // ties broken in registration order
    std::size_t heap_index = kNotQueued;
    braid_wake_fn wake = nullptr;
    void* wake_data = nullptr;
    std::atomic<bool> fired{false};   // set under the driver lock; read by the owner without it
    static constexpr std::size_t kNotQueued = ~std::size_t(0);
};

class TimerDriver {
public:
    // `rearm(deadline)` is called (outside the lock) when the earliest
    // deadline moved earlier than what the reactor has armed.
    TimerDriver(Clock& clock, void (*rearm)(void* ctx), void* ctx) : clock_(clock), rearm_(rearm), ctx_(ctx) {}

    Clock& clock() { return clock_; }

    // 0 when due, BRAID_PENDING after attaching the waker, BRAID_ECANCELED
    // after shutdown.  `budgeted`: a due timer takes a unit of the task's
    // cooperative budget (and waits for the next poll when none is left);
    // false for timeouts, which must see their deadline anyway.
    int poll(TimerEntry* e, braid_wake_fn wake, void* data, bool budgeted = true);
    void reset(TimerEntry* e, int64_t deadline);
    void remove(TimerEntry* e);

    // Fires every entry due at `now` (wakers run under the lock, so a removal
    // that returns never races a waker).  Returns the next deadline, or
    // INT64_MAX when none.
    int64_t fire_due(int64_t now);
    // The earliest deadline, INT64_MAX when none.  Records it as armed.
    int64_t take_next_deadline();
    int64_t next_deadline();
    std::size_t pending();

    // Shutdown: every entry still queued is fired (its task is being
    // cancelled anyway) and later polls report BRAID_ECANCELED.
    void close();

private:
    bool less(const TimerEntry* a, const TimerEntry* b) const {
        return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
    }
    void sift_up(std::size_t i);
    void sift_down(std::size_t i);
    void heap_push(TimerEntry* e);
    void heap_erase(TimerEntry* e);
    bool insert_locked(TimerEntry* e);  // true when the reactor must re-arm

    Clock& clock_;
    void (*rearm_)(void*);
    void* ctx_;
    std::mutex mu_;
    std::vector<TimerEntry*> heap_;
    uint64_t next_seq_ = 0;
    int64_t armed_ = INT64_MAX;       // deadline the reactor is armed for
    bool closed_ = false;
};

}  // namespace braid::detail
