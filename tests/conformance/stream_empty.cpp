// tokio-stream 0.1.9, tests/stream_empty.rs: `empty<T>()` has no item, and
// says so every time it is asked.
//
// Gaps: none.
#include <catch2/catch.hpp>
#include <braid/stream.hpp>

#include "support.hpp"

namespace conformance_stream_empty {

namespace bs = braid::stream;

TEST_CASE("stream_empty.basic_usage") {
    auto rt = braid::Runtime::builder().current_thread().build();
    rt.block_on([]() -> braid::Task<> {
        auto stream = bs::empty<int>();
        for (int i = 0; i < 2; ++i) {
            EXPECT(bs::size_hint(stream) == bs::SizeHint::exactly(0));
            auto v = co_await stream.next();
            EXPECT(!v);
        }
    }());
}

}  // namespace conformance_stream_empty
