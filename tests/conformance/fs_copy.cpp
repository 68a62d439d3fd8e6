// Conformance: tokio/tests/fs_copy.rs (Tokio 1.24), ported from what each
// case asserts.  #[tokio::test]: a current-thread runtime; tempfile's
// directory is braid_test::TempDir.
//
// Gaps: none.
//
// copy_permissions: Tokio's Permissions::set_readonly is clearing the write
// bits, then fs::set_permissions.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <string>

#include "support.hpp"

namespace conformance_fs_copy {

TEST_CASE("fs_copy.copy") {
    braid_test::TempDir dir;
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([](std::string source_path, std::string dest_path) -> braid::Task<> {
        co_await braid::fs::write(source_path, "Hello File!");
        co_await braid::fs::copy(source_path, dest_path);

        std::string from = co_await braid::fs::read(source_path);
        std::string to = co_await braid::fs::read(dest_path);
        EXPECT(from == to);
        EXPECT(from == "Hello File!");
    }(dir / "foo.txt", dir / "bar.txt"));
}

TEST_CASE("fs_copy.copy_permissions") {
    braid_test::TempDir dir;
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([](std::string from_path, std::string to_path) -> braid::Task<> {
        {
            braid::fs::File from =
                co_await braid::fs::OpenOptions().write(true).create(true).truncate(true).open(from_path);
            braid::fs::Metadata m = co_await from.metadata();
            co_await braid::fs::set_permissions(from_path, (m.permissions & 07777) & ~0222u);  // set_readonly(true)
        }
        unsigned from_perms = (co_await braid::fs::metadata(from_path)).permissions;
        EXPECT((from_perms & 0222) == 0);  // read-only

        co_await braid::fs::copy(from_path, to_path);

        unsigned to_perms = (co_await braid::fs::metadata(to_path)).permissions;
        EXPECT(from_perms == to_perms);
    }(dir / "foo.txt", dir / "bar.txt"));
}

}  // namespace conformance_fs_copy
