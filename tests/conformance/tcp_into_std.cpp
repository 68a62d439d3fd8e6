// Conformance: tokio/tests/tcp_into_std.rs (Tokio 1.24), ported from what
// the case asserts, in part.  #[tokio::test]: a current-thread runtime.
//
// Gaps:
//   tcp_into_std (in part) - a braid TcpStream cannot give its socket back
//     (no into_std): the accepted socket the case reads from with blocking
//     reads comes from a plain accept(2) instead of from braid's accept.
//     The way back, from_std, is the C ABI's braid_tcp_stream_from_fd (the
//     C++ TcpStream owns the handle it makes; it has no from_std of its
//     own).
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <cstring>
#include <fcntl.h>
#include <string>

#include "io_support.hpp"
#include "support.hpp"

using braid::net::SocketAddr;
using braid::net::TcpStream;
using braid_test::PlainSocket;

TEST_CASE("tcp_into_std") {
    PlainSocket listener = PlainSocket::listen(SocketAddr::parse("127.0.0.1:0"));
    std::string addr = listener.local_addr().to_string();

    auto rt = braid_test::current_thread_runtime();
    rt.block_on([](PlainSocket& listener, std::string addr) -> braid::Task<> {
        auto handle = braid::spawn([](std::string addr) -> braid::Task<TcpStream> {
            co_return co_await TcpStream::connect(addr);
        }, addr);

        // the std side: a blocking socket (accepted on the blocking pool, so
        // that the connecting task runs meanwhile)
        auto accept = [&listener] { return listener.accept(); };
        PlainSocket std_tcp_stream = co_await braid::spawn_blocking(accept);
        EXPECT((::fcntl(std_tcp_stream.get(), F_GETFL) & O_NONBLOCK) == 0);

        TcpStream client = co_await handle;
        co_await client.write_all("Hello world!");

        char data[12];
        EXPECT(std_tcp_stream.read_exact(data, sizeof data));
        EXPECT(std::memcmp(data, "Hello world!", 12) == 0);

        // back to a braid stream (made non-blocking by braid)
        braid_tcp_stream* s = nullptr;
        EXPECT(braid_tcp_stream_from_fd(&s, nullptr, std_tcp_stream.get()) == BRAID_OK);
        std_tcp_stream.release();
        TcpStream braid_tcp_stream(s);
        EXPECT((::fcntl(braid_tcp_stream.fd(), F_GETFL) & O_NONBLOCK) != 0);

        co_await client.write_all("Hello tokio!");
        co_await braid_tcp_stream.read_exact(data);
        EXPECT(std::memcmp(data, "Hello tokio!", 12) == 0);
    }(listener, addr));
}
