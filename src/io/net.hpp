// Socket plumbing shared by TCP, UDP and Unix sockets: address checks and
// text forms, non-blocking socket creation, connect/accept/read/write as
// poll functions over an IoSource.  Every function returns BRAID_OK, a
// documented positive value, BRAID_PENDING or a negative BRAID_E* code, and
// never leaks an fd on an error path.
#pragma once

#include <braid/task.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>

#include "io/io_driver.hpp"

namespace braid::detail::net {

// `addr`/`len` is a valid AF_INET or AF_INET6 address (BRAID_EINVAL if not).
int check_inet(const sockaddr* addr, size_t len);
// A valid AF_UNIX address: BRAID_EINVAL, or BRAID_EINVAL for an embedded NUL
// in a pathname address.
int check_unix(const sockaddr* addr, size_t len);

// A Unix socket address for `path` ("@name": the abstract namespace).
// BRAID_EINVAL for NULL, empty or too long paths.
int unix_addr(const char* path, sockaddr_storage* out, size_t* out_len);

// "1.2.3.4:80", "[::1]:80", "[fe80::1%eth0]:80".  BRAID_EINVAL for text that
// is not an address with a port, BRAID_ERANGE for a port above 65535.
int parse_addr(const char* text, sockaddr_storage* out, size_t* out_len);
// The same form as parse_addr reads; Unix addresses as their path (an
// abstract one as "@name", an unnamed one as "(unnamed)").  Returns the
// length written (without the NUL), BRAID_ERANGE when cap is too small.
int format_addr(char* buf, size_t cap, const sockaddr* addr, size_t len);

// A non-blocking, close-on-exec socket.  >= 0: the fd.
int new_socket(int domain, int type, int protocol = 0);
// Binds (and listens on, for a stream listener: backlog > 0) a new socket
// and registers it.  *out owns the fd.
int open_bound(IoSource** out, Core* core, int domain, int type, const sockaddr* addr, size_t len,
               int backlog, bool reuseaddr);
// Starts a non-blocking connect and registers the socket.  0: connected at
// once; BRAID_PENDING: in progress, finish with poll_connect.
int open_connect(IoSource** out, Core* core, int domain, const sockaddr* addr, size_t len);
// The same from a socket made beforehand (a TcpSocket, bound or not, its
// options set): `fd` is the source's once this returns 0 or BRAID_PENDING,
// and stays the caller's on an error.
int connect_fd(IoSource** out, Core* core, int fd, const sockaddr* addr, size_t len);
// 0 once connected, BRAID_PENDING, or the connect error.
int poll_connect(IoSource* s, braid_wake_fn wake, void* data);

// Accepts one connection: 0 with *out_fd (non-blocking, close-on-exec) and
// the peer address, or BRAID_PENDING.
int poll_accept(IoSource* s, braid_wake_fn wake, void* data, int* out_fd, sockaddr_storage* peer,
                size_t* peer_len);

// Stream I/O: 0 with *n bytes (a read of 0 is EOF), BRAID_PENDING, or an
// error.  A zero-length read buffer is BRAID_EINVAL (0 would read as EOF).
int poll_read(IoSource* s, void* buf, size_t len, braid_wake_fn wake, void* data, size_t* n);
int poll_peek(IoSource* s, void* buf, size_t len, braid_wake_fn wake, void* data, size_t* n);
int poll_write(IoSource* s, const void* buf, size_t len, braid_wake_fn wake, void* data, size_t* n);
// Pipes: read(2)/write(2); writes never raise SIGPIPE (EPIPE instead).
int poll_pipe_read(IoSource* s, void* buf, size_t len, braid_wake_fn wake, void* data, size_t* n);
int poll_pipe_write(IoSource* s, const void* buf, size_t len, braid_wake_fn wake, void* data, size_t* n);
// Vectored: `count` buffers written in order by one sendmsg(2) (a socket)
// or writev(2) (a pipe, without SIGPIPE); *n is the bytes taken.
int poll_writev(IoSource* s, const iovec* iov, int count, bool pipe, braid_wake_fn wake, void* data, size_t* n);
// Vectored read: one recvmsg(2) (a socket) or readv(2) (a pipe) filling the
// `count` buffers in order; *n is the bytes read (0: end of file).  Buffers
// of 0 bytes in all: BRAID_EINVAL (0 would read as end of file).
int poll_readv(IoSource* s, const iovec* iov, int count, bool pipe, braid_wake_fn wake, void* data, size_t* n);

// Datagrams.  `addr` NULL: the connected peer.
int poll_send_to(IoSource* s, const void* buf, size_t len, const sockaddr* addr, size_t addr_len,
                 braid_wake_fn wake, void* data, size_t* n);
int poll_recv_from(IoSource* s, void* buf, size_t len, int flags, sockaddr_storage* from, size_t* from_len,
                   braid_wake_fn wake, void* data, size_t* n);

// What a socket adopted through a _from_fd function must be.
struct SocketKind {
    int family;     // AF_INET, AF_UNIX, ...
    int family2;    // a second family accepted (AF_INET6 next to AF_INET), or the same
    int type;       // SOCK_STREAM, SOCK_DGRAM
    int protocol;   // IPPROTO_TCP, IPPROTO_UDP, 0 for Unix sockets
    bool listening; // stream sockets: listening (a listener) or not (a stream)
};
// Checks fd against `want` (SO_TYPE, SO_DOMAIN, SO_PROTOCOL,
// SO_ACCEPTCONN).  BRAID_OK; BRAID_EBADF when fd is not an open socket;
// BRAID_EINVAL for a socket of another family, type or protocol, a
// listening socket given as a stream or a socket that does not listen given
// as a listener.  Changes nothing.
int check_socket_fd(int fd, const SocketKind& want);

int local_addr(int fd, sockaddr_storage* out, size_t* out_len);
int peer_addr(int fd, sockaddr_storage* out, size_t* out_len);
int set_flag(int fd, int level, int opt, int on);
int get_flag(int fd, int level, int opt);
// An int option's value (a buffer size, a TTL), or an error.
int get_int(int fd, int level, int opt);
// SO_LINGER: seconds >= 0 on (a close waits that long for unsent data; 0:
// the connection is reset), -1 off.  The getter puts the same in *out.
int set_linger(int fd, int seconds);
int get_linger(int fd, int* out);
// The IP TTL of a socket of either family (IPv6: the unicast hop limit):
// 1..255, else BRAID_ERANGE.
int set_ttl(int fd, int ttl);
int get_ttl(int fd);

// The credentials of a connected Unix socket's peer (SO_PEERCRED).
int peer_cred(int fd, int* pid, unsigned* uid, unsigned* gid);

// Unix stream sockets: bytes with file descriptors (SCM_RIGHTS), as
// poll_write / poll_read.  send: up to kMaxFds fds travel with the first
// byte sent (BRAID_EINVAL for more); recv: the fds that came with the bytes
// read go to fds[0..*nfds) (close-on-exec; the caller's to close); those
// beyond `cap` are closed (the kernel drops what does not fit).
constexpr size_t kMaxFds = 253;  // SCM_MAX_FD
int poll_send_fds(IoSource* s, const void* buf, size_t len, const int* fds, size_t nfds, braid_wake_fn wake,
                  void* data, size_t* n);
int poll_recv_fds(IoSource* s, void* buf, size_t len, int* fds, size_t cap, size_t* nfds, braid_wake_fn wake,
                  void* data, size_t* n);

}  // namespace braid::detail::net
