// extern "C" shims: Unix domain sockets.
#include <braid/unix_socket.h>
#include <unistd.h>

#include "io_shim.hpp"

using braid::capi::core_or_current;
using braid::capi::guarded;
using braid::capi::io::any_fn;
using braid::capi::io::deliver;
using braid::capi::io::free_handle;
using braid::capi::io::Handle;
using braid::capi::io::usable;
using braid::capi::io::wrap_fd;
using braid::capi::io::wrap_or_close;
using braid::detail::Core;
using braid::detail::IoSource;
namespace net = braid::detail::net;
namespace io = braid::capi::io;
namespace io_op = braid::detail::io_op;

struct braid_unix_listener {
    Handle io;
};
struct braid_unix_stream {
    Handle io;
};
struct braid_unix_datagram {
    Handle io;
};

namespace {

Core* runtime_for(braid_runtime* rt, int* err) {
    Core* core = core_or_current(rt);
    if (!core) {
        *err = BRAID_EINVAL;
        return nullptr;
    }
    if (core->shutting_down()) {
        *err = BRAID_ESHUTDOWN;
        return nullptr;
    }
    return core;
}

// Two connected sockets of `type`, wrapped as H.
template <class H>
int make_pair(H** a, H** b, braid_runtime* rt, int type) {
    if (!a || !b) return BRAID_EINVAL;
    *a = *b = nullptr;
    int err = 0;
    Core* core = runtime_for(rt, &err);
    if (!core) return err;
    int fds[2];
    if (::socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
        return braid::detail::os_error(errno);
    return guarded([&] {
        int rc = wrap_fd(a, core, fds[0]);
        if (rc != BRAID_OK) {
            ::close(fds[1]);
            return rc;
        }
        rc = wrap_fd(b, core, fds[1]);
        if (rc != BRAID_OK) {
            free_handle(*a);
            *a = nullptr;
        }
        return rc;
    });
}

}  // namespace

extern "C" {

// ---- listener -----------------------------------------------------------------------

BRAID_API int braid_unix_listener_bind(braid_unix_listener** out, braid_runtime* rt, const char* path, int backlog) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    sockaddr_storage ss;
    size_t len = 0;
    if (int rc = net::unix_addr(path, &ss, &len)) return rc;
    int err = 0;
    Core* core = runtime_for(rt, &err);
    if (!core) return err;
    return guarded([&] {
        IoSource* src = nullptr;
        int rc = net::open_bound(&src, core, AF_UNIX, SOCK_STREAM, reinterpret_cast<sockaddr*>(&ss), len,
                                 backlog > 0 ? backlog : 1024, false);
        if (rc != BRAID_OK) return rc;
        return wrap_or_close(out, core, src);
    });
}

BRAID_API int braid_unix_listener_from_fd(braid_unix_listener** out, braid_runtime* rt, int fd) {
    return io::adopt_fd(out, rt, fd, net::SocketKind{AF_UNIX, AF_UNIX, SOCK_STREAM, 0, true});
}

BRAID_API int braid_unix_stream_from_fd(braid_unix_stream** out, braid_runtime* rt, int fd) {
    return io::adopt_fd(out, rt, fd, net::SocketKind{AF_UNIX, AF_UNIX, SOCK_STREAM, 0, false});
}

BRAID_API int braid_unix_datagram_from_fd(braid_unix_datagram** out, braid_runtime* rt, int fd) {
    return io::adopt_fd(out, rt, fd, net::SocketKind{AF_UNIX, AF_UNIX, SOCK_DGRAM, 0, false});
}

BRAID_API int braid_unix_listener_into_fd(braid_unix_listener* l) { return io::into_fd(l); }
BRAID_API int braid_unix_stream_into_fd(braid_unix_stream* s) { return io::into_fd(s); }
BRAID_API int braid_unix_datagram_into_fd(braid_unix_datagram* d) { return io::into_fd(d); }

BRAID_API int braid_unix_listener_local_addr(const braid_unix_listener* l, struct sockaddr_storage* out,
                                             size_t* out_len) {
    if (!out || !out_len) return BRAID_EINVAL;
    if (int rc = usable(l ? &l->io : nullptr)) return rc;
    return net::local_addr(l->io.src->fd(), out, out_len);
}

BRAID_API int braid_unix_listener_poll_accept(braid_unix_listener* l, braid_unix_stream** out, braid_wake_fn wake,
                                              void* wake_data) {
    if (out) *out = nullptr;
    if (!l || !l->io.src || (!out && wake)) return BRAID_EINVAL;
    int fd = -1;
    int rc = net::poll_accept(l->io.src, wake, wake_data, &fd, nullptr, nullptr);
    if (rc != BRAID_OK) return rc;
    return guarded([&] { return wrap_fd(out, l->io.core, fd); });
}

BRAID_API int braid_unix_listener_accept(braid_task** out, braid_unix_listener* l, braid_unix_stream_callback cb,
                                         void* user_data) {
    return io_op::start_accept(out, l ? &l->io : nullptr, false, &deliver<braid_unix_stream>, any_fn(cb), user_data);
}

BRAID_API int braid_unix_listener_accept_start(braid_task** out, braid_unix_listener* l,
                                               braid_unix_stream_callback cb, void* user_data) {
    return io_op::start_accept(out, l ? &l->io : nullptr, true, &deliver<braid_unix_stream>, any_fn(cb), user_data);
}

BRAID_API int braid_unix_listener_accept_stop(braid_unix_listener* l) {
    return io_op::accept_stop(l ? &l->io : nullptr);
}

BRAID_API int braid_unix_listener_fd(const braid_unix_listener* l) {
    return l && l->io.src ? l->io.src->fd() : BRAID_EINVAL;
}
BRAID_API int braid_unix_listener_close(braid_unix_listener* l) { return l ? l->io.close() : BRAID_EINVAL; }
BRAID_API void braid_unix_listener_free(braid_unix_listener* l) { free_handle(l); }

// ---- stream -----------------------------------------------------------------------------

BRAID_API int braid_unix_connect(braid_task** out, braid_runtime* rt, const char* path, braid_unix_stream_callback cb,
                                 void* user_data) {
    if (out) *out = nullptr;
    if (!cb) return BRAID_EINVAL;
    sockaddr_storage ss;
    size_t len = 0;
    if (int rc = net::unix_addr(path, &ss, &len)) return rc;
    int err = 0;
    Core* core = runtime_for(rt, &err);
    if (!core) return err;
    return io_op::start_connect(out, core, reinterpret_cast<sockaddr*>(&ss), len, &deliver<braid_unix_stream>,
                                any_fn(cb), user_data);
}

BRAID_API int braid_unix_stream_connect_start(braid_unix_stream** out, braid_runtime* rt, const char* path) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    sockaddr_storage ss;
    size_t len = 0;
    if (int rc = net::unix_addr(path, &ss, &len)) return rc;
    int err = 0;
    Core* core = runtime_for(rt, &err);
    if (!core) return err;
    return guarded([&] {
        IoSource* src = nullptr;
        int rc = net::open_connect(&src, core, AF_UNIX, reinterpret_cast<sockaddr*>(&ss), len);
        if (rc < 0) return rc;
        return wrap_or_close(out, core, src);
    });
}

BRAID_API int braid_unix_stream_poll_connect(braid_unix_stream* s, braid_wake_fn wake, void* wake_data) {
    if (!s || !s->io.src) return BRAID_EINVAL;
    return net::poll_connect(s->io.src, wake, wake_data);
}

BRAID_API int braid_unix_stream_pair(braid_unix_stream** out_a, braid_unix_stream** out_b, braid_runtime* rt) {
    return make_pair(out_a, out_b, rt, SOCK_STREAM);
}

BRAID_API braid_byte_stream* braid_unix_stream_as_byte_stream(braid_unix_stream* s) {
    return s ? io::as_byte_stream(&s->io) : nullptr;
}

BRAID_API int braid_unix_stream_local_addr(const braid_unix_stream* s, struct sockaddr_storage* out,
                                           size_t* out_len) {
    if (!out || !out_len) return BRAID_EINVAL;
    if (int rc = usable(s ? &s->io : nullptr)) return rc;
    return net::local_addr(s->io.src->fd(), out, out_len);
}

BRAID_API int braid_unix_stream_peer_addr(const braid_unix_stream* s, struct sockaddr_storage* out, size_t* out_len) {
    if (!out || !out_len) return BRAID_EINVAL;
    if (int rc = usable(s ? &s->io : nullptr)) return rc;
    return net::peer_addr(s->io.src->fd(), out, out_len);
}

BRAID_API int braid_unix_stream_peer_cred(const braid_unix_stream* s, int* pid, unsigned* uid, unsigned* gid) {
    if (int rc = usable(s ? &s->io : nullptr)) return rc;
    return net::peer_cred(s->io.src->fd(), pid, uid, gid);
}

BRAID_API int braid_unix_stream_poll_send_fds(braid_unix_stream* s, const void* buf, size_t len, const int* fds,
                                              size_t nfds, braid_wake_fn wake, void* wake_data, size_t* out_n) {
    if (!s || !s->io.src || !out_n) return BRAID_EINVAL;
    return net::poll_send_fds(s->io.src, buf, len, fds, nfds, wake, wake_data, out_n);
}

BRAID_API int braid_unix_stream_poll_recv_fds(braid_unix_stream* s, void* buf, size_t len, int* fds,
                                              size_t fds_cap, size_t* out_nfds, braid_wake_fn wake, void* wake_data,
                                              size_t* out_n) {
    if (!s || !s->io.src || !out_n || (wake && !out_nfds)) return BRAID_EINVAL;
    return net::poll_recv_fds(s->io.src, buf, len, fds, fds_cap, out_nfds, wake, wake_data, out_n);
}

BRAID_API int braid_unix_stream_fd(const braid_unix_stream* s) {
    return s && s->io.src ? s->io.src->fd() : BRAID_EINVAL;
}
BRAID_API int braid_unix_stream_close(braid_unix_stream* s) { return s ? s->io.close() : BRAID_EINVAL; }
BRAID_API void braid_unix_stream_free(braid_unix_stream* s) { free_handle(s); }

// ---- datagram -----------------------------------------------------------------------------

BRAID_API int braid_unix_datagram_bind(braid_unix_datagram** out, braid_runtime* rt, const char* path) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    sockaddr_storage ss;
    size_t len = 0;
    if (path) {
        if (int rc = net::unix_addr(path, &ss, &len)) return rc;
    }
    int err = 0;
    Core* core = runtime_for(rt, &err);
    if (!core) return err;
    return guarded([&] {
        IoSource* src = nullptr;
        int rc;
        if (path) {
            rc = net::open_bound(&src, core, AF_UNIX, SOCK_DGRAM, reinterpret_cast<sockaddr*>(&ss), len, 0, false);
            if (rc != BRAID_OK) return rc;
            return wrap_or_close(out, core, src);
        }
        int fd = net::new_socket(AF_UNIX, SOCK_DGRAM);
        if (fd < 0) return fd;
        return wrap_fd(out, core, fd);
    });
}

BRAID_API int braid_unix_datagram_pair(braid_unix_datagram** out_a, braid_unix_datagram** out_b, braid_runtime* rt) {
    return make_pair(out_a, out_b, rt, SOCK_DGRAM);
}

BRAID_API int braid_unix_datagram_connect(braid_unix_datagram* d, const char* path) {
    if (int rc = usable(d ? &d->io : nullptr)) return rc;
    sockaddr_storage ss;
    size_t len = 0;
    if (int rc = net::unix_addr(path, &ss, &len)) return rc;
    if (::connect(d->io.src->fd(), reinterpret_cast<sockaddr*>(&ss), socklen_t(len)) != 0)
        return braid::detail::os_error(errno);
    return BRAID_OK;
}

BRAID_API int braid_unix_datagram_poll_send_to(braid_unix_datagram* d, const void* buf, size_t len, const char* path,
                                               braid_wake_fn wake, void* wake_data, size_t* out_n) {
    if (!d || !d->io.src || !out_n) return BRAID_EINVAL;
    sockaddr_storage ss;
    size_t sl = 0;
    if (path) {
        if (int rc = net::unix_addr(path, &ss, &sl)) return rc;
    }
    return net::poll_send_to(d->io.src, buf, len, path ? reinterpret_cast<sockaddr*>(&ss) : nullptr, sl, wake,
                             wake_data, out_n);
}

BRAID_API int braid_unix_datagram_poll_recv_from(braid_unix_datagram* d, void* buf, size_t len,
                                                 struct sockaddr_storage* from, size_t* from_len, braid_wake_fn wake,
                                                 void* wake_data, size_t* out_n) {
    if (!d || !d->io.src || !out_n) return BRAID_EINVAL;
    return net::poll_recv_from(d->io.src, buf, len, 0, from, from_len, wake, wake_data, out_n);
}

BRAID_API int braid_unix_datagram_poll_ready(braid_unix_datagram* d, int interest, braid_wake_fn wake,
                                             void* wake_data, int* out_ready) {
    return Handle::poll_ready(d ? &d->io : nullptr, interest, wake, wake_data, out_ready);
}

BRAID_API int braid_unix_datagram_try_send_to(braid_unix_datagram* d, const void* buf, size_t len, const char* path,
                                              size_t* out_n) {
    return braid_unix_datagram_poll_send_to(d, buf, len, path, braid::detail::kNoWait, nullptr, out_n);
}

BRAID_API int braid_unix_datagram_try_recv_from(braid_unix_datagram* d, void* buf, size_t len,
                                                struct sockaddr_storage* from, size_t* from_len, size_t* out_n) {
    return braid_unix_datagram_poll_recv_from(d, buf, len, from, from_len, braid::detail::kNoWait, nullptr, out_n);
}

BRAID_API int braid_unix_datagram_send_to(braid_task** out, braid_unix_datagram* d, const void* buf, size_t len,
                                          const char* path, braid_io_callback cb, void* user_data) {
    if (out) *out = nullptr;
    sockaddr_storage ss;
    size_t sl = 0;
    if (path) {
        if (int rc = net::unix_addr(path, &ss, &sl)) return rc;
    }
    return io_op::start_dgram(out, d ? &d->io : nullptr, false, const_cast<void*>(buf), len,
                           path ? reinterpret_cast<sockaddr*>(&ss) : nullptr, sl, nullptr, nullptr, cb, user_data);
}

BRAID_API int braid_unix_datagram_recv_from(braid_task** out, braid_unix_datagram* d, void* buf, size_t len,
                                            struct sockaddr_storage* from, size_t* from_len, braid_io_callback cb,
                                            void* user_data) {
    return io_op::start_dgram(out, d ? &d->io : nullptr, true, buf, len, nullptr, 0, from, from_len, cb, user_data);
}

BRAID_API int braid_unix_datagram_local_addr(const braid_unix_datagram* d, struct sockaddr_storage* out,
                                             size_t* out_len) {
    if (!out || !out_len) return BRAID_EINVAL;
    if (int rc = usable(d ? &d->io : nullptr)) return rc;
    return net::local_addr(d->io.src->fd(), out, out_len);
}

BRAID_API int braid_unix_datagram_fd(const braid_unix_datagram* d) {
    return d && d->io.src ? d->io.src->fd() : BRAID_EINVAL;
}
BRAID_API int braid_unix_datagram_close(braid_unix_datagram* d) { return d ? d->io.close() : BRAID_EINVAL; }
BRAID_API void braid_unix_datagram_free(braid_unix_datagram* d) { free_handle(d); }

}  // extern "C"
