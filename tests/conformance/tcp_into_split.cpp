// Conformance: tokio/tests/tcp_into_split.rs (Tokio 1.24), ported from what
// each case asserts.  #[tokio::test]: a current-thread runtime; try_join! is
// braid::try_join; the std::net peer on its thread is a plain blocking
// socket (braid_test::PlainSocket) on a std::thread.  drop_write drops the
// write half on another thread while the read is pending: Tokio's thread
// sleeps 10 ms first to get there; here the drop runs on the blocking pool
// from a join branch that starts only once the read is pending.
//
// reunite of halves of different streams throws braid::Error(BRAID_EINVAL)
// and leaves both halves as they were (Tokio's ReuniteError gives them
// back).
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <string_view>
#include <thread>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_tcp_into_split {

using braid::net::SocketAddr;
using braid::net::TcpListener;
using braid::net::TcpStream;
using braid_test::PlainSocket;

namespace {

constexpr std::string_view MSG = "split";
braid::io::ConstBuffer msg() { return braid::io::ConstBuffer(MSG.data(), MSG.size()); }

braid::Task<> peer_side(TcpStream& stream2) {
    std::size_t len = co_await stream2.write(msg());
    EXPECT(len == MSG.size());

    char read_buf[32];
    std::size_t read_len = co_await stream2.read(read_buf);
    EXPECT(std::string_view(read_buf, read_len) == MSG);
}

braid::Task<> write_side(braid::io::OwnedWriteHalf<TcpStream>& write_half) {
    std::size_t len = co_await write_half.write(msg());
    EXPECT(len == MSG.size());
}

braid::Task<> read_side(braid::io::OwnedReadHalf<TcpStream>& read_half) {
    char read_buf[32];
    std::size_t peek_len1 = co_await read_half.peek(read_buf);
    std::size_t peek_len2 = co_await read_half.peek(read_buf);
    EXPECT(peek_len1 == peek_len2);

    std::size_t read_len = co_await read_half.read(read_buf);
    EXPECT(peek_len1 == read_len);
    EXPECT(std::string_view(read_buf, read_len) == MSG);
}

// Drops the write half on a thread of the blocking pool.
braid::Task<> drop_elsewhere(braid::io::OwnedWriteHalf<TcpStream> w) {
    auto drop = [w = std::move(w)]() mutable { auto gone = std::move(w); };
    co_await braid::spawn_blocking(std::move(drop));
}

}  // namespace

TEST_CASE("tcp_into_split.split") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        TcpListener listener = TcpListener::bind("127.0.0.1:0");
        SocketAddr addr = listener.local_addr();

        auto [stream1, accepted] = co_await braid::try_join(TcpStream::connect(addr), listener.accept());
        TcpStream stream2 = std::move(accepted.first);
        auto [read_half, write_half] = braid::io::into_split(std::move(stream1));

        co_await braid::try_join(peer_side(stream2), write_side(write_half), read_side(read_half));
    }());
}

TEST_CASE("tcp_into_split.drop_write") {
    PlainSocket listener = PlainSocket::listen(SocketAddr::parse("127.0.0.1:0"));
    SocketAddr addr = listener.local_addr();

    // the peer: writes MSG, then expects end of file (not bytes, not an error)
    long peer_read = -2;
    bool peer_wrote = false;
    std::thread handle([&] {
        PlainSocket stream = listener.accept();
        peer_wrote = stream.write_all(MSG.data(), MSG.size());
        char read_buf[32];
        peer_read = stream.read(read_buf, sizeof read_buf);
    });

    auto rt = braid_test::current_thread_runtime();
    rt.block_on([](SocketAddr addr) -> braid::Task<> {
        TcpStream stream = co_await TcpStream::connect(addr);
        auto [read_half, write_half] = braid::io::into_split(std::move(stream));

        char read_buf[32];
        std::size_t read_len = co_await read_half.read(read_buf);
        EXPECT(std::string_view(read_buf, read_len) == MSG);

        // dropped while the read is in progress: the peer sees end of file,
        // closes, and the read gives 0
        auto [n, dropped] = co_await braid::join(read_half.read(read_buf), drop_elsewhere(std::move(write_half)));
        EXPECT(n == 0);
    }(addr));

    handle.join();
    REQUIRE(peer_wrote);
    REQUIRE(peer_read == 0);
}

TEST_CASE("tcp_into_split.reunite") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        TcpListener listener = TcpListener::bind("127.0.0.1:0");
        SocketAddr addr = listener.local_addr();

        auto [stream1, accepted1] = co_await braid::try_join(TcpStream::connect(addr), listener.accept());
        auto [read1, write1] = braid::io::into_split(std::move(stream1));

        auto [stream2, accepted2] = co_await braid::try_join(TcpStream::connect(addr), listener.accept());
        auto [read2, write2] = braid::io::into_split(std::move(stream2));

        int code = 0;
        try {
            (void)std::move(read1).reunite(std::move(write2));
        } catch (const braid::Error& e) {
            code = e.code();
        }
        EXPECT(code == BRAID_EINVAL);
        EXPECT(read1.is_pair_of(write1));
        EXPECT(write2.is_pair_of(read2));

        TcpStream back = std::move(read1).reunite(std::move(write1));
        EXPECT(back.local_addr().port() != 0);
    }());
}

}  // namespace conformance_tcp_into_split
