/* braid — a task's awaiting chain, for the task dump.  UNSTABLE: outside
 * the C ABI's stability promise (docs/c-api.md, "ABI stability"); define
 * BRAID_UNSTABLE_API before including it (the C++ headers do).
 *
 * A task whose state is a chain of coroutines (the C++ layer's Task<T>)
 * installs a trace function; the task dump (braid/task_dump.h) calls it
 * while the task is suspended and held by the dump (no worker polls it
 * meanwhile), and it reports the chain innermost first: the coroutine
 * suspended on the leaf, then the one awaiting it, up to the task's root.
 */
#ifndef BRAID_UNSTABLE_TASK_TRACE_H
#define BRAID_UNSTABLE_TASK_TRACE_H

#ifndef BRAID_UNSTABLE_API
#error "braid/unstable/task_trace.h is outside braid's ABI stability promise: #define BRAID_UNSTABLE_API before including it"
#endif

#include <stdint.h>

#include "../export.h"
#include "../task.h"

BRAID_EXTERN_C_BEGIN

/* One frame of the chain: where that coroutine is suspended (file, line,
 * function; static strings, function may be NULL). */
typedef void (*braid_trace_frame_fn)(void *user_data, const char *file, uint32_t line, const char *function);
/* Reports the chain of the task whose state is `state`, one frame() call a
 * coroutine, innermost first.  Must not block, allocate through the
 * runtime, nor touch anything but the state. */
typedef void (*braid_task_trace_fn)(void *state, braid_trace_frame_fn frame, void *user_data);

/* Installs the task's trace function (NULL removes it), before the task is
 * started: BRAID_OK, BRAID_EINVAL (task NULL), BRAID_EBUSY (started),
 * BRAID_ENOMEM.  (A kind of task that always has one puts it in its vtable
 * instead: braid/unstable/task_block.h.) */
BRAID_API int braid_task_set_trace(braid_task *task, braid_task_trace_fn trace);

BRAID_EXTERN_C_END

#endif /* BRAID_UNSTABLE_TASK_TRACE_H */
