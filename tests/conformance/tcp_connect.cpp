// Conformance: tokio/tests/tcp_connect.rs (Tokio 1.24), ported from what
// each case asserts.  #[tokio::test] cases run on a current-thread runtime;
// futures::join! is braid::join.  Tokio's connect takes anything that
// converts to socket addresses; braid's TcpStream::connect takes a
// SocketAddr, "host:port" text (a std::string, or a C string for Tokio's
// &str slice) or a host and a port: the (ip, port) tuple is
// SocketAddr(ip, port), the (str, port) tuples are connect(host, port).
// connect_v6 needs the IPv6 loopback; where the machine has none (Tokio's
// tokio_no_ipv6), the case checks that binding [::1] fails cleanly instead.
//
// Gaps: none.
//
// Not applicable: none.  (poll_hup is commented out in Tokio's file: there
// is no case to port.)
#include <catch2/catch.hpp>

#include <string>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_tcp_connect {

using braid::net::SocketAddr;
using braid::net::TcpListener;
using braid::net::TcpStream;

namespace {

// connect_v4 / connect_v6: both ends agree on both addresses, and accept's
// peer address is the stream's.
braid::Task<> connect_and_compare(std::string bind_to, bool v4) {
    TcpListener srv = TcpListener::bind(bind_to);
    SocketAddr addr = srv.local_addr();
    EXPECT(v4 ? addr.is_ipv4() : addr.is_ipv6());

    auto [tx, rx] = braid::oneshot::channel<TcpStream>();
    auto server = braid::spawn([](TcpListener srv, braid::oneshot::Sender<TcpStream> tx) -> braid::Task<> {
        auto [socket, peer] = co_await srv.accept();
        EXPECT(peer == socket.peer_addr());
        EXPECT(!tx.send(std::move(socket)).has_value());
    }, std::move(srv), std::move(tx));

    TcpStream mine = co_await TcpStream::connect(addr);
    TcpStream theirs = co_await std::move(rx);

    EXPECT(mine.local_addr() == theirs.peer_addr());
    EXPECT(theirs.local_addr() == mine.peer_addr());
    co_await server;
}

// The join!(server, client) cases: an accept and a connect, concurrently.
template <class Connect>
void accept_and_connect(Connect connect) {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([](Connect connect) -> braid::Task<> {
        TcpListener srv = TcpListener::bind("127.0.0.1:0");
        SocketAddr addr = srv.local_addr();
        auto server = [](TcpListener& srv) -> braid::Task<> { co_await srv.accept(); };
        co_await braid::join(server(srv), connect(addr));
    }(std::move(connect)));
}

}  // namespace

TEST_CASE("tcp_connect.connect_v4") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on(connect_and_compare("127.0.0.1:0", true));
}

TEST_CASE("tcp_connect.connect_v6") {
    auto rt = braid_test::current_thread_runtime();
    if (braid_test::have_ipv6_loopback()) {
        rt.block_on(connect_and_compare("[::1]:0", false));
    } else {
        int code = rt.block_on([]() -> braid::Task<int> {
            co_return braid_test::error_code_of([] { TcpListener::bind("[::1]:0"); });
        }());
        REQUIRE(code < 0);  // EADDRNOTAVAIL, or EAFNOSUPPORT without IPv6 at all
    }
}

TEST_CASE("tcp_connect.connect_addr_ip_string") {
    accept_and_connect([](SocketAddr addr) -> braid::Task<> {
        std::string text = "127.0.0.1:" + std::to_string(addr.port());
        co_await TcpStream::connect(text);
    });
}

TEST_CASE("tcp_connect.connect_addr_ip_str_slice") {
    accept_and_connect([](SocketAddr addr) -> braid::Task<> {
        std::string text = "127.0.0.1:" + std::to_string(addr.port());
        co_await TcpStream::connect(text.c_str());
    });
}

TEST_CASE("tcp_connect.connect_addr_host_string") {
    accept_and_connect([](SocketAddr addr) -> braid::Task<> {
        std::string text = "localhost:" + std::to_string(addr.port());
        co_await TcpStream::connect(text);
    });
}

TEST_CASE("tcp_connect.connect_addr_ip_port_tuple") {
    accept_and_connect([](SocketAddr addr) -> braid::Task<> {
        co_await TcpStream::connect(SocketAddr(addr.ip(), addr.port()));
    });
}

TEST_CASE("tcp_connect.connect_addr_ip_str_port_tuple") {
    accept_and_connect([](SocketAddr addr) -> braid::Task<> { co_await TcpStream::connect("127.0.0.1", addr.port()); });
}

TEST_CASE("tcp_connect.connect_addr_host_str_port_tuple") {
    accept_and_connect([](SocketAddr addr) -> braid::Task<> { co_await TcpStream::connect("localhost", addr.port()); });
}

}  // namespace conformance_tcp_connect
