/* braid — Notify: wake waiting tasks without passing data.  Part of the
 * stable C ABI.
 *
 * braid_notify_notify_one wakes the first waiter (FIFO); if nobody waits it
 * stores one permit, and the next wait completes at once (several
 * notify_one calls with nobody waiting store only one permit).
 * braid_notify_notify_waiters wakes every wait made before it (the waits
 * of the callback form count from their call, whether they have queued on a
 * worker yet or not) and stores nothing.  Waiting from a poll function follows the unstable
 * braid_waiter protocol (braid/unstable/waiter.h).
 *
 * Threads: any thread.  Wakers run with the Notify's lock held, on the thread
 * that notifies.
 */
#ifndef BRAID_NOTIFY_H
#define BRAID_NOTIFY_H

#include <stdint.h>

#include "error.h"
#include "export.h"
#include "task.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_notify braid_notify;

/* BRAID_OK, BRAID_EINVAL, BRAID_ENOMEM. */
BRAID_API int braid_notify_new(braid_notify **out);
/* Nobody may be waiting.  NULL ok. */
BRAID_API void braid_notify_free(braid_notify *n);

/* Takes a stored permit: BRAID_OK, or BRAID_EAGAIN when there is none
 * (nothing queued). */
BRAID_API int braid_notify_try_notified(braid_notify *n);
/* Waits on the calling thread (not a runtime worker: BRAID_EDEADLK).
 * timeout_ms: BRAID_WAIT_FOREVER, 0 (one attempt) or milliseconds;
 * BRAID_ETIMEDOUT after it (nothing consumed). */
BRAID_API int braid_notify_notified_blocking(braid_notify *n, int64_t timeout_ms);
/* Callback form (docs/c-api.md, "Callback waits"): starts the wait on rt
 * and calls cb(user_data, status) exactly once on one of its workers:
 * BRAID_OK once notified (or a stored permit was consumed), or
 * BRAID_ECANCELED when aborted through *out (may be NULL) or shut down: a
 * notify_one that had chosen this wait passes on (to the next waiter, or as
 * the stored permit).  Returns BRAID_OK, BRAID_EINVAL (rt, n or cb NULL),
 * BRAID_ESHUTDOWN or BRAID_ENOMEM (cb never runs).  n must outlive the
 * operation. */
BRAID_API int braid_notify_notified(braid_task **out, braid_runtime *rt, braid_notify *n, braid_callback cb,
                                    void *user_data);

/* Wakes the first waiter, or stores the permit.  NULL ok. */
BRAID_API void braid_notify_notify_one(braid_notify *n);
/* Wakes the last waiter queued (the most recent: LIFO), or stores the
 * permit.  NULL ok. */
BRAID_API void braid_notify_notify_last(braid_notify *n);
/* Wakes every wait made before it (queued, or a callback wait started and
 * not yet queued); stores nothing.  NULL ok. */
BRAID_API void braid_notify_notify_waiters(braid_notify *n);

BRAID_EXTERN_C_END

#endif /* BRAID_NOTIFY_H */
