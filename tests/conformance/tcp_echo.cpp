// Conformance: tokio/tests/tcp_echo.rs (Tokio 1.24), ported from what the
// case asserts.  #[tokio::test]: a current-thread runtime.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <cstring>
#include <string_view>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_tcp_echo {

using braid::net::SocketAddr;
using braid::net::TcpListener;
using braid::net::TcpStream;

TEST_CASE("tcp_echo.echo_server") {
    constexpr int ITER = 1024;
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::oneshot::channel<int>();

        TcpListener srv = TcpListener::bind("127.0.0.1:0");
        SocketAddr addr = srv.local_addr();

        static constexpr std::string_view msg = "foo bar baz";
        auto client = braid::spawn([](SocketAddr addr, braid::oneshot::Sender<int> tx) -> braid::Task<> {
            TcpStream stream = co_await TcpStream::connect(addr);
            for (int i = 0; i < ITER; ++i) {
                co_await stream.write_all(braid::io::ConstBuffer(msg.data(), msg.size()));
                char buf[11];
                co_await stream.read_exact(buf);
                EXPECT(std::string_view(buf, sizeof buf) == msg);
            }
            EXPECT(!tx.send(1).has_value());
        }, addr, std::move(tx));

        auto [stream, peer] = co_await srv.accept();
        auto [rd, wr] = braid::io::split(stream);

        uint64_t n = co_await braid::io::copy(rd, wr);
        EXPECT(n == uint64_t(ITER) * msg.size());

        EXPECT(co_await std::move(rx) == 1);
        co_await client;
    }());
}

}  // namespace conformance_tcp_echo
