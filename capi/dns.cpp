// extern "C" shims: host name lookups.
#include <braid/dns.h>

#include <cstring>
#include <utility>

#include "io/dns.hpp"
#include "shim.hpp"

using braid::capi::core_or_current;
using braid::capi::guarded;
using braid::capi::spawn_state;
using braid::detail::Core;
using braid::detail::DnsQuery;
using braid::detail::TaskKind;

struct braid_dns_query {
    Core* core;
    DnsQuery* q;
    int status;  // BRAID_PENDING until poll returned a final status
};

namespace {

int make_query(braid_dns_query** out, Core* core, const char* host, int port) {
    if (port < 0 || port > 65535) return BRAID_ERANGE;
    auto* h = new (std::nothrow) braid_dns_query{core, nullptr, BRAID_PENDING};
    if (!h) return BRAID_ENOMEM;
    int rc = DnsQuery::start(&h->q, core, host, port);
    if (rc != BRAID_OK) {
        delete h;
        return rc;
    }
    core->ref();
    *out = h;
    return BRAID_OK;
}

void free_query(braid_dns_query* h) {
    Core* core = h->core;
    h->q->release();
    delete h;
    core->unref();
}

// braid_dns_lookup's operation.
struct LookupOp {
    braid_dns_query* h;
    braid_dns_callback cb;
    void* ud;
    LookupOp(braid_dns_query* q, braid_dns_callback c, void* u) : h(q), cb(c), ud(u) {}
    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<LookupOp*>(self);
        int rc = s->h->q->poll(&braid_task_wake_fn, me);
        if (rc == BRAID_PENDING) return BRAID_PENDING;
        s->h->status = rc;
        braid_dns_query* result = nullptr;
        if (rc == BRAID_OK) result = std::exchange(s->h, nullptr);
        else free_query(std::exchange(s->h, nullptr));
        s->cb(s->ud, rc, result);
        return BRAID_OK;
    }
    static void cancel(void* self) {
        auto* s = static_cast<LookupOp*>(self);
        free_query(std::exchange(s->h, nullptr));
        s->cb(s->ud, braid::capi::cancel_status(), nullptr);
    }
    static void release(void* self) {
        auto* s = static_cast<LookupOp*>(self);
        if (s->h) free_query(s->h);
        s->~LookupOp();
    }
};

}  // namespace

extern "C" {

BRAID_API int braid_dns_query_start(braid_dns_query** out, braid_runtime* rt, const char* host, int port) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!host || !*host) return BRAID_EINVAL;
    Core* core = core_or_current(rt);
    if (!core) return BRAID_EINVAL;
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return guarded([&] { return make_query(out, core, host, port); });
}

BRAID_API int braid_dns_query_poll_result(braid_dns_query* q, braid_wake_fn wake, void* wake_data) {
    if (!q) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([q] { q->q->poll(nullptr, nullptr); });
    if (q->status != BRAID_PENDING) return q->status;
    int rc = q->q->poll(wake, wake_data);
    if (rc != BRAID_PENDING) q->status = rc;
    return rc;
}

BRAID_API size_t braid_dns_query_count(const braid_dns_query* q) {
    return q && q->status == BRAID_OK ? q->q->count() : 0;
}

BRAID_API int braid_dns_query_addr(const braid_dns_query* q, size_t i, struct sockaddr_storage* out,
                                   size_t* out_len) {
    if (!q || !out || !out_len) return BRAID_EINVAL;
    if (q->status != BRAID_OK || i >= q->q->count()) return BRAID_ERANGE;
    std::size_t len = 0;
    const sockaddr_storage& a = q->q->addr(i, &len);
    std::memcpy(out, &a, sizeof a);
    *out_len = len;
    return BRAID_OK;
}

BRAID_API void braid_dns_query_free(braid_dns_query* q) {
    if (q) free_query(q);
}

BRAID_API int braid_dns_lookup(braid_task** out, braid_runtime* rt, const char* host, int port,
                               braid_dns_callback cb, void* user_data) {
    if (out) *out = nullptr;
    if (!cb || !host || !*host) return BRAID_EINVAL;
    Core* core = core_or_current(rt);
    if (!core) return BRAID_EINVAL;
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return guarded([&] {
        braid_dns_query* q = nullptr;
        int rc = make_query(&q, core, host, port);
        if (rc != BRAID_OK) return rc;
        rc = spawn_state<LookupOp>(out, core, TaskKind::Worker, q, cb, user_data);
        if (rc == BRAID_ENOMEM) free_query(q);  // the state was never made
        return rc;
    });
}

}  // extern "C"
