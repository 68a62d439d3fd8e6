// Conformance: tokio/tests/io_read_line.rs (Tokio 1.24), ported from what
// each case asserts.  read_line is BufReader's: Rust's Cursor (an in-memory
// buffered reader) is a BufReader over a braid_test::MockIo holding the
// bytes, and tokio_test's mock is a MockIo whose reads come in the script's
// chunks.
//
// braid's read_line appends bytes to a std::string, which has no encoding:
// it never checks UTF-8 (Rust's String must hold UTF-8, so Tokio's read_line
// fails on other bytes and takes back what it appended).  So
// read_line_fail_and_utf8_fail checks the I/O error only, and that the bytes
// read before it stay in the line (as read_until's do in Tokio too).
//
// Gaps: none.
//
// Not applicable:
//   read_line_invalid_utf8 - the UTF-8 check of Rust's String (see above).
#include <catch2/catch.hpp>

#include <string>
#include <tuple>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_io_read_line {

using braid_test::MockIo;

TEST_CASE("io_read_line.read_line") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        MockIo cursor;
        cursor.on_read("hello\nworld\n\n");
        braid::io::BufReader rd(std::move(cursor));
        std::string buf;
        std::size_t n = co_await rd.read_line(buf);
        EXPECT(n == 6);
        EXPECT(buf == "hello\n");
        buf.clear();
        n = co_await rd.read_line(buf);
        EXPECT(n == 6);
        EXPECT(buf == "world\n");
        buf.clear();
        n = co_await rd.read_line(buf);
        EXPECT(n == 1);
        EXPECT(buf == "\n");
        buf.clear();
        n = co_await rd.read_line(buf);
        EXPECT(n == 0);
        EXPECT(buf.empty());
    }());
}

TEST_CASE("io_read_line.read_line_not_all_ready") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        MockIo mock;
        mock.on_read("Hello Wor").on_read("ld\nFizzBuz").on_read("z\n1\n2");
        braid::io::BufReader read(std::move(mock));

        std::string line = "We say ";
        std::size_t bytes = co_await read.read_line(line);
        EXPECT(bytes == std::string("Hello World\n").size());
        EXPECT(line == "We say Hello World\n");

        line = "I solve ";
        bytes = co_await read.read_line(line);
        EXPECT(bytes == std::string("FizzBuzz\n").size());
        EXPECT(line == "I solve FizzBuzz\n");

        line.clear();
        bytes = co_await read.read_line(line);
        EXPECT(bytes == 2);
        EXPECT(line == "1\n");

        line.clear();
        bytes = co_await read.read_line(line);
        EXPECT(bytes == 1);
        EXPECT(line == "2");
    }());
}

namespace {
// Reads one line from `mock` into "Foo" and gives what was thrown and the line.
braid::Task<std::tuple<int, std::string, std::string>> read_line_into_foo(MockIo mock) {
    braid::io::BufReader read(std::move(mock));
    std::string line = "Foo";
    int code = 0;
    std::string what;
    try {
        co_await read.read_line(line);
    } catch (const braid::IoError& e) {
        code = e.code();
        what = e.what();
    }
    co_return std::make_tuple(code, what, line);
}
}  // namespace

TEST_CASE("io_read_line.read_line_fail") {
    auto rt = braid_test::current_thread_runtime();
    MockIo mock;
    mock.on_read("Hello Wor").on_read_error(BRAID_EIO, "The world has no end");
    auto [code, what, line] = rt.block_on(read_line_into_foo(std::move(mock)));
    REQUIRE(code == BRAID_EIO);
    REQUIRE(what.starts_with("The world has no end"));  // braid::Error adds ": <what the code means>"
    REQUIRE(line == "FooHello Wor");
}

TEST_CASE("io_read_line.read_line_fail_and_utf8_fail") {
    auto rt = braid_test::current_thread_runtime();
    MockIo mock;
    mock.on_read("Hello Wor").on_read("\xff\xff\xff").on_read_error(BRAID_EIO, "The world has no end");
    auto [code, what, line] = rt.block_on(read_line_into_foo(std::move(mock)));
    // The I/O error is what is reported (not the bytes that are not UTF-8).
    REQUIRE(code == BRAID_EIO);
    REQUIRE(what.starts_with("The world has no end"));  // braid::Error adds ": <what the code means>"
    // braid: no UTF-8 check, so the bytes read before the error stay.
    REQUIRE(line == "FooHello Wor\xff\xff\xff");
}

}  // namespace conformance_io_read_line
