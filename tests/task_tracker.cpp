// braid::TaskTracker: wait() completes once closed and every tracked task
// has ended.
#include <catch2/catch.hpp>

#include "support.hpp"

namespace test_task_tracker {

using namespace std::chrono_literals;

TEST_CASE("task_tracker.wait completes only once the tracker is closed and empty") {
    auto rt = braid_test::runtime(2);
    rt.block_on([]() -> braid::Task<> {
        braid::TaskTracker tracker;
        EXPECT(tracker.is_empty());
        EXPECT(!tracker.is_closed());
        auto [tx, rx] = braid::oneshot::channel<int>();
        tracker.spawn([](braid::oneshot::Receiver<int> rx) -> braid::Task<> { co_await rx; }(std::move(rx))).detach();
        EXPECT(tracker.len() == 1);
        {
            auto w = tracker.wait();
            auto r = co_await braid::timeout(10ms, w);  // open: never completes
            EXPECT(!r);
        }
        EXPECT(tracker.close());
        EXPECT(!tracker.close());  // closed already
        EXPECT(tracker.is_closed());
        {
            auto w = tracker.wait();
            auto r = co_await braid::timeout(10ms, w);  // closed, one task left
            EXPECT(!r);
        }
        tx.send(1);
        co_await tracker.wait();
        EXPECT(tracker.is_empty());
    }());
}

TEST_CASE("task_tracker.an empty closed tracker is ready at once, reopen undoes close") {
    auto rt = braid_test::current_thread_runtime(true);
    rt.block_on([]() -> braid::Task<> {
        braid::TaskTracker tracker;
        tracker.close();
        co_await tracker.wait();
        EXPECT(tracker.reopen());
        EXPECT(!tracker.reopen());
        auto w = tracker.wait();
        auto r = co_await braid::timeout(1s, w);  // open again: waits
        EXPECT(!r);
    }());
}

TEST_CASE("task_tracker.graceful shutdown: many tasks, spawn_blocking, spawn_on and a token all counted") {
    auto rt = braid_test::runtime(2);
    auto other = braid_test::runtime(1);
    auto h = other.handle();
    std::atomic<int> finished{0};
    rt.block_on([](braid::Handle h, std::atomic<int>* finished) -> braid::Task<> {
        braid::TaskTracker tracker;
        for (int i = 0; i < 50; ++i)
            tracker.spawn([](std::atomic<int>* f) -> braid::Task<> {
                co_await braid::yield_now();
                ++*f;
            }, finished).detach();
        tracker.spawn_blocking([finished] { ++*finished; }).detach();
        tracker.spawn_on([](std::atomic<int>* f) -> braid::Task<> {
            ++*f;
            co_return;
        }(finished), h).detach();
        auto token = std::make_unique<braid::TaskTracker::Token>(tracker.token());
        tracker.close();
        EXPECT(!tracker.is_empty());
        auto waiter = braid::spawn([](braid::TaskTracker t) -> braid::Task<> { co_await t.wait(); }(tracker));
        auto r = co_await braid::timeout(10ms, waiter);  // the token still counts
        EXPECT(!r);
        token.reset();
        co_await waiter;
        EXPECT(finished->load() == 52);
    }(h.clone(), &finished));
}

TEST_CASE("task_tracker.a tracked task that is aborted, or dropped by a shutdown, stops counting") {
    braid::TaskTracker tracker;
    {
        auto rt = braid_test::runtime(1);
        rt.block_on([](braid::TaskTracker tracker) -> braid::Task<> {
            auto jh = tracker.spawn([]() -> braid::Task<> { co_await braid_test::pending(); }());
            tracker.spawn([]() -> braid::Task<> { co_await braid_test::pending(); }()).detach();
            EXPECT(tracker.len() == 2);
            jh.abort();
            try {
                co_await jh;
            } catch (const braid::TaskCancelled&) {
            }
            EXPECT(tracker.len() == 1);
        }(tracker));
    }  // shut down: the pending task's frame is destroyed
    REQUIRE(tracker.is_empty());
}

}  // namespace test_task_tracker
