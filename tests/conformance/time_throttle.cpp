// tokio-stream 0.1.9, tests/time_throttle.rs: `s | throttle(d)`: after an
// item the stream is not polled again until d has passed; the timer wakes
// the consumer then.  Polled by hand under paused time; Runtime::advance is
// Tokio's time::advance.
#include <catch2/catch.hpp>
#include <braid/stream.hpp>

#include <chrono>
#include <variant>

#include "support.hpp"

namespace conformance_time_throttle {

namespace bs = braid::stream;
using braid_test::PollByHand;
using std::chrono::milliseconds;

TEST_CASE("time_throttle.usage") {
    auto rt = braid::Runtime::builder().current_thread().start_paused().build();
    rt.block_on([](braid::Runtime* rt) -> braid::Task<> {
        auto s = bs::repeat(std::monostate{}) | bs::throttle(milliseconds(100));
        PollByHand stream(s);

        EXPECT(stream.poll_next().ready);
        EXPECT(stream.poll_next().is_pending());

        rt->advance(milliseconds(90));
        EXPECT(stream.poll_next().is_pending());

        rt->advance(milliseconds(101));
        EXPECT(stream.is_woken());
        EXPECT(stream.poll_next().ready);
        co_return;
    }(&rt));
}

}  // namespace conformance_time_throttle
