// Conformance: tokio/tests/io_read.rs (Tokio 1.24), ported from what each
// case asserts.  Tokio's hand-written AsyncRead is a reader whose read() is
// a poll function (braid_test::poll_fn); #[tokio::test] runs on a
// current-thread runtime.
//
// Gaps: none.
//
// Not applicable:
//   read_buf_bad_async_read - a reader that swaps Rust's ReadBuf for another
//     one, which read_buf must catch (a panic); braid's MutableBuffer is a
//     pointer and a size, which a reader cannot replace.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <tuple>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_io_read {

namespace {
// Puts "hello world" into the buffer, and must be polled only once.
struct Rd {
    int poll_cnt = 0;
    auto read(braid::io::MutableBuffer b) {
        return braid_test::poll_fn<std::size_t>([this, b](braid_wake_fn, void*, std::size_t& n) {
            EXPECT_ANYWHERE(poll_cnt == 0);
            ++poll_cnt;
            n = std::min<std::size_t>(b.size, 11);
            std::memcpy(b.data, "hello world", n);
            return 0;
        });
    }
};
static_assert(braid::io::AsyncRead<Rd>);
}  // namespace

TEST_CASE("io_read.read") {
    auto rt = braid_test::current_thread_runtime();
    auto [n, buf, polls] = rt.block_on([]() -> braid::Task<std::tuple<std::size_t, std::string, int>> {
        std::string buf(11, '\0');
        Rd rd;
        std::size_t n = co_await rd.read(buf);
        co_return std::make_tuple(n, buf, rd.poll_cnt);
    }());
    REQUIRE(n == 11);
    REQUIRE(buf == "hello world");
    REQUIRE(polls == 1);
}

}  // namespace conformance_io_read
