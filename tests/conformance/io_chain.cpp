// Conformance: tokio/tests/io_chain.rs (Tokio 1.24).
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>
#include <braid/io/chain.hpp>

#include <string>
#include <string_view>

#include "support.hpp"

namespace conformance_io_chain {

TEST_CASE("io_chain.chain") {
    auto rt = braid_test::current_thread_runtime();
    std::string buf = rt.block_on([]() -> braid::Task<std::string> {
        std::string buf;
        braid::io::Cursor<std::string_view> rd1("hello "), rd2("world");
        auto rd = braid::io::chain(rd1, rd2);
        co_await braid::io::read_to_end(rd, buf);
        co_return buf;
    }());
    REQUIRE(buf == "hello world");
}

}  // namespace conformance_io_chain
