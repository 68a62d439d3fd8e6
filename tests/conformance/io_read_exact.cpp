// Conformance: tokio/tests/io_read_exact.rs (Tokio 1.24), ported from what
// the case asserts.  Rust's in-memory reader (&[u8]) is a braid_test::MockIo
// whose script holds the bytes (each read gives as many as fit).
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <string>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_io_read_exact {

TEST_CASE("io_read_exact.read_exact") {
    auto rt = braid_test::current_thread_runtime();
    std::string buf = rt.block_on([]() -> braid::Task<std::string> {
        std::string buf(8, '\0');
        braid_test::MockIo rd;
        rd.on_read("hello world");
        co_await braid::io::read_exact(rd, buf);  // fills all 8 bytes or throws
        co_return buf;
    }());
    REQUIRE(buf == "hello wo");
}

}  // namespace conformance_io_read_exact
