/* braid — runtime metrics: a snapshot of the runtime's counters on demand,
 * and the same rendered as Prometheus text or JSON.  Part of the stable C ABI.
 *
 * docs/observability.md documents every field: its unit, and when it is
 * exact and when approximate (counters of threads that run meanwhile are
 * read one after another, not under one lock).
 *
 * Stability: the structs below only grow, at their end.  Their first field
 * is their size: the caller passes sizeof of the struct it was compiled
 * with; the library fills what both sides know, zeroes the rest of the
 * caller's struct, and sets `size` to the bytes it filled.  A caller built
 * against a newer header learns from `size` which fields an older library
 * filled; an older caller simply does not see the fields added since.
 *
 * Threads: any thread, also one of the runtime's own; none of these calls
 * blocks on the tasks (they take a few short locks: the timers', the
 * blocking pool's).
 */
#ifndef BRAID_METRICS_H
#define BRAID_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "error.h"
#include "runtime.h"

BRAID_EXTERN_C_BEGIN

/* One worker's counters.  Counters (monotonic since the runtime was built)
 * and gauges (the value now). */
typedef struct braid_worker_metrics {
    size_t size;                   /* see the header's comment */
    uint64_t polls;                /* counter: tasks run (a task aborted while queued counts: its run drops it) */
    uint64_t steals;               /* counter: steals from another worker's queue that took tasks */
    uint64_t parks;                /* counter: times the worker ran out of work and parked */
    uint64_t busy_ns;              /* counter: nanoseconds not parked (running tasks, looking for work) */
    uint64_t local_queue_depth;    /* gauge: tasks in its local queue (not counting the LIFO slot) */
    uint64_t lifo_slot_hits;       /* counter: tasks run from the LIFO slot (the task just woken) */
    uint64_t budget_forced_yields; /* counter: polls that used up their cooperative budget and yielded */
    uint64_t local_schedules;      /* counter: tasks it scheduled onto its own LIFO slot or local queue */
    uint64_t overflows;            /* counter: times its local queue was full and half of it went to the inject queue */
} braid_worker_metrics;

/* The whole runtime.  The worker fields hold the sums over its workers. */
typedef struct braid_metrics {
    size_t size;                   /* see the header's comment */
    uint64_t workers;              /* number of worker threads (1 for current-thread runtimes) */
    uint64_t tasks_spawned;        /* counter: tasks started (blocking jobs not included) */
    uint64_t tasks_alive;          /* gauge: spawned, not yet completed or aborted */
    uint64_t tasks_completed;      /* counter: tasks that finished by returning (or throwing) */
    uint64_t tasks_aborted;        /* counter: tasks that finished by cancellation (abort, shutdown) */
    uint64_t inject_queue_depth;   /* gauge: tasks in the global inject queue */
    uint64_t blocking_threads;     /* gauge: threads of the blocking pool */
    uint64_t blocking_idle;        /* gauge: of those, threads not running a job */
    uint64_t blocking_queued;      /* gauge: blocking jobs waiting for a thread */
    uint64_t io_events;            /* counter: readiness events the I/O driver delivered */
    uint64_t io_wakeups;           /* counter: wake-ups sent to a worker sleeping in the I/O driver */
    uint64_t timers_pending;       /* gauge: timers registered and not fired */
    uint64_t slow_polls;           /* counter: as braid_runtime_slow_polls */
    uint64_t polls;                /* sums of the braid_worker_metrics fields of every worker */
    uint64_t steals;
    uint64_t parks;
    uint64_t busy_ns;
    uint64_t local_queue_depth;
    uint64_t lifo_slot_hits;
    uint64_t budget_forced_yields;
    uint64_t remote_schedules;     /* counter: tasks scheduled from outside the workers (into the inject queue) */
    uint64_t local_schedules;      /* sums of the braid_worker_metrics fields added with remote_schedules */
    uint64_t overflows;
} braid_metrics;

/* The smallest sizes accepted (the first version of each struct). */
#define BRAID_METRICS_MIN_SIZE (sizeof(size_t) + 20 * sizeof(uint64_t))
#define BRAID_WORKER_METRICS_MIN_SIZE (sizeof(size_t) + 7 * sizeof(uint64_t))

/* Output formats of braid_runtime_metrics_format. */
#define BRAID_METRICS_PROMETHEUS 1 /* Prometheus text exposition format 0.0.4 */
#define BRAID_METRICS_JSON 2       /* one JSON object */

/* Fills `out` (out_size: sizeof(*out) as the caller knows it) with a
 * snapshot of the runtime's metrics.  Returns BRAID_OK, or BRAID_EINVAL
 * (rt or out NULL, out_size below BRAID_METRICS_MIN_SIZE), and then writes
 * nothing. */
BRAID_API int braid_runtime_metrics(const braid_runtime *rt, braid_metrics *out, size_t out_size);

/* Worker `index` (0 .. workers - 1) alone, as braid_runtime_metrics.
 * BRAID_EINVAL also for an index out of range (nothing is written). */
BRAID_API int braid_runtime_worker_metrics(const braid_runtime *rt, int index, braid_worker_metrics *out,
                                           size_t out_size);

/* Renders one snapshot in `format` (BRAID_METRICS_PROMETHEUS or
 * BRAID_METRICS_JSON) into buf, NUL-terminated.  *needed (when needed is
 * not NULL) receives the bytes the text takes, its NUL included.  Returns
 * BRAID_OK, or BRAID_ERANGE when cap is smaller than that (buf is left as
 * it was: never a partial text); buf may be NULL when cap is 0, to ask for
 * the size.  The next snapshot may be longer (counters grow digits): give
 * some room beyond *needed, or call again on BRAID_ERANGE.  BRAID_EINVAL:
 * rt NULL, buf NULL with cap > 0, an unknown format; BRAID_ENOMEM. */
BRAID_API int braid_runtime_metrics_format(const braid_runtime *rt, int format, char *buf, size_t cap,
                                           size_t *needed);

/* The same three through a handle (from any thread; once the runtime is
 * shut down they report what it counted until then, with no worker,
 * blocking-pool or timer activity left). */
BRAID_API int braid_handle_metrics(const braid_handle *h, braid_metrics *out, size_t out_size);
BRAID_API int braid_handle_worker_metrics(const braid_handle *h, int index, braid_worker_metrics *out,
                                          size_t out_size);
BRAID_API int braid_handle_metrics_format(const braid_handle *h, int format, char *buf, size_t cap,
                                          size_t *needed);

BRAID_EXTERN_C_END

#endif /* BRAID_METRICS_H */
