// Conformance: tokio/tests/tcp_split.rs (Tokio 1.24), ported from what the
// case asserts.  #[tokio::test]: a current-thread runtime; the std::net
// peer on its thread is a plain blocking socket (braid_test::PlainSocket)
// on a std::thread.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <cstring>
#include <string_view>
#include <thread>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_tcp_split {

using braid::net::SocketAddr;
using braid::net::TcpStream;
using braid_test::PlainSocket;

TEST_CASE("tcp_split.split") {
    static constexpr std::string_view MSG = "split";

    PlainSocket listener = PlainSocket::listen(SocketAddr::parse("127.0.0.1:0"));
    SocketAddr addr = listener.local_addr();

    bool peer_ok = false;
    std::thread handle([&] {
        PlainSocket stream = listener.accept();
        bool wrote = stream.write_all(MSG.data(), MSG.size());
        char read_buf[32];
        long read_len = stream.read(read_buf, sizeof read_buf);
        peer_ok = wrote && read_len == long(MSG.size()) && std::memcmp(read_buf, MSG.data(), MSG.size()) == 0;
    });

    auto rt = braid_test::current_thread_runtime();
    rt.block_on([](SocketAddr addr) -> braid::Task<> {
        TcpStream stream = co_await TcpStream::connect(addr);
        auto [read_half, write_half] = braid::io::split(stream);

        char read_buf[32];
        std::size_t peek_len1 = co_await read_half.peek(read_buf);
        std::size_t peek_len2 = co_await read_half.peek(read_buf);
        EXPECT(peek_len1 == peek_len2);

        std::size_t read_len = co_await read_half.read(read_buf);
        EXPECT(peek_len1 == read_len);
        EXPECT(std::string_view(read_buf, read_len) == MSG);

        EXPECT(co_await write_half.write(braid::io::ConstBuffer(MSG.data(), MSG.size())) == MSG.size());
    }(addr));
    handle.join();
    REQUIRE(peer_ok);
}

}  // namespace conformance_tcp_split
