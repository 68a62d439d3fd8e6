/* braid — watch channels: one value that senders replace and receivers
 * look at, and wait to change.  Part of the stable C ABI.  Element types:
 * see braid/elem.h.
 *
 * The channel holds one value at a fixed place with a version number.  A
 * send replaces it and bumps the version; receivers borrow it (a read lock,
 * held until the matching _borrow_end; keep it short: senders wait for it)
 * and wait for a version newer than the one they have seen
 * (braid_watch_rx_poll_changed).  Receivers see versions in order: never an
 * older value after a newer one; intermediate values may be skipped.
 *
 * Waits from a poll function follow the unstable braid_waiter protocol
 * (braid/unstable/waiter.h).  Handles may be
 * used from any thread (each receiver from one thread at a time); a borrow
 * may end on another thread than the one it began on.  Wakers run with the
 * channel's lock held, on the thread that sends or drops the last handle of
 * the other side.
 */
#ifndef BRAID_WATCH_H
#define BRAID_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "elem.h"
#include "error.h"
#include "export.h"
#include "task.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_watch_tx braid_watch_tx;
typedef struct braid_watch_rx braid_watch_rx;

/* Modifies the value in place (under the write lock); returns non-zero
 * when it changed it (receivers are then notified). */
typedef int (*braid_watch_modify_fn)(void *value, void *user_data);

/* A channel whose value is moved from `initial` (elem_size bytes, 0..1 MiB,
 * aligned to elem_align; relocate/drop may be NULL).  One sender and one
 * receiver (which has seen the initial value).  BRAID_OK, BRAID_EINVAL,
 * BRAID_ENOMEM (the initial value is left at `initial` on error). */
BRAID_API int braid_watch_new(braid_watch_tx **out_tx, braid_watch_rx **out_rx, void *initial, size_t elem_size,
                              size_t elem_align, braid_relocate_fn relocate, braid_drop_fn drop);

/* ---- senders ---------------------------------------------------------------- */

BRAID_API int braid_watch_tx_clone(braid_watch_tx **out, braid_watch_tx *tx);
/* Drops a sender; after the last one, waiting receivers get BRAID_ECLOSED.
 * NULL ok. */
BRAID_API void braid_watch_tx_free(braid_watch_tx *tx);
/* Replaces the value and notifies: BRAID_OK, or BRAID_ECLOSED when no
 * receiver is left (nothing stored; the value is left at `value`). */
BRAID_API int braid_watch_send(braid_watch_tx *tx, void *value, size_t value_size);
/* Replaces the value whether or not receivers exist; the previous value is
 * moved into `value`.  BRAID_OK, BRAID_EINVAL, BRAID_ENOMEM. */
BRAID_API int braid_watch_send_replace(braid_watch_tx *tx, void *value, size_t value_size);
/* Calls modify(value, user_data) under the write lock; if it returns
 * non-zero the version is bumped and receivers are notified.
 * *out_modified (may be NULL) gets 1 or 0.  BRAID_OK, BRAID_EINVAL. */
BRAID_API int braid_watch_send_modify(braid_watch_tx *tx, braid_watch_modify_fn modify, void *user_data,
                                      int *out_modified);
/* Read-locks the value: *out_value points at it until
 * braid_watch_tx_borrow_end.  BRAID_OK, BRAID_EINVAL. */
BRAID_API int braid_watch_tx_borrow(braid_watch_tx *tx, const void **out_value);
/* Ends one borrow made through a sender (of this channel: its senders share
 * the count).  BRAID_OK, or BRAID_EINVAL (NULL, or no sender borrow to end:
 * nothing is unlocked, so an unbalanced end cannot leave senders waiting). */
BRAID_API int braid_watch_tx_borrow_end(braid_watch_tx *tx);
/* Receivers now (0 for NULL). */
BRAID_API size_t braid_watch_receiver_count(braid_watch_tx *tx);
/* 1 when no receiver is left, 0 when some are, BRAID_EINVAL. */
BRAID_API int braid_watch_tx_is_closed(braid_watch_tx *tx);
/* A new receiver that has seen the current value.  BRAID_OK, BRAID_EINVAL,
 * BRAID_ENOMEM. */
BRAID_API int braid_watch_subscribe(braid_watch_rx **out, braid_watch_tx *tx);

/* ---- receivers -------------------------------------------------------------- */

/* Another receiver with the same seen version.  BRAID_OK, BRAID_EINVAL,
 * BRAID_ENOMEM. */
BRAID_API int braid_watch_rx_clone(braid_watch_rx **out, braid_watch_rx *rx);
BRAID_API void braid_watch_rx_free(braid_watch_rx *rx);
/* Read-locks the value until braid_watch_rx_borrow_end.  *out_changed (may
 * be NULL) gets 1 when this receiver had not seen this version; with
 * mark_seen non-zero it has now (borrow_and_update).  BRAID_OK, BRAID_EINVAL. */
BRAID_API int braid_watch_rx_borrow(braid_watch_rx *rx, int mark_seen, const void **out_value, int *out_changed);
/* Ends one of this receiver's borrows.  BRAID_OK, or BRAID_EINVAL (NULL, or
 * the receiver holds no borrow: nothing is unlocked).  Freeing a receiver
 * ends the borrows it still holds. */
BRAID_API int braid_watch_rx_borrow_end(braid_watch_rx *rx);
/* 1 when a version newer than the one seen is there, 0 when not,
 * BRAID_ECLOSED when not and every sender is gone, BRAID_EINVAL. */
BRAID_API int braid_watch_rx_has_changed(braid_watch_rx *rx);
/* Waits on the calling thread (not a runtime worker: BRAID_EDEADLK).
 * timeout_ms: BRAID_WAIT_FOREVER, 0 (one attempt) or milliseconds;
 * BRAID_ETIMEDOUT after it. */
BRAID_API int braid_watch_rx_changed_blocking(braid_watch_rx *rx, int64_t timeout_ms);
/* Callback form (docs/c-api.md, "Callback waits"): starts the wait on rt
 * and calls cb(user_data, status) exactly once on one of its workers:
 * BRAID_OK (a newer version, now marked seen: borrow it to read it),
 * BRAID_ECLOSED (every sender gone and nothing newer), or BRAID_ECANCELED
 * when aborted through *out (may be NULL) or shut down: the version stays
 * unseen.  Returns BRAID_OK, BRAID_EINVAL (rt, rx or cb NULL),
 * BRAID_ESHUTDOWN or BRAID_ENOMEM (cb never runs).  rx must outlive the
 * operation. */
BRAID_API int braid_watch_rx_changed(braid_task **out, braid_runtime *rt, braid_watch_rx *rx, braid_callback cb,
                                     void *user_data);

BRAID_EXTERN_C_END

#endif /* BRAID_WATCH_H */
