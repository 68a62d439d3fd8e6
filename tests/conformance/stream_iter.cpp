// tokio-stream 0.1.9, tests/stream_iter.rs: `iter(range)`.
#include <catch2/catch.hpp>

#include <braid/stream.hpp>

#include <ranges>

#include "support.hpp"

namespace conformance_stream_iter {

namespace bs = braid::stream;

// An endless iter() polled inside a task is ready until the task's
// cooperative budget is used up; then it reports pending and wakes the
// task, so an always-ready stream cannot hold its worker.
TEST_CASE("stream_iter.coop") {
    auto rt = braid::Runtime::builder().current_thread().build();
    int ready_before_pending = rt.block_on([]() -> braid::Task<int> {
        auto s = bs::iter(std::views::iota(0));
        braid_test::PollByHand stream(s);
        for (int i = 0; i < 100000; ++i) {
            auto p = stream.poll_next();
            if (p.is_pending()) {
                EXPECT(stream.is_woken());
                co_return i;
            }
        }
        co_return -1;
    }());
    REQUIRE(ready_before_pending > 0);
    REQUIRE(ready_before_pending <= 128);
}

}  // namespace conformance_stream_iter
