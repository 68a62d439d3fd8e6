// What the I/O shims share (tcp.cpp, unix_socket.cpp, udp.cpp,
// process.cpp): the handle over an IoSource, and the callback operations
// (read, write, accept, connect) as small future tasks.
#pragma once

#include <braid/io.h>

#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "io/io_driver.hpp"
#include "io/net.hpp"
#include "shim.hpp"

namespace braid::capi::io {

using detail::Core;
using detail::IoSource;

// Claim bits: one read-side and one write-side callback operation at a time.
constexpr uint8_t kClaimRead = 1;
constexpr uint8_t kClaimWrite = 2;

// The body of every socket/pipe handle.  The handle owns one reference to
// the source; callback operations hold one more each, so freeing a handle
// under a pending operation is safe (the operation sees BRAID_ECLOSED).
struct Handle {
    Core* core = nullptr;
    IoSource* src = nullptr;

    void adopt(Core* c, IoSource* s) {
        core = c;
        src = s;
        c->ref();
    }
    int close() {
        if (src && !src->closed()) {
            src->close();
            ::shutdown(src->fd(), SHUT_RDWR);
        }
        return BRAID_OK;
    }
    void free() {
        if (src) {
            src->close();
            src->unref();
        }
        if (core) core->unref();
        src = nullptr;
        core = nullptr;
    }
};

// A handle of type H (with a Handle member `io`) over a registered source;
// its reference is taken over.
template <class H>
int wrap(H** out, Core* core, IoSource* src) {
    auto* h = new (std::nothrow) H;
    if (!h) return BRAID_ENOMEM;
    h->io.adopt(core, src);
    *out = h;
    return BRAID_OK;
}

// A handle over a fresh fd (accepted, connected, one end of a pair); the fd
// is closed on failure.
template <class H>
int wrap_fd(H** out, Core* core, int fd) {
    IoSource* src = nullptr;
    int rc = IoSource::create(&src, core, fd);
    if (rc != BRAID_OK) {
        ::close(fd);
        return rc;
    }
    rc = wrap(out, core, src);
    if (rc != BRAID_OK) {
        src->close();
        src->unref();
    }
    return rc;
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

// Removes what a callback operation registered on `src` for `dir` under its
// own task (`waker`: NULL when it was never polled, and so registered
// nothing); registrations of other pollers of the handle stay.
inline void unregister_own(IoSource* src, int dir, void* waker) {
    if (waker) src->unregister(dir, waker);
}

// BRAID_EINVAL for a NULL (or never-opened) handle, BRAID_ECLOSED after
// close, else BRAID_OK.
inline int usable(const Handle* h) {
    if (!h || !h->src) return BRAID_EINVAL;
    return h->src->closed() ? BRAID_ECLOSED : BRAID_OK;
}

// Datagram send (to an address, or the connected peer) or receive (with the
// sender's address written to from/from_len, which must stay alive).
struct DgramOp {
    IoSource* src;
    bool recv;
    char* buf;
    size_t len;
    sockaddr_storage to{};
    size_t to_len;
    sockaddr_storage* from;
    size_t* from_len;
    braid_io_callback cb;
    void* ud;
    void* waker = nullptr;  // this operation's task, once polled: the wake_data it registers with
    uint8_t claim() const { return recv ? kClaimRead : kClaimWrite; }
    int dir() const { return recv ? detail::kIoRead : detail::kIoWrite; }
    DgramOp(IoSource* s, bool r, void* b, size_t l, const sockaddr* t, size_t tl, sockaddr_storage* f, size_t* fl,
            braid_io_callback c, void* u)
        : src(s), recv(r), buf(static_cast<char*>(b)), len(l), to_len(t ? tl : 0), from(f), from_len(fl), cb(c), ud(u) {
        if (t) std::memcpy(&to, t, tl);
        s->ref();
    }
    int finish(int st, size_t n) {
        unregister_own(src, dir(), waker);
        src->release_claim(claim());
        cb(ud, st, n);
        return BRAID_OK;
    }
    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<DgramOp*>(self);
        s->waker = me;
        size_t n = 0;
        int rc = s->recv ? detail::net::poll_recv_from(s->src, s->buf, s->len, 0, s->from, s->from_len,
                                                       &braid_task_wake_fn, me, &n)
                         : detail::net::poll_send_to(s->src, s->buf, s->len,
                                                     s->to_len ? reinterpret_cast<sockaddr*>(&s->to) : nullptr,
                                                     s->to_len, &braid_task_wake_fn, me, &n);
        if (rc == BRAID_PENDING) return BRAID_PENDING;
        return s->finish(rc, rc == BRAID_OK ? n : 0);
    }
    static void cancel(void* self) {
        auto* s = static_cast<DgramOp*>(self);
        unregister_own(s->src, s->dir(), s->waker);
        s->src->release_claim(s->claim());
        s->cb(s->ud, cancel_status(), 0);
    }
    static void release(void* self) {
        auto* s = static_cast<DgramOp*>(self);
        s->src->unref();
        s->~DgramOp();
    }
};

inline int start_dgram(braid_task** out, Handle* h, bool recv, void* buf, size_t len, const sockaddr* to,
                       size_t to_len, sockaddr_storage* from, size_t* from_len, braid_io_callback cb, void* ud) {
    if (out) *out = nullptr;
    if (!cb || (!buf && len) || (recv && len == 0)) return BRAID_EINVAL;
    if (int rc = usable(h)) return rc;
    if (h->core->shutting_down()) return BRAID_ESHUTDOWN;
    uint8_t claim = recv ? kClaimRead : kClaimWrite;
    if (!h->src->try_claim(claim)) return BRAID_EBUSY;
    int rc = guarded([&] {
        return spawn_state<DgramOp>(out, h->core, detail::TaskKind::Worker, h->src, recv, buf, len, to, to_len, from,
                                    from_len, cb, ud);
    });
    if (rc == BRAID_ENOMEM) h->src->release_claim(claim);
    return rc;
}

// A poll function of the net layer (read, peek, write, pipe read/write).
using XferFn = int (*)(IoSource*, void*, size_t, braid_wake_fn, void*, size_t*);

// A read or write as a callback operation; `all` loops until len bytes moved
// (end of file first: BRAID_EEOF).
struct XferOp {
    IoSource* src;
    XferFn fn;
    int dir;
    uint8_t claim;
    char* buf;
    size_t len;
    size_t done = 0;
    bool all;
    braid_io_callback cb;
    void* ud;
    void* waker = nullptr;  // this operation's task, once polled

    XferOp(IoSource* s, XferFn f, int d, uint8_t c, void* b, size_t l, bool a, braid_io_callback cb_, void* u)
        : src(s), fn(f), dir(d), claim(c), buf(static_cast<char*>(b)), len(l), all(a), cb(cb_), ud(u) {
        s->ref();
    }
    int finish(int st) {
        unregister_own(src, dir, waker);
        src->release_claim(claim);
        cb(ud, st, done);
        return BRAID_OK;
    }
    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<XferOp*>(self);
        s->waker = me;
        for (;;) {
            size_t n = 0;
            int rc = s->fn(s->src, s->buf + s->done, s->len - s->done, &braid_task_wake_fn, me, &n);
            if (rc == BRAID_PENDING) return BRAID_PENDING;
            if (rc < 0) return s->finish(rc);
            s->done += n;
            if (!s->all || s->done == s->len) return s->finish(BRAID_OK);
            if (n == 0) return s->finish(BRAID_EEOF);
        }
    }
    static void cancel(void* self) {
        auto* s = static_cast<XferOp*>(self);
        unregister_own(s->src, s->dir, s->waker);
        s->src->release_claim(s->claim);
        s->cb(s->ud, cancel_status(), s->done);
    }
    static void release(void* self) {
        auto* s = static_cast<XferOp*>(self);
        s->src->unref();
        s->~XferOp();
    }
};

// Starts an XferOp on h.  Checks what a synchronous error would be, so that
// a call that fails never runs its callback.
inline int start_xfer(braid_task** out, Handle* h, XferFn fn, int dir, void* buf, size_t len, bool all,
                      braid_io_callback cb, void* ud, bool is_read) {
    if (out) *out = nullptr;
    if (!h || !cb || (!buf && len)) return BRAID_EINVAL;
    if (is_read && len == 0) return BRAID_EINVAL;
    if (!h->src || h->src->closed()) return BRAID_ECLOSED;
    if (h->core->shutting_down()) return BRAID_ESHUTDOWN;
    uint8_t claim = is_read ? kClaimRead : kClaimWrite;
    if (!h->src->try_claim(claim)) return BRAID_EBUSY;
    int rc = guarded([&] {
        return spawn_state<XferOp>(out, h->core, detail::TaskKind::Worker, h->src, fn, dir, claim, buf, len, all, cb,
                                   ud);
    });
    if (rc == BRAID_ENOMEM) h->src->release_claim(claim);  // the state was never made
    return rc;
}

// Accept as a callback operation; Made turns the accepted fd into the
// handle type the callback receives.
template <class H, class Made>
struct AcceptOp {
    IoSource* src;
    Core* core;
    void (*cb)(void*, int, H*);
    void* ud;
    Made made;
    void* waker = nullptr;  // this operation's task, once polled
    AcceptOp(IoSource* s, Core* c, void (*f)(void*, int, H*), void* u, Made m) : src(s), core(c), cb(f), ud(u), made(m) {
        s->ref();
    }
    int finish(int st, H* h) {
        unregister_own(src, detail::kIoRead, waker);
        src->release_claim(kClaimRead);
        cb(ud, st, h);
        return BRAID_OK;
    }
    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<AcceptOp*>(self);
        s->waker = me;
        int fd = -1;
        int rc = detail::net::poll_accept(s->src, &braid_task_wake_fn, me, &fd, nullptr, nullptr);
        if (rc == BRAID_PENDING) return BRAID_PENDING;
        if (rc < 0) return s->finish(rc, nullptr);
        H* h = nullptr;
        rc = s->made(&h, s->core, fd);  // closes fd on failure
        return s->finish(rc, h);
    }
    static void cancel(void* self) {
        auto* s = static_cast<AcceptOp*>(self);
        unregister_own(s->src, detail::kIoRead, s->waker);
        s->src->release_claim(kClaimRead);
        s->cb(s->ud, cancel_status(), nullptr);
    }
    static void release(void* self) {
        auto* s = static_cast<AcceptOp*>(self);
        s->src->unref();
        s->~AcceptOp();
    }
};

// Connect (TCP or Unix stream) as a callback operation.
template <class H, class Made>
struct ConnectOp {
    Core* core;
    int domain;
    sockaddr_storage addr;
    size_t addr_len;
    IoSource* src = nullptr;
    bool started = false;
    void (*cb)(void*, int, H*);
    void* ud;
    Made made;
    void* waker = nullptr;  // this operation's task, once polled
    ConnectOp(Core* c, int d, const sockaddr* a, size_t l, void (*f)(void*, int, H*), void* u, Made m)
        : core(c), domain(d), addr_len(l), cb(f), ud(u), made(m) {
        std::memcpy(&addr, a, l);
    }
    void drop_src() {
        if (src) {
            src->close();
            src->unref();
            src = nullptr;
        }
    }
    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<ConnectOp*>(self);
        s->waker = me;
        int rc;
        if (!s->started) {
            s->started = true;
            rc = detail::net::open_connect(&s->src, s->core, s->domain, reinterpret_cast<sockaddr*>(&s->addr),
                                           s->addr_len);
            if (rc == BRAID_PENDING) rc = detail::net::poll_connect(s->src, &braid_task_wake_fn, me);
        } else {
            rc = detail::net::poll_connect(s->src, &braid_task_wake_fn, me);
        }
        if (rc == BRAID_PENDING) return BRAID_PENDING;
        H* h = nullptr;
        if (rc == BRAID_OK) {
            unregister_own(s->src, detail::kIoWrite, s->waker);
            rc = s->made(&h, s->core, s->src);  // takes the source's reference on success
            if (rc == BRAID_OK) s->src = nullptr;
        }
        s->drop_src();
        s->cb(s->ud, rc, h);
        return BRAID_OK;
    }
    static void cancel(void* self) {
        auto* s = static_cast<ConnectOp*>(self);
        if (s->src) unregister_own(s->src, detail::kIoWrite, s->waker);
        s->drop_src();
        s->cb(s->ud, cancel_status(), nullptr);
    }
    static void release(void* self) {
        auto* s = static_cast<ConnectOp*>(self);
        s->drop_src();
        s->~ConnectOp();
    }
};

}  // namespace braid::capi::io
