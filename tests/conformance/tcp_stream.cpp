// Conformance: tokio/tests/tcp_stream.rs (Tokio 1.24), ported from what each
// case asserts: readiness without an operation (readable(), writable(),
// ready(Interest); poll_read_ready / poll_write_ready are the C ABI's
// braid_byte_stream_poll_ready, polled by hand with braid_test::ReadyProbe)
// and the non-waiting try_read / try_write / try_write_vectored (nullopt
// where Tokio gives WouldBlock); the cases uds_stream.rs shares are written
// once in stream_readiness.hpp.  #[tokio::test]: a current-thread runtime;
// "while !is_woken() yield_now()" is kept as the wait for an event.
//
// Differs:
//   initial readiness - braid assumes a fresh stream ready in both
//     directions (its first attempt finds out, saving a wait for the event
//     that registration would bring), where Tokio's first readiness comes
//     from that event.  The cases that start from "not readable"
//     (try_read_write, try_read_buf, poll_read_ready, read_closed) first
//     make one try_read that gives nullopt, which forgets the assumed
//     readiness, as docs/io.md says.
//   short writes - a write (or read) that moved fewer bytes than asked
//     forgets that direction's readiness at once (the buffer is full: the
//     next attempt would only say EAGAIN), where Tokio waits for the
//     EAGAIN.  The fill loops that assert "still ready" before each write
//     accept "not ready" right after a short write.
//
// Not applicable:
//   buffer_not_included_in_future - it measures a Rust future's size
//     (mem::size_of_val of an async block); a C++ coroutine frame's size is
//     not observable.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "io_support.hpp"
#include "stream_readiness.hpp"
#include "support.hpp"

namespace conformance_tcp_stream {

using braid::net::SocketAddr;
using braid::net::TcpListener;
using braid::net::TcpStream;
using braid_test::settle_readable;
using braid_test::write_until_pending;

namespace {

braid::Task<std::pair<TcpStream, TcpStream>> create_pair() {
    TcpListener listener = TcpListener::bind("127.0.0.1:0");
    TcpStream client = co_await TcpStream::connect(listener.local_addr());
    auto [server, peer] = co_await listener.accept();
    co_return std::make_pair(std::move(client), std::move(server));
}

}  // namespace

TEST_CASE("tcp_stream.try_read_write") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> { co_await braid_test::try_read_write(co_await create_pair()); }());
}

TEST_CASE("tcp_stream.try_read_buf") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> { co_await braid_test::try_read_buf(co_await create_pair()); }());
}

TEST_CASE("tcp_stream.poll_read_ready") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> { co_await braid_test::poll_read_ready(co_await create_pair()); }());
}

TEST_CASE("tcp_stream.poll_write_ready") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> { co_await braid_test::poll_write_ready(co_await create_pair()); }());
}

TEST_CASE("tcp_stream.read_closed") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [client, server] = co_await create_pair();
        settle_readable(client);

        auto ready_fut = braid_test::probe(client, BRAID_IO_READABLE);
        EXPECT(ready_fut.poll() == BRAID_PENDING);

        co_await server.write_all(braid::io::ConstBuffer("ping", 4));

        braid::Ready ready_event = co_await client.ready(braid::Readable);
        EXPECT(ready_event.is_readable());
        EXPECT(!ready_event.is_read_closed());
    }());
}

TEST_CASE("tcp_stream.write_closed") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [client, server] = co_await create_pair();

        // Fill the write buffer.
        EXPECT(write_until_pending(client) > 0);
        auto ready_fut = braid_test::probe(client, BRAID_IO_WRITABLE);
        EXPECT(ready_fut.poll() == BRAID_PENDING);

        // Drop the server to close the connection.
        server = TcpStream();

        braid::Ready ready_event = co_await client.ready(braid::Writable);
        EXPECT(ready_event.is_write_closed());
    }());
}

}  // namespace conformance_tcp_stream
