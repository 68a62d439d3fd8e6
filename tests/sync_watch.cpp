// watch: borrow, changed, send variants, wait_for, subscribe, closed,
// versions in order, cancellation, blocking waits, the C ABI.
#include <catch2/catch.hpp>
#include <braid/watch.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_sync_watch {

using namespace std::chrono_literals;
using braid_test::Tracked;

TEST_CASE("sync_watch.watch: borrow sees the latest value, changed waits for a newer one") {
    auto rt = braid_test::runtime(2);
    auto r = rt.block_on([]() -> braid::Task<std::vector<std::string>> {
        auto [tx, rx] = braid::watch::channel<std::string>("initial");
        std::vector<std::string> out;
        out.push_back(*rx.borrow());
        out.push_back(rx.has_changed() ? "changed" : "same");
        tx.send("updated");
        out.push_back(rx.has_changed() ? "changed" : "same");
        co_await rx.changed();  // completes at once: unseen version
        out.push_back(*rx.borrow());
        auto later = braid::spawn([](braid::watch::Sender<std::string> tx) -> braid::Task<> {
            co_await braid::sleep(1ms);
            tx.send("later");
        }, tx);
        bool ok = co_await rx.changed();
        out.push_back(ok ? *rx.borrow() : "closed");
        co_await later;
        co_return out;
    }());
    REQUIRE(r == std::vector<std::string>{"initial", "same", "changed", "updated", "later"});
}

TEST_CASE("sync_watch.watch: changed() gives false once the sender is gone") {
    auto rt = braid_test::runtime(2);
    auto r = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto [tx, rx] = braid::watch::channel<int>(0);
        auto dropper = braid::spawn([](braid::watch::Sender<int> tx) -> braid::Task<> {
            co_await braid::sleep(1ms);
            tx.send(1);
        }, std::move(tx));
        std::vector<int> out;
        while (co_await rx.changed()) out.push_back(*rx.borrow_and_update());
        co_await dropper;
        out.push_back(*rx.borrow());
        co_return out;
    }());
    REQUIRE(r == std::vector<int>{1, 1});
}

TEST_CASE("sync_watch.watch: send, send_replace, send_modify, send_if_modified") {
    auto [tx, rx] = braid::watch::channel<std::vector<int>>({1});
    REQUIRE_FALSE(tx.send({2}).has_value());
    REQUIRE(rx.has_changed());
    { auto r = rx.borrow_and_update(); REQUIRE(r.has_changed()); REQUIRE(*r == std::vector<int>{2}); }
    REQUIRE_FALSE(rx.has_changed());
    auto old = tx.send_replace({3});
    REQUIRE(old == std::vector<int>{2});
    tx.send_modify([](std::vector<int>& v) { v.push_back(4); });
    REQUIRE(*tx.borrow() == std::vector<int>{3, 4});
    (void)rx.borrow_and_update();
    REQUIRE_FALSE(tx.send_if_modified([](std::vector<int>&) { return false; }));
    REQUIRE_FALSE(rx.has_changed());
    REQUIRE(tx.send_if_modified([](std::vector<int>& v) {
        v.clear();
        return true;
    }));
    REQUIRE(rx.has_changed());
    REQUIRE_THROWS_AS(tx.send_modify([](std::vector<int>&) { throw std::runtime_error("x"); }), std::runtime_error);
    (void)rx.borrow_and_update();
    REQUIRE_THROWS_AS(tx.send_if_modified([](std::vector<int>&) -> bool { throw std::runtime_error("x"); }),
                      std::runtime_error);
    REQUIRE_FALSE(rx.has_changed());  // a throwing modification notifies nobody
    { auto gone = std::move(rx); }
    REQUIRE(tx.is_closed());
    auto back = tx.send({9});  // no receiver: not stored
    REQUIRE(back.has_value());
    REQUIRE(tx.borrow()->empty());
    tx.send_replace({8});  // stored anyway
    REQUIRE(*tx.borrow() == std::vector<int>{8});
}

TEST_CASE("sync_watch.watch: subscribe, receiver copies and closed()") {
    auto rt = braid_test::runtime(2);
    auto r = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto [tx, rx] = braid::watch::channel<int>(1);
        tx.send(2);
        auto sub = tx.subscribe();  // has seen 2
        auto copy = rx;             // has not
        std::vector<int> out{int(tx.receiver_count()), sub.has_changed() ? 1 : 0, copy.has_changed() ? 1 : 0};
        auto dropper = braid::spawn([](braid::watch::Receiver<int> a, braid::watch::Receiver<int> b,
                                       braid::watch::Receiver<int> c) -> braid::Task<> {
            co_await braid::sleep(1ms);
            (void)a, (void)b, (void)c;
        }, std::move(rx), std::move(sub), std::move(copy));
        co_await tx.closed();
        out.push_back(tx.is_closed() ? 1 : 0);
        co_await dropper;
        co_return out;
    }());
    REQUIRE(r == std::vector<int>{3, 0, 1, 1});
}

TEST_CASE("sync_watch.watch: wait_for returns the first value that matches") {
    auto rt = braid_test::runtime(2);
    auto r = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto [tx, rx] = braid::watch::channel<int>(0);
        auto counter = braid::spawn([](braid::watch::Sender<int> tx) -> braid::Task<> {
            for (int i = 1; i <= 10; ++i) {
                tx.send(i);
                co_await braid::yield_now();
            }
        }, tx);
        std::vector<int> out;
        {
            auto ref = co_await rx.wait_for([](int v) { return v >= 5; });
            out.push_back(ref && **ref >= 5 ? 1 : 0);
        }
        co_await counter;
        {
            auto now = co_await rx.wait_for([](int v) { return v == 10; });  // already true
            out.push_back(now ? **now : -1);
        }
        { auto gone = std::move(tx); }
        auto never = co_await rx.wait_for([](int v) { return v > 10; });
        out.push_back(never ? 1 : 0);
        co_return out;
    }());
    REQUIRE(r == std::vector<int>{1, 10, 0});
}

TEST_CASE("sync_watch.watch: a changed() cancelled while waiting consumes nothing") {
    auto rt = braid_test::paused_runtime();
    auto r = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto [tx, rx] = braid::watch::channel<int>(0);
        std::vector<int> out;
        auto t = co_await braid::timeout(5ms, rx.changed());
        out.push_back(t ? 1 : 0);
        tx.send(1);
        out.push_back(rx.has_changed() ? 1 : 0);
        auto u = co_await braid::timeout(5ms, rx.changed());
        out.push_back(u && *u ? *rx.borrow() : -1);
        co_return out;
    }());
    REQUIRE(r == std::vector<int>{0, 1, 1});
}

TEST_CASE("sync_watch.watch: values are counted") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    {
        auto [tx, rx] = braid::watch::channel<Tracked>(Tracked(0));
        for (int i = 1; i < 10; ++i) tx.send(Tracked(i));
        auto old = tx.send_replace(Tracked(10));
        REQUIRE(old.value == 9);
        REQUIRE(rx.borrow()->value == 10);
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("sync_watch.watch: blocking changed() on a foreign thread, refused on workers") {
    auto rt = braid_test::runtime(1);
    auto [tx, rx] = braid::watch::channel<int>(0);
    std::atomic<int> last{0};
    std::thread t([r = rx, &last]() mutable {
        while (r.blocking_changed()) last = *r.borrow_and_update();
    });
    rt.block_on([](braid::watch::Sender<int> tx) -> braid::Task<> {
        for (int i = 1; i <= 5; ++i) {
            co_await braid::sleep(100us);
            tx.send(i);
        }
    }(std::move(tx)));
    t.join();
    REQUIRE(last == 5);
    REQUIRE(braid_watch_rx_changed_blocking(rx.native_handle(), 1) == BRAID_OK);  // unseen: 5
    REQUIRE(braid_watch_rx_changed_blocking(rx.native_handle(), 1) == BRAID_ECLOSED);
    int rc = rt.block_on([](braid_watch_rx* h) -> braid::Task<int> { co_return braid_watch_rx_changed_blocking(h, 1); }(
        rx.native_handle()));
    REQUIRE(rc == BRAID_EDEADLK);
}

TEST_CASE("sync_watch.watch C ABI: borrow, versions and bad input") {
    braid_watch_tx* tx = nullptr;
    braid_watch_rx* rx = nullptr;
    int init = 1;
    REQUIRE(braid_watch_new(&tx, &rx, nullptr, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_watch_new(&tx, &rx, &init, sizeof(int), 5, nullptr, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_watch_new(&tx, &rx, &init, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    const void* p = nullptr;
    int changed = 9;
    REQUIRE(braid_watch_rx_borrow(rx, 1, &p, &changed) == BRAID_OK);
    REQUIRE(*static_cast<const int*>(p) == 1);
    REQUIRE(changed == 0);
    braid_watch_rx_borrow_end(rx);
    long wrong = 2;
    REQUIRE(braid_watch_send(tx, &wrong, sizeof wrong) == BRAID_EINVAL);
    int v = 2;
    REQUIRE(braid_watch_send(tx, &v, sizeof v) == BRAID_OK);
    REQUIRE(braid_watch_rx_has_changed(rx) == 1);
    braid_waiter* w = nullptr;
    REQUIRE(braid_watch_rx_poll_changed(rx, &w, +[](void*) {}, nullptr) == BRAID_OK);
    REQUIRE(braid_watch_rx_has_changed(rx) == 0);
    REQUIRE(braid_watch_rx_poll_changed(rx, &w, nullptr, nullptr) == BRAID_PENDING);  // withdraws: nothing queued
    REQUIRE(w == nullptr);
    int r = 3;
    REQUIRE(braid_watch_send_replace(tx, &r, sizeof r) == BRAID_OK);
    REQUIRE(r == 2);
    int modified = -1;
    REQUIRE(braid_watch_send_modify(tx, nullptr, nullptr, &modified) == BRAID_EINVAL);
    REQUIRE(braid_watch_send_modify(
                tx, [](void* value, void*) { return ++*static_cast<int*>(value) > 0 ? 1 : 0; }, nullptr, &modified) ==
            BRAID_OK);
    REQUIRE(modified == 1);
    REQUIRE(braid_watch_tx_borrow(tx, &p) == BRAID_OK);
    REQUIRE(*static_cast<const int*>(p) == 4);
    braid_watch_tx_borrow_end(tx);
    REQUIRE(braid_watch_receiver_count(tx) == 1);
    braid_watch_tx_free(tx);
    REQUIRE(braid_watch_rx_has_changed(rx) == 1);  // an unseen version is still there
    REQUIRE(braid_watch_rx_poll_changed(rx, &w, +[](void*) {}, nullptr) == BRAID_OK);
    REQUIRE(braid_watch_rx_has_changed(rx) == BRAID_ECLOSED);
    REQUIRE(braid_watch_rx_poll_changed(rx, &w, +[](void*) {}, nullptr) == BRAID_ECLOSED);
    braid_watch_rx_free(rx);
    braid_watch_rx_free(nullptr);
    braid_watch_tx_free(nullptr);
    REQUIRE(braid_watch_rx_has_changed(nullptr) == BRAID_EINVAL);
    braid::watch::Receiver<int> moved;
    REQUIRE_THROWS_AS(moved.borrow(), braid::Error);
}

TEST_CASE("sync_watch.watch: has_changed throws RecvError once every sender is gone and nothing new is there") {
    auto [tx, rx] = braid::watch::channel<int>(1);
    tx.send(2);
    { auto gone = std::move(tx); }
    REQUIRE(rx.has_changed());  // the last version is still unseen
    REQUIRE(*rx.borrow_and_update() == 2);
    REQUIRE_THROWS_AS(rx.has_changed(), braid::RecvError);
}

}  // namespace test_sync_watch
