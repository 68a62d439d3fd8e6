/* braid — what every I/O object of the C ABI shares.  Part of the stable C ABI.
 *
 * Sockets (tcp.h, udp.h, unix_socket.h), pipes (process.h) and files (fs.h)
 * are opaque handles with two kinds of operation:
 *
 *  - poll functions (braid_<object>_poll_<verb>), for futures written in C
 *    and for the C++ layer: they make the non-blocking syscall at once and
 *    return 0 with the result, BRAID_PENDING after registering the waker,
 *    or a negative code.  NULL waker: see docs/c-api.md; called with a NULL
 *    waker they remove the registration made with `wake_data`, and a NULL
 *    wake_data too removes every registration of that direction.
 *
 *    Several pollers at once: any number of tasks may wait on one direction
 *    of a handle (two accepts on one listener, two receives on one UDP
 *    socket, a reader and a writer).  Registrations are keyed by wake_data:
 *    polling again with the same wake_data replaces that registration's
 *    waker, a different wake_data adds a registration.  A readiness event
 *    wakes every waiter registered for its direction, once; each polls again
 *    (retrying its syscall), one gets the connection, datagram or bytes, and
 *    the others get BRAID_PENDING and wait again (Tokio's semantics).  A
 *    waiter that gives up must remove its registration (NULL waker, its
 *    wake_data) before its wake_data becomes invalid; after that call its
 *    waker is not running and is never called.  The first waiter of a handle
 *    costs no allocation; a further one may fail with BRAID_ENOMEM.
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

/* Readiness (Tokio's Interest and Ready).  The interest of a poll_ready
 * function is BRAID_IO_READABLE, BRAID_IO_WRITABLE or both (the same values
 * as fd.h's BRAID_READABLE and BRAID_WRITABLE); what it reports is those
 * bits that are ready, plus BRAID_IO_READ_CLOSED (the peer shut its write
 * side or the socket failed: a read will not wait) and BRAID_IO_WRITE_CLOSED
 * (the peer is gone or the socket failed: a write will not wait) for the
 * directions asked.  Readiness is what the reactor last saw, not a promise:
 * the attempt after it (braid_byte_stream_try_read, braid_udp_try_recv_from,
 * ...) may still give BRAID_EAGAIN, which forgets that readiness, and the
 * caller waits for it again.  Readiness of a fresh handle is assumed (the
 * first attempt finds out). */
enum braid_io_ready {
    BRAID_IO_READABLE = 1,
    BRAID_IO_WRITABLE = 2,
    BRAID_IO_READ_CLOSED = 4,
    BRAID_IO_WRITE_CLOSED = 8
};

/* The errno behind the last I/O error that a braid function returned (or
 * passed to a callback) on the calling thread; 0 if none.  Read it right
 * after the call, or inside the callback. */
BRAID_API int braid_last_os_error(void);

BRAID_EXTERN_C_END

#endif /* BRAID_IO_H */
