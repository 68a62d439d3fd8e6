// Tokio's tests/macros_pin.rs, ported: futures pinned where they are
// declared (tokio::pin!, braid::pin) are awaited in place, one after the
// other.  #[tokio::test] is a current-thread runtime.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include "support.hpp"

namespace conformance_macros_pin {

namespace {
braid::Task<> one() { co_return; }
braid::Task<> two() { co_return; }
}  // namespace

TEST_CASE("macros_pin.multi_pin") {
    braid_test::current_thread_runtime().block_on([]() -> braid::Task<> {
        auto f1 = braid::pin(one());
        auto f2 = braid::pin(two());
        EXPECT(!f1.done() && !f2.done());

        co_await f1;  // (&mut f1).await
        co_await f2;
        EXPECT(f1.done() && f2.done());
    }());
}

}  // namespace conformance_macros_pin
