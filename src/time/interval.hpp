// Intervals: a timer that re-arms itself one period later, with Tokio's
// missed-tick behaviours (burst, delay, skip).
#pragma once

#include <cstdint>

#include "time/timer_driver.hpp"

namespace braid::detail {

class Interval {
public:
    Interval(TimerDriver& d, int64_t start, int64_t period, int behavior);
    ~Interval();
    // 0 with *tick set when a tick is due, else BRAID_PENDING / error.
    int poll_tick(braid_wake_fn wake, void* data, int64_t* tick);
    void reset();
    // The next tick at `when` (Tokio's reset_at); the ticks after it follow
    // one period apart.
    void reset_at(int64_t when);
    // Unregisters from the driver for good (the runtime may be going away);
    // the destructor then leaves the driver alone.
    void detach();
    int64_t period() const { return period_; }
    void set_behavior(int b) { behavior_ = b; }

    // Late by more than this and the missed-tick behaviour applies.
    static constexpr int64_t kLateness = 5'000'000;

private:
    int64_t next_after(int64_t tick, int64_t now) const;
    TimerDriver* driver_;
    TimerEntry entry_;
    const int64_t period_;
    int behavior_;
};

}  // namespace braid::detail
