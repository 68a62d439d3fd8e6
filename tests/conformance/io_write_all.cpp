// Conformance: tokio/tests/io_write_all.rs (Tokio 1.24), ported from what the
// case asserts.  Tokio's hand-written AsyncWrite is a writer whose write() is
// a poll function (braid_test::poll_fn).
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <algorithm>
#include <coroutine>
#include <string>
#include <utility>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_io_write_all {

namespace {
// Takes at most 4 bytes a write.
struct Wr {
    std::string buf;
    int cnt = 0;
    auto write(braid::io::ConstBuffer b) {
        return braid_test::poll_fn<std::size_t>([this, b](braid_wake_fn, void*, std::size_t& n) {
            n = std::min<std::size_t>(4, b.size);
            ++cnt;
            buf.append(static_cast<const char*>(b.data), n);
            return 0;
        });
    }
    std::suspend_never flush() { return {}; }
    std::suspend_never shutdown() { return {}; }
};
}  // namespace

TEST_CASE("io_write_all.write_all") {
    auto rt = braid_test::current_thread_runtime();
    auto [buf, cnt] = rt.block_on([]() -> braid::Task<std::pair<std::string, int>> {
        Wr wr;
        co_await braid::io::write_all(wr, "hello world");
        co_return std::make_pair(wr.buf, wr.cnt);
    }());
    REQUIRE(buf == "hello world");
    REQUIRE(cnt == 3);
}

}  // namespace conformance_io_write_all
