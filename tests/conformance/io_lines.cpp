// Conformance: tokio/tests/io_lines.rs (Tokio 1.24), ported from what the
// case asserts.  Tokio's Lines (next_line) is BufReader::lines(), a braid
// stream of the lines without their "\n" or "\r\n"; Rust's in-memory
// buffered reader (&[u8]) is a BufReader over a braid_test::MockIo holding
// the bytes.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_io_lines {

TEST_CASE("io_lines.lines_inherent") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid_test::MockIo mock;
        mock.on_read("hello\r\nworld\n\n");
        braid::io::BufReader rd(std::move(mock));
        auto st = rd.lines();

        std::optional<std::string> b = co_await st.next();
        EXPECT(b && *b == "hello");
        b = co_await st.next();
        EXPECT(b && *b == "world");
        b = co_await st.next();
        EXPECT(b && b->empty());
        b = co_await st.next();
        EXPECT(!b);
    }());
}

}  // namespace conformance_io_lines
