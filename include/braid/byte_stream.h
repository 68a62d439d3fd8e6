/* braid — byte streams: the reading and writing that TCP streams, Unix
 * streams and child-process pipes share.  Part of the stable C ABI.
 *
 * A braid_byte_stream is a view of a concrete handle, as libuv's uv_stream_t
 * is of its TCP, pipe and TTY handles:
 *
 *   braid_byte_stream *bs = braid_tcp_stream_as_byte_stream(s);   (tcp.h)
 *   braid_byte_stream *bs = braid_unix_stream_as_byte_stream(s);  (unix_socket.h)
 *   braid_byte_stream *bs = braid_pipe_as_byte_stream(p);         (process.h)
 *
 * The view lives as long as its handle and is never freed itself; the
 * handle is freed with its own function (braid_tcp_stream_free, ...), which
 * ends the view too.  Everything specific to one kind of handle (connect,
 * TCP options, addresses, peek) stays on that handle.
 *
 * The rules of io.h apply: poll functions (any number of waiters), callback
 * operations (at most one read-side and one write-side operation at a time:
 * BRAID_EBUSY), errors mapped to BRAID_E* with braid_last_os_error.
 *
 * Threads: every function may be called from any thread; callbacks run on a
 * worker of the handle's runtime.
 */
#ifndef BRAID_BYTE_STREAM_H
#define BRAID_BYTE_STREAM_H

#include <stddef.h>

#include "export.h"
#include "error.h"
#include "io.h"
#include "task.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_byte_stream braid_byte_stream;

/* ---- poll functions ---------------------------------------------------------- */

/* Reads up to `len` bytes (len > 0; 0 is BRAID_EINVAL, since a read of 0
 * means end of file): 0 with *out_n (0: the other side shut its write side
 * or closed), BRAID_PENDING, or an error (BRAID_ECONNRESET, BRAID_ECLOSED,
 * ...).  Cancel-safe: a poll that returned BRAID_PENDING consumed nothing. */
BRAID_API int braid_byte_stream_poll_read(braid_byte_stream *bs, void *buf, size_t len, braid_wake_fn wake,
                                          void *wake_data, size_t *out_n);
/* Writes up to `len` bytes: 0 with *out_n (may be fewer than len),
 * BRAID_PENDING, or an error (BRAID_EPIPE after the reader went away,
 * BRAID_ECONNRESET, BRAID_ECLOSED).  Never raises SIGPIPE. */
BRAID_API int braid_byte_stream_poll_write(braid_byte_stream *bs, const void *buf, size_t len,
                                           braid_wake_fn wake, void *wake_data, size_t *out_n);

/* One buffer of a vectored write. */
typedef struct braid_io_slice {
    const void *data;
    size_t len;
} braid_io_slice;

/* One buffer of a vectored read. */
typedef struct braid_io_mut_slice {
    void *data;
    size_t len;
} braid_io_mut_slice;

/* The most slices one vectored read or write looks at. */
#define BRAID_IO_SLICES_MAX 64

/* Writes the slices' bytes, in order, with one writev(2) (sendmsg(2) on a
 * socket): 0 with *out_n (the bytes taken: a prefix of the slices'
 * concatenation, maybe shorter), BRAID_PENDING, or an error as
 * braid_byte_stream_poll_write.  Only the first BRAID_IO_SLICES_MAX slices
 * are looked at (the rest is for a later call).  Slices of length 0 are
 * allowed; all of them empty (or count 0): 0 with *out_n = 0.  bufs NULL
 * with count > 0, or a slice with data NULL and len > 0: BRAID_EINVAL.
 * Never raises SIGPIPE. */
BRAID_API int braid_byte_stream_poll_write_vectored(braid_byte_stream *bs, const braid_io_slice *bufs, size_t count,
                                                    braid_wake_fn wake, void *wake_data, size_t *out_n);

/* ---- readiness and attempts that never wait -------------------------------------- */

/* Tokio's ready(Interest) / readable() / writable(): 0 with *out_ready (the
 * bits of io.h's braid_io_ready that are ready, for the directions of
 * `interest`: BRAID_IO_READABLE, BRAID_IO_WRITABLE or both), or
 * BRAID_PENDING after registering the waker, or BRAID_ECLOSED,
 * BRAID_ESHUTDOWN; BRAID_EINVAL for an interest other than 1, 2 or 3 or a
 * NULL out_ready. */
BRAID_API int braid_byte_stream_poll_ready(braid_byte_stream *bs, int interest, braid_wake_fn wake,
                                           void *wake_data, int *out_ready);
/* Tokio's try_read / try_write / try_write_vectored: the syscall once,
 * never waiting: 0 with *out_n as the poll functions above, BRAID_EAGAIN
 * when the stream is not ready (the readiness is forgotten: wait for it
 * with braid_byte_stream_poll_ready), or an error.  No waker is
 * registered, and none of the stream's registrations changes. */
BRAID_API int braid_byte_stream_try_read(braid_byte_stream *bs, void *buf, size_t len, size_t *out_n);
BRAID_API int braid_byte_stream_try_write(braid_byte_stream *bs, const void *buf, size_t len, size_t *out_n);
BRAID_API int braid_byte_stream_try_write_vectored(braid_byte_stream *bs, const braid_io_slice *bufs, size_t count,
                                                   size_t *out_n);
/* Tokio's try_read_vectored: one readv(2) (recvmsg(2) on a socket) that
 * fills the slices in order, never waiting: 0 with *out_n (the bytes read,
 * 0 at end of file), BRAID_EAGAIN, or an error, as braid_byte_stream_try_read.
 * Only the first BRAID_IO_SLICES_MAX slices are filled.  BRAID_EINVAL: bufs
 * NULL with count > 0, a slice with data NULL and len > 0, or no room at all
 * (every slice empty, or count 0: a read of 0 bytes means end of file). */
BRAID_API int braid_byte_stream_try_read_vectored(braid_byte_stream *bs, const braid_io_mut_slice *bufs, size_t count,
                                                  size_t *out_n);

/* ---- callback operations ------------------------------------------------------ */

/* Read some bytes (cb: BRAID_OK and n, 0 at end of file); read exactly `len`
 * (end of file first: BRAID_EEOF, n = what was read); write some; write all
 * (n = what was written before an error).  The buffer must stay alive and
 * untouched until cb runs.  `out` (may be NULL) aborts the operation
 * (cb: BRAID_ECANCELED). */
BRAID_API int braid_byte_stream_read(braid_task **out, braid_byte_stream *bs, void *buf, size_t len,
                                     braid_io_callback cb, void *user_data);
BRAID_API int braid_byte_stream_read_exact(braid_task **out, braid_byte_stream *bs, void *buf, size_t len,
                                           braid_io_callback cb, void *user_data);
BRAID_API int braid_byte_stream_write(braid_task **out, braid_byte_stream *bs, const void *buf, size_t len,
                                      braid_io_callback cb, void *user_data);
BRAID_API int braid_byte_stream_write_all(braid_task **out, braid_byte_stream *bs, const void *buf, size_t len,
                                          braid_io_callback cb, void *user_data);

/* ---- repeating read (libuv's uv_read_start) ------------------------------------ */

/* Called by braid_byte_stream_read_start: with BRAID_OK for each chunk read
 * (`data` is the caller's buffer, n > 0 bytes of it filled), and then exactly
 * once with a final status (data NULL, n 0):
 *   BRAID_EEOF      end of file;
 *   BRAID_ECANCELED stopped: braid_byte_stream_read_stop, braid_task_abort on
 *                   the operation, or the runtime shut down
 *                   (BRAID_ETIMEDOUT: a deadline set on the operation);
 *   BRAID_ECLOSED   the handle was closed or freed;
 *   another code    a read failed (BRAID_ECONNRESET, ...).
 * Every status but BRAID_OK is the last call. */
typedef void (*braid_read_callback)(void *user_data, int status, const void *data, size_t n);

/* Reads into `buf` (len > 0) over and over, calling cb with each chunk,
 * until stopped, end of file or an error.  The buffer rule: the callback
 * must be done with the bytes when it returns (copy what it keeps); the
 * next read reuses the buffer after that.  The buffer (and user_data) must
 * stay alive until the final call.
 *
 * Inside the callback (a chunk or the final call) you may call
 * braid_byte_stream_read_stop (no chunk callback follows, the final call
 * BRAID_ECANCELED comes after this one returns), write to the stream, close
 * or free the handle (the final call is then BRAID_ECLOSED), and free the
 * operation's braid_task*.  After the final call nothing refers to buf,
 * user_data or the handle any more.
 *
 * The operation takes the read side: other callback reads get BRAID_EBUSY
 * until its final call.  `out` (may be NULL) is a join handle of the
 * operation; braid_task_abort on it stops it as read_stop does.  Errors
 * returned here (cb never runs): BRAID_EINVAL, BRAID_ECLOSED, BRAID_EBUSY,
 * BRAID_ESHUTDOWN, BRAID_ENOMEM. */
BRAID_API int braid_byte_stream_read_start(braid_task **out, braid_byte_stream *bs, void *buf, size_t len,
                                           braid_read_callback cb, void *user_data);
/* Stops the repeating read of bs, from any thread or from its callback.
 * From inside the callback no further chunk callback runs; from another
 * thread a chunk callback that has already begun (or is about to) may still
 * run once.  Either way the final call (BRAID_ECANCELED) comes last, so wait
 * for it before freeing buf or user_data.  BRAID_OK also when no repeating
 * read runs; BRAID_EINVAL for NULL. */
BRAID_API int braid_byte_stream_read_stop(braid_byte_stream *bs);

/* ---- the rest ----------------------------------------------------------------- */

/* Shuts the write side (the reader sees end of file); reading goes on.  For
 * a pipe, the write end is closed (braid_byte_stream_close); a read end
 * gives BRAID_EINVAL. */
BRAID_API int braid_byte_stream_shutdown_write(braid_byte_stream *bs);
/* The fd (still owned by the handle), or BRAID_EINVAL. */
BRAID_API int braid_byte_stream_fd(const braid_byte_stream *bs);
/* Closes the handle: later operations fail with BRAID_ECLOSED, waiting ones
 * complete with it; the other side sees end of file (or BRAID_EPIPE).  The
 * handle itself stays until freed.  BRAID_OK also when already closed. */
BRAID_API int braid_byte_stream_close(braid_byte_stream *bs);

BRAID_EXTERN_C_END

#endif /* BRAID_BYTE_STREAM_H */
