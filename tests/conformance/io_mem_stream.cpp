// Conformance: tokio/tests/io_mem_stream.rs (Tokio 1.24), ported from what
// each case asserts: braid::io::duplex, the in-memory pipe.  #[tokio::test]
// runs on a current-thread runtime.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <utility>

#include "support.hpp"

namespace conformance_io_mem_stream {

using braid::io::DuplexStream;

TEST_CASE("io_mem_stream.ping_pong") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [a, b] = braid::io::duplex(32);
        std::string buf(4, '\0');

        co_await a.write_all("ping");
        co_await b.read_exact(buf);
        EXPECT(buf == "ping");

        co_await b.write_all("pong");
        co_await a.read_exact(buf);
        EXPECT(buf == "pong");
    }());
}

TEST_CASE("io_mem_stream.across_tasks") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [a, b] = braid::io::duplex(32);

        auto t1 = braid::spawn([](DuplexStream a) -> braid::Task<> {
            co_await a.write_all("ping");
            std::string buf(4, '\0');
            co_await a.read_exact(buf);
            EXPECT(buf == "pong");
        }, std::move(a));

        auto t2 = braid::spawn([](DuplexStream b) -> braid::Task<> {
            std::string buf(4, '\0');
            co_await b.read_exact(buf);
            EXPECT(buf == "ping");
            co_await b.write_all("pong");
        }, std::move(b));

        co_await t1;
        co_await t2;
    }());
}

TEST_CASE("io_mem_stream.disconnect") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [a, b] = braid::io::duplex(32);

        auto t1 = braid::spawn([](DuplexStream a) -> braid::Task<> {
            co_await a.write_all("ping");
            // and dropped
        }, std::move(a));

        auto t2 = braid::spawn([](DuplexStream b) -> braid::Task<> {
            std::array<char, 32> buf{};
            std::size_t n = co_await b.read(buf);
            EXPECT(std::string(buf.data(), n) == "ping");

            n = co_await b.read(buf);
            EXPECT(n == 0);
        }, std::move(b));

        co_await t1;
        co_await t2;
    }());
}

TEST_CASE("io_mem_stream.disconnect_reader") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [a, b] = braid::io::duplex(2);

        auto t1 = braid::spawn([](DuplexStream b) -> braid::Task<> {
            // this waits, as not all of the data fits into the duplex
            int code = co_await braid_test::code_of(b.write_all("ping"));
            EXPECT(code == BRAID_EPIPE);
        }, std::move(b));

        auto t2 = braid::spawn([](DuplexStream a) -> braid::Task<> {
            // here the reader side is dropped, and the writer in the other
            // task must end with an error
            { DuplexStream gone = std::move(a); }
            co_return;
        }, std::move(a));

        co_await t2;
        co_await t1;
    }());
}

TEST_CASE("io_mem_stream.max_write_size") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [a, b] = braid::io::duplex(32);

        auto t1 = braid::spawn([](DuplexStream a) -> braid::Task<> {
            std::array<char, 64> zeros{};
            std::size_t n = co_await a.write(zeros);
            EXPECT(n == 32);
            n = co_await a.write(zeros);
            EXPECT(n == 4);
        }, std::move(a));

        std::string buf(4, '\0');
        co_await b.read_exact(buf);

        co_await t1;
        // b is dropped only after t1 finished writing
    }());
}

namespace {
braid::Task<> write_then_read_forever(DuplexStream& tx, DuplexStream& rx) {
    for (;;) {
        std::array<char, 4096> out;
        out.fill(3);
        co_await tx.write_all(out);
        std::array<char, 4096> in{};
        co_await rx.read(in);
    }
}
}  // namespace

TEST_CASE("io_mem_stream.duplex_is_cooperative") {
    // A loop whose every write and read is ready at once must still give
    // way within its task's cooperative budget, so the yield_now next to it
    // (polled second: biased) gets to finish.
    auto rt = braid_test::current_thread_runtime();
    std::size_t winner = rt.block_on([]() -> braid::Task<std::size_t> {
        auto [tx, rx] = braid::io::duplex(1024 * 8);
        auto r = co_await braid::select_biased(write_then_read_forever(tx, rx), braid::yield_now());
        co_return r.index();
    }());
    REQUIRE(winner == 1);
}

}  // namespace conformance_io_mem_stream
