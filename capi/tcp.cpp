// extern "C" shims: TCP listeners and streams.
#include <braid/tcp.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "io/byte_stream.hpp"
#include "io_shim.hpp"

using braid::capi::core_or_current;
using braid::capi::guarded;
using braid::capi::io::any_fn;
using braid::capi::io::deliver;
using braid::capi::io::Handle;
using braid::capi::io::wrap_or_close;
using braid::capi::io::wrap_fd;
using braid::detail::Core;
using braid::detail::IoSource;
namespace net = braid::detail::net;
namespace io_op = braid::detail::io_op;
namespace bs_ = braid::detail::byte_stream;

struct braid_tcp_listener {
    Handle io;
};
struct braid_tcp_stream {
    Handle io;
};
// Not registered with the reactor until it listens or connects.
struct braid_tcp_socket {
    Core* core;
    int fd;
};

namespace {

int check_addr(const sockaddr* addr, size_t len) { return net::check_inet(addr, len); }

bool usable(const braid_tcp_stream* s) { return s && s->io.src; }

// An option of an open stream: BRAID_EINVAL, BRAID_ECLOSED, or fn(fd).
template <class F>
int stream_opt(const braid_tcp_stream* s, F fn) {
    if (!usable(s)) return BRAID_EINVAL;
    if (s->io.src->closed()) return BRAID_ECLOSED;
    return fn(s->io.src->fd());
}

// An option of a socket not yet listening or connected.
template <class F>
int socket_opt(const braid_tcp_socket* s, F fn) {
    if (!s) return BRAID_EINVAL;
    return fn(s->fd);
}

void free_socket(braid_tcp_socket* s) {
    s->core->unref();
    delete s;
}

// The runtime for a new socket: BRAID_EINVAL (none), BRAID_ESHUTDOWN.
int runtime_for(braid_runtime* rt, Core** out) {
    *out = core_or_current(rt);
    if (!*out) return BRAID_EINVAL;
    return (*out)->shutting_down() ? BRAID_ESHUTDOWN : BRAID_OK;
}

}  // namespace

extern "C" {

// ---- listener -----------------------------------------------------------------

BRAID_API int braid_tcp_listener_bind(braid_tcp_listener** out, braid_runtime* rt, const struct sockaddr* addr,
                                      size_t addr_len, int backlog) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (int rc = check_addr(addr, addr_len)) return rc;
    Core* core = nullptr;
    if (int rc = runtime_for(rt, &core)) return rc;
    return guarded([&] {
        IoSource* src = nullptr;
        int rc = net::open_bound(&src, core, addr->sa_family, SOCK_STREAM, addr, addr_len,
                                 backlog > 0 ? backlog : 1024, true);
        if (rc != BRAID_OK) return rc;
        return wrap_or_close(out, core, src);
    });
}

BRAID_API int braid_tcp_listener_bind_host(braid_task** out, braid_runtime* rt, const char* host, int port,
                                           int backlog, braid_tcp_listener_callback cb, void* user_data) {
    if (out) *out = nullptr;
    Core* core = nullptr;
    if (int rc = runtime_for(rt, &core)) return rc;
    return io_op::start_bind_host(out, core, host, port, backlog, &deliver<braid_tcp_listener>, any_fn(cb), user_data);
}

BRAID_API int braid_tcp_listener_from_fd(braid_tcp_listener** out, braid_runtime* rt, int fd) {
    return braid::capi::io::adopt_fd(out, rt, fd, net::SocketKind{AF_INET, AF_INET6, SOCK_STREAM, IPPROTO_TCP, true});
}

BRAID_API int braid_tcp_listener_local_addr(const braid_tcp_listener* l, struct sockaddr_storage* out,
                                            size_t* out_len) {
    if (!l || !l->io.src || !out || !out_len) return BRAID_EINVAL;
    if (l->io.src->closed()) return BRAID_ECLOSED;
    return net::local_addr(l->io.src->fd(), out, out_len);
}

BRAID_API int braid_tcp_listener_poll_accept(braid_tcp_listener* l, braid_tcp_stream** out,
                                             struct sockaddr_storage* peer, size_t* peer_len, braid_wake_fn wake,
                                             void* wake_data) {
    if (out) *out = nullptr;
    if (!l || !l->io.src || (!out && wake)) return BRAID_EINVAL;
    int fd = -1;
    int rc = net::poll_accept(l->io.src, wake, wake_data, &fd, peer, peer_len);
    if (rc != BRAID_OK) return rc;
    return guarded([&] { return wrap_fd(out, l->io.core, fd); });
}

BRAID_API int braid_tcp_listener_accept(braid_task** out, braid_tcp_listener* l, braid_tcp_stream_callback cb,
                                        void* user_data) {
    return io_op::start_accept(out, l ? &l->io : nullptr, false, &deliver<braid_tcp_stream>, any_fn(cb), user_data);
}

BRAID_API int braid_tcp_listener_accept_start(braid_task** out, braid_tcp_listener* l, braid_tcp_stream_callback cb,
                                              void* user_data) {
    return io_op::start_accept(out, l ? &l->io : nullptr, true, &deliver<braid_tcp_stream>, any_fn(cb), user_data);
}

BRAID_API int braid_tcp_listener_accept_stop(braid_tcp_listener* l) { return io_op::accept_stop(l ? &l->io : nullptr); }

BRAID_API int braid_tcp_listener_fd(const braid_tcp_listener* l) {
    return l && l->io.src ? l->io.src->fd() : BRAID_EINVAL;
}

BRAID_API int braid_tcp_listener_into_fd(braid_tcp_listener* l) { return braid::capi::io::into_fd(l); }

BRAID_API int braid_tcp_listener_close(braid_tcp_listener* l) {
    if (!l) return BRAID_EINVAL;
    return l->io.close();
}

BRAID_API void braid_tcp_listener_free(braid_tcp_listener* l) { braid::capi::io::free_handle(l); }

// ---- connecting -------------------------------------------------------------------

BRAID_API int braid_tcp_connect(braid_task** out, braid_runtime* rt, const struct sockaddr* addr, size_t addr_len,
                                braid_tcp_stream_callback cb, void* user_data) {
    if (out) *out = nullptr;
    if (!cb) return BRAID_EINVAL;
    if (int rc = check_addr(addr, addr_len)) return rc;
    Core* core = nullptr;
    if (int rc = runtime_for(rt, &core)) return rc;
    return io_op::start_connect(out, core, addr, addr_len, &deliver<braid_tcp_stream>, any_fn(cb), user_data);
}

BRAID_API int braid_tcp_connect_host(braid_task** out, braid_runtime* rt, const char* host, int port,
                                     braid_tcp_stream_callback cb, void* user_data) {
    if (out) *out = nullptr;
    Core* core = nullptr;
    if (int rc = runtime_for(rt, &core)) return rc;
    return io_op::start_connect_host(out, core, host, port, &deliver<braid_tcp_stream>, any_fn(cb), user_data);
}

BRAID_API int braid_tcp_stream_connect_start(braid_tcp_stream** out, braid_runtime* rt, const struct sockaddr* addr,
                                             size_t addr_len) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (int rc = check_addr(addr, addr_len)) return rc;
    Core* core = nullptr;
    if (int rc = runtime_for(rt, &core)) return rc;
    return guarded([&] {
        IoSource* src = nullptr;
        int rc = net::open_connect(&src, core, addr->sa_family, addr, addr_len);
        if (rc < 0) return rc;
        return wrap_or_close(out, core, src);
    });
}

BRAID_API int braid_tcp_stream_poll_connect(braid_tcp_stream* s, braid_wake_fn wake, void* wake_data) {
    if (!usable(s)) return BRAID_EINVAL;
    return net::poll_connect(s->io.src, wake, wake_data);
}

BRAID_API int braid_tcp_stream_from_fd(braid_tcp_stream** out, braid_runtime* rt, int fd) {
    return braid::capi::io::adopt_fd(out, rt, fd, net::SocketKind{AF_INET, AF_INET6, SOCK_STREAM, IPPROTO_TCP, false});
}

// ---- a socket configured before it connects or listens ----------------------------

BRAID_API int braid_tcp_socket_new(braid_tcp_socket** out, braid_runtime* rt, int family) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (family != AF_INET && family != AF_INET6) return BRAID_EINVAL;
    Core* core = nullptr;
    if (int rc = runtime_for(rt, &core)) return rc;
    return guarded([&] {
        int fd = net::new_socket(family, SOCK_STREAM);
        if (fd < 0) return fd;
        auto* s = new (std::nothrow) braid_tcp_socket{core, fd};
        if (!s) {
            ::close(fd);
            return int(BRAID_ENOMEM);
        }
        core->ref();
        *out = s;
        return int(BRAID_OK);
    });
}

BRAID_API int braid_tcp_socket_from_fd(braid_tcp_socket** out, braid_runtime* rt, int fd) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    Core* core = nullptr;
    if (int rc = runtime_for(rt, &core)) return rc;
    if (int rc = net::check_socket_fd(fd, net::SocketKind{AF_INET, AF_INET6, SOCK_STREAM, IPPROTO_TCP, false}))
        return rc;
    sockaddr_storage ss;
    size_t len = 0;
    if (net::peer_addr(fd, &ss, &len) == BRAID_OK) return BRAID_EINVAL;  // connected: a stream
    int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) return BRAID_EBADF;
    auto* s = new (std::nothrow) braid_tcp_socket{core, fd};
    if (!s) return BRAID_ENOMEM;
    core->ref();
    *out = s;
    return BRAID_OK;
}

BRAID_API int braid_tcp_socket_set_reuseaddr(braid_tcp_socket* s, int on) {
    return socket_opt(s, [&](int fd) { return net::set_flag(fd, SOL_SOCKET, SO_REUSEADDR, on ? 1 : 0); });
}
BRAID_API int braid_tcp_socket_reuseaddr(const braid_tcp_socket* s) {
    return socket_opt(s, [&](int fd) { return net::get_flag(fd, SOL_SOCKET, SO_REUSEADDR); });
}
BRAID_API int braid_tcp_socket_set_reuseport(braid_tcp_socket* s, int on) {
    return socket_opt(s, [&](int fd) { return net::set_flag(fd, SOL_SOCKET, SO_REUSEPORT, on ? 1 : 0); });
}
BRAID_API int braid_tcp_socket_reuseport(const braid_tcp_socket* s) {
    return socket_opt(s, [&](int fd) { return net::get_flag(fd, SOL_SOCKET, SO_REUSEPORT); });
}
BRAID_API int braid_tcp_socket_set_send_buffer_size(braid_tcp_socket* s, int size) {
    if (size <= 0) return BRAID_EINVAL;
    return socket_opt(s, [&](int fd) { return net::set_flag(fd, SOL_SOCKET, SO_SNDBUF, size); });
}
BRAID_API int braid_tcp_socket_send_buffer_size(const braid_tcp_socket* s) {
    return socket_opt(s, [&](int fd) { return net::get_int(fd, SOL_SOCKET, SO_SNDBUF); });
}
BRAID_API int braid_tcp_socket_set_recv_buffer_size(braid_tcp_socket* s, int size) {
    if (size <= 0) return BRAID_EINVAL;
    return socket_opt(s, [&](int fd) { return net::set_flag(fd, SOL_SOCKET, SO_RCVBUF, size); });
}
BRAID_API int braid_tcp_socket_recv_buffer_size(const braid_tcp_socket* s) {
    return socket_opt(s, [&](int fd) { return net::get_int(fd, SOL_SOCKET, SO_RCVBUF); });
}
BRAID_API int braid_tcp_socket_set_nodelay(braid_tcp_socket* s, int on) {
    return socket_opt(s, [&](int fd) { return net::set_flag(fd, IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0); });
}
BRAID_API int braid_tcp_socket_nodelay(const braid_tcp_socket* s) {
    return socket_opt(s, [&](int fd) { return net::get_flag(fd, IPPROTO_TCP, TCP_NODELAY); });
}
BRAID_API int braid_tcp_socket_set_keepalive(braid_tcp_socket* s, int on) {
    return socket_opt(s, [&](int fd) { return net::set_flag(fd, SOL_SOCKET, SO_KEEPALIVE, on ? 1 : 0); });
}
BRAID_API int braid_tcp_socket_keepalive(const braid_tcp_socket* s) {
    return socket_opt(s, [&](int fd) { return net::get_flag(fd, SOL_SOCKET, SO_KEEPALIVE); });
}
BRAID_API int braid_tcp_socket_set_linger(braid_tcp_socket* s, int seconds) {
    return socket_opt(s, [&](int fd) { return net::set_linger(fd, seconds); });
}
BRAID_API int braid_tcp_socket_linger(const braid_tcp_socket* s, int* out_seconds) {
    if (!out_seconds) return BRAID_EINVAL;
    return socket_opt(s, [&](int fd) { return net::get_linger(fd, out_seconds); });
}

BRAID_API int braid_tcp_socket_bind(braid_tcp_socket* s, const struct sockaddr* addr, size_t addr_len) {
    if (!s) return BRAID_EINVAL;
    if (int rc = check_addr(addr, addr_len)) return rc;
    if (::bind(s->fd, addr, socklen_t(addr_len)) != 0) return braid::detail::os_error(errno);
    return BRAID_OK;
}

BRAID_API int braid_tcp_socket_local_addr(const braid_tcp_socket* s, struct sockaddr_storage* out, size_t* out_len) {
    if (!out || !out_len) return BRAID_EINVAL;
    return socket_opt(s, [&](int fd) { return net::local_addr(fd, out, out_len); });
}

BRAID_API int braid_tcp_socket_listen(braid_tcp_socket* s, int backlog, braid_tcp_listener** out) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!s) return BRAID_EINVAL;
    if (s->core->shutting_down()) return BRAID_ESHUTDOWN;
    if (::listen(s->fd, backlog > 0 ? backlog : 1024) != 0) return braid::detail::os_error(errno);
    return guarded([&] {
        auto* l = new (std::nothrow) braid_tcp_listener;  // first: on failure s stays whole
        if (!l) return int(BRAID_ENOMEM);
        IoSource* src = nullptr;
        int rc = IoSource::create(&src, s->core, s->fd);
        if (rc != BRAID_OK) {
            delete l;
            return rc;
        }
        l->io.adopt(s->core, src);
        free_socket(s);
        *out = l;
        return int(BRAID_OK);
    });
}

BRAID_API int braid_tcp_socket_connect_start(braid_tcp_socket* s, const struct sockaddr* addr, size_t addr_len,
                                             braid_tcp_stream** out) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!s) return BRAID_EINVAL;
    if (int rc = check_addr(addr, addr_len)) return rc;
    if (s->core->shutting_down()) return BRAID_ESHUTDOWN;
    return guarded([&] {
        auto* h = new (std::nothrow) braid_tcp_stream;  // first: on failure s stays whole
        if (!h) return int(BRAID_ENOMEM);
        IoSource* src = nullptr;
        int rc = net::connect_fd(&src, s->core, s->fd, addr, addr_len);
        if (rc < 0) {
            delete h;
            return rc;
        }
        h->io.adopt(s->core, src);
        free_socket(s);
        *out = h;
        return rc;
    });
}

BRAID_API int braid_tcp_socket_fd(const braid_tcp_socket* s) { return s ? s->fd : BRAID_EINVAL; }

BRAID_API void braid_tcp_socket_free(braid_tcp_socket* s) {
    if (!s) return;
    ::close(s->fd);
    free_socket(s);
}

// ---- peeking, the byte stream ------------------------------------------------------

BRAID_API int braid_tcp_stream_poll_peek(braid_tcp_stream* s, void* buf, size_t len, braid_wake_fn wake,
                                         void* wake_data, size_t* out_n) {
    if (!usable(s) || !out_n) return BRAID_EINVAL;
    return bs_::poll_peek(&s->io, buf, len, wake, wake_data, out_n);
}

BRAID_API int braid_tcp_stream_peek(braid_task** out, braid_tcp_stream* s, void* buf, size_t len,
                                    braid_io_callback cb, void* user_data) {
    return bs_::start(out, s ? &s->io : nullptr, bs_::Xfer::Peek, buf, len, cb, user_data);
}

BRAID_API braid_byte_stream* braid_tcp_stream_as_byte_stream(braid_tcp_stream* s) {
    return s ? braid::capi::io::as_byte_stream(&s->io) : nullptr;
}

// ---- options, addresses, closing ----------------------------------------------------

BRAID_API int braid_tcp_stream_set_nodelay(braid_tcp_stream* s, int on) {
    return stream_opt(s, [&](int fd) { return net::set_flag(fd, IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0); });
}

BRAID_API int braid_tcp_stream_nodelay(const braid_tcp_stream* s) {
    return stream_opt(s, [&](int fd) { return net::get_flag(fd, IPPROTO_TCP, TCP_NODELAY); });
}

BRAID_API int braid_tcp_stream_set_keepalive(braid_tcp_stream* s, int on) {
    return stream_opt(s, [&](int fd) { return net::set_flag(fd, SOL_SOCKET, SO_KEEPALIVE, on ? 1 : 0); });
}

BRAID_API int braid_tcp_stream_keepalive(const braid_tcp_stream* s) {
    return stream_opt(s, [&](int fd) { return net::get_flag(fd, SOL_SOCKET, SO_KEEPALIVE); });
}

BRAID_API int braid_tcp_stream_set_linger(braid_tcp_stream* s, int seconds) {
    return stream_opt(s, [&](int fd) { return net::set_linger(fd, seconds); });
}

BRAID_API int braid_tcp_stream_linger(const braid_tcp_stream* s, int* out_seconds) {
    if (!out_seconds) return BRAID_EINVAL;
    return stream_opt(s, [&](int fd) { return net::get_linger(fd, out_seconds); });
}

BRAID_API int braid_tcp_stream_set_ttl(braid_tcp_stream* s, int ttl) {
    return stream_opt(s, [&](int fd) { return net::set_ttl(fd, ttl); });
}

BRAID_API int braid_tcp_stream_ttl(const braid_tcp_stream* s) {
    return stream_opt(s, [&](int fd) { return net::get_ttl(fd); });
}

BRAID_API int braid_tcp_stream_local_addr(const braid_tcp_stream* s, struct sockaddr_storage* out, size_t* out_len) {
    if (!out || !out_len) return BRAID_EINVAL;
    return stream_opt(s, [&](int fd) { return net::local_addr(fd, out, out_len); });
}

BRAID_API int braid_tcp_stream_peer_addr(const braid_tcp_stream* s, struct sockaddr_storage* out, size_t* out_len) {
    if (!out || !out_len) return BRAID_EINVAL;
    return stream_opt(s, [&](int fd) { return net::peer_addr(fd, out, out_len); });
}

BRAID_API int braid_tcp_stream_fd(const braid_tcp_stream* s) { return usable(s) ? s->io.src->fd() : BRAID_EINVAL; }

BRAID_API int braid_tcp_stream_into_fd(braid_tcp_stream* s) { return braid::capi::io::into_fd(s); }

BRAID_API int braid_tcp_stream_close(braid_tcp_stream* s) {
    if (!s) return BRAID_EINVAL;
    return s->io.close();
}

BRAID_API void braid_tcp_stream_free(braid_tcp_stream* s) { braid::capi::io::free_handle(s); }

}  // extern "C"
