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
#include <set>

#include "support.hpp"

namespace test_rt_blocking_pool {

TEST_CASE("rt_blocking_pool.the first of 100 blocking jobs waits for the last one and all finish") {
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

TEST_CASE("rt_blocking_pool.10,000 short blocking jobs on 2 threads all run once and return their values") {
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

namespace keep_alive_test {
// The start hook numbers each of the runtime's threads; the number is
// thread-local, so a job and the stop hook can tell which thread they are
// on (thread ids may be reused once a thread has ended; these numbers are
// not).
thread_local int thread_number = 0;
}  // namespace keep_alive_test

TEST_CASE("rt_blocking_pool.idle blocking threads end after the keep-alive, and a later job starts a new one") {
    using keep_alive_test::thread_number;
    struct Threads {
        std::mutex mu;
        std::condition_variable cv;
        int started = 0;
        std::set<int> stopped;
    };
    auto threads = std::make_shared<Threads>();
    auto rt = braid::Runtime::builder()
                  .worker_threads(1)
                  .thread_keep_alive(std::chrono::milliseconds(1))
                  .on_thread_start([threads] {
                      std::lock_guard<std::mutex> g(threads->mu);
                      thread_number = ++threads->started;
                  })
                  .on_thread_stop([threads] {
                      std::lock_guard<std::mutex> g(threads->mu);
                      threads->stopped.insert(thread_number);
                      threads->cv.notify_all();
                  })
                  .build();
    auto wait_for_stop = [&](int n) {
        std::unique_lock<std::mutex> lk(threads->mu);
        threads->cv.wait(lk, [&] { return threads->stopped.count(n) == 1; });
    };
    // The worker and the reactor start when they start (maybe after the
    // first block_on): only the blocking threads' numbers are compared.
    auto job = []() -> braid::Task<int> { co_return co_await braid::spawn_blocking([] { return thread_number; }); };
    int first = rt.block_on(job());
    REQUIRE(first > 0);  // ran on one of the runtime's threads, after its start hook
    wait_for_stop(first);  // the blocking thread, idle past its keep-alive (workers stop at shutdown only)
    int second = rt.block_on(job());
    REQUIRE(second > 0);
    REQUIRE(second != first);  // a new thread
    wait_for_stop(second);
}

TEST_CASE("rt_blocking_pool.aborting a blocking job that waits for a thread cancels it, the running one finishes") {
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

}  // namespace test_rt_blocking_pool
