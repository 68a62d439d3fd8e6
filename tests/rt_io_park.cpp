// Idle workers sleep in the I/O driver (epoll_wait), one at a time: an event
// that comes while every worker is idle wakes its task, a timer pending on an
// idle runtime fires, paused time still jumps, and shutdown ends the wait.
// A current-thread runtime outside block_on has no worker to take events:
// the reactor does, for a waker from outside.  Both flavours where both
// apply.  The tasks one batch of events wakes run in the order woken,
// whoever takes the batch.  A lost wake-up hangs the case, which ctest's
// timeout fails.
#include <catch2/catch.hpp>
#include <braid/tcp.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "io_support.hpp"
#include "support.hpp"

namespace test_rt_io_park {

using namespace std::chrono_literals;
using braid::net::SocketAddr;
using braid::net::TcpListener;
using braid::net::TcpStream;
using braid_test::PlainSocket;

namespace {

braid::Runtime make(bool current_thread, bool paused = false) {
    if (current_thread) return braid_test::current_thread_runtime(paused);
    return paused ? braid_test::paused_runtime(2) : braid_test::runtime(2);
}

// Accepts on a new listener until the runtime goes (nobody connects): an
// I/O waiter, so the runtime has a driver to sleep in.
braid::Task<> accept_forever(std::promise<void>* started = nullptr) {
    auto l = TcpListener::bind("127.0.0.1:0");
    if (started) started->set_value();
    auto [s, peer] = co_await l.accept();
    (void)s;
}

// A waker for a plain thread: set once called.
struct Signal {
    std::mutex mu;
    std::condition_variable cv;
    bool woken = false;
    static void wake(void* p) {
        auto* s = static_cast<Signal*>(p);
        std::lock_guard<std::mutex> g(s->mu);
        s->woken = true;
        s->cv.notify_all();
    }
    void wait() {
        std::unique_lock<std::mutex> lk(mu);
        cv.wait(lk, [&] { return woken; });
    }
};

// Sends one datagram to `to` from a plain socket (std::net::UdpSocket).
void plain_send_to(const SocketAddr& to, char c) {
    PlainSocket s(::socket(to.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
    EXPECT(::sendto(s.get(), &c, 1, 0, to.as_sockaddr(), socklen_t(to.size())) == 1);
}

// Receives the datagram its socket gets, then records `i`; the last of `n`
// to do so sends to `done`.
braid::Task<> record_when_received(braid::net::UdpSocket* sock, int i, std::vector<int>* order,
                                   std::atomic<int>* waiting, int n, SocketAddr done) {
    char c = 0;
    waiting->fetch_add(1);
    std::size_t got = co_await sock->recv(braid::io::MutableBuffer(&c, 1));
    EXPECT(got == 1);
    EXPECT(c == 'x');
    order->push_back(i);
    if (int(order->size()) == n) plain_send_to(done, 'd');
}

// On a runtime of one worker: `n` tasks wait to receive on `n` sockets; then
// this task sends a datagram to each in turn and waits to receive itself,
// which takes the ready events on its worker (IoSource::harvest).  The
// order the `n` tasks ran in.
braid::Task<std::vector<int>> woken_by_a_waiting_task(int n) {
    std::vector<std::unique_ptr<braid::net::UdpSocket>> socks;
    for (int i = 0; i < n; ++i)
        socks.push_back(std::make_unique<braid::net::UdpSocket>(braid::net::UdpSocket::bind("127.0.0.1:0")));
    auto done = braid::net::UdpSocket::bind("127.0.0.1:0");
    std::vector<int> order;
    std::atomic<int> waiting{0};
    std::vector<braid::JoinHandle<void>> hs;
    for (int i = 0; i < n; ++i)
        hs.push_back(braid::spawn(record_when_received(socks[std::size_t(i)].get(), i, &order, &waiting, n,
                                                       done.local_addr())));
    // One worker: once every task has begun, each waits (its first poll
    // found nothing to receive).
    while (waiting.load() < n) co_await braid::yield_now();
    for (auto& s : socks) plain_send_to(s->local_addr(), 'x');
    char c = 0;
    std::size_t got = co_await done.recv(braid::io::MutableBuffer(&c, 1));
    EXPECT(got == 1);
    for (auto& h : hs) co_await h;
    co_return order;
}

}  // namespace

TEST_CASE("rt_io_park.a task waiting on a socket is woken by bytes a plain thread writes while the workers are idle") {
    for (bool ct : {false, true}) {
        INFO("current_thread " << ct);
        auto rt = make(ct);
        constexpr int kRounds = 200;
        std::promise<SocketAddr> addr;
        // The plain thread answers each byte the task sends: by then the
        // task is (about to be) waiting to read, with nothing else to run.
        std::thread peer([&] {
            PlainSocket s = PlainSocket::connect(addr.get_future().get());
            char c;
            for (int i = 0; i < kRounds; ++i) {
                if (!s.read_exact(&c, 1)) return;
                ++c;
                if (!s.write_all(&c, 1)) return;
            }
        });
        int answered = rt.block_on([&]() -> braid::Task<int> {
            auto l = TcpListener::bind("127.0.0.1:0");
            addr.set_value(l.local_addr());
            auto [s, from] = co_await l.accept();
            int n = 0;
            for (char c = 0; n < kRounds; ++n) {
                co_await s.write_all(braid::io::ConstBuffer(&c, 1));
                co_await s.read_exact(braid::io::MutableBuffer(&c, 1));
                EXPECT(c == char(n + 1));
            }
            co_return n;
        }());
        peer.join();
        REQUIRE(answered == kRounds);
    }
}

TEST_CASE("rt_io_park.a timer pending on a runtime whose idle worker sleeps in the driver fires") {
    for (bool ct : {false, true}) {
        INFO("current_thread " << ct);
        auto rt = make(ct);
        auto waited = rt.block_on([]() -> braid::Task<std::chrono::nanoseconds> {
            braid::spawn(accept_forever()).detach();
            auto t0 = braid::Instant::now();
            co_await braid::sleep(30ms);
            co_return braid::Instant::now() - t0;
        }());
        REQUIRE(waited >= 30ms);
    }
}

TEST_CASE("rt_io_park.with paused time, a runtime whose idle worker sleeps in the driver jumps to the next timer") {
    for (bool ct : {false, true}) {
        INFO("current_thread " << ct);
        auto rt = make(ct, true);
        auto waited = rt.block_on([]() -> braid::Task<std::chrono::nanoseconds> {
            braid::spawn(accept_forever()).detach();
            auto t0 = braid::Instant::now();
            co_await braid::sleep(1h);
            co_await braid::sleep(1h);
            co_return braid::Instant::now() - t0;
        }());
        REQUIRE(waited >= 2h);
    }
}

TEST_CASE("rt_io_park.with paused time, a timer made from a plain thread while the worker sleeps in the driver fires") {
    auto rt = make(false, true);
    std::promise<void> started;
    rt.spawn(accept_forever(&started)).detach();
    started.get_future().get();
    // The spawn reaches the runtime from outside while its workers are idle.
    auto h = rt.spawn([]() -> braid::Task<int> {
        co_await braid::sleep(1h);
        co_return 7;
    }());
    REQUIRE(rt.block_on([](braid::JoinHandle<int> h) -> braid::Task<int> { co_return co_await std::move(h); }(
                std::move(h))) == 7);
}

TEST_CASE("rt_io_park.shutdown while a worker sleeps in the driver returns") {
    SECTION("multi-thread") {
        auto rt = make(false);
        std::promise<void> started;
        rt.spawn(accept_forever(&started)).detach();
        started.get_future().get();
        REQUIRE(rt.shutdown_timeout(std::chrono::minutes(1)));
    }
    SECTION("current-thread, from another thread while block_on waits") {
        auto rt = make(true);
        std::promise<void> started;
        std::thread t([&] {
            try {
                rt.block_on(accept_forever(&started));
            } catch (const braid::Error&) {
                // the shutdown ended the block_on
            }
        });
        started.get_future().get();
        REQUIRE(rt.shutdown_timeout(std::chrono::minutes(1)));
        t.join();
    }
}

TEST_CASE("rt_io_park.a current-thread runtime outside block_on: an event reaches a waker from outside") {
    auto rt = make(true);
    PlainSocket listener = PlainSocket::listen(SocketAddr::parse("127.0.0.1:0"));
    PlainSocket client = PlainSocket::connect(listener.local_addr());
    PlainSocket server = listener.accept();
    braid_tcp_stream* s = nullptr;
    REQUIRE(braid_tcp_stream_from_fd(&s, rt.native_handle(), server.get()) == BRAID_OK);
    server.release();
    // A block_on first, so that the runtime's worker came and went.
    rt.block_on([]() -> braid::Task<> { co_return; }());
    Signal sig;
    char c = 0;
    size_t n = 0;
    REQUIRE(braid_tcp_stream_poll_peek(s, &c, 1, &Signal::wake, &sig, &n) == BRAID_PENDING);
    REQUIRE(client.write_all("x", 1));
    sig.wait();
    REQUIRE(braid_tcp_stream_poll_peek(s, &c, 1, &Signal::wake, &sig, &n) == BRAID_OK);
    REQUIRE(n == 1);
    REQUIRE(c == 'x');
    braid_tcp_stream_free(s);
}

TEST_CASE("rt_io_park.tasks woken by the events a task about to wait takes run in the order their sockets became ready") {
    // The events of one epoll_wait are one batch wherever they are taken
    // (an idle worker, a busy one between tasks, a task about to wait): the
    // first task woken runs next and the rest in the order woken.  Taken by
    // a task, each woken task used to displace the one before from the
    // worker's next-to-run slot, so the last socket's task ran first.
    constexpr int kTasks = 8;
    std::vector<int> want(kTasks);
    for (int i = 0; i < kTasks; ++i) want[std::size_t(i)] = i;
    for (bool ct : {false, true}) {
        INFO("current_thread " << ct);
        auto rt = ct ? braid_test::current_thread_runtime() : braid_test::runtime(1);
        std::vector<int> order = rt.block_on(woken_by_a_waiting_task(kTasks));
        REQUIRE(order == want);
    }
}

}  // namespace test_rt_io_park
