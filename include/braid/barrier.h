/* braid — Barrier: n tasks wait until all n have arrived.  Part of the
 * stable C ABI.
 *
 * The n-th arrival releases the n - 1 waiting ones and is told it is the
 * leader (BRAID_BARRIER_LEADER); the barrier is then ready for the next
 * round.  Waiting from a poll function follows the unstable braid_waiter
 * protocol (braid/unstable/waiter.h).  A wait cancelled (or timed out)
 * before the round completes no longer counts as arrived.
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

BRAID_EXTERN_C_BEGIN

typedef struct braid_barrier braid_barrier;

/* Returned to the one arrival that completed a round. */
#define BRAID_BARRIER_LEADER 2

/* A barrier for n tasks (0 counts as 1).  BRAID_OK, BRAID_EINVAL,
 * BRAID_ENOMEM. */
BRAID_API int braid_barrier_new(braid_barrier **out, size_t n);
/* Nobody may be waiting.  NULL ok. */
BRAID_API void braid_barrier_free(braid_barrier *b);

/* Arrives and waits on the calling thread (not a runtime worker:
 * BRAID_EDEADLK).  timeout_ms: BRAID_WAIT_FOREVER, 0 (one attempt) or
 * milliseconds; BRAID_ETIMEDOUT after it (the arrival is withdrawn). */
BRAID_API int braid_barrier_wait_blocking(braid_barrier *b, int64_t timeout_ms);
/* Callback form (docs/c-api.md, "Callback waits"): starts the wait on rt
 * and calls cb(user_data, status) exactly once on one of its workers:
 * BRAID_OK (released, a follower), BRAID_BARRIER_LEADER (this arrival
 * completed the round), or BRAID_ECANCELED when aborted through *out (may be
 * NULL) or shut down before the round completed: it no longer counts as
 * arrived.  Returns BRAID_OK, BRAID_EINVAL (rt, b or cb NULL),
 * BRAID_ESHUTDOWN or BRAID_ENOMEM (cb never runs).  b must outlive the
 * operation. */
BRAID_API int braid_barrier_wait(braid_task **out, braid_runtime *rt, braid_barrier *b, braid_callback cb,
                                 void *user_data);

BRAID_EXTERN_C_END

#endif /* BRAID_BARRIER_H */
