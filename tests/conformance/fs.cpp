// Conformance: tokio/tests/fs.rs (Tokio 1.24), ported from what the case
// asserts.  #[tokio::test]: a current-thread runtime; tempfile's directory
// is braid_test::TempDir.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <string>

#include "support.hpp"

namespace conformance_fs {

TEST_CASE("fs.path_read_write") {
    braid_test::TempDir temp;
    auto rt = braid_test::current_thread_runtime();
    std::string out = rt.block_on([](std::string path) -> braid::Task<std::string> {
        co_await braid::fs::write(path, "bytes");
        co_return co_await braid::fs::read(path);
    }(temp / "bar"));
    REQUIRE(out == "bytes");
}

}  // namespace conformance_fs
