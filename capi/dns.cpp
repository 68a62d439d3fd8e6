// extern "C" shims: host name lookups.
#include <braid/dns.h>

#include <cstring>
#include <utility>

#include "io/dns.hpp"
#include "shim.hpp"

using braid::capi::core_or_current;
using braid::capi::guarded;
using braid::detail::Core;
using braid::detail::DnsLookup;
using braid::detail::c_query;
using braid::detail::lookup_of;

extern "C" {

BRAID_API int braid_dns_query_start(braid_dns_query** out, braid_runtime* rt, const char* host, int port) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!host || !*host) return BRAID_EINVAL;
    Core* core = core_or_current(rt);
    if (!core) return BRAID_EINVAL;
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return guarded([&] {
        DnsLookup* l = nullptr;
        int rc = DnsLookup::start(&l, core, host, port);
        if (rc == BRAID_OK) *out = c_query(l);
        return rc;
    });
}

BRAID_API int braid_dns_query_poll_result(braid_dns_query* q, braid_wake_fn wake, void* wake_data) {
    if (!q) return BRAID_EINVAL;
    return lookup_of(q)->poll(wake, wake_data);
}

BRAID_API size_t braid_dns_query_count(const braid_dns_query* q) { return q ? lookup_of(q)->count() : 0; }

BRAID_API int braid_dns_query_addr(const braid_dns_query* q, size_t i, struct sockaddr_storage* out,
                                   size_t* out_len) {
    if (!q || !out || !out_len) return BRAID_EINVAL;
    return lookup_of(q)->addr(i, out, out_len);
}

BRAID_API void braid_dns_query_free(braid_dns_query* q) {
    if (q) DnsLookup::free(lookup_of(q));
}

BRAID_API int braid_dns_lookup(braid_task** out, braid_runtime* rt, const char* host, int port,
                               braid_dns_callback cb, void* user_data) {
    if (out) *out = nullptr;
    if (!cb || !host || !*host) return BRAID_EINVAL;
    Core* core = core_or_current(rt);
    if (!core) return BRAID_EINVAL;
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return guarded([&] {
        DnsLookup* l = nullptr;
        int rc = DnsLookup::start(&l, core, host, port);
        if (rc != BRAID_OK) return rc;
        return braid::detail::spawn_lookup(out, core, l, cb, user_data);
    });
}

}  // extern "C"
