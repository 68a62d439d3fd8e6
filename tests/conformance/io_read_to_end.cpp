// Conformance: tokio/tests/io_read_to_end.rs (Tokio 1.24), ported from what
// each case asserts.  Rust's in-memory reader (&[u8]) is a
// braid_test::MockIo whose script holds the bytes.
//
// Gaps: none.
//
// Not applicable:
//   read_to_end_uninit - checks the bookkeeping of Rust's ReadBuf (how much
//     of the spare capacity a reader initialised, across reads); braid's
//     reads fill a MutableBuffer (a pointer and a size) and have no notion of
//     uninitialised memory.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_io_read_to_end {

TEST_CASE("io_read_to_end.read_to_end") {
    auto rt = braid_test::current_thread_runtime();
    auto [n, buf] = rt.block_on([]() -> braid::Task<std::pair<std::size_t, std::vector<char>>> {
        std::vector<char> buf;
        braid_test::MockIo rd;
        rd.on_read("hello world");
        std::size_t n = co_await braid::io::read_to_end(rd, buf);
        co_return std::make_pair(n, std::move(buf));
    }());
    REQUIRE(n == 11);
    REQUIRE(std::string(buf.begin(), buf.end()) == "hello world");
}

}  // namespace conformance_io_read_to_end
