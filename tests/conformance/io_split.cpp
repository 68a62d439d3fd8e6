// Conformance: tokio/tests/io_split.rs (Tokio 1.24).  braid's split(s)
// (braid/io/split.hpp) borrows the stream, where Tokio's takes it: two
// splits of RW are splits of two RW objects.  unsplit of halves of
// different streams throws braid::Error(BRAID_EINVAL) where Tokio panics.
//
// Gaps: none.
//
// Not applicable:
//   is_send_and_sync - Rust's Send and Sync bounds on the halves; C++ has no
//     such compile-time thread-safety markers.
#include <catch2/catch.hpp>

#include <coroutine>
#include <span>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_io_split {

namespace {
// Reads give 'z', writes take one byte, vectored writes two.
struct RW {
    auto read(braid::io::MutableBuffer b) {
        return braid_test::poll_fn<std::size_t>([b](braid_wake_fn, void*, std::size_t& n) {
            *static_cast<char*>(b.data) = 'z';
            n = 1;
            return 0;
        });
    }
    auto write(braid::io::ConstBuffer) {
        return braid_test::poll_fn<std::size_t>([](braid_wake_fn, void*, std::size_t& n) { return n = 1, 0; });
    }
    auto write_vectored(std::span<const braid::io::ConstBuffer>) {
        return braid_test::poll_fn<std::size_t>([](braid_wake_fn, void*, std::size_t& n) { return n = 2, 0; });
    }
    std::suspend_never flush() { return {}; }
    std::suspend_never shutdown() { return {}; }
};
}  // namespace

TEST_CASE("io_split.split_stream_id") {
    RW a, b;
    auto [r1, w1] = braid::io::split(a);
    auto [r2, w2] = braid::io::split(b);
    REQUIRE(r1.is_pair_of(w1));
    REQUIRE_FALSE(r1.is_pair_of(w2));
    REQUIRE(r2.is_pair_of(w2));
    REQUIRE_FALSE(r2.is_pair_of(w1));
}

TEST_CASE("io_split.unsplit_ok") {
    RW a;
    auto [r, w] = braid::io::split(a);
    REQUIRE(&r.unsplit(w) == &a);
}

TEST_CASE("io_split.unsplit_err1") {
    RW a, b;
    auto [r, w1] = braid::io::split(a);
    auto [r2, w] = braid::io::split(b);
    REQUIRE(braid_test::error_code_of([&] { (void)r.unsplit(w); }) == BRAID_EINVAL);
}

TEST_CASE("io_split.unsplit_err2") {
    RW a, b;
    auto [r1, w] = braid::io::split(a);
    auto [r, w2] = braid::io::split(b);
    REQUIRE(braid_test::error_code_of([&] { (void)r.unsplit(w); }) == BRAID_EINVAL);
}

TEST_CASE("io_split.method_delegation") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        RW rw;
        auto [r, w] = braid::io::split(rw);
        char buf[1] = {0};
        EXPECT(co_await r.read(buf) == 1);
        EXPECT(buf[0] == 'z');

        EXPECT(co_await w.write("x") == 1);
        braid::io::ConstBuffer x[] = {braid::io::ConstBuffer("x")};
        EXPECT(co_await braid::io::write_vectored(w, x) == 2);

        co_await w.flush();
        co_await w.shutdown();
    }());
}

}  // namespace conformance_io_split
