/* braid — oneshot channels: one value, from one sender to one receiver.
 * Part of the stable C ABI.  Element types: see braid/elem.h.
 *
 * Threads: the sender and the receiver may each be used from any thread
 * (one thread at a time per handle).  Wakers are called with the channel's
 * lock held, from the thread that sends or drops the other side.
 */
#ifndef BRAID_ONESHOT_H
#define BRAID_ONESHOT_H

#include <stddef.h>
#include <stdint.h>

#include "elem.h"
#include "error.h"
#include "export.h"
#include "task.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_oneshot_tx braid_oneshot_tx;
typedef struct braid_oneshot_rx braid_oneshot_rx;

/* Creates a channel for elements of `elem_size` bytes (0..1 MiB) aligned to
 * `elem_align` (a power of two up to 4096).  relocate/drop may be NULL (plain
 * bytes).  One allocation.  BRAID_OK, BRAID_EINVAL, BRAID_ENOMEM. */
BRAID_API int braid_oneshot_new(braid_oneshot_tx **out_tx, braid_oneshot_rx **out_rx, size_t elem_size,
                                size_t elem_align, braid_relocate_fn relocate, braid_drop_fn drop);

/* Sends the value at `value` (`value_size` must equal the element size).
 * BRAID_OK: the value was moved into the channel.  BRAID_ECLOSED: the
 * receiver is gone; the value is left untouched at `value` (yours again).
 * Both consume the sender (do not free it).  BRAID_EINVAL (NULL, wrong size):
 * nothing happened, the sender is still yours. */
BRAID_API int braid_oneshot_send(braid_oneshot_tx *tx, void *value, size_t value_size);
/* Drops the sender without sending: the receiver gets BRAID_ECLOSED.  NULL ok. */
BRAID_API void braid_oneshot_tx_free(braid_oneshot_tx *tx);
/* 0 once the receiver is gone, else BRAID_PENDING after registering the
 * waker (NULL waker: see docs/c-api.md). */
BRAID_API int braid_oneshot_tx_poll_closed(braid_oneshot_tx *tx, braid_wake_fn wake, void *wake_data);
/* 1 once the receiver is gone, 0 while it is there, BRAID_EINVAL.  Touches
 * no waker (a closed() waiting elsewhere stays registered). */
BRAID_API int braid_oneshot_tx_is_closed(braid_oneshot_tx *tx);

/* Receives into `out` (`out_size` must equal the element size): 0 when the
 * value was moved to `out`; BRAID_ECLOSED when the sender was dropped
 * without sending (or the value was already received); BRAID_PENDING after
 * registering the waker (NULL waker: see docs/c-api.md). */
BRAID_API int braid_oneshot_poll_recv(braid_oneshot_rx *rx, braid_wake_fn wake, void *wake_data, void *out,
                                      size_t out_size);
/* Without waiting: as braid_oneshot_poll_recv, BRAID_EAGAIN when nothing
 * was sent yet (nothing registered or removed). */
BRAID_API int braid_oneshot_try_recv(braid_oneshot_rx *rx, void *out, size_t out_size);
/* Removes the waker registered by braid_oneshot_poll_recv. */
BRAID_API int braid_oneshot_recv_unregister(braid_oneshot_rx *rx);
/* Waits on the calling thread (not a runtime worker: BRAID_EDEADLK) for the
 * value.  timeout_ms: BRAID_WAIT_FOREVER, 0 (one attempt) or milliseconds;
 * BRAID_ETIMEDOUT after it (nothing lost). */
BRAID_API int braid_oneshot_recv_blocking(braid_oneshot_rx *rx, void *out, size_t out_size, int64_t timeout_ms);
/* Callback form (docs/c-api.md, "Callback waits"): starts the wait on rt
 * and calls cb(user_data, status) exactly once on one of its workers:
 * BRAID_OK (the value was moved into `buf`, which must stay valid until cb),
 * BRAID_ECLOSED (the sender was dropped without sending), or BRAID_ECANCELED
 * when aborted through *out (may be NULL) or shut down: the value, if sent,
 * stays in the channel.  One receive at a time.  Returns BRAID_OK,
 * BRAID_EINVAL (NULL, buf_size not the element size), BRAID_ESHUTDOWN or
 * BRAID_ENOMEM (cb never runs). */
BRAID_API int braid_oneshot_recv(braid_task **out, braid_runtime *rt, braid_oneshot_rx *rx, void *buf,
                                 size_t buf_size, braid_callback cb, void *user_data);
/* Closes the channel from the receiving side without dropping the receiver
 * (Tokio's Receiver::close): from now on the sender sees it closed (its
 * send gives BRAID_ECLOSED and leaves the value with the caller, its
 * closed() wait completes, is_closed is 1); a value sent before stays
 * receivable with braid_oneshot_try_recv or a receive, which give
 * BRAID_ECLOSED when there is none.  Idempotent.  BRAID_OK, BRAID_EINVAL. */
BRAID_API int braid_oneshot_rx_close(braid_oneshot_rx *rx);
/* Drops the receiver; a value sent and not received is destroyed.  NULL ok. */
BRAID_API void braid_oneshot_rx_free(braid_oneshot_rx *rx);

BRAID_EXTERN_C_END

#endif /* BRAID_ONESHOT_H */
