// mpsc: bounded and unbounded channels: order, room, closing, permits, weak
// senders, recv_many, timeouts, blocking calls, cancellation, FIFO senders,
// counting, the C ABI and a C producer with a C++ consumer.
#include <catch2/catch.hpp>
#include <braid/mpsc.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <future>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_sync_mpsc {

using namespace std::chrono_literals;
using braid_test::CountingWaker;
using braid_test::Tracked;

TEST_CASE("sync_mpsc.mpsc: values arrive in order and recv ends once every sender is gone") {
    auto rt = braid_test::runtime(2);
    auto got = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto [tx, rx] = braid::mpsc::channel<int>(4);
        braid::spawn([](braid::mpsc::Sender<int> t) -> braid::Task<> {
            for (int i = 0; i < 100; ++i) co_await t.send(i);
        }, std::move(tx)).detach();
        std::vector<int> v;
        while (auto x = co_await rx.recv()) v.push_back(*x);
        co_return v;
    }());
    REQUIRE(got.size() == 100);
    for (int i = 0; i < 100; ++i) REQUIRE(got[size_t(i)] == i);
}

TEST_CASE("sync_mpsc.mpsc: capacity, try_send when full hands the value back, len") {
    auto [tx, rx] = braid::mpsc::channel<std::string>(2);
    REQUIRE(tx.max_capacity() == 2);
    REQUIRE(tx.capacity() == 2);
    REQUIRE_FALSE(tx.try_send("a").has_value());
    REQUIRE_FALSE(tx.try_send("b").has_value());
    REQUIRE(tx.capacity() == 0);
    REQUIRE(rx.len() == 2);
    auto full = tx.try_send("c");
    REQUIRE(full.has_value());
    REQUIRE(full->is_full());
    REQUIRE(full->value == "c");
    REQUIRE(*rx.try_recv() == "a");
    REQUIRE(tx.capacity() == 1);
    REQUIRE_FALSE(tx.try_send("c").has_value());
    REQUIRE(*rx.try_recv() == "b");
    REQUIRE(*rx.try_recv() == "c");
    REQUIRE_FALSE(rx.try_recv().has_value());
    REQUIRE(rx.is_empty());
    REQUIRE_FALSE(rx.is_closed());
}

TEST_CASE("sync_mpsc.mpsc: a send waits for room and completes when the receiver makes some") {
    auto rt = braid_test::runtime(2);
    int sent = rt.block_on([]() -> braid::Task<int> {
        auto [tx, rx] = braid::mpsc::channel<int>(1);
        auto producer = braid::spawn([](braid::mpsc::Sender<int> t) -> braid::Task<int> {
            int n = 0;
            for (int i = 0; i < 3; ++i)
                if (!co_await t.send(i)) ++n;
            co_return n;
        }, std::move(tx));
        co_await braid::sleep(2ms);  // the producer is stuck on the second send
        int sum = 0;
        for (int i = 0; i < 3; ++i) sum += *co_await rx.recv();
        int n = co_await producer;
        co_return n * 100 + sum;
    }());
    REQUIRE(sent == 303);
}

TEST_CASE("sync_mpsc.mpsc: a send to a dropped receiver hands the value back, nothing leaks") {
    Tracked::reset();
    {
        auto [tx, rx] = braid::mpsc::channel<Tracked>(4);
        REQUIRE_FALSE(tx.try_send(Tracked(1)).has_value());
        { auto gone = std::move(rx); }  // destroys the buffered Tracked(1)
        REQUIRE(tx.is_closed());
        auto back = tx.try_send(Tracked(2));
        REQUIRE(back.has_value());
        REQUIRE(back->is_closed());
        REQUIRE(back->value.value == 2);
        auto rt = braid_test::runtime(1);
        auto again = rt.block_on([](braid::mpsc::Sender<Tracked> t) -> braid::Task<std::optional<Tracked>> {
            co_return co_await t.send(Tracked(3));
        }(tx));
        REQUIRE(again.has_value());
        REQUIRE(again->value == 3);
        auto blocked = tx.blocking_send(Tracked(4));
        REQUIRE(blocked.has_value());
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("sync_mpsc.mpsc: values never received are destroyed with the channel") {
    Tracked::reset();
    {
        auto [tx, rx] = braid::mpsc::channel<Tracked>(64);
        for (int i = 0; i < 50; ++i) REQUIRE_FALSE(tx.try_send(Tracked(i)).has_value());
        REQUIRE(rx.try_recv()->value == 0);
    }
    REQUIRE(Tracked::live() == 0);
    {
        auto [tx, rx] = braid::mpsc::unbounded_channel<Tracked>();
        for (int i = 0; i < 1000; ++i) REQUIRE_FALSE(tx.send(Tracked(i)).has_value());
        REQUIRE(rx.try_recv()->value == 0);
    }
    REQUIRE(Tracked::live() == 0);
    {
        // The receiver goes first; the senders keep the channel (and free it).
        auto [tx, rx] = braid::mpsc::unbounded_channel<Tracked>();
        tx.send(Tracked(1));
        { auto gone = std::move(rx); }
        REQUIRE(tx.send(Tracked(2)).has_value());
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("sync_mpsc.mpsc: close() stops senders, buffered values are still received") {
    auto rt = braid_test::runtime(2);
    auto r = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto [tx, rx] = braid::mpsc::channel<int>(2);
        co_await tx.send(1);
        auto permit = co_await tx.reserve();  // reserved before close: still usable
        auto waiting = braid::spawn([](braid::mpsc::Sender<int> t) -> braid::Task<int> {
            auto back = co_await t.send(3);  // waits for room, then fails at close
            co_return back ? *back : -1;
        }, tx);
        co_await braid::sleep(1ms);
        rx.close();
        std::vector<int> out;
        out.push_back(co_await waiting);                     // 3 came back
        out.push_back(tx.try_send(4)->is_closed() ? 1 : 0);  // closed
        permit->send(5);
        while (auto v = co_await rx.recv()) out.push_back(*v);
        co_return out;
    }());
    REQUIRE(r == std::vector<int>{3, 1, 1, 5});
}

TEST_CASE("sync_mpsc.mpsc: closed() completes when the receiver is dropped or closed") {
    auto rt = braid_test::runtime(2);
    bool ok = rt.block_on([]() -> braid::Task<bool> {
        auto [tx, rx] = braid::mpsc::channel<int>(1);
        auto dropper = braid::spawn([](braid::mpsc::Receiver<int> r) -> braid::Task<> {
            co_await braid::sleep(1ms);
            (void)r;
        }, std::move(rx));
        co_await tx.closed();
        co_await dropper;
        auto [tx2, rx2] = braid::mpsc::unbounded_channel<int>();
        auto closer = braid::spawn([](braid::mpsc::Receiver<int>* r) -> braid::Task<> {
            co_await braid::sleep(1ms);
            r->close();
        }, &rx2);
        co_await tx2.closed();
        co_await closer;
        co_return tx.is_closed() && tx2.is_closed();
    }());
    REQUIRE(ok);
}

TEST_CASE("sync_mpsc.mpsc: permits reserve room, an unused permit gives it back") {
    auto rt = braid_test::runtime(1);
    auto r = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto [tx, rx] = braid::mpsc::channel<int>(2);
        std::vector<int> out;
        {
            auto p1 = co_await tx.reserve();
            auto p2 = tx.try_reserve();
            out.push_back(p1 && p2 ? 1 : 0);
            out.push_back(tx.try_reserve() ? 1 : 0);     // no room left
            out.push_back(tx.try_send(9)->is_full() ? 1 : 0);
            p1->send(10);
        }  // p2 unused: its room comes back
        out.push_back(int(tx.capacity()));
        {
            auto many = co_await tx.reserve_many(1);
            out.push_back(int(many->size()));
            many->send(11);
            out.push_back(many->send(12) ? 1 : 0);  // none left
        }
        while (auto v = rx.try_recv()) out.push_back(*v);
        auto owned = co_await tx.reserve_owned();
        auto back = owned->send(12);  // gives the sender back
        out.push_back(back ? 1 : 0);
        while (auto v = rx.try_recv()) out.push_back(*v);
        co_return out;
    }());
    REQUIRE(r == std::vector<int>{1, 0, 1, 1, 1, 0, 10, 11, 1, 12});
}

TEST_CASE("sync_mpsc.mpsc: weak senders do not keep the channel open") {
    auto rt = braid_test::runtime(1);
    auto r = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto [tx, rx] = braid::mpsc::channel<int>(4);
        auto weak = tx.downgrade();
        std::vector<int> out{int(tx.weak_count())};
        {
            auto strong = weak.upgrade();
            out.push_back(int(tx.strong_count()));
            co_await strong->send(1);
        }
        { auto gone = std::move(tx); }
        out.push_back(weak.upgrade().has_value() ? 1 : 0);
        auto first = co_await rx.recv();
        out.push_back(first ? *first : -1);
        auto second = co_await rx.recv();
        out.push_back(second ? *second : -1);
        co_return out;
    }());
    REQUIRE(r == std::vector<int>{1, 2, 0, 1, -1});
}

TEST_CASE("sync_mpsc.mpsc: recv_many takes up to the limit, waiting for the first") {
    auto rt = braid_test::runtime(2);
    auto r = rt.block_on([]() -> braid::Task<std::vector<size_t>> {
        auto [tx, rx] = braid::mpsc::channel<std::string>(100);
        std::vector<std::string> buf;
        std::vector<size_t> counts;
        auto late = braid::spawn([](braid::mpsc::Sender<std::string> t) -> braid::Task<> {
            co_await braid::sleep(1ms);
            for (int i = 0; i < 70; ++i) co_await t.send(std::to_string(i));
        }, tx);
        counts.push_back(co_await rx.recv_many(buf, 1));
        co_await late;
        counts.push_back(co_await rx.recv_many(buf, 50));
        counts.push_back(co_await rx.recv_many(buf, 50));
        { auto gone = std::move(tx); }
        counts.push_back(co_await rx.recv_many(buf, 50));  // finished: 0
        counts.push_back(buf.size());
        counts.push_back(buf[69] == "69" ? 1 : 0);
        co_return counts;
    }());
    REQUIRE(r == std::vector<size_t>{1, 50, 19, 0, 70, 1});
}

TEST_CASE("sync_mpsc.mpsc: send_timeout gives the value back when the time runs out") {
    auto rt = braid_test::paused_runtime();
    auto r = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto [tx, rx] = braid::mpsc::channel<std::unique_ptr<int>>(1);
        std::vector<int> out;
        out.push_back((co_await tx.send_timeout(std::make_unique<int>(1), 10ms)) ? 1 : 0);  // room: sent
        auto t0 = braid::Instant::now();
        auto late = co_await tx.send_timeout(std::make_unique<int>(2), 10ms);
        out.push_back(late && late->is_timeout() && *late->value == 2 ? 1 : 0);
        out.push_back(int((braid::Instant::now() - t0) / 1ms));
        auto freer = braid::spawn([](braid::mpsc::Receiver<std::unique_ptr<int>>* r) -> braid::Task<int> {
            co_await braid::sleep(5ms);
            co_return **co_await r->recv();
        }, &rx);
        out.push_back((co_await tx.send_timeout(std::make_unique<int>(3), 10ms)) ? 1 : 0);  // sent at 5 ms
        out.push_back(co_await freer);
        out.push_back(**co_await rx.recv());
        co_return out;
    }());
    REQUIRE(r == std::vector<int>{0, 1, 10, 0, 1, 3});
}

TEST_CASE("sync_mpsc.mpsc: an unbounded channel never makes a sender wait") {
    auto rt = braid_test::runtime(2);
    long sum = rt.block_on([]() -> braid::Task<long> {
        auto [tx, rx] = braid::mpsc::unbounded_channel<long>();
        for (long i = 0; i < 100000; ++i) tx.send(i);
        { auto gone = std::move(tx); }
        long s = 0;
        long expect = 0;
        while (auto v = co_await rx.recv()) {
            if (*v != expect++) co_return -1;
            s += *v;
        }
        co_return s;
    }());
    REQUIRE(sum == 100000L * 99999 / 2);
}

TEST_CASE("sync_mpsc.mpsc: blocking send and receive on foreign threads, refused on workers") {
    auto rt = braid_test::runtime(2);
    auto [tx, rx] = braid::mpsc::channel<int>(2);
    std::thread producer([t = tx] {
        for (int i = 1; i <= 100; ++i) t.blocking_send(i);
    });
    long sum = 0;
    for (int i = 0; i < 100; ++i) sum += *rx.blocking_recv();
    producer.join();
    REQUIRE(sum == 5050);
    int rc = rt.block_on([](braid::mpsc::Receiver<int>* r) -> braid::Task<int> {
        int out = 0;
        co_return braid_mpsc_recv_blocking(r->native_handle(), &out, sizeof out, 10);
    }(&rx));
    REQUIRE(rc == BRAID_EDEADLK);
    int v = 0;
    REQUIRE(braid_mpsc_recv_blocking(rx.native_handle(), &v, sizeof v, 5) == BRAID_ETIMEDOUT);
    { auto gone = std::move(tx); }
    REQUIRE_FALSE(rx.blocking_recv().has_value());
}

TEST_CASE("sync_mpsc.mpsc: a C producer and a C++ consumer share one channel") {
    auto rt = braid_test::runtime(2);
    braid_mpsc_tx* ctx = nullptr;
    braid_mpsc_rx* crx = nullptr;
    REQUIRE(braid_mpsc_new(&ctx, &crx, 8, sizeof(double), alignof(double), nullptr, nullptr) == BRAID_OK);
    braid::mpsc::Receiver<double> rx(crx);
    std::thread producer([ctx] {
        for (int i = 0; i < 1000; ++i) {
            double d = i * 0.5;
            braid_mpsc_send_blocking(ctx, &d, sizeof d, BRAID_WAIT_FOREVER);
        }
        braid_mpsc_tx_free(ctx);
    });
    double sum = rt.block_on([](braid::mpsc::Receiver<double>* r) -> braid::Task<double> {
        double s = 0;
        while (auto v = co_await r->recv()) s += *v;
        co_return s;
    }(&rx));
    producer.join();
    REQUIRE(sum == 0.5 * 999 * 1000 / 2);
}

TEST_CASE("sync_mpsc.mpsc C ABI: bad input is refused, not copied") {
    braid_mpsc_tx* tx = nullptr;
    braid_mpsc_rx* rx = nullptr;
    REQUIRE(braid_mpsc_new(&tx, &rx, 0, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_EINVAL);
    REQUIRE(tx == nullptr);
    REQUIRE(braid_mpsc_new(&tx, &rx, 4, sizeof(int), 3, nullptr, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_mpsc_new(nullptr, &rx, 4, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_mpsc_new(&tx, &rx, 4, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    long big = 7;
    int v = 1;
    REQUIRE(braid_mpsc_try_send(tx, &big, sizeof big) == BRAID_EINVAL);
    REQUIRE(braid_mpsc_try_send(tx, nullptr, sizeof v) == BRAID_EINVAL);
    REQUIRE(braid_mpsc_try_send(nullptr, &v, sizeof v) == BRAID_EINVAL);
    braid_waiter* w = nullptr;
    REQUIRE(braid_mpsc_poll_send(tx, &big, sizeof big, &w, +[](void*) {}, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_mpsc_poll_send(tx, &v, sizeof v, nullptr, nullptr, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_mpsc_try_reserve(tx, 5) == BRAID_ERANGE);
    REQUIRE(braid_mpsc_try_send(tx, &v, sizeof v) == BRAID_OK);
    REQUIRE(braid_mpsc_rx_len(rx) == 1);
    REQUIRE(braid_mpsc_try_recv(rx, &big, sizeof big) == BRAID_EINVAL);
    size_t n = 9;
    REQUIRE(braid_mpsc_poll_recv_many(rx, &v, sizeof v, 0, &n, +[](void*) {}, nullptr) == BRAID_EINVAL);
    REQUIRE(n == 0);
    int out = 0;
    REQUIRE(braid_mpsc_try_recv(rx, &out, sizeof out) == BRAID_OK);
    REQUIRE(out == 1);
    REQUIRE(braid_mpsc_try_recv(rx, &out, sizeof out) == BRAID_EAGAIN);
    REQUIRE(braid_mpsc_tx_clone(nullptr, tx) == BRAID_EINVAL);
    braid_mpsc_tx* tx2 = nullptr;
    REQUIRE(braid_mpsc_tx_clone(&tx2, nullptr) == BRAID_EINVAL);
    braid_mpsc_tx_free(tx);
    REQUIRE(braid_mpsc_try_recv(rx, &out, sizeof out) == BRAID_ECLOSED);
    REQUIRE(braid_mpsc_rx_is_closed(rx) == 1);
    braid_mpsc_rx_free(rx);
    braid_mpsc_tx_free(nullptr);
    braid_mpsc_rx_free(nullptr);
    braid_mpsc_weak_tx_free(nullptr);
    REQUIRE(braid_mpsc_rx_is_closed(nullptr) == BRAID_EINVAL);

    // Unbounded channels have no reservations.
    REQUIRE(braid_mpsc_new_unbounded(&tx, &rx, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    REQUIRE(braid_mpsc_try_reserve(tx, 1) == BRAID_ENOTSUP);
    REQUIRE(braid_mpsc_tx_max_capacity(tx) == SIZE_MAX);
    braid_mpsc_rx_free(rx);
    REQUIRE(braid_mpsc_try_send(tx, &v, sizeof v) == BRAID_ECLOSED);
    braid_mpsc_tx_free(tx);
}

TEST_CASE("sync_mpsc.mpsc: a zero capacity and moved-from handles throw braid::Error") {
    REQUIRE_THROWS_AS(braid::mpsc::channel<int>(0), braid::Error);
    auto [tx, rx] = braid::mpsc::channel<int>(1);
    auto tx2 = std::move(tx);
    auto rx2 = std::move(rx);
    REQUIRE_THROWS_AS(tx.try_send(1), braid::Error);
    REQUIRE_THROWS_AS((void)tx.send(1), braid::Error);
    REQUIRE_THROWS_AS(rx.try_recv(), braid::Error);
    REQUIRE_THROWS_AS((void)rx.recv(), braid::Error);
    try {
        (void)tx.is_closed();
        FAIL("no throw");
    } catch (const braid::Error& e) {
        REQUIRE(e.code() == BRAID_EINVAL);
        REQUIRE(std::string(e.what()).find("after move") != std::string::npos);
    }
}

TEST_CASE("sync_mpsc.mpsc: a recv cancelled by abort loses no message") {
    Tracked::reset();
    {
        auto rt = braid_test::runtime(2);
        auto [tx, rx] = braid::mpsc::channel<Tracked>(4);
        auto shared = std::make_shared<braid::mpsc::Receiver<Tracked>>(std::move(rx));
        auto waiter = rt.spawn([](auto r) -> braid::Task<int> {
            auto t = co_await r->recv();
            co_return t ? t->value : -1;
        }(shared));
        rt.block_on([](braid::JoinHandle<int>* w) -> braid::Task<> {
            co_await braid::sleep(1ms);
            w->abort();
            try {
                co_await *w;
            } catch (const braid::TaskCancelled&) {
            }
        }(&waiter));
        REQUIRE_FALSE(tx.try_send(Tracked(5)).has_value());
        REQUIRE(shared->try_recv()->value == 5);
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("sync_mpsc.mpsc: a send cancelled while waiting for room neither delivers nor leaks") {
    Tracked::reset();
    {
        auto rt = braid_test::runtime(2);
        auto [tx, rx] = braid::mpsc::channel<Tracked>(1);
        REQUIRE_FALSE(tx.try_send(Tracked(1)).has_value());
        auto stuck = rt.spawn([](braid::mpsc::Sender<Tracked> t) -> braid::Task<> {
            co_await t.send(Tracked(2));
        }(tx));
        rt.block_on([](braid::JoinHandle<void>* s) -> braid::Task<> {
            co_await braid::sleep(1ms);
            s->abort();
            try {
                co_await *s;
            } catch (const braid::TaskCancelled&) {
            }
        }(&stuck));
        REQUIRE(rx.try_recv()->value == 1);
        REQUIRE_FALSE(rx.try_recv().has_value());  // 2 was never delivered
        REQUIRE_FALSE(tx.try_send(Tracked(3)).has_value());  // the room is free again
        REQUIRE(rx.try_recv()->value == 3);
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("sync_mpsc.mpsc: a send cancelled after room was granted to it passes the room on") {
    braid_mpsc_tx* tx = nullptr;
    braid_mpsc_rx* rx = nullptr;
    REQUIRE(braid_mpsc_new(&tx, &rx, 1, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    int v = 1;
    REQUIRE(braid_mpsc_try_send(tx, &v, sizeof v) == BRAID_OK);
    CountingWaker a, b;
    braid_waiter* wa = nullptr;
    braid_waiter* wb = nullptr;
    int va = 2, vb = 3;
    REQUIRE(braid_mpsc_poll_send(tx, &va, sizeof va, &wa, &CountingWaker::wake, &a) == BRAID_PENDING);
    REQUIRE(braid_mpsc_poll_send(tx, &vb, sizeof vb, &wb, &CountingWaker::wake, &b) == BRAID_PENDING);
    int out = 0;
    REQUIRE(braid_mpsc_try_recv(rx, &out, sizeof out) == BRAID_OK);  // room goes to a (FIFO)
    REQUIRE(a.wakes == 1);
    REQUIRE(b.wakes == 0);
    braid_mpsc_cancel_send(tx, &wa);  // a gives up: b gets the room
    REQUIRE(wa == nullptr);
    REQUIRE(b.wakes == 1);
    REQUIRE(braid_mpsc_poll_send(tx, &vb, sizeof vb, &wb, &CountingWaker::wake, &b) == BRAID_OK);
    REQUIRE(wb == nullptr);
    REQUIRE(braid_mpsc_try_recv(rx, &out, sizeof out) == BRAID_OK);
    REQUIRE(out == 3);
    braid_mpsc_tx_free(tx);
    braid_mpsc_rx_free(rx);
}

TEST_CASE("sync_mpsc.mpsc: senders waiting for room are served in FIFO order") {
    auto rt = braid_test::runtime(1);
    auto order = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto [tx, rx] = braid::mpsc::channel<int>(1);
        co_await tx.send(-1);
        std::vector<braid::JoinHandle<void>> hs;
        for (int i = 0; i < 10; ++i) {
            hs.push_back(braid::spawn([](braid::mpsc::Sender<int> t, int i) -> braid::Task<> {
                co_await t.send(i);
            }, tx, i));
            co_await braid::yield_now();  // task i queues before task i + 1
        }
        std::vector<int> out;
        for (int i = 0; i < 11; ++i) out.push_back(*co_await rx.recv());
        for (auto& h : hs) co_await h;
        co_return out;
    }());
    REQUIRE(order == std::vector<int>{-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("sync_mpsc.mpsc: a recv dropped in select loses nothing") {
    auto rt = braid_test::paused_runtime();
    auto r = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto [tx, rx] = braid::mpsc::channel<int>(4);
        std::vector<int> out;
        auto timed = co_await braid::timeout(5ms, rx.recv());  // nothing there: cancelled
        out.push_back(timed.has_value() ? 1 : 0);
        co_await tx.send(7);
        auto got = co_await braid::timeout(5ms, rx.recv());
        out.push_back(got && *got ? **got : -1);
        co_return out;
    }());
    REQUIRE(r == std::vector<int>{0, 7});
}

namespace {
// A C element with a drop function: counts the values destroyed unreceived.
std::atomic<int> g_dropped{0};
void count_drop(void*) { g_dropped.fetch_add(1); }
}  // namespace

namespace {
// Elements of a given size and alignment: the relocate function checks that
// both ends are aligned as declared and counts the moves.
std::size_t g_align = 1;
std::atomic<int> g_misaligned{0};
std::atomic<int> g_moves{0};
std::size_t g_size = 0;
void checked_move(void* dst, void* src) {
    if (reinterpret_cast<uintptr_t>(dst) % g_align || reinterpret_cast<uintptr_t>(src) % g_align)
        g_misaligned.fetch_add(1);
    g_moves.fetch_add(1);
    std::memcpy(dst, src, g_size);
}
}  // namespace

// A bounded channel keeps each value beside its sequence number: a slot of
// at most a cache line takes a power of two bytes, a larger one its own
// size.  Every shape keeps its values aligned, in order and intact.
TEST_CASE("sync_mpsc.mpsc C ABI: values of every size and alignment go through the ring aligned and intact") {
    struct Shape {
        std::size_t size, align, cap;
    };
    for (Shape sh : {Shape{1, 1, 3}, Shape{24, 8, 20}, Shape{56, 8, 16}, Shape{100, 4, 17}, Shape{64, 64, 16},
                     Shape{200, 128, 5}, Shape{4096, 4096, 2}}) {
        g_align = sh.align;
        g_size = sh.size;
        g_misaligned = 0;
        g_moves = 0;
        braid_mpsc_tx* tx = nullptr;
        braid_mpsc_rx* rx = nullptr;
        REQUIRE(braid_mpsc_new(&tx, &rx, sh.cap, sh.size, sh.align, &checked_move, nullptr) == BRAID_OK);
        // the caller's ends aligned as declared too
        const std::size_t stride = (sh.size + sh.align - 1) / sh.align * sh.align;
        auto* mem = static_cast<unsigned char*>(::operator new(2 * stride, std::align_val_t(sh.align)));
        unsigned char* in = mem;
        unsigned char* out = mem + stride;
        // Three laps of the ring: each value's bytes are its number and offset.
        const int n = int(sh.cap) * 6 + 1;
        int sent = 0, received = 0;
        while (received < n) {
            while (sent < n) {
                for (std::size_t b = 0; b < sh.size; ++b) in[b] = static_cast<unsigned char>(sent * 31 + b);
                int rc = braid_mpsc_try_send(tx, in, sh.size);
                if (rc == BRAID_EAGAIN) break;
                REQUIRE(rc == BRAID_OK);
                ++sent;
            }
            REQUIRE(braid_mpsc_try_recv(rx, out, sh.size) == BRAID_OK);
            bool intact = true;
            for (std::size_t b = 0; b < sh.size; ++b)
                intact = intact && out[b] == static_cast<unsigned char>(received * 31 + b);
            CHECK(intact);
            ++received;
        }
        CHECK(braid_mpsc_try_recv(rx, out, sh.size) == BRAID_EAGAIN);
        CHECK(g_misaligned.load() == 0);
        CHECK(g_moves.load() == 2 * n);  // in, then out
        braid_mpsc_tx_free(tx);
        braid_mpsc_rx_free(rx);
        ::operator delete(mem, std::align_val_t(sh.align));
    }
}

TEST_CASE("sync_mpsc.mpsc C ABI: releasing or filling slots nobody reserved is refused and changes nothing") {
    g_dropped = 0;
    braid_mpsc_tx* tx = nullptr;
    braid_mpsc_rx* rx = nullptr;
    REQUIRE(braid_mpsc_new(&tx, &rx, 1, sizeof(int), alignof(int), nullptr, &count_drop) == BRAID_OK);
    int v = 1;
    REQUIRE(braid_mpsc_try_send(tx, &v, sizeof v) == BRAID_OK);
    // Nothing is reserved: a release must not add room to the full channel.
    REQUIRE(braid_mpsc_release_reserved(tx, 1) == BRAID_EINVAL);
    REQUIRE(braid_mpsc_tx_capacity(tx) == 0);
    int two = 2;
    REQUIRE(braid_mpsc_try_send(tx, &two, sizeof two) == BRAID_EAGAIN);  // full: 1 is not overwritten
    REQUIRE(braid_mpsc_send_reserved(tx, &two, sizeof two) == BRAID_EINVAL);
    REQUIRE(braid_mpsc_rx_len(rx) == 1);
    int out = 0;
    REQUIRE(braid_mpsc_try_recv(rx, &out, sizeof out) == BRAID_OK);
    REQUIRE(out == 1);
    REQUIRE(braid_mpsc_try_recv(rx, &out, sizeof out) == BRAID_EAGAIN);
    REQUIRE(braid_mpsc_tx_capacity(tx) == 1);

    // Reserved slots: no more can be released or filled than were reserved.
    REQUIRE(braid_mpsc_try_reserve(tx, 1) == BRAID_OK);
    REQUIRE(braid_mpsc_release_reserved(tx, 2) == BRAID_EINVAL);
    REQUIRE(braid_mpsc_tx_capacity(tx) == 0);
    REQUIRE(braid_mpsc_send_reserved(tx, &two, sizeof two) == BRAID_OK);
    REQUIRE(braid_mpsc_send_reserved(tx, &two, sizeof two) == BRAID_EINVAL);
    REQUIRE(braid_mpsc_release_reserved(tx, 1) == BRAID_EINVAL);
    REQUIRE(braid_mpsc_rx_len(rx) == 1);
    REQUIRE(braid_mpsc_try_recv(rx, &out, sizeof out) == BRAID_OK);
    REQUIRE(out == 2);
    REQUIRE(braid_mpsc_try_reserve(tx, 1) == BRAID_OK);
    REQUIRE(braid_mpsc_release_reserved(tx, 0) == BRAID_OK);
    REQUIRE(braid_mpsc_release_reserved(tx, 1) == BRAID_OK);
    REQUIRE(braid_mpsc_tx_capacity(tx) == 1);
    REQUIRE(braid_mpsc_release_reserved(nullptr, 1) == BRAID_EINVAL);

    // A value left in the channel is destroyed exactly once with it.
    int three = 3;
    REQUIRE(braid_mpsc_try_send(tx, &three, sizeof three) == BRAID_OK);
    REQUIRE(braid_mpsc_release_reserved(tx, 1) == BRAID_EINVAL);
    REQUIRE(braid_mpsc_try_send(tx, &three, sizeof three) == BRAID_EAGAIN);
    braid_mpsc_tx_free(tx);
    braid_mpsc_rx_free(rx);
    REQUIRE(g_dropped == 1);

    // Unbounded channels reserve nothing.
    REQUIRE(braid_mpsc_new_unbounded(&tx, &rx, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    REQUIRE(braid_mpsc_release_reserved(tx, 1) == BRAID_ENOTSUP);
    REQUIRE(braid_mpsc_send_reserved(tx, &v, sizeof v) == BRAID_ENOTSUP);
    braid_mpsc_tx_free(tx);
    braid_mpsc_rx_free(rx);
}

TEST_CASE("sync_mpsc.mpsc: a huge capacity works as 'effectively unbounded' without reserving memory for it") {
    // Memory follows what is buffered, not the capacity: a channel of the
    // largest capacity is made, used, and freed like any other.
    Tracked::reset();
    for (size_t cap : {size_t(BRAID_SEMAPHORE_MAX_PERMITS), size_t(1) << 40, size_t(1) << 24, size_t(100000)}) {
        INFO(cap);
        braid_mpsc_tx* tx = nullptr;
        braid_mpsc_rx* rx = nullptr;
        REQUIRE(braid_mpsc_new(&tx, &rx, cap, sizeof(uint64_t), alignof(uint64_t), nullptr, nullptr) == BRAID_OK);
        REQUIRE(braid_mpsc_tx_max_capacity(tx) == cap);
        const uint64_t n = 5000;
        for (uint64_t i = 0; i < n; ++i) REQUIRE(braid_mpsc_try_send(tx, &i, sizeof i) == BRAID_OK);
        REQUIRE(braid_mpsc_tx_capacity(tx) == cap - n);
        REQUIRE(braid_mpsc_rx_len(rx) == n);
        REQUIRE(braid_mpsc_try_reserve(tx, 3) == BRAID_OK);
        REQUIRE(braid_mpsc_tx_capacity(tx) == cap - n - 3);
        REQUIRE(braid_mpsc_release_reserved(tx, 3) == BRAID_OK);
        for (uint64_t i = 0; i < n; ++i) {
            uint64_t out = ~uint64_t(0);
            REQUIRE(braid_mpsc_try_recv(rx, &out, sizeof out) == BRAID_OK);
            REQUIRE(out == i);
        }
        uint64_t out = 0;
        REQUIRE(braid_mpsc_try_recv(rx, &out, sizeof out) == BRAID_EAGAIN);
        REQUIRE(braid_mpsc_tx_capacity(tx) == cap);
        braid_mpsc_rx_close(rx);
        REQUIRE(braid_mpsc_try_recv(rx, &out, sizeof out) == BRAID_ECLOSED);
        braid_mpsc_tx_free(tx);
        braid_mpsc_rx_free(rx);
    }
    REQUIRE(braid_mpsc_new(nullptr, nullptr, size_t(BRAID_SEMAPHORE_MAX_PERMITS) + 1, 1, 1, nullptr, nullptr) ==
            BRAID_EINVAL);

    // The C++ layer, values that own memory, some left in the channel.
    auto rt = braid_test::runtime(1);
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::mpsc::channel<Tracked>(SIZE_MAX >> 3);
        for (int i = 0; i < 1000; ++i) co_await tx.send(Tracked(i));
        for (int i = 0; i < 600; ++i) EXPECT((co_await rx.recv())->value == i);
        auto permit = co_await tx.reserve();
        permit->send(Tracked(-1));
        EXPECT(rx.len() == 401);
    }());
    REQUIRE(Tracked::live() == 0);
}

// The receiver gives emptied slots back to the senders in batches (a
// quarter of the capacity); these cases check that nobody can tell.
namespace {
// A bounded C channel of uint64_t, freed at the end of the scope.
struct U64Channel {
    braid_mpsc_tx* tx = nullptr;
    braid_mpsc_rx* rx = nullptr;
    explicit U64Channel(size_t cap) {
        REQUIRE(braid_mpsc_new(&tx, &rx, cap, sizeof(uint64_t), alignof(uint64_t), nullptr, nullptr) == BRAID_OK);
    }
    ~U64Channel() {
        braid_mpsc_tx_free(tx);
        braid_mpsc_rx_free(rx);
    }
    int send(uint64_t v) { return braid_mpsc_try_send(tx, &v, sizeof v); }
    int recv(uint64_t* out) { return braid_mpsc_try_recv(rx, out, sizeof *out); }
};
}  // namespace

TEST_CASE("sync_mpsc.mpsc: a slot the receiver emptied is room at once, though it gives slots back in batches") {
    auto [tx, rx] = braid::mpsc::channel<int>(1024);
    for (int i = 0; i < 1024; ++i) REQUIRE_FALSE(tx.try_send(i).has_value());
    REQUIRE(tx.capacity() == 0);
    REQUIRE(tx.try_send(-1)->is_full());
    REQUIRE(*rx.try_recv() == 0);
    REQUIRE(tx.capacity() == 1);
    REQUIRE_FALSE(tx.try_send(1024).has_value());
    REQUIRE(tx.capacity() == 0);
    for (int i = 1; i <= 3; ++i) REQUIRE(*rx.try_recv() == i);
    REQUIRE(tx.capacity() == 3);
    auto permits = tx.try_reserve();
    REQUIRE(permits.has_value());
    REQUIRE(tx.capacity() == 2);
    for (int i = 4; i < 1024; ++i) REQUIRE(*rx.try_recv() == i);
    REQUIRE(*rx.try_recv() == 1024);
    REQUIRE(tx.capacity() == 1023);
}

TEST_CASE("sync_mpsc.mpsc C ABI: outside a task each receive serves the senders waiting for room at once in order") {
    U64Channel c(1024);
    uint64_t v = 0, out = 0;
    for (v = 0; v < 1024; ++v) REQUIRE(c.send(v) == BRAID_OK);
    // Slots emptied before the senders queue: taken by the next sends.
    for (int i = 0; i < 5; ++i) REQUIRE(c.recv(&out) == BRAID_OK);
    for (int i = 0; i < 5; ++i, ++v) REQUIRE(c.send(v) == BRAID_OK);
    REQUIRE(c.send(v) == BRAID_EAGAIN);
    CountingWaker a, b;
    braid_waiter* wa = nullptr;
    braid_waiter* wb = nullptr;
    uint64_t va = 5000, vb = 6000;
    REQUIRE(braid_mpsc_poll_send(c.tx, &va, sizeof va, &wa, &CountingWaker::wake, &a) == BRAID_PENDING);
    REQUIRE(braid_mpsc_poll_send(c.tx, &vb, sizeof vb, &wb, &CountingWaker::wake, &b) == BRAID_PENDING);
    REQUIRE(c.recv(&out) == BRAID_OK);
    REQUIRE(a.wakes == 1);  // the first slot emptied is the first waiter's
    REQUIRE(b.wakes == 0);
    REQUIRE(c.recv(&out) == BRAID_OK);
    REQUIRE(b.wakes == 1);  // and the next one the second's, still no batching
    REQUIRE(braid_mpsc_poll_send(c.tx, &vb, sizeof vb, &wb, &CountingWaker::wake, &b) == BRAID_OK);
    REQUIRE(braid_mpsc_poll_send(c.tx, &va, sizeof va, &wa, &CountingWaker::wake, &a) == BRAID_OK);
    REQUIRE(c.send(v) == BRAID_EAGAIN);
    uint64_t sum = 0, n = 0;
    for (; c.recv(&out) == BRAID_OK; ++n) sum += out;
    REQUIRE(n == 1024);
    REQUIRE(sum == (1029 * 1028 / 2 - (0 + 1 + 2 + 3 + 4 + 5 + 6)) + 5000 + 6000);
}

TEST_CASE("sync_mpsc.mpsc C ABI: a closed channel ends for the receiver once the reserved slots come back") {
    U64Channel c(1024);
    uint64_t v = 7, out = 0;
    for (int i = 0; i < 3; ++i) REQUIRE(c.send(v) == BRAID_OK);
    REQUIRE(braid_mpsc_try_reserve(c.tx, 2) == BRAID_OK);
    for (int i = 0; i < 3; ++i) REQUIRE(c.recv(&out) == BRAID_OK);  // kept in a batch
    braid_mpsc_rx_close(c.rx);
    CountingWaker w;
    REQUIRE(braid_mpsc_poll_recv(c.rx, &out, sizeof out, &CountingWaker::wake, &w) == BRAID_PENDING);
    REQUIRE(braid_mpsc_send_reserved(c.tx, &v, sizeof v) == BRAID_OK);
    REQUIRE(w.wakes == 1);
    REQUIRE(braid_mpsc_poll_recv(c.rx, &out, sizeof out, &CountingWaker::wake, &w) == BRAID_OK);
    REQUIRE(braid_mpsc_poll_recv(c.rx, &out, sizeof out, &CountingWaker::wake, &w) == BRAID_PENDING);
    REQUIRE(braid_mpsc_release_reserved(c.tx, 1) == BRAID_OK);  // the last one: finished
    REQUIRE(w.wakes == 2);
    REQUIRE(braid_mpsc_poll_recv(c.rx, &out, sizeof out, &CountingWaker::wake, &w) == BRAID_ECLOSED);
}

TEST_CASE("sync_mpsc.mpsc: try_recv tells empty from closed, try_reserve tells full from closed") {
    auto [tx, rx] = braid::mpsc::channel<int>(1);
    REQUIRE(rx.try_recv().is_empty());
    {
        auto permit = tx.try_reserve();
        REQUIRE(permit.has_value());
        REQUIRE(tx.try_reserve().is_full());
        REQUIRE(tx.try_reserve_owned().error() == braid::TryReserveError::Full);
        permit->send(4);
    }
    auto got = rx.try_recv();
    REQUIRE(got == std::optional<int>(4));
    {
        auto owned = tx.try_reserve_owned();  // room again
        REQUIRE(owned.has_value());
        auto same = std::move(*owned).send(5);  // gives a sender back
        REQUIRE_FALSE(same.is_closed());
    }
    rx.close();
    REQUIRE(tx.try_reserve().is_closed());
    REQUIRE(tx.try_reserve_owned().is_closed());
    REQUIRE(rx.try_recv().value() == 5);  // what was sent before the close is still there
    auto done = rx.try_recv();
    REQUIRE(done.is_closed());
    REQUIRE_FALSE(done.is_empty());
    REQUIRE(done == std::nullopt);
    std::optional<int> as_optional = rx.try_recv();  // reads as an optional
    REQUIRE_FALSE(as_optional.has_value());
}

TEST_CASE("sync_mpsc.mpsc: try_recv on an unbounded channel is closed once every sender is gone and it drained") {
    auto [tx, rx] = braid::mpsc::unbounded_channel<std::string>();
    REQUIRE_FALSE(tx.send("last").has_value());
    { auto gone = std::move(tx); }
    REQUIRE(rx.try_recv().value() == "last");
    REQUIRE(rx.try_recv().error() == braid::TryRecvError::Closed);
}

// A receiving task gives the slots it emptied back once per poll (or 32 at a
// time while a sender waits), not once per message.  Each test below has
// the receiver empty one slot and then wait for a sender that waits for
// that very slot: only the give-back at the end of the poll (or before
// block_in_place's code) lets the two go on.  One worker: the sender has
// queued for room before the receive.
namespace {
braid::Task<> send_then_signal(braid::mpsc::Sender<int> tx, int v, braid::oneshot::Sender<bool> done) {
    bool sent = !(co_await tx.send(v)).has_value();
    (void)done.send(sent);
}
}  // namespace

TEST_CASE("sync_mpsc.mpsc: a slot a receiving task emptied goes to a waiting sender when the task's poll ends") {
    auto rt = braid_test::runtime(1);
    auto got = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto [tx, rx] = braid::mpsc::channel<int>(64);  // a batch is 16 slots (a quarter of the capacity)
        for (int i = 0; i < 64; ++i) co_await tx.send(i);
        auto [done_tx, done_rx] = braid::oneshot::channel<bool>();
        braid::spawn(send_then_signal(tx, 64, std::move(done_tx))).detach();
        co_await braid::yield_now();  // the sender runs and queues: the channel is full
        int first = *co_await rx.recv();
        std::vector<int> out{first};
        auto sent = co_await braid::timeout(10s, std::move(done_rx));  // this poll ends here
        out.push_back(sent && *sent ? 1 : 0);
        while (out.size() < 66) out.push_back(*co_await rx.recv());
        co_return out;
    }());
    REQUIRE(got[0] == 0);
    REQUIRE(got[1] == 1);  // the sender got the slot and signalled
    for (int i = 2; i < 66; ++i) REQUIRE(got[size_t(i)] == i - 1);
}

TEST_CASE("sync_mpsc.mpsc: block_in_place gives the slots its task emptied back before its blocking code runs") {
    auto rt = braid_test::runtime(1);
    bool sent = rt.block_on([]() -> braid::Task<bool> {
        auto [tx, rx] = braid::mpsc::channel<int>(64);
        for (int i = 0; i < 64; ++i) co_await tx.send(i);
        std::promise<void> p;
        auto f = p.get_future();
        braid::spawn([](braid::mpsc::Sender<int> t, std::promise<void>* p) -> braid::Task<> {
            if (!(co_await t.send(64)).has_value()) p->set_value();
        }(tx, &p)).detach();
        co_await braid::yield_now();  // the sender queued
        int first = *co_await rx.recv();
        // The same poll goes on into blocking code that waits for the
        // sender (on the stand-in thread that runs the worker meanwhile).
        bool ok = braid::task::block_in_place([&] { return f.wait_for(10s) == std::future_status::ready; });
        co_return ok && first == 0;
    }());
    REQUIRE(sent);
}

TEST_CASE("sync_mpsc.mpsc: a slot a plain thread's blocking_recv emptied goes to a waiting sender at once") {
    auto rt = braid_test::runtime(1);
    auto [tx, rx] = braid::mpsc::channel<int>(64);
    for (int i = 0; i < 64; ++i) REQUIRE_FALSE(tx.try_send(i).has_value());
    std::promise<void> p;
    auto f = p.get_future();
    auto sender = rt.spawn([](braid::mpsc::Sender<int> t, std::promise<void>* p) -> braid::Task<> {
        if (!(co_await t.send(64)).has_value()) p->set_value();
    }(tx, &p));
    REQUIRE(*rx.blocking_recv() == 0);  // before or after the sender queued: it gets the slot
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    rt.block_on([](braid::JoinHandle<void> h) -> braid::Task<> { co_await h; }(std::move(sender)));
    for (int i = 1; i <= 64; ++i) REQUIRE(*rx.blocking_recv() == i);
}

}  // namespace test_sync_mpsc
