/* braid — async mutex.  Part of the stable C ABI.
 *
 * A lock that tasks wait for without blocking their worker.  Fair: waiters
 * get the lock in FIFO order (an unlock hands it to the first waiter).  It
 * protects whatever the caller decides; the C++ braid::Mutex<T> keeps the
 * value next to it.  Waiting follows the braid_waiter protocol
 * (braid/waiter.h).  The lock is not tied to a thread: a task may unlock it
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
#include "waiter.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_mutex braid_mutex;

/* Creates an unlocked mutex.  BRAID_OK, BRAID_EINVAL, BRAID_ENOMEM. */
BRAID_API int braid_mutex_new(braid_mutex **out);
/* Frees it.  It must be unlocked with nobody waiting.  NULL ok. */
BRAID_API void braid_mutex_free(braid_mutex *m);

/* Locks if it is free and nobody waits: BRAID_OK, or BRAID_EAGAIN. */
BRAID_API int braid_mutex_try_lock(braid_mutex *m);
/* Waits for the lock (braid_waiter protocol): BRAID_OK once it is yours,
 * BRAID_PENDING, BRAID_ENOMEM, BRAID_EINVAL. */
BRAID_API int braid_mutex_poll_lock(braid_mutex *m, braid_waiter **w, braid_wake_fn wake, void *wake_data);
/* Cancels a waiting lock.  If the lock had already been handed to it, it is
 * passed on to the next waiter (or unlocked).  NULL ok. */
BRAID_API void braid_mutex_cancel_lock(braid_mutex *m, braid_waiter **w);
/* Removes the waker and keeps the wait in its place (braid/waiter.h).  NULL ok. */
BRAID_API void braid_mutex_unregister_lock(braid_mutex *m, braid_waiter **w);
/* Locks on the calling thread (not a runtime worker: BRAID_EDEADLK).
 * timeout_ms 0: no limit; BRAID_ETIMEDOUT after it (not locked). */
BRAID_API int braid_mutex_lock_blocking(braid_mutex *m, int64_t timeout_ms);
/* Unlocks (any thread): the first waiter gets the lock.  BRAID_OK, or
 * BRAID_EINVAL when m is NULL or not locked (nothing changes: a second
 * unlock never frees the lock for two holders).  The lock is not tied to
 * its holder: an unlock by another party than the one that locked it
 * cannot be told apart. */
BRAID_API int braid_mutex_unlock(braid_mutex *m);

BRAID_EXTERN_C_END

#endif /* BRAID_MUTEX_H */
