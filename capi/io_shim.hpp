// What the I/O shims share (tcp.cpp, unix_socket.cpp, udp.cpp, process.cpp,
// byte_stream.cpp): the handle body (detail::IoHandle) behind each opaque
// type, turning a new fd or source into a handle, and the byte-stream view.
#pragma once

#include <braid/byte_stream.h>
#include <braid/io.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/io_handle.hpp"
#include "io/io_op.hpp"
#include "io/net.hpp"
#include "shim.hpp"

namespace braid::capi::io {

using detail::Core;
using detail::IoSource;
using Handle = detail::IoHandle;

inline int usable(const Handle* h) { return Handle::usable(h); }

// The byte-stream view of a handle body, and back.
inline braid_byte_stream* as_byte_stream(Handle* h) { return reinterpret_cast<braid_byte_stream*>(h); }
inline Handle* handle_of(braid_byte_stream* bs) { return reinterpret_cast<Handle*>(bs); }
inline const Handle* handle_of(const braid_byte_stream* bs) { return reinterpret_cast<const Handle*>(bs); }

// A handle of type H (with a Handle member `io`) over a registered source;
// its reference is taken over.
template <class H>
int wrap(H** out, Core* core, IoSource* src, detail::IoKind kind = detail::IoKind::Socket) {
    auto* h = new (std::nothrow) H;
    if (!h) return BRAID_ENOMEM;
    h->io.adopt(core, src, kind);
    *out = h;
    return BRAID_OK;
}

// wrap, closing the source when it fails.
template <class H>
int wrap_or_close(H** out, Core* core, IoSource* src) {
    int rc = wrap(out, core, src);
    if (rc != BRAID_OK) {
        src->close();
        src->unref();
    }
    return rc;
}

// A handle over a fresh fd (one end of a pair); the fd is closed on failure.
template <class H>
int wrap_fd(H** out, Core* core, int fd) {
    IoSource* src = nullptr;
    int rc = IoSource::create(&src, core, fd);
    if (rc != BRAID_OK) {
        ::close(fd);
        return rc;
    }
    return wrap_or_close(out, core, src);
}

// The Deliver of io_op for a C callback taking an H*: wraps the source and
// calls cb with the handle type it was registered with.
template <class H>
void deliver(const detail::Callback<detail::io_op::AnyFn>& cb, void* ud, int status, Core* core, IoSource* src) {
    H* h = nullptr;
    if (status == BRAID_OK) status = wrap_or_close(&h, core, src);
    cb.template call_as<void (*)(void*, int, H*)>(ud, status, h);
}
template <class Fn>
detail::io_op::AnyFn any_fn(Fn f) {
    return reinterpret_cast<detail::io_op::AnyFn>(f);
}

// Takes ownership of an existing socket `fd` as a handle of type H, after
// checking that it is the kind of socket H is (net::check_socket_fd) and
// making it non-blocking.  On failure the fd stays the caller's, untouched
// but for O_NONBLOCK when only the registration failed.
template <class H>
int adopt_fd(H** out, braid_runtime* rt, int fd, const detail::net::SocketKind& kind) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    Core* core = core_or_current(rt);
    if (!core) return BRAID_EINVAL;
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    if (int rc = detail::net::check_socket_fd(fd, kind)) return rc;
    int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) return BRAID_EBADF;
    return guarded([&] {
        auto* h = new (std::nothrow) H;  // first: on failure the fd stays the caller's
        if (!h) return int(BRAID_ENOMEM);
        IoSource* src = nullptr;
        int rc = IoSource::create(&src, core, fd);
        if (rc != BRAID_OK) {
            delete h;
            return rc;
        }
        h->io.adopt(core, src);
        *out = h;
        return int(BRAID_OK);
    });
}

template <class H>
void free_handle(H* h);

// Gives a handle's socket back as a plain fd (a close-on-exec duplicate;
// the handle's own fd goes with it) and frees the handle: Tokio's into_std.
template <class H>
int into_fd(H* h) {
    if (!h || !h->io.src) return BRAID_EINVAL;
    if (h->io.src->closed()) {
        free_handle(h);
        return BRAID_ECLOSED;
    }
    int fd = ::fcntl(h->io.src->fd(), F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return detail::os_error(errno);
    free_handle(h);
    return fd;
}

// Frees a handle of type H.
template <class H>
void free_handle(H* h) {
    if (!h) return;
    h->io.free();
    delete h;
}

}  // namespace braid::capi::io
