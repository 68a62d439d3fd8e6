/* braid — mpsc channels: many senders, one receiver.  Part of the stable C
 * ABI.  Element types: see braid/elem.h.
 *
 * Bounded channels (braid_mpsc_new) hold at most `capacity` values: a
 * send waits for room, in FIFO order with the other waiting senders.
 * Unbounded channels (braid_mpsc_new_unbounded) never make a sender
 * wait.  Values are moved into the channel's own storage: no allocation per
 * message.  The receiver gets the values in the order they were sent (per
 * sender), BRAID_ECLOSED once every sender is gone (or the receiver closed
 * the channel) and nothing is left.
 *
 * A send whose receiver is gone (or closed) fails with BRAID_ECLOSED and
 * leaves the value in the caller's buffer: it is the caller's again.
 *
 * The single receiver registers one waker (replaced by each poll).  Senders
 * wait for room with braid_mpsc_send_blocking here, and from poll functions
 * through the unstable braid_waiter protocol (braid/unstable/waiter.h).
 *
 * Handles: braid_mpsc_tx (a sender; clone it for more senders),
 * braid_mpsc_weak_tx (does not keep the channel open; upgrade it to send),
 * braid_mpsc_rx (the receiver).  Each handle is freed exactly once.  Every
 * handle may be used from any thread; the receiver from one thread at a time.
 * Wakers run with the channel's lock held, on the thread that sends
 * (receiver), receives (senders waiting for room), or drops/closes the
 * other side.
 */
#ifndef BRAID_MPSC_H
#define BRAID_MPSC_H

#include <stddef.h>
#include <stdint.h>

#include "elem.h"
#include "error.h"
#include "export.h"
#include "task.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_mpsc_tx braid_mpsc_tx;
typedef struct braid_mpsc_weak_tx braid_mpsc_weak_tx;
typedef struct braid_mpsc_rx braid_mpsc_rx;

/* ---- creating ------------------------------------------------------------- */

/* A bounded channel of `capacity` (1 .. 2^61-1) elements of `elem_size`
 * bytes (0..1 MiB) aligned to `elem_align` (a power of two up to 4096);
 * relocate/drop may be NULL (plain bytes).  BRAID_OK, BRAID_EINVAL
 * (capacity 0 or above 2^61-1, bad size or alignment, NULL out),
 * BRAID_ENOMEM.
 *
 * Memory: a channel whose slots take at most 4 MiB (capacity rounded up to
 * a power of two, times the element size rounded up to its alignment plus 8
 * bytes) allocates them all here and never allocates again.  A larger
 * capacity (a huge one used as "effectively unbounded" included) allocates
 * nothing for it up front: values are kept in blocks allocated as they
 * arrive and recycled, as in an unbounded channel, so memory follows what
 * is buffered; a send can then fail with BRAID_ENOMEM. */
BRAID_API int braid_mpsc_new(braid_mpsc_tx **out_tx, braid_mpsc_rx **out_rx, size_t capacity,
                             size_t elem_size, size_t elem_align, braid_relocate_fn relocate,
                             braid_drop_fn drop);
/* An unbounded channel.  BRAID_OK, BRAID_EINVAL, BRAID_ENOMEM. */
BRAID_API int braid_mpsc_new_unbounded(braid_mpsc_tx **out_tx, braid_mpsc_rx **out_rx, size_t elem_size,
                                       size_t elem_align, braid_relocate_fn relocate, braid_drop_fn drop);

/* ---- senders ---------------------------------------------------------------- */

/* Another sender for the same channel.  BRAID_OK or BRAID_EINVAL. */
BRAID_API int braid_mpsc_tx_clone(braid_mpsc_tx **out, braid_mpsc_tx *tx);
/* Drops a sender; when the last one goes the receiver ends after draining.
 * Slots it reserved and did not use must be released first.  NULL ok. */
BRAID_API void braid_mpsc_tx_free(braid_mpsc_tx *tx);
/* A weak sender: keeps the memory, not the channel, alive.  BRAID_OK or
 * BRAID_EINVAL. */
BRAID_API int braid_mpsc_tx_downgrade(braid_mpsc_weak_tx **out, braid_mpsc_tx *tx);
/* A sender from a weak one: BRAID_OK, or BRAID_ECLOSED when no sender is left
 * (*out NULL), BRAID_EINVAL. */
BRAID_API int braid_mpsc_weak_tx_upgrade(braid_mpsc_tx **out, braid_mpsc_weak_tx *weak);
BRAID_API int braid_mpsc_weak_tx_clone(braid_mpsc_weak_tx **out, braid_mpsc_weak_tx *weak);
BRAID_API void braid_mpsc_weak_tx_free(braid_mpsc_weak_tx *weak);

/* Sends if there is room now: BRAID_OK (the value was moved in),
 * BRAID_EAGAIN (full), BRAID_ECLOSED (receiver closed or gone), BRAID_EINVAL
 * (NULL, value_size not the element size), BRAID_ENOMEM.  On any error the
 * value is left at `value`. */
BRAID_API int braid_mpsc_try_send(braid_mpsc_tx *tx, void *value, size_t value_size);
/* Sends from the calling thread (not a runtime worker: BRAID_EDEADLK),
 * waiting for room.  timeout_ms: BRAID_WAIT_FOREVER, 0 (one attempt) or
 * milliseconds; BRAID_ETIMEDOUT after it (not sent; value left). */
BRAID_API int braid_mpsc_send_blocking(braid_mpsc_tx *tx, void *value, size_t value_size, int64_t timeout_ms);
/* Callback form (docs/c-api.md, "Callback waits"): starts the wait on rt
 * and calls cb(user_data, status) exactly once on one of its workers,
 * waiting for room: BRAID_OK (the value was moved in), BRAID_ECLOSED, or
 * BRAID_ECANCELED when aborted through *out (may be NULL) or shut down; on
 * anything but BRAID_OK the value stays at `value`, the caller's (room
 * granted to the wait goes to the next sender).  `value` must stay valid
 * until cb.  Returns BRAID_OK, BRAID_EINVAL (NULL, value_size not the
 * element size), BRAID_ESHUTDOWN or BRAID_ENOMEM (cb never runs). */
BRAID_API int braid_mpsc_send(braid_task **out, braid_runtime *rt, braid_mpsc_tx *tx, void *value,
                              size_t value_size, braid_callback cb, void *user_data);

/* Reserves n slots (bounded channels; BRAID_ENOTSUP on unbounded ones) that
 * the caller then fills with braid_mpsc_send_reserved (which never waits) or
 * gives back with braid_mpsc_release_reserved.  BRAID_OK, BRAID_EAGAIN,
 * BRAID_ECLOSED, BRAID_ERANGE (n above the capacity).
 *
 * The channel counts the slots reserved through all its senders together
 * (it cannot tell one sender handle from another): filling or giving back
 * more slots than are reserved is refused with BRAID_EINVAL and changes
 * nothing, so a misused release never adds room that a value occupies. */
BRAID_API int braid_mpsc_try_reserve(braid_mpsc_tx *tx, size_t n);
/* Fills one reserved slot: BRAID_OK, or BRAID_ECLOSED when the receiver is
 * gone, or BRAID_ENOMEM (a channel of a capacity too large for its own
 * ring could not get a block) - the value is left at `value` and the slot
 * is used up either way.  Still works after the receiver called
 * braid_mpsc_rx_close.  BRAID_EINVAL: NULL, a wrong size, or no slot is
 * reserved (the channel counts the slots reserved through all its senders
 * together) - nothing happens, the value stays at `value`; BRAID_ENOTSUP on
 * an unbounded channel. */
BRAID_API int braid_mpsc_send_reserved(braid_mpsc_tx *tx, void *value, size_t value_size);
/* Gives back n reserved slots unused: BRAID_OK (n 0 included), BRAID_EINVAL
 * (tx NULL, or fewer than n slots are reserved: nothing is given back),
 * BRAID_ENOTSUP (an unbounded channel). */
BRAID_API int braid_mpsc_release_reserved(braid_mpsc_tx *tx, size_t n);

/* 1 when the receiver is closed or gone, 0 when not, BRAID_EINVAL. */
BRAID_API int braid_mpsc_tx_is_closed(braid_mpsc_tx *tx);
/* Free slots now (SIZE_MAX for an unbounded channel; 0 for NULL). */
BRAID_API size_t braid_mpsc_tx_capacity(braid_mpsc_tx *tx);
/* The capacity the channel was created with (SIZE_MAX unbounded). */
BRAID_API size_t braid_mpsc_tx_max_capacity(braid_mpsc_tx *tx);
/* Senders and weak senders alive now. */
BRAID_API size_t braid_mpsc_tx_strong_count(braid_mpsc_tx *tx);
BRAID_API size_t braid_mpsc_tx_weak_count(braid_mpsc_tx *tx);

/* ---- the receiver ----------------------------------------------------------- */

/* Receives into `out` (out_size = the element size): BRAID_OK (moved to
 * out), BRAID_ECLOSED (every sender gone, or closed, and nothing left),
 * BRAID_PENDING after registering the waker (replacing the previous one;
 * NULL waker: see docs/c-api.md). */
BRAID_API int braid_mpsc_poll_recv(braid_mpsc_rx *rx, void *out, size_t out_size, braid_wake_fn wake,
                                   void *wake_data);
/* BRAID_OK, BRAID_EAGAIN (empty now), BRAID_ECLOSED. */
BRAID_API int braid_mpsc_try_recv(braid_mpsc_rx *rx, void *out, size_t out_size);
/* Receives up to `limit` (>= 1) values into the array `out` of elements of
 * elem_size bytes: BRAID_OK with *out_count >= 1, else as
 * braid_mpsc_poll_recv with *out_count 0. */
BRAID_API int braid_mpsc_poll_recv_many(braid_mpsc_rx *rx, void *out, size_t elem_size, size_t limit,
                                        size_t *out_count, braid_wake_fn wake, void *wake_data);
/* Without waiting: as braid_mpsc_poll_recv_many, BRAID_EAGAIN (with
 * *out_count 0) when empty now. */
BRAID_API int braid_mpsc_try_recv_many(braid_mpsc_rx *rx, void *out, size_t elem_size, size_t limit,
                                       size_t *out_count);
/* Removes the receiver's waker.  After it returns the waker is not running
 * and will not be called. */
BRAID_API int braid_mpsc_recv_unregister(braid_mpsc_rx *rx);
/* Receives on the calling thread (not a runtime worker: BRAID_EDEADLK).
 * timeout_ms: BRAID_WAIT_FOREVER, 0 (one attempt) or milliseconds;
 * BRAID_ETIMEDOUT after it (nothing received). */
BRAID_API int braid_mpsc_recv_blocking(braid_mpsc_rx *rx, void *out, size_t out_size, int64_t timeout_ms);
/* Callback form (docs/c-api.md, "Callback waits"): starts the wait on rt
 * and calls cb(user_data, status) exactly once on one of its workers:
 * BRAID_OK (the value was moved into `buf`, which must stay valid until cb),
 * BRAID_ECLOSED (every sender gone, or closed, and nothing left), or
 * BRAID_ECANCELED when aborted through *out (may be NULL) or shut down:
 * nothing was taken (the next receive gets the value).  One receive at a
 * time per receiver, as for braid_mpsc_poll_recv.  Returns BRAID_OK,
 * BRAID_EINVAL (NULL, buf_size not the element size), BRAID_ESHUTDOWN or
 * BRAID_ENOMEM (cb never runs). */
BRAID_API int braid_mpsc_recv(braid_task **out, braid_runtime *rt, braid_mpsc_rx *rx, void *buf, size_t buf_size,
                              braid_callback cb, void *user_data);
/* Closes the channel: sends fail from now on (waiting ones with
 * BRAID_ECLOSED), closed() waits complete; values already sent, and slots
 * already reserved, can still be received.  NULL ok. */
BRAID_API void braid_mpsc_rx_close(braid_mpsc_rx *rx);
/* Drops the receiver: values not received are destroyed; sends fail.  NULL ok. */
BRAID_API void braid_mpsc_rx_free(braid_mpsc_rx *rx);
/* Values waiting now (0 for NULL). */
BRAID_API size_t braid_mpsc_rx_len(braid_mpsc_rx *rx);
/* 1 when closed or every sender is gone, 0 when not, BRAID_EINVAL. */
BRAID_API int braid_mpsc_rx_is_closed(braid_mpsc_rx *rx);

BRAID_EXTERN_C_END

#endif /* BRAID_MPSC_H */
