/* braid — async counting semaphore.  Part of the stable C ABI.
 *
 * A pool of permits.  Acquires wait in FIFO order: the first waiter is
 * handed permits as they are released, also when it asks for more than are
 * free (a big acquire is never starved by small ones).  Waiting from a poll
 * function follows the unstable braid_waiter protocol
 * (braid/unstable/waiter.h).
 *
 * Threads: every function may be called from any thread.  Wakers run with the
 * semaphore's lock held, on the thread that releases permits or closes it.
 */
#ifndef BRAID_SEMAPHORE_H
#define BRAID_SEMAPHORE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "export.h"
#include "task.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_semaphore braid_semaphore;

/* The most permits a semaphore can hold (2^61 - 1). */
#define BRAID_SEMAPHORE_MAX_PERMITS ((uint64_t)0x1FFFFFFFFFFFFFFFull)

/* Creates a semaphore with `permits` permits.  BRAID_OK, BRAID_EINVAL (out
 * NULL), BRAID_ERANGE (more than BRAID_SEMAPHORE_MAX_PERMITS), BRAID_ENOMEM. */
BRAID_API int braid_semaphore_new(braid_semaphore **out, size_t permits);
/* Frees the semaphore.  No acquire may be waiting.  NULL ok. */
BRAID_API void braid_semaphore_free(braid_semaphore *sem);

/* Takes n permits if they are free now and nobody waits ahead: BRAID_OK,
 * BRAID_EAGAIN (not now; nothing taken), BRAID_ECLOSED, BRAID_EINVAL,
 * BRAID_ERANGE (n above the maximum). */
BRAID_API int braid_semaphore_try_acquire(braid_semaphore *sem, size_t n);
/* Waits on the calling thread (not a runtime worker: BRAID_EDEADLK) for n
 * permits.  timeout_ms: BRAID_WAIT_FOREVER, 0 (one attempt) or
 * milliseconds; BRAID_ETIMEDOUT after it (nothing taken). */
BRAID_API int braid_semaphore_acquire_blocking(braid_semaphore *sem, size_t n, int64_t timeout_ms);
/* Callback form (docs/c-api.md, "Callback waits"): starts the wait on rt
 * and calls cb(user_data, status) exactly once on one of its workers:
 * BRAID_OK once the n permits are the caller's (give them back with
 * braid_semaphore_release), BRAID_ECLOSED (closed), or BRAID_ECANCELED when
 * aborted through *out (may be NULL) or shut down: no permit is held, and
 * permits granted to the wait meanwhile go back (to the next waiter).
 * Returns BRAID_OK, BRAID_EINVAL (rt, sem or cb NULL), BRAID_ERANGE (n above
 * BRAID_SEMAPHORE_MAX_PERMITS), BRAID_ESHUTDOWN or BRAID_ENOMEM (cb never
 * runs).  sem must outlive the operation. */
BRAID_API int braid_semaphore_acquire(braid_task **out, braid_runtime *rt, braid_semaphore *sem, size_t n,
                                      braid_callback cb, void *user_data);

/* Adds n permits (returns acquired ones, or adds new ones) and serves the
 * waiters.  BRAID_OK, BRAID_EINVAL, BRAID_ERANGE (the total would exceed the
 * maximum; nothing added). */
BRAID_API int braid_semaphore_release(braid_semaphore *sem, size_t n);
/* Removes up to n of the free permits for good (Tokio's forget_permits);
 * returns how many it removed (0 for NULL).  Permits held, or on their way
 * to a waiter, are not free and stay. */
BRAID_API size_t braid_semaphore_forget_permits(braid_semaphore *sem, size_t n);
/* The permits free now (0 for NULL). */
BRAID_API size_t braid_semaphore_available_permits(braid_semaphore *sem);
/* Closes: every waiting acquire fails with BRAID_ECLOSED and later acquires
 * fail at once.  Permits held stay valid and can be released.  NULL ok. */
BRAID_API void braid_semaphore_close(braid_semaphore *sem);
/* 1 when closed, 0 when not, BRAID_EINVAL for NULL. */
BRAID_API int braid_semaphore_is_closed(braid_semaphore *sem);

BRAID_EXTERN_C_END

#endif /* BRAID_SEMAPHORE_H */
