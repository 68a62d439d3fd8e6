/* braid — Barrier: n tasks wait until all n have arrived.  Part of the
 * stable C ABI.
 *
 * The n-th arrival releases the n - 1 waiting ones and is told it is the
 * leader (BRAID_BARRIER_LEADER); the barrier is then ready for the next
 * round.  Waiting follows the braid_waiter protocol (braid/waiter.h).  A wait
 * cancelled before the round completes no longer counts as arrived.
 *
 * Threads: any thread.  Wakers run with the barrier's lock held, on the
 * thread of the last arrival.
 */
#ifndef BRAID_BARRIER_H
#define BRAID_BARRIER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "export.h"
#include "task.h"
#include "waiter.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_barrier braid_barrier;

/* Returned to the one arrival that completed a round. */
#define BRAID_BARRIER_LEADER 2

/* A barrier for n tasks (0 counts as 1).  BRAID_OK, BRAID_EINVAL,
 * BRAID_ENOMEM. */
BRAID_API int braid_barrier_new(braid_barrier **out, size_t n);
/* Nobody may be waiting.  NULL ok. */
BRAID_API void braid_barrier_free(braid_barrier *b);

/* Arrives and waits (braid_waiter protocol): BRAID_OK (released, a
 * follower), BRAID_BARRIER_LEADER (this arrival completed the round),
 * BRAID_PENDING, BRAID_ENOMEM, BRAID_EINVAL.  With `wake` NULL a first poll
 * arrives only if it completes the round (else BRAID_PENDING, not arrived). */
BRAID_API int braid_barrier_poll_wait(braid_barrier *b, braid_waiter **w, braid_wake_fn wake, void *wake_data);
/* Cancels a wait: not released yet, it no longer counts as arrived.  NULL ok. */
BRAID_API void braid_barrier_cancel_wait(braid_barrier *b, braid_waiter **w);
/* Removes the waker and keeps the wait in its place (braid/waiter.h).  NULL ok. */
BRAID_API void braid_barrier_unregister_wait(braid_barrier *b, braid_waiter **w);
/* Arrives and waits on the calling thread (not a runtime worker:
 * BRAID_EDEADLK).  timeout_ms 0: no limit; BRAID_ETIMEDOUT after it (the
 * arrival is withdrawn). */
BRAID_API int braid_barrier_wait_blocking(braid_barrier *b, int64_t timeout_ms);

BRAID_EXTERN_C_END

#endif /* BRAID_BARRIER_H */
