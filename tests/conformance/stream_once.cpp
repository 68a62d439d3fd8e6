// tokio-stream 0.1.9, tests/stream_once.rs: `once(v)` gives v, then ends.
//
// Gaps:
//   basic_usage: its size_hint checks (the item and the end are ported) — no size_hint
#include <catch2/catch.hpp>
#include <braid/stream.hpp>

#include "support.hpp"

namespace bs = braid::stream;

TEST_CASE("basic_usage") {
    auto rt = braid::Runtime::builder().current_thread().build();
    rt.block_on([]() -> braid::Task<> {
        auto one = bs::once(1);
        auto v = co_await one.next();
        EXPECT(v == 1);
        v = co_await one.next();
        EXPECT(!v);
    }());
}
