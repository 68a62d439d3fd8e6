// A stream of tokio-stream's size_overflow cases: it says it has SIZE_MAX
// items, and must never be polled.
#pragma once

#include <braid/stream.hpp>

#include <catch2/catch.hpp>

#include <cstdint>

namespace braid_test {

struct Monster : braid::stream::StreamBase<Monster> {
    using item_type = int;
    braid::stream::Poll<int> poll_next(braid::detail::Context&) {
        FAIL_CHECK("Monster polled");
        return braid::stream::Poll<int>::end();
    }
    void detach() noexcept {}
    braid::stream::SizeHint size_hint() const { return braid::stream::SizeHint::exactly(SIZE_MAX); }
};

}  // namespace braid_test
