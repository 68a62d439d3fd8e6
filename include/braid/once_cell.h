/* braid — OnceCell: a value set once, then shared.  Part of the stable C
 * ABI.  Element types: see braid/elem.h.
 *
 * The value is moved into the cell's own storage (one allocation with the
 * cell) and stays there, at a fixed address, until the cell is freed.
 * Reading it (braid_once_cell_get) takes no lock.  Initialising it when many
 * tasks race: each polls braid_once_cell_poll_init; exactly one at a time is
 * told BRAID_ONCE_CELL_INIT ("you initialise it") and must finish with
 * braid_once_cell_complete_init or braid_once_cell_abort_init; the others
 * wait (FIFO) and complete with BRAID_OK once the value is there.  If the
 * initialiser aborts (it failed, or was cancelled), the next waiter is told
 * BRAID_ONCE_CELL_INIT.  Waiting follows the braid_waiter protocol
 * (braid/waiter.h).
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
#include "waiter.h"

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
 * cell: BRAID_OK.  BRAID_EBUSY: already set or being initialised; the value
 * is left at `value`. */
BRAID_API int braid_once_cell_set(braid_once_cell *cell, void *value, size_t value_size);

/* Waits until the cell is set or it is the caller's turn to set it
 * (braid_waiter protocol): BRAID_OK (set: read it with braid_once_cell_get),
 * BRAID_ONCE_CELL_INIT (initialise it now), BRAID_PENDING, BRAID_ENOMEM,
 * BRAID_EINVAL.  With `wake` NULL nothing is queued. */
BRAID_API int braid_once_cell_poll_init(braid_once_cell *cell, braid_waiter **w, braid_wake_fn wake,
                                        void *wake_data);
/* Cancels a wait; if the right to initialise had been handed to it, it goes
 * to the next waiter.  NULL ok. */
BRAID_API void braid_once_cell_cancel_init(braid_once_cell *cell, braid_waiter **w);
/* Removes the waker and keeps the wait in its place (braid/waiter.h).  NULL ok. */
BRAID_API void braid_once_cell_unregister_init(braid_once_cell *cell, braid_waiter **w);
/* For the holder of the right: moves the value in and releases the waiters
 * (BRAID_OK), or BRAID_EINVAL (nobody is initialising; value left). */
BRAID_API int braid_once_cell_complete_init(braid_once_cell *cell, void *value, size_t value_size);
/* For the holder of the right: gives it up; the next waiter gets it (or the
 * cell is empty again).  BRAID_OK or BRAID_EINVAL. */
BRAID_API int braid_once_cell_abort_init(braid_once_cell *cell);
/* braid_once_cell_poll_init on the calling thread (not a runtime worker:
 * BRAID_EDEADLK).  timeout_ms 0: no limit; BRAID_ETIMEDOUT after it. */
BRAID_API int braid_once_cell_init_blocking(braid_once_cell *cell, int64_t timeout_ms);

BRAID_EXTERN_C_END

#endif /* BRAID_ONCE_CELL_H */
