#include "time/timer_ops.hpp"

#include "task/spawn.hpp"
#include "time/interval.hpp"
#include "time/timer_driver.hpp"
#include "task/callback.hpp"

namespace braid::detail {

namespace {

// braid_sleep's operation.
struct SleepOp {
    TimerEntry entry;
    Callback<braid_callback> cb;
    void* ud;
    SleepOp(Core* c, int64_t deadline, braid_callback f, void* u) : entry{&c->timers(), deadline}, cb(f), ud(u) {}
    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<SleepOp*>(self);
        int rc = s->entry.driver->poll(&s->entry, &braid_task_wake_fn, me);
        if (rc == BRAID_PENDING) return BRAID_PENDING;
        s->cb(s->ud, rc);
        return BRAID_OK;
    }
    static void cancel(void* self) {
        auto* s = static_cast<SleepOp*>(self);
        s->entry.driver->remove(&s->entry);
        s->cb(s->ud, current_cancel_status());
    }
};

// braid_interval_start's operation: a callback per tick.
struct IntervalOp {
    Interval iv;
    Callback<braid_callback> cb;
    void* ud;
    IntervalOp(Core* c, int64_t period, int behavior, braid_callback f, void* u)
        : iv(c->timers(), add_sat(c->clock().now(), period), period, behavior), cb(f), ud(u) {}
    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<IntervalOp*>(self);
        for (int burst = 0; burst < 64; ++burst) {
            int rc = s->iv.poll_tick(&braid_task_wake_fn, me, nullptr);
            if (rc == BRAID_PENDING) return BRAID_PENDING;
            if (rc < 0) {
                s->iv.detach();
                s->cb(s->ud, rc);
                return rc;
            }
            s->cb(s->ud, BRAID_OK);
        }
        braid_task_wake(me);  // many ticks due at once: let other tasks run
        return BRAID_PENDING;
    }
    // The task's memory can outlive the runtime (a handle freed late): the
    // timer entry leaves the runtime here, not in release.
    static void cancel(void* self) {
        auto* s = static_cast<IntervalOp*>(self);
        s->iv.detach();
        s->cb(s->ud, current_cancel_status());
    }
};

}  // namespace

int spawn_sleep(braid_task** out, Core* core, int64_t deadline, braid_callback cb, void* ud) {
    return spawn_op<SleepOp>(out, core, TaskKind::Worker, core, deadline, cb, ud);
}

int spawn_interval(braid_task** out, Core* core, int64_t period_ns, int behavior, braid_callback cb, void* ud) {
    return spawn_op<IntervalOp>(out, core, TaskKind::Worker, core, period_ns, behavior, cb, ud);
}

}  // namespace braid::detail
