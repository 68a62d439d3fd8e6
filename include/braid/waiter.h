/* braid — waiting on a shared primitive from a poll function.  Part of the
 * stable C ABI.
 *
 * Semaphores, mutexes, read-write locks, Notify, Barrier, OnceCell and the
 * sending side of channels can be waited on by many tasks at once.  Each wait
 * is one braid_waiter: a node in the primitive's FIFO wait list, allocated by
 * the primitive only when the wait really has to wait (an operation that can
 * complete at once allocates nothing).  The protocol is the same for every
 * `braid_<object>_poll_<op>` function that takes a `braid_waiter **w`:
 *
 *   braid_waiter *w = NULL;                 // one per operation in progress
 *   rc = braid_X_poll_Y(x, ..., &w, wake, wake_data);
 *
 *  - first poll (*w == NULL): the operation completes at once (returns 0 or
 *    a documented value; *w stays NULL), fails (negative code; *w stays
 *    NULL), or has to wait: the primitive allocates a waiter, queues it
 *    behind the earlier ones, stores it in *w, registers wake(wake_data) and
 *    returns BRAID_PENDING.  With `wake` NULL nothing is queued: the call
 *    returns BRAID_PENDING instead of waiting (a "try").
 *  - later polls with the same *w: either the operation completed (the
 *    primitive frees the waiter, sets *w = NULL and returns the result), or
 *    the new waker replaces the old one and BRAID_PENDING is returned.
 *  - unregistering (`braid_X_unregister_Y(x, &w)`): removes the waker but
 *    keeps the waiter queued in its place, with whatever the primitive has
 *    granted to it (permits, the lock, a notification ...); *w is unchanged.
 *    Something that completes the wait meanwhile is recorded and calls
 *    nothing; the next poll with the same *w registers a new waker (or
 *    completes).  After it returns the old waker is not running and will
 *    never be called.  This is how a wait is kept across the selects that
 *    race it (the racing branch goes, the wait stays).  NULL or *w == NULL:
 *    no-op.
 *  - cancelling (`braid_X_cancel_Y(x, &w)`): removes and frees the waiter
 *    and sets *w = NULL.  Whatever the primitive had already granted to it and
 *    it had not taken yet goes back (permits, the lock, a notification, the
 *    right to initialise a OnceCell, room in a channel).  After it returns the
 *    waker is not running and will never be called.  NULL or *w == NULL: no-op.
 *
 * A waiter that was woken or unregistered must be polled again (or
 * cancelled) to complete: every waiter is either completed by a poll or
 * cancelled, exactly once;
 * freeing the primitive while a waiter is queued is a bug.  Waiters are
 * served in FIFO order.  Wakers are called with the primitive's internal lock
 * held, on the thread that made the operation ready (the one that unlocked,
 * released, sent, notified ...); they must be short and must not call back
 * into the same primitive (braid_task_wake is the usual waker).
 *
 * Cooperative budget: a poll that could complete at once inside a task whose
 * budget is used up (see braid_coop_take in braid/task.h) instead calls the
 * waker and returns BRAID_PENDING with nothing changed and *w still NULL.
 */
#ifndef BRAID_WAITER_H
#define BRAID_WAITER_H

#include "export.h"

BRAID_EXTERN_C_BEGIN

/* One operation waiting on a shared primitive (see above). */
typedef struct braid_waiter braid_waiter;

BRAID_EXTERN_C_END

#endif /* BRAID_WAITER_H */
