// Conformance: tokio/tests/fs_link.rs (Tokio 1.24), ported from what each
// case asserts, in a fresh temporary directory.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "support.hpp"

namespace conformance_fs_link {

namespace {
void write_std(const std::string& p, const std::string& data) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f << data;
}
}  // namespace

TEST_CASE("fs_link.test_hard_link") {
    braid_test::TempDir dir;
    std::string src = dir / "src.txt", dst = dir / "dst.txt";
    write_std(src, "hello");
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([](std::string src, std::string dst) -> braid::Task<> {
        co_await braid::fs::hard_link(src, dst);
        write_std(src, "new-data");
        EXPECT(co_await braid::fs::read(dst) == "new-data");
        // not a symlink
        EXPECT(co_await braid_test::code_of(braid::fs::read_link(dst)) == BRAID_EINVAL);
    }(src, dst));
}

TEST_CASE("fs_link.test_symlink") {
    braid_test::TempDir dir;
    std::string src = dir / "src.txt", dst = dir / "dst.txt";
    write_std(src, "hello");
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([](std::string src, std::string dst) -> braid::Task<> {
        co_await braid::fs::symlink(src, dst);
        write_std(src, "new-data");
        EXPECT(co_await braid::fs::read(dst) == "new-data");
        EXPECT(co_await braid::fs::read_link(dst) == src);
        auto meta = co_await braid::fs::symlink_metadata(dst);
        EXPECT(meta.is_symlink());
    }(src, dst));
}

}  // namespace conformance_fs_link
