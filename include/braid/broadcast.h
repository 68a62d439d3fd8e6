/* braid — broadcast channels: many senders, many receivers; every value
 * goes to every receiver.  Part of the stable C ABI.  Element types: see
 * braid/elem.h; broadcast also needs a clone function.
 *
 * A channel keeps the last `capacity` values.  Each receiver has its own
 * position and receives every value sent while it was subscribed, in order.
 * A receiver that falls more than `capacity` values behind is told how many
 * it missed (BRAID_BROADCAST_LAGGED) and continues with the oldest value
 * still kept.  Receivers get copies (the clone function); the last receiver
 * of a value gets the value itself (relocate).  Once every sender is gone,
 * receivers drain what is left and then get BRAID_ECLOSED.
 *
 * Sending never waits.  Receivers wait with braid_broadcast_recv_blocking
 * here, and from poll functions through the unstable braid_waiter protocol
 * (braid/unstable/waiter.h).  Handles may be used from any thread (a receiver from one
 * thread at a time).  Wakers run with the channel's lock held, on the thread
 * that sends or drops the last sender.
 */
#ifndef BRAID_BROADCAST_H
#define BRAID_BROADCAST_H

#include <stddef.h>
#include <stdint.h>

#include "elem.h"
#include "error.h"
#include "export.h"
#include "task.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_broadcast_tx braid_broadcast_tx;
typedef struct braid_broadcast_rx braid_broadcast_rx;

/* Copies the value at `src` into the uninitialised storage at `dst`.
 * Returns 0, or non-zero when it failed (then nothing was constructed at
 * dst, and the receive fails with BRAID_EPANIC without consuming anything).
 * NULL: memcpy of the element size (plain bytes only). */
typedef int (*braid_clone_fn)(void *dst, const void *src);

/* Returned by receives when the receiver missed values (*out_lagged says
 * how many); the next receive continues at the oldest value kept. */
#define BRAID_BROADCAST_LAGGED 2

/* A channel keeping `capacity` (>= 1, up to SIZE_MAX) values of `elem_size`
 * bytes (0..1 MiB) aligned to `elem_align`; relocate/clone/drop may be NULL
 * (plain bytes).  One sender, no receiver yet (braid_broadcast_subscribe).
 * BRAID_OK, BRAID_EINVAL (capacity 0, bad size/alignment), BRAID_ENOMEM.
 *
 * Memory: room for min(capacity, 16) values is allocated here; the channel
 * grows (doubling, up to `capacity`) only when a send would otherwise
 * overwrite a value some receiver has not read yet.  Memory follows what
 * receivers still have to read, so a huge capacity ("effectively
 * unbounded") costs nothing up front; a send that needs to grow and cannot
 * fails with BRAID_ENOMEM. */
BRAID_API int braid_broadcast_new(braid_broadcast_tx **out, size_t capacity, size_t elem_size, size_t elem_align,
                                  braid_relocate_fn relocate, braid_clone_fn clone, braid_drop_fn drop);
/* Another sender.  BRAID_OK, BRAID_EINVAL. */
BRAID_API int braid_broadcast_tx_clone(braid_broadcast_tx **out, braid_broadcast_tx *tx);
/* Drops a sender; after the last one receivers end once drained.  NULL ok. */
BRAID_API void braid_broadcast_tx_free(braid_broadcast_tx *tx);
/* Sends to every current receiver: BRAID_OK (*out_receivers, if not NULL,
 * gets their number), BRAID_ECLOSED (no receiver: the value is left at
 * `value`), BRAID_ENOMEM (the channel had to grow and could not: the value
 * is left at `value`), BRAID_EINVAL.  Never waits: the oldest value is
 * dropped when the channel holds `capacity` values. */
BRAID_API int braid_broadcast_send(braid_broadcast_tx *tx, void *value, size_t value_size, size_t *out_receivers);
/* Receivers now (0 for NULL). */
BRAID_API size_t braid_broadcast_receiver_count(braid_broadcast_tx *tx);
/* Values queued: sent and still to be received by at least one receiver
 * that was there when it was sent (a value pushed out by newer ones is no
 * longer queued).  0 for NULL. */
BRAID_API size_t braid_broadcast_tx_len(braid_broadcast_tx *tx);
/* A new receiver that gets the values sent from now on.  BRAID_OK,
 * BRAID_EINVAL, BRAID_ENOMEM. */
BRAID_API int braid_broadcast_subscribe(braid_broadcast_rx **out, braid_broadcast_tx *tx);

/* A new receiver of the same channel, starting at the values sent from now
 * on (not at rx's position).  BRAID_OK, BRAID_EINVAL, BRAID_ENOMEM. */
BRAID_API int braid_broadcast_rx_resubscribe(braid_broadcast_rx **out, braid_broadcast_rx *rx);
/* Drops a receiver (values only it still had to read are destroyed).  NULL ok. */
BRAID_API void braid_broadcast_rx_free(braid_broadcast_rx *rx);
/* Receives into `out` (out_size = the element size) without waiting:
 * BRAID_OK, BRAID_BROADCAST_LAGGED (*out_lagged = values missed; nothing in
 * out), BRAID_ECLOSED (every sender gone, nothing left), BRAID_EAGAIN (empty
 * now), BRAID_EPANIC (the clone function failed; nothing consumed),
 * BRAID_ENOMEM, BRAID_EINVAL.  out_lagged may be NULL. */
BRAID_API int braid_broadcast_try_recv(braid_broadcast_rx *rx, void *out, size_t out_size, uint64_t *out_lagged);
/* Receives on the calling thread (not a runtime worker: BRAID_EDEADLK).
 * timeout_ms: BRAID_WAIT_FOREVER, 0 (one attempt) or milliseconds;
 * BRAID_ETIMEDOUT after it (nothing consumed). */
BRAID_API int braid_broadcast_recv_blocking(braid_broadcast_rx *rx, void *out, size_t out_size,
                                            uint64_t *out_lagged, int64_t timeout_ms);
/* Callback form (docs/c-api.md, "Callback waits"): starts the wait on rt
 * and calls cb(user_data, status) exactly once on one of its workers:
 * BRAID_OK (the value was cloned into `buf`), BRAID_BROADCAST_LAGGED
 * (*out_lagged = values missed, nothing in buf; receive again for the oldest
 * one kept), BRAID_ECLOSED, BRAID_EPANIC (the clone function failed), or
 * BRAID_ECANCELED when aborted through *out (may be NULL) or shut down:
 * nothing was consumed.  buf and out_lagged (may be NULL) must stay valid
 * until cb.  Returns BRAID_OK, BRAID_EINVAL (NULL, buf_size not the element
 * size), BRAID_ESHUTDOWN or BRAID_ENOMEM (cb never runs). */
BRAID_API int braid_broadcast_recv(braid_task **out, braid_runtime *rt, braid_broadcast_rx *rx, void *buf,
                                   size_t buf_size, uint64_t *out_lagged, braid_callback cb, void *user_data);
/* Values this receiver has not received yet and the channel still keeps. */
BRAID_API size_t braid_broadcast_rx_len(braid_broadcast_rx *rx);

BRAID_EXTERN_C_END

#endif /* BRAID_BROADCAST_H */
