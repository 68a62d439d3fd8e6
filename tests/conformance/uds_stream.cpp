// Conformance: tokio/tests/uds_stream.rs (Tokio 1.24), ported from what each
// case asserts.  #[tokio::test]: a current-thread runtime; tempfile's
// directories are braid_test::TempDir; futures' try_join is braid::try_join.
//
// epollhup: Tokio's UnixStream::connect waits for the socket's first
// readiness event even when connect(2) succeeded at once, so its first poll
// is pending and a listener dropped meanwhile makes the connect itself fail
// with ConnectionReset.  braid's connect completes when connect(2) does (a
// Unix connection is queued on the listener at once): the case checks that
// the connection whose listener went away before accepting it reports
// BRAID_ECONNRESET on its first read, instead of hanging (docs/io.md).
//
// try_read_write, poll_read_ready, poll_write_ready and try_read_buf are the
// cases tcp_stream.rs has too, written once in stream_readiness.hpp for both
// stream types (tcp_stream.cpp lists how they differ from Tokio: a fresh
// stream's assumed readiness, short writes); here over a listener in a
// TempDir and a connect, as Tokio's create_pair.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "io_support.hpp"
#include "stream_readiness.hpp"
#include "support.hpp"

namespace conformance_uds_stream {

using braid::net::UnixListener;
using braid::net::UnixStream;
using braid_test::TempDir;

namespace {
constexpr auto& run = braid_test::run_current_thread;
}  // namespace

TEST_CASE("uds_stream.accept_read_write") {
    TempDir dir;
    run([](std::string sock_path) -> braid::Task<> {
        UnixListener listener = UnixListener::bind(sock_path);

        auto [accepted, client] = co_await braid::try_join(listener.accept(), UnixStream::connect(sock_path));
        UnixStream server = std::move(accepted.first);

        // write to the client, then drop it
        co_await client.write_all("hello");
        client = UnixStream();

        // the server reads it all, then end of file
        std::vector<char> buf;
        co_await braid::io::read_to_end(server, buf);
        EXPECT(std::string(buf.begin(), buf.end()) == "hello");
        char more[8];
        std::size_t len = co_await server.read(more);
        EXPECT(len == 0);
    }(dir / "connect.sock"));
}

TEST_CASE("uds_stream.shutdown") {
    TempDir dir;
    run([](std::string sock_path) -> braid::Task<> {
        UnixListener listener = UnixListener::bind(sock_path);

        auto [accepted, client] = co_await braid::try_join(listener.accept(), UnixStream::connect(sock_path));
        UnixStream server = std::move(accepted.first);

        // shut the client down: the server reads 0
        co_await client.shutdown();
        char buf[1];
        std::size_t n = co_await server.read(buf);
        EXPECT(n == 0);
    }(dir / "connect.sock"));
}

TEST_CASE("uds_stream.epollhup") {
    TempDir dir;
    run([](std::string sock_path) -> braid::Task<> {
        UnixListener listener = UnixListener::bind(sock_path);
        UnixStream stream = co_await UnixStream::connect(sock_path);

        listener = UnixListener();  // dropped before accepting the connection

        char buf[8];
        int code = co_await braid_test::code_of(stream.read(buf));
        EXPECT(code == BRAID_ECONNRESET);
    }(dir / "connect.sock"));
}

namespace {
braid::Task<std::pair<UnixStream, UnixStream>> create_pair(std::string path) {
    UnixListener listener = UnixListener::bind(path);
    auto [accepted, client] = co_await braid::try_join(listener.accept(), UnixStream::connect(path));
    co_return std::make_pair(std::move(client), std::move(accepted.first));
}
}  // namespace

TEST_CASE("uds_stream.try_read_write") {
    TempDir dir;
    run([](std::string path) -> braid::Task<> { co_await braid_test::try_read_write(co_await create_pair(path)); }(
        dir / "sock"));
}

TEST_CASE("uds_stream.try_read_buf") {
    TempDir dir;
    run([](std::string path) -> braid::Task<> { co_await braid_test::try_read_buf(co_await create_pair(path)); }(
        dir / "sock"));
}

TEST_CASE("uds_stream.poll_read_ready") {
    TempDir dir;
    run([](std::string path) -> braid::Task<> { co_await braid_test::poll_read_ready(co_await create_pair(path)); }(
        dir / "sock"));
}

TEST_CASE("uds_stream.poll_write_ready") {
    TempDir dir;
    run([](std::string path) -> braid::Task<> { co_await braid_test::poll_write_ready(co_await create_pair(path)); }(
        dir / "sock"));
}

}  // namespace conformance_uds_stream
