// join, try_join, join_all: concurrency inside one task, results, exceptions,
// cancellation of the rest.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "support.hpp"

namespace test_task_join {

using namespace std::chrono_literals;
using braid_test::Tracked;
using braid_test::value_after;

namespace {
braid::Task<> nothing(std::chrono::milliseconds d) { co_await braid::sleep(d); }
braid::Task<int> fail_after(std::chrono::milliseconds d) {
    co_await braid::sleep(d);
    throw std::runtime_error("branch failed");
}
}  // namespace

TEST_CASE("task_join.join runs branches concurrently and returns every result") {
    auto rt = braid_test::paused_runtime();
    auto [vals, took] = rt.block_on([]() -> braid::Task<std::pair<std::tuple<int, std::monostate, std::string>, braid::Duration>> {
        auto t0 = braid::Instant::now();
        auto r = co_await braid::join(value_after(30ms, 1), nothing(20ms), [](int n) -> braid::Task<std::string> {
            co_await braid::sleep(std::chrono::milliseconds(n));
            co_return "s";
        }(10));
        co_return std::make_pair(r, t0.elapsed());
    }());
    REQUIRE(std::get<0>(vals) == 1);
    REQUIRE(std::get<2>(vals) == "s");
    REQUIRE(took == 30ms);  // concurrent: the longest, not the sum
}

TEST_CASE("task_join.join accepts any awaitable: sleeps, join handles, oneshot receivers") {
    auto rt = braid_test::runtime(2);
    int v = rt.block_on([]() -> braid::Task<int> {
        auto [tx, rx] = braid::oneshot::channel<int>();
        auto h = braid::spawn(value_after(1ms, 20));
        tx.send(22);
        auto [a, b, c] = co_await braid::join(std::move(h), std::move(rx), braid::sleep(1ms));
        (void)c;
        co_return a + b;
    }());
    REQUIRE(v == 42);
}

TEST_CASE("task_join.join waits for every branch, then rethrows the first exception") {
    auto rt = braid_test::paused_runtime();
    std::atomic<bool> slow_finished{false};
    REQUIRE_THROWS_WITH(rt.block_on([](std::atomic<bool>* f) -> braid::Task<> {
        co_await braid::join(fail_after(1ms), [](std::atomic<bool>* ff) -> braid::Task<> {
            co_await braid::sleep(50ms);
            ff->store(true);
        }(f));
    }(&slow_finished)),
                        "branch failed");
    REQUIRE(slow_finished.load());
}

TEST_CASE("task_join.try_join cancels the other branches on the first failure") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    auto rt = braid_test::paused_runtime();
    auto [what, elapsed] = rt.block_on([]() -> braid::Task<std::pair<std::string, braid::Duration>> {
        auto t0 = braid::Instant::now();
        try {
            co_await braid::try_join(fail_after(5ms), [](Tracked t) -> braid::Task<int> {
                co_await braid::sleep(std::chrono::hours(1));
                co_return t.value;
            }(Tracked(1)));
        } catch (const std::runtime_error& e) {
            co_return std::make_pair(std::string(e.what()), t0.elapsed());
        }
        co_return std::make_pair(std::string("no exception"), t0.elapsed());
    }());
    REQUIRE(what == "branch failed");
    REQUIRE(elapsed == 5ms);
    REQUIRE(Tracked::live() == 0);  // the sleeping branch's frame is gone
}

TEST_CASE("task_join.try_join returns all values when nothing fails") {
    auto rt = braid_test::paused_runtime();
    auto [a, b] = rt.block_on([]() -> braid::Task<std::tuple<int, int>> {
        co_return co_await braid::try_join(value_after(2ms, 3), value_after(1ms, 4));
    }());
    REQUIRE(a + b == 7);
}

TEST_CASE("task_join.join_all over a runtime-sized vector keeps the order") {
    auto rt = braid_test::paused_runtime();
    auto v = rt.block_on([]() -> braid::Task<std::vector<int>> {
        std::vector<braid::Task<int>> ts;
        for (int i = 0; i < 100; ++i) ts.push_back(value_after(std::chrono::milliseconds(100 - i), i));
        co_return co_await braid::join_all(std::move(ts));
    }());
    REQUIRE(v.size() == 100);
    for (int i = 0; i < 100; ++i) REQUIRE(v[size_t(i)] == i);
    auto none = rt.block_on([]() -> braid::Task<size_t> {
        co_return (co_await braid::join_all(std::vector<braid::Task<int>>{})).size();
    }());
    REQUIRE(none == 0);
}

TEST_CASE("task_join.join of void tasks through join_all") {
    auto rt = braid_test::paused_runtime();
    std::atomic<int> n{0};
    rt.block_on([](std::atomic<int>* c) -> braid::Task<> {
        std::vector<braid::Task<>> ts;
        for (int i = 0; i < 10; ++i)
            ts.push_back([](std::atomic<int>* cc) -> braid::Task<> {
                co_await braid::yield_now();
                cc->fetch_add(1);
            }(c));
        co_await braid::join_all(std::move(ts));
    }(&n));
    REQUIRE(n.load() == 10);
}

// ---- fairness: a branch that is always ready does not starve the others ------

namespace {
// Spins on a semaphore that always has a permit (every acquire is ready at
// once and uses one unit of the task's budget) until `other_ran` is set, or
// gives up after `limit` rounds; returns the rounds it spun.
braid::Task<int> spin_until(braid::Semaphore* sem, const bool* other_ran, int limit) {
    int rounds = 0;
    while (!*other_ran && rounds < limit) {
        auto permit = co_await sem->acquire();
        ++rounds;
    }
    co_return rounds;
}
braid::Task<int> take_one(braid::Semaphore* sem, bool* ran) {
    auto permit = co_await sem->acquire();
    *ran = true;
    co_return 1;
}
}  // namespace

TEST_CASE("task_join.join and try_join poll their branches in turn: a busy branch does not starve the next") {
    constexpr int kLimit = 100000;
    auto rt = braid_test::runtime(1);
    auto [joined, tried] = rt.block_on([]() -> braid::Task<std::pair<int, int>> {
        braid::Semaphore sem(1);
        bool ran = false;
        auto [a, b] = co_await braid::join(spin_until(&sem, &ran, kLimit), take_one(&sem, &ran));
        EXPECT(ran && b == 1);
        ran = false;
        auto [c, d] = co_await braid::try_join(spin_until(&sem, &ran, kLimit), take_one(&sem, &ran));
        EXPECT(ran && d == 1);
        co_return std::make_pair(a, c);
    }());
    // the second branch ran on the task's next poll, not after the first gave up
    REQUIRE(joined < 3 * 128);
    REQUIRE(tried < 3 * 128);
}

TEST_CASE("task_join.join_all polls its branches in turn") {
    constexpr int kLimit = 100000;
    auto rt = braid_test::runtime(1);
    int spun = rt.block_on([]() -> braid::Task<int> {
        braid::Semaphore sem(1);
        bool ran = false;
        std::vector<braid::Task<int>> ts;
        ts.push_back(spin_until(&sem, &ran, kLimit));
        ts.push_back(take_one(&sem, &ran));
        auto v = co_await braid::join_all(std::move(ts));
        EXPECT(ran && v[1] == 1);
        co_return v[0];
    }());
    REQUIRE(spun < 3 * 128);
}

}  // namespace test_task_join
