// tokio-stream 0.1.9, tests/stream_fuse.rs: a hand-written stream that is
// not fused (it gives an item again after saying it ended) is fused by
// `| fuse()`: after the first end, only ends.
//
// Gaps: none.
#include <catch2/catch.hpp>
#include <braid/stream.hpp>

#include "support.hpp"

namespace conformance_stream_fuse {

namespace bs = braid::stream;

namespace {

// Alternates between an item (even states) and the end (odd states).
class Alternate : public bs::StreamBase<Alternate> {
public:
    using item_type = int;
    bs::Poll<int> poll_next(braid::detail::Context&) {
        int val = state_++;
        if (val % 2 == 0) return {true, val};
        return bs::Poll<int>::end();
    }
    void detach() noexcept {}

private:
    int state_ = 0;
};

}  // namespace

TEST_CASE("stream_fuse.basic_usage") {
    auto rt = braid::Runtime::builder().current_thread().build();
    rt.block_on([]() -> braid::Task<> {
        Alternate stream;

        // the stream goes back and forth
        auto v = co_await stream.next();
        EXPECT(v == 0);
        v = co_await stream.next();
        EXPECT(!v);
        v = co_await stream.next();
        EXPECT(v == 2);
        v = co_await stream.next();
        EXPECT(!v);

        // however, once it is fused
        auto fused = std::move(stream) | bs::fuse();
        EXPECT(!fused.is_done());
        EXPECT(bs::size_hint(fused) == bs::SizeHint::unknown());
        v = co_await fused.next();
        EXPECT(v == 4);
        EXPECT(!fused.is_done());
        EXPECT(bs::size_hint(fused) == bs::SizeHint::unknown());
        v = co_await fused.next();
        EXPECT(!v);
        EXPECT(fused.is_done());

        // it will always give the end after the first time
        EXPECT(bs::size_hint(fused) == bs::SizeHint::exactly(0));
        v = co_await fused.next();
        EXPECT(!v);
        EXPECT(bs::size_hint(fused) == bs::SizeHint::exactly(0));
        EXPECT(fused.is_done());
    }());
}

}  // namespace conformance_stream_fuse
