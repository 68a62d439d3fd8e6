// extern "C" shims: host name lookups.
#include <braid/dns.h>

#include <cstring>
#include <utility>

#include "io/dns.hpp"
#include "shim.hpp"

using braid::capi::core_or_current;
using braid::capi::guarded;
using braid::detail::Core;

using braid::detail::free_query;
using braid::detail::make_query;

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

BRAID_API int braid_dns_query_poll(braid_dns_query* q, braid_wake_fn wake, void* wake_data) {
    if (!q) return BRAID_EINVAL;
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
        return braid::detail::spawn_lookup(out, core, q, cb, user_data);
    });
}

}  // extern "C"
