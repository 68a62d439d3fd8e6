// braid::io::Stdin / Stdout / Stderr (and braid_file_new_stdio underneath),
// seen from outside: a helper program (tests/helpers/stdio_child.cpp) runs
// with its standard streams being pipes or files of this process, and the
// test checks what it read, what it wrote, end of file, and that the flags
// of the open files it shared (O_NONBLOCK) are what they were.
#include <catch2/catch.hpp>
#include <braid/braid.hpp>
#include <braid/io/stdio.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support.hpp"

namespace test_io_stdio {

namespace bp = braid::process;
using braid_test::TempDir;

static_assert(braid::io::AsyncRead<braid::io::Stdin>);
static_assert(braid::io::AsyncWrite<braid::io::Stdout>);
static_assert(braid::io::AsyncWrite<braid::io::Stderr>);

namespace {

// The helper is built next to this test (tests/CMakeLists.txt).
std::string child_path() {
    std::vector<char> b(4096);
    ssize_t n = ::readlink("/proc/self/exe", b.data(), b.size() - 1);
    REQUIRE(n > 0);
    std::string self(b.data(), std::size_t(n));
    return self.substr(0, self.rfind('/')) + "/stdio_child";
}

struct Pipe {
    int r = -1, w = -1;
    Pipe() {
        int p[2];
        REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
        r = p[0];
        w = p[1];
    }
    ~Pipe() {
        close_r();
        close_w();
    }
    void close_r() {
        if (r >= 0) ::close(r);
        r = -1;
    }
    void close_w() {
        if (w >= 0) ::close(w);
        w = -1;
    }
};

int flags(int fd) { return ::fcntl(fd, F_GETFL); }

// Everything until end of file, with blocking reads (on a thread of its own).
std::string drain(int fd) {
    std::string all;
    char b[4096];
    for (;;) {
        ssize_t n = ::read(fd, b, sizeof b);
        if (n > 0) all.append(b, std::size_t(n));
        else if (n == 0 || errno != EINTR) return all;
    }
}

void feed(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n > 0) done += std::size_t(n);
        else if (errno != EINTR) return;
    }
}

struct Run {
    int code = -1;
    std::string out, err;
    int in_flags = 0, out_flags = 0, err_flags = 0;  // of the shared ends, once the child is gone
};

// Runs stdio_child `mode` with the three pipes as its standard streams;
// this process keeps its own copy of each end the child got, so the open
// file descriptions stay shared with it, and checks their flags afterwards.
struct Options {
    bool nonblocking_stdin = false;  // set O_NONBLOCK on the child's stdin first
    bool stdout_reader_gone = false; // close the read end of its stdout first
};

Run run_child(const char* mode, const std::string& input, Options opt = {}) {
    TempDir dir;
    Pipe in, out, err;
    if (opt.nonblocking_stdin) REQUIRE(::fcntl(in.r, F_SETFL, flags(in.r) | O_NONBLOCK) == 0);
    if (opt.stdout_reader_gone) out.close_r();
    Run run;
    std::string got_out, got_err;
    std::thread feeder([&] {
        feed(in.w, input);
        in.close_w();  // the child's end of file
    });
    std::thread out_reader([&] {
        if (out.r >= 0) got_out = drain(out.r);
    });
    std::thread err_reader([&] { got_err = drain(err.r); });
    auto rt = braid::Runtime::builder().current_thread().build();
    rt.block_on([&]() -> braid::Task<> {
        auto child = bp::Command(child_path())
                         .arg(mode)
                         .current_dir(dir.path)
                         .set_stdin(bp::Stdio::from_fd(in.r))
                         .set_stdout(bp::Stdio::from_fd(out.w))
                         .set_stderr(bp::Stdio::from_fd(err.w))
                         .spawn();
        bp::ExitStatus st = co_await child.wait();
        run.code = st.code().value_or(-1);
    }());
    feeder.join();
    run.in_flags = flags(in.r);
    run.out_flags = flags(out.w);
    run.err_flags = flags(err.w);
    out.close_w();  // the readers' end of file: the child's copies are gone
    err.close_w();
    out_reader.join();
    err_reader.join();
    run.out = std::move(got_out);
    run.err = std::move(got_err);
    return run;
}

}  // namespace

TEST_CASE("io_stdio.stdio: lines of a piped stdin, echoed to stdout, a line to stderr, end of file") {
    Pipe probe;  // what a fresh pipe's flags are
    int pipe_r = flags(probe.r), pipe_w = flags(probe.w);
    Run r = run_child("lines", "first\nsecond line\r\n\nlast without newline");
    CHECK(r.code == 0);
    CHECK(r.out ==
          "line 1: first\n"
          "line 2: second line\n"
          "line 3: \n"
          "line 4: last without newline\n"
          "eof 4 0\n");
    CHECK(r.err == "to stderr\n");
    // the child's fds were these open files: still blocking
    CHECK(r.in_flags == pipe_r);
    CHECK(r.out_flags == pipe_w);
    CHECK(r.err_flags == pipe_w);
    CHECK((r.in_flags & O_NONBLOCK) == 0);
}

TEST_CASE("io_stdio.stdio: an empty stdin is end of file at once") {
    Run r = run_child("lines", "");
    CHECK(r.code == 0);
    CHECK(r.out == "eof 0 0\n");
    CHECK(r.err == "to stderr\n");
}

TEST_CASE("io_stdio.stdio: copy from stdin to stdout keeps every byte in order") {
    std::string data;
    for (int i = 0; data.size() < 300 * 1024; ++i) data += std::to_string(i) + (i % 7 ? "," : "\n");
    Run r = run_child("copy", data);
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.out.size() == data.size());
    CHECK((r.out == data));
    CHECK(r.err == std::to_string(data.size()) + "\n");
    CHECK((r.in_flags & O_NONBLOCK) == 0);
    CHECK((r.out_flags & O_NONBLOCK) == 0);
}

TEST_CASE("io_stdio.stdio: a stdin someone else made non-blocking is read all the same, and stays non-blocking") {
    std::string data(200 * 1024, 'x');
    Run r = run_child("copy", data, {.nonblocking_stdin = true});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.out.size() == data.size());
    CHECK((r.out == data));
    CHECK((r.in_flags & O_NONBLOCK) != 0);
    CHECK((r.out_flags & O_NONBLOCK) == 0);
}

TEST_CASE("io_stdio.stdio: a stdout whose reader is gone fails with EPIPE, without SIGPIPE") {
    Run r = run_child("lines", "one line\n", {.stdout_reader_gone = true});
    CHECK(r.code == 4);  // braid threw (a SIGPIPE would have ended it by a signal: code -1)
    INFO(r.err);
    CHECK(r.err.find("code " + std::to_string(BRAID_EPIPE) + ":") != std::string::npos);
    CHECK((r.out_flags & O_NONBLOCK) == 0);
}

TEST_CASE("io_stdio.stdio: stdin and stdout being files") {
    TempDir dir;
    std::string in_path = dir.path + "/in.txt", out_path = dir.path + "/out.txt";
    int w = ::open(in_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(w >= 0);
    feed(w, "alpha\nbeta\n");
    ::close(w);
    int in = ::open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    REQUIRE(in >= 0);
    REQUIRE(out >= 0);
    int code = -1;
    auto rt = braid::Runtime::builder().current_thread().build();
    rt.block_on([&]() -> braid::Task<> {
        auto child = bp::Command(child_path())
                         .arg("lines")
                         .current_dir(dir.path)
                         .set_stdin(bp::Stdio::from_fd(in))
                         .set_stdout(bp::Stdio::from_fd(out))
                         .set_stderr(bp::Stdio::null())
                         .spawn();
        code = (co_await child.wait()).code().value_or(-1);
    }());
    CHECK(code == 0);
    const std::string expected = "line 1: alpha\nline 2: beta\neof 2 0\n";
    std::string written;
    rt.block_on([&]() -> braid::Task<> { written = co_await braid::fs::read_to_string(out_path); }());
    CHECK(written == expected);
    // the shared file positions moved to the end of what the child read and wrote
    CHECK(::lseek(in, 0, SEEK_CUR) == 11);
    CHECK(::lseek(out, 0, SEEK_CUR) == off_t(expected.size()));
    ::close(in);
    ::close(out);
}

TEST_CASE("io_stdio.stdio: the C handles (braid_file_new_stdio)") {
    auto rt = braid::Runtime::builder().current_thread().build();
    braid_file* f = nullptr;
    CHECK(braid_file_new_stdio(nullptr, rt.native_handle(), 0) == BRAID_EINVAL);
    CHECK(braid_file_new_stdio(&f, rt.native_handle(), 3) == BRAID_EINVAL);
    CHECK(f == nullptr);
    CHECK(braid_file_new_stdio(&f, rt.native_handle(), -1) == BRAID_EINVAL);
    CHECK(braid_file_new_stdio(&f, nullptr, 1) == BRAID_EINVAL);  // no current runtime
    int before = flags(1);
    REQUIRE(braid_file_new_stdio(&f, rt.native_handle(), 1) == BRAID_OK);
    REQUIRE(f != nullptr);
    CHECK(braid_file_fd(f) > 2);  // a duplicate of fd 1
    braid_file_free(f);
    CHECK(flags(1) == before);    // fd 1 itself is still open, unchanged
    // the C++ types outside a runtime
    CHECK_THROWS_AS(braid::io::Stdout(), braid::IoError);
}

}  // namespace test_io_stdio
