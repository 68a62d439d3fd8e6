// Conformance: tokio/tests/tcp_socket.rs (Tokio 1.24), ported from what each
// case asserts: braid::net::TcpSocket (new_v4/new_v6, bind, listen(backlog),
// connect, linger).  #[tokio::test]: a current-thread runtime.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <chrono>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_tcp_socket {

using braid::net::SocketAddr;
using braid::net::TcpListener;
using braid::net::TcpSocket;
using braid::net::TcpStream;

namespace {

// Listens on `any` through a TcpSocket, connects a second TcpSocket (bound
// to `client_bind` first when given) and accepts.
braid::Task<> listen_connect_accept(TcpSocket srv_sock, TcpSocket cli, SocketAddr any, bool bind_client) {
    srv_sock.bind(any);
    TcpListener srv = srv_sock.listen(128);
    EXPECT(!srv_sock.native_handle());  // consumed

    SocketAddr addr = srv.local_addr();
    if (bind_client) cli.bind(any);
    TcpStream c = co_await cli.connect(addr);
    EXPECT(c.peer_addr() == addr);
    auto [s, peer] = co_await srv.accept();
    EXPECT(peer == c.local_addr());
}

}  // namespace

TEST_CASE("tcp_socket.basic_usage_v4") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        co_await listen_connect_accept(TcpSocket::new_v4(), TcpSocket::new_v4(), SocketAddr::parse("127.0.0.1:0"),
                                       false);
    }());
}

TEST_CASE("tcp_socket.basic_usage_v6") {
    auto rt = braid_test::current_thread_runtime();
    if (!braid_test::have_ipv6_loopback()) {
        // No IPv6 loopback here: binding [::1] is refused, as Tokio's would be.
        int code = rt.block_on([]() -> braid::Task<int> {
            co_return braid_test::error_code_of([] { TcpSocket::new_v6().bind(SocketAddr::parse("[::1]:0")); });
        }());
        REQUIRE(code < 0);
        return;
    }
    rt.block_on([]() -> braid::Task<> {
        co_await listen_connect_accept(TcpSocket::new_v6(), TcpSocket::new_v6(), SocketAddr::parse("[::1]:0"), false);
    }());
}

TEST_CASE("tcp_socket.bind_before_connect") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        co_await listen_connect_accept(TcpSocket::new_v4(), TcpSocket::new_v4(), SocketAddr::parse("127.0.0.1:0"),
                                       true);
    }());
}

TEST_CASE("tcp_socket.basic_linger") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        TcpSocket srv = TcpSocket::new_v4();
        srv.bind(SocketAddr::parse("127.0.0.1:0"));
        EXPECT(!srv.linger().has_value());

        srv.set_linger(std::chrono::seconds(0));
        EXPECT(srv.linger() == std::optional<std::chrono::seconds>(std::chrono::seconds(0)));
        co_return;
    }());
}

}  // namespace conformance_tcp_socket
