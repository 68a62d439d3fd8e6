// Timers: an indexed min-heap of deadlines owned by the runtime.  A timer
// is an entry that a waker is attached to; the reactor keeps one libuv
// timer armed for the earliest deadline (in real time), or, with paused
// time, the scheduler fires due entries when it advances the clock.
//
// Wakers run with no lock held, so a waker may poll, reset, free or create
// timers (its own included).  Firing is a batch: the due entries are taken
// off the heap under the lock, then their wakers are called one by one by
// one firing thread at a time (a second thread waits for it; the firing
// thread itself, from inside a waker, adds to its own batch).  remove()
// drops a call that has not started yet and waits for one in progress,
// unless it runs on the firing thread itself (from inside that waker): so
// after remove() returns the waker is not running and will not be called.
#pragma once

#include <braid/task.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "time/clock.hpp"

namespace braid::detail {

class TimerDriver;

struct TimerEntry {
    static constexpr std::size_t kNotQueued = ~std::size_t(0);
    TimerDriver* driver;
    int64_t deadline;                 // kFarFuture: never due
    uint64_t seq = 0;                 // ties broken in registration order
    std::size_t heap_index = kNotQueued;
    std::size_t fire_index = kNotQueued;  // waiting in the firing batch for its waker call
    braid_wake_fn wake = nullptr;
    void* wake_data = nullptr;
    std::atomic<bool> fired{false};   // set under the driver lock; read by the owner without it
};

class TimerDriver {
public:
    // `rearm(ctx)` is called (outside the lock) when the earliest deadline
    // moved earlier than what the reactor has armed.
    TimerDriver(Clock& clock, void (*rearm)(void* ctx), void* ctx) : clock_(clock), rearm_(rearm), ctx_(ctx) {}

    Clock& clock() { return clock_; }

    // 0 when due, BRAID_PENDING after attaching the waker, BRAID_ECANCELED
    // after shutdown.  With `wake` null: unregisters as remove() does and
    // tells whether the entry is due.  `budgeted`: a due timer takes a unit
    // of the task's cooperative budget (and waits for the next poll when
    // none is left); false for timeouts, which must see their deadline anyway.
    int poll(TimerEntry* e, braid_wake_fn wake, void* data, bool budgeted = true);
    // Moves the deadline; an entry waiting for its deadline stays
    // registered, at the new one.  A firing consumes the registration (its
    // waker call happens even if the entry is reset before it is made).
    void reset(TimerEntry* e, int64_t deadline);
    // Unregisters: afterwards the waker is not running (unless the caller is
    // that waker) and will not be called.
    void remove(TimerEntry* e);
    // A fired entry taken by its poller (an interval's tick): unregisters as
    // remove() does (a waker call still in flight is waited for) and sets
    // the next deadline, unregistered, under one lock.
    void rearm_taken(TimerEntry* e, int64_t deadline);

    // Fires every entry due at `now`: calls their wakers, outside the lock,
    // before it returns — except when called from inside a waker, where the
    // due entries join the batch being fired and are called after that
    // waker returns.  Returns the next deadline, or INT64_MAX when none.
    int64_t fire_due(int64_t now);
    // The earliest deadline, INT64_MAX when none (or only far-future ones).
    // Records it as armed.
    int64_t take_next_deadline();
    int64_t next_deadline();
    std::size_t pending();

    // Shutdown: every entry still queued is fired (its task is being
    // cancelled anyway) and later polls report BRAID_ECANCELED.
    void close();

private:
    struct Call {
        TimerEntry* e;  // null once removed before its call
        braid_wake_fn wake;
        void* data;
    };
    bool less(const TimerEntry* a, const TimerEntry* b) const {
        return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
    }
    void sift_up(std::size_t i);
    void sift_down(std::size_t i);
    void heap_push(TimerEntry* e);
    void heap_erase(TimerEntry* e);
    bool insert_locked(TimerEntry* e);  // true when the reactor must re-arm
    void batch_locked(TimerEntry* e);
    void drop_call_locked(TimerEntry* e);
    void unregister_locked(std::unique_lock<std::mutex>& lk, TimerEntry* e);
    // Calls the batch's wakers (the lock is released around each call).
    void run_batch(std::unique_lock<std::mutex>& lk);
    int64_t earliest_locked() const {
        return heap_.empty() || heap_[0]->deadline == kFarFuture ? INT64_MAX : heap_[0]->deadline;
    }

    Clock& clock_;
    void (*rearm_)(void*);
    void* ctx_;
    std::mutex mu_;
    std::vector<TimerEntry*> heap_;
    uint64_t next_seq_ = 0;
    int64_t armed_ = INT64_MAX;       // deadline the reactor is armed for
    bool closed_ = false;
    // The firing batch: wakers to call, in deadline order.
    std::vector<Call> batch_;
    bool firing_ = false;
    std::thread::id firer_;
    const TimerEntry* running_ = nullptr;  // whose waker is being called now
    std::condition_variable idle_;         // running_ or firing_ changed
    int waiters_ = 0;                      // threads waiting on idle_
};

}  // namespace braid::detail
