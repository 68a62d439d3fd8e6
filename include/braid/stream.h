/* braid — streams: sequences of values that arrive over time.  Part of the
 * stable C ABI.  Element types: see braid/elem.h.
 *
 * A braid_stream is a handle on any stream: one that C code produces with a
 * poll function (braid_stream_new), or one that the C++ layer exports (any
 * braid::Stream<T> or combinator pipeline: braid::stream::into_c in
 * <braid/stream/c.hpp>).  C code and FFI callers consume it
 *   - with callbacks: braid_stream_next (one item), braid_stream_for_each
 *     (every item), both run on a runtime's workers;
 *   - poll style: braid_stream_poll_next, from a future's poll function
 *     (braid_task_new) or any code with a waker;
 *   - blocking: braid_stream_next_blocking, from a thread that is not a
 *     runtime worker.
 *
 * Items are moved out of the stream into storage the caller provides
 * (poll_next, next_blocking: `item_size` must equal the stream's element
 * size) or that braid provides (callbacks: `item` points at the value for
 * the duration of the callback only; braid destroys it afterwards with the
 * stream's drop function, so copy what you keep).
 *
 * End and failure: BRAID_ECLOSED once the stream has ended.  A producer
 * that fails (returns another negative code; a C++ stream that throws gives
 * BRAID_EPANIC) reports it once; the stream has ended after that.
 *
 * Threads: a stream has one consumer at a time.  Its functions may be called
 * from any thread, but not concurrently for the same stream; while a
 * braid_stream_next / braid_stream_for_each operation is pending, the other
 * consuming calls return BRAID_EBUSY.  Streams exported from C++ and
 * streams whose producer uses timers must be polled on a runtime thread.
 */
#ifndef BRAID_STREAM_H
#define BRAID_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "elem.h"
#include "error.h"
#include "export.h"
#include "runtime.h"
#include "task.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_stream braid_stream;

/* ---- producing ------------------------------------------------------------ */

/* A producer's poll function, called by the stream's consumer on the
 * consumer's thread, never concurrently for one stream:
 *   - writes the next item into `out_item` (the element's size and
 *     alignment, uninitialised) and returns BRAID_OK;
 *   - returns BRAID_ECLOSED when the stream has ended;
 *   - returns BRAID_PENDING after arranging for wake(wake_data) to be called
 *     (once, from any thread) when polling again may give an item; a later
 *     poll replaces that registration;
 *   - returns another negative code when it failed (the stream then ends).
 * Returning anything but BRAID_PENDING must leave no registration.
 * Called with `wake` NULL (and `out_item` NULL), it must remove the
 * registration it made and produce nothing (the consumer gave up waiting);
 * its return value is then ignored.  After it returned BRAID_ECLOSED or an
 * error it is not called again (except with `wake` NULL). */
typedef int (*braid_stream_poll_fn)(void *state, void *out_item, braid_wake_fn wake, void *wake_data);

/* A stream of elements of `elem_size` bytes (0..1 MiB) aligned to
 * `elem_align` (a power of two up to 4096); relocate/drop may be NULL (plain
 * bytes).  Items come from poll(state, ...).  free_state(state) (may be NULL)
 * runs once, when the stream is freed.  Returns BRAID_OK, BRAID_EINVAL
 * (NULL out or poll, bad size or alignment), BRAID_ENOMEM.  On error
 * free_state is not called. */
BRAID_API int braid_stream_new(braid_stream **out, size_t elem_size, size_t elem_align, braid_relocate_fn relocate,
                               braid_drop_fn drop, braid_stream_poll_fn poll, braid_state_fn free_state,
                               void *state);

/* Frees the stream: the producer's state is freed (free_state), once any
 * pending braid_stream_next / braid_stream_for_each has finished: freeing
 * aborts such an operation (its callback gets BRAID_ECANCELED).  NULL ok. */
BRAID_API void braid_stream_free(braid_stream *s);

/* The element size (0 for NULL). */
BRAID_API size_t braid_stream_elem_size(const braid_stream *s);

/* ---- consuming: poll style ---------------------------------------------------- */

/* BRAID_OK with the next item moved into `out_item` (item_size bytes, the
 * element's size, suitably aligned); BRAID_ECLOSED at the end;
 * BRAID_PENDING after registering wake(wake_data) (replacing the previous
 * registration); a negative code the producer failed with (once).
 * NULL waker: see docs/c-api.md.  BRAID_EINVAL (NULL stream, wrong
 * item_size, NULL out_item), BRAID_EBUSY (a callback operation is pending).
 * Inside a task, a poll takes a unit of the task's cooperative budget
 * (braid_coop_take in braid/task.h; given back when the producer is
 * pending): once it is used up, the call wakes wake(wake_data) and returns
 * BRAID_PENDING without polling the producer, so a task draining an
 * always-ready stream yields to the others on its worker. */
BRAID_API int braid_stream_poll_next(braid_stream *s, void *out_item, size_t item_size, braid_wake_fn wake,
                                     void *wake_data);

/* ---- consuming: callbacks --------------------------------------------------------- */

/* Called with status BRAID_OK and `item` pointing at an item (valid during
 * the call only), or with `item` NULL and a final status. */
typedef void (*braid_stream_item_fn)(void *user_data, int status, void *item);

/* Takes the next item on a worker of `rt` (NULL: the calling thread's
 * runtime) and calls cb(user_data, status, item) exactly once, on a worker:
 * BRAID_OK with the item, BRAID_ECLOSED at the end, the producer's error,
 * or BRAID_ECANCELED when the operation is aborted (through `out`, which
 * may be NULL, by braid_stream_free, or by a runtime shutdown).  The
 * callback may start the next braid_stream_next.  Returns BRAID_OK,
 * BRAID_EINVAL, BRAID_EBUSY (another operation is pending), BRAID_ENOMEM,
 * BRAID_ESHUTDOWN. */
BRAID_API int braid_stream_next(braid_task **out, braid_runtime *rt, braid_stream *s, braid_stream_item_fn cb,
                                void *user_data);

/* Calls cb(user_data, BRAID_OK, item) for every item, on a worker of `rt`,
 * then exactly once with item NULL and the final status as the last call:
 * BRAID_ECLOSED at the end, the producer's error, or BRAID_ECANCELED when
 * aborted (as for braid_stream_next).  Yields to other tasks every so often
 * when items are ready without waiting.  Returns as braid_stream_next. */
BRAID_API int braid_stream_for_each(braid_task **out, braid_runtime *rt, braid_stream *s,
                                    braid_stream_item_fn cb, void *user_data);

/* ---- consuming: blocking ------------------------------------------------------------ */

/* Waits on the calling thread for the next item: BRAID_OK (moved into
 * out_item), BRAID_ECLOSED, the producer's error, or BRAID_ETIMEDOUT after
 * timeout_ms (BRAID_WAIT_FOREVER, 0: one attempt, or milliseconds; nothing
 * is consumed).
 * BRAID_EDEADLK on a runtime worker thread; BRAID_EINVAL, BRAID_EBUSY as for
 * braid_stream_poll_next. */
BRAID_API int braid_stream_next_blocking(braid_stream *s, void *out_item, size_t item_size, int64_t timeout_ms);

BRAID_EXTERN_C_END

#endif /* BRAID_STREAM_H */
