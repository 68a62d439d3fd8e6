// Observability: the live view.  A runtime built with a socket path serves
// snapshots (metrics and the task dump as JSON) to a client of the same
// user over an owner-only Unix socket, removed at shutdown; tools/braid_top
// draws them.  Off by default; bad paths are refused with a code.
#include <braid/braid.hpp>

#include <catch2/catch.hpp>

#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

#include "support.hpp"

namespace test_obs_live_view {

using namespace std::chrono_literals;

namespace {

// Connects to the socket at `path`, sends `request` and reads until the
// server closes.  Throws when it cannot (it runs on blocking threads: no
// Catch assertions there).
std::string ask(const std::string& path, const std::string& request) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.data(), path.size());
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    if (connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        close(fd);
        throw std::runtime_error("connect: " + std::string(std::strerror(errno)));
    }
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size())) {
        close(fd);
        throw std::runtime_error("send failed");
    }
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, std::size_t(n));
    close(fd);
    return out;
}

// Runs a command and returns its standard output and exit status (throws
// when it cannot start it).
std::string run(const std::string& cmd, int& status) {
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) throw std::runtime_error("popen failed");
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    status = pclose(p);
    return out;
}

// Threads of this process named `name`.
int threads_named(const std::string& name) {
    int count = 0;
    DIR* d = opendir("/proc/self/task");
    REQUIRE(d != nullptr);
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::ifstream comm(std::string("/proc/self/task/") + e->d_name + "/comm");
        std::string line;
        if (std::getline(comm, line) && line == name) ++count;
    }
    closedir(d);
    return count;
}

#ifdef BRAID_TOP_PATH
// The command line of `braid_top --once SOCKET`.
std::string braid_top_once(const std::string& socket) {
    std::string cmd = BRAID_TOP_PATH;
    cmd += " --once '";
    cmd += socket;
    cmd += '\'';
    return cmd;
}
#endif

bool exists(const std::string& path) {
    struct stat st;
    return lstat(path.c_str(), &st) == 0;
}

}  // namespace

TEST_CASE("obs_live_view.the live view serves the metrics and the task dump of named tasks, owner-only") {
    braid_test::TempDir dir;
    const std::string path = dir / "rt.sock";
    {
        // Paused time on a current-thread runtime: the tasks below run to
        // their waits when this one yields, and the clock stays still while
        // the blocking jobs (the clients) run.
        auto rt = braid::Runtime::builder().current_thread().start_paused().live_view(path).build();
        struct stat st;
        REQUIRE(lstat(path.c_str(), &st) == 0);
        CHECK(S_ISSOCK(st.st_mode));
        CHECK((st.st_mode & 07777) == 0600);
        CHECK(st.st_uid == geteuid());
        CHECK(threads_named("braid-liveview") == 1);

        rt.block_on([&]() -> braid::Task<void> {
            auto [tx, rx] = braid::mpsc::channel<int>(4);
            auto reader = braid::spawn_named("reader", [](braid::mpsc::Receiver<int> r) -> braid::Task<void> {
                co_await r.recv();
            }(std::move(rx)));
            auto sleeper = braid::spawn_named("sleeper", []() -> braid::Task<void> { co_await braid::sleep(1h); }());
            co_await braid::yield_now();  // both run up to their waits

            std::string doc = co_await braid::spawn_blocking([&] { return ask(path, "snapshot\n"); });
            INFO(doc);
            REQUIRE(!doc.empty());
            CHECK(doc.back() == '\n');
            CHECK(doc.find('\n') == doc.size() - 1);  // one line: one document
            CHECK(doc.rfind("{\"version\":1,\"uptime_ns\":", 0) == 0);
            CHECK(doc.find("\"metrics\":{\"workers\":1,") != std::string::npos);
            CHECK(doc.find("\"per_worker\":[{\"worker\":0,") != std::string::npos);
            CHECK(doc.find("\"name\":\"reader\"") != std::string::npos);
            CHECK(doc.find("\"name\":\"sleeper\"") != std::string::npos);
            CHECK(doc.find("\"wait\":\"recv on channel 0x") != std::string::npos);
            CHECK(doc.find("\"wait\":\"sleep until +3600000.000 ms\"") != std::string::npos);
            CHECK(doc.find("\"state\":\"idle\"") != std::string::npos);
            CHECK(doc.find("obs_live_view.cpp") != std::string::npos);

            // A request the server does not know gets an error document.
            std::string bad = co_await braid::spawn_blocking([&] { return ask(path, "dump\n"); });
            CHECK(bad == "{\"error\":\"unknown request\"}\n");

#ifdef BRAID_TOP_PATH
            // The viewer: one snapshot as text.
            int status = -1;
            std::string text = co_await braid::spawn_blocking(
                [&] { return run(braid_top_once(path), status); });
            INFO(text);
            CHECK(status == 0);
            CHECK(text.find("WORKER") != std::string::npos);
            CHECK(text.find("tasks: 3 alive") != std::string::npos);
            bool reader_line = false, sleeper_line = false;
            std::size_t pos = 0;
            while (pos < text.size()) {
                std::size_t end = text.find('\n', pos);
                std::string line = text.substr(pos, end - pos);
                if (line.find(" reader ") != std::string::npos && line.find("idle") != std::string::npos &&
                    line.find("recv on channel 0x") != std::string::npos)
                    reader_line = true;
                if (line.find(" sleeper ") != std::string::npos && line.find("sleep until +3600000.000 ms") != std::string::npos)
                    sleeper_line = true;
                pos = end == std::string::npos ? text.size() : end + 1;
            }
            CHECK(reader_line);
            CHECK(sleeper_line);
#endif
            co_await tx.send(1);
            co_await std::move(reader);
            sleeper.abort();
        }());
    }
    CHECK_FALSE(exists(path));  // removed at shutdown
    CHECK(threads_named("braid-liveview") == 0);
}

#ifdef BRAID_TOP_PATH
TEST_CASE("obs_live_view.braid_top --once reports a socket it cannot reach") {
    braid_test::TempDir dir;
    int status = -1;
    std::string out = run(braid_top_once(dir / "none.sock") + " 2>&1", status);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1);
    CHECK(out.find("connect") != std::string::npos);
}
#endif

// In a child process running as `uid`: connects to `path`, asks for a
// snapshot and exits 0 when the server closed without a byte, 1 when it
// answered, 2 when it could not connect or switch user.
int ask_as(uid_t uid, const std::string& path) {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (uid != geteuid() && (setgid(uid) != 0 || setuid(uid) != 0)) _exit(2);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::memcpy(a.sun_path, path.data(), path.size());
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) _exit(2);
        (void)!send(fd, "snapshot\n", 9, MSG_NOSIGNAL);
        char c;
        _exit(recv(fd, &c, 1, 0) > 0 ? 1 : 0);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    return WEXITSTATUS(status);
}

TEST_CASE("obs_live_view.a client of another user is closed unanswered, even when the file lets it connect") {
    braid_test::TempDir dir;
    const std::string path = dir / "rt.sock";
    auto rt = braid::Runtime::builder().worker_threads(1).live_view(path).build();
    // Open the directory and the socket to everyone: only SO_PEERCRED is left
    // to refuse the other user.
    REQUIRE(chmod(dir.path.c_str(), 0755) == 0);
    REQUIRE(chmod(path.c_str(), 0666) == 0);
    CHECK(ask_as(geteuid(), path) == 1);  // the owner is answered
    // Another user (nobody) can be become only as root; the owner's case
    // above runs everywhere.
    if (geteuid() == 0) CHECK(ask_as(65534, path) == 0);  // connected, closed unanswered
    CHECK(ask(path, "snapshot\n").find("\"tasks\":[") != std::string::npos);  // still serving
}

TEST_CASE("obs_live_view.the live view is off by default: no socket, no thread") {
    braid_test::TempDir dir;
    {
        auto rt = braid::Runtime::builder().worker_threads(1).build();
        CHECK(threads_named("braid-liveview") == 0);
    }
    braid_runtime_builder* b = nullptr;
    REQUIRE(braid_runtime_builder_new(&b) == BRAID_OK);
    // Set, then turned off again (NULL and "" both).
    REQUIRE(braid_runtime_builder_live_view(b, (dir / "a.sock").c_str()) == BRAID_OK);
    REQUIRE(braid_runtime_builder_live_view(b, nullptr) == BRAID_OK);
    REQUIRE(braid_runtime_builder_live_view(b, (dir / "b.sock").c_str()) == BRAID_OK);
    REQUIRE(braid_runtime_builder_live_view(b, "") == BRAID_OK);
    braid_runtime* rt = nullptr;
    REQUIRE(braid_runtime_build(&rt, b) == BRAID_OK);
    CHECK(threads_named("braid-liveview") == 0);
    CHECK_FALSE(exists(dir / "a.sock"));
    CHECK_FALSE(exists(dir / "b.sock"));
    CHECK(braid_runtime_free(rt) == BRAID_OK);
    braid_runtime_builder_free(b);
}

TEST_CASE("obs_live_view.C: bad live view paths give error codes, not a crash") {
    braid_test::TempDir dir;
    braid_runtime_builder* b = nullptr;
    REQUIRE(braid_runtime_builder_new(&b) == BRAID_OK);
    braid_runtime* rt = nullptr;

    CHECK(braid_runtime_builder_live_view(nullptr, "x") == BRAID_EINVAL);
    // Longer than a Unix socket address holds.
    std::string too_long = dir.path + "/" + std::string(sizeof(sockaddr_un::sun_path), 's');
    CHECK(braid_runtime_builder_live_view(b, too_long.c_str()) == BRAID_ERANGE);

    SECTION("a missing directory") {
        REQUIRE(braid_runtime_builder_live_view(b, (dir / "missing/rt.sock").c_str()) == BRAID_OK);
        CHECK(braid_runtime_build(&rt, b) == BRAID_ENOENT);
        CHECK(rt == nullptr);
        CHECK(threads_named("braid-liveview") == 0);
    }
    SECTION("a file that is not a socket is left alone") {
        const std::string file = dir / "file";
        std::ofstream(file) << "keep me";
        REQUIRE(braid_runtime_builder_live_view(b, file.c_str()) == BRAID_OK);
        CHECK(braid_runtime_build(&rt, b) == BRAID_EEXIST);
        CHECK(rt == nullptr);
        std::ifstream in(file);
        std::string content;
        std::getline(in, content);
        CHECK(content == "keep me");
    }
    SECTION("a socket another runtime listens on is refused, a stale one replaced") {
        const std::string sock = dir / "rt.sock";
        REQUIRE(braid_runtime_builder_live_view(b, sock.c_str()) == BRAID_OK);
        braid_runtime* first = nullptr;
        REQUIRE(braid_runtime_build(&first, b) == BRAID_OK);
        CHECK(braid_runtime_build(&rt, b) == BRAID_EADDRINUSE);
        CHECK(rt == nullptr);
        CHECK(exists(sock));  // still the first runtime's
        CHECK(ask(sock, "snapshot\n").find("\"tasks\":[") != std::string::npos);
        CHECK(braid_runtime_free(first) == BRAID_OK);
        CHECK_FALSE(exists(sock));

        // A socket file whose process is gone (bound, never unlinked).
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        REQUIRE(fd >= 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::memcpy(a.sun_path, sock.data(), sock.size());
        REQUIRE(bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0);
        close(fd);
        REQUIRE(exists(sock));
        REQUIRE(braid_runtime_build(&rt, b) == BRAID_OK);
        CHECK(ask(sock, "snapshot\n").find("\"tasks\":[") != std::string::npos);
        CHECK(braid_runtime_free(rt) == BRAID_OK);
        rt = nullptr;
        CHECK_FALSE(exists(sock));
    }
    braid_runtime_builder_free(b);
}

}  // namespace test_obs_live_view
