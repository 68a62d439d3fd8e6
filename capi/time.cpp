// extern "C" shims: the clock, timers, sleeps, intervals.
#include "shim.hpp"
#include "task/task_info.hpp"
#include "time/interval.hpp"
#include "time/timer_ops.hpp"
#include "util/alloc.hpp"

using braid::capi::core_of;
using braid::capi::core_or_current;
using braid::capi::guarded;
using braid::detail::Core;
using braid::detail::Interval;
using braid::detail::TaskKind;
using braid::detail::TimerEntry;
using braid::detail::add_sat;
using braid::detail::note_wait;

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

int sleep_until(braid_task** out, braid_runtime* rt, int64_t deadline, braid_callback cb, void* ud) {
    if (out) *out = nullptr;
    if (!rt || !cb) return BRAID_EINVAL;
    Core* core = core_of(rt);
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return guarded([&] { return braid::detail::spawn_sleep(out, core, deadline, cb, ud); });
}

bool valid_behavior(int b) {
    return b == BRAID_MISSED_TICK_BURST || b == BRAID_MISSED_TICK_DELAY || b == BRAID_MISSED_TICK_SKIP;
}

}  // namespace

extern "C" {

BRAID_API int64_t braid_now(const braid_runtime* rt) {
    const Core* c = rt ? core_of(rt) : braid::detail::context_core();
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
    return note_wait(t->core->timers().poll(&t->entry, wake, wake_data), BRAID_WAIT_SLEEP, uint64_t(t->entry.deadline));
}

BRAID_API int braid_timer_poll_unconstrained(braid_timer* t, braid_wake_fn wake, void* wake_data) {
    if (!t) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { t->core->timers().remove(&t->entry); });
    return note_wait(t->core->timers().poll(&t->entry, wake, wake_data, /*budgeted=*/false), BRAID_WAIT_SLEEP,
                     uint64_t(t->entry.deadline));
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

BRAID_API int braid_interval_reset_at(braid_interval* iv, int64_t when_ns) {
    if (!iv) return BRAID_EINVAL;
    iv->iv.reset_at(when_ns);
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
    return guarded([&] {
        return braid::detail::spawn_interval(out, core, ms_to_ns(period_ms), missed_tick_behavior, cb, user_data);
    });
}

}  // extern "C"
