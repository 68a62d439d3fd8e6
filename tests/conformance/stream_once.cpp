// tokio-stream 0.1.9, tests/stream_once.rs: `once(v)` gives v, then ends.
//
// Gaps: none.
#include <catch2/catch.hpp>
#include <braid/stream.hpp>

#include "support.hpp"

namespace conformance_stream_once {

namespace bs = braid::stream;

TEST_CASE("stream_once.basic_usage") {
    auto rt = braid::Runtime::builder().current_thread().build();
    rt.block_on([]() -> braid::Task<> {
        auto one = bs::once(1);
        EXPECT(bs::size_hint(one) == bs::SizeHint::exactly(1));
        auto v = co_await one.next();
        EXPECT(v == 1);
        EXPECT(bs::size_hint(one) == bs::SizeHint::exactly(0));
        v = co_await one.next();
        EXPECT(!v);
    }());
}

}  // namespace conformance_stream_once
