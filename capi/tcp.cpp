// extern "C" shims: TCP listeners and streams.
#include <braid/tcp.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "io_shim.hpp"

using braid::capi::core_or_current;
using braid::capi::guarded;
using braid::capi::spawn_state;
using braid::capi::io::AcceptOp;
using braid::capi::io::ConnectOp;
using braid::capi::io::Handle;
using braid::capi::io::wrap;
using braid::capi::io::wrap_fd;
using braid::detail::Core;
using braid::detail::IoSource;
using braid::detail::TaskKind;
namespace net = braid::detail::net;

struct braid_tcp_listener {
    Handle io;
};
struct braid_tcp_stream {
    Handle io;
};

namespace {


struct MadeAccepted {
    int operator()(braid_tcp_stream** out, Core* c, int fd) const { return wrap_fd(out, c, fd); }
};
struct MadeConnected {
    int operator()(braid_tcp_stream** out, Core* c, IoSource* s) const { return wrap(out, c, s); }
};

int check_addr(const sockaddr* addr, size_t len) { return net::check_inet(addr, len); }

bool usable(const braid_tcp_stream* s) { return s && s->io.src; }

}  // namespace

extern "C" {

// ---- listener -----------------------------------------------------------------

BRAID_API int braid_tcp_listener_bind(braid_tcp_listener** out, braid_runtime* rt, const struct sockaddr* addr,
                                      size_t addr_len, int backlog) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (int rc = check_addr(addr, addr_len)) return rc;
    Core* core = core_or_current(rt);
    if (!core) return BRAID_EINVAL;
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return guarded([&] {
        IoSource* src = nullptr;
        int rc = net::open_bound(&src, core, addr->sa_family, SOCK_STREAM, addr, addr_len,
                                 backlog > 0 ? backlog : 1024, true);
        if (rc != BRAID_OK) return rc;
        auto* l = new (std::nothrow) braid_tcp_listener;
        if (!l) {
            src->close();
            src->unref();
            return int(BRAID_ENOMEM);
        }
        l->io.adopt(core, src);
        *out = l;
        return int(BRAID_OK);
    });
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
    if (out) *out = nullptr;
    if (!l || !l->io.src || !cb) return BRAID_EINVAL;
    if (l->io.src->closed()) return BRAID_ECLOSED;
    if (l->io.core->shutting_down()) return BRAID_ESHUTDOWN;
    if (!l->io.src->try_claim(braid::capi::io::kClaimRead)) return BRAID_EBUSY;
    using Op = AcceptOp<braid_tcp_stream, MadeAccepted>;
    int rc = guarded([&] {
        return spawn_state<Op>(out, l->io.core, TaskKind::Worker, l->io.src, l->io.core, cb, user_data, MadeAccepted{});
    });
    if (rc == BRAID_ENOMEM) l->io.src->release_claim(braid::capi::io::kClaimRead);
    return rc;
}

BRAID_API int braid_tcp_listener_fd(const braid_tcp_listener* l) {
    return l && l->io.src ? l->io.src->fd() : BRAID_EINVAL;
}

BRAID_API int braid_tcp_listener_close(braid_tcp_listener* l) {
    if (!l) return BRAID_EINVAL;
    return l->io.close();
}

BRAID_API void braid_tcp_listener_free(braid_tcp_listener* l) {
    if (!l) return;
    l->io.free();
    delete l;
}

// ---- connecting -------------------------------------------------------------------

BRAID_API int braid_tcp_connect(braid_task** out, braid_runtime* rt, const struct sockaddr* addr, size_t addr_len,
                                braid_tcp_stream_callback cb, void* user_data) {
    if (out) *out = nullptr;
    if (!cb) return BRAID_EINVAL;
    if (int rc = check_addr(addr, addr_len)) return rc;
    Core* core = core_or_current(rt);
    if (!core) return BRAID_EINVAL;
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    using Op = ConnectOp<braid_tcp_stream, MadeConnected>;
    return guarded([&] {
        return spawn_state<Op>(out, core, TaskKind::Worker, core, int(addr->sa_family), addr, addr_len, cb, user_data,
                               MadeConnected{});
    });
}

BRAID_API int braid_tcp_stream_connect_start(braid_tcp_stream** out, braid_runtime* rt, const struct sockaddr* addr,
                                             size_t addr_len) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (int rc = check_addr(addr, addr_len)) return rc;
    Core* core = core_or_current(rt);
    if (!core) return BRAID_EINVAL;
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return guarded([&] {
        IoSource* src = nullptr;
        int rc = net::open_connect(&src, core, addr->sa_family, addr, addr_len);
        if (rc < 0) return rc;
        rc = wrap(out, core, src);
        if (rc != BRAID_OK) {
            src->close();
            src->unref();
        }
        return rc;
    });
}

BRAID_API int braid_tcp_stream_poll_connect(braid_tcp_stream* s, braid_wake_fn wake, void* wake_data) {
    if (!usable(s)) return BRAID_EINVAL;
    return net::poll_connect(s->io.src, wake, wake_data);
}

BRAID_API int braid_tcp_stream_from_fd(braid_tcp_stream** out, braid_runtime* rt, int fd) {
    return braid::capi::io::adopt_fd(out, rt, fd, net::SocketKind{AF_INET, AF_INET6, SOCK_STREAM, IPPROTO_TCP, false});
}

// ---- reading and writing ----------------------------------------------------------

BRAID_API int braid_tcp_stream_poll_read(braid_tcp_stream* s, void* buf, size_t len, braid_wake_fn wake,
                                         void* wake_data, size_t* out_n) {
    if (!usable(s) || !out_n) return BRAID_EINVAL;
    return net::poll_read(s->io.src, buf, len, wake, wake_data, out_n);
}

BRAID_API int braid_tcp_stream_poll_peek(braid_tcp_stream* s, void* buf, size_t len, braid_wake_fn wake,
                                         void* wake_data, size_t* out_n) {
    if (!usable(s) || !out_n) return BRAID_EINVAL;
    return net::poll_peek(s->io.src, buf, len, wake, wake_data, out_n);
}

BRAID_API int braid_tcp_stream_poll_write(braid_tcp_stream* s, const void* buf, size_t len, braid_wake_fn wake,
                                          void* wake_data, size_t* out_n) {
    if (!usable(s) || !out_n) return BRAID_EINVAL;
    return net::poll_write(s->io.src, buf, len, wake, wake_data, out_n);
}

namespace {
int xfer(braid_task** out, braid_tcp_stream* s, braid::capi::io::XferFn fn, int dir, void* buf, size_t len, bool all,
         braid_io_callback cb, void* ud, bool is_read) {
    return braid::capi::io::start_xfer(out, s ? &s->io : nullptr, fn, dir, buf, len, all, cb, ud, is_read);
}
int write_fn(IoSource* s, void* b, size_t l, braid_wake_fn w, void* d, size_t* n) {
    return net::poll_write(s, b, l, w, d, n);
}
}  // namespace

BRAID_API int braid_tcp_stream_read(braid_task** out, braid_tcp_stream* s, void* buf, size_t len,
                                    braid_io_callback cb, void* user_data) {
    return xfer(out, s, &net::poll_read, braid::detail::kIoRead, buf, len, false, cb, user_data, true);
}

BRAID_API int braid_tcp_stream_read_exact(braid_task** out, braid_tcp_stream* s, void* buf, size_t len,
                                          braid_io_callback cb, void* user_data) {
    return xfer(out, s, &net::poll_read, braid::detail::kIoRead, buf, len, true, cb, user_data, true);
}

BRAID_API int braid_tcp_stream_peek(braid_task** out, braid_tcp_stream* s, void* buf, size_t len,
                                    braid_io_callback cb, void* user_data) {
    return xfer(out, s, &net::poll_peek, braid::detail::kIoRead, buf, len, false, cb, user_data, true);
}

BRAID_API int braid_tcp_stream_write(braid_task** out, braid_tcp_stream* s, const void* buf, size_t len,
                                     braid_io_callback cb, void* user_data) {
    return xfer(out, s, &write_fn, braid::detail::kIoWrite, const_cast<void*>(buf), len, false, cb, user_data, false);
}

BRAID_API int braid_tcp_stream_write_all(braid_task** out, braid_tcp_stream* s, const void* buf, size_t len,
                                         braid_io_callback cb, void* user_data) {
    return xfer(out, s, &write_fn, braid::detail::kIoWrite, const_cast<void*>(buf), len, true, cb, user_data, false);
}

// ---- options, addresses, closing ----------------------------------------------------

BRAID_API int braid_tcp_stream_shutdown_write(braid_tcp_stream* s) {
    if (!usable(s)) return BRAID_EINVAL;
    if (s->io.src->closed()) return BRAID_ECLOSED;
    if (::shutdown(s->io.src->fd(), SHUT_WR) != 0) return braid::detail::os_error(errno);
    return BRAID_OK;
}

BRAID_API int braid_tcp_stream_set_nodelay(braid_tcp_stream* s, int on) {
    if (!usable(s)) return BRAID_EINVAL;
    if (s->io.src->closed()) return BRAID_ECLOSED;
    return net::set_flag(s->io.src->fd(), IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0);
}

BRAID_API int braid_tcp_stream_nodelay(const braid_tcp_stream* s) {
    if (!usable(s)) return BRAID_EINVAL;
    if (s->io.src->closed()) return BRAID_ECLOSED;
    return net::get_flag(s->io.src->fd(), IPPROTO_TCP, TCP_NODELAY);
}

BRAID_API int braid_tcp_stream_set_keepalive(braid_tcp_stream* s, int on) {
    if (!usable(s)) return BRAID_EINVAL;
    if (s->io.src->closed()) return BRAID_ECLOSED;
    return net::set_flag(s->io.src->fd(), SOL_SOCKET, SO_KEEPALIVE, on ? 1 : 0);
}

BRAID_API int braid_tcp_stream_keepalive(const braid_tcp_stream* s) {
    if (!usable(s)) return BRAID_EINVAL;
    if (s->io.src->closed()) return BRAID_ECLOSED;
    return net::get_flag(s->io.src->fd(), SOL_SOCKET, SO_KEEPALIVE);
}

BRAID_API int braid_tcp_stream_local_addr(const braid_tcp_stream* s, struct sockaddr_storage* out, size_t* out_len) {
    if (!usable(s) || !out || !out_len) return BRAID_EINVAL;
    if (s->io.src->closed()) return BRAID_ECLOSED;
    return net::local_addr(s->io.src->fd(), out, out_len);
}

BRAID_API int braid_tcp_stream_peer_addr(const braid_tcp_stream* s, struct sockaddr_storage* out, size_t* out_len) {
    if (!usable(s) || !out || !out_len) return BRAID_EINVAL;
    if (s->io.src->closed()) return BRAID_ECLOSED;
    return net::peer_addr(s->io.src->fd(), out, out_len);
}

BRAID_API int braid_tcp_stream_fd(const braid_tcp_stream* s) { return usable(s) ? s->io.src->fd() : BRAID_EINVAL; }

BRAID_API int braid_tcp_stream_close(braid_tcp_stream* s) {
    if (!s) return BRAID_EINVAL;
    return s->io.close();
}

BRAID_API void braid_tcp_stream_free(braid_tcp_stream* s) {
    if (!s) return;
    s->io.free();
    delete s;
}

}  // extern "C"
