#include "io/net.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "io/no_sigpipe.hpp"

namespace braid::detail::net {

int check_inet(const sockaddr* addr, size_t len) {
    if (!addr || len < sizeof(sa_family_t)) return BRAID_EINVAL;  // before reading the family
    if (addr->sa_family == AF_INET && len >= sizeof(sockaddr_in)) return BRAID_OK;
    if (addr->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) return BRAID_OK;
    return BRAID_EINVAL;
}

int check_unix(const sockaddr* addr, size_t len) {
    if (!addr || len < offsetof(sockaddr_un, sun_path) || len > sizeof(sockaddr_un) || addr->sa_family != AF_UNIX)
        return BRAID_EINVAL;
    auto* un = reinterpret_cast<const sockaddr_un*>(addr);
    size_t plen = len - offsetof(sockaddr_un, sun_path);
    if (plen == 0) return BRAID_EINVAL;
    if (un->sun_path[0] != '\0') {
        // A pathname: NUL-terminated within len, no NUL inside.
        const void* nul = std::memchr(un->sun_path, '\0', plen);
        if (nul) {
            size_t at = size_t(static_cast<const char*>(nul) - un->sun_path);
            for (size_t i = at; i < plen; ++i)
                if (un->sun_path[i] != '\0') return BRAID_EINVAL;  // embedded NUL
        }
    }
    return BRAID_OK;
}

int unix_addr(const char* path, sockaddr_storage* out, size_t* out_len) {
    if (!path || !*path || !out || !out_len) return BRAID_EINVAL;
    std::memset(out, 0, sizeof *out);
    auto* un = reinterpret_cast<sockaddr_un*>(out);
    size_t n = std::strlen(path);
    if (n >= sizeof un->sun_path) return BRAID_EINVAL;
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, path, n);
    if (path[0] == '@') {
        un->sun_path[0] = '\0';  // abstract: the length says where the name ends
        *out_len = offsetof(sockaddr_un, sun_path) + n;
    } else {
        *out_len = offsetof(sockaddr_un, sun_path) + n + 1;
    }
    return BRAID_OK;
}

namespace {

// A decimal number: one or more digits and nothing else (no sign, no
// space), leading zeros allowed.  BRAID_EINVAL when malformed, BRAID_ERANGE
// above `max` (only once the whole text is known to be digits).
int parse_decimal(const char* p, uint64_t max, uint64_t* out) {
    if (!*p) return BRAID_EINVAL;
    uint64_t v = 0;
    bool over = false;
    for (; *p; ++p) {
        if (*p < '0' || *p > '9') return BRAID_EINVAL;
        unsigned d = unsigned(*p - '0');
        if (v > (max - d) / 10) over = true;
        else v = v * 10 + d;
    }
    if (over) return BRAID_ERANGE;
    *out = v;
    return BRAID_OK;
}

// A port: decimal, at most 65535.
int parse_port(const char* p, uint16_t* out) {
    uint64_t v = 0;
    if (int rc = parse_decimal(p, 65535, &v)) return rc;
    *out = uint16_t(v);
    return BRAID_OK;
}

// An IPv6 scope: decimal up to 2^32 - 1, or the name of an interface.
int parse_scope(const char* s, uint32_t* out) {
    if (!*s) return BRAID_EINVAL;
    if (*s >= '0' && *s <= '9') {
        uint64_t v = 0;
        int rc = parse_decimal(s, UINT32_MAX, &v);
        if (rc == BRAID_OK) *out = uint32_t(v);
        if (rc != BRAID_EINVAL) return rc;  // else a name that starts with a digit
    }
    unsigned idx = if_nametoindex(s);
    if (idx == 0) return BRAID_EINVAL;
    *out = idx;
    return BRAID_OK;
}

}  // namespace

int parse_addr(const char* text, sockaddr_storage* out, size_t* out_len) {
    if (!text || !out || !out_len) return BRAID_EINVAL;
    std::memset(out, 0, sizeof *out);
    size_t n = std::strlen(text);
    if (n == 0 || n > 128) return BRAID_EINVAL;
    char host[130];
    const char* port_text;
    if (text[0] == '[') {
        const char* close = std::strchr(text, ']');
        if (!close || close[1] != ':') return BRAID_EINVAL;
        size_t hl = size_t(close - text - 1);
        std::memcpy(host, text + 1, hl);
        host[hl] = '\0';
        port_text = close + 2;
        uint16_t port;
        if (int rc = parse_port(port_text, &port)) return rc;
        uint32_t scope = 0;
        if (char* pct = std::strchr(host, '%')) {
            *pct = '\0';
            if (int rc = parse_scope(pct + 1, &scope)) return rc;
        }
        auto* a6 = reinterpret_cast<sockaddr_in6*>(out);
        if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1) return BRAID_EINVAL;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        a6->sin6_scope_id = scope;
        *out_len = sizeof(sockaddr_in6);
        return BRAID_OK;
    }
    const char* colon = std::strrchr(text, ':');
    if (!colon || std::strchr(text, ':') != colon) return BRAID_EINVAL;  // IPv6 needs brackets
    size_t hl = size_t(colon - text);
    std::memcpy(host, text, hl);
    host[hl] = '\0';
    uint16_t port;
    if (int rc = parse_port(colon + 1, &port)) return rc;
    auto* a4 = reinterpret_cast<sockaddr_in*>(out);
    if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) return BRAID_EINVAL;
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    *out_len = sizeof(sockaddr_in);
    return BRAID_OK;
}

int format_addr(char* buf, size_t cap, const sockaddr* given, size_t len) {
    // The family is read only once the length says it is there.
    if (!buf || !given || len < sizeof(sa_family_t)) return BRAID_EINVAL;
    // Read from an aligned copy: a caller's buffer need not be aligned for
    // sockaddr_in6 (a byte buffer holding a received address).
    sockaddr_storage copy{};
    std::memcpy(&copy, given, std::min(len, sizeof copy));
    const sockaddr* addr = reinterpret_cast<const sockaddr*>(&copy);
    char tmp[160];
    int n;
    if (addr->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
        auto* a = reinterpret_cast<const sockaddr_in*>(addr);
        char h[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &a->sin_addr, h, sizeof h);
        n = std::snprintf(tmp, sizeof tmp, "%s:%u", h, unsigned(ntohs(a->sin_port)));
    } else if (addr->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
        auto* a = reinterpret_cast<const sockaddr_in6*>(addr);
        char h[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &a->sin6_addr, h, sizeof h);
        if (a->sin6_scope_id)
            n = std::snprintf(tmp, sizeof tmp, "[%s%%%u]:%u", h, unsigned(a->sin6_scope_id), unsigned(ntohs(a->sin6_port)));
        else
            n = std::snprintf(tmp, sizeof tmp, "[%s]:%u", h, unsigned(ntohs(a->sin6_port)));
    } else if (addr->sa_family == AF_UNIX && len >= offsetof(sockaddr_un, sun_path) && len <= sizeof(sockaddr_un)) {
        auto* a = reinterpret_cast<const sockaddr_un*>(addr);
        size_t plen = len - offsetof(sockaddr_un, sun_path);
        if (plen == 0) {
            n = std::snprintf(tmp, sizeof tmp, "(unnamed)");
        } else if (a->sun_path[0] == '\0') {
            n = std::snprintf(tmp, sizeof tmp, "@%.*s", int(plen - 1), a->sun_path + 1);
        } else {
            n = std::snprintf(tmp, sizeof tmp, "%.*s", int(strnlen(a->sun_path, plen)), a->sun_path);
        }
    } else {
        return BRAID_EINVAL;
    }
    if (n < 0) return BRAID_EINVAL;
    if (size_t(n) + 1 > cap) return BRAID_ERANGE;
    std::memcpy(buf, tmp, size_t(n) + 1);
    return n;
}

int new_socket(int domain, int type, int protocol) {
    int fd = ::socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0) return os_error(errno);
    return fd;
}

namespace {
// recv/send without glibc's cancellation-point wrappers (which switch
// pthread async-cancel on and off around every call: a few percent of a
// small-message workload).  braid never cancels threads.
inline ssize_t sys_recv(int fd, void* buf, size_t len, int flags) {
    return ::syscall(SYS_recvfrom, fd, buf, len, flags, nullptr, nullptr);
}
inline ssize_t sys_send(int fd, const void* buf, size_t len, int flags) {
    return ::syscall(SYS_sendto, fd, buf, len, flags, nullptr, 0);
}
int close_with(int fd, int rc) {
    ::close(fd);
    return rc;
}
// A NULL waker: remove the registration of `data` for `dir` (data NULL:
// every registration of `dir`), whatever the buffer.
int unregistered(IoSource* s, int dir, void* data) {
    s->unregister(dir, data);
    return BRAID_PENDING;
}
}  // namespace

int open_bound(IoSource** out, Core* core, int domain, int type, const sockaddr* addr, size_t len, int backlog,
               bool reuseaddr) {
    *out = nullptr;
    int fd = new_socket(domain, type);
    if (fd < 0) return fd;
    if (reuseaddr) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    if (::bind(fd, addr, socklen_t(len)) != 0) return close_with(fd, os_error(errno));
    if (backlog > 0 && ::listen(fd, backlog) != 0) return close_with(fd, os_error(errno));
    int rc = IoSource::create(out, core, fd);
    if (rc != BRAID_OK) return close_with(fd, rc);
    return BRAID_OK;
}

int open_connect(IoSource** out, Core* core, int domain, const sockaddr* addr, size_t len) {
    *out = nullptr;
    int fd = new_socket(domain, SOCK_STREAM);
    if (fd < 0) return fd;
    int rc = connect_fd(out, core, fd, addr, len);
    return rc < 0 ? close_with(fd, rc) : rc;
}

int connect_fd(IoSource** out, Core* core, int fd, const sockaddr* addr, size_t len) {
    *out = nullptr;
    int rc;
    do {
        rc = ::connect(fd, addr, socklen_t(len));
    } while (rc != 0 && errno == EINTR);
    bool pending = false;
    if (rc != 0) {
        if (errno != EINPROGRESS) return os_error(errno);
        pending = true;
    }
    // Registered after connect started, with no readiness assumed: the
    // event that ends the connect is the first one.
    rc = IoSource::create(out, core, fd, pending ? 0 : (kIoRead | kIoWrite));
    if (rc != BRAID_OK) return rc;
    return pending ? BRAID_PENDING : BRAID_OK;
}

int poll_connect(IoSource* s, braid_wake_fn wake, void* data) {
    if (!wake) {
        s->unregister(kIoWrite, data);
        return BRAID_PENDING;
    }
    for (;;) {
        uint32_t token = 0;
        int rc = s->poll_ready(kIoWrite, wake, data, &token);
        if (rc != 0) return rc;
        int err = 0;
        socklen_t el = sizeof err;
        if (getsockopt(s->fd(), SOL_SOCKET, SO_ERROR, &err, &el) != 0) return os_error(errno);
        if (err != 0) return os_error(err);
        sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        if (getpeername(s->fd(), reinterpret_cast<sockaddr*>(&ss), &sl) == 0) return BRAID_OK;
        if (errno != ENOTCONN) return os_error(errno);
        // Not connected and no error pending: the connect failed earlier
        // (its error was reported then) if the socket was closed, else it
        // is not done yet: wait for the next event.
        if (s->closed_seen(kIoWrite)) return os_error(ENOTCONN);
        s->clear_ready(kIoWrite, token);
    }
}

namespace {
// Errors accept(2) reports about one pending connection, not the listener:
// the client gave up before it was accepted (ECONNABORTED), or, as accept(2)
// says of Linux, a network error already pending on the new socket
// (ENETDOWN, EPROTO, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH,
// EOPNOTSUPP, ENETUNREACH), or a firewall rule refused it (EPERM).  The
// connection is gone from the queue: accept the next one.  (Each retry
// consumes a queued connection, so this ends with one accepted or EAGAIN.)
bool per_connection_accept_error(int e) {
    switch (e) {
        case ECONNABORTED: case EPROTO: case ENOPROTOOPT: case EHOSTDOWN: case ENONET: case EHOSTUNREACH:
        case EOPNOTSUPP: case ENETUNREACH: case ENETDOWN: case EPERM:
            return true;
        default:
            return false;
    }
}
}  // namespace

int poll_accept(IoSource* s, braid_wake_fn wake, void* data, int* out_fd, sockaddr_storage* peer, size_t* peer_len) {
    ssize_t fd = -1;
    sockaddr_storage ss;
    socklen_t sl = 0;
    int rc = s->poll_op(kIoRead, wake, data, 0, &fd, [&]() -> ssize_t {
        // Bounded, in case an error listed there were the listener's own after all.
        for (int skipped = 0;; ++skipped) {
            sl = sizeof ss;
            int f = ::accept4(s->fd(), reinterpret_cast<sockaddr*>(&ss), &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
            // That connection failed: take the next one.
            if (f < 0 && skipped < 1024 && per_connection_accept_error(errno)) continue;
            return f;
        }
    });
    if (rc != 0) return rc;
    *out_fd = int(fd);
    if (peer) {
        std::memcpy(peer, &ss, sl <= sizeof ss ? sl : sizeof ss);
        if (peer_len) *peer_len = sl;
    }
    return BRAID_OK;
}

int poll_read(IoSource* s, void* buf, size_t len, braid_wake_fn wake, void* data, size_t* n) {
    if (!wake) return unregistered(s, kIoRead, data);
    if (!buf || len == 0) return BRAID_EINVAL;
    ssize_t r = 0;
    int rc = s->poll_op(kIoRead, wake, data, len, &r, [&] { return sys_recv(s->fd(), buf, len, 0); });
    if (rc == 0) *n = size_t(r);
    return rc;
}

int poll_peek(IoSource* s, void* buf, size_t len, braid_wake_fn wake, void* data, size_t* n) {
    if (!wake) return unregistered(s, kIoRead, data);
    if (!buf || len == 0) return BRAID_EINVAL;
    ssize_t r = 0;
    // `full` 0: a short peek drains nothing, so it keeps the readiness.
    int rc = s->poll_op(kIoRead, wake, data, 0, &r, [&] { return sys_recv(s->fd(), buf, len, MSG_PEEK); });
    // An end of file seen because a close shut the socket down under the
    // peek is the close's (as for a read).
    if (rc == 0 && r == 0 && s->closed()) return BRAID_ECLOSED;
    if (rc == 0) *n = size_t(r);
    return rc;
}

int poll_write(IoSource* s, const void* buf, size_t len, braid_wake_fn wake, void* data, size_t* n) {
    if (!wake) return unregistered(s, kIoWrite, data);
    if (!buf && len) return BRAID_EINVAL;
    if (len == 0) {
        if (s->closed()) return BRAID_ECLOSED;
        *n = 0;
        return BRAID_OK;
    }
    ssize_t r = 0;
    int rc = s->poll_op(kIoWrite, wake, data, len, &r, [&] { return sys_send(s->fd(), buf, len, MSG_NOSIGNAL); });
    if (rc == 0) *n = size_t(r);
    return rc;
}

int poll_pipe_read(IoSource* s, void* buf, size_t len, braid_wake_fn wake, void* data, size_t* n) {
    if (!wake) return unregistered(s, kIoRead, data);
    if (!buf || len == 0) return BRAID_EINVAL;
    ssize_t r = 0;
    int rc = s->poll_op(kIoRead, wake, data, len, &r, [&] { return ::read(s->fd(), buf, len); });
    if (rc == 0) *n = size_t(r);
    return rc;
}

int poll_pipe_write(IoSource* s, const void* buf, size_t len, braid_wake_fn wake, void* data, size_t* n) {
    if (!wake) return unregistered(s, kIoWrite, data);
    if (!buf && len) return BRAID_EINVAL;
    if (len == 0) {
        if (s->closed()) return BRAID_ECLOSED;
        *n = 0;
        return BRAID_OK;
    }
    ssize_t r = 0;
    int rc = s->poll_op(kIoWrite, wake, data, len, &r, [&] { return no_sigpipe([&] { return ::write(s->fd(), buf, len); }); });
    if (rc == 0) *n = size_t(r);
    return rc;
}

int poll_writev(IoSource* s, const iovec* iov, int count, bool pipe, braid_wake_fn wake, void* data, size_t* n) {
    if (!wake) return unregistered(s, kIoWrite, data);
    size_t total = 0;
    for (int i = 0; i < count; ++i) total += iov[i].iov_len;
    if (total == 0) {
        if (s->closed()) return BRAID_ECLOSED;
        *n = 0;
        return BRAID_OK;
    }
    ssize_t r = 0;
    int rc = s->poll_op(kIoWrite, wake, data, total, &r, [&]() -> ssize_t {
        if (pipe) return no_sigpipe([&] { return ::writev(s->fd(), iov, count); });
        msghdr m{};
        m.msg_iov = const_cast<iovec*>(iov);
        m.msg_iovlen = size_t(count);
        return ::sendmsg(s->fd(), &m, MSG_NOSIGNAL);
    });
    if (rc == 0) *n = size_t(r);
    return rc;
}

int poll_readv(IoSource* s, const iovec* iov, int count, bool pipe, braid_wake_fn wake, void* data, size_t* n) {
    if (!wake) return unregistered(s, kIoRead, data);
    size_t total = 0;
    for (int i = 0; i < count; ++i) total += iov[i].iov_len;
    if (total == 0) return BRAID_EINVAL;  // 0 would read as end of file
    ssize_t r = 0;
    int rc = s->poll_op(kIoRead, wake, data, total, &r, [&]() -> ssize_t {
        if (pipe) return ::readv(s->fd(), iov, count);
        msghdr m{};
        m.msg_iov = const_cast<iovec*>(iov);
        m.msg_iovlen = size_t(count);
        return ::recvmsg(s->fd(), &m, 0);
    });
    if (rc == 0) *n = size_t(r);
    return rc;
}

int poll_send_to(IoSource* s, const void* buf, size_t len, const sockaddr* addr, size_t addr_len, braid_wake_fn wake,
                 void* data, size_t* n) {
    if (!wake) return unregistered(s, kIoWrite, data);
    if (!buf && len) return BRAID_EINVAL;
    ssize_t r = 0;
    int rc = s->poll_op(kIoWrite, wake, data, 0, &r, [&] {
        return ::sendto(s->fd(), buf, len, MSG_NOSIGNAL, addr, addr ? socklen_t(addr_len) : 0);
    });
    if (rc == 0) *n = size_t(r);
    return rc;
}

int poll_recv_from(IoSource* s, void* buf, size_t len, int flags, sockaddr_storage* from, size_t* from_len,
                   braid_wake_fn wake, void* data, size_t* n) {
    if (!wake) return unregistered(s, kIoRead, data);
    if (!buf || len == 0) return BRAID_EINVAL;
    ssize_t r = 0;
    sockaddr_storage ss;
    socklen_t sl = 0;
    int rc = s->poll_op(kIoRead, wake, data, 0, &r, [&] {
        sl = sizeof ss;
        return ::recvfrom(s->fd(), buf, len, flags, reinterpret_cast<sockaddr*>(&ss), &sl);
    });
    if (rc != 0) return rc;
    *n = size_t(r);
    if (from) {
        std::memcpy(from, &ss, sl <= sizeof ss ? sl : sizeof ss);
        if (from_len) *from_len = sl;
    }
    return BRAID_OK;
}

int local_addr(int fd, sockaddr_storage* out, size_t* out_len) {
    socklen_t sl = sizeof *out;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(out), &sl) != 0) return os_error(errno);
    *out_len = sl;
    return BRAID_OK;
}

int peer_addr(int fd, sockaddr_storage* out, size_t* out_len) {
    socklen_t sl = sizeof *out;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(out), &sl) != 0) return os_error(errno);
    *out_len = sl;
    return BRAID_OK;
}

int set_flag(int fd, int level, int opt, int on) {
    int v = on;
    if (::setsockopt(fd, level, opt, &v, sizeof v) != 0) return os_error(errno);
    return BRAID_OK;
}

int get_flag(int fd, int level, int opt) {
    int v = 0;
    socklen_t l = sizeof v;
    if (::getsockopt(fd, level, opt, &v, &l) != 0) return os_error(errno);
    return v ? 1 : 0;
}

int get_int(int fd, int level, int opt) {
    int v = 0;
    socklen_t l = sizeof v;
    if (::getsockopt(fd, level, opt, &v, &l) != 0) return os_error(errno);
    return v;
}

int set_linger(int fd, int seconds) {
    if (seconds < -1) return BRAID_EINVAL;
    linger l{};
    l.l_onoff = seconds >= 0;
    l.l_linger = seconds >= 0 ? seconds : 0;
    if (::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) != 0) return os_error(errno);
    return BRAID_OK;
}

int get_linger(int fd, int* out) {
    linger l{};
    socklen_t sl = sizeof l;
    if (::getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &sl) != 0) return os_error(errno);
    *out = l.l_onoff ? l.l_linger : -1;
    return BRAID_OK;
}

namespace {
bool is_v6(int fd) {
    sockaddr_storage ss;
    size_t len = 0;
    return local_addr(fd, &ss, &len) == BRAID_OK && ss.ss_family == AF_INET6;
}
}  // namespace

int set_ttl(int fd, int ttl) {
    if (ttl < 1 || ttl > 255) return BRAID_ERANGE;
    return is_v6(fd) ? set_flag(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl) : set_flag(fd, IPPROTO_IP, IP_TTL, ttl);
}

int get_ttl(int fd) {
    return is_v6(fd) ? get_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS) : get_int(fd, IPPROTO_IP, IP_TTL);
}

int peer_cred(int fd, int* pid, unsigned* uid, unsigned* gid) {
    ucred c{};
    socklen_t l = sizeof c;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &l) != 0) return os_error(errno);
    if (pid) *pid = c.pid;
    if (uid) *uid = c.uid;
    if (gid) *gid = c.gid;
    return BRAID_OK;
}

int poll_send_fds(IoSource* s, const void* buf, size_t len, const int* fds, size_t nfds, braid_wake_fn wake,
                  void* data, size_t* n) {
    if (!wake) return unregistered(s, kIoWrite, data);
    if ((!buf && len) || len == 0 || (nfds && !fds) || nfds > kMaxFds) return BRAID_EINVAL;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
    ssize_t r = 0;
    int rc = s->poll_op(kIoWrite, wake, data, len, &r, [&]() -> ssize_t {
        iovec iov{const_cast<void*>(buf), len};
        msghdr m{};
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        if (nfds) {
            m.msg_control = control;
            m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
            std::memset(control, 0, m.msg_controllen);
            cmsghdr* c = CMSG_FIRSTHDR(&m);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
            std::memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
        }
        return ::sendmsg(s->fd(), &m, MSG_NOSIGNAL);
    });
    if (rc == 0) *n = size_t(r);
    return rc;
}

int poll_recv_fds(IoSource* s, void* buf, size_t len, int* fds, size_t cap, size_t* nfds, braid_wake_fn wake,
                  void* data, size_t* n) {
    if (!wake) return unregistered(s, kIoRead, data);
    if (!buf || len == 0 || (cap && !fds) || !nfds) return BRAID_EINVAL;
    *nfds = 0;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
    ssize_t r = 0;
    int rc = s->poll_op(kIoRead, wake, data, len, &r, [&]() -> ssize_t {
        iovec iov{buf, len};
        msghdr m{};
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        m.msg_control = control;
        // Room for `cap` fds only: the kernel closes what does not fit.
        m.msg_controllen = cap ? CMSG_SPACE(sizeof(int) * std::min(cap, kMaxFds)) : 0;
        ssize_t got = ::recvmsg(s->fd(), &m, MSG_CMSG_CLOEXEC);
        if (got < 0) return got;
        for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < k; ++i) {
                int f;
                std::memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
                if (*nfds < cap) fds[(*nfds)++] = f;
                else ::close(f);
            }
        }
        return got;
    });
    if (rc != 0) return rc;
    *n = size_t(r);
    return BRAID_OK;
}

int check_socket_fd(int fd, const SocketKind& want) {
    if (fd < 0) return BRAID_EBADF;
    auto opt = [fd](int name, int* v) {
        socklen_t l = sizeof *v;
        return ::getsockopt(fd, SOL_SOCKET, name, v, &l) == 0;
    };
    int type = 0, domain = 0, protocol = 0, listening = 0;
    // Not an open socket (closed, a pipe, a regular file): not ours to watch.
    if (!opt(SO_TYPE, &type)) return BRAID_EBADF;
    if (!opt(SO_DOMAIN, &domain) || !opt(SO_PROTOCOL, &protocol)) return os_error(errno);
    if (type != want.type || (domain != want.family && domain != want.family2)) return BRAID_EINVAL;
    if (protocol != want.protocol) return BRAID_EINVAL;
    if (type == SOCK_STREAM) {
        if (!opt(SO_ACCEPTCONN, &listening)) return os_error(errno);
        if ((listening != 0) != want.listening) return BRAID_EINVAL;
    }
    return BRAID_OK;
}

}  // namespace braid::detail::net
