// Host name lookups through libuv's getaddrinfo (uv_getaddrinfo runs on the
// loop thread, the lookup itself on libuv's thread pool).  A query is shared
// by its owner and the loop until both let go; the owner may drop it at any
// time, which cancels a lookup that has not started.
#pragma once

#include <braid/dns.h>

#include <braid/task.h>
#include <sys/socket.h>
#include <uv.h>

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "io/reactor.hpp"

namespace braid::detail {

class Core;

class DnsQuery final : public ReactorResource {
public:
    // Starts resolving host (a name or a numeric address) with `port` filled
    // into every result.  Names under the reserved ".invalid" domain
    // (RFC 6761) fail at once with BRAID_ENOTFOUND, without asking anyone.
    // BRAID_OK, BRAID_EINVAL (empty or too long host), BRAID_ESHUTDOWN,
    // BRAID_ENOMEM.
    static int start(DnsQuery** out, Core* core, const char* host, int port);

    // 0 once resolved, BRAID_PENDING (waker registered; NULL wake: removed),
    // or the failure (BRAID_ENOTFOUND, BRAID_EAGAIN, BRAID_ECANCELED ...).
    int poll(braid_wake_fn wake, void* data);
    std::size_t count() const { return addrs_.size(); }
    const sockaddr_storage& addr(std::size_t i, std::size_t* len) const {
        *len = lens_[i];
        return addrs_[i];
    }
    // The owner lets go (cancels a lookup still queued).
    void release();

    void close_on_loop() override;  // the reactor stops: cancel

private:
    DnsQuery(Core* core, int port) : core_(core), port_(port) {}
    static void on_done(uv_getaddrinfo_t* req, int status, addrinfo* res);
    void finish(int status);
    void unref();

    Core* core_;
    int port_;
    std::string host_;
    uv_getaddrinfo_t req_;
    std::atomic<int> refs_{1};
    std::mutex mu_;
    int status_ = BRAID_PENDING;  // under mu_
    braid_wake_fn wake_ = nullptr;
    void* wake_data_ = nullptr;
    bool on_loop_ = false;        // loop thread: the request is in flight
    std::vector<sockaddr_storage> addrs_;  // written once, before status_ is set
    std::vector<std::size_t> lens_;
};

// What the C ABI hands out as a braid_dns_query (the opaque C type is this
// object, as a braid_task is a Task): a query, the runtime reference it
// holds, and its final status once a poll returned one.
struct DnsLookup {
    Core* core;
    DnsQuery* q;
    int status;  // BRAID_PENDING until poll returned a final status

    // Starts resolving host (port 0..65535, else BRAID_ERANGE) into *out.
    static int start(DnsLookup** out, Core* core, const char* host, int port);
    // Lets go of the query and its runtime reference.
    static void free(DnsLookup* l);
    // BRAID_PENDING (the waker registered) or the final status, which is
    // kept; a NULL waker withdraws (unregisters, looks at nothing).
    int poll(braid_wake_fn wake, void* data);
    // The addresses of a lookup that ended with BRAID_OK (0 otherwise).
    std::size_t count() const { return status == BRAID_OK ? q->count() : 0; }
    // Address i: BRAID_OK, or BRAID_ERANGE (not resolved, or past the end).
    int addr(std::size_t i, sockaddr_storage* out, std::size_t* out_len) const;
};

inline braid_dns_query* c_query(DnsLookup* l) { return reinterpret_cast<braid_dns_query*>(l); }
inline DnsLookup* lookup_of(braid_dns_query* q) { return reinterpret_cast<DnsLookup*>(q); }
inline const DnsLookup* lookup_of(const braid_dns_query* q) { return reinterpret_cast<const DnsLookup*>(q); }

// braid_dns_lookup's task: calls cb(ud, status, lookup-or-null) once the
// lookup ends (the lookup is the callback's on BRAID_OK, freed otherwise),
// or when it is cancelled.  On an error return the lookup is freed.
int spawn_lookup(braid_task** out, Core* core, DnsLookup* l, braid_dns_callback cb, void* ud);

}  // namespace braid::detail
