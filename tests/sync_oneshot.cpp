// oneshot: delivery, dropped sender, dropped receiver, closed(), try_recv,
// blocking receive, cancellation, counting.
#include <catch2/catch.hpp>
#include <braid/oneshot.h>

#include <memory>
#include <string>
#include <thread>

#include "support.hpp"

namespace test_sync_oneshot {

using namespace std::chrono_literals;
using braid_test::Tracked;

TEST_CASE("sync_oneshot.oneshot: a value sent from another task is received") {
    auto rt = braid_test::runtime(2);
    std::string v = rt.block_on([]() -> braid::Task<std::string> {
        auto [tx, rx] = braid::oneshot::channel<std::string>();
        braid::spawn([](braid::oneshot::Sender<std::string> t) -> braid::Task<> {
            co_await braid::sleep(1ms);
            REQUIRE_FALSE(t.send("over the wire").has_value());
        }, std::move(tx)).detach();
        co_return co_await std::move(rx);
    }());
    REQUIRE(v == "over the wire");
}

TEST_CASE("sync_oneshot.oneshot: a dropped sender makes the receiver throw RecvError") {
    auto rt = braid_test::runtime(1);
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::oneshot::channel<int>();
        { auto gone = std::move(tx); }
        REQUIRE_THROWS_AS(co_await std::move(rx), braid::RecvError);
    }());
}

TEST_CASE("sync_oneshot.oneshot: send to a dropped receiver hands the value back") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    {
        auto [tx, rx] = braid::oneshot::channel<Tracked>();
        { auto gone = std::move(rx); }
        REQUIRE(tx.is_closed());
        auto back = tx.send(Tracked(7));
        REQUIRE(back.has_value());
        REQUIRE(back->value == 7);
        REQUIRE_THROWS_AS(tx.send(Tracked(8)), braid::Error);  // used after send
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("sync_oneshot.oneshot: a value never received is destroyed with the receiver") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    {
        auto [tx, rx] = braid::oneshot::channel<Tracked>();
        REQUIRE_FALSE(tx.send(Tracked(1)).has_value());
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("sync_oneshot.oneshot: try_recv is empty, then the value, then closed") {
    auto [tx, rx] = braid::oneshot::channel<std::unique_ptr<int>>();
    auto empty = rx.try_recv();
    REQUIRE_FALSE(empty.has_value());
    REQUIRE(empty.is_empty());
    REQUIRE_FALSE(empty.is_closed());
    REQUIRE_THROWS_AS(empty.value(), braid::Error);
    REQUIRE_FALSE(tx.send(std::make_unique<int>(3)).has_value());
    auto v = rx.try_recv();
    REQUIRE(v.has_value());
    REQUIRE(**v == 3);
    auto after = rx.try_recv();
    REQUIRE(after.is_closed());
    REQUIRE(after.error() == braid::TryRecvError::Closed);
}

TEST_CASE("sync_oneshot.oneshot: a dropped sender makes try_recv closed, not empty") {
    auto [tx, rx] = braid::oneshot::channel<int>();
    { auto gone = std::move(tx); }
    REQUIRE(rx.try_recv().is_closed());
}

TEST_CASE("sync_oneshot.oneshot: close() refuses later sends, keeps an earlier value, and wakes closed()") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    auto rt = braid_test::runtime(2);
    rt.block_on([]() -> braid::Task<> {
        {
            auto [tx, rx] = braid::oneshot::channel<Tracked>();
            auto waiter = braid::spawn([](braid::oneshot::Sender<Tracked> tx) -> braid::Task<bool> {
                co_await tx.closed();
                auto back = tx.send(Tracked(5));  // refused: the value comes back
                co_return back.has_value() && back->value == 5;
            }, std::move(tx));
            rx.close();
            EXPECT(co_await std::move(waiter));
            EXPECT(rx.try_recv().is_closed());
            bool threw = false;
            try {
                (void)co_await rx;
            } catch (const braid::RecvError&) {
                threw = true;
            }
            EXPECT(threw);
        }
        {
            auto [tx, rx] = braid::oneshot::channel<Tracked>();
            EXPECT(!tx.send(Tracked(9)).has_value());
            rx.close();
            rx.close();  // idempotent
            EXPECT((co_await std::move(rx)).value == 9);
        }
    }());
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("sync_oneshot.oneshot: closed() completes when the receiver is dropped") {
    auto rt = braid_test::runtime(2);
    bool closed = rt.block_on([]() -> braid::Task<bool> {
        auto [tx, rx] = braid::oneshot::channel<int>();
        auto dropper = braid::spawn([](braid::oneshot::Receiver<int> r) -> braid::Task<> {
            co_await braid::sleep(1ms);
            (void)r;
        }, std::move(rx));
        co_await tx.closed();
        co_await dropper;
        co_return tx.is_closed();
    }());
    REQUIRE(closed);
}

TEST_CASE("sync_oneshot.oneshot: a foreign thread receives with a blocking call") {
    auto rt = braid_test::runtime(1);
    auto [tx, rx] = braid::oneshot::channel<int>();
    rt.spawn([](braid::oneshot::Sender<int> t) -> braid::Task<> {
        co_await braid::sleep(1ms);
        t.send(99);
    }(std::move(tx))).detach();
    REQUIRE(rx.blocking_recv() == 99);
}

TEST_CASE("sync_oneshot.oneshot: a receive cancelled by abort loses nothing and leaks nothing") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    {
        auto rt = braid_test::runtime(2);
        auto [tx, rx] = braid::oneshot::channel<Tracked>();
        auto shared_rx = std::make_shared<braid::oneshot::Receiver<Tracked>>(std::move(rx));
        auto waiter = rt.spawn([](auto r) -> braid::Task<int> {
            Tracked t = co_await *r;
            co_return t.value;
        }(shared_rx));
        rt.block_on([](braid::JoinHandle<int>* w) -> braid::Task<> {
            co_await braid::sleep(1ms);
            w->abort();
            REQUIRE_THROWS_AS(co_await *w, braid::TaskCancelled);
        }(&waiter));
        REQUIRE_FALSE(tx.send(Tracked(5)).has_value());  // the receiver still exists
        REQUIRE(shared_rx->try_recv()->value == 5);       // and the value is there
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("sync_oneshot.oneshot C ABI: wrong sizes are refused, not copied") {
    braid_oneshot_tx* tx = nullptr;
    braid_oneshot_rx* rx = nullptr;
    REQUIRE(braid_oneshot_new(&tx, &rx, sizeof(int), 3, nullptr, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_oneshot_new(&tx, &rx, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    long big = 1;
    REQUIRE(braid_oneshot_send(tx, &big, sizeof big) == BRAID_EINVAL);  // tx still ours
    int v = 4;
    REQUIRE(braid_oneshot_send(tx, &v, sizeof v) == BRAID_OK);
    int out = 0;
    REQUIRE(braid_oneshot_try_recv(rx, &big, sizeof big) == BRAID_EINVAL);
    REQUIRE(braid_oneshot_try_recv(rx, &out, sizeof out) == BRAID_OK);
    REQUIRE(out == 4);
    REQUIRE(braid_oneshot_try_recv(rx, &out, sizeof out) == BRAID_ECLOSED);
    braid_oneshot_rx_free(rx);
    REQUIRE(braid_oneshot_send(nullptr, &v, sizeof v) == BRAID_EINVAL);
    braid_oneshot_tx_free(nullptr);
    braid_oneshot_rx_free(nullptr);
}

TEST_CASE("sync_oneshot.oneshot: a C producer and a C++ consumer share one channel") {
    auto rt = braid_test::runtime(2);
    braid_oneshot_tx* ctx = nullptr;
    braid_oneshot_rx* crx = nullptr;
    REQUIRE(braid_oneshot_new(&ctx, &crx, sizeof(double), alignof(double), nullptr, nullptr) == BRAID_OK);
    braid::oneshot::Receiver<double> rx(crx);
    std::thread producer([ctx] {
        double d = 2.5;
        REQUIRE(braid_oneshot_send(ctx, &d, sizeof d) == BRAID_OK);
    });
    double got = rt.block_on([](braid::oneshot::Receiver<double>* r) -> braid::Task<double> {
        co_return co_await std::move(*r);
    }(&rx));
    producer.join();
    REQUIRE(got == 2.5);
}

}  // namespace test_sync_oneshot
