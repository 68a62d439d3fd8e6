// Conformance: tokio/tests/io_read_until.rs (Tokio 1.24), ported from what
// each case asserts.  read_until is BufReader's: Rust's in-memory buffered
// reader (&[u8]) is a BufReader over a braid_test::MockIo holding the bytes,
// and tokio_test's mock is a MockIo whose reads come in the script's chunks.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <string>
#include <tuple>
#include <vector>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_io_read_until {

using braid_test::MockIo;

TEST_CASE("io_read_until.read_until") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        MockIo mock;
        mock.on_read("hello world");
        braid::io::BufReader<MockIo&> rd(mock);
        std::vector<char> buf;
        std::size_t n = co_await rd.read_until(' ', buf);
        EXPECT(n == 6);
        EXPECT(std::string(buf.begin(), buf.end()) == "hello ");
        buf.clear();
        n = co_await rd.read_until(' ', buf);
        EXPECT(n == 5);
        EXPECT(std::string(buf.begin(), buf.end()) == "world");
        buf.clear();
        n = co_await rd.read_until(' ', buf);
        EXPECT(n == 0);
        EXPECT(buf.empty());
    }());
}

TEST_CASE("io_read_until.read_until_not_all_ready") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        MockIo mock;
        mock.on_read("Hello Wor").on_read("ld#Fizz\xff" "Buz").on_read("z#1#2");
        braid::io::BufReader read(std::move(mock));

        std::string chunk = "We say ";
        std::size_t bytes = co_await read.read_until('#', chunk);
        EXPECT(bytes == std::string("Hello World#").size());
        EXPECT(chunk == "We say Hello World#");

        chunk = "I solve ";
        bytes = co_await read.read_until('#', chunk);
        EXPECT(bytes == std::string("Fizz\xff" "Buzz\n").size());
        EXPECT(chunk == "I solve Fizz\xff" "Buzz#");

        chunk.clear();
        bytes = co_await read.read_until('#', chunk);
        EXPECT(bytes == 2);
        EXPECT(chunk == "1#");

        chunk.clear();
        bytes = co_await read.read_until('#', chunk);
        EXPECT(bytes == 1);
        EXPECT(chunk == "2");
    }());
}

TEST_CASE("io_read_until.read_until_fail") {
    auto rt = braid_test::current_thread_runtime();
    auto [what, chunk] = rt.block_on([]() -> braid::Task<std::tuple<std::string, std::string>> {
        MockIo mock;
        mock.on_read("Hello \xffWor").on_read_error(BRAID_EIO, "The world has no end");
        braid::io::BufReader read(std::move(mock));
        std::string chunk = "Foo";
        std::string what;
        try {
            co_await read.read_until('#', chunk);
        } catch (const braid::IoError& e) {
            what = e.what();
        }
        co_return std::make_tuple(what, chunk);
    }());
    REQUIRE(what.starts_with("The world has no end"));  // braid::Error adds ": <what the code means>"
    REQUIRE(chunk == "FooHello \xffWor");
}

}  // namespace conformance_io_read_until
