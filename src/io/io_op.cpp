#include "io/io_op.hpp"

#include <unistd.h>

#include <cstring>

#include "io/dns.hpp"
#include "io/net.hpp"
#include "runtime/core.hpp"
#include "task/spawn.hpp"
#include "task/callback.hpp"

namespace braid::detail::io_op {

namespace {

struct DgramOp {
    IoSource* src;
    bool recv;
    char* buf;
    std::size_t len;
    sockaddr_storage to{};
    std::size_t to_len;
    sockaddr_storage* from;
    std::size_t* from_len;
    Callback<braid_io_callback> cb;
    void* ud;
    void* waker = nullptr;  // this operation's task, once polled: the wake_data it registers with
    uint8_t claim() const { return recv ? kClaimRead : kClaimWrite; }
    int dir() const { return recv ? kIoRead : kIoWrite; }
    DgramOp(IoSource* s, bool r, void* b, std::size_t l, const sockaddr* t, std::size_t tl, sockaddr_storage* f,
            std::size_t* fl, braid_io_callback c, void* u)
        : src(s), recv(r), buf(static_cast<char*>(b)), len(l), to_len(t ? tl : 0), from(f), from_len(fl), cb(c),
          ud(u) {
        if (t) std::memcpy(&to, t, tl);
        s->ref();
    }
    int finish(int st, std::size_t n) {
        unregister_own(src, dir(), waker);
        src->release_claim(claim());
        cb(ud, st, n);
        return BRAID_OK;
    }
    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<DgramOp*>(self);
        s->waker = me;
        std::size_t n = 0;
        int rc = s->recv ? net::poll_recv_from(s->src, s->buf, s->len, 0, s->from, s->from_len, &braid_task_wake_fn,
                                               me, &n)
                         : net::poll_send_to(s->src, s->buf, s->len,
                                             s->to_len ? reinterpret_cast<sockaddr*>(&s->to) : nullptr, s->to_len,
                                             &braid_task_wake_fn, me, &n);
        if (rc == BRAID_PENDING) return BRAID_PENDING;
        return s->finish(rc, rc == BRAID_OK ? n : 0);
    }
    static void cancel(void* self) {
        auto* s = static_cast<DgramOp*>(self);
        unregister_own(s->src, s->dir(), s->waker);
        s->src->release_claim(s->claim());
        s->cb(s->ud, current_cancel_status(), 0);
    }
    ~DgramOp() {
        src->unref();
    }
};

struct AcceptOp {
    IoSource* src;
    Core* core;
    bool repeat;
    Deliver deliver;
    Callback<AnyFn> cb;
    void* ud;
    void* waker = nullptr;  // this operation's task, once polled
    AcceptOp(IoSource* s, Core* c, bool r, Deliver d, AnyFn f, void* u)
        : src(s), core(c), repeat(r), deliver(d), cb(f), ud(u) {
        s->ref();
    }
    void end() {
        unregister_own(src, kIoRead, waker);
        if (repeat) src->clear_repeater();
        src->release_claim(kClaimRead);
    }
    int finish(int st, IoSource* made) {
        end();
        deliver(cb, ud, st, core, made);
        return BRAID_OK;
    }
    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<AcceptOp*>(self);
        s->waker = me;
        for (;;) {
            // Stopped, perhaps from the last connection's callback: suspend,
            // and the runtime cancels us.
            if (s->repeat && abort_requested(me)) return BRAID_PENDING;
            int fd = -1;
            int rc = net::poll_accept(s->src, &braid_task_wake_fn, me, &fd, nullptr, nullptr);
            if (rc == BRAID_PENDING) return BRAID_PENDING;
            IoSource* made = nullptr;
            if (rc == BRAID_OK) {
                rc = IoSource::create(&made, s->core, fd);
                if (rc != BRAID_OK) ::close(fd);
            }
            if (!s->repeat || (rc < 0 && accept_final(rc))) return s->finish(rc, made);
            s->deliver(s->cb, s->ud, rc, s->core, made);
            if (rc < 0) {
                // A transient failure (out of fds, memory): the connection
                // stays queued.  Let the others run, then try again.
                braid_task_wake(me);
                return BRAID_PENDING;
            }
        }
    }
    static void cancel(void* self) {
        auto* s = static_cast<AcceptOp*>(self);
        s->end();
        s->deliver(s->cb, s->ud, current_cancel_status(), s->core, nullptr);
    }
    ~AcceptOp() {
        src->unref();
    }
};

// Connect to one address, or to each address of a host name in turn; or
// (backlog > 0) bind a TCP listener to each address of a host name in turn.
struct ConnectOp {
    Core* core;
    sockaddr_storage addr{};  // the one address (no host)
    std::size_t addr_len = 0;
    char host[256] = {};
    int port = 0;
    DnsQuery* query = nullptr;  // host: the lookup, kept for its addresses
    bool resolved = false;
    std::size_t next = 0;       // the address being tried
    int first_error = 0;
    int backlog = 0;  // > 0: bind and listen instead of connecting
    IoSource* src = nullptr;
    Deliver deliver;
    Callback<AnyFn> cb;
    void* ud;
    void* waker = nullptr;  // this operation's task, once polled
    ConnectOp(Core* c, const sockaddr* a, std::size_t l, const char* h, int p, Deliver d, AnyFn f, void* u,
              int listen_backlog = 0)
        : core(c), addr_len(a ? l : 0), port(p), resolved(a != nullptr), backlog(listen_backlog), deliver(d), cb(f),
          ud(u) {
        if (a) std::memcpy(&addr, a, l);
        if (h) std::strcpy(host, h);
    }
    std::size_t count() const { return query ? query->count() : 1; }
    const sockaddr* at(std::size_t i, std::size_t* len) const {
        if (!query) {
            *len = addr_len;
            return reinterpret_cast<const sockaddr*>(&addr);
        }
        return reinterpret_cast<const sockaddr*>(&query->addr(i, len));
    }
    void drop_src() {
        if (src) {
            src->close();
            src->unref();
            src = nullptr;
        }
    }
    void drop_query() {
        if (query) {
            query->poll(nullptr, waker);
            query->release();
            query = nullptr;
        }
    }
    int complete(int st, IoSource* made) {
        drop_src();
        drop_query();
        deliver(cb, ud, st, core, made);
        return BRAID_OK;
    }
    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<ConnectOp*>(self);
        s->waker = me;
        if (!s->resolved) {
            if (!s->query) {
                int rc = DnsQuery::start(&s->query, s->core, s->host, s->port);
                if (rc != BRAID_OK) return s->complete(rc, nullptr);
            }
            int rc = s->query->poll(&braid_task_wake_fn, me);
            if (rc == BRAID_PENDING) return BRAID_PENDING;
            if (rc < 0) return s->complete(rc, nullptr);
            s->resolved = true;
        }
        if (s->backlog > 0) return s->bind_each();
        while (s->next < s->count()) {
            int rc;
            if (!s->src) {
                std::size_t len = 0;
                const sockaddr* a = s->at(s->next, &len);
                rc = net::open_connect(&s->src, s->core, a->sa_family, a, len);
                if (rc == BRAID_PENDING) rc = net::poll_connect(s->src, &braid_task_wake_fn, me);
            } else {
                rc = net::poll_connect(s->src, &braid_task_wake_fn, me);
            }
            if (rc == BRAID_PENDING) return BRAID_PENDING;
            if (rc == BRAID_OK) {
                unregister_own(s->src, kIoWrite, me);
                IoSource* made = s->src;
                s->src = nullptr;
                return s->complete(BRAID_OK, made);
            }
            if (s->src) unregister_own(s->src, kIoWrite, me);
            s->drop_src();
            if (!s->first_error) s->first_error = rc;
            ++s->next;
        }
        return s->complete(s->first_error ? s->first_error : BRAID_ENOTFOUND, nullptr);
    }
    // The first address that binds is the listener; the last failure is
    // reported when none does (as the C++ TcpListener::bind_host).
    int bind_each() {
        int last = BRAID_ENOTFOUND;
        for (std::size_t i = 0; i < count(); ++i) {
            std::size_t len = 0;
            const sockaddr* a = at(i, &len);
            IoSource* made = nullptr;
            int rc = net::open_bound(&made, core, a->sa_family, SOCK_STREAM, a, len, backlog, true);
            if (rc == BRAID_OK) return complete(BRAID_OK, made);
            last = rc;
        }
        return complete(last, nullptr);
    }
    static void cancel(void* self) {
        auto* s = static_cast<ConnectOp*>(self);
        if (s->src) unregister_own(s->src, kIoWrite, s->waker);
        s->complete(current_cancel_status(), nullptr);
    }
    ~ConnectOp() {
        drop_src();
        drop_query();
    }
};

}  // namespace

int start_dgram(braid_task** out, IoHandle* h, bool recv, void* buf, std::size_t len, const sockaddr* to,
                std::size_t to_len, sockaddr_storage* from, std::size_t* from_len, braid_io_callback cb, void* ud) {
    if (out) *out = nullptr;
    if (!cb || (!buf && len) || (recv && len == 0)) return BRAID_EINVAL;
    uint8_t claim = recv ? kClaimRead : kClaimWrite;
    if (int rc = IoHandle::claim(h, claim)) return rc;
    int rc = spawn_op<DgramOp>(out, h->core, TaskKind::Worker, h->src, recv, buf, len, to, to_len, from, from_len,
                               cb, ud);
    if (rc != BRAID_OK) h->src->release_claim(claim);  // never made, or refused: neither poll nor cancel runs
    return rc;
}

bool accept_final(int status) {
    return status == BRAID_ECANCELED || status == BRAID_ETIMEDOUT || status == BRAID_ECLOSED ||
           status == BRAID_ESHUTDOWN || status == BRAID_EINVAL || status == BRAID_EBADF;
}

int start_accept(braid_task** out, IoHandle* l, bool repeat, Deliver deliver, AnyFn cb, void* ud) {
    if (out) *out = nullptr;
    if (!cb) return BRAID_EINVAL;
    if (int rc = IoHandle::claim(l, kClaimRead)) return rc;
    IoSource* src = l->src;
    int rc = spawn_op_with<AcceptOp>(
        out, l->core, TaskKind::Worker,
        [src, repeat](Task* t) {
            if (repeat) src->set_repeater(t);
        },
        src, l->core, repeat, deliver, cb, ud);
    if (rc != BRAID_OK) {  // never made, or refused: neither poll nor cancel runs
        if (repeat) src->clear_repeater();
        src->release_claim(kClaimRead);
    }
    return rc;
}

int accept_stop(IoHandle* l) {
    if (!l || !l->src) return BRAID_EINVAL;
    l->src->stop_repeater();
    return BRAID_OK;
}

int start_connect(braid_task** out, Core* core, const sockaddr* addr, std::size_t len, Deliver deliver, AnyFn cb,
                  void* ud) {
    if (out) *out = nullptr;
    if (!cb || !addr || len > sizeof(sockaddr_storage)) return BRAID_EINVAL;
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return spawn_op<ConnectOp>(out, core, TaskKind::Worker, core, addr, len, nullptr, 0, deliver, cb, ud);
}

namespace {
// Resolves host, then connects (backlog 0) or binds a listener.
int start_host(braid_task** out, Core* core, const char* host, int port, int backlog, Deliver deliver, AnyFn cb,
               void* ud) {
    if (out) *out = nullptr;
    if (!cb || !host || !*host || std::strlen(host) >= sizeof ConnectOp::host) return BRAID_EINVAL;
    if (port < 0 || port > 65535) return BRAID_ERANGE;
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return spawn_op<ConnectOp>(out, core, TaskKind::Worker, core, nullptr, 0, host, port, deliver, cb, ud, backlog);
}
}  // namespace

int start_connect_host(braid_task** out, Core* core, const char* host, int port, Deliver deliver, AnyFn cb,
                       void* ud) {
    return start_host(out, core, host, port, 0, deliver, cb, ud);
}

int start_bind_host(braid_task** out, Core* core, const char* host, int port, int backlog, Deliver deliver,
                    AnyFn cb, void* ud) {
    return start_host(out, core, host, port, backlog > 0 ? backlog : 1024, deliver, cb, ud);
}

}  // namespace braid::detail::io_op
