/* braid — Unix domain sockets: stream listeners, streams and datagram
 * sockets.  Part of the stable C ABI.
 *
 * Paths are NUL-terminated; a path starting with '@' names a socket in
 * Linux's abstract namespace (no file).  Binding to a path whose file exists
 * fails with BRAID_EADDRINUSE (braid does not unlink it: remove stale socket
 * files yourself).  The rules of io.h apply: poll functions (any number of
 * waiters per handle) and callback operations (one reader and one writer per
 * handle at a time).
 */
#ifndef BRAID_UNIX_SOCKET_H
#define BRAID_UNIX_SOCKET_H

#include <stddef.h>

#include "byte_stream.h"
#include "export.h"
#include "error.h"
#include "io.h"
#include "net.h"
#include "runtime.h"
#include "task.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_unix_listener braid_unix_listener;
typedef struct braid_unix_stream braid_unix_stream;
typedef struct braid_unix_datagram braid_unix_datagram;

/* Completion of connect and accept: a new stream the callee owns on
 * BRAID_OK, NULL otherwise. */
typedef void (*braid_unix_stream_callback)(void *user_data, int status, braid_unix_stream *stream);

/* ---- listener ------------------------------------------------------------- */

/* Binds a listening stream socket to `path` with `backlog` (<= 0: 1024).
 * BRAID_EINVAL (NULL, empty or too long path), BRAID_EADDRINUSE,
 * BRAID_EACCES, BRAID_ENOENT (no such directory), BRAID_ESHUTDOWN. */
BRAID_API int braid_unix_listener_bind(braid_unix_listener **out, braid_runtime *rt, const char *path, int backlog);
/* Take ownership of an existing socket `fd` (made non-blocking here): a
 * listening AF_UNIX SOCK_STREAM socket, a non-listening one (connected, or
 * from socketpair), an AF_UNIX SOCK_DGRAM socket.  BRAID_EBADF: fd is not
 * an open socket; BRAID_EINVAL: a socket of another family (TCP, UDP),
 * type (SOCK_SEQPACKET) or state (listening or not); BRAID_ESHUTDOWN.  On
 * failure the fd stays the caller's. */
BRAID_API int braid_unix_listener_from_fd(braid_unix_listener **out, braid_runtime *rt, int fd);
BRAID_API int braid_unix_stream_from_fd(braid_unix_stream **out, braid_runtime *rt, int fd);
BRAID_API int braid_unix_datagram_from_fd(braid_unix_datagram **out, braid_runtime *rt, int fd);
/* Tokio's into_std: give the socket back as a plain fd (>= 0; still
 * non-blocking, close-on-exec; the caller's to close) and free the handle,
 * as braid_tcp_listener_into_fd (tcp.h): BRAID_EINVAL (NULL), BRAID_ECLOSED
 * (closed: nothing to give back; the handle is freed too), BRAID_EMFILE
 * (the handle stays as it was). */
BRAID_API int braid_unix_listener_into_fd(braid_unix_listener *l);
BRAID_API int braid_unix_stream_into_fd(braid_unix_stream *s);
BRAID_API int braid_unix_datagram_into_fd(braid_unix_datagram *d);
BRAID_API int braid_unix_listener_local_addr(const braid_unix_listener *l, struct sockaddr_storage *out,
                                             size_t *out_len);
/* 0 with *out a new stream, BRAID_PENDING, or an error: the same as
 * braid_tcp_listener_poll_accept's (tcp.h; BRAID_EMFILE is transient, a
 * connection that failed before it was accepted is skipped). */
BRAID_API int braid_unix_listener_poll_accept(braid_unix_listener *l, braid_unix_stream **out, braid_wake_fn wake,
                                              void *wake_data);
BRAID_API int braid_unix_listener_accept(braid_task **out, braid_unix_listener *l, braid_unix_stream_callback cb,
                                         void *user_data);
/* Repeating accept and its stop: as braid_tcp_listener_accept_start and
 * braid_tcp_listener_accept_stop (tcp.h). */
BRAID_API int braid_unix_listener_accept_start(braid_task **out, braid_unix_listener *l,
                                               braid_unix_stream_callback cb, void *user_data);
BRAID_API int braid_unix_listener_accept_stop(braid_unix_listener *l);
BRAID_API int braid_unix_listener_fd(const braid_unix_listener *l);
BRAID_API int braid_unix_listener_close(braid_unix_listener *l);
BRAID_API void braid_unix_listener_free(braid_unix_listener *l);

/* ---- stream ------------------------------------------------------------------ */

/* Callback style connect to the listener at `path`: BRAID_ENOENT (no such
 * socket), BRAID_ECONNREFUSED (nobody listens), BRAID_EAGAIN (its backlog is
 * full). */
BRAID_API int braid_unix_connect(braid_task **out, braid_runtime *rt, const char *path,
                                 braid_unix_stream_callback cb, void *user_data);
/* Poll style: start, then poll_connect until 0. */
BRAID_API int braid_unix_stream_connect_start(braid_unix_stream **out, braid_runtime *rt, const char *path);
BRAID_API int braid_unix_stream_poll_connect(braid_unix_stream *s, braid_wake_fn wake, void *wake_data);
/* A connected pair (socketpair). */
BRAID_API int braid_unix_stream_pair(braid_unix_stream **out_a, braid_unix_stream **out_b, braid_runtime *rt);

/* The stream as a byte stream (byte_stream.h): reading, writing, the
 * repeating read, shutdown_write.  The view lives as long as s. */
BRAID_API braid_byte_stream *braid_unix_stream_as_byte_stream(braid_unix_stream *s);
BRAID_API int braid_unix_stream_local_addr(const braid_unix_stream *s, struct sockaddr_storage *out,
                                           size_t *out_len);
BRAID_API int braid_unix_stream_peer_addr(const braid_unix_stream *s, struct sockaddr_storage *out, size_t *out_len);
/* The peer's credentials (SO_PEERCRED: the process that connected, or
 * made the pair, and its user and group ids); each out pointer may be
 * NULL. */
BRAID_API int braid_unix_stream_peer_cred(const braid_unix_stream *s, int *pid, unsigned *uid, unsigned *gid);
/* Passing file descriptors (SCM_RIGHTS).  send: as braid_byte_stream_poll_write,
 * with the `nfds` fds (at most 253; the caller keeps its own copies) going
 * along with the first byte written; len must be > 0 (a descriptor travels
 * with data).  BRAID_EBADF: one of fds is not open.  recv: as
 * braid_byte_stream_poll_read, and the fds that came with the bytes read
 * are put in fds[0 .. *out_nfds) (new descriptors, close-on-exec, the
 * caller's to close); those beyond `fds_cap` are closed. */
BRAID_API int braid_unix_stream_poll_send_fds(braid_unix_stream *s, const void *buf, size_t len, const int *fds,
                                              size_t nfds, braid_wake_fn wake, void *wake_data, size_t *out_n);
BRAID_API int braid_unix_stream_poll_recv_fds(braid_unix_stream *s, void *buf, size_t len, int *fds,
                                              size_t fds_cap, size_t *out_nfds, braid_wake_fn wake, void *wake_data,
                                              size_t *out_n);
BRAID_API int braid_unix_stream_fd(const braid_unix_stream *s);
BRAID_API int braid_unix_stream_close(braid_unix_stream *s);
BRAID_API void braid_unix_stream_free(braid_unix_stream *s);

/* ---- datagram socket ---------------------------------------------------------- */

/* Bound to `path`; or unbound (path NULL: it can send, and receive replies
 * only once connected or through a pair). */
BRAID_API int braid_unix_datagram_bind(braid_unix_datagram **out, braid_runtime *rt, const char *path);
/* A connected pair (socketpair). */
BRAID_API int braid_unix_datagram_pair(braid_unix_datagram **out_a, braid_unix_datagram **out_b, braid_runtime *rt);
/* Sets the default peer (send/recv then need no address). */
BRAID_API int braid_unix_datagram_connect(braid_unix_datagram *d, const char *path);
/* Sends one datagram to `path`, or to the connected peer when path is NULL:
 * 0 with *out_n, BRAID_PENDING, or an error. */
BRAID_API int braid_unix_datagram_poll_send_to(braid_unix_datagram *d, const void *buf, size_t len, const char *path,
                                               braid_wake_fn wake, void *wake_data, size_t *out_n);
/* Receives one datagram (a longer one is truncated to len); the sender's
 * address in from/from_len (each may be NULL). */
BRAID_API int braid_unix_datagram_poll_recv_from(braid_unix_datagram *d, void *buf, size_t len,
                                                 struct sockaddr_storage *from, size_t *from_len, braid_wake_fn wake,
                                                 void *wake_data, size_t *out_n);
/* Readiness (byte_stream.h's braid_byte_stream_poll_ready: interest
 * BRAID_IO_READABLE and/or BRAID_IO_WRITABLE, *out_ready the io.h bits). */
BRAID_API int braid_unix_datagram_poll_ready(braid_unix_datagram *d, int interest, braid_wake_fn wake,
                                             void *wake_data, int *out_ready);
/* Tokio's try_send_to / try_send (path NULL) and try_recv_from / try_recv
 * (from NULL): one attempt that never waits, 0 with *out_n, BRAID_EAGAIN
 * when not ready (that readiness is forgotten), or the errors of the poll
 * functions. */
BRAID_API int braid_unix_datagram_try_send_to(braid_unix_datagram *d, const void *buf, size_t len, const char *path,
                                              size_t *out_n);
BRAID_API int braid_unix_datagram_try_recv_from(braid_unix_datagram *d, void *buf, size_t len,
                                                struct sockaddr_storage *from, size_t *from_len, size_t *out_n);
/* Callback style of the two above (`from`, `from_len` must stay alive until
 * the callback, like the buffer). */
BRAID_API int braid_unix_datagram_send_to(braid_task **out, braid_unix_datagram *d, const void *buf, size_t len,
                                          const char *path, braid_io_callback cb, void *user_data);
BRAID_API int braid_unix_datagram_recv_from(braid_task **out, braid_unix_datagram *d, void *buf, size_t len,
                                            struct sockaddr_storage *from, size_t *from_len, braid_io_callback cb,
                                            void *user_data);
BRAID_API int braid_unix_datagram_local_addr(const braid_unix_datagram *d, struct sockaddr_storage *out,
                                             size_t *out_len);
BRAID_API int braid_unix_datagram_fd(const braid_unix_datagram *d);
BRAID_API int braid_unix_datagram_close(braid_unix_datagram *d);
BRAID_API void braid_unix_datagram_free(braid_unix_datagram *d);

BRAID_EXTERN_C_END

#endif /* BRAID_UNIX_SOCKET_H */
