// braid::net::lookup_host: host name (or numeric address) and port to socket
// addresses, through the system resolver on libuv's thread pool.
//
//   std::vector<SocketAddr> addrs = co_await braid::net::lookup_host("localhost", 8080);
//   auto addrs2 = co_await braid::net::lookup_host("example.com:443");
//
// Throws IoError: BRAID_ENOTFOUND (no such name; names under ".invalid" fail
// at once), BRAID_EAGAIN (the resolver failed for now), BRAID_EINVAL (an
// empty name, an embedded NUL, no port), BRAID_ERANGE (port > 65535).
// Cancel-safe: cancelling drops a lookup that has not started.
#pragma once

#include <braid/detail/context.hpp>
#include <braid/dns.h>
#include <braid/io/error.hpp>
#include <braid/net/addr.hpp>

#include <charconv>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace braid::net {

class [[nodiscard]] LookupHost : public braid::detail::LeafAwaiter<LookupHost> {
public:
    LookupHost(std::string host, int port) : host_(std::move(host)), port_(port) {}
    LookupHost(LookupHost&& o) noexcept
        : host_(std::move(o.host_)), port_(o.port_), q_(std::exchange(o.q_, nullptr)), started_(o.started_) {}
    LookupHost(const LookupHost&) = delete;
    ~LookupHost() { braid_dns_query_free(q_); }
    // Drops the waker; the lookup goes on.
    void unregister() noexcept {
        if (q_) braid_dns_query_poll_result(q_, nullptr, nullptr);
    }

    bool ready_now() const { return false; }
    int poll(braid_wake_fn w, void* d) {
        if (!started_) {
            started_ = true;
            if (host_.find('\0') != std::string::npos) return BRAID_EINVAL;
            int rc = braid_dns_query_start(&q_, nullptr, host_.c_str(), port_);
            if (rc < 0) return rc;
        }
        return braid_dns_query_poll_result(q_, w, d);
    }
    std::vector<SocketAddr> finish(int st) {
        braid_dns_query* q = std::exchange(q_, nullptr);
        if (st < 0) {
            braid_dns_query_free(q);
            throw IoError(st, 0, "lookup_host(" + host_ + ")");
        }
        std::vector<SocketAddr> out;
        std::size_t n = braid_dns_query_count(q);
        for (std::size_t i = 0; i < n; ++i) {
            SocketAddr a;
            if (braid_dns_query_addr(q, i, a.storage(), a.size_ptr()) == BRAID_OK) out.push_back(a);
        }
        braid_dns_query_free(q);
        return out;
    }

private:
    std::string host_;
    int port_;
    braid_dns_query* q_ = nullptr;
    bool started_ = false;
};

// Resolves `host` with `port` set in every address (BRAID_ERANGE outside
// 0..65535, thrown when awaited).
inline LookupHost lookup_host(std::string_view host, int port) { return LookupHost(std::string(host), port); }

// Splits "host:port" / "[v6]:port" (BRAID_EINVAL without a port, BRAID_ERANGE
// for a port above 65535).
inline std::pair<std::string, uint16_t> split_host_port(std::string_view text) {
    std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon + 1 == text.size())
        throw IoError(BRAID_EINVAL, 0, "host:port expected: " + std::string(text));
    std::string_view host = text.substr(0, colon), port = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    else if (host.find(':') != std::string_view::npos)
        throw IoError(BRAID_EINVAL, 0, "an IPv6 address needs brackets: " + std::string(text));
    unsigned long p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec == std::errc::result_out_of_range || (ec == std::errc() && end == port.data() + port.size() && p > 65535))
        throw IoError(BRAID_ERANGE, 0, "port out of range: " + std::string(text));
    if (ec != std::errc() || end != port.data() + port.size())
        throw IoError(BRAID_EINVAL, 0, "bad port: " + std::string(text));
    return {std::string(host), uint16_t(p)};
}

// "localhost:8080", "[::1]:80".
inline LookupHost lookup_host(std::string_view host_port) {
    auto [host, port] = split_host_port(host_port);
    return LookupHost(std::move(host), port);
}

}  // namespace braid::net
