// Conformance: tokio/tests/fs_file.rs (Tokio 1.24), ported from what each
// case asserts.  #[tokio::test]: a current-thread runtime; tempfile's
// NamedTempFile is a file in a braid_test::TempDir, written and read back
// with POSIX calls where Tokio uses std.  braid's File::seek is synchronous
// (lseek never waits); rewind() is seek(0, SET) and stream_position() is
// seek(0, CUR).  coop's hand-polled task (tokio_test::task::spawn) is the
// task as a one-item stream polled by braid_test::PollByHand.
//
// Gaps: none.
//
// Not applicable:
//   windows_handle - Windows' raw handle (unix_fd is its Unix twin).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <string_view>

#include "support.hpp"

namespace conformance_fs_file {

using braid::fs::File;

namespace {

constexpr std::string_view HELLO = "hello world...";

// A file in `dir` holding `content`, written with POSIX calls.
std::string tempfile(const braid_test::TempDir& dir, std::string_view content = {}) {
    std::string path = dir / "tempfile";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, content.data(), content.size()) == long(content.size()));
    ::close(fd);
    return path;
}

std::string std_read(const std::string& path) {
    std::string out;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    char buf[256];
    long n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, std::size_t(n));
    ::close(fd);
    return out;
}

constexpr auto& run = braid_test::run_current_thread;

}  // namespace

TEST_CASE("fs_file.basic_read") {
    braid_test::TempDir dir;
    std::string path = tempfile(dir, HELLO);
    run([](std::string path) -> braid::Task<> {
        File file = co_await File::open(path);
        char buf[1024];
        std::size_t n = co_await file.read(buf);
        EXPECT(n == HELLO.size());
        EXPECT(std::string_view(buf, n) == HELLO);
    }(path));
}

TEST_CASE("fs_file.basic_write") {
    braid_test::TempDir dir;
    std::string path = tempfile(dir);
    run([](std::string path) -> braid::Task<> {
        File file = co_await File::create(path);
        co_await file.write_all(braid::io::ConstBuffer(HELLO.data(), HELLO.size()));
        co_await file.flush();
    }(path));
    REQUIRE(std_read(path) == HELLO);
}

TEST_CASE("fs_file.basic_write_and_shutdown") {
    braid_test::TempDir dir;
    std::string path = tempfile(dir);
    run([](std::string path) -> braid::Task<> {
        File file = co_await File::create(path);
        co_await file.write_all(braid::io::ConstBuffer(HELLO.data(), HELLO.size()));
        co_await file.shutdown();
    }(path));
    REQUIRE(std_read(path) == HELLO);
}

TEST_CASE("fs_file.rewind_seek_position") {
    braid_test::TempDir dir;
    std::string path = tempfile(dir);
    run([](std::string path) -> braid::Task<> {
        File file = co_await File::create(path);
        EXPECT(file.seek(10, BRAID_SEEK_CUR) == 10);
        file.seek(0, BRAID_SEEK_SET);  // rewind
        EXPECT(file.seek(0, BRAID_SEEK_CUR) == 0);  // stream_position
    }(path));
}

TEST_CASE("fs_file.coop") {
    braid_test::TempDir dir;
    std::string path = tempfile(dir, HELLO);
    run([](std::string path) -> braid::Task<> {
        // reads and seeks back, forever
        auto task = [](std::string path) -> braid::Task<int> {
            File file = co_await File::open(path);
            char buf[1024];
            for (;;) {
                co_await file.read(buf);
                file.seek(0, BRAID_SEEK_SET);
            }
            co_return 0;
        }(path);
        auto stream = braid_test::as_stream(std::move(task));
        braid_test::PollByHand polled(stream);

        // it yields within 1,000 polls
        bool yielded = false;
        for (int i = 0; i < 1000 && !yielded; ++i) yielded = polled.poll_next().is_pending();
        EXPECT(yielded);
        co_return;
    }(path));
}

TEST_CASE("fs_file.unix_fd") {
    braid_test::TempDir dir;
    std::string path = tempfile(dir);
    run([](std::string path) -> braid::Task<> {
        File file = co_await File::create(path);
        EXPECT(file.fd() > 0);
    }(path));
}

}  // namespace conformance_fs_file
