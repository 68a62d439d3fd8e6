// Conformance: tokio/tests/io_async_fd.rs (Tokio 1.24), ported from what each
// case asserts: braid::AsyncFd over a non-blocking Unix socket pair.
// #[tokio::test] runs on a current-thread runtime.
//
// Tokio's "not ready" checks race a readiness future against a 10 ms sleep;
// here the future is polled once by hand (braid_test::as_stream +
// PollByHand, or braid_fd_poll_ready with a counting waker) and must be
// pending, then the same future is awaited after the event.  Tokio's futures
// driven outside a runtime (futures::executor::block_on, after the runtime
// was dropped) are braid_fd_poll_ready calls on a braid_fd registered with
// the runtime through the C ABI, waiting for their waker on a condition
// variable between polls (block_on_ready below).
//
// Differences (deliberate, documented in braid/async_fd.hpp and docs/io.md):
//   - braid::AsyncFd<T> owns its T (an object with fd() or as_raw_fd()),
//     as Tokio's: dropping it drops the T; AsyncFd<int> (what
//     `braid::AsyncFd a(fd)` deduces) watches a raw fd it never closes.
//     Tokio's ArcFd (a shared owner) is a std::shared_ptr here.
//   - ReadyGuard::try_io takes a syscall returning an integer: a negative
//     result with errno EAGAIN is Tokio's Err(WouldBlock) (the readiness is
//     cleared), anything else Ok; a guard keeps the readiness unless told
//     (Tokio's retain_ready is what dropping it does).
//   - poll_fns: Tokio's poll_read_ready keeps one waker (the last polled);
//     braid_fd_poll_ready keeps one registration per wake_data, so the first
//     poller's waker is still registered and is woken too.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "support.hpp"

namespace conformance_io_async_fd {

using braid_test::CountingWaker;
using braid_test::PollByHand;

namespace {
// One end of a socket pair, closed when dropped.
struct FileDescriptor {
    int fd = -1;
    explicit FileDescriptor(int f) : fd(f) {}
    FileDescriptor(FileDescriptor&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
    FileDescriptor(const FileDescriptor&) = delete;
    ~FileDescriptor() {
        if (fd >= 0) ::close(fd);
    }
    ssize_t read(void* buf, std::size_t n) const { return ::read(fd, buf, n); }
    ssize_t write(const void* buf, std::size_t n) const { return ::write(fd, buf, n); }
    void close() {
        ::close(std::exchange(fd, -1));
    }
    int as_raw_fd() const { return fd; }
};

// Tokio's ArcFd: a shared owner, closed when its last holder goes.
struct ArcFd {
    std::shared_ptr<FileDescriptor> fd;
    int as_raw_fd() const { return fd->fd; }
};

std::pair<FileDescriptor, FileDescriptor> socketpair() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    return {FileDescriptor(fds[0]), FileDescriptor(fds[1])};
}

// Reads until the socket would block.
void drain(const FileDescriptor& fd) {
    std::array<char, 512> buf;
    for (;;) {
        ssize_t n = fd.read(buf.data(), buf.size());
        if (n < 0 && errno == EAGAIN) break;
        EXPECT_ANYWHERE(n > 0);  // neither end of file nor another error
        if (n <= 0) break;
    }
}

// Writes until the socket would block (it is then not writable).
void fill(const FileDescriptor& fd) {
    std::array<char, 512> zeros{};
    while (fd.write(zeros.data(), zeros.size()) > 0) {
    }
}

// A readiness await polled once by hand: pending means not ready now.
bool pending_now(braid::AsyncFd<>::Ready ready) {
    auto s = braid_test::as_stream(std::move(ready));
    PollByHand polled(s);
    return polled.poll_next().is_pending();
}

// A braid_fd registered with a given runtime through the C ABI (Tokio:
// AsyncFd::new inside rt.enter()), freed when dropped.
struct CFd {
    braid_fd* f = nullptr;
    CFd(braid::Runtime& rt, int fd) { REQUIRE(braid_fd_new(&f, rt.native_handle(), fd) == BRAID_OK); }
    CFd(const CFd&) = delete;
    ~CFd() { braid_fd_free(f); }
};

// futures::executor::block_on(afd.readable()) on a thread outside any
// runtime: polls, waits for the waker between polls, and takes its
// registration back at the end.  The poll's final status.
int block_on_ready(braid_fd* f, int interest) {
    struct Waker {
        std::mutex mu;
        std::condition_variable cv;
        bool woken = false;
        static void wake(void* p) {
            auto* w = static_cast<Waker*>(p);
            std::lock_guard<std::mutex> g(w->mu);
            w->woken = true;
            w->cv.notify_all();
        }
    } w;
    int rc;
    for (;;) {
        {
            std::lock_guard<std::mutex> g(w.mu);
            w.woken = false;
        }
        int bits = 0;
        rc = braid_fd_poll_ready(f, interest, &Waker::wake, &w, &bits);
        if (rc != BRAID_PENDING) break;
        std::unique_lock<std::mutex> lk(w.mu);
        w.cv.wait(lk, [&] { return w.woken; });
    }
    int bits = 0;
    braid_fd_poll_ready(f, interest, nullptr, &w, &bits);  // no waker of ours stays behind
    return rc;
}
}  // namespace

TEST_CASE("io_async_fd.initially_writable") {
    auto [a, b] = socketpair();
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([](int a, int b) -> braid::Task<> {
        braid::AsyncFd afd_a(a);
        braid::AsyncFd afd_b(b);

        (co_await afd_a.writable()).clear_ready();
        (co_await afd_b.writable()).clear_ready();

        EXPECT(pending_now(afd_a.readable()));
        EXPECT(pending_now(afd_b.readable()));
    }(a.fd, b.fd));
}

TEST_CASE("io_async_fd.reset_readable") {
    auto [a, b] = socketpair();
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([](const FileDescriptor* a, const FileDescriptor* b) -> braid::Task<> {
        braid::AsyncFd afd_a(a->fd);

        auto readable = braid_test::as_stream(afd_a.readable());
        {
            PollByHand polled(readable);
            EXPECT(polled.poll_next().is_pending());
        }

        EXPECT(b->write("0", 1) == 1);

        auto guard = co_await readable.next();
        EXPECT(guard && guard->readable());

        // try_io: the read succeeds, so the readiness stays
        char c;
        EXPECT(a->read(&c, 1) == 1);

        // `a` is not readable, but the reactor still thinks it is (no
        // EAGAIN was observed yet); the guard is dropped keeping it
        (void)co_await afd_a.readable();

        // Explicitly clear the ready state
        guard->clear_ready();

        auto readable2 = braid_test::as_stream(afd_a.readable());
        {
            PollByHand polled(readable2);
            EXPECT(polled.poll_next().is_pending());
        }

        EXPECT(b->write("0", 1) == 1);

        // We can observe the new readable event
        (co_await afd_a.readable()).clear_ready();
    }(&a, &b));
}

TEST_CASE("io_async_fd.reset_writable") {
    auto [a, b] = socketpair();
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([](const FileDescriptor* a, const FileDescriptor* b) -> braid::Task<> {
        braid::AsyncFd afd_a(a->fd);

        auto guard = co_await afd_a.writable();

        // Write until EAGAIN; that clears the ready state (try_io).
        std::array<char, 512> zeros{};
        for (;;) {
            ssize_t n = a->write(zeros.data(), zeros.size());
            if (n < 0) {
                EXPECT(errno == EAGAIN);
                guard.clear_ready();
                break;
            }
        }

        // The writable state is cleared now.
        auto writable = braid_test::as_stream(afd_a.writable());
        {
            PollByHand polled(writable);
            EXPECT(polled.poll_next().is_pending());
        }

        // Read from the other side; we become writable now.
        drain(*b);

        auto w = co_await writable.next();
        EXPECT(w && w->writable());
    }(&a, &b));
}

TEST_CASE("io_async_fd.drop_closes") {
    auto rt = braid_test::current_thread_runtime();
    char c;
    {
        auto [a, b] = socketpair();
        auto afd_a = rt.block_on([](FileDescriptor a) -> braid::Task<braid::AsyncFd<FileDescriptor>> {
            co_return braid::AsyncFd<FileDescriptor>(std::move(a));
        }(std::move(a)));
        REQUIRE(b.read(&c, 1) < 0);
        REQUIRE(errno == EAGAIN);
        { auto gone = std::move(afd_a); }  // std::mem::drop(afd_a)
        REQUIRE(b.read(&c, 1) == 0);       // the peer closed
    }
    {
        // into_inner does not close the fd.
        auto [a, b] = socketpair();
        FileDescriptor kept = rt.block_on([](FileDescriptor a) -> braid::Task<FileDescriptor> {
            braid::AsyncFd<FileDescriptor> afd_a(std::move(a));
            co_return afd_a.into_inner();
        }(std::move(a)));
        REQUIRE(b.read(&c, 1) < 0);
        REQUIRE(errno == EAGAIN);
        REQUIRE(kept.fd >= 0);
    }
    {
        // Drop closure behaviour is delegated to the inner object.
        auto [a, b] = socketpair();
        auto arc_fd = std::make_shared<FileDescriptor>(std::move(a));
        rt.block_on([](std::shared_ptr<FileDescriptor> arc) -> braid::Task<> {
            braid::AsyncFd<ArcFd> afd_a(ArcFd{std::move(arc)});
            co_return;
        }(arc_fd));
        REQUIRE(b.read(&c, 1) < 0);
        REQUIRE(errno == EAGAIN);
    }
}

TEST_CASE("io_async_fd.reregister") {
    auto [a, b] = socketpair();
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([](int a) -> braid::Task<> {
        {
            braid::AsyncFd afd_a(a);
            (void)co_await afd_a.writable();
        }
        braid::AsyncFd again(a);  // not BRAID_EBUSY: the first one is gone
        (void)co_await again.writable();
    }(a.fd));
}

TEST_CASE("io_async_fd.try_io") {
    auto [a, b] = socketpair();
    auto rt = braid_test::current_thread_runtime();
    REQUIRE(b.write("0", 1) == 1);
    rt.block_on([](const FileDescriptor* a, const FileDescriptor* b) -> braid::Task<> {
        braid::AsyncFd afd_a(a->fd);

        auto guard = co_await afd_a.readable();

        char c;
        EXPECT(a->read(&c, 1) == 1);

        // A syscall that did not say EAGAIN does not clear the readable state
        // (try_io(|_| Ok(()))): still readable.
        EXPECT(guard.try_io([](int) { return 0; }) == std::optional<int>(0));
        (void)co_await afd_a.readable();

        // EAGAIN does (try_io(|_| Err(WouldBlock))).
        EXPECT(!guard.try_io([](int) {
            errno = EAGAIN;
            return -1;
        }));

        // Not readable
        auto readable = braid_test::as_stream(afd_a.readable());
        {
            PollByHand polled(readable);
            EXPECT(polled.poll_next().is_pending());
        }

        // Write something down b again and make sure we're woken
        EXPECT(b->write("0", 1) == 1);
        auto g = co_await readable.next();
        EXPECT(g && g->readable());
    }(&a, &b));
}

namespace {
// A future that never completes (futures::future::pending()).
struct Never : braid::detail::LeafAwaiter<Never> {
    bool ready_now() const noexcept { return false; }
    int poll(braid_wake_fn, void*) const noexcept { return BRAID_PENDING; }
    void finish(int) const noexcept {}
    void unregister() noexcept {}
};

// Arrives at the barrier, then never completes: the other arm of a
// select_biased whose first arm registered before we got here.
braid::Task<> notify_barrier(std::shared_ptr<braid::Barrier> barrier) {
    co_await barrier->wait();
    co_await Never{};
}
}  // namespace

TEST_CASE("io_async_fd.multiple_waiters") {
    auto [a, b] = socketpair();
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([](int a, const FileDescriptor* b) -> braid::Task<> {
        auto afd_a = std::make_shared<braid::AsyncFd<>>(a);
        auto barrier = std::make_shared<braid::Barrier>(11);

        std::vector<braid::JoinHandle<void>> tasks;
        for (int i = 0; i < 10; ++i) {
            tasks.push_back(braid::spawn(
                [](std::shared_ptr<braid::AsyncFd<>> afd_a, std::shared_ptr<braid::Barrier> barrier) -> braid::Task<> {
                    auto r = co_await braid::select_biased(afd_a->readable(), notify_barrier(barrier));
                    EXPECT(r.index() == 0);
                    co_await braid::yield_now();
                    std::get<0>(r).clear_ready();
                },
                afd_a, barrier));
        }

        co_await barrier->wait();
        for (auto& t : tasks) EXPECT(!t.is_finished());  // none exited early

        EXPECT(b->write("0", 1) == 1);

        for (auto& t : tasks) co_await t;
    }(a.fd, &b));
}

TEST_CASE("io_async_fd.poll_fns") {
    auto [a, b] = socketpair();
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([](const FileDescriptor* a, const FileDescriptor* b) -> braid::Task<> {
        auto afd_a = std::make_shared<braid::AsyncFd<>>(a->fd);
        auto afd_b = std::make_shared<braid::AsyncFd<>>(b->fd);

        // Fill up the write side of A
        fill(*a);

        CountingWaker waker;
        int bits = 0;
        EXPECT(braid_fd_poll_ready(afd_a->native_handle(), BRAID_READABLE, &CountingWaker::wake, &waker, &bits) ==
               BRAID_PENDING);

        auto r_barrier = std::make_shared<braid::Barrier>(2);
        auto read_fut = braid::spawn(
            [](std::shared_ptr<braid::AsyncFd<>> afd, std::shared_ptr<braid::Barrier> barrier) -> braid::Task<> {
                // Register this task's waker first
                auto ready = braid_test::as_stream(afd->readable());
                {
                    PollByHand polled(ready);
                    EXPECT(polled.poll_next().is_pending());
                }
                co_await barrier->wait();
                (void)co_await ready.next();
            },
            afd_a, r_barrier);

        auto w_barrier = std::make_shared<braid::Barrier>(2);
        auto write_fut = braid::spawn(
            [](std::shared_ptr<braid::AsyncFd<>> afd, std::shared_ptr<braid::Barrier> barrier) -> braid::Task<> {
                auto ready = braid_test::as_stream(afd->writable());
                {
                    PollByHand polled(ready);
                    EXPECT(polled.poll_next().is_pending());
                }
                co_await barrier->wait();
                (void)co_await ready.next();
            },
            afd_a, w_barrier);

        co_await r_barrier->wait();
        co_await w_barrier->wait();

        auto readable = braid_test::as_stream(afd_a->readable());
        {
            PollByHand polled(readable);
            EXPECT(polled.poll_next().is_pending());
        }

        // Make A readable: 'readable' and 'read_fut' both complete
        EXPECT(b->write("0", 1) == 1);

        (void)co_await readable.next();
        co_await read_fut;

        // braid keeps a registration per waker (Tokio's poll_read_ready only
        // the last one), so the first waker was woken as well.
        EXPECT(waker.woken());
        EXPECT(braid_fd_poll_ready(afd_a->native_handle(), BRAID_READABLE, nullptr, &waker, &bits) == BRAID_PENDING);  // withdraws
        EXPECT(bits == 0);

        // The writable side is not woken (and is not writable)
        co_await braid::yield_now();
        EXPECT(!write_fut.is_finished());

        // Make it writable now
        drain(*b);

        // now we are writable (the write waiter stayed registered when the
        // read side was woken)
        co_await write_fut;
    }(&a, &b));
}

TEST_CASE("io_async_fd.driver_shutdown_wakes_currently_pending") {
    std::optional<braid::Runtime> rt(braid_test::current_thread_runtime());
    auto [a, b] = socketpair();
    CFd afd_a(*rt, a.fd);

    CountingWaker readable;
    int bits = 0;
    REQUIRE(braid_fd_poll_ready(afd_a.f, BRAID_READABLE, &CountingWaker::wake, &readable, &bits) == BRAID_PENDING);

    rt.reset();

    // The future was made **before** dropping the runtime: woken, then an error
    REQUIRE(readable.woken());
    REQUIRE(braid_fd_poll_ready(afd_a.f, BRAID_READABLE, &CountingWaker::wake, &readable, &bits) == BRAID_ECANCELED);

    // One made **after** dropping the runtime: an error at once
    REQUIRE(block_on_ready(afd_a.f, BRAID_READABLE) == BRAID_ECANCELED);
}

TEST_CASE("io_async_fd.driver_shutdown_wakes_future_pending") {
    std::optional<braid::Runtime> rt(braid_test::current_thread_runtime());
    auto [a, b] = socketpair();
    CFd afd_a(*rt, a.fd);

    rt.reset();

    REQUIRE(block_on_ready(afd_a.f, BRAID_READABLE) == BRAID_ECANCELED);
}

TEST_CASE("io_async_fd.driver_shutdown_wakes_pending_race") {
    for (int i = 0; i < 100 / braid_test::kStressDivisor; ++i) {
        std::optional<braid::Runtime> rt(braid_test::current_thread_runtime());
        auto [a, b] = socketpair();
        CFd afd_a(*rt, a.fd);

        std::thread dropper([&rt] { rt.reset(); });

        // This may or may not be an error (but it is woken)
        int first = block_on_ready(afd_a.f, BRAID_READABLE);
        CHECK((first == BRAID_ECANCELED || first == BRAID_OK));

        dropper.join();
        // However retrying is always an error
        REQUIRE(block_on_ready(afd_a.f, BRAID_READABLE) == BRAID_ECANCELED);
    }
}

TEST_CASE("io_async_fd.driver_shutdown_wakes_currently_pending_polls") {
    std::optional<braid::Runtime> rt(braid_test::current_thread_runtime());
    auto [a, b] = socketpair();
    CFd afd_a(*rt, a.fd);

    fill(a);  // make it not writable

    CountingWaker readable, writable;
    int bits = 0;
    REQUIRE(braid_fd_poll_ready(afd_a.f, BRAID_READABLE, &CountingWaker::wake, &readable, &bits) == BRAID_PENDING);
    REQUIRE(braid_fd_poll_ready(afd_a.f, BRAID_WRITABLE, &CountingWaker::wake, &writable, &bits) == BRAID_PENDING);

    rt.reset();

    // Polling readiness once the runtime is dropped is an error
    REQUIRE(readable.woken());
    REQUIRE(writable.woken());
    REQUIRE(braid_fd_poll_ready(afd_a.f, BRAID_READABLE, &CountingWaker::wake, &readable, &bits) == BRAID_ECANCELED);
    REQUIRE(braid_fd_poll_ready(afd_a.f, BRAID_WRITABLE, &CountingWaker::wake, &writable, &bits) == BRAID_ECANCELED);
}

TEST_CASE("io_async_fd.driver_shutdown_wakes_poll") {
    std::optional<braid::Runtime> rt(braid_test::current_thread_runtime());
    auto [a, b] = socketpair();
    CFd afd_a(*rt, a.fd);

    rt.reset();

    REQUIRE(block_on_ready(afd_a.f, BRAID_READABLE) == BRAID_ECANCELED);
    REQUIRE(block_on_ready(afd_a.f, BRAID_WRITABLE) == BRAID_ECANCELED);
}

TEST_CASE("io_async_fd.driver_shutdown_wakes_poll_race") {
    for (int i = 0; i < 100 / braid_test::kStressDivisor; ++i) {
        std::optional<braid::Runtime> rt(braid_test::current_thread_runtime());
        auto [a, b] = socketpair();
        CFd afd_a(*rt, a.fd);

        fill(a);  // make it not writable

        std::thread dropper([&rt] { rt.reset(); });

        // The poll variants always end in an error here
        REQUIRE(block_on_ready(afd_a.f, BRAID_READABLE) == BRAID_ECANCELED);
        REQUIRE(block_on_ready(afd_a.f, BRAID_WRITABLE) == BRAID_ECANCELED);

        dropper.join();
    }
}

}  // namespace conformance_io_async_fd
