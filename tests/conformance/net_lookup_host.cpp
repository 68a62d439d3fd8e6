// Conformance: tokio/tests/net_lookup_host.rs (Tokio 1.24), ported from
// what each case asserts.  #[tokio::test]: a current-thread runtime.
// Tokio's lookup_host takes anything that converts to socket addresses;
// braid's takes "host:port" text or a host and a port: a SocketAddr is
// looked up as its IP text and port.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <vector>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_net_lookup_host {

using braid::net::lookup_host;
using braid::net::SocketAddr;

namespace {
std::vector<SocketAddr> run(braid::Task<std::vector<SocketAddr>> body) {
    auto rt = braid_test::current_thread_runtime();
    return rt.block_on(std::move(body));
}
}  // namespace

TEST_CASE("net_lookup_host.lookup_socket_addr") {
    SocketAddr addr = SocketAddr::parse("127.0.0.1:8000");
    auto actual = run([](SocketAddr addr) -> braid::Task<std::vector<SocketAddr>> {
        co_return co_await lookup_host(addr.ip(), addr.port());
    }(addr));
    REQUIRE(actual == std::vector<SocketAddr>{addr});
}

TEST_CASE("net_lookup_host.lookup_str_socket_addr") {
    SocketAddr addr = SocketAddr::parse("127.0.0.1:8000");
    auto actual = run([]() -> braid::Task<std::vector<SocketAddr>> { co_return co_await lookup_host("127.0.0.1:8000"); }());
    REQUIRE(actual == std::vector<SocketAddr>{addr});
}

TEST_CASE("net_lookup_host.resolve_dns") {
    auto hosts = run([]() -> braid::Task<std::vector<SocketAddr>> { co_return co_await lookup_host("localhost:3000"); }());
    REQUIRE(!hosts.empty());
    SocketAddr host = hosts.front();

    SocketAddr expected = host.is_ipv4() ? SocketAddr("127.0.0.1", 3000) : SocketAddr("::1", 3000);
    REQUIRE(host == expected);
}

}  // namespace conformance_net_lookup_host
