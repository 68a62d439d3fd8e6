// Conformance: tokio/tests/io_read_to_string.rs (Tokio 1.24), ported from
// what each case asserts.  Rust's in-memory reader (&[u8]) and tokio_test's
// mock are a braid_test::MockIo.  braid's read_to_string(r) returns a new
// string; appending to one the caller has (Tokio's read_to_string(&mut s)) is
// read_to_end(r, s) with a std::string.
//
// Gaps: none.
//
// Not applicable:
//   to_string_does_not_truncate_on_utf8_error - a Rust String must hold
//     UTF-8 and read_to_string validates it; a std::string holds bytes in no
//     particular encoding, so there is nothing to validate or fail.
#include <catch2/catch.hpp>

#include <string>
#include <utility>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_io_read_to_string {

TEST_CASE("io_read_to_string.read_to_string") {
    auto rt = braid_test::current_thread_runtime();
    std::string buf = rt.block_on([]() -> braid::Task<std::string> {
        braid_test::MockIo rd;
        rd.on_read("hello world");
        co_return co_await braid::io::read_to_string(rd);
    }());
    REQUIRE(buf.size() == 11);
    REQUIRE(buf == "hello world");
}

TEST_CASE("io_read_to_string.to_string_does_not_truncate_on_io_error") {
    auto rt = braid_test::current_thread_runtime();
    auto [s, what] = rt.block_on([]() -> braid::Task<std::pair<std::string, std::string>> {
        braid_test::MockIo mock;
        mock.on_read("def").on_read_error(BRAID_EIO, "whoops");
        std::string s = "abc";
        std::string what;
        try {
            s += co_await braid::io::read_to_string(mock);
        } catch (const braid::IoError& e) {
            what = e.what();
        }
        co_return std::make_pair(s, what);
    }());
    REQUIRE(what.starts_with("whoops"));  // braid::Error adds ": <what the code means>"
    REQUIRE(s == "abc");
}

TEST_CASE("io_read_to_string.to_string_appends") {
    auto rt = braid_test::current_thread_runtime();
    auto [len, s] = rt.block_on([]() -> braid::Task<std::pair<std::size_t, std::string>> {
        braid_test::MockIo data;
        data.on_read("def");
        std::string s = "abc";
        std::size_t len = co_await braid::io::read_to_end(data, s);
        co_return std::make_pair(len, s);
    }());
    REQUIRE(len == 3);
    REQUIRE(s == "abcdef");
}

}  // namespace conformance_io_read_to_string
