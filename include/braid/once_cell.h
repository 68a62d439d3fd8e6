/* braid — OnceCell: a value set once, then shared.  Part of the stable C
 * ABI.  Element types: see braid/elem.h.
 *
 * The value is moved into the cell's own storage (one allocation with the
 * cell) and stays there, at a fixed address, until the cell is freed.
 * Reading it (braid_once_cell_get) takes no lock.  Initialising it when many
 * threads race: each calls braid_once_cell_init_blocking (tasks: the unstable
 * braid_once_cell_poll_init of braid/unstable/waiter.h); exactly one at a time is
 * told BRAID_ONCE_CELL_INIT ("you initialise it") and must finish with
 * braid_once_cell_complete_init or braid_once_cell_abort_init; the others
 * wait (FIFO) and complete with BRAID_OK once the value is there.  If the
 * initialiser aborts (it failed, or was cancelled), the next waiter is told
 * BRAID_ONCE_CELL_INIT.
 *
 * Threads: any thread.  Wakers run with the cell's lock held, on the thread
 * that completes or aborts the initialisation.
 */
#ifndef BRAID_ONCE_CELL_H
#define BRAID_ONCE_CELL_H

#include <stddef.h>
#include <stdint.h>

#include "elem.h"
#include "error.h"
#include "export.h"
#include "task.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_once_cell braid_once_cell;

/* Returned by braid_once_cell_poll_init / _init_blocking: the caller now
 * holds the right (and duty) to initialise the cell. */
#define BRAID_ONCE_CELL_INIT 2

/* An empty cell for elements of `elem_size` bytes (0..1 MiB) aligned to
 * `elem_align` (a power of two up to 4096); relocate/drop may be NULL.
 * BRAID_OK, BRAID_EINVAL, BRAID_ENOMEM. */
BRAID_API int braid_once_cell_new(braid_once_cell **out, size_t elem_size, size_t elem_align,
                                  braid_relocate_fn relocate, braid_drop_fn drop);
/* Frees the cell and destroys its value.  Nobody may be waiting.  NULL ok. */
BRAID_API void braid_once_cell_free(braid_once_cell *cell);

/* BRAID_OK with *out_value pointing at the value (valid until the cell is
 * freed), or BRAID_EAGAIN (not set yet; *out_value NULL).  Lock-free. */
BRAID_API int braid_once_cell_get(braid_once_cell *cell, void **out_value);
/* Moves the value at `value` (value_size = the element size) into an empty
 * cell: BRAID_OK.  BRAID_EEXIST: already set; BRAID_EBUSY: being
 * initialised; either way the value is left at `value`. */
BRAID_API int braid_once_cell_set(braid_once_cell *cell, void *value, size_t value_size);
/* Moves the value out to `out` (out_size = the element size) and empties the
 * cell, which can be set again (Tokio's take / into_inner): BRAID_OK,
 * BRAID_EAGAIN (not set), BRAID_EBUSY (being initialised), BRAID_EINVAL.
 * Only while nobody else uses the cell: a pointer braid_once_cell_get gave
 * is invalid afterwards. */
BRAID_API int braid_once_cell_take(braid_once_cell *cell, void *out, size_t out_size);

/* For the holder of the right: moves the value in and releases the waiters
 * (BRAID_OK), or BRAID_EINVAL (nobody is initialising; value left). */
BRAID_API int braid_once_cell_complete_init(braid_once_cell *cell, void *value, size_t value_size);
/* For the holder of the right: gives it up; the next waiter gets it (or the
 * cell is empty again).  BRAID_OK or BRAID_EINVAL. */
BRAID_API int braid_once_cell_abort_init(braid_once_cell *cell);
/* Waits on the calling thread (not a runtime worker: BRAID_EDEADLK) until
 * the cell is set (BRAID_OK: read it with braid_once_cell_get) or it is the
 * caller's turn to set it (BRAID_ONCE_CELL_INIT).  timeout_ms:
 * BRAID_WAIT_FOREVER, 0 (one attempt) or milliseconds; BRAID_ETIMEDOUT
 * after it. */
BRAID_API int braid_once_cell_init_blocking(braid_once_cell *cell, int64_t timeout_ms);
/* Callback form (docs/c-api.md, "Callback waits"): starts the wait on rt
 * and calls cb(user_data, status) exactly once on one of its workers:
 * BRAID_OK (the cell is set: read it with braid_once_cell_get),
 * BRAID_ONCE_CELL_INIT (the caller's turn: cb, or code it hands the turn to,
 * must finish with braid_once_cell_complete_init or
 * braid_once_cell_abort_init), or BRAID_ECANCELED when aborted through *out
 * (may be NULL) or shut down: a turn handed to the wait meanwhile goes to the
 * next waiter.  Returns BRAID_OK, BRAID_EINVAL (rt, cell or cb NULL),
 * BRAID_ESHUTDOWN or BRAID_ENOMEM (cb never runs).  cell must outlive the
 * operation. */
BRAID_API int braid_once_cell_init(braid_task **out, braid_runtime *rt, braid_once_cell *cell, braid_callback cb,
                                   void *user_data);

BRAID_EXTERN_C_END

#endif /* BRAID_ONCE_CELL_H */
