// Conformance: tokio/tests/io_write.rs (Tokio 1.24), ported from what each
// case asserts.  Tokio's hand-written AsyncWrite is a writer whose write() is
// a poll function (braid_test::poll_fn).
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <coroutine>
#include <string>
#include <utility>
#include <vector>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_io_write {

namespace {
// Takes the first 4 bytes of whatever it is given.
struct Wr {
    std::string buf;
    int cnt = 0;
    auto write(braid::io::ConstBuffer b) {
        return braid_test::poll_fn<std::size_t>([this, b](braid_wake_fn, void*, std::size_t& n) {
            EXPECT_ANYWHERE(cnt == 0);
            ++cnt;
            n = 4;
            buf.append(static_cast<const char*>(b.data), n);
            return 0;
        });
    }
    std::suspend_never flush() { return {}; }
    std::suspend_never shutdown() { return {}; }
};
static_assert(braid::io::AsyncWrite<Wr>);
}  // namespace

TEST_CASE("io_write.write") {
    auto rt = braid_test::current_thread_runtime();
    auto [n, buf] = rt.block_on([]() -> braid::Task<std::pair<std::size_t, std::string>> {
        Wr wr;
        std::size_t n = co_await wr.write("hello world");
        co_return std::make_pair(n, wr.buf);
    }());
    REQUIRE(n == 4);
    REQUIRE(buf == "hell");
}

TEST_CASE("io_write.write_cursor") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid::io::Cursor<std::vector<char>> wr;
        std::size_t n = co_await wr.write("hello world");
        EXPECT(n == 11);
        EXPECT(std::string(wr.get_ref().begin(), wr.get_ref().end()) == "hello world");
    }());
}

}  // namespace conformance_io_write
