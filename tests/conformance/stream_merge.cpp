// tokio-stream 0.1.9, tests/stream_merge.rs: `a | merge(b)` gives the items
// of both as they come, and ends when both have ended.
//
// Gaps: none.
#include <catch2/catch.hpp>
#include <braid/stream.hpp>

#include <vector>

#include "monster_stream.hpp"
#include "support.hpp"

namespace conformance_stream_merge {

namespace bs = braid::stream;
using braid_test::PollByHand;

TEST_CASE("stream_merge.merge_sync_streams") {
    auto rt = braid::Runtime::builder().current_thread().build();
    rt.block_on([]() -> braid::Task<> {
        std::vector<int> evens{0, 2, 4, 6};
        std::vector<int> odds{1, 3, 5};
        auto s = bs::iter(std::move(evens)) | bs::merge(bs::iter(std::move(odds)));
        for (int i = 0; i < 7; ++i) {
            EXPECT(bs::size_hint(s) == bs::SizeHint::exactly(std::size_t(7 - i)));
            auto v = co_await s.next();
            EXPECT(v == i);
        }
        auto v = co_await s.next();
        EXPECT(!v);
    }());
}

TEST_CASE("stream_merge.merge_async_streams") {
    auto rt = braid::Runtime::builder().current_thread().build();
    rt.block_on([]() -> braid::Task<> {
        auto [tx1, rx1] = braid_test::unbounded_channel_stream<int>();
        auto [tx2, rx2] = braid_test::unbounded_channel_stream<int>();
        auto merged = std::move(rx1) | bs::merge(std::move(rx2));
        PollByHand rx(merged);

        EXPECT(bs::size_hint(merged) == bs::SizeHint::unknown());

        EXPECT(rx.poll_next().is_pending());

        EXPECT(!tx1->send(1));
        EXPECT(rx.is_woken());
        auto p = rx.poll_next();
        EXPECT(p.ready && p.item == 1);

        EXPECT(rx.poll_next().is_pending());
        EXPECT(!tx2->send(2));
        EXPECT(rx.is_woken());
        p = rx.poll_next();
        EXPECT(p.ready && p.item == 2);
        EXPECT(rx.poll_next().is_pending());

        // one stream ending wakes the merge, which goes on with the other
        tx1.reset();
        EXPECT(rx.is_woken());
        EXPECT(rx.poll_next().is_pending());

        EXPECT(!tx2->send(3));
        EXPECT(rx.is_woken());
        p = rx.poll_next();
        EXPECT(p.ready && p.item == 3);
        EXPECT(rx.poll_next().is_pending());

        tx2.reset();
        EXPECT(rx.is_woken());
        EXPECT(rx.poll_next().is_end());
        co_return;
    }());
}

TEST_CASE("stream_merge.size_overflow") {
    auto m = braid_test::Monster{} | bs::merge(braid_test::Monster{});
    REQUIRE(bs::size_hint(m) == bs::SizeHint{SIZE_MAX, std::nullopt});
}

}  // namespace conformance_stream_merge
