/* braid — waiting on a shared primitive from a poll function.  UNSTABLE:
 * outside the C ABI's stability promise (docs/c-api.md, "ABI stability").
 *
 * This is the plumbing the C++ layer (the braid/ .hpp headers) is built on.  It may
 * change in any release; C programs should use the stable forms of these
 * operations (try_*, *_blocking) instead.  To include it anyway, define
 * BRAID_UNSTABLE_API first (the C++ headers do); the symbols it declares
 * carry the version BRAID_UNSTABLE_0.1, not BRAID_0.1.
 *
 * Semaphores, mutexes, read-write locks, Notify, Barrier, OnceCell,
 * cancellation tokens and the sending side of channels can be waited on by
 * many tasks at once.  Each wait is one braid_waiter: a node in the
 * primitive's FIFO wait list, allocated by the primitive only when the wait
 * really has to wait (an operation that can complete at once allocates
 * nothing).  The protocol is the same for every `braid_<object>_poll_<op>`
 * function below:
 *
 *   braid_waiter *w = NULL;                 // one per operation in progress
 *   rc = braid_X_poll_Y(x, ..., &w, wake, wake_data);
 *
 *  - first poll (*w == NULL): the operation completes at once (returns 0 or
 *    a documented value; *w stays NULL), fails (negative code; *w stays
 *    NULL), or has to wait: the primitive allocates a waiter, queues it
 *    behind the earlier ones, stores it in *w, registers wake(wake_data) and
 *    returns BRAID_PENDING.
 *  - a poll with `wake` NULL withdraws (NULL waker: see docs/c-api.md): it
 *    is unregistering (below; *w NULL: nothing) and returns BRAID_PENDING,
 *    attempting nothing.  To try without waiting use the stable try_*
 *    functions.
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
 * budget is used up (see braid/unstable/coop.h) instead calls the waker and
 * returns BRAID_PENDING with nothing changed and *w still NULL.
 */
#ifndef BRAID_UNSTABLE_WAITER_H
#define BRAID_UNSTABLE_WAITER_H

#ifndef BRAID_UNSTABLE_API
#error "braid/unstable/waiter.h is outside braid's ABI stability promise: #define BRAID_UNSTABLE_API before including it"
#endif

#include <stddef.h>
#include <stdint.h>

#include "../barrier.h"
#include "../broadcast.h"
#include "../cancel.h"
#include "../export.h"
#include "../mpsc.h"
#include "../mutex.h"
#include "../notify.h"
#include "../once_cell.h"
#include "../rwlock.h"
#include "../semaphore.h"
#include "../task.h"
#include "../watch.h"

BRAID_EXTERN_C_BEGIN

/* One operation waiting on a shared primitive (see above). */
typedef struct braid_waiter braid_waiter;

/* ---- mpsc (braid/mpsc.h) ------------------------------------------------- */

/* Sends, waiting for room: BRAID_OK (moved in), BRAID_PENDING (the value
 * stays at `value` and must stay valid: pass it again on the next poll),
 * BRAID_ECLOSED (value left at `value`), BRAID_ENOMEM, BRAID_EINVAL.  An
 * unbounded channel never returns BRAID_PENDING. */
BRAID_API int braid_mpsc_poll_send(braid_mpsc_tx *tx, void *value, size_t value_size, braid_waiter **w,
                                   braid_wake_fn wake, void *wake_data);
/* Cancels a waiting send: the value was not sent (it is still the
 * caller's); room the channel had granted it goes to the next sender.
 * NULL ok. */
BRAID_API void braid_mpsc_cancel_send(braid_mpsc_tx *tx, braid_waiter **w);
/* Removes the waker and keeps the wait in its place (see above).  NULL ok. */
BRAID_API void braid_mpsc_unregister_send(braid_mpsc_tx *tx, braid_waiter **w);
/* Reserves n slots (bounded channels; BRAID_ENOTSUP on unbounded ones), as
 * braid_mpsc_try_reserve but waiting: BRAID_OK once reserved, BRAID_PENDING,
 * BRAID_ECLOSED, BRAID_ERANGE (n above the capacity). */
BRAID_API int braid_mpsc_poll_reserve(braid_mpsc_tx *tx, size_t n, braid_waiter **w, braid_wake_fn wake,
                                      void *wake_data);
/* Cancels a waiting reserve; slots granted to it go back.  NULL ok. */
BRAID_API void braid_mpsc_cancel_reserve(braid_mpsc_tx *tx, braid_waiter **w);
/* Removes the waker and keeps the wait in its place (see above).  NULL ok. */
BRAID_API void braid_mpsc_unregister_reserve(braid_mpsc_tx *tx, braid_waiter **w);
/* Waits until the receiver is closed or gone: BRAID_OK, BRAID_PENDING,
 * BRAID_ENOMEM, BRAID_EINVAL. */
BRAID_API int braid_mpsc_tx_poll_closed(braid_mpsc_tx *tx, braid_waiter **w, braid_wake_fn wake,
                                        void *wake_data);
BRAID_API void braid_mpsc_tx_cancel_closed(braid_mpsc_tx *tx, braid_waiter **w);
/* Removes the waker and keeps the wait in its place (see above).  NULL ok. */
BRAID_API void braid_mpsc_tx_unregister_closed(braid_mpsc_tx *tx, braid_waiter **w);

/* ---- broadcast (braid/broadcast.h) ------------------------------------------ */

/* Receives into `out` (out_size = the element size): BRAID_OK,
 * BRAID_BROADCAST_LAGGED (*out_lagged = values missed; nothing in out),
 * BRAID_ECLOSED (every sender gone, nothing left), BRAID_EPANIC (the clone
 * function failed; nothing consumed), BRAID_PENDING, BRAID_ENOMEM,
 * BRAID_EINVAL.  out_lagged may be NULL. */
BRAID_API int braid_broadcast_poll_recv(braid_broadcast_rx *rx, void *out, size_t out_size, uint64_t *out_lagged,
                                        braid_waiter **w, braid_wake_fn wake, void *wake_data);
/* Cancels a waiting receive: nothing is lost (the values wait for the next
 * receive).  NULL ok. */
BRAID_API void braid_broadcast_cancel_recv(braid_broadcast_rx *rx, braid_waiter **w);
/* Removes the waker and keeps the wait in its place (see above).  NULL ok. */
BRAID_API void braid_broadcast_unregister_recv(braid_broadcast_rx *rx, braid_waiter **w);

/* ---- watch (braid/watch.h) -------------------------------------------------- */

/* Waits until no receiver is left: BRAID_OK, BRAID_PENDING, BRAID_ENOMEM,
 * BRAID_EINVAL. */
BRAID_API int braid_watch_tx_poll_closed(braid_watch_tx *tx, braid_waiter **w, braid_wake_fn wake,
                                         void *wake_data);
BRAID_API void braid_watch_tx_cancel_closed(braid_watch_tx *tx, braid_waiter **w);
/* Removes the waker and keeps the wait in its place (see above).  NULL ok. */
BRAID_API void braid_watch_tx_unregister_closed(braid_watch_tx *tx, braid_waiter **w);
/* Waits for a version newer than the one seen: BRAID_OK (it is marked seen;
 * borrow it to read it), BRAID_ECLOSED (every sender gone and nothing
 * newer), BRAID_PENDING, BRAID_ENOMEM, BRAID_EINVAL. */
BRAID_API int braid_watch_rx_poll_changed(braid_watch_rx *rx, braid_waiter **w, braid_wake_fn wake,
                                          void *wake_data);
/* Cancels a wait; nothing is consumed (the version stays unseen).  NULL ok. */
BRAID_API void braid_watch_rx_cancel_changed(braid_watch_rx *rx, braid_waiter **w);
/* Removes the waker and keeps the wait in its place (see above).  NULL ok. */
BRAID_API void braid_watch_rx_unregister_changed(braid_watch_rx *rx, braid_waiter **w);

/* ---- semaphore (braid/semaphore.h) ------------------------------------------ */

/* Waits for n permits: BRAID_OK when they are yours, BRAID_ECLOSED when the
 * semaphore is (or gets) closed, BRAID_PENDING, BRAID_ENOMEM, BRAID_EINVAL
 * (sem or w NULL), BRAID_ERANGE. */
BRAID_API int braid_semaphore_poll_acquire(braid_semaphore *sem, size_t n, braid_waiter **w,
                                           braid_wake_fn wake, void *wake_data);
/* Cancels a waiting acquire; permits it had been granted go back to the
 * semaphore (to the next waiter).  NULL ok. */
BRAID_API void braid_semaphore_cancel_acquire(braid_semaphore *sem, braid_waiter **w);
/* Removes the waker and keeps the wait in its place (see above).  NULL ok. */
BRAID_API void braid_semaphore_unregister_acquire(braid_semaphore *sem, braid_waiter **w);

/* ---- mutex (braid/mutex.h) -------------------------------------------------- */

/* Waits for the lock: BRAID_OK once it is yours, BRAID_PENDING,
 * BRAID_ENOMEM, BRAID_EINVAL. */
BRAID_API int braid_mutex_poll_lock(braid_mutex *m, braid_waiter **w, braid_wake_fn wake, void *wake_data);
/* Cancels a waiting lock.  If the lock had already been handed to it, it is
 * passed on to the next waiter (or unlocked).  NULL ok. */
BRAID_API void braid_mutex_cancel_lock(braid_mutex *m, braid_waiter **w);
/* Removes the waker and keeps the wait in its place (see above).  NULL ok. */
BRAID_API void braid_mutex_unregister_lock(braid_mutex *m, braid_waiter **w);

/* ---- rwlock (braid/rwlock.h) ------------------------------------------------ */

/* Wait for a read / write lock: BRAID_OK once held, BRAID_PENDING,
 * BRAID_ENOMEM, BRAID_EINVAL. */
BRAID_API int braid_rwlock_poll_read(braid_rwlock *rw, braid_waiter **w, braid_wake_fn wake, void *wake_data);
BRAID_API int braid_rwlock_poll_write(braid_rwlock *rw, braid_waiter **w, braid_wake_fn wake, void *wake_data);
/* Cancel a waiting read / write: whatever it had been granted goes back (a
 * writer that was granted part of the readers' permits returns them).  The
 * two are the same function.  NULL ok. */
BRAID_API void braid_rwlock_cancel_read(braid_rwlock *rw, braid_waiter **w);
BRAID_API void braid_rwlock_cancel_write(braid_rwlock *rw, braid_waiter **w);
/* Remove the waker and keep the wait in its place (see above).  NULL ok. */
BRAID_API void braid_rwlock_unregister_read(braid_rwlock *rw, braid_waiter **w);
BRAID_API void braid_rwlock_unregister_write(braid_rwlock *rw, braid_waiter **w);

/* ---- notify (braid/notify.h) ------------------------------------------------ */

/* Waits for a notification: BRAID_OK (notified, or a stored permit
 * consumed), BRAID_PENDING, BRAID_ENOMEM, BRAID_EINVAL (braid_notify_try_notified
 * takes a stored permit without waiting). */
BRAID_API int braid_notify_poll_notified(braid_notify *n, braid_waiter **w, braid_wake_fn wake, void *wake_data);
/* Cancels a wait.  A waiter that notify_one had already chosen passes the
 * notification on (to the next waiter, or as the stored permit), so a
 * cancelled waiter never swallows a notify_one.  NULL ok. */
BRAID_API void braid_notify_cancel_notified(braid_notify *n, braid_waiter **w);
/* Tokio's Notified::enable: before (or between) polls, queues the wait
 * without a waker, or takes the stored permit, so that a notify_one from
 * now on goes to it.  1: notified already (the next poll gives 0), 0:
 * queued (a poll registers the waker), BRAID_ENOMEM, BRAID_EINVAL.  Cancel
 * or complete it as a polled wait. */
BRAID_API int braid_notify_enable_notified(braid_notify *n, braid_waiter **w);
/* Removes the waker and keeps the wait in its place (see above).  NULL ok. */
BRAID_API void braid_notify_unregister_notified(braid_notify *n, braid_waiter **w);
/* Tokio's Notified receives every notify_waiters made after its creation,
 * polled (or enabled) or not.  braid_notify_waiters_epoch gives the number
 * of notify_waiters calls so far (0 for NULL): read it when the wait is
 * made, and pass it to the _since forms, which are the two above except
 * that a wait not queued yet (*w NULL) completes at once (0; enable: 1)
 * when notify_waiters was called since that epoch, leaving a stored permit
 * alone. */
BRAID_API uint64_t braid_notify_waiters_epoch(const braid_notify *n);
BRAID_API int braid_notify_poll_notified_since(braid_notify *n, uint64_t epoch, braid_waiter **w,
                                               braid_wake_fn wake, void *wake_data);
BRAID_API int braid_notify_enable_notified_since(braid_notify *n, uint64_t epoch, braid_waiter **w);

/* ---- barrier (braid/barrier.h) ---------------------------------------------- */

/* Arrives and waits: BRAID_OK (released, a follower), BRAID_BARRIER_LEADER
 * (this arrival completed the round), BRAID_PENDING, BRAID_ENOMEM,
 * BRAID_EINVAL. */
BRAID_API int braid_barrier_poll_wait(braid_barrier *b, braid_waiter **w, braid_wake_fn wake, void *wake_data);
/* Cancels a wait: not released yet, it no longer counts as arrived.  NULL ok. */
BRAID_API void braid_barrier_cancel_wait(braid_barrier *b, braid_waiter **w);
/* Removes the waker and keeps the wait in its place (see above).  NULL ok. */
BRAID_API void braid_barrier_unregister_wait(braid_barrier *b, braid_waiter **w);

/* ---- once cell (braid/once_cell.h) ------------------------------------------ */

/* Waits until the cell is set or it is the caller's turn to set it:
 * BRAID_OK (set: read it with braid_once_cell_get), BRAID_ONCE_CELL_INIT
 * (initialise it now, then braid_once_cell_complete_init or
 * braid_once_cell_abort_init), BRAID_PENDING, BRAID_ENOMEM, BRAID_EINVAL. */
BRAID_API int braid_once_cell_poll_init(braid_once_cell *cell, braid_waiter **w, braid_wake_fn wake,
                                        void *wake_data);
/* Cancels a wait; if the right to initialise had been handed to it, it goes
 * to the next waiter.  NULL ok. */
BRAID_API void braid_once_cell_cancel_init(braid_once_cell *cell, braid_waiter **w);
/* Removes the waker and keeps the wait in its place (see above).  NULL ok. */
BRAID_API void braid_once_cell_unregister_init(braid_once_cell *cell, braid_waiter **w);

/* ---- cancellation tokens (braid/cancel.h) ----------------------------------- */

/* 0 once the token is cancelled; BRAID_PENDING after queueing the waiter. */
BRAID_API int braid_token_poll_cancelled(braid_token *token, braid_waiter **w, braid_wake_fn wake,
                                         void *wake_data);
BRAID_API void braid_token_cancel_wait(braid_token *token, braid_waiter **w);
/* Removes the waker and keeps the wait in its place (see above).  NULL ok. */
BRAID_API void braid_token_unregister_wait(braid_token *token, braid_waiter **w);

BRAID_EXTERN_C_END

#endif /* BRAID_UNSTABLE_WAITER_H */
