// tokio-stream 0.1.9, tests/stream_chain.rs: `a | chain(b)` gives a's items,
// then b's, and polls b only once a has ended.
//
// Gaps: none.
#include <catch2/catch.hpp>
#include <braid/stream.hpp>

#include <vector>

#include "monster_stream.hpp"
#include "support.hpp"

namespace conformance_stream_chain {

namespace bs = braid::stream;
using braid_test::PollByHand;

TEST_CASE("stream_chain.basic_usage") {
    auto rt = braid::Runtime::builder().current_thread().build();
    rt.block_on([]() -> braid::Task<> {
        std::vector<int> one{1, 2, 3};
        std::vector<int> two{4, 5, 6};
        auto s = bs::iter(std::move(one)) | bs::chain(bs::iter(std::move(two)));
        for (int i = 1; i <= 6; ++i) {
            EXPECT(bs::size_hint(s) == bs::SizeHint::exactly(std::size_t(7 - i)));
            auto v = co_await s.next();
            EXPECT(v == i);
        }
        for (int i = 0; i < 2; ++i) {
            EXPECT(bs::size_hint(s) == bs::SizeHint::exactly(0));
            auto v = co_await s.next();
            EXPECT(!v);
        }
    }());
}

TEST_CASE("stream_chain.pending_first") {
    auto rt = braid::Runtime::builder().current_thread().build();
    rt.block_on([]() -> braid::Task<> {
        auto [tx1, rx1] = braid_test::unbounded_channel_stream<int>();
        auto [tx2, rx2] = braid_test::unbounded_channel_stream<int>();
        auto chained = std::move(rx1) | bs::chain(std::move(rx2));
        PollByHand stream(chained);
        EXPECT(bs::size_hint(chained) == bs::SizeHint::unknown());

        EXPECT(stream.poll_next().is_pending());

        // the second stream is not polled while the first has not ended
        EXPECT(!tx2->send(2));
        EXPECT(!stream.is_woken());
        EXPECT(stream.poll_next().is_pending());

        EXPECT(!tx1->send(1));
        EXPECT(stream.is_woken());
        auto p = stream.poll_next();
        EXPECT(p.ready && p.item == 1);
        EXPECT(stream.poll_next().is_pending());

        tx1.reset();  // the first ends: the second's item comes
        EXPECT(bs::size_hint(chained) == bs::SizeHint::unknown());
        EXPECT(stream.is_woken());
        p = stream.poll_next();
        EXPECT(p.ready && p.item == 2);
        EXPECT(bs::size_hint(chained) == bs::SizeHint::unknown());

        tx2.reset();
        EXPECT(bs::size_hint(chained) == bs::SizeHint::unknown());
        EXPECT(stream.poll_next().is_end());
        co_return;
    }());
}

TEST_CASE("stream_chain.size_overflow") {
    auto m = braid_test::Monster{} | bs::chain(braid_test::Monster{});
    REQUIRE(bs::size_hint(m) == bs::SizeHint{SIZE_MAX, std::nullopt});
}

}  // namespace conformance_stream_chain
