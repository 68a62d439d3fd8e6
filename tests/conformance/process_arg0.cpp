// Conformance: tokio/tests/process_arg0.rs (Tokio 1.24), ported from what
// its case asserts.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <string>

#include "support.hpp"

namespace conformance_process_arg0 {

TEST_CASE("process_arg0.arg0") {
    auto rt = braid_test::current_thread_runtime();
    auto out = rt.block_on([]() -> braid::Task<std::string> {
        braid::process::Command cmd("sh");
        cmd.arg0("test_string").arg("-c").arg("echo $0");
        auto output = co_await cmd.output();
        co_return output.out;
    }());
    REQUIRE(out == "test_string\n");
}

}  // namespace conformance_process_arg0
