/* braid — stall detection: a task poll that keeps its worker past the
 * slow-poll threshold (braid_runtime_builder_slow_poll_ms) is reported
 * WHILE it still runs, with the worker's stack taken at that moment (Linux:
 * a watchdog thread signals the worker, whose handler records its
 * backtrace).  Part of the stable C ABI.  docs/observability.md, "Stall
 * detection", describes it.
 */
#ifndef BRAID_STALL_H
#define BRAID_STALL_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "error.h"
#include "runtime.h"

BRAID_EXTERN_C_BEGIN

/* One stuck poll.  `size` is the struct's size as the library fills it (a
 * later version appends fields: read a field only when it lies within).
 * Every pointer is valid during the callback only. */
typedef struct braid_stall_report {
    size_t size;
    uint64_t task_id;
    const char *name;            /* the task's name, or NULL */
    const char *file;            /* its spawn location, or NULL */
    uint32_t line;
    const char *function;        /* may be NULL */
    int worker;                  /* the worker's index (0 on a current-thread runtime) */
    int64_t elapsed_ns;          /* how long the poll had run when its stack was taken */
    size_t frame_count;          /* the worker's stack, innermost first (0 where not available) */
    void *const *frames;         /* return addresses */
    const char *const *symbols;  /* the same, symbolised ("binary(function+0x1c) [0x...]") */
} braid_stall_report;

/* Called once per stuck poll, on braid's watchdog thread, while the poll
 * is still running.  It must not wait for the stuck task. */
typedef void (*braid_stall_fn)(void *user_data, const braid_stall_report *report);

/* Installs the stall callback, which replaces the default report (a few
 * lines on stderr); NULL restores it.  Stall detection runs while the
 * slow-poll threshold is set (braid_runtime_builder_slow_poll_ms > 0): a
 * watchdog thread looks at the workers every quarter of the threshold.  On
 * Linux the stuck worker's stack is taken with a signal (SIGRTMIN + 6;
 * the handler is installed when such a runtime is built).  BRAID_OK,
 * BRAID_EINVAL (b NULL). */
BRAID_API int braid_runtime_builder_on_stall(braid_runtime_builder *b, braid_stall_fn fn, void *user_data);

/* How many stalls were reported (each stuck poll once). */
BRAID_API uint64_t braid_runtime_stalls(const braid_runtime *rt);

BRAID_EXTERN_C_END

#endif /* BRAID_STALL_H */
