// extern "C" shims: the clock, timers, sleeps, intervals.
#include "shim.hpp"
#include "time/interval.hpp"
#include "util/alloc.hpp"

using braid::capi::core_of;
using braid::capi::core_or_current;
using braid::capi::spawn_state;
using braid::detail::Core;
using braid::detail::Interval;
using braid::detail::TaskKind;
using braid::detail::TimerEntry;
using braid::detail::add_sat;

struct braid_timer {
    Core* core;
    TimerEntry entry;
};

struct braid_interval {
    Core* core;
    Interval iv;
};

namespace {

constexpr int64_t kNsPerMs = 1000000;

// Saturating: a duration past the end of the clock is the far future.
int64_t ms_to_ns(int64_t ms) { return ms > INT64_MAX / kNsPerMs ? INT64_MAX : ms * kNsPerMs; }

// braid_sleep's operation.
struct SleepOp {
    TimerEntry entry;
    braid_callback cb;
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
        s->cb(s->ud, braid::capi::cancel_status());
    }
    static void release(void* self) { static_cast<SleepOp*>(self)->~SleepOp(); }
};

// braid_interval_start's operation: a callback per tick.
struct IntervalOp {
    Interval iv;
    braid_callback cb;
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
        s->cb(s->ud, braid::capi::cancel_status());
    }
    static void release(void* self) { static_cast<IntervalOp*>(self)->~IntervalOp(); }
};

int sleep_until(braid_task** out, braid_runtime* rt, int64_t deadline, braid_callback cb, void* ud) {
    if (out) *out = nullptr;
    if (!rt || !cb) return BRAID_EINVAL;
    Core* core = core_of(rt);
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return spawn_state<SleepOp>(out, core, TaskKind::Worker, core, deadline, cb, ud);
}

bool valid_behavior(int b) {
    return b == BRAID_MISSED_TICK_BURST || b == BRAID_MISSED_TICK_DELAY || b == BRAID_MISSED_TICK_SKIP;
}

}  // namespace

extern "C" {

BRAID_API int64_t braid_now(const braid_runtime* rt) {
    const Core* c = rt ? core_of(rt) : braid::detail::current_core();
    return c ? const_cast<Core*>(c)->clock().now() : braid::detail::monotonic_ns();
}

BRAID_API int braid_sleep(braid_task** out, braid_runtime* rt, int64_t ms, braid_callback cb,
                          void* user_data) {
    if (ms < 0) {
        if (out) *out = nullptr;
        return BRAID_EINVAL;
    }
    return sleep_until(out, rt, add_sat(braid_now(rt), ms_to_ns(ms)), cb, user_data);
}

BRAID_API int braid_sleep_until(braid_task** out, braid_runtime* rt, int64_t deadline_ns,
                                braid_callback cb, void* user_data) {
    return sleep_until(out, rt, deadline_ns, cb, user_data);
}

BRAID_API int braid_timer_new(braid_timer** out, braid_runtime* rt, int64_t deadline_ns) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    Core* core = core_or_current(rt);
    if (!core) return BRAID_EINVAL;
    void* mem = braid::detail::alloc(sizeof(braid_timer));
    if (!mem) return BRAID_ENOMEM;
    core->ref();
    *out = new (mem) braid_timer{core, {&core->timers(), deadline_ns}};
    return BRAID_OK;
}

BRAID_API int braid_timer_poll_elapsed(braid_timer* t, braid_wake_fn wake, void* wake_data) {
    if (!t) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { t->core->timers().remove(&t->entry); });
    return t->core->timers().poll(&t->entry, wake, wake_data);
}

BRAID_API int braid_timer_poll_unconstrained(braid_timer* t, braid_wake_fn wake, void* wake_data) {
    if (!t) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { t->core->timers().remove(&t->entry); });
    return t->core->timers().poll(&t->entry, wake, wake_data, /*budgeted=*/false);
}

BRAID_API int braid_timer_reset(braid_timer* t, int64_t deadline_ns) {
    if (!t) return BRAID_EINVAL;
    t->core->timers().reset(&t->entry, deadline_ns);
    return BRAID_OK;
}

BRAID_API int64_t braid_timer_deadline(const braid_timer* t) { return t ? t->entry.deadline : 0; }

BRAID_API void braid_timer_free(braid_timer* t) {
    if (!t) return;
    Core* core = t->core;
    core->timers().remove(&t->entry);
    t->~braid_timer();
    braid::detail::dealloc(t, sizeof(braid_timer));
    core->unref();
}

BRAID_API int braid_interval_new(braid_interval** out, braid_runtime* rt, int64_t start_ns,
                                 int64_t period_ns, int missed_tick_behavior) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    Core* core = core_or_current(rt);
    if (!core || period_ns <= 0 || !valid_behavior(missed_tick_behavior)) return BRAID_EINVAL;
    auto* iv = new (std::nothrow)
        braid_interval{core, Interval(core->timers(), start_ns, period_ns, missed_tick_behavior)};
    if (!iv) return BRAID_ENOMEM;
    core->ref();
    *out = iv;
    return BRAID_OK;
}

BRAID_API int braid_interval_poll_tick(braid_interval* iv, braid_wake_fn wake, void* wake_data,
                                       int64_t* out_tick_ns) {
    if (!iv) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { iv->iv.poll_tick(nullptr, nullptr, nullptr); });
    return iv->iv.poll_tick(wake, wake_data, out_tick_ns);
}

BRAID_API int braid_interval_set_missed_tick_behavior(braid_interval* iv, int missed_tick_behavior) {
    if (!iv || !valid_behavior(missed_tick_behavior)) return BRAID_EINVAL;
    iv->iv.set_behavior(missed_tick_behavior);
    return BRAID_OK;
}

BRAID_API int braid_interval_reset(braid_interval* iv) {
    if (!iv) return BRAID_EINVAL;
    iv->iv.reset();
    return BRAID_OK;
}

BRAID_API int64_t braid_interval_period(const braid_interval* iv) { return iv ? iv->iv.period() : 0; }

BRAID_API void braid_interval_free(braid_interval* iv) {
    if (!iv) return;
    Core* core = iv->core;
    delete iv;
    core->unref();
}

BRAID_API int braid_interval_start(braid_task** out, braid_runtime* rt, int64_t period_ms,
                                   int missed_tick_behavior, braid_callback cb, void* user_data) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!rt || !cb || period_ms <= 0 || !valid_behavior(missed_tick_behavior)) return BRAID_EINVAL;
    Core* core = core_of(rt);
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return spawn_state<IntervalOp>(out, core, TaskKind::Worker, core, ms_to_ns(period_ms),
                                   missed_tick_behavior, cb, user_data);
}

}  // extern "C"
