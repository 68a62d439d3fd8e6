// Conformance: tokio/tests/io_copy_bidirectional.rs (Tokio 1.24), ported from
// what each case asserts.  Two TCP connections on loopback with
// copy_bidirectional between their inner ends, run twice with the ends
// passed in either order (Tokio's symmetric()); tokio_test's mocks are
// braid_test::MockIo.  #[tokio::test] runs on a current-thread runtime.
//
// block_write fills the path a -> b: Tokio writes until a write has waited
// 10 ms; here it writes until a write is still pending after the task let
// every other task run once (select_biased with yield_now), which on a
// current-thread runtime happens only once the copy task is blocked too, so
// no clock is involved.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_io_copy_bidirectional {

using braid::net::TcpStream;
using Handle = braid::JoinHandle<std::pair<uint64_t, uint64_t>>;

namespace {
braid::Task<std::pair<TcpStream, TcpStream>> make_socketpair() {
    auto listener = braid::net::TcpListener::bind("127.0.0.1:0");
    TcpStream c1 = co_await TcpStream::connect(listener.local_addr());
    auto [c2, peer] = co_await listener.accept();
    co_return std::make_pair(std::move(c1), std::move(c2));
}

braid::Task<std::size_t> block_write(TcpStream& s) {
    static const std::array<char, 2048> BUF{};
    std::size_t copied = 0;
    for (;;) {
        auto r = co_await braid::select_biased(s.write(BUF), braid::yield_now());
        if (r.index() == 1) break;
        copied += std::get<0>(r);
    }
    co_return copied;
}

braid::Task<std::pair<uint64_t, uint64_t>> run_copy(TcpStream x, TcpStream y) {
    co_return co_await braid::io::copy_bidirectional(x, y);
}

using Body = braid::Task<> (*)(Handle, TcpStream, TcpStream);

// Runs body(handle, a, b) twice, with the streams passed to
// copy_bidirectional in either order (the two arguments are interchangeable).
braid::Task<> symmetric(Body cb) {
    {
        auto [a, a1] = co_await make_socketpair();
        auto [b, b1] = co_await make_socketpair();
        Handle handle = braid::spawn(run_copy(std::move(a1), std::move(b1)));
        co_await cb(std::move(handle), std::move(a), std::move(b));
    }
    {
        auto [a, a1] = co_await make_socketpair();
        auto [b, b1] = co_await make_socketpair();
        Handle handle = braid::spawn(run_copy(std::move(b1), std::move(a1)));
        co_await cb(std::move(handle), std::move(b), std::move(a));
    }
}

void run(Body cb) {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on(symmetric(cb));
}
}  // namespace

TEST_CASE("io_copy_bidirectional.test_basic_transfer") {
    run([](Handle, TcpStream a, TcpStream b) -> braid::Task<> {
        co_await a.write_all("test");
        std::string tmp(4, '\0');
        co_await b.read_exact(tmp);
        EXPECT(tmp == "test");
    });
}

TEST_CASE("io_copy_bidirectional.test_transfer_after_close") {
    run([](Handle handle, TcpStream a, TcpStream b) -> braid::Task<> {
        a.shutdown_write();
        std::vector<char> rest;
        co_await braid::io::read_to_end(b, rest);
        EXPECT(rest.empty());

        co_await b.write_all("quux");
        std::string tmp(4, '\0');
        co_await a.read_exact(tmp);
        EXPECT(tmp == "quux");

        // Once both are closed, the copy ends
        { TcpStream gone = std::move(b); }

        auto counts = co_await handle;
        EXPECT(counts == std::make_pair(uint64_t(0), uint64_t(4)));
    });
}

TEST_CASE("io_copy_bidirectional.blocking_one_side_does_not_block_other") {
    run([](Handle handle, TcpStream a, TcpStream b) -> braid::Task<> {
        std::size_t copied = co_await block_write(a);

        co_await b.write_all("quux");
        std::string tmp(4, '\0');
        co_await a.read_exact(tmp);
        EXPECT(tmp == "quux");

        a.shutdown_write();

        std::vector<char> buf;
        co_await braid::io::read_to_end(b, buf);
        EXPECT(buf.size() == copied);

        { TcpStream gone = std::move(b); }

        auto counts = co_await handle;
        EXPECT(counts == std::make_pair(uint64_t(buf.size()), uint64_t(4)));
    });
}

TEST_CASE("io_copy_bidirectional.immediate_exit_on_write_error") {
    auto rt = braid_test::current_thread_runtime();
    int code = rt.block_on([]() -> braid::Task<int> {
        const std::string payload = "here, take this";
        braid_test::MockIo a;
        a.on_read(payload).on_write_error(BRAID_EIO, "no thanks!");
        braid_test::MockIo b;
        b.on_read(payload).on_write_error(BRAID_EIO, "no thanks!");
        co_return co_await braid_test::code_of(braid::io::copy_bidirectional(a, b));
    }());
    REQUIRE(code == BRAID_EIO);
}

TEST_CASE("io_copy_bidirectional.immediate_exit_on_read_error") {
    auto rt = braid_test::current_thread_runtime();
    int code = rt.block_on([]() -> braid::Task<int> {
        braid_test::MockIo a;
        a.on_read_error(BRAID_EIO, "got nothing!");
        braid_test::MockIo b;
        b.on_read_error(BRAID_EIO, "got nothing!");
        co_return co_await braid_test::code_of(braid::io::copy_bidirectional(a, b));
    }());
    REQUIRE(code == BRAID_EIO);
}

}  // namespace conformance_io_copy_bidirectional
