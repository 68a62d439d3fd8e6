// Processes: output() collection, arguments/environment/working directory,
// piped stdin and stdout, kill, kill on drop (and no zombie left), a
// command that does not exist, EPIPE instead of SIGPIPE, cancellation, fd
// leaks, and the C side.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "io_support.hpp"
#include "support.hpp"

namespace test_io_process {

using namespace std::chrono_literals;
using braid::process::Command;
using braid::process::Stdio;

using braid_test::code_of;
using braid_test::TempDir;

namespace {

// Whether /proc still has pid (as a running process or a zombie), waiting
// up to 5 s (in 1 ms steps) for it to go.
bool gone_within_5s(int pid) {
    std::string p = "/proc/" + std::to_string(pid);
    for (int i = 0; i < 5000; ++i) {
        if (::access(p.c_str(), F_OK) != 0) return true;
        std::this_thread::sleep_for(1ms);
    }
    return false;
}

}  // namespace

TEST_CASE("io_process.process: output() collects stdout, stderr and the exit code") {
    auto rt = braid_test::runtime(2);
    auto out = rt.block_on([]() -> braid::Task<braid::process::Output> {
        // Built apart from the co_await: g++ 12 rejects an initializer list
        // inside a co_await expression of a coroutine lambda.
        Command c("sh");
        c.args({"-c", "echo to-out; echo to-err >&2; exit 3"});
        co_return co_await c.output();
    }());
    REQUIRE(out.out == "to-out\n");
    REQUIRE(out.err == "to-err\n");
    REQUIRE(out.status.code() == 3);
    REQUIRE(!out.status.success());
}

TEST_CASE("io_process.process: arguments, environment and working directory") {
    TempDir dir;
    auto rt = braid_test::runtime(2);
    auto [line, cleared] = rt.block_on([](std::string d) -> braid::Task<std::pair<std::string, std::string>> {
        Command c("sh");
        c.args({"-c", "echo \"$FOO|$1|$(pwd)|${GONE-unset}\"", "sh", "first arg"}).env("FOO", "bar").env_remove("GONE");
        c.env("GONE", "x").env_remove("GONE").current_dir(d);
        auto a = co_await c.output();
        auto b = co_await Command("/usr/bin/env").env_clear().env("ONLY", "1").output();
        co_return std::make_pair(a.out, b.out);
    }(dir.path));
    REQUIRE(line == "bar|first arg|" + dir.path + "|unset\n");
    REQUIRE(cleared == "ONLY=1\n");
}

TEST_CASE("io_process.process: piped stdin and stdout are async streams") {
    auto rt = braid_test::runtime(2);
    auto [echoed, ok] = rt.block_on([]() -> braid::Task<std::pair<std::string, bool>> {
        auto child = Command("cat").set_stdin(Stdio::piped()).set_stdout(Stdio::piped()).spawn();
        auto in = child.take_stdin();
        auto out = child.take_stdout();
        EXPECT(in && out);
        EXPECT(!child.take_stdin());  // taken already
        auto reader = braid::spawn([](braid::process::ChildStdout o) -> braid::Task<std::string> {
            co_return co_await braid::io::read_to_string(o);
        }(std::move(*out)));
        std::string big(200000, 'z');  // more than a pipe holds: writer and reader must overlap
        co_await in->write_all(big);
        co_await in->shutdown();  // cat sees end of file
        std::string got = co_await reader;
        auto st = co_await child.wait();
        co_return std::make_pair(got, st.success() && got == big);
    }());
    REQUIRE(echoed.size() == 200000);
    REQUIRE(ok);
}

TEST_CASE("io_process.process: kill, try_wait, and wait reports the signal") {
    auto rt = braid_test::runtime(2);
    auto [before, sig, after] = rt.block_on([]() -> braid::Task<std::tuple<bool, int, bool>> {
        auto child = Command("sleep").arg("30").spawn();
        bool running = !child.try_wait().has_value();
        auto st = co_await child.kill();
        bool has = child.try_wait().has_value();
        co_return std::make_tuple(running, st.signal().value_or(0), has);
    }());
    REQUIRE(before);
    REQUIRE(sig == SIGKILL);
    REQUIRE(after);
}

TEST_CASE("io_process.process: a child dropped with kill_on_drop is killed and reaped (no zombie)") {
    auto rt = braid_test::runtime(2);
    int pid = rt.block_on([]() -> braid::Task<int> {
        auto child = Command("sleep").arg("30").kill_on_drop(true).spawn();
        int id = child.id().value();
        co_return id;  // the Child is dropped here
    }());
    REQUIRE(pid > 0);
    REQUIRE(gone_within_5s(pid));
    // Without kill_on_drop the child runs on, and is still reaped when it ends.
    int pid2 = rt.block_on([]() -> braid::Task<int> {
        auto child = Command("sh").args({"-c", "exit 0"}).spawn();
        co_return child.id().value();
    }());
    REQUIRE(gone_within_5s(pid2));
}

TEST_CASE("io_process.process: a command that does not exist, bad input, EPIPE, no fd leaks") {
    TempDir dir;
    std::string not_exec = dir.path + "/not-executable";
    {
        int fd = ::open(not_exec.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        REQUIRE(fd >= 0);
        REQUIRE(::write(fd, "#!/bin/sh\n", 10) == 10);
        ::close(fd);
    }
    auto rt = braid_test::runtime(2);
    rt.block_on([]() -> braid::Task<> { co_await Command("true").output(); }());  // warm up
    int before = braid_test::open_fds();
    auto codes = rt.block_on([](std::string ne, std::string d) -> braid::Task<std::vector<int>> {
        std::vector<int> out;
        out.push_back(braid_test::error_code_of([] { Command("braid-no-such-command-xyz").spawn(); }));
        out.push_back(co_await code_of(Command("braid-no-such-command-xyz").output()));
        out.push_back(braid_test::error_code_of([&] { Command(ne).spawn(); }));
        out.push_back(braid_test::error_code_of([&] { Command("true").current_dir(d + "/missing").spawn(); }));
        out.push_back(braid_test::error_code_of([] { Command(std::string_view("tr\0ue", 5)); }));
        out.push_back(braid_test::error_code_of([] { Command("true").arg(std::string_view("a\0b", 3)); }));
        out.push_back(braid_test::error_code_of([] { Command("true").env("A=B", "c"); }));
        out.push_back(braid_test::error_code_of([] { Command(""); }));
        // Writing to a child that has exited: EPIPE, not SIGPIPE.
        auto child = Command("true").set_stdin(Stdio::piped()).spawn();
        auto in = child.take_stdin();
        co_await child.wait();
        out.push_back(co_await code_of(in->write_all(std::string(1 << 20, 'x'))));
        co_return out;
    }(not_exec, dir.path));
    REQUIRE(codes == std::vector<int>{BRAID_ENOENT, BRAID_ENOENT, BRAID_EACCES, BRAID_ENOENT, BRAID_EINVAL,
                                      BRAID_EINVAL, BRAID_EINVAL, BRAID_EINVAL, BRAID_EPIPE});
    REQUIRE(braid_test::open_fds() == before);
}

TEST_CASE("io_process.process: output() dropped by a timeout kills the child") {
    auto rt = braid_test::runtime(2);
    int before = -1;
    bool timed_out = rt.block_on([](int* before) -> braid::Task<bool> {
        co_await Command("true").output();
        *before = braid_test::open_fds();
        Command c("sleep");
        c.arg("30");
        auto r = co_await braid::timeout(50ms, c.output());
        co_return !r.has_value();
    }(&before));
    REQUIRE(timed_out);
    // The killed child is reaped by a background task: its pidfd goes when
    // that is done (bounded wait).
    bool released = false;
    for (int i = 0; i < 5000 && !released; ++i) {
        released = braid_test::open_fds() <= before;
        if (!released) std::this_thread::sleep_for(1ms);
    }
    REQUIRE(released);
}

namespace {
struct OutResult {
    std::atomic<int> status{1000};
    int code = -2;
    std::string out, err;
    static void cb(void* p, int st, int code, int, const void* o, size_t on, const void* e, size_t en) {
        auto* r = static_cast<OutResult*>(p);
        r->code = code;
        if (o) r->out.assign(static_cast<const char*>(o), on);
        if (e) r->err.assign(static_cast<const char*>(e), en);
        r->status = st;
    }
};
struct ExitResult {
    std::atomic<int> status{1000};
    int code = -2, sig = -2;
    static void cb(void* p, int st, int code, int sig) {
        auto* r = static_cast<ExitResult*>(p);
        r->code = code;
        r->sig = sig;
        r->status = st;
    }
};
}  // namespace

TEST_CASE("io_process.process from C: output, spawn and wait, bad input") {
    braid_runtime* rt = nullptr;
    REQUIRE(braid_runtime_new(&rt) == BRAID_OK);
    braid_command* cmd = nullptr;
    REQUIRE(braid_command_new(&cmd, "sh") == BRAID_OK);
    REQUIRE(braid_command_arg(cmd, "-c") == BRAID_OK);
    REQUIRE(braid_command_arg(cmd, "printf C-out; printf C-err >&2; exit 5") == BRAID_OK);
    OutResult o;
    braid_task* t = nullptr;
    REQUIRE(braid_command_output(&t, cmd, rt, &OutResult::cb, &o) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_task_free(t);
    REQUIRE(o.status == BRAID_OK);
    REQUIRE(o.code == 5);
    REQUIRE(o.out == "C-out");
    REQUIRE(o.err == "C-err");

    braid_child* child = nullptr;
    REQUIRE(braid_command_stdout(cmd, BRAID_STDIO_NULL) == BRAID_OK);
    REQUIRE(braid_command_stderr(cmd, BRAID_STDIO_NULL) == BRAID_OK);
    REQUIRE(braid_command_spawn(&child, cmd, rt) == BRAID_OK);
    REQUIRE(braid_child_id(child) > 0);
    braid_pipe* p = nullptr;
    REQUIRE(braid_child_take_stdout(child, &p) == BRAID_EINVAL);  // not piped
    ExitResult e;
    REQUIRE(braid_child_wait(&t, child, &ExitResult::cb, &e) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_task_free(t);
    REQUIRE(e.status == BRAID_OK);
    REQUIRE(e.code == 5);
    REQUIRE(e.sig == 0);
    braid_child_free(child);

    braid_command* bad = nullptr;
    REQUIRE(braid_command_new(&bad, "") == BRAID_EINVAL);
    REQUIRE(braid_command_new(&bad, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_command_env(cmd, "A=B", "x") == BRAID_EINVAL);
    REQUIRE(braid_command_stdin(cmd, 7) == BRAID_EINVAL);
    REQUIRE(braid_command_new(&bad, "braid-no-such-command-xyz") == BRAID_OK);
    REQUIRE(braid_command_spawn(&child, bad, rt) == BRAID_ENOENT);
    REQUIRE(child == nullptr);
    REQUIRE(braid_last_os_error() == ENOENT);
    braid_command_free(bad);
    braid_command_free(cmd);
    REQUIRE(braid_runtime_free(rt) == BRAID_OK);
}

TEST_CASE("io_process.process: stdio from an fd, process groups, setsid, any signal, wait_with_output, id after reaping") {
    braid_test::TempDir dir;
    std::string path = dir / "out.txt";
    auto rt = braid_test::runtime(2);
    rt.block_on([](std::string path) -> braid::Task<> {
        // stdout into a file of ours (our fd closed at once: the command has its own)
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        EXPECT(fd >= 0);
        Command echo("sh");
        echo.args({"-c", "echo to-file"}).set_stdout(Stdio::from_fd(fd));
        ::close(fd);
        auto st = co_await echo.status();
        EXPECT(st.success());
        EXPECT(co_await braid::fs::read(path) == "to-file\n");

        // a new process group (its own pid), and a new session: the child
        // prints its pid, process group and session from /proc
        const char* ids = "read -r pid comm state ppid pgrp sid rest < /proc/$$/stat; echo $pid $pgrp $sid";
        auto parse = [](const std::string& s) {
            std::vector<long> v;
            std::size_t pos = 0;
            while (pos < s.size()) {
                std::size_t used = 0;
                v.push_back(std::stol(s.substr(pos), &used));
                pos += used;
                while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\n')) ++pos;
            }
            return v;
        };
        // (commands built before the co_await: g++ 12 cannot keep an
        // initializer list alive inside a co_await operand, docs/compilers.md)
        Command plain_cmd("sh"), grouped_cmd("sh"), session_cmd("sh");
        plain_cmd.args({"-c", ids});
        grouped_cmd.args({"-c", ids}).process_group(0);
        session_cmd.args({"-c", ids}).setsid();
        auto plain = parse((co_await plain_cmd.output()).out);
        auto grouped = parse((co_await grouped_cmd.output()).out);
        auto session = parse((co_await session_cmd.output()).out);
        EXPECT(plain.size() == 3 && grouped.size() == 3 && session.size() == 3);
        EXPECT(plain[1] != plain[0]);                            // inherited: our group
        EXPECT(grouped[1] == grouped[0] && grouped[2] != grouped[0]);  // its own group, our session
        EXPECT(session[1] == session[0] && session[2] == session[0]);  // its own session and group

        // any signal: SIGTERM ends it by that signal
        auto child = Command("sleep").arg("30").kill_on_drop(true).spawn();
        EXPECT(child.id().has_value());
        child.signal(SIGTERM);
        auto ended = co_await child.wait();
        EXPECT(ended.signal() == std::optional<int>(SIGTERM));
        EXPECT(!child.id().has_value());  // reaped: no pid any more
        child.signal(SIGTERM);            // nothing to signal: fine
        bool threw = false;
        try {
            child.signal(0);
        } catch (const braid::Error& e) {
            threw = e.code() == BRAID_EINVAL;
        }
        EXPECT(threw);

        // wait_with_output: both pipes drained while waiting
        auto big = Command("sh")
                       .args({"-c", "head -c 200000 /dev/zero; echo err >&2; exit 3"})
                       .set_stdout(Stdio::piped())
                       .set_stderr(Stdio::piped())
                       .spawn();
        auto o = co_await std::move(big).wait_with_output();
        EXPECT(o.out.size() == 200000);
        EXPECT(o.err == "err\n");
        EXPECT(o.status.code() == std::optional<int>(3));
    }(path));

    braid_command* cmd = nullptr;
    REQUIRE(braid_command_new(&cmd, "true") == BRAID_OK);
    REQUIRE(braid_command_stdin_fd(cmd, -1) == BRAID_EINVAL);
    REQUIRE(braid_command_stdout_fd(cmd, 1 << 20) == BRAID_EBADF);
    REQUIRE(braid_command_stderr_fd(nullptr, 2) == BRAID_EINVAL);
    REQUIRE(braid_command_arg0(cmd, "") == BRAID_EINVAL);
    REQUIRE(braid_command_process_group(cmd, -1) == BRAID_EINVAL);
    REQUIRE(braid_command_setsid(nullptr, 1) == BRAID_EINVAL);
    REQUIRE(braid_child_signal(nullptr, SIGTERM) == BRAID_EINVAL);
    braid_command_free(cmd);
}

// Command::uid / gid start the child with fork and exec (posix_spawn cannot
// change the user): the same settings and errors as a posix_spawn start.
TEST_CASE("io_process.process: uid and gid: the child's user and group, with stdio, directory, group and errors as posix_spawn") {
    TempDir dir;
    std::string not_exec = dir / "not-executable";
    {
        int fd = ::open(not_exec.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        REQUIRE(fd >= 0);
        ::close(fd);
    }
    auto rt = braid_test::runtime(2);
    rt.block_on([]() -> braid::Task<> { co_await Command("true").output(); }());  // warm up
    int before = braid_test::open_fds();
    struct Seen {
        std::string ids, echoed, other;
        std::vector<int> codes;
    };
    auto seen = rt.block_on([](std::string d, std::string ne) -> braid::Task<Seen> {
        Seen s;
        const uint32_t me = ::getuid(), my_group = ::getgid();
        // Our own user and group (allowed to anyone): user, group, working
        // directory, a process group of its own, stderr to /dev/null.
        const char* script = "id -u; id -g; pwd; read -r pid comm state ppid pgrp rest < /proc/$$/stat; "
                             "[ \"$pid\" = \"$pgrp\" ] && echo own-group; echo lost >&2";
        Command own("sh");
        own.args({"-c", script}).uid(me).gid(my_group).current_dir(d).process_group(0);
        own.set_stdout(Stdio::piped()).set_stderr(Stdio::null());
        auto out = co_await own.spawn().wait_with_output();
        s.ids = out.out + "|" + out.err;
        // Piped stdin and stdout through the fork path.
        auto child = Command("cat").uid(me).set_stdin(Stdio::piped()).set_stdout(Stdio::piped()).spawn();
        auto in = child.take_stdin();
        auto from = child.take_stdout();
        co_await in->write_all(std::string("through cat"));
        co_await in->shutdown();
        s.echoed = co_await braid::io::read_to_string(*from);
        EXPECT((co_await child.wait()).success());
        // Another user: root may become nobody (and loses its groups);
        // anyone else is refused (EPERM: BRAID_EACCES).
        const uint32_t stranger = me == 65534 ? 65533 : 65534;
        Command other("sh");
        other.args({"-c", "id -u; id -g; id -G"}).uid(stranger).gid(stranger);
        if (::geteuid() == 0) {
            s.other = (co_await other.output()).out;
        } else {
            s.codes.push_back(co_await code_of(other.output()));
        }
        // Failures of the start itself, reported as spawn's own errors.
        s.codes.push_back(braid_test::error_code_of([&] { Command(d + "/no-such-program").uid(me).spawn(); }));
        s.codes.push_back(braid_test::error_code_of([&] { Command(ne).uid(me).spawn(); }));
        s.codes.push_back(braid_test::error_code_of([&] { Command("true").gid(my_group).current_dir(d + "/missing").spawn(); }));
        s.codes.push_back(braid_test::error_code_of([] { Command("true").uid(uint32_t(-1)); }));
        co_return s;
    }(dir.path, not_exec));
    std::string me = std::to_string(::getuid()), my_group = std::to_string(::getgid());
    REQUIRE(seen.ids == me + "\n" + my_group + "\n" + dir.path + "\nown-group\n|");
    REQUIRE(seen.echoed == "through cat");
    std::vector<int> expected{BRAID_ENOENT, BRAID_EACCES, BRAID_ENOENT, BRAID_EINVAL};
    if (::geteuid() == 0) {
        REQUIRE(seen.other == "65534\n65534\n65534\n");
    } else {
        expected.insert(expected.begin(), BRAID_EACCES);
    }
    REQUIRE(seen.codes == expected);
    REQUIRE(braid_test::open_fds() == before);  // the report pipe and the child's ends are closed

    braid_command* cmd = nullptr;
    REQUIRE(braid_command_new(&cmd, "true") == BRAID_OK);
    REQUIRE(braid_command_uid(nullptr, 0) == BRAID_EINVAL);
    REQUIRE(braid_command_gid(nullptr, 0) == BRAID_EINVAL);
    REQUIRE(braid_command_uid(cmd, uint32_t(-1)) == BRAID_EINVAL);
    REQUIRE(braid_command_gid(cmd, uint32_t(-1)) == BRAID_EINVAL);
    REQUIRE(braid_command_uid(cmd, ::getuid()) == BRAID_OK);
    REQUIRE(braid_command_gid(cmd, ::getgid()) == BRAID_OK);
    braid_command_free(cmd);
}

}  // namespace test_io_process
