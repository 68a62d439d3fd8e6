#include "time/interval.hpp"

#include <braid/error.h>
#include <braid/time.h>

namespace braid::detail {

Interval::Interval(TimerDriver& d, int64_t start, int64_t period, int behavior)
    : driver_(&d), entry_{&d, start}, period_(period), behavior_(behavior) {}

Interval::~Interval() { detach(); }

void Interval::detach() {
    if (driver_) driver_->remove(&entry_);
    driver_ = nullptr;
}

// Saturating: a tick past the end of the clock is the far future (never).
int64_t Interval::next_after(int64_t tick, int64_t now) const {
    if (now <= add_sat(tick, kLateness)) return add_sat(tick, period_);
    switch (behavior_) {
        case BRAID_MISSED_TICK_DELAY: return add_sat(now, period_);
        case BRAID_MISSED_TICK_SKIP: return add_sat(now, period_ - sub_sat(now, tick) % period_);
        default: return add_sat(tick, period_);  // burst
    }
}

int Interval::poll_tick(braid_wake_fn wake, void* data, int64_t* tick) {
    if (!driver_) return BRAID_ECANCELED;
    int rc = driver_->poll(&entry_, wake, data);
    if (rc != 0 || !wake) return rc;
    int64_t t = entry_.deadline;
    if (tick) *tick = t;
    // The tick consumes the registration: its waker may still be running on
    // the firing thread (this poll saw the firing before the call returned),
    // so it is removed and that call waited for, as an unregister does; a
    // caller that goes away after taking a tick (a select's branch) is then
    // never called again.  The next poll registers anew.
    driver_->rearm_taken(&entry_, next_after(t, driver_->clock().now()));
    return 0;
}

void Interval::reset() {
    if (driver_) reset_at(add_sat(driver_->clock().now(), period_));
}

void Interval::reset_at(int64_t when) {
    if (driver_) driver_->reset(&entry_, when);
}

}  // namespace braid::detail
