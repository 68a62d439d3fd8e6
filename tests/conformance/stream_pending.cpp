// tokio-stream 0.1.9, tests/stream_pending.rs: `pending<T>()` never gives an
// item and never ends: a next() on it stays pending, every time.
//
// Gaps: none.
#include <catch2/catch.hpp>
#include <braid/stream.hpp>

#include "support.hpp"

namespace conformance_stream_pending {

namespace bs = braid::stream;
using braid_test::PollByHand;

TEST_CASE("stream_pending.basic_usage") {
    auto rt = braid::Runtime::builder().current_thread().build();
    rt.block_on([]() -> braid::Task<> {
        auto stream = bs::pending<int>();
        for (int i = 0; i < 2; ++i) {
            EXPECT(bs::size_hint(stream) == bs::SizeHint::exactly(0));
            // a fresh next() each time, polled once by hand
            auto next = braid_test::as_stream(stream.next());
            PollByHand poll(next);
            EXPECT(poll.poll_next().is_pending());
        }
        co_return;
    }());
}

}  // namespace conformance_stream_pending
