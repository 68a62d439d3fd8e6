// Notify: notify_one (FIFO; one stored permit), notify_waiters, a cancelled
// waiter never swallows a notification, blocking waits, the C ABI.
#include <catch2/catch.hpp>
#include <braid/notify.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_sync_notify {

using namespace std::chrono_literals;

using braid_test::CountingWaker;

TEST_CASE("sync_notify.notify: notify_one with nobody waiting stores one permit") {
    braid::Notify n;
    REQUIRE_FALSE(n.try_notified());
    n.notify_one();
    n.notify_one();  // still one permit
    REQUIRE(n.try_notified());
    REQUIRE_FALSE(n.try_notified());
    n.notify_one();
    auto rt = braid_test::runtime(1);
    rt.block_on([](braid::Notify* n) -> braid::Task<> { co_await n->notified(); }(&n));  // completes at once
    REQUIRE_FALSE(n.try_notified());
}

TEST_CASE("sync_notify.notify: notify_one wakes waiters one at a time in FIFO order") {
    auto rt = braid_test::runtime(1);
    auto order = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto n = std::make_shared<braid::Notify>();
        auto log = std::make_shared<std::vector<int>>();
        std::vector<braid::JoinHandle<void>> hs;
        for (int i = 0; i < 4; ++i) {
            hs.push_back(braid::spawn([](auto n, auto log, int i) -> braid::Task<> {
                co_await n->notified();
                log->push_back(i);
            }(n, log, i)));
            co_await braid::yield_now();
        }
        for (int i = 0; i < 4; ++i) {
            n->notify_one();
            co_await braid::yield_now();
            co_await braid::yield_now();
        }
        for (auto& h : hs) co_await h;
        co_return *log;
    }());
    REQUIRE(order == std::vector<int>{0, 1, 2, 3});
}

TEST_CASE("sync_notify.notify: notify_waiters wakes everyone waiting and stores nothing") {
    auto rt = braid_test::runtime(2);
    auto r = rt.block_on([]() -> braid::Task<std::pair<int, bool>> {
        auto n = std::make_shared<braid::Notify>();
        auto woken = std::make_shared<std::atomic<int>>(0);
        std::vector<braid::JoinHandle<void>> hs;
        for (int i = 0; i < 10; ++i)
            hs.push_back(braid::spawn([](auto n, auto w) -> braid::Task<> {
                co_await n->notified();
                ++*w;
            }(n, woken)));
        co_await braid::sleep(2ms);
        n->notify_waiters();
        for (auto& h : hs) co_await h;
        co_return std::pair<int, bool>{woken->load(), n->try_notified()};
    }());
    REQUIRE(r.first == 10);
    REQUIRE_FALSE(r.second);
}

TEST_CASE("sync_notify.notify: a cancelled waiter does not swallow notify_one") {
    braid_notify* n = nullptr;
    REQUIRE(braid_notify_new(&n) == BRAID_OK);
    CountingWaker a, b;
    braid_waiter* wa = nullptr;
    braid_waiter* wb = nullptr;
    REQUIRE(braid_notify_poll_notified(n, &wa, &CountingWaker::wake, &a) == BRAID_PENDING);
    REQUIRE(braid_notify_poll_notified(n, &wb, &CountingWaker::wake, &b) == BRAID_PENDING);
    braid_notify_notify_one(n);  // picks a
    REQUIRE(a.wakes == 1);
    braid_notify_cancel_notified(n, &wa);  // a gives it to b
    REQUIRE(b.wakes == 1);
    REQUIRE(braid_notify_poll_notified(n, &wb, &CountingWaker::wake, &b) == BRAID_OK);
    // With nobody else waiting it becomes the stored permit.
    REQUIRE(braid_notify_poll_notified(n, &wa, &CountingWaker::wake, &a) == BRAID_PENDING);
    braid_notify_notify_one(n);
    braid_notify_cancel_notified(n, &wa);
    REQUIRE(braid_notify_try_notified(n) == BRAID_OK);
    // notify_waiters is not passed on.
    REQUIRE(braid_notify_poll_notified(n, &wa, &CountingWaker::wake, &a) == BRAID_PENDING);
    braid_notify_notify_waiters(n);
    braid_notify_cancel_notified(n, &wa);
    REQUIRE(braid_notify_try_notified(n) == BRAID_EAGAIN);
    REQUIRE(wb == nullptr);
    braid_notify_free(n);
}

TEST_CASE("sync_notify.notify: a waiter aborted after notify_one passes the notification on") {
    auto rt = braid_test::runtime(1);
    bool got = rt.block_on([]() -> braid::Task<bool> {
        auto n = std::make_shared<braid::Notify>();
        auto first = braid::spawn([](auto n) -> braid::Task<> { co_await n->notified(); }(n));
        co_await braid::yield_now();
        auto second = braid::spawn([](auto n) -> braid::Task<> { co_await n->notified(); }(n));
        co_await braid::yield_now();
        n->notify_one();  // first is chosen and woken, but aborted before it runs
        first.abort();
        try {
            co_await first;
        } catch (const braid::TaskCancelled&) {
        }
        co_await second;  // finishes: the notification moved on
        co_return true;
    }());
    REQUIRE(got);
}

TEST_CASE("sync_notify.notify: blocking waits on a foreign thread, refused on workers") {
    auto rt = braid_test::runtime(1);
    braid::Notify n;
    std::thread t([&] { n.blocking_notified(); });
    rt.block_on([](braid::Notify* n) -> braid::Task<> {
        co_await braid::sleep(1ms);
        n->notify_one();
    }(&n));
    t.join();
    REQUIRE(braid_notify_notified_blocking(n.native_handle(), 5) == BRAID_ETIMEDOUT);
    int rc = rt.block_on([](braid_notify* h) -> braid::Task<int> { co_return braid_notify_notified_blocking(h, 1); }(
        n.native_handle()));
    REQUIRE(rc == BRAID_EDEADLK);
}

TEST_CASE("sync_notify.notify C ABI: bad input") {
    REQUIRE(braid_notify_new(nullptr) == BRAID_EINVAL);
    braid_waiter* w = nullptr;
    REQUIRE(braid_notify_poll_notified(nullptr, &w, nullptr, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_notify_notified_blocking(nullptr, BRAID_WAIT_FOREVER) == BRAID_EINVAL);
    braid_notify_notify_one(nullptr);
    braid_notify_notify_waiters(nullptr);
    braid_notify_cancel_notified(nullptr, &w);
    braid_notify_free(nullptr);
}

TEST_CASE("sync_notify.notify: notify_last wakes the most recent waiter, or stores the permit") {
    braid::Notify n;
    auto wait = [&] {
        return std::make_unique<braid_test::PolledWait>(n.native_handle(), braid_notify_poll_notified,
                                                        braid_notify_cancel_notified);
    };
    auto a = wait(), b = wait(), c = wait();
    REQUIRE(a->poll() == BRAID_PENDING);
    REQUIRE(b->poll() == BRAID_PENDING);
    REQUIRE(c->poll() == BRAID_PENDING);
    n.notify_last();
    REQUIRE(c->is_woken());
    REQUIRE_FALSE(a->is_woken());
    REQUIRE_FALSE(b->is_woken());
    REQUIRE(c->poll() == BRAID_OK);
    n.notify_one();  // FIFO end: a
    REQUIRE(a->is_woken());
    REQUIRE_FALSE(b->is_woken());
    REQUIRE(a->poll() == BRAID_OK);
    n.notify_last();
    REQUIRE(b->poll() == BRAID_OK);
    n.notify_last();  // nobody waits: the permit
    REQUIRE(n.try_notified());
    braid_notify_notify_last(nullptr);  // NULL ok
}

TEST_CASE("sync_notify.notify: Notified::enable makes a notify_one before the await count") {
    braid::Notify n;
    auto rt = braid_test::runtime(1);
    {
        // The classic pattern: enable, check the condition, then await; a
        // notify_one in between is not lost (nor stored as a permit).
        auto notified = n.notified();
        REQUIRE_FALSE(notified.enable());
        n.notify_one();
        REQUIRE_FALSE(n.try_notified());  // it went to the enabled wait
        REQUIRE(notified.enable());       // notified already
        rt.block_on([](braid::Notify::Notified w) -> braid::Task<> { co_await std::move(w); }(std::move(notified)));
    }
    {
        // A stored permit is taken by enable.
        n.notify_one();
        auto notified = n.notified();
        REQUIRE(notified.enable());
        REQUIRE_FALSE(n.try_notified());
        rt.block_on([](braid::Notify::Notified w) -> braid::Task<> { co_await std::move(w); }(std::move(notified)));
    }
    {
        // Dropped unawaited after a notify_one chose it: passed on.
        auto notified = n.notified();
        REQUIRE_FALSE(notified.enable());
        n.notify_one();
    }
    REQUIRE(n.try_notified());
    {
        // Dropped unawaited while queued: leaves the queue.
        auto notified = n.notified();
        REQUIRE_FALSE(notified.enable());
    }
    n.notify_one();
    REQUIRE(n.try_notified());  // nobody was left to take it
    REQUIRE(braid_notify_enable_notified(nullptr, nullptr) == BRAID_EINVAL);
}

}  // namespace test_sync_notify
