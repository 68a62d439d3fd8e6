// broadcast: every value to every receiver, lag reported with the count
// missed, closing, send without receivers, counting, clone failures,
// cancellation, blocking receives, the C ABI.
#include <catch2/catch.hpp>
#include <braid/broadcast.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_sync_broadcast {

using namespace std::chrono_literals;
using braid_test::Tracked;

TEST_CASE("sync_broadcast.broadcast: every receiver gets every value sent while it was subscribed") {
    auto rt = braid_test::runtime(2);
    auto r = rt.block_on([]() -> braid::Task<std::vector<std::string>> {
        auto tx = braid::broadcast::channel<std::string>(16);
        auto rx1 = tx.subscribe();
        auto rx2 = tx.subscribe();
        std::vector<std::string> out;
        out.push_back(std::to_string(tx.receiver_count()));
        tx.send("hello");
        auto rx3 = tx.subscribe();  // sees only what comes next
        tx.send("world");
        for (auto* rx : {&rx1, &rx2, &rx3}) {
            std::string line;
            while (!rx->is_empty()) line += *co_await rx->recv();
            out.push_back(line);
        }
        co_return out;
    }());
    REQUIRE(r == std::vector<std::string>{"2", "helloworld", "helloworld", "world"});
}

TEST_CASE("sync_broadcast.broadcast: a receiver that falls behind learns how many it missed") {
    auto tx = braid::broadcast::channel<int>(2);
    auto rx = tx.subscribe();
    for (int i = 0; i < 5; ++i) tx.send(i);
    REQUIRE(rx.len() == 2);
    auto lag = rx.try_recv();
    REQUIRE_FALSE(lag);
    REQUIRE(lag.is_lagged());
    REQUIRE(lag.lagged() == 3);
    REQUIRE(*rx.try_recv() == 3);  // the oldest value kept
    REQUIRE(*rx.try_recv() == 4);
    REQUIRE(rx.try_recv().is_empty());
}

TEST_CASE("sync_broadcast.broadcast: receivers end after the last sender is gone and they drained") {
    auto rt = braid_test::runtime(2);
    auto r = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto tx = braid::broadcast::channel<int>(4);
        auto rx = tx.subscribe();
        auto tx2 = tx;
        auto waiter = braid::spawn([](braid::broadcast::Receiver<int> rx) -> braid::Task<std::vector<int>> {
            std::vector<int> got;
            for (;;) {
                auto r = co_await rx.recv();
                if (r.is_closed()) break;
                got.push_back(*r);
            }
            co_return got;
        }, std::move(rx));
        tx.send(1);
        { auto gone = std::move(tx); }
        tx2.send(2);
        co_await braid::sleep(1ms);
        { auto gone = std::move(tx2); }
        co_return co_await waiter;
    }());
    REQUIRE(r == std::vector<int>{1, 2});
}

TEST_CASE("sync_broadcast.broadcast: send without receivers hands the value back, values are counted") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    {
        auto tx = braid::broadcast::channel<Tracked>(3);
        auto back = tx.send(Tracked(1));
        REQUIRE(back.has_value());
        REQUIRE(back->value == 1);
        auto a = tx.subscribe();
        auto b = tx.subscribe();
        for (int i = 0; i < 5; ++i) REQUIRE_FALSE(tx.send(Tracked(i)).has_value());  // 2 overwritten
        REQUIRE(a.try_recv().lagged() == 2);
        REQUIRE(a.try_recv()->value == 2);
        { auto gone = std::move(b); }  // its unread values go
        REQUIRE(a.try_recv()->value == 3);
        REQUIRE(a.resubscribe().is_empty());
    }
    REQUIRE(Tracked::live() == 0);
}

namespace {
struct Fragile {
    static inline bool fail = false;
    int v = 0;
    explicit Fragile(int x) : v(x) {}
    Fragile(const Fragile& o) : v(o.v) {
        if (fail) throw std::runtime_error("copy failed");
    }
    Fragile(Fragile&& o) noexcept : v(o.v) {}
};
}  // namespace

TEST_CASE("sync_broadcast.broadcast: a failing copy is rethrown and consumes nothing") {
    auto tx = braid::broadcast::channel<Fragile>(4);
    auto a = tx.subscribe();
    auto b = tx.subscribe();
    tx.send(Fragile(9));
    Fragile::fail = true;
    REQUIRE_THROWS_AS(a.try_recv(), std::runtime_error);
    Fragile::fail = false;
    REQUIRE(a.try_recv()->v == 9);  // still there
    Fragile::fail = true;
    REQUIRE(b.try_recv()->v == 9);  // the last receiver gets the value itself: no copy
    Fragile::fail = false;
}

TEST_CASE("sync_broadcast.broadcast: a recv cancelled while waiting loses nothing") {
    auto rt = braid_test::paused_runtime();
    auto r = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto tx = braid::broadcast::channel<int>(4);
        auto rx = tx.subscribe();
        std::vector<int> out;
        auto none = co_await braid::timeout(5ms, rx.recv());
        out.push_back(none ? 1 : 0);
        tx.send(5);
        auto some = co_await braid::timeout(5ms, rx.recv());
        out.push_back(some && *some ? **some : -1);
        auto waiter = braid::spawn([](braid::broadcast::Receiver<int>* rx) -> braid::Task<int> {
            auto r = co_await rx->recv();
            co_return *r;
        }(&rx));
        co_await braid::sleep(1ms);
        waiter.abort();
        try {
            co_await waiter;
        } catch (const braid::TaskCancelled&) {
        }
        tx.send(6);
        out.push_back(*rx.try_recv());
        co_return out;
    }());
    REQUIRE(r == std::vector<int>{0, 5, 6});
}

TEST_CASE("sync_broadcast.broadcast: blocking receive on a foreign thread, refused on workers") {
    auto rt = braid_test::runtime(1);
    auto tx = braid::broadcast::channel<int>(16);  // more than is sent: the thread never lags
    auto rx = tx.subscribe();
    std::atomic<long> sum{0};
    std::thread t([&] {
        for (;;) {
            auto r = rx.blocking_recv();
            if (r.is_closed()) break;
            sum += *r;
        }
    });
    rt.block_on([](braid::broadcast::Sender<int> tx) -> braid::Task<> {
        for (int i = 0; i < 10; ++i) {
            tx.send(i);
            co_await braid::sleep(100us);
        }
    }(std::move(tx)));
    t.join();
    REQUIRE(sum == 45);
    int out = 0;
    REQUIRE(braid_broadcast_recv_blocking(rx.native_handle(), &out, sizeof out, nullptr, 1) == BRAID_ECLOSED);
    int rc = rt.block_on([](braid_broadcast_rx* h) -> braid::Task<int> {
        int o = 0;
        co_return braid_broadcast_recv_blocking(h, &o, sizeof o, nullptr, 1);
    }(rx.native_handle()));
    REQUIRE(rc == BRAID_EDEADLK);
}

TEST_CASE("sync_broadcast.broadcast C ABI: bad input, plain bytes") {
    braid_broadcast_tx* tx = nullptr;
    REQUIRE(braid_broadcast_new(&tx, 0, sizeof(int), alignof(int), nullptr, nullptr, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_broadcast_new(nullptr, 4, sizeof(int), alignof(int), nullptr, nullptr, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_broadcast_new(&tx, 4, sizeof(int), 6, nullptr, nullptr, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_broadcast_new(&tx, 4, sizeof(int), alignof(int), nullptr, nullptr, nullptr) == BRAID_OK);
    int v = 3;
    size_t n = 9;
    REQUIRE(braid_broadcast_send(tx, &v, sizeof v, &n) == BRAID_ECLOSED);
    REQUIRE(n == 0);
    braid_broadcast_rx* rx = nullptr;
    REQUIRE(braid_broadcast_subscribe(&rx, tx) == BRAID_OK);
    long wrong = 0;
    REQUIRE(braid_broadcast_send(tx, &wrong, sizeof wrong, &n) == BRAID_EINVAL);
    REQUIRE(braid_broadcast_send(tx, &v, sizeof v, &n) == BRAID_OK);
    REQUIRE(n == 1);
    REQUIRE(braid_broadcast_try_recv(rx, &wrong, sizeof wrong, nullptr) == BRAID_EINVAL);
    int out = 0;
    REQUIRE(braid_broadcast_try_recv(rx, &out, sizeof out, nullptr) == BRAID_OK);
    REQUIRE(out == 3);
    REQUIRE(braid_broadcast_try_recv(rx, &out, sizeof out, nullptr) == BRAID_EAGAIN);
    braid_waiter* w = nullptr;
    REQUIRE(braid_broadcast_poll_recv(rx, &out, sizeof out, nullptr, nullptr, nullptr, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_broadcast_poll_recv(nullptr, &out, sizeof out, nullptr, &w, nullptr, nullptr) == BRAID_EINVAL);
    braid_broadcast_tx_free(tx);
    REQUIRE(braid_broadcast_try_recv(rx, &out, sizeof out, nullptr) == BRAID_ECLOSED);
    braid_broadcast_rx_free(rx);
    braid_broadcast_rx_free(nullptr);
    braid_broadcast_tx_free(nullptr);
    REQUIRE(braid_broadcast_receiver_count(nullptr) == 0);
    REQUIRE_THROWS_AS(braid::broadcast::channel<int>(0), braid::Error);
    braid::broadcast::Receiver<int> moved;
    REQUIRE_THROWS_AS((void)moved.recv(), braid::Error);
}

TEST_CASE("sync_broadcast.broadcast: a huge capacity keeps only what receivers still have to read") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    for (size_t cap : {SIZE_MAX, SIZE_MAX >> 1, size_t(1) << 40, size_t(1) << 24, size_t(1000), size_t(3)}) {
        INFO(cap);
        braid_broadcast_tx* tx = nullptr;
        REQUIRE(braid_broadcast_new(&tx, cap, sizeof(uint64_t), alignof(uint64_t), nullptr, nullptr, nullptr) == BRAID_OK);
        braid_broadcast_rx* slow = nullptr;
        braid_broadcast_rx* fast = nullptr;
        REQUIRE(braid_broadcast_subscribe(&slow, tx) == BRAID_OK);
        REQUIRE(braid_broadcast_subscribe(&fast, tx) == BRAID_OK);
        const uint64_t n = 5000;
        uint64_t out = 0;
        for (uint64_t i = 0; i < n; ++i) {
            REQUIRE(braid_broadcast_send(tx, &i, sizeof i, nullptr) == BRAID_OK);
            REQUIRE(braid_broadcast_try_recv(fast, &out, sizeof out, nullptr) == BRAID_OK);
            REQUIRE(out == i);
        }
        uint64_t kept = std::min<uint64_t>(n, cap);
        REQUIRE(braid_broadcast_rx_len(slow) == kept);
        uint64_t lagged = 0;
        if (kept < n) {
            REQUIRE(braid_broadcast_try_recv(slow, &out, sizeof out, &lagged) == BRAID_BROADCAST_LAGGED);
            REQUIRE(lagged == n - kept);
        }
        for (uint64_t i = n - kept; i < n; ++i) {
            REQUIRE(braid_broadcast_try_recv(slow, &out, sizeof out, nullptr) == BRAID_OK);
            REQUIRE(out == i);
        }
        REQUIRE(braid_broadcast_try_recv(slow, &out, sizeof out, nullptr) == BRAID_EAGAIN);
        braid_broadcast_rx_free(slow);
        braid_broadcast_rx_free(fast);
        braid_broadcast_tx_free(tx);
    }

    // The C++ layer: values that own memory, some never received.
    {
        auto tx = braid::broadcast::channel<Tracked>(SIZE_MAX >> 1);
        auto rx = tx.subscribe();
        auto rx2 = tx.subscribe();
        for (int i = 0; i < 3000; ++i) REQUIRE_FALSE(tx.send(Tracked(i)).has_value());
        for (int i = 0; i < 3000; ++i) REQUIRE(rx.try_recv()->value == i);
        for (int i = 0; i < 1000; ++i) REQUIRE(rx2.try_recv()->value == i);
        REQUIRE(rx2.len() == 2000);
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("sync_broadcast.broadcast: send reports how many receivers will see the value, len counts what is still queued") {
    auto is_value = [](braid::broadcast::RecvResult<int> r, int v) { return r.has_value() && *r == v; };
    auto tx = braid::broadcast::channel<int>(4);
    auto a = tx.subscribe();
    auto b = tx.subscribe();
    std::size_t receivers = 0;
    REQUIRE_FALSE(tx.send(1, &receivers).has_value());
    REQUIRE(receivers == 2);
    REQUIRE_FALSE(tx.send(2).has_value());
    REQUIRE(tx.len() == 2);
    REQUIRE(is_value(a.try_recv(), 1));
    REQUIRE(tx.len() == 2);  // b still has to read both
    REQUIRE(is_value(b.try_recv(), 1));
    REQUIRE(tx.len() == 1);
    REQUIRE(is_value(a.try_recv(), 2));
    REQUIRE(is_value(b.try_recv(), 2));
    REQUIRE(tx.len() == 0);
    REQUIRE(tx.is_empty());
    // Pushed out by newer values: no longer queued.
    for (int i = 0; i < 6; ++i) REQUIRE_FALSE(tx.send(10 + i).has_value());
    REQUIRE(tx.len() == 4);
    { auto gone = std::move(a); }
    { auto gone = std::move(b); }
    REQUIRE(tx.len() == 0);  // nobody left to read them
    receivers = 99;
    REQUIRE(tx.send(7, &receivers) == std::optional<int>(7));
    REQUIRE(braid_broadcast_tx_len(nullptr) == 0);
}

}  // namespace test_sync_broadcast
