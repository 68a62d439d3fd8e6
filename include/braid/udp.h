/* braid — UDP sockets, IPv4 and IPv6.  Part of the stable C ABI.
 *
 * One datagram per send and per receive.  The rules of io.h apply: poll
 * functions (any number of waiters: each datagram goes to one receiver) and
 * callback operations (one receiver and one sender per socket at a time).  Receiving into a buffer shorter than the datagram truncates
 * it (the rest is dropped, as recvfrom(2) does).
 */
#ifndef BRAID_UDP_H
#define BRAID_UDP_H

#include <stddef.h>

#include "export.h"
#include "error.h"
#include "io.h"
#include "net.h"
#include "runtime.h"
#include "task.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_udp_socket braid_udp_socket;

/* Binds a UDP socket to `addr` (port 0: any free port).  BRAID_EINVAL,
 * BRAID_EADDRINUSE, BRAID_EADDRNOTAVAIL, BRAID_EACCES, BRAID_ESHUTDOWN. */
BRAID_API int braid_udp_bind(braid_udp_socket **out, braid_runtime *rt, const struct sockaddr *addr,
                             size_t addr_len);
/* Takes ownership of a UDP socket `fd` (AF_INET or AF_INET6, SOCK_DGRAM,
 * IPPROTO_UDP; bound or not, connected or not; made non-blocking here).
 * BRAID_EBADF: fd is not an open socket; BRAID_EINVAL: a socket of another
 * family, type or protocol; BRAID_ESHUTDOWN.  On failure the fd stays the
 * caller's. */
BRAID_API int braid_udp_from_fd(braid_udp_socket **out, braid_runtime *rt, int fd);
/* Sets the default peer: send/recv then need no address, and datagrams from
 * other addresses are dropped by the kernel. */
BRAID_API int braid_udp_connect(braid_udp_socket *s, const struct sockaddr *addr, size_t addr_len);
BRAID_API int braid_udp_local_addr(const braid_udp_socket *s, struct sockaddr_storage *out, size_t *out_len);
/* BRAID_ENOTCONN when not connected. */
BRAID_API int braid_udp_peer_addr(const braid_udp_socket *s, struct sockaddr_storage *out, size_t *out_len);

/* Sends one datagram to `addr` (NULL: the connected peer): 0 with *out_n,
 * BRAID_PENDING, or an error (BRAID_ENOTCONN without a peer, BRAID_EACCES
 * for a broadcast address without the broadcast flag, BRAID_EINVAL when the
 * datagram is too large). */
BRAID_API int braid_udp_poll_send_to(braid_udp_socket *s, const void *buf, size_t len, const struct sockaddr *addr,
                                     size_t addr_len, braid_wake_fn wake, void *wake_data, size_t *out_n);
/* Receives one datagram; the sender's address in from/from_len (each may be
 * NULL).  len 0 is BRAID_EINVAL.  A refused earlier send to a connected peer
 * may surface here as BRAID_ECONNREFUSED. */
BRAID_API int braid_udp_poll_recv_from(braid_udp_socket *s, void *buf, size_t len, struct sockaddr_storage *from,
                                       size_t *from_len, braid_wake_fn wake, void *wake_data, size_t *out_n);
/* As poll_recv_from, but the datagram stays queued (MSG_PEEK). */
BRAID_API int braid_udp_poll_peek_from(braid_udp_socket *s, void *buf, size_t len, struct sockaddr_storage *from,
                                       size_t *from_len, braid_wake_fn wake, void *wake_data, size_t *out_n);
/* Readiness (byte_stream.h's braid_byte_stream_poll_ready: interest
 * BRAID_IO_READABLE and/or BRAID_IO_WRITABLE, *out_ready the io.h bits). */
BRAID_API int braid_udp_poll_ready(braid_udp_socket *s, int interest, braid_wake_fn wake, void *wake_data,
                                   int *out_ready);
/* Tokio's try_send_to / try_send (addr NULL), try_recv_from / try_recv
 * (from NULL), try_peek_from: one attempt that never waits, 0 with *out_n,
 * BRAID_EAGAIN when not ready (that readiness is forgotten), or the errors
 * of the poll functions. */
BRAID_API int braid_udp_try_send_to(braid_udp_socket *s, const void *buf, size_t len, const struct sockaddr *addr,
                                    size_t addr_len, size_t *out_n);
BRAID_API int braid_udp_try_recv_from(braid_udp_socket *s, void *buf, size_t len, struct sockaddr_storage *from,
                                      size_t *from_len, size_t *out_n);
BRAID_API int braid_udp_try_peek_from(braid_udp_socket *s, void *buf, size_t len, struct sockaddr_storage *from,
                                      size_t *from_len, size_t *out_n);
/* Callback style (addr NULL: the connected peer; `from`/`from_len` must stay
 * alive until the callback). */
BRAID_API int braid_udp_send_to(braid_task **out, braid_udp_socket *s, const void *buf, size_t len,
                                const struct sockaddr *addr, size_t addr_len, braid_io_callback cb, void *user_data);
BRAID_API int braid_udp_recv_from(braid_task **out, braid_udp_socket *s, void *buf, size_t len,
                                  struct sockaddr_storage *from, size_t *from_len, braid_io_callback cb,
                                  void *user_data);

/* SO_BROADCAST: 1 on, 0 off; the getter returns 1, 0 or an error. */
BRAID_API int braid_udp_set_broadcast(braid_udp_socket *s, int on);
BRAID_API int braid_udp_broadcast(const braid_udp_socket *s);
/* Multicast: joins (leaves) the group `group` (an IPv4 or IPv6 multicast
 * address; its port is ignored) on the interface with index `ifindex`
 * (0: the one the system picks).  BRAID_EINVAL for a non-multicast address. */
BRAID_API int braid_udp_join_multicast(braid_udp_socket *s, const struct sockaddr *group, size_t group_len,
                                       unsigned ifindex);
BRAID_API int braid_udp_leave_multicast(braid_udp_socket *s, const struct sockaddr *group, size_t group_len,
                                        unsigned ifindex);
/* Whether this host's own multicast datagrams come back (default on), and
 * their TTL / hop limit (0: never leave the host). */
BRAID_API int braid_udp_set_multicast_loop(braid_udp_socket *s, int on);
BRAID_API int braid_udp_set_multicast_ttl(braid_udp_socket *s, int ttl);
/* The unicast TTL / hop limit. */
BRAID_API int braid_udp_set_ttl(braid_udp_socket *s, int ttl);

BRAID_API int braid_udp_fd(const braid_udp_socket *s);
/* Tokio's into_std: gives the socket back as a plain fd (>= 0; still
 * non-blocking, close-on-exec; the caller's to close) and frees s, as
 * braid_tcp_listener_into_fd (tcp.h): BRAID_EINVAL (NULL), BRAID_ECLOSED
 * (closed: nothing to give back; s is freed too), BRAID_EMFILE (s stays as
 * it was). */
BRAID_API int braid_udp_into_fd(braid_udp_socket *s);
/* Closes: later operations fail with BRAID_ECLOSED, waiting ones complete
 * with it.  Freed by braid_udp_free (NULL ok). */
BRAID_API int braid_udp_close(braid_udp_socket *s);
BRAID_API void braid_udp_free(braid_udp_socket *s);

BRAID_EXTERN_C_END

#endif /* BRAID_UDP_H */
