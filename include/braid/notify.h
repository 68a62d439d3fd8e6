/* braid — Notify: wake waiting tasks without passing data.  Part of the
 * stable C ABI.
 *
 * braid_notify_notify_one wakes the first waiter (FIFO); if nobody waits it
 * stores one permit, and the next wait completes at once (several
 * notify_one calls with nobody waiting store only one permit).
 * braid_notify_notify_waiters wakes every waiter queued at that moment and
 * stores nothing.  Waiting follows the braid_waiter protocol (braid/waiter.h).
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
#include "waiter.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_notify braid_notify;

/* BRAID_OK, BRAID_EINVAL, BRAID_ENOMEM. */
BRAID_API int braid_notify_new(braid_notify **out);
/* Nobody may be waiting.  NULL ok. */
BRAID_API void braid_notify_free(braid_notify *n);

/* Waits for a notification (braid_waiter protocol): BRAID_OK (notified, or a
 * stored permit consumed), BRAID_PENDING, BRAID_ENOMEM, BRAID_EINVAL.  With
 * `wake` NULL: takes a stored permit if there is one, else BRAID_PENDING. */
BRAID_API int braid_notify_poll_notified(braid_notify *n, braid_waiter **w, braid_wake_fn wake, void *wake_data);
/* Cancels a wait.  A waiter that notify_one had already chosen passes the
 * notification on (to the next waiter, or as the stored permit), so a
 * cancelled waiter never swallows a notify_one.  NULL ok. */
BRAID_API void braid_notify_cancel_notified(braid_notify *n, braid_waiter **w);
/* Removes the waker and keeps the wait in its place (braid/waiter.h).  NULL ok. */
BRAID_API void braid_notify_unregister_notified(braid_notify *n, braid_waiter **w);
/* Waits on the calling thread (not a runtime worker: BRAID_EDEADLK).
 * timeout_ms 0: no limit; BRAID_ETIMEDOUT after it (nothing consumed). */
BRAID_API int braid_notify_notified_blocking(braid_notify *n, int64_t timeout_ms);

/* Wakes the first waiter, or stores the permit.  NULL ok. */
BRAID_API void braid_notify_notify_one(braid_notify *n);
/* Wakes every waiter queued now; stores nothing.  NULL ok. */
BRAID_API void braid_notify_notify_waiters(braid_notify *n);

BRAID_EXTERN_C_END

#endif /* BRAID_NOTIFY_H */
