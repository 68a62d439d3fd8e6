// Conformance: tokio/tests/fs_dir.rs (Tokio 1.24), ported from what each
// case asserts.  #[tokio::test]: a current-thread runtime; tempfile's
// directory is braid_test::TempDir; std::fs calls are their POSIX calls.
// Tokio's read_dir gives a ReadDir whose next_entry() is awaited; braid's
// read_dir is a stream of entries (next()).
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <vector>

#include "support.hpp"

namespace conformance_fs_dir {

namespace {
bool is_dir(const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool exists(const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0;
}
constexpr auto& run = braid_test::run_current_thread;
}  // namespace

TEST_CASE("fs_dir.create_dir") {
    braid_test::TempDir base_dir;
    std::string new_dir = base_dir / "foo";
    run([](std::string new_dir) -> braid::Task<> { co_await braid::fs::create_dir(new_dir); }(new_dir));
    REQUIRE(is_dir(new_dir));
}

TEST_CASE("fs_dir.create_all") {
    braid_test::TempDir base_dir;
    std::string new_dir = base_dir / "foo/bar";
    run([](std::string new_dir) -> braid::Task<> { co_await braid::fs::create_dir_all(new_dir); }(new_dir));
    REQUIRE(is_dir(new_dir));
}

TEST_CASE("fs_dir.build_dir") {
    braid_test::TempDir base_dir;
    std::string new_dir = base_dir / "foo/bar";
    run([](std::string new_dir) -> braid::Task<> {
        co_await braid::fs::DirBuilder().recursive(true).create(new_dir);
        EXPECT(is_dir(new_dir));
        int code = co_await braid_test::code_of(braid::fs::DirBuilder().recursive(false).create(new_dir));
        EXPECT(code == BRAID_EEXIST);
    }(new_dir));
}

TEST_CASE("fs_dir.remove") {
    braid_test::TempDir base_dir;
    std::string new_dir = base_dir / "foo";
    REQUIRE(::mkdir(new_dir.c_str(), 0777) == 0);
    run([](std::string new_dir) -> braid::Task<> { co_await braid::fs::remove_dir(new_dir); }(new_dir));
    REQUIRE(!exists(new_dir));
}

TEST_CASE("fs_dir.read_inherent") {
    braid_test::TempDir base_dir;
    for (const char* d : {"aa", "bb", "cc"}) REQUIRE(::mkdir((base_dir / d).c_str(), 0777) == 0);

    std::vector<std::string> files;
    run([](std::string p, std::vector<std::string>& files) -> braid::Task<> {
        auto entries = braid::fs::read_dir(p);
        while (auto e = co_await entries.next()) files.push_back(e->file_name());
    }(base_dir.path, files));

    std::sort(files.begin(), files.end());  // the order is not guaranteed
    REQUIRE(files == std::vector<std::string>{"aa", "bb", "cc"});
}

TEST_CASE("fs_dir.build_dir_mode_read_only") {
    braid_test::TempDir base_dir;
    std::string new_dir = base_dir / "abc";
    run([](std::string new_dir) -> braid::Task<> {
        co_await braid::fs::DirBuilder().recursive(true).mode(0444).create(new_dir);
        auto meta = co_await braid::fs::metadata(new_dir);
        EXPECT((meta.permissions & 0777) == 0444);  // read-only (the umask only clears bits)
    }(new_dir));
}

}  // namespace conformance_fs_dir
