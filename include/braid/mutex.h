/* braid — async mutex.  Part of the stable C ABI.
 *
 * A lock that tasks wait for without blocking their worker.  Fair: waiters
 * get the lock in FIFO order (an unlock hands it to the first waiter).  It
 * protects whatever the caller decides; the C++ braid::Mutex<T> keeps the
 * value next to it.  Waiting from a poll function follows the unstable
 * braid_waiter protocol (braid/unstable/waiter.h).  The lock is not tied to a thread: a task may unlock it
 * on another worker than the one it locked it on.
 *
 * Threads: any thread.  Wakers run with the mutex's internal lock held, on
 * the thread that unlocks.
 */
#ifndef BRAID_MUTEX_H
#define BRAID_MUTEX_H

#include <stdint.h>

#include "error.h"
#include "export.h"
#include "task.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_mutex braid_mutex;

/* Creates an unlocked mutex.  BRAID_OK, BRAID_EINVAL, BRAID_ENOMEM. */
BRAID_API int braid_mutex_new(braid_mutex **out);
/* Frees it.  It must be unlocked with nobody waiting.  NULL ok. */
BRAID_API void braid_mutex_free(braid_mutex *m);

/* Locks if it is free and nobody waits: BRAID_OK, or BRAID_EAGAIN. */
BRAID_API int braid_mutex_try_lock(braid_mutex *m);
/* Locks on the calling thread (not a runtime worker: BRAID_EDEADLK).
 * timeout_ms: BRAID_WAIT_FOREVER, 0 (one attempt) or milliseconds;
 * BRAID_ETIMEDOUT after it (not locked). */
BRAID_API int braid_mutex_lock_blocking(braid_mutex *m, int64_t timeout_ms);
/* Callback form (docs/c-api.md, "Callback waits"): starts the wait on rt
 * and calls cb(user_data, status) exactly once on one of its workers:
 * BRAID_OK once the lock is the caller's (unlock with braid_mutex_unlock), or
 * BRAID_ECANCELED when aborted through *out (may be NULL) or shut down; the
 * lock is then not held, and a lock handed to the wait meanwhile goes on to
 * the next waiter.  Returns BRAID_OK, BRAID_EINVAL (rt, m or cb NULL),
 * BRAID_ESHUTDOWN or BRAID_ENOMEM (cb never runs).  m must outlive the
 * operation. */
BRAID_API int braid_mutex_lock(braid_task **out, braid_runtime *rt, braid_mutex *m, braid_callback cb,
                               void *user_data);
/* Unlocks (any thread): the first waiter gets the lock.  BRAID_OK, or
 * BRAID_EINVAL when m is NULL or not locked (nothing changes: a second
 * unlock never frees the lock for two holders).  The lock is not tied to
 * its holder: an unlock by another party than the one that locked it
 * cannot be told apart. */
BRAID_API int braid_mutex_unlock(braid_mutex *m);

BRAID_EXTERN_C_END

#endif /* BRAID_MUTEX_H */
