/* braid — what every I/O object of the C ABI shares.  Part of the stable C ABI.
 *
 * Sockets (tcp.h, udp.h, unix_socket.h), pipes (process.h) and files (fs.h)
 * are opaque handles with two kinds of operation:
 *
 *  - poll functions (braid_<object>_poll_<verb>), for futures written in C
 *    and for the C++ layer: they make the non-blocking syscall at once and
 *    return 0 with the result, BRAID_PENDING after registering the waker
 *    (one per direction: a reader and a writer may wait at the same time,
 *    from different tasks), or a negative code.  Called with a NULL waker
 *    they remove that direction's registration (and return BRAID_PENDING).
 *  - callback operations (braid_<object>_<verb>), libuv style: the buffer
 *    must stay alive and untouched until the callback runs; the callback runs
 *    exactly once on a worker, with BRAID_ECANCELED when the operation is
 *    aborted through its braid_task (or the runtime shuts down) and
 *    BRAID_ECLOSED when the handle is closed or freed under it.  At most one
 *    read-side and one write-side operation per handle at a time
 *    (BRAID_EBUSY otherwise).
 *
 * Errors of the operating system are mapped to BRAID_E* codes (ECONNREFUSED,
 * ENOENT, ...; see docs/c-api.md); the errno itself is kept for the thread
 * that saw it (braid_last_os_error).  No function leaks a file descriptor on
 * an error path.
 */
#ifndef BRAID_IO_H
#define BRAID_IO_H

#include <stddef.h>

#include "export.h"
#include "error.h"

BRAID_EXTERN_C_BEGIN

/* Completion of a read or write: `status` is BRAID_OK (n bytes moved; a read
 * of 0 bytes is end of file) or a negative code (n: what was moved before
 * the error, for the _exact/_all forms). */
typedef void (*braid_io_callback)(void *user_data, int status, size_t n);

/* The errno behind the last I/O error that a braid function returned (or
 * passed to a callback) on the calling thread; 0 if none.  Read it right
 * after the call, or inside the callback. */
BRAID_API int braid_last_os_error(void);

BRAID_EXTERN_C_END

#endif /* BRAID_IO_H */
