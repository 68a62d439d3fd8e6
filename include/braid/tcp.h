/* braid — TCP listeners and streams, IPv4 and IPv6.  Part of the stable C ABI.
 *
 * Readiness-based, like Tokio: every operation first makes the
 * non-blocking syscall on the calling thread and waits for the reactor only
 * when it would block.  See io.h for the two styles (poll functions and
 * callback operations) and the rules they share; net.h for addresses.
 * Reading and writing go through the stream's byte-stream view
 * (byte_stream.h: braid_tcp_stream_as_byte_stream).
 *
 * Threads: every function may be called from any thread.  Callbacks run on a
 * worker of the handle's runtime.  Poll functions: any number of tasks may
 * wait on one handle at once (io.h: all are woken, one gets the data or the
 * connection, the others wait again).  Callback operations: at most one
 * read-side and one write-side operation at a time (BRAID_EBUSY).
 */
#ifndef BRAID_TCP_H
#define BRAID_TCP_H

#include <stddef.h>

#include "byte_stream.h"
#include "export.h"
#include "error.h"
#include "io.h"
#include "net.h"
#include "runtime.h"
#include "task.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_tcp_listener braid_tcp_listener;
typedef struct braid_tcp_stream braid_tcp_stream;
typedef struct braid_tcp_socket braid_tcp_socket;

/* Completion of connect and accept: `stream` is a new handle the callee
 * owns (free it with braid_tcp_stream_free) when status is BRAID_OK, NULL
 * otherwise. */
typedef void (*braid_tcp_stream_callback)(void *user_data, int status, braid_tcp_stream *stream);
/* Completion of braid_tcp_listener_bind_host: `listener` is a new handle the
 * callee owns (free it with braid_tcp_listener_free) when status is
 * BRAID_OK, NULL otherwise. */
typedef void (*braid_tcp_listener_callback)(void *user_data, int status, braid_tcp_listener *listener);

/* ---- listener ------------------------------------------------------------- */

/* Binds a listening socket to `addr` (AF_INET or AF_INET6; port 0 picks a
 * free one) with SO_REUSEADDR, and listens with `backlog` (<= 0: 1024) on
 * rt's reactor (rt NULL: the calling thread's runtime).  Errors:
 * BRAID_EINVAL (NULL, a bad address), BRAID_EADDRINUSE, BRAID_EADDRNOTAVAIL,
 * BRAID_EACCES (a privileged port), BRAID_EMFILE, BRAID_ESHUTDOWN. */
BRAID_API int braid_tcp_listener_bind(braid_tcp_listener **out, braid_runtime *rt, const struct sockaddr *addr,
                                      size_t addr_len, int backlog);
/* Callback style: resolves `host` (a name such as "localhost", or a numeric
 * address, as braid_dns_lookup does) and binds a listener, as
 * braid_tcp_listener_bind, to the first of its addresses that binds: Tokio's
 * TcpListener::bind((host, port)).  cb(user_data, BRAID_OK, listener), or
 * cb(user_data, error, NULL) with the last address's failure
 * (BRAID_EADDRINUSE, ...) or the lookup's (BRAID_ENOTFOUND: no such name).
 * `out` (may be NULL) aborts it (cb: BRAID_ECANCELED).  Errors returned here
 * (cb never runs): BRAID_EINVAL (NULL, empty or over-long host, no
 * callback, no runtime), BRAID_ERANGE (port outside 0..65535),
 * BRAID_ESHUTDOWN, BRAID_ENOMEM. */
BRAID_API int braid_tcp_listener_bind_host(braid_task **out, braid_runtime *rt, const char *host, int port,
                                           int backlog, braid_tcp_listener_callback cb, void *user_data);
/* Takes ownership of a listening TCP socket `fd` (AF_INET or AF_INET6,
 * SOCK_STREAM, IPPROTO_TCP, listen() called; made non-blocking here), as
 * Tokio's TcpListener::from_std.  BRAID_EBADF: fd is not an open socket;
 * BRAID_EINVAL: a socket of another family, type or protocol, or one that
 * does not listen; BRAID_ESHUTDOWN.  On failure the fd stays the caller's. */
BRAID_API int braid_tcp_listener_from_fd(braid_tcp_listener **out, braid_runtime *rt, int fd);
/* The bound address (the port chosen, for port 0). */
BRAID_API int braid_tcp_listener_local_addr(const braid_tcp_listener *l, struct sockaddr_storage *out,
                                            size_t *out_len);
/* Accepts one connection: 0 with *out a new stream (and the peer's address
 * in `peer`/`peer_len`, each may be NULL), BRAID_PENDING after registering
 * the waker, or an error.  Failures of one pending connection (the client
 * gave up: ECONNABORTED; a network error already pending on it, or a
 * firewall refusal, as accept(2) lists them for Linux) are not returned: that
 * connection is skipped and the next one taken.  What can be returned:
 *   BRAID_EMFILE  the process (or system) is out of file descriptors; the
 *                 connection stays queued.  Transient: back off a little
 *                 (braid_sleep / braid::sleep) and accept again;
 *   BRAID_ENOMEM  out of memory (kernel buffers included); transient too;
 *   BRAID_ECLOSED the listener was closed; BRAID_ESHUTDOWN the runtime is
 *                 stopping; BRAID_EINVAL bad arguments;
 *   another mapped errno (braid_last_os_error) in unusual cases.
 * An accept loop should end only on BRAID_ECLOSED / BRAID_ESHUTDOWN and
 * retry the others after a short pause (docs/io.md). */
BRAID_API int braid_tcp_listener_poll_accept(braid_tcp_listener *l, braid_tcp_stream **out,
                                             struct sockaddr_storage *peer, size_t *peer_len, braid_wake_fn wake,
                                             void *wake_data);
/* Callback style: cb(user_data, BRAID_OK, stream) for the next connection,
 * or cb(user_data, error, NULL) with the errors of poll_accept.  `out` (may
 * be NULL) aborts it. */
BRAID_API int braid_tcp_listener_accept(braid_task **out, braid_tcp_listener *l, braid_tcp_stream_callback cb,
                                        void *user_data);
/* Repeating accept (libuv's uv_listen): cb(user_data, BRAID_OK, stream) for
 * every connection until stopped.  A failed accept is reported as
 * cb(user_data, error, NULL) and the accept goes on, trying again at once:
 * BRAID_EMFILE, BRAID_ENOMEM and the other transient errors of poll_accept
 * (the connection stays queued).  The callback decides: stop (and perhaps
 * start again after a pause, braid_sleep), or carry on.  Exactly one final
 * call ends it, with NULL and one of
 *   BRAID_ECANCELED  stopped: braid_tcp_listener_accept_stop, braid_task_abort
 *                    on `out`, or the runtime shut down (BRAID_ETIMEDOUT: a
 *                    deadline set on the operation);
 *   BRAID_ECLOSED    the listener was closed or freed;
 *   BRAID_ESHUTDOWN  the reactor stopped.
 * The callback may stop the accept, close or free the listener, free `out`'s
 * task, and start operations on the new stream (docs/c-api.md).  The
 * operation takes the listener's accept side: braid_tcp_listener_accept
 * gives BRAID_EBUSY until the final call. */
BRAID_API int braid_tcp_listener_accept_start(braid_task **out, braid_tcp_listener *l, braid_tcp_stream_callback cb,
                                              void *user_data);
/* Stops the repeating accept of l, from any thread or from its callback:
 * from the callback no further connection is delivered; from another thread
 * one delivery already begun may still complete.  The final call
 * (BRAID_ECANCELED) comes last.  BRAID_OK also when none runs. */
BRAID_API int braid_tcp_listener_accept_stop(braid_tcp_listener *l);
/* The socket's fd (still owned by the listener), or BRAID_EINVAL. */
BRAID_API int braid_tcp_listener_fd(const braid_tcp_listener *l);
/* Tokio's into_std: gives the listening socket back as a plain fd (>= 0;
 * still non-blocking, close-on-exec; the caller's to close) and frees l.
 * Operations still pending on l complete with BRAID_ECLOSED.  BRAID_EINVAL
 * (NULL), BRAID_ECLOSED (closed: nothing to give back; l is freed too),
 * BRAID_EMFILE (l stays as it was). */
BRAID_API int braid_tcp_listener_into_fd(braid_tcp_listener *l);
/* Closes the listener: later operations fail with BRAID_ECLOSED, waiting ones
 * complete with it.  The handle itself stays until freed. */
BRAID_API int braid_tcp_listener_close(braid_tcp_listener *l);
/* Closes (if not yet) and frees.  Callback operations still pending
 * complete with BRAID_ECLOSED.  NULL ok. */
BRAID_API void braid_tcp_listener_free(braid_tcp_listener *l);

/* ---- connecting ---------------------------------------------------------- */

/* Callback style: connects to `addr`; cb(user_data, BRAID_OK, stream) or
 * cb(user_data, error, NULL) (BRAID_ECONNREFUSED, BRAID_EUNREACH,
 * BRAID_ETIMEDOUT, ...).  A time limit: braid_task_set_timeout on `out`
 * (cb then gets BRAID_ETIMEDOUT). */
BRAID_API int braid_tcp_connect(braid_task **out, braid_runtime *rt, const struct sockaddr *addr, size_t addr_len,
                                braid_tcp_stream_callback cb, void *user_data);
/* Callback style: resolves `host` (a name or a numeric address, as
 * braid_dns_lookup does) and connects to its addresses in the order the
 * resolver gave them, as Tokio's TcpStream::connect((host, port)): the
 * first that connects is handed to cb; when none does, cb gets the first
 * failure (BRAID_ECONNREFUSED, ...), or the lookup's (BRAID_ENOTFOUND: no
 * such name; names under ".invalid" fail so at once).  A time limit for all
 * of it: braid_task_set_timeout on `out`.  Errors returned here (cb never
 * runs): BRAID_EINVAL (NULL, empty or over-long host, no callback),
 * BRAID_ERANGE (port outside 0..65535), BRAID_ESHUTDOWN, BRAID_ENOMEM. */
BRAID_API int braid_tcp_connect_host(braid_task **out, braid_runtime *rt, const char *host, int port,
                                     braid_tcp_stream_callback cb, void *user_data);
/* Poll style: starts a non-blocking connect; *out is the stream, usable once
 * braid_tcp_stream_poll_connect returned 0.  Errors known at once (a bad
 * address, ECONNREFUSED on some systems) are returned here. */
BRAID_API int braid_tcp_stream_connect_start(braid_tcp_stream **out, braid_runtime *rt, const struct sockaddr *addr,
                                             size_t addr_len);
/* 0 once connected, BRAID_PENDING, or the connect's error. */
BRAID_API int braid_tcp_stream_poll_connect(braid_tcp_stream *s, braid_wake_fn wake, void *wake_data);
/* Takes ownership of a connected TCP socket `fd` (AF_INET or AF_INET6,
 * SOCK_STREAM, IPPROTO_TCP, not listening; made non-blocking here).
 * BRAID_EBADF: fd is not an open socket; BRAID_EINVAL: a socket of another
 * family (a Unix socket), type or protocol, or a listening one;
 * BRAID_ESHUTDOWN.  On failure the fd stays the caller's. */
BRAID_API int braid_tcp_stream_from_fd(braid_tcp_stream **out, braid_runtime *rt, int fd);

/* ---- a socket configured before it connects or listens (Tokio's TcpSocket) --- */

/* A new TCP socket of `family` (AF_INET or AF_INET6; BRAID_EINVAL for
 * another), not yet bound, connected or listening, on rt (NULL: the calling
 * thread's runtime).  Set its options, bind it if wanted, then turn it into
 * a listener (braid_tcp_socket_listen) or a stream
 * (braid_tcp_socket_connect_start); or free it. */
BRAID_API int braid_tcp_socket_new(braid_tcp_socket **out, braid_runtime *rt, int family);
/* Options: a setter returns BRAID_OK or an error; a getter the value (0 or
 * 1 for the flags, bytes for the buffer sizes) or an error.  The buffer
 * sizes are SO_SNDBUF / SO_RCVBUF (size > 0; the kernel may double or
 * round what it is given, and the getter reports what it made of it). */
BRAID_API int braid_tcp_socket_set_reuseaddr(braid_tcp_socket *s, int on);
BRAID_API int braid_tcp_socket_reuseaddr(const braid_tcp_socket *s);
BRAID_API int braid_tcp_socket_set_reuseport(braid_tcp_socket *s, int on);
BRAID_API int braid_tcp_socket_reuseport(const braid_tcp_socket *s);
BRAID_API int braid_tcp_socket_set_send_buffer_size(braid_tcp_socket *s, int size);
BRAID_API int braid_tcp_socket_send_buffer_size(const braid_tcp_socket *s);
BRAID_API int braid_tcp_socket_set_recv_buffer_size(braid_tcp_socket *s, int size);
BRAID_API int braid_tcp_socket_recv_buffer_size(const braid_tcp_socket *s);
BRAID_API int braid_tcp_socket_set_nodelay(braid_tcp_socket *s, int on);
BRAID_API int braid_tcp_socket_nodelay(const braid_tcp_socket *s);
BRAID_API int braid_tcp_socket_set_keepalive(braid_tcp_socket *s, int on);
BRAID_API int braid_tcp_socket_keepalive(const braid_tcp_socket *s);
/* SO_LINGER as braid_tcp_stream_set_linger. */
BRAID_API int braid_tcp_socket_set_linger(braid_tcp_socket *s, int seconds);
BRAID_API int braid_tcp_socket_linger(const braid_tcp_socket *s, int *out_seconds);
/* Binds to `addr` (of the socket's family; port 0: a free one).
 * BRAID_EINVAL, BRAID_EADDRINUSE, BRAID_EADDRNOTAVAIL, BRAID_EACCES. */
BRAID_API int braid_tcp_socket_bind(braid_tcp_socket *s, const struct sockaddr *addr, size_t addr_len);
BRAID_API int braid_tcp_socket_local_addr(const braid_tcp_socket *s, struct sockaddr_storage *out, size_t *out_len);
/* Listens (backlog <= 0: 1024; not bound: an address the kernel picks) and
 * registers the socket with the reactor: *out is the listener, and s is
 * freed (do not use it again).  On an error s stays as it was, the
 * caller's to free.  BRAID_EINVAL, BRAID_EADDRINUSE, BRAID_ESHUTDOWN. */
BRAID_API int braid_tcp_socket_listen(braid_tcp_socket *s, int backlog, braid_tcp_listener **out);
/* Starts connecting to `addr`, as braid_tcp_stream_connect_start: 0
 * (connected) or BRAID_PENDING (finish with braid_tcp_stream_poll_connect)
 * with *out the stream, and s freed; on an error s stays the caller's. */
BRAID_API int braid_tcp_socket_connect_start(braid_tcp_socket *s, const struct sockaddr *addr, size_t addr_len,
                                             braid_tcp_stream **out);
/* Takes ownership of a TCP socket that neither listens nor is connected
 * (AF_INET or AF_INET6).  BRAID_EBADF, BRAID_EINVAL as the other _from_fd;
 * on failure the fd stays the caller's. */
BRAID_API int braid_tcp_socket_from_fd(braid_tcp_socket **out, braid_runtime *rt, int fd);
/* The fd (still owned by s), or BRAID_EINVAL. */
BRAID_API int braid_tcp_socket_fd(const braid_tcp_socket *s);
/* Closes the socket and frees s.  NULL ok. */
BRAID_API void braid_tcp_socket_free(braid_tcp_socket *s);

/* ---- reading and writing -------------------------------------------------- */

/* The stream as a byte stream (byte_stream.h): read, write, the repeating
 * read, shutdown_write.  The view lives as long as s; NULL for NULL. */
BRAID_API braid_byte_stream *braid_tcp_stream_as_byte_stream(braid_tcp_stream *s);
/* As braid_byte_stream_poll_read, but the bytes stay in the socket
 * (MSG_PEEK). */
BRAID_API int braid_tcp_stream_poll_peek(braid_tcp_stream *s, void *buf, size_t len, braid_wake_fn wake,
                                         void *wake_data, size_t *out_n);
/* Callback style peek (the read side's one operation, as a read). */
BRAID_API int braid_tcp_stream_peek(braid_task **out, braid_tcp_stream *s, void *buf, size_t len,
                                    braid_io_callback cb, void *user_data);

/* ---- options, addresses, closing ------------------------------------------ */

/* TCP_NODELAY: 1 on, 0 off.  The getter returns 1, 0 or an error. */
BRAID_API int braid_tcp_stream_set_nodelay(braid_tcp_stream *s, int on);
BRAID_API int braid_tcp_stream_nodelay(const braid_tcp_stream *s);
/* SO_KEEPALIVE: 1 on, 0 off.  The getter returns 1, 0 or an error. */
BRAID_API int braid_tcp_stream_set_keepalive(braid_tcp_stream *s, int on);
BRAID_API int braid_tcp_stream_keepalive(const braid_tcp_stream *s);
/* SO_LINGER: seconds >= 0 turns it on (closing waits that long for unsent
 * data; 0: closing resets the connection), -1 turns it off (BRAID_EINVAL
 * below -1).  The getter puts the seconds in *out_seconds, -1 when off. */
BRAID_API int braid_tcp_stream_set_linger(braid_tcp_stream *s, int seconds);
BRAID_API int braid_tcp_stream_linger(const braid_tcp_stream *s, int *out_seconds);
/* The IP time-to-live (IPv6: the unicast hop limit), 1..255 (BRAID_ERANGE
 * outside).  The getter returns it. */
BRAID_API int braid_tcp_stream_set_ttl(braid_tcp_stream *s, int ttl);
BRAID_API int braid_tcp_stream_ttl(const braid_tcp_stream *s);
BRAID_API int braid_tcp_stream_local_addr(const braid_tcp_stream *s, struct sockaddr_storage *out, size_t *out_len);
BRAID_API int braid_tcp_stream_peer_addr(const braid_tcp_stream *s, struct sockaddr_storage *out, size_t *out_len);
/* The socket's fd (still owned by the stream), or BRAID_EINVAL. */
BRAID_API int braid_tcp_stream_fd(const braid_tcp_stream *s);
/* Tokio's into_std: gives the connection back as a plain fd (>= 0; still
 * non-blocking, close-on-exec; the caller's to close) and frees s, as
 * braid_tcp_listener_into_fd. */
BRAID_API int braid_tcp_stream_into_fd(braid_tcp_stream *s);
/* Closes the connection (both directions are shut down): later operations
 * fail with BRAID_ECLOSED and waiting ones complete with it.  The fd is
 * released when the handle is freed.  BRAID_OK also when already closed. */
BRAID_API int braid_tcp_stream_close(braid_tcp_stream *s);
/* Closes (if not yet) and frees.  Callback operations still pending complete
 * with BRAID_ECLOSED (their buffers must stay alive until then).  NULL ok. */
BRAID_API void braid_tcp_stream_free(braid_tcp_stream *s);

BRAID_EXTERN_C_END

#endif /* BRAID_TCP_H */
