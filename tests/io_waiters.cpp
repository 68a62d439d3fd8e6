// Several tasks waiting on one I/O resource at once: every waiter registered
// for a direction is woken by its readiness, each retries its syscall and the
// losers wait again (Tokio's semantics).  Accepts on one listener, readiness
// of one AsyncFd, receives on one UDP socket, reads of one TCP stream; a
// cancelled or aborted waiter takes nothing from the others and is never
// woken after it is gone; the C ABI keys registrations by wake_data.
//
// Waiters are proven registered before the event (no sleeps): each task polls
// its operation first in a select_biased and then arrives at a barrier, as
// Tokio's io_async_fd.rs multiple_waiters does.  A hang is turned into a
// failure by a generous timeout.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <braid/tcp.h>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "io_support.hpp"
#include "support.hpp"

namespace test_io_waiters {

using namespace std::chrono_literals;
using braid::net::TcpListener;
using braid::net::TcpStream;

namespace {

constexpr auto kHang = 20s;  // far longer than any of these takes: only a lost wake-up reaches it

// Arrives at the barrier, then never completes (the other arm of a
// select_biased whose first arm registered before we got here).
braid::Task<> arrive_then_wait(braid::Barrier& b) {
    co_await b.wait();
    co_await braid::sleep(24h);
}

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

}  // namespace

TEST_CASE("io_waiters.waiters: two tasks accepting on one TCP listener both get a connection") {
    auto rt = braid_test::runtime(2);
    int accepted = rt.block_on([]() -> braid::Task<int> {
        auto l = std::make_shared<TcpListener>(TcpListener::bind("127.0.0.1:0"));
        auto bar = std::make_shared<braid::Barrier>(3);
        std::vector<braid::JoinHandle<int>> hs;
        for (int i = 0; i < 2; ++i) {
            hs.push_back(braid::spawn([](std::shared_ptr<TcpListener> l, std::shared_ptr<braid::Barrier> b) -> braid::Task<int> {
                auto r = co_await braid::select_biased(l->accept(), arrive_then_wait(*b));
                EXPECT(r.index() == 0);
                co_return std::get<0>(r).first.valid() ? 1 : 0;
            }(l, bar)));
        }
        co_await bar->wait();  // both accepts are registered
        auto c1 = co_await TcpStream::connect(l->local_addr());
        auto c2 = co_await TcpStream::connect(l->local_addr());
        int n = 0;
        for (auto& h : hs) {
            auto r = co_await braid::timeout(kHang, std::move(h));
            EXPECT(r.has_value());  // a lost wake-up leaves an accepter waiting with a connection queued
            n += *r;
        }
        co_return n;
    }());
    REQUIRE(accepted == 2);
}

TEST_CASE("io_waiters.waiters: two tasks accepting on one Unix listener both get a connection") {
    braid_test::TempDir dir;
    auto rt = braid_test::runtime(2);
    int accepted = rt.block_on([](std::string path) -> braid::Task<int> {
        auto l = std::make_shared<braid::net::UnixListener>(braid::net::UnixListener::bind(path));
        auto bar = std::make_shared<braid::Barrier>(3);
        std::vector<braid::JoinHandle<int>> hs;
        for (int i = 0; i < 2; ++i) {
            hs.push_back(braid::spawn([](std::shared_ptr<braid::net::UnixListener> l, std::shared_ptr<braid::Barrier> b) -> braid::Task<int> {
                auto r = co_await braid::select_biased(l->accept(), arrive_then_wait(*b));
                EXPECT(r.index() == 0);
                co_return 1;
            }(l, bar)));
        }
        co_await bar->wait();
        auto c1 = co_await braid::net::UnixStream::connect(path);
        auto c2 = co_await braid::net::UnixStream::connect(path);
        int n = 0;
        for (auto& h : hs) {
            auto r = co_await braid::timeout(kHang, std::move(h));
            EXPECT(r.has_value());
            n += *r;
        }
        co_return n;
    }(dir / "sock"));
    REQUIRE(accepted == 2);
}

TEST_CASE("io_waiters.waiters: ten tasks awaiting readable on one AsyncFd are all woken by one byte") {
    // Tokio's io_async_fd.rs multiple_waiters: each woken task yields before
    // clearing the readiness, so one task's clear must not undo the wake-up
    // of the others.
    Pipe p;
    auto rt = braid_test::runtime(2);
    int woken = rt.block_on([](int r, int w) -> braid::Task<int> {
        auto fd = std::make_shared<braid::AsyncFd<>>(r);
        constexpr int kTasks = 10;
        auto bar = std::make_shared<braid::Barrier>(kTasks + 1);
        std::vector<braid::JoinHandle<int>> hs;
        for (int i = 0; i < kTasks; ++i) {
            hs.push_back(braid::spawn([](std::shared_ptr<braid::AsyncFd<>> fd, std::shared_ptr<braid::Barrier> b) -> braid::Task<int> {
                auto r = co_await braid::select_biased(fd->readable(), arrive_then_wait(*b));
                EXPECT(r.index() == 0);
                auto guard = std::get<0>(r);
                EXPECT(guard.readable());
                co_await braid::yield_now();
                guard.clear_ready();
                co_return 1;
            }(fd, bar)));
        }
        co_await bar->wait();
        EXPECT(::write(w, "0", 1) == 1);
        int n = 0;
        for (auto& h : hs) {
            auto res = co_await braid::timeout(kHang, std::move(h));
            EXPECT(res.has_value());
            n += *res;
        }
        co_return n;
    }(p.r, p.w));
    REQUIRE(woken == 10);
}

TEST_CASE("io_waiters.waiters: two receivers of one UDP socket each get a datagram") {
    auto rt = braid_test::runtime(2);
    std::string got = rt.block_on([]() -> braid::Task<std::string> {
        auto sock = std::make_shared<braid::net::UdpSocket>(braid::net::UdpSocket::bind("127.0.0.1:0"));
        auto bar = std::make_shared<braid::Barrier>(3);
        std::vector<braid::JoinHandle<std::string>> hs;
        for (int i = 0; i < 2; ++i) {
            hs.push_back(braid::spawn([](std::shared_ptr<braid::net::UdpSocket> s, std::shared_ptr<braid::Barrier> b) -> braid::Task<std::string> {
                char buf[16];
                auto r = co_await braid::select_biased(s->recv_from(buf), arrive_then_wait(*b));
                EXPECT(r.index() == 0);
                co_return std::string(buf, std::get<0>(r).first);
            }(sock, bar)));
        }
        co_await bar->wait();
        auto sender = braid::net::UdpSocket::bind("127.0.0.1:0");
        co_await sender.send_to("a", sock->local_addr());
        co_await sender.send_to("b", sock->local_addr());
        std::string all;
        for (auto& h : hs) {
            auto r = co_await braid::timeout(kHang, std::move(h));
            EXPECT(r.has_value());
            all += *r;
        }
        co_return all;
    }());
    REQUIRE((got == "ab" || got == "ba"));
}

TEST_CASE("io_waiters.waiters: readers of one TCP stream take turns and every byte is read once") {
    auto rt = braid_test::runtime(2);
    std::string got = rt.block_on([]() -> braid::Task<std::string> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto client = co_await TcpStream::connect(l.local_addr());
        auto [conn, peer] = co_await l.accept();
        auto s = std::make_shared<TcpStream>(std::move(conn));
        auto bar = std::make_shared<braid::Barrier>(3);
        std::vector<braid::JoinHandle<std::string>> hs;
        for (int i = 0; i < 2; ++i) {
            hs.push_back(braid::spawn([](std::shared_ptr<TcpStream> s, std::shared_ptr<braid::Barrier> b) -> braid::Task<std::string> {
                char c;
                auto r = co_await braid::select_biased(s->read(braid::io::MutableBuffer(&c, 1)), arrive_then_wait(*b));
                EXPECT(r.index() == 0);
                EXPECT(std::get<0>(r) == 1);
                co_return std::string(1, c);
            }(s, bar)));
        }
        co_await bar->wait();
        co_await client.write_all("x");
        co_await client.write_all("y");
        std::string all;
        for (auto& h : hs) {
            auto r = co_await braid::timeout(kHang, std::move(h));
            EXPECT(r.has_value());
            all += *r;
        }
        co_return all;
    }());
    REQUIRE((got == "xy" || got == "yx"));
}

TEST_CASE("io_waiters.waiters: a cancelled accept (select loser) takes nothing from the accept still waiting") {
    auto rt = braid_test::runtime(2);
    int accepted = rt.block_on([]() -> braid::Task<int> {
        auto l = std::make_shared<TcpListener>(TcpListener::bind("127.0.0.1:0"));
        auto bar = std::make_shared<braid::Barrier>(2);
        // The waiter that stays registers first.
        auto stays = braid::spawn([](std::shared_ptr<TcpListener> l, std::shared_ptr<braid::Barrier> b) -> braid::Task<int> {
            auto r = co_await braid::select_biased(l->accept(), arrive_then_wait(*b));
            EXPECT(r.index() == 0);
            co_return 1;
        }(l, bar));
        co_await bar->wait();
        // This one registers after it, then loses its select to the barrier:
        // its accept is destroyed while pending.
        auto bar2 = std::make_shared<braid::Barrier>(2);
        auto loser = braid::spawn([](std::shared_ptr<TcpListener> l, std::shared_ptr<braid::Barrier> b) -> braid::Task<int> {
            auto r = co_await braid::select_biased(l->accept(), b->wait());
            co_return int(r.index());
        }(l, bar2));
        co_await bar2->wait();
        int lost = co_await loser;
        EXPECT(lost == 1);
        // An aborted task waiting in accept, too.
        auto bar3 = std::make_shared<braid::Barrier>(2);
        auto aborted = braid::spawn([](std::shared_ptr<TcpListener> l, std::shared_ptr<braid::Barrier> b) -> braid::Task<int> {
            auto r = co_await braid::select_biased(l->accept(), arrive_then_wait(*b));
            co_return int(r.index()) + 10;
        }(l, bar3));
        co_await bar3->wait();
        aborted.abort();
        int abort_code = co_await braid_test::code_of(std::move(aborted));
        EXPECT(abort_code != 0);
        // The connection goes to the waiter that stayed; the cancelled ones
        // are gone and must not be woken (ASan: no use after free).
        auto c = co_await TcpStream::connect(l->local_addr());
        auto r = co_await braid::timeout(kHang, std::move(stays));
        EXPECT(r.has_value());
        co_return *r;
    }());
    REQUIRE(accepted == 1);
}

TEST_CASE("io_waiters.waiters: a cancelled AsyncFd wait takes nothing from the one still waiting") {
    Pipe p;
    auto rt = braid_test::runtime(2);
    bool woken = rt.block_on([](int r, int w) -> braid::Task<bool> {
        auto fd = std::make_shared<braid::AsyncFd<>>(r);
        auto bar = std::make_shared<braid::Barrier>(2);
        auto stays = braid::spawn([](std::shared_ptr<braid::AsyncFd<>> fd, std::shared_ptr<braid::Barrier> b) -> braid::Task<bool> {
            auto r = co_await braid::select_biased(fd->readable(), arrive_then_wait(*b));
            co_return r.index() == 0 && std::get<0>(r).readable();
        }(fd, bar));
        co_await bar->wait();
        for (int i = 0; i < 3; ++i) {  // losers registered after it, one after the other
            auto bar2 = std::make_shared<braid::Barrier>(2);
            auto loser = braid::spawn([](std::shared_ptr<braid::AsyncFd<>> fd, std::shared_ptr<braid::Barrier> b) -> braid::Task<int> {
                auto r = co_await braid::select_biased(fd->readable(), b->wait());
                co_return int(r.index());
            }(fd, bar2));
            co_await bar2->wait();
            int lost = co_await loser;
            EXPECT(lost == 1);
        }
        EXPECT(::write(w, "0", 1) == 1);
        auto res = co_await braid::timeout(kHang, std::move(stays));
        EXPECT(res.has_value());
        co_return *res;
    }(p.r, p.w));
    REQUIRE(woken);
}

namespace {
// A waker for the C tests: counts calls, and lets the test thread wait.
struct CountingWaker {
    std::mutex mu;
    std::condition_variable cv;
    int calls = 0;
    static void wake(void* p) {
        auto* w = static_cast<CountingWaker*>(p);
        std::lock_guard<std::mutex> g(w->mu);
        ++w->calls;
        w->cv.notify_all();
    }
    bool wait_called(std::chrono::seconds limit = kHang) {
        std::unique_lock<std::mutex> g(mu);
        return cv.wait_for(g, limit, [&] { return calls > 0; });
    }
    int count() {
        std::lock_guard<std::mutex> g(mu);
        return calls;
    }
};

// A blocking client socket connected to `addr` (the kernel completes the
// handshake from the listener's backlog: no accept needed).
int blocking_connect(const sockaddr_storage& addr, size_t len) {
    int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), socklen_t(len)) == 0);
    return fd;
}
}  // namespace

TEST_CASE("io_waiters.waiters from C: pollers with different wake_data are all woken and a NULL waker removes only its own") {
    auto rt = braid_test::runtime(1);
    sockaddr_storage any{};
    size_t any_len = 0;
    REQUIRE(braid_addr_parse(&any, &any_len, "127.0.0.1:0") == BRAID_OK);
    braid_tcp_listener* l = nullptr;
    REQUIRE(braid_tcp_listener_bind(&l, rt.native_handle(), reinterpret_cast<sockaddr*>(&any), any_len, 16) == BRAID_OK);
    sockaddr_storage addr{};
    size_t addr_len = 0;
    REQUIRE(braid_tcp_listener_local_addr(l, &addr, &addr_len) == BRAID_OK);

    CountingWaker a, b, gone;
    braid_tcp_stream* s = nullptr;
    REQUIRE(braid_tcp_listener_poll_accept(l, &s, nullptr, nullptr, &CountingWaker::wake, &a) == BRAID_PENDING);
    REQUIRE(braid_tcp_listener_poll_accept(l, &s, nullptr, nullptr, &CountingWaker::wake, &b) == BRAID_PENDING);
    REQUIRE(braid_tcp_listener_poll_accept(l, &s, nullptr, nullptr, &CountingWaker::wake, &gone) == BRAID_PENDING);
    // Polling again with the same wake_data replaces that registration (no
    // second one): `a` is called once below, not twice.
    REQUIRE(braid_tcp_listener_poll_accept(l, &s, nullptr, nullptr, &CountingWaker::wake, &a) == BRAID_PENDING);
    // `gone` cancels: a NULL waker with its wake_data.
    REQUIRE(braid_tcp_listener_poll_accept(l, nullptr, nullptr, nullptr, nullptr, &gone) == BRAID_PENDING);

    int c1 = blocking_connect(addr, addr_len);
    REQUIRE(a.wait_called());
    REQUIRE(b.wait_called());
    // Both retry: one gets the connection, the other waits again.
    braid_tcp_stream* sa = nullptr;
    braid_tcp_stream* sb = nullptr;
    int ra = braid_tcp_listener_poll_accept(l, &sa, nullptr, nullptr, &CountingWaker::wake, &a);
    int rb = braid_tcp_listener_poll_accept(l, &sb, nullptr, nullptr, &CountingWaker::wake, &b);
    REQUIRE(((ra == BRAID_OK && rb == BRAID_PENDING) || (ra == BRAID_PENDING && rb == BRAID_OK)));
    CountingWaker& loser = ra == BRAID_PENDING ? a : b;
    int c2 = blocking_connect(addr, addr_len);
    {
        std::unique_lock<std::mutex> g(loser.mu);
        REQUIRE(loser.cv.wait_for(g, kHang, [&] { return loser.calls == 2; }));
    }
    braid_tcp_stream*& second = ra == BRAID_PENDING ? sa : sb;
    REQUIRE(braid_tcp_listener_poll_accept(l, &second, nullptr, nullptr, &CountingWaker::wake, &loser) == BRAID_OK);
    REQUIRE(sa != nullptr);
    REQUIRE(sb != nullptr);
    REQUIRE(gone.count() == 0);
    REQUIRE(a.count() == 1 + (ra == BRAID_PENDING ? 1 : 0));

    // NULL waker and NULL wake_data: every registration of the direction goes.
    CountingWaker x, y;
    braid_tcp_stream* none = nullptr;
    REQUIRE(braid_tcp_listener_poll_accept(l, &none, nullptr, nullptr, &CountingWaker::wake, &x) == BRAID_PENDING);
    REQUIRE(braid_tcp_listener_poll_accept(l, &none, nullptr, nullptr, &CountingWaker::wake, &y) == BRAID_PENDING);
    REQUIRE(braid_tcp_listener_poll_accept(l, nullptr, nullptr, nullptr, nullptr, nullptr) == BRAID_PENDING);
    int c3 = blocking_connect(addr, addr_len);
    // Nobody is registered: the connection waits in the backlog for the next poll.
    braid_tcp_stream* third = nullptr;
    for (int i = 0; i < 1000 && !third; ++i) {
        int rc = braid_tcp_listener_poll_accept(l, &third, nullptr, nullptr, &CountingWaker::wake, &x);
        if (rc == BRAID_PENDING) REQUIRE(x.wait_called());
        else REQUIRE(rc == BRAID_OK);
    }
    REQUIRE(third != nullptr);
    REQUIRE(y.count() == 0);

    braid_tcp_stream_free(sa);
    braid_tcp_stream_free(sb);
    braid_tcp_stream_free(third);
    braid_tcp_listener_free(l);
    ::close(c1);
    ::close(c2);
    ::close(c3);
}

TEST_CASE("io_waiters.waiters: many accepters on one listener accept every connection exactly once (stress)") {
    braid_test::raise_fd_limit(4096);
    auto rt = braid_test::runtime(4);
    constexpr int kAccepters = 16;
    const int per = std::max(1, 16 / braid_test::kStressDivisor);
    auto [accepted, served] = rt.block_on([](int per) -> braid::Task<std::pair<int, int>> {
        auto l = std::make_shared<TcpListener>(TcpListener::bind("127.0.0.1:0"));
        auto count = std::make_shared<std::atomic<int>>(0);
        std::vector<braid::JoinHandle<int>> hs;
        for (int i = 0; i < kAccepters; ++i) {
            hs.push_back(braid::spawn([](std::shared_ptr<TcpListener> l, int per, std::shared_ptr<std::atomic<int>> count) -> braid::Task<int> {
                int mine = 0;
                for (int k = 0; k < per; ++k) {
                    auto [s, peer] = co_await l->accept();
                    char c = 0;
                    co_await s.read_exact(braid::io::MutableBuffer(&c, 1));
                    co_await s.write_all(braid::io::ConstBuffer(&c, 1));
                    ++mine;
                    count->fetch_add(1);
                }
                co_return mine;
            }(l, per, count)));
        }
        std::vector<braid::JoinHandle<int>> clients;
        for (int i = 0; i < kAccepters * per; ++i) {
            clients.push_back(braid::spawn([](braid::net::SocketAddr a, int i) -> braid::Task<int> {
                auto c = co_await TcpStream::connect(a);
                char x = char('a' + i % 26), back = 0;
                co_await c.write_all(braid::io::ConstBuffer(&x, 1));
                co_await c.read_exact(braid::io::MutableBuffer(&back, 1));
                co_return back == x ? 1 : 0;
            }(l->local_addr(), i)));
        }
        int served = 0;
        for (auto& c : clients) {
            auto r = co_await braid::timeout(kHang, std::move(c));
            EXPECT(r.has_value());
            served += *r;
        }
        int accepted = 0;
        for (auto& h : hs) {
            auto r = co_await braid::timeout(kHang, std::move(h));
            EXPECT(r.has_value());
            accepted += *r;
        }
        EXPECT(count->load() == accepted);
        co_return std::make_pair(accepted, served);
    }(per));
    REQUIRE(accepted == kAccepters * per);
    REQUIRE(served == kAccepters * per);
}

TEST_CASE("io_waiters.waiters: close racing with tasks about to wait wakes every one of them (stress)") {
    // close() marks the source closed and then wakes the waiters; a reader
    // that checked the flag just before and registered just after must
    // still be woken (its poll re-checks the flag under the source's lock).
    auto rt = braid_test::runtime(4);
    const int rounds = std::max(20, 400 / braid_test::kStressDivisor);
    int closed = rt.block_on([](int rounds) -> braid::Task<int> {
        auto l = TcpListener::bind("127.0.0.1:0");
        int n = 0;
        for (int i = 0; i < rounds; ++i) {
            auto client = co_await TcpStream::connect(l.local_addr());
            auto [conn, peer] = co_await l.accept();
            auto s = std::make_shared<TcpStream>(std::move(conn));
            std::vector<braid::JoinHandle<int>> readers;
            for (int k = 0; k < 3; ++k) {
                readers.push_back(braid::spawn([](std::shared_ptr<TcpStream> s) -> braid::Task<int> {
                    char c;
                    co_return co_await braid_test::code_of(s->read(braid::io::MutableBuffer(&c, 1)));
                }(s)));
            }
            auto closer = braid::spawn([](std::shared_ptr<TcpStream> s) -> braid::Task<> {
                s->close();
                co_return;
            }(s));
            co_await closer;
            for (auto& r : readers) {
                auto code = co_await braid::timeout(kHang, std::move(r));
                EXPECT(code.has_value());  // a reader left waiting on a closed stream
                EXPECT(*code == BRAID_ECLOSED);
                ++n;
            }
        }
        co_return n;
    }(rounds));
    REQUIRE(closed == rounds * 3);
}

}  // namespace test_io_waiters
