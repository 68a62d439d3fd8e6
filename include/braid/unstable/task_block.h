/* braid — tasks in a block the caller allocated.  UNSTABLE: outside the C
 * ABI's stability promise (docs/c-api.md, "ABI stability"); define
 * BRAID_UNSTABLE_API before including it (the C++ headers do).  The symbols
 * carry the version BRAID_UNSTABLE_0.1.
 *
 * The C++ layer spawns a coroutine with one allocation: its frame is
 * allocated (braid_alloc) with room for the task in front of it, and the
 * task is made in that room.  The block then holds the task header
 * (BRAID_TASK_HEADER_SIZE bytes, the runtime's), the state (everything
 * after the header: the caller's, untouched by the runtime) and is freed
 * with braid_free(block, block_size) once the task and every handle to it
 * are gone, after the vtable's release function ran on the state.
 */
#ifndef BRAID_UNSTABLE_TASK_BLOCK_H
#define BRAID_UNSTABLE_TASK_BLOCK_H

#ifndef BRAID_UNSTABLE_API
#error "braid/unstable/task_block.h is outside braid's ABI stability promise: #define BRAID_UNSTABLE_API before including it"
#endif

#include <stddef.h>

#include "../export.h"
#include "../task.h"
#include "task_trace.h"

BRAID_EXTERN_C_BEGIN

/* The bytes of a block that the task header takes; the state starts there
 * (a multiple of 16: the state is aligned as braid_alloc's blocks are). */
#define BRAID_TASK_HEADER_SIZE 128

/* Where a task whose state keeps its spawn location finds it, for the task
 * dump and stall reports: file, line and function (static strings;
 * function may be NULL).  Called from a signal handler too (a stall
 * report): it must only read the state. */
typedef void (*braid_task_location_fn)(void *state, const char **file, uint32_t *line, const char **function);

/* A task's functions, as braid_task_new takes them (poll required; cancel
 * and release may be NULL).  It must outlive the task (a static one).
 * trace and location (may be NULL) serve the task dump: the awaiting chain
 * of a state that is a chain of coroutines (braid/unstable/task_trace.h)
 * and the spawn location kept in the state, so that a task of this kind
 * needs no per-task record of them; a location or trace set on one task
 * (braid_task_set_location, braid_task_set_trace) comes first. */
struct braid_task_vtable {
    braid_poll_fn poll;
    braid_state_fn cancel;
    braid_state_fn release;
    braid_task_trace_fn trace;
    braid_task_location_fn location;
};
typedef struct braid_task_vtable braid_task_vtable;

/* As braid_task_new, in `block` (from braid_alloc(block_size), more than
 * BRAID_TASK_HEADER_SIZE and at most 2^30 bytes): the task is made in the
 * block's first BRAID_TASK_HEADER_SIZE bytes and its state is the rest (left
 * as it is).  BRAID_OK: the task owns the block (see above), *out is its
 * handle, not started (braid_task_start*).  Otherwise (BRAID_EINVAL,
 * BRAID_ESHUTDOWN) the block stays the caller's, untouched. */
BRAID_API int braid_task_new_in(braid_task **out, braid_runtime *rt, void *block, size_t block_size,
                                const braid_task_vtable *vt);
/* braid_task_new_in through a handle (any thread). */
BRAID_API int braid_handle_task_new_in(braid_task **out, braid_handle *h, void *block, size_t block_size,
                                       const braid_task_vtable *vt);

BRAID_EXTERN_C_END

#endif /* BRAID_UNSTABLE_TASK_BLOCK_H */
