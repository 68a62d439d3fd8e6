// Conformance: tokio/tests/io_read_buf.rs (Tokio 1.24), ported from what
// each case asserts.  Tokio's hand-written AsyncRead is a reader whose
// read() is a poll function (braid_test::poll_fn).
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_io_read_buf {

TEST_CASE("io_read_buf.read_buf") {
    struct Rd {
        int cnt = 0;
        auto read(braid::io::MutableBuffer b) {
            return braid_test::poll_fn<std::size_t>([this, b](braid_wake_fn, void*, std::size_t& n) {
                ++cnt;
                n = std::min<std::size_t>(b.size, 11);
                std::memcpy(b.data, "hello world", n);
                return 0;
            });
        }
    };
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        std::vector<char> buf;
        Rd rd;
        std::size_t n = co_await braid::io::read_buf(rd, buf);
        EXPECT(rd.cnt == 1);
        EXPECT(n == 11);
        EXPECT(std::string(buf.begin(), buf.end()) == "hello world");
    }());
}

}  // namespace conformance_io_read_buf
