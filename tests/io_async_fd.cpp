// AsyncFd: readiness of pipes and eventfds, cancellation, bad fds.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>

#include "support.hpp"

namespace test_io_async_fd {

using namespace std::chrono_literals;

namespace {
struct Pipe {
    int r = -1, w = -1;
    Pipe() {
        int fds[2];
        REQUIRE(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
        r = fds[0];
        w = fds[1];
    }
    ~Pipe() {
        close(r);
        close(w);
    }
};

// Reads what is there, waiting for readability the Tokio way.
braid::Task<std::string> read_some(braid::AsyncFd<>& fd) {
    char buf[64];
    for (;;) {
        auto guard = co_await fd.readable();
        ssize_t n = ::read(fd.fd(), buf, sizeof buf);
        if (n >= 0) co_return std::string(buf, size_t(n));
        if (errno != EAGAIN) throw std::runtime_error("read failed");
        guard.clear_ready();
    }
}
}  // namespace

TEST_CASE("io_async_fd.AsyncFd: a reader waits until another task writes to the pipe") {
    Pipe p;
    auto rt = braid_test::runtime(2);
    std::string got = rt.block_on([](int r, int w) -> braid::Task<std::string> {
        braid::AsyncFd fd(r);
        auto writer = braid::spawn([](int wfd) -> braid::Task<> {
            co_await braid::sleep(5ms);
            REQUIRE(::write(wfd, "hello", 5) == 5);
        }(w));
        std::string s = co_await read_some(fd);
        co_await writer;
        co_return s;
    }(p.r, p.w));
    REQUIRE(got == "hello");
}

TEST_CASE("io_async_fd.AsyncFd: readiness is cached until cleared after EAGAIN") {
    Pipe p;
    auto rt = braid_test::runtime(2);
    REQUIRE(::write(p.w, "ab", 2) == 2);
    auto [first, eagain, second] = rt.block_on([](int r, int w) -> braid::Task<std::tuple<std::string, bool, std::string>> {
        braid::AsyncFd fd(r);
        std::string a = co_await read_some(fd);
        // Nothing left to read, but the readiness seen before is still cached:
        // the await returns at once and the syscall says EAGAIN.
        auto guard = co_await fd.readable();
        char c;
        bool would_block = ::read(r, &c, 1) < 0 && errno == EAGAIN;
        guard.clear_ready();
        auto writer = braid::spawn([](int wfd) -> braid::Task<> {
            co_await braid::sleep(2ms);
            REQUIRE(::write(wfd, "c", 1) == 1);
        }(w));
        std::string b = co_await read_some(fd);
        co_await writer;
        co_return std::make_tuple(a, would_block, b);
    }(p.r, p.w));
    REQUIRE(first == "ab");
    REQUIRE(eagain);
    REQUIRE(second == "c");
}

TEST_CASE("io_async_fd.AsyncFd: eventfd counter round trip between tasks") {
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    REQUIRE(efd >= 0);
    auto rt = braid_test::runtime(2);
    uint64_t total = rt.block_on([](int e) -> braid::Task<uint64_t> {
        braid::AsyncFd fd(e);
        auto producer = braid::spawn([](int ev) -> braid::Task<> {
            for (uint64_t i = 1; i <= 10; ++i) {
                REQUIRE(::write(ev, &i, sizeof i) == sizeof i);
                co_await braid::yield_now();
            }
        }(e));
        uint64_t sum = 0;
        while (sum < 55) {
            auto guard = co_await fd.readable();
            uint64_t v = 0;
            if (::read(e, &v, sizeof v) == sizeof v) sum += v;
            else guard.clear_ready();
        }
        co_await producer;
        co_return sum;
    }(efd));
    close(efd);
    REQUIRE(total == 55);
}

TEST_CASE("io_async_fd.AsyncFd: writable on an empty pipe is ready at once") {
    Pipe p;
    auto rt = braid_test::runtime(1);
    bool writable = rt.block_on([](int w) -> braid::Task<bool> {
        braid::AsyncFd fd(w);
        auto g = co_await fd.writable();
        co_return g.writable();
    }(p.w));
    REQUIRE(writable);
}

TEST_CASE("io_async_fd.AsyncFd: a task waiting for readability is cancelled promptly by abort") {
    Pipe p;
    auto rt = braid_test::runtime(2);
    bool cancelled = rt.block_on([](int r) -> braid::Task<bool> {
        std::atomic<bool> waiting{false};
        auto h = braid::spawn([](int fd, std::atomic<bool>* wt) -> braid::Task<> {
            braid::AsyncFd afd(fd);
            wt->store(true);
            co_await afd.readable();
        }(r, &waiting));
        while (!waiting.load()) co_await braid::yield_now();
        co_await braid::sleep(1ms);
        h.abort();
        try {
            co_await h;
        } catch (const braid::TaskCancelled&) {
            co_return true;
        }
        co_return false;
    }(p.r));
    REQUIRE(cancelled);
    // the fd is still ours and still open
    REQUIRE(fcntl(p.r, F_GETFD) >= 0);
}

TEST_CASE("io_async_fd.AsyncFd: a closed fd or a regular file is refused with BRAID_EBADF") {
    auto rt = braid_test::runtime(1);
    rt.block_on([]() -> braid::Task<> {
        try {
            braid::AsyncFd bad(12345);
            FAIL("must throw");
        } catch (const braid::Error& e) {
            REQUIRE(e.code() == BRAID_EBADF);
        }
        int f = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        REQUIRE(f >= 0);
        try {
            braid::AsyncFd file(f);
            FAIL("must throw");
        } catch (const braid::Error& e) {
            REQUIRE(e.code() == BRAID_EBADF);
        }
        ::close(f);
        co_return;
    }());
}

TEST_CASE("io_async_fd.AsyncFd<T>: owns its object, try_io without waiting, into_inner gives it back") {
    struct Pipe {
        int fd_ = -1;
        explicit Pipe(int f) : fd_(f) {}
        Pipe(Pipe&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
        Pipe& operator=(Pipe&& o) noexcept {
            std::swap(fd_, o.fd_);
            return *this;
        }
        ~Pipe() {
            if (fd_ >= 0) ::close(fd_);
        }
        int fd() const { return fd_; }
    };
    int p[2];
    REQUIRE(::pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
    int write_end = p[1];
    auto rt = braid_test::runtime();
    rt.block_on([](int r, int w) -> braid::Task<> {
        braid::AsyncFd<Pipe> a(Pipe{r});
        EXPECT(a.get_ref().fd() == r);
        char c;
        // Nothing yet: the attempt gives nullopt (readiness cleared or not there).
        EXPECT(!a.try_io(braid::Readable, [&](Pipe& p) { return ::read(p.fd(), &c, 1); }));
        EXPECT(::write(w, "q", 1) == 1);
        for (;;) {
            auto guard = co_await a.readable();
            auto n = guard.try_io([&](Pipe& p) { return ::read(p.fd(), &c, 1); });
            if (n) {
                EXPECT(*n == 1);
                break;
            }
        }
        EXPECT(c == 'q');
        Pipe back = a.into_inner();
        EXPECT(back.fd() == r);  // still open: into_inner does not close it
        EXPECT(::fcntl(r, F_GETFD) >= 0);
    }(p[0], write_end));
    ::close(write_end);
}

}  // namespace test_io_async_fd
