// Conformance: tokio/tests/tcp_into_std.rs (Tokio 1.24), ported from what
// the case asserts, in part.  #[tokio::test]: a current-thread runtime.
//
// into_std is TcpStream::into_std (the socket as a plain fd, still
// non-blocking as Tokio's); set_nonblocking is fcntl(2); from_std is
// TcpStream::from_std.  The listener binds port 0 (Tokio's fixed port 34254
// may be taken on a shared machine).
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <cstring>
#include <fcntl.h>
#include <string>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_tcp_into_std {

using braid::net::SocketAddr;
using braid::net::TcpListener;
using braid::net::TcpStream;
using braid_test::PlainSocket;

namespace {
void set_nonblocking(int fd, bool on) {
    int fl = ::fcntl(fd, F_GETFL);
    EXPECT(fl >= 0);
    EXPECT(::fcntl(fd, F_SETFL, on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK)) == 0);
}
}  // namespace

TEST_CASE("tcp_into_std.tcp_into_std") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        char data[12];
        TcpListener listener = TcpListener::bind("127.0.0.1:0");
        SocketAddr addr = listener.local_addr();

        auto handle = braid::spawn([](SocketAddr addr) -> braid::Task<TcpStream> {
            co_return co_await TcpStream::connect(addr);
        }, addr);

        auto [tokio_tcp_stream, peer] = co_await listener.accept();
        PlainSocket std_tcp_stream(tokio_tcp_stream.into_std());
        EXPECT(!tokio_tcp_stream.valid());
        EXPECT((::fcntl(std_tcp_stream.get(), F_GETFL) & O_NONBLOCK) != 0);  // as Tokio's: still non-blocking
        set_nonblocking(std_tcp_stream.get(), false);

        TcpStream client = co_await handle;
        co_await client.write_all("Hello world!");

        EXPECT(std_tcp_stream.read_exact(data, sizeof data));
        EXPECT(std::memcmp(data, "Hello world!", 12) == 0);

        // Back to a braid stream.
        set_nonblocking(std_tcp_stream.get(), true);
        TcpStream braid_tcp_stream = TcpStream::from_std(std_tcp_stream.release());
        co_await client.write_all("Hello tokio!");
        co_await braid_tcp_stream.read_exact(data);
        EXPECT(std::memcmp(data, "Hello tokio!", 12) == 0);
    }());
}

}  // namespace conformance_tcp_into_std
