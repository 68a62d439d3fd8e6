/* braid — Unix signals.  Part of the stable C ABI.
 *
 * A listener hears every delivery of one signal number from the moment
 * braid_signal_new returns (deliveries are counted, none is lost between two
 * waits); several listeners of one signal all hear it.
 *
 * Once a signal has been listened for, braid's handler for it stays
 * installed for the life of the process, as Tokio's does: when the last
 * listener is freed, or its runtime is dropped, deliveries nobody listens to
 * are dropped, and the signal's default action (terminating the process, for
 * SIGINT, SIGTERM, SIGHUP, SIGUSR1 ...) does not come back.  A program that
 * wants Ctrl-C to kill it again must install SIG_DFL itself.  (braid keeps a
 * never-run libuv loop for this: a few file descriptors, once per process.)
 * Children started by braid's process functions get default dispositions.
 */
#ifndef BRAID_SIGNAL_H
#define BRAID_SIGNAL_H

#include "error.h"
#include "export.h"
#include "runtime.h"
#include "task.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_signal braid_signal;

/* Starts listening for `signum` on rt's reactor (rt NULL: the calling
 * thread's runtime).  BRAID_EINVAL for a signal that cannot be watched (0,
 * out of range, SIGKILL, SIGSTOP). */
BRAID_API int braid_signal_new(braid_signal **out, braid_runtime *rt, int signum);
/* 0: one delivery was taken; BRAID_PENDING after registering the waker
 * (NULL waker: see docs/c-api.md); BRAID_ECANCELED once the runtime shut
 * down. */
BRAID_API int braid_signal_poll_recv(braid_signal *s, braid_wake_fn wake, void *wake_data);
/* Removes the waker registered by braid_signal_poll_recv. */
BRAID_API int braid_signal_unregister(braid_signal *s);
/* Stops listening.  NULL ok. */
BRAID_API void braid_signal_free(braid_signal *s);

/* Calls cb(user_data, BRAID_OK) on a worker at the next delivery of `signum`
 * (listening starts before this returns), or cb(user_data, BRAID_ECANCELED)
 * when aborted through `out` (may be NULL) or at shutdown.  Exactly once. */
BRAID_API int braid_signal_wait(braid_task **out, braid_runtime *rt, int signum, braid_callback cb,
                                void *user_data);

BRAID_EXTERN_C_END

#endif /* BRAID_SIGNAL_H */
