// task::block_in_place: blocking code inside a task while the worker's
// other tasks go on running on a stand-in thread.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <thread>

#include "support.hpp"

namespace test_rt_block_in_place {

TEST_CASE("rt_block_in_place.block_in_place lets the worker's other tasks run while it blocks") {
    // One worker: without the hand-over nothing else could run while the
    // blocking function waits for the other task.
    auto rt = braid::Runtime::builder().worker_threads(1).build();
    int v = rt.block_on([]() -> braid::Task<int> {
        std::promise<int> p;
        auto f = p.get_future();
        // Queued on this worker (its local queue), behind this task.
        auto other = braid::spawn([](std::promise<int>* p) -> braid::Task<> {
            p->set_value(11);
            co_return;
        }(&p));
        int got = braid::task::block_in_place([&] { return f.get(); });
        co_await other;
        co_return got;
    }());
    REQUIRE(v == 11);
}

TEST_CASE("rt_block_in_place.block_in_place runs on the calling thread and the task goes on there") {
    auto rt = braid_test::runtime(2);
    rt.block_on([]() -> braid::Task<> {
        auto before = std::this_thread::get_id();
        auto inside = braid::task::block_in_place([] { return std::this_thread::get_id(); });
        EXPECT(inside == before);
        EXPECT(std::this_thread::get_id() == before);
        uint64_t id = braid::task::id();
        EXPECT(braid::task::block_in_place([] { return braid::task::id(); }) == id);
        co_await braid::yield_now();  // the worker is back: scheduling works
    }());
}

TEST_CASE("rt_block_in_place.block_in_place can block_on the same runtime through Handle::current") {
    auto rt = braid_test::runtime(1);
    int v = rt.block_on([]() -> braid::Task<int> {
        co_return braid::task::block_in_place([] {
            return braid::Handle::current().block_on([]() -> braid::Task<int> {
                co_await braid::yield_now();
                co_return 3;
            }());
        });
    }());
    REQUIRE(v == 3);
}

TEST_CASE("rt_block_in_place.block_in_place passes the function's exception on") {
    auto rt = braid_test::runtime(1);
    bool caught = rt.block_on([]() -> braid::Task<bool> {
        try {
            braid::task::block_in_place([]() -> int { throw std::runtime_error("boom"); });
        } catch (const std::runtime_error&) {
            co_return true;
        }
        co_return false;
    }());
    REQUIRE(caught);
}

TEST_CASE("rt_block_in_place.block_in_place is refused on a current-thread runtime") {
    auto rt = braid_test::current_thread_runtime();
    int code = rt.block_on([]() -> braid::Task<int> {
        bool ran = false;
        int c = braid_test::error_code_of([&] { braid::task::block_in_place([&] { ran = true; }); });
        EXPECT(!ran);
        co_return c;
    }());
    REQUIRE(code == BRAID_ENOTSUP);
}

TEST_CASE("rt_block_in_place.block_in_place outside a worker just runs the function") {
    int n = braid::task::block_in_place([] { return 4; });
    REQUIRE(n == 4);
    auto rt = braid_test::runtime(1);
    int m = rt.block_on([]() -> braid::Task<int> {
        co_return co_await braid::spawn_blocking([] { return braid::task::block_in_place([] { return 5; }); });
    }());
    REQUIRE(m == 5);
}

TEST_CASE("rt_block_in_place.block_in_place nests") {
    auto rt = braid_test::runtime(2);
    int v = rt.block_on([]() -> braid::Task<int> {
        co_return braid::task::block_in_place([] { return braid::task::block_in_place([] { return 6; }); });
    }());
    REQUIRE(v == 6);
}

TEST_CASE("rt_block_in_place.block_in_place under many tasks keeps every task running") {
    auto rt = braid_test::runtime(2);
    int sum = rt.block_on([]() -> braid::Task<int> {
        braid::JoinSet<int> set;
        for (int i = 0; i < 64; ++i)
            set.spawn([](int i) -> braid::Task<int> {
                int r = braid::task::block_in_place([i] { return i; });
                co_await braid::yield_now();
                co_return r;
            }, i);
        int s = 0;
        while (auto r = co_await set.join_next()) s += *r;
        co_return s;
    }());
    REQUIRE(sum == 64 * 63 / 2);
}

TEST_CASE("rt_block_in_place.a runtime shut down while a task blocks in place waits for it") {
    std::atomic<bool> done{false};
    std::promise<void> entered;
    auto release = std::make_shared<std::promise<void>>();
    auto released = release->get_future().share();
    {
        auto rt = braid_test::runtime(2);
        rt.spawn([](std::promise<void>* entered, std::shared_future<void> released, std::atomic<bool>* done) -> braid::Task<> {
            braid::task::block_in_place([&] {
                entered->set_value();
                released.wait();
                *done = true;
            });
            co_return;
        }(&entered, released, &done)).detach();
        entered.get_future().wait();
        std::thread releaser([release] { release->set_value(); });
        rt.shutdown_timeout(std::chrono::milliseconds(-1));
        releaser.join();
        REQUIRE(done.load());
    }
}

}  // namespace test_rt_block_in_place
