// Conformance: tokio/tests/tcp_shutdown.rs (Tokio 1.24), ported from what
// the case asserts.  #[tokio::test]: a current-thread runtime.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_tcp_shutdown {

using braid::net::SocketAddr;
using braid::net::TcpListener;
using braid::net::TcpStream;

TEST_CASE("tcp_shutdown.shutdown") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        TcpListener srv = TcpListener::bind("127.0.0.1:0");
        SocketAddr addr = srv.local_addr();

        auto client = braid::spawn([](SocketAddr addr) -> braid::Task<> {
            TcpStream stream = co_await TcpStream::connect(addr);
            co_await stream.shutdown();  // AsyncWriteExt::shutdown

            char buf[1];
            std::size_t n = co_await stream.read(buf);
            EXPECT(n == 0);
        }, addr);

        {
            auto [stream, peer] = co_await srv.accept();
            auto [rd, wr] = braid::io::split(stream);

            uint64_t n = co_await braid::io::copy(rd, wr);
            EXPECT(n == 0);
        }  // the server's stream goes: the client reads end of file
        co_await client;
    }());
}

}  // namespace conformance_tcp_shutdown
