// Conformance: tokio/tests/tcp_peek.rs (Tokio 1.24), ported from what the
// case asserts.  #[tokio::test]: a current-thread runtime.  Tokio's std::net
// sockets are plain blocking sockets (braid_test::PlainSocket); the
// conversion of the connected std socket into a Tokio TcpStream
// (try_into, from_std) is the C ABI's braid_tcp_stream_from_fd, whose
// handle the C++ TcpStream then owns (the C++ layer has no from_std of its
// own).
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <cstring>
#include <thread>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_tcp_peek {

using braid::net::SocketAddr;
using braid::net::TcpStream;
using braid_test::PlainSocket;

namespace {
constexpr unsigned char data[] = {1, 2, 3, 4};
}  // namespace

TEST_CASE("tcp_peek.peek") {
    PlainSocket listener = PlainSocket::listen(SocketAddr::parse("127.0.0.1:0"));
    SocketAddr addr = listener.local_addr();
    PlainSocket right;
    std::thread t([&] { right = listener.accept(); });

    PlainSocket left = PlainSocket::connect(addr);
    t.join();
    REQUIRE(right.write_all(data, sizeof data));

    auto rt = braid_test::current_thread_runtime();
    rt.block_on([](PlainSocket& left) -> braid::Task<> {
        braid_tcp_stream* s = nullptr;
        EXPECT(braid_tcp_stream_from_fd(&s, nullptr, left.get()) == BRAID_OK);
        left.release();  // the stream owns the fd now
        TcpStream stream(s);

        unsigned char buf[16];
        std::size_t n = co_await stream.peek(buf);
        EXPECT(n == 4);
        EXPECT(std::memcmp(buf, data, 4) == 0);

        std::memset(buf, 0, sizeof buf);
        n = co_await stream.read(buf);
        EXPECT(n == 4);
        EXPECT(std::memcmp(buf, data, 4) == 0);
    }(left));
}

}  // namespace conformance_tcp_peek
