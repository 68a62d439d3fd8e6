/* braid — time: the clock, timers, sleeps and intervals.  Part of the stable
 * C ABI.
 *
 * Instants are int64_t nanoseconds on a monotonic clock (CLOCK_MONOTONIC, or
 * the runtime's virtual clock when it was built paused).  Durations are
 * int64_t nanoseconds or milliseconds as the name says; a negative duration
 * is BRAID_EINVAL.  A deadline in the past is due at once.
 *
 * Deadlines saturate: a duration too long for the clock (braid_sleep with
 * INT64_MAX ms, an interval's next tick past the end) gives the deadline
 * INT64_MAX, the far future, which is never due: no clock reaches it (a
 * paused clock stops short of it, and never jumps to it by itself).
 *
 * Wakers (the braid_wake_fn given to braid_timer_poll_elapsed and
 * braid_interval_poll_tick) are called with no lock held, on the reactor
 * thread, or on the thread that advances a paused clock.  A waker may poll,
 * reset, create and free timers and intervals, its own included: a timer's
 * waker may free that timer, or reset it and poll again to re-arm it.  A
 * timer that fires is due, and its registration is used up: poll again to
 * be woken again.
 *
 * Timers live in a heap owned by the runtime; one libuv timer on the reactor
 * thread is armed for the earliest deadline only, so a sleep costs neither a
 * libuv handle nor a trip to the reactor thread unless it becomes the
 * earliest deadline.
 */
#ifndef BRAID_TIME_H
#define BRAID_TIME_H

#include <stdint.h>

#include "export.h"
#include "error.h"
#include "runtime.h"
#include "task.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_timer braid_timer;
typedef struct braid_interval braid_interval;

/* The runtime's clock in ns (virtual when paused).  rt NULL: the runtime of
 * the calling thread, or the real monotonic clock on other threads. */
BRAID_API int64_t braid_now(const braid_runtime *rt);

/* ---- callback style --------------------------------------------------------- */

/* Calls cb(user_data, BRAID_OK) on a worker once `ms` milliseconds have
 * passed.  `out` may be NULL; otherwise it receives a handle whose
 * braid_task_abort cancels the sleep: the callback then runs once with
 * BRAID_ECANCELED.  Free the handle with braid_task_free (that does not
 * cancel).  Returns BRAID_OK (the callback will run exactly once),
 * BRAID_EINVAL (NULL rt or cb, ms < 0), BRAID_ESHUTDOWN, BRAID_ENOMEM. */
BRAID_API int braid_sleep(braid_task **out, braid_runtime *rt, int64_t ms, braid_callback cb,
                          void *user_data);
/* The same with a deadline on braid_now's clock. */
BRAID_API int braid_sleep_until(braid_task **out, braid_runtime *rt, int64_t deadline_ns,
                                braid_callback cb, void *user_data);

/* ---- poll style (for futures and the C++ layer) ---------------------------------- */

/* A timer due at `deadline_ns`.  rt NULL: the calling thread's runtime. */
BRAID_API int braid_timer_new(braid_timer **out, braid_runtime *rt, int64_t deadline_ns);
/* 0 when due; BRAID_PENDING after registering wake(wake_data) (replacing the
 * previous registration); BRAID_EINVAL for NULL; BRAID_ECANCELED if the
 * runtime shut down (NULL waker: see docs/c-api.md).  Whether it is due
 * without registering: braid_timer_deadline against braid_now. */
BRAID_API int braid_timer_poll_elapsed(braid_timer *t, braid_wake_fn wake, void *wake_data);
/* As braid_timer_poll_elapsed, outside the cooperative budget: a due timer completes
 * even when the calling task's budget is used up, and takes nothing from it.
 * For timeouts: when the future a timeout guards used the budget up, the
 * deadline must still be seen, or a future that is always ready would never
 * time out. */
BRAID_API int braid_timer_poll_unconstrained(braid_timer *t, braid_wake_fn wake, void *wake_data);
/* Moves the deadline; a waker registered and waiting stays registered (for
 * the new deadline).  After a firing, poll again to register.  INT64_MAX:
 * never due. */
BRAID_API int braid_timer_reset(braid_timer *t, int64_t deadline_ns);
BRAID_API int64_t braid_timer_deadline(const braid_timer *t);
/* Unregisters and frees; afterwards the waker is not running and will not
 * be called: a free that races with the firing waits until that waker call
 * has returned, unless it is called from inside that very waker (which may
 * free its own timer).  Removing the registration with a NULL waker
 * (braid_timer_poll_elapsed, braid_interval_poll_tick) gives the same guarantee.
 * NULL ok.  Any thread. */
BRAID_API void braid_timer_free(braid_timer *t);

/* ---- intervals ------------------------------------------------------------- */

/* What an interval does when ticks were missed (the task was late). */
enum braid_missed_tick {
    BRAID_MISSED_TICK_BURST = 0, /* fire the missed ticks at once, then keep the schedule */
    BRAID_MISSED_TICK_DELAY = 1, /* next tick one period after the late tick */
    BRAID_MISSED_TICK_SKIP = 2   /* skip missed ticks, next on the original grid */
};

/* Ticks at start_ns, start_ns + period_ns, ...  period_ns > 0; a tick past
 * the end of the clock is never due (a huge period ticks once, at start). */
BRAID_API int braid_interval_new(braid_interval **out, braid_runtime *rt, int64_t start_ns,
                                 int64_t period_ns, int missed_tick_behavior);
/* 0 when a tick is due (*out_tick_ns, if not NULL, gets the tick's scheduled
 * instant, and the interval moves to the next one), or BRAID_PENDING after
 * registering the waker (NULL waker: see docs/c-api.md). */
BRAID_API int braid_interval_poll_tick(braid_interval *iv, braid_wake_fn wake, void *wake_data,
                                       int64_t *out_tick_ns);
/* Changes what happens to missed ticks from now on. */
BRAID_API int braid_interval_set_missed_tick_behavior(braid_interval *iv, int missed_tick_behavior);
/* The next tick becomes one period from now. */
BRAID_API int braid_interval_reset(braid_interval *iv);
/* The next tick at when_ns on the runtime clock (braid_now; a past instant:
 * at once), the ones after it a period apart (Tokio's reset_at).  BRAID_OK,
 * BRAID_EINVAL. */
BRAID_API int braid_interval_reset_at(braid_interval *iv, int64_t when_ns);
BRAID_API int64_t braid_interval_period(const braid_interval *iv);
/* Frees; as braid_timer_free, the waker is not running afterwards and will
 * not be called (it may be called from inside that waker).  NULL ok. */
BRAID_API void braid_interval_free(braid_interval *iv);

/* Calls cb(user_data, BRAID_OK) on a worker at every tick until the handle is
 * aborted; then cb(user_data, BRAID_ECANCELED) once, as the last call.  The
 * interval is owned by the operation; `out` must not be NULL (the handle is
 * the only way to stop it). */
BRAID_API int braid_interval_start(braid_task **out, braid_runtime *rt, int64_t period_ms,
                                   int missed_tick_behavior, braid_callback cb, void *user_data);

BRAID_EXTERN_C_END

#endif /* BRAID_TIME_H */
