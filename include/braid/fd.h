/* braid — readiness of foreign file descriptors.  Part of the stable C ABI.
 *
 * Registers a file descriptor the caller owns (a pipe, an eventfd, a socket,
 * set O_NONBLOCK yourself) with the runtime's reactor.  The pattern is the
 * one Tokio's AsyncFd uses: try the non-blocking syscall; on EAGAIN clear the
 * readiness you observed and wait for it again.  braid never closes the fd.
 */
#ifndef BRAID_FD_H
#define BRAID_FD_H

#include "export.h"
#include "error.h"
#include "runtime.h"
#include "task.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_fd braid_fd;

enum braid_interest {
    BRAID_READABLE = 1,
    BRAID_WRITABLE = 2
};

/* Registers `fd` (>= 0) with rt's reactor (rt NULL: the calling thread's
 * runtime).  BRAID_EBADF when the fd cannot be watched (closed, or a regular
 * file, which epoll refuses); BRAID_EBUSY when the fd is registered with this
 * runtime already (one braid_fd per fd per runtime, as epoll allows; a
 * braid_fd_wait in progress counts). */
BRAID_API int braid_fd_new(braid_fd **out, braid_runtime *rt, int fd);
/* 0 when some bits of `interest` are ready (*out_ready, if not NULL, gets
 * them), or BRAID_PENDING after registering the waker for them.  Several
 * tasks may wait at once, keyed by wake_data as io.h describes: an event
 * wakes every waiter of its direction, and the next poll of each woken
 * wake_data reports that readiness even if another waiter cleared it in the
 * meantime (Tokio's AsyncFd).  NULL waker: see docs/c-api.md (the
 * registration of wake_data for `interest` is removed; wake_data NULL:
 * every registration; *out_ready is 0).  BRAID_ECANCELED
 * after shutdown, BRAID_ENOMEM when a further waiter cannot be recorded. */
BRAID_API int braid_fd_poll_ready(braid_fd *f, int interest, braid_wake_fn wake, void *wake_data,
                                  int *out_ready);
/* Forgets readiness bits after the syscall returned EAGAIN. */
BRAID_API int braid_fd_clear_ready(braid_fd *f, int interest);
/* The registered fd, or BRAID_EINVAL. */
BRAID_API int braid_fd_get(const braid_fd *f);
/* Unregisters and frees; does not close the fd.  When it returns no waker is
 * running or will run, and the reactor no longer watches the fd, so the
 * caller may close it.  May wait briefly for the reactor thread. */
BRAID_API void braid_fd_free(braid_fd *f);

/* braid_fd_wait's callback: `status` is BRAID_OK with the ready bits
 * (BRAID_READABLE | BRAID_WRITABLE) in `ready`, or a negative code with
 * `ready` 0.  The status never carries the bits (BRAID_READABLE is 1, as
 * BRAID_PENDING is). */
typedef void (*braid_fd_ready_callback)(void *user_data, int status, int ready);

/* Callback style: calls cb(user_data, BRAID_OK, ready_bits) on a worker
 * when `fd` becomes ready for any bit of `interest`, or cb(user_data,
 * BRAID_ECANCELED, 0) if aborted through `out` (which may be NULL) or shut
 * down.  Returns BRAID_OK (the callback runs exactly once), BRAID_EBADF (the
 * fd cannot be watched), BRAID_EBUSY (the fd is registered already),
 * BRAID_EINVAL, BRAID_ESHUTDOWN or BRAID_ENOMEM (it never runs). */
BRAID_API int braid_fd_wait(braid_task **out, braid_runtime *rt, int fd, int interest,
                            braid_fd_ready_callback cb, void *user_data);

BRAID_EXTERN_C_END

#endif /* BRAID_FD_H */
