/* braid — async read-write lock.  Part of the stable C ABI.
 *
 * Many readers or one writer.  Fair and write-preferring: requests are
 * served in FIFO order, so a waiting writer is served before the readers
 * that came after it, and readers that came before a writer are not held
 * back by it.  Built on a semaphore of BRAID_RWLOCK_MAX_READERS permits: a
 * read takes one, a write takes all of them.  Waiting from a poll function
 * follows the unstable braid_waiter protocol (braid/unstable/waiter.h).
 * Locks are not tied to threads.
 *
 * Threads: any thread.  Wakers run with the lock's internal lock held, on the
 * thread that unlocks.
 */
#ifndef BRAID_RWLOCK_H
#define BRAID_RWLOCK_H

#include <stdint.h>

#include "error.h"
#include "export.h"
#include "task.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_rwlock braid_rwlock;

/* The most readers at once (2^29 - 1); more wait. */
#define BRAID_RWLOCK_MAX_READERS 536870911u

/* Creates an unlocked lock.  BRAID_OK, BRAID_EINVAL, BRAID_ENOMEM. */
BRAID_API int braid_rwlock_new(braid_rwlock **out);
/* Creates an unlocked lock that admits at most max_readers readers at once
 * (1 .. BRAID_RWLOCK_MAX_READERS; Tokio's with_max_readers): more wait, and a
 * writer waits for all of them.  BRAID_OK, BRAID_EINVAL (out NULL, or
 * max_readers out of range: *out NULL), BRAID_ENOMEM. */
BRAID_API int braid_rwlock_new_with_max_readers(braid_rwlock **out, uint32_t max_readers);
/* Frees it: unlocked, nobody waiting.  NULL ok. */
BRAID_API void braid_rwlock_free(braid_rwlock *rw);

/* BRAID_OK (locked for reading / writing) or BRAID_EAGAIN (not now: held, or
 * others wait first); BRAID_EINVAL for NULL. */
BRAID_API int braid_rwlock_try_read(braid_rwlock *rw);
BRAID_API int braid_rwlock_try_write(braid_rwlock *rw);
/* Lock on the calling thread (not a runtime worker: BRAID_EDEADLK).
 * timeout_ms: BRAID_WAIT_FOREVER, 0 (one attempt) or milliseconds;
 * BRAID_ETIMEDOUT after it (not locked). */
BRAID_API int braid_rwlock_read_blocking(braid_rwlock *rw, int64_t timeout_ms);
BRAID_API int braid_rwlock_write_blocking(braid_rwlock *rw, int64_t timeout_ms);
/* Callback form (docs/c-api.md, "Callback waits"): starts the wait on rt
 * and calls cb(user_data, status) exactly once on one of its workers:
 * BRAID_OK once the read (write) lock is held (release with
 * braid_rwlock_read_unlock / braid_rwlock_write_unlock), or BRAID_ECANCELED
 * when aborted through *out (may be NULL) or shut down: nothing held, and
 * whatever was granted to the wait goes back.  Returns BRAID_OK,
 * BRAID_EINVAL (rt, rw or cb NULL), BRAID_ESHUTDOWN or BRAID_ENOMEM (cb
 * never runs).  rw must outlive the operation. */
BRAID_API int braid_rwlock_read(braid_task **out, braid_runtime *rt, braid_rwlock *rw, braid_callback cb,
                                void *user_data);
BRAID_API int braid_rwlock_write(braid_task **out, braid_runtime *rt, braid_rwlock *rw, braid_callback cb,
                                 void *user_data);
/* Release a read / write lock (any thread).  BRAID_OK, or BRAID_EINVAL when
 * rw is NULL or not locked that way, and then nothing is released: a read
 * unlock while the lock is write-locked (it would let a reader in beside
 * the writer) or unlocked, a write unlock while it is read-locked or
 * unlocked.  Locks are not tied to their holders: a read unlock by someone
 * who holds no read lock while others do cannot be told apart. */
BRAID_API int braid_rwlock_read_unlock(braid_rwlock *rw);
BRAID_API int braid_rwlock_write_unlock(braid_rwlock *rw);
/* Turns the write lock the caller holds into a read lock, atomically (no
 * other writer can get in between); waiting readers may now enter.
 * BRAID_OK, or BRAID_EINVAL (NULL, or not write-locked: nothing changes). */
BRAID_API int braid_rwlock_downgrade(braid_rwlock *rw);

BRAID_EXTERN_C_END

#endif /* BRAID_RWLOCK_H */
