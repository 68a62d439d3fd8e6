#include "io/dns.hpp"

#include <braid/error.h>
#include <netdb.h>
#include <netinet/in.h>
#include <strings.h>

#include <cstring>
#include <new>
#include <utility>

#include "io/os_error.hpp"
#include "runtime/core.hpp"
#include "task/spawn.hpp"
#include "task/callback.hpp"

namespace braid::detail {

namespace {

int map_gai(int uv_status) {
    switch (uv_status) {
        case 0: return BRAID_OK;
        case UV_EAI_NONAME:
        case UV_EAI_NODATA:
        case UV_EAI_FAIL:
        case UV_EAI_ADDRFAMILY: return BRAID_ENOTFOUND;
        case UV_EAI_AGAIN: return BRAID_EAGAIN;
        case UV_EAI_MEMORY:
        case UV_ENOMEM: return BRAID_ENOMEM;
        case UV_EAI_CANCELED:
        case UV_ECANCELED: return BRAID_ECANCELED;
        case UV_EAI_SERVICE:
        case UV_EAI_BADFLAGS:
        case UV_EINVAL: return BRAID_EINVAL;
        case UV_EAI_FAMILY:
        case UV_EAI_SOCKTYPE: return BRAID_ENOTSUP;
        default:
            if (uv_status < 0 && uv_status > -4096) return os_error(-uv_status);
            return BRAID_EIO;
    }
}

// "x.invalid", "x.invalid." and "invalid" itself (RFC 6761 section 6.4).
bool reserved_invalid(const std::string& h) {
    std::string s = h;
    if (!s.empty() && s.back() == '.') s.pop_back();
    const char* suffix = "invalid";
    std::size_t n = std::strlen(suffix);
    if (s.size() < n || strcasecmp(s.c_str() + s.size() - n, suffix) != 0) return false;
    return s.size() == n || s[s.size() - n - 1] == '.';
}

}  // namespace

int DnsQuery::start(DnsQuery** out, Core* core, const char* host, int port) {
    *out = nullptr;
    if (!host || !*host || std::strlen(host) > 253 + 1) return BRAID_EINVAL;
    auto* q = new (std::nothrow) DnsQuery(core, port);
    if (!q) return BRAID_ENOMEM;
    try {
        q->host_ = host;
    } catch (...) {
        delete q;
        return BRAID_ENOMEM;
    }
    if (reserved_invalid(q->host_)) {
        q->status_ = BRAID_ENOTFOUND;
        *out = q;
        return BRAID_OK;
    }
    q->refs_.store(2, std::memory_order_relaxed);  // the owner's and the loop's
    bool queued = core->reactor().submit([q] {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        q->req_.data = q;
        int rc = uv_getaddrinfo(q->core_->reactor().loop(), &q->req_, &DnsQuery::on_done, q->host_.c_str(), nullptr,
                                &hints);
        if (rc < 0) {
            q->finish(map_gai(rc));
            q->unref();
            return;
        }
        q->on_loop_ = true;
        q->core_->reactor().add_resource(q);
    });
    if (!queued) {
        delete q;
        return BRAID_ESHUTDOWN;
    }
    *out = q;
    return BRAID_OK;
}

void DnsQuery::on_done(uv_getaddrinfo_t* req, int status, addrinfo* res) {
    auto* q = static_cast<DnsQuery*>(req->data);
    q->on_loop_ = false;
    q->core_->reactor().remove_resource(q);
    int st = map_gai(status);
    if (st == BRAID_OK) {
        try {
            for (addrinfo* a = res; a; a = a->ai_next) {
                if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) || a->ai_addrlen > sizeof(sockaddr_storage))
                    continue;
                sockaddr_storage ss{};
                std::memcpy(&ss, a->ai_addr, a->ai_addrlen);
                if (a->ai_family == AF_INET) reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(uint16_t(q->port_));
                else reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(uint16_t(q->port_));
                q->addrs_.push_back(ss);
                q->lens_.push_back(a->ai_addrlen);
            }
            if (q->addrs_.empty()) st = BRAID_ENOTFOUND;
        } catch (...) {
            st = BRAID_ENOMEM;
        }
    }
    uv_freeaddrinfo(res);
    q->finish(st);
    q->unref();
}

void DnsQuery::finish(int status) {
    std::lock_guard<std::mutex> g(mu_);
    status_ = status;
    if (wake_) {
        braid_wake_fn f = wake_;
        wake_ = nullptr;
        f(wake_data_);
    }
}

int DnsQuery::poll(braid_wake_fn wake, void* data) {
    std::lock_guard<std::mutex> g(mu_);
    if (status_ != BRAID_PENDING) {
        wake_ = nullptr;
        return status_;
    }
    wake_ = wake;
    wake_data_ = data;
    return BRAID_PENDING;
}

void DnsQuery::close_on_loop() {
    // The reactor stops with the lookup in flight: cancel it if it has not
    // started (on_done then runs with UV_EAI_CANCELED); a running one ends
    // by itself and the loop waits for it.
    uv_cancel(reinterpret_cast<uv_req_t*>(&req_));
}

void DnsQuery::release() {
    {
        std::lock_guard<std::mutex> g(mu_);
        wake_ = nullptr;
    }
    if (refs_.load(std::memory_order_acquire) > 1) {
        // Maybe still on the loop: ask it to cancel a lookup not started yet
        // (the closure holds a reference of its own).
        refs_.fetch_add(1, std::memory_order_relaxed);
        bool queued = core_->reactor().submit([this] {
            if (on_loop_) uv_cancel(reinterpret_cast<uv_req_t*>(&req_));
            unref();
        });
        if (!queued) refs_.fetch_sub(1, std::memory_order_relaxed);
    }
    unref();
}

void DnsQuery::unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

int DnsLookup::start(DnsLookup** out, Core* core, const char* host, int port) {
    if (port < 0 || port > 65535) return BRAID_ERANGE;
    auto* l = new (std::nothrow) DnsLookup{core, nullptr, BRAID_PENDING};
    if (!l) return BRAID_ENOMEM;
    int rc = DnsQuery::start(&l->q, core, host, port);
    if (rc != BRAID_OK) {
        delete l;
        return rc;
    }
    core->ref();
    *out = l;
    return BRAID_OK;
}

void DnsLookup::free(DnsLookup* l) {
    Core* core = l->core;
    l->q->release();
    delete l;
    core->unref();
}

int DnsLookup::poll(braid_wake_fn wake, void* data) {
    if (!wake) {
        q->poll(nullptr, nullptr);
        return BRAID_PENDING;
    }
    if (status != BRAID_PENDING) return status;
    int rc = q->poll(wake, data);
    if (rc != BRAID_PENDING) status = rc;
    return rc;
}

int DnsLookup::addr(std::size_t i, sockaddr_storage* out, std::size_t* out_len) const {
    if (status != BRAID_OK || i >= q->count()) return BRAID_ERANGE;
    std::size_t len = 0;
    const sockaddr_storage& a = q->addr(i, &len);
    std::memcpy(out, &a, sizeof a);
    *out_len = len;
    return BRAID_OK;
}

namespace {

// braid_dns_lookup's operation.
struct LookupOp {
    DnsLookup* h;
    Callback<braid_dns_callback> cb;
    void* ud;
    LookupOp(DnsLookup* l, braid_dns_callback c, void* u) : h(l), cb(c), ud(u) {}
    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<LookupOp*>(self);
        int rc = s->h->q->poll(&braid_task_wake_fn, me);
        if (rc == BRAID_PENDING) return BRAID_PENDING;
        s->h->status = rc;
        DnsLookup* result = nullptr;
        if (rc == BRAID_OK) result = std::exchange(s->h, nullptr);
        else DnsLookup::free(std::exchange(s->h, nullptr));
        s->cb(s->ud, rc, result ? c_query(result) : nullptr);
        return BRAID_OK;
    }
    static void cancel(void* self) {
        auto* s = static_cast<LookupOp*>(self);
        DnsLookup::free(std::exchange(s->h, nullptr));
        s->cb(s->ud, current_cancel_status(), nullptr);
    }
    ~LookupOp() {
        if (h) DnsLookup::free(h);
    }
};

}  // namespace

int spawn_lookup(braid_task** out, Core* core, DnsLookup* l, braid_dns_callback cb, void* ud) {
    int rc = spawn_op<LookupOp>(out, core, TaskKind::Worker, l, cb, ud);
    if (rc == BRAID_ENOMEM) DnsLookup::free(l);  // the state was never made
    return rc;
}

}  // namespace braid::detail
