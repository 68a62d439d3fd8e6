// The blocking pool: how it hands jobs to threads (a job that waits for a
// later one still gets a thread, a burst of short jobs all runs), its
// keep-alive, and cancelling a job that has not started.  Growth to
// max_blocking_threads is in task_spawn.cpp, shutdown in rt_runtime.cpp and
// rt_stress.cpp.
#include <catch2/catch.hpp>

#include <braid/braid.hpp>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>

#include "support.hpp"

TEST_CASE("the first of 100 blocking jobs waits for the last one and all finish") {
    auto rt = braid::Runtime::builder().worker_threads(1).build();
    uint64_t sum = rt.block_on([]() -> braid::Task<uint64_t> {
        auto gate = std::make_shared<std::promise<void>>();
        std::shared_future<void> opened = gate->get_future().share();
        std::vector<braid::JoinHandle<uint64_t>> hs;
        hs.push_back(braid::spawn_blocking([opened] {
            opened.wait();  // holds its thread until job 99 ran
            return uint64_t(0);
        }));
        for (uint64_t i = 1; i < 99; ++i) hs.push_back(braid::spawn_blocking([i] { return i; }));
        hs.push_back(braid::spawn_blocking([gate] {
            gate->set_value();
            return uint64_t(99);
        }));
        uint64_t s = 0;
        for (auto& h : hs) s += co_await h;
        co_return s;
    }());
    REQUIRE(sum == 99 * 100 / 2);
}

TEST_CASE("10,000 short blocking jobs on 2 threads all run once and return their values") {
    auto rt = braid::Runtime::builder().worker_threads(2).max_blocking_threads(2).build();
    std::vector<std::atomic<int>> ran(10000);
    uint64_t sum = rt.block_on([](std::vector<std::atomic<int>>* r) -> braid::Task<uint64_t> {
        std::vector<braid::JoinHandle<uint64_t>> hs;
        for (uint64_t i = 0; i < r->size(); ++i)
            hs.push_back(braid::spawn_blocking([r, i] {
                ++(*r)[i];
                return i;
            }));
        uint64_t s = 0;
        for (auto& h : hs) s += co_await h;
        co_return s;
    }(&ran));
    REQUIRE(sum == 9999ull * 10000 / 2);
    for (auto& r : ran) REQUIRE(r.load() == 1);
}

TEST_CASE("idle blocking threads end after the keep-alive, and a later job starts a new one") {
    struct Stops {
        std::mutex mu;
        std::condition_variable cv;
        int n = 0;
    };
    auto stops = std::make_shared<Stops>();
    std::atomic<int> starts{0};
    auto rt = braid::Runtime::builder()
                  .worker_threads(1)
                  .thread_keep_alive(std::chrono::milliseconds(1))
                  .on_thread_start([&starts] { ++starts; })
                  .on_thread_stop([stops] {
                      std::lock_guard<std::mutex> g(stops->mu);
                      ++stops->n;
                      stops->cv.notify_all();
                  })
                  .build();
    auto wait_for_stops = [&](int n) {
        std::unique_lock<std::mutex> lk(stops->mu);
        stops->cv.wait(lk, [&] { return stops->n >= n; });
    };
    auto job = []() -> braid::Task<int> { co_return co_await braid::spawn_blocking([] { return 7; }); };
    rt.block_on([]() -> braid::Task<> { co_return; }());  // the worker and the reactor are up
    int started_before = starts.load();
    REQUIRE(rt.block_on(job()) == 7);
    wait_for_stops(1);  // the blocking thread, idle past its keep-alive (workers stop at shutdown only)
    REQUIRE(starts.load() == started_before + 1);
    REQUIRE(rt.block_on(job()) == 7);
    REQUIRE(starts.load() == started_before + 2);
    wait_for_stops(2);
}

TEST_CASE("aborting a blocking job that waits for a thread cancels it, the running one finishes") {
    auto rt = braid::Runtime::builder().worker_threads(1).max_blocking_threads(1).build();
    std::atomic<bool> second_ran{false};
    auto [first, cancelled] = rt.block_on([](std::atomic<bool>* ran) -> braid::Task<std::pair<int, bool>> {
        auto gate = std::make_shared<std::promise<void>>();
        std::shared_future<void> opened = gate->get_future().share();
        std::atomic<bool> inside{false};
        auto a = braid::spawn_blocking([opened, &inside] {
            inside = true;
            opened.wait();
            return 1;
        });
        while (!inside.load()) co_await braid::yield_now();  // the only thread is busy with a
        auto b = braid::spawn_blocking([ran] {
            *ran = true;
            return 2;
        });
        b.abort();
        gate->set_value();
        bool c = false;
        try {
            (void)co_await b;
        } catch (const braid::TaskCancelled&) {
            c = true;
        }
        co_return std::make_pair(co_await a, c);
    }(&second_ran));
    REQUIRE(first == 1);
    REQUIRE(cancelled);
    REQUIRE_FALSE(second_ran.load());
}
