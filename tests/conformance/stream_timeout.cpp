// tokio-stream 0.1.9, tests/stream_timeout.rs: `s | timeout(d)`: an item
// that does not come within d of being waited for gives one Elapsed (once
// per silence), and the stream goes on.  Polled by hand under paused time;
// Runtime::advance is Tokio's time::advance.
#include <catch2/catch.hpp>
#include <braid/stream.hpp>

#include <chrono>
#include <ranges>
#include <vector>

#include "support.hpp"

namespace conformance_stream_timeout {

namespace bs = braid::stream;
using braid_test::PollByHand;
using std::chrono::milliseconds;

namespace {

braid::Task<int> maybe_sleep(int idx) {
    if (idx % 2 == 0) co_await braid::sleep(milliseconds(200));
    co_return idx;
}

template <class P>
bool is_item(const P& p, int v) {
    return p.ready && p.item && p.item->has_value() && **p.item == v;
}
template <class P>
bool is_elapsed(const P& p) {
    return p.ready && p.item && p.item->is_elapsed();
}

}  // namespace

TEST_CASE("stream_timeout.basic_usage") {
    auto rt = braid_test::current_thread_runtime(true);
    rt.block_on([](braid::Runtime* rt) -> braid::Task<> {
        // Items 2 and 4 time out.  Run to the end, the stream gives
        // 1, Elapsed, 2, 3, Elapsed, 4.
        auto s = bs::iter(std::views::iota(1, 5)) | bs::then(maybe_sleep) | bs::timeout(milliseconds(100));
        PollByHand stream(s);

        // the first item is there at once
        EXPECT(is_item(stream.poll_next(), 1));

        // the second comes after 200 ms: it times out after 100 ms
        EXPECT(stream.poll_next().is_pending());

        rt->advance(milliseconds(150));
        EXPECT(is_elapsed(stream.poll_next()));

        EXPECT(stream.poll_next().is_pending());

        rt->advance(milliseconds(100));
        EXPECT(is_item(stream.poll_next(), 2));

        // the third is there at once
        EXPECT(is_item(stream.poll_next(), 3));

        // the fourth comes after 200 ms: it times out after 100 ms
        EXPECT(stream.poll_next().is_pending());

        rt->advance(milliseconds(60));
        EXPECT(stream.poll_next().is_pending());  // nothing yet

        rt->advance(milliseconds(60));
        EXPECT(is_elapsed(stream.poll_next()));

        rt->advance(milliseconds(120));
        EXPECT(is_item(stream.poll_next(), 4));

        // done
        EXPECT(stream.poll_next().is_end());
        co_return;
    }(&rt));
}

TEST_CASE("stream_timeout.return_elapsed_errors_only_once") {
    auto rt = braid_test::current_thread_runtime(true);
    rt.block_on([](braid::Runtime* rt) -> braid::Task<> {
        auto s = bs::iter(std::views::iota(1, 4)) | bs::then(maybe_sleep) | bs::timeout(milliseconds(50));
        PollByHand stream(s);

        // the first item is there at once
        EXPECT(is_item(stream.poll_next(), 1));

        // the second comes after 200 ms and times out after 50 ms: one Elapsed
        EXPECT(stream.poll_next().is_pending());
        rt->advance(milliseconds(51));
        EXPECT(is_elapsed(stream.poll_next()));

        // the deadline passes again, and no Elapsed comes
        rt->advance(milliseconds(50));
        EXPECT(stream.poll_next().is_pending());

        rt->advance(milliseconds(100));
        EXPECT(is_item(stream.poll_next(), 2));
        EXPECT(is_item(stream.poll_next(), 3));

        // done
        EXPECT(stream.poll_next().is_end());
        co_return;
    }(&rt));
}

TEST_CASE("stream_timeout.no_timeouts") {
    auto rt = braid::Runtime::builder().current_thread().build();
    rt.block_on([]() -> braid::Task<> {
        std::vector<int> odd{1, 3, 5};
        auto s = bs::iter(std::move(odd)) | bs::then(maybe_sleep) | bs::timeout(milliseconds(100));
        PollByHand stream(s);

        EXPECT(is_item(stream.poll_next(), 1));
        EXPECT(is_item(stream.poll_next(), 3));
        EXPECT(is_item(stream.poll_next(), 5));
        EXPECT(stream.poll_next().is_end());
        co_return;
    }());
}

}  // namespace conformance_stream_timeout
