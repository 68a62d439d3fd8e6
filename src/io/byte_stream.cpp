#include "io/byte_stream.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>

#include "io/net.hpp"
#include "io/os_error.hpp"
#include "runtime/core.hpp"
#include "task/spawn.hpp"
#include "task/callback.hpp"

namespace braid::detail::byte_stream {

namespace {

using PollFn = int (*)(IoSource*, void*, std::size_t, braid_wake_fn, void*, std::size_t*);

int sock_write(IoSource* s, void* b, std::size_t l, braid_wake_fn w, void* d, std::size_t* n) {
    return net::poll_write(s, b, l, w, d, n);
}
int pipe_write(IoSource* s, void* b, std::size_t l, braid_wake_fn w, void* d, std::size_t* n) {
    return net::poll_pipe_write(s, b, l, w, d, n);
}

PollFn read_fn(IoKind k) { return k == IoKind::Pipe ? &net::poll_pipe_read : &net::poll_read; }
PollFn write_fn(IoKind k) { return k == IoKind::Pipe ? &pipe_write : &sock_write; }

// A read or write as a callback operation; `all` loops until len bytes moved
// (end of file first: BRAID_EEOF).
struct XferOp {
    IoSource* src;
    PollFn fn;
    int dir;
    uint8_t claim;
    char* buf;
    std::size_t len;
    std::size_t done = 0;
    bool all;
    Callback<braid_io_callback> cb;
    void* ud;
    void* waker = nullptr;  // this operation's task, once polled

    XferOp(IoSource* s, PollFn f, bool read, void* b, std::size_t l, bool a, braid_io_callback c, void* u)
        : src(s), fn(f), dir(read ? kIoRead : kIoWrite), claim(read ? kClaimRead : kClaimWrite),
          buf(static_cast<char*>(b)), len(l), all(a), cb(c), ud(u) {
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
            std::size_t n = 0;
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
        s->cb(s->ud, current_cancel_status(), s->done);
    }
    ~XferOp() {
        src->unref();
    }
};

// The repeating read: a chunk callback per read, then one final call.  It
// holds the read claim and is the source's repeater until its final call.
struct ReadLoopOp {
    IoSource* src;
    PollFn fn;
    char* buf;
    std::size_t len;
    Callback<braid_read_callback> cb;
    void* ud;
    void* waker = nullptr;  // this operation's task, once polled

    ReadLoopOp(IoSource* s, PollFn f, void* b, std::size_t l, braid_read_callback c, void* u)
        : src(s), fn(f), buf(static_cast<char*>(b)), len(l), cb(c), ud(u) {
        s->ref();
    }
    void end() {
        unregister_own(src, kIoRead, waker);
        src->clear_repeater();
        src->release_claim(kClaimRead);
    }
    int finish(int st) {
        end();
        cb(ud, st, nullptr, 0);
        return BRAID_OK;
    }
    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<ReadLoopOp*>(self);
        s->waker = me;
        for (;;) {
            // Stopped (read_stop or an abort, perhaps from the last chunk's
            // callback): suspend, and the runtime cancels us.
            if (abort_requested(me)) return BRAID_PENDING;
            std::size_t n = 0;
            int rc = s->fn(s->src, s->buf, s->len, &braid_task_wake_fn, me, &n);
            if (rc == BRAID_PENDING) return BRAID_PENDING;
            if (rc < 0) return s->finish(rc);
            if (n == 0) return s->finish(BRAID_EEOF);
            s->cb.call_with_bytes(s->ud, BRAID_OK, s->buf, n);
        }
    }
    static void cancel(void* self) {
        auto* s = static_cast<ReadLoopOp*>(self);
        s->end();
        s->cb(s->ud, current_cancel_status(), nullptr, 0);
    }
    ~ReadLoopOp() {
        src->unref();
    }
};

}  // namespace

int poll_read(IoHandle* h, void* buf, std::size_t len, braid_wake_fn wake, void* data, std::size_t* n) {
    return read_fn(h->kind)(h->src, buf, len, wake, data, n);
}

int poll_write(IoHandle* h, const void* buf, std::size_t len, braid_wake_fn wake, void* data, std::size_t* n) {
    return write_fn(h->kind)(h->src, const_cast<void*>(buf), len, wake, data, n);
}

int poll_write_vectored(IoHandle* h, const braid_io_slice* bufs, std::size_t count, braid_wake_fn wake, void* data,
                        std::size_t* n) {
    if (!wake) return poll_write(h, nullptr, 0, nullptr, data, n);  // removes data's registration
    iovec iov[BRAID_IO_SLICES_MAX];
    int cnt = int(std::min<std::size_t>(count, BRAID_IO_SLICES_MAX));
    for (int i = 0; i < cnt; ++i) {
        if (!bufs[i].data && bufs[i].len) return BRAID_EINVAL;
        iov[i].iov_base = const_cast<void*>(bufs[i].data);
        iov[i].iov_len = bufs[i].len;
    }
    return net::poll_writev(h->src, iov, cnt, h->kind == IoKind::Pipe, wake, data, n);
}

int poll_read_vectored(IoHandle* h, const braid_io_mut_slice* bufs, std::size_t count, braid_wake_fn wake,
                       void* data, std::size_t* n) {
    if (!wake) return poll_read(h, nullptr, 0, nullptr, data, n);  // removes data's registration
    iovec iov[BRAID_IO_SLICES_MAX];
    int cnt = int(std::min<std::size_t>(count, BRAID_IO_SLICES_MAX));
    for (int i = 0; i < cnt; ++i) {
        if (!bufs[i].data && bufs[i].len) return BRAID_EINVAL;
        iov[i].iov_base = bufs[i].data;
        iov[i].iov_len = bufs[i].len;
    }
    return net::poll_readv(h->src, iov, cnt, h->kind == IoKind::Pipe, wake, data, n);
}

int poll_peek(IoHandle* h, void* buf, std::size_t len, braid_wake_fn wake, void* data, std::size_t* n) {
    if (h->kind != IoKind::Socket) return BRAID_EINVAL;
    return net::poll_peek(h->src, buf, len, wake, data, n);
}

int shutdown_write(IoHandle* h) {
    if (int rc = IoHandle::usable(h)) return rc;
    if (h->kind == IoKind::Pipe) {
        int fl = ::fcntl(h->src->fd(), F_GETFL);
        if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY) return BRAID_EINVAL;
        return h->close();
    }
    if (::shutdown(h->src->fd(), SHUT_WR) != 0) return os_error(errno);
    return BRAID_OK;
}

int start(braid_task** out, IoHandle* h, Xfer what, void* buf, std::size_t len, braid_io_callback cb, void* ud) {
    if (out) *out = nullptr;
    bool read = what == Xfer::Read || what == Xfer::ReadExact || what == Xfer::Peek;
    if (!h || !cb || (!buf && len) || (read && len == 0)) return BRAID_EINVAL;
    if (what == Xfer::Peek && h->kind != IoKind::Socket) return BRAID_EINVAL;
    uint8_t claim = read ? kClaimRead : kClaimWrite;
    if (int rc = IoHandle::claim(h, claim)) return rc;
    PollFn fn = what == Xfer::Peek ? &net::poll_peek : read ? read_fn(h->kind) : write_fn(h->kind);
    bool all = what == Xfer::ReadExact || what == Xfer::WriteAll;
    int rc = spawn_op<XferOp>(out, h->core, TaskKind::Worker, h->src, fn, read, buf, len, all, cb, ud);
    if (rc != BRAID_OK) h->src->release_claim(claim);  // never made, or refused: neither poll nor cancel runs
    return rc;
}

int read_start(braid_task** out, IoHandle* h, void* buf, std::size_t len, braid_read_callback cb, void* ud) {
    if (out) *out = nullptr;
    if (!h || !cb || !buf || len == 0) return BRAID_EINVAL;
    if (int rc = IoHandle::claim(h, kClaimRead)) return rc;
    IoSource* src = h->src;
    int rc = spawn_op_with<ReadLoopOp>(out, h->core, TaskKind::Worker, [src](Task* t) { src->set_repeater(t); },
                                       src, read_fn(h->kind), buf, len, cb, ud);
    if (rc != BRAID_OK) {  // never made, or refused: neither poll nor cancel runs
        src->clear_repeater();
        src->release_claim(kClaimRead);
    }
    return rc;
}

int read_stop(IoHandle* h) {
    if (!h || !h->src) return BRAID_EINVAL;
    h->src->stop_repeater();
    return BRAID_OK;
}

}  // namespace braid::detail::byte_stream
