// timeout and timeout_at under paused time; cancellation on expiry; races.
#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>

#include "support.hpp"

namespace test_time_timeout {

using namespace std::chrono_literals;
using braid_test::Tracked;

namespace {
braid::Task<int> after(std::chrono::milliseconds d, int v) {
    co_await braid::sleep(d);
    co_return v;
}
}  // namespace

TEST_CASE("time_timeout.timeout gives the value when the awaitable is in time") {
    auto rt = braid_test::paused_runtime();
    auto v = rt.block_on([]() -> braid::Task<std::optional<int>> { co_return co_await braid::timeout(10ms, after(5ms, 7)); }());
    REQUIRE(v == 7);
}

TEST_CASE("time_timeout.timeout gives nothing when time runs out, and cancels the awaitable") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    auto rt = braid_test::paused_runtime();
    auto [v, took, live] = rt.block_on([]() -> braid::Task<std::tuple<std::optional<int>, braid::Duration, long>> {
        auto t0 = braid::Instant::now();
        auto r = co_await braid::timeout(10ms, [](Tracked t) -> braid::Task<int> {
            co_await braid::sleep(std::chrono::hours(1));
            co_return t.value;
        }(Tracked(1)));
        co_return std::make_tuple(r, t0.elapsed(), Tracked::live());
    }());
    REQUIRE_FALSE(v.has_value());
    REQUIRE(took == 10ms);
    REQUIRE(live == 0);
}

TEST_CASE("time_timeout.timeout_at an instant, void awaitables give a bool") {
    auto rt = braid_test::paused_runtime();
    auto [in_time, late] = rt.block_on([]() -> braid::Task<std::pair<bool, bool>> {
        auto now = braid::Instant::now();
        bool a = co_await braid::timeout_at(now + 5ms, braid::sleep(1ms));
        bool b = co_await braid::timeout_at(now + 6ms, braid::sleep(100ms));
        co_return std::make_pair(a, b);
    }());
    REQUIRE(in_time);
    REQUIRE_FALSE(late);
}

TEST_CASE("time_timeout.timeout of an awaitable that is ready at once never looks at the timer") {
    auto rt = braid_test::runtime(1);
    long sum = rt.block_on([]() -> braid::Task<long> {
        long s = 0;
        for (int i = 0; i < 10000; ++i) s += *co_await braid::timeout(1s, [](int x) -> braid::Task<int> { co_return x; }(i));
        co_return s;
    }());
    REQUIRE(sum == 10000L * 9999 / 2);
}

TEST_CASE("time_timeout.timeout's duration counts from the first poll that finds the awaitable pending, timeout_at's deadline is fixed") {
    auto rt = braid_test::paused_runtime();
    auto [from_poll, fixed] = rt.block_on([]() -> braid::Task<std::pair<braid::Duration, braid::Duration>> {
        auto [tx, rx] = braid::mpsc::channel<int>(1);
        auto t = braid::timeout(10ms, rx.recv());
        auto t_at = braid::timeout_at(braid::Instant::now() + 10ms, rx.recv());
        co_await braid::sleep(4ms);  // between making the timeouts and awaiting them
        auto t0 = braid::Instant::now();
        auto a = co_await t;
        EXPECT(!a);
        auto took = t0.elapsed();
        t0 = braid::Instant::now();
        auto b = co_await t_at;
        EXPECT(!b);
        co_return std::make_pair(took, t0.elapsed());
    }());
    REQUIRE(from_poll == 10ms);
    REQUIRE(fixed == 0ms);  // its deadline, 10 ms after it was made, passed while the first one ran
}

TEST_CASE("time_timeout.timeout expiring at the same instant the inner task completes gives one outcome", "[stress]") {
    auto rt = braid_test::paused_runtime(2);
    auto [values, timeouts] = rt.block_on([]() -> braid::Task<std::pair<int, int>> {
        int values = 0, timeouts = 0;
        for (int i = 0; i < 2000; ++i) {
            // both due at the same virtual instant
            auto r = co_await braid::timeout(1ms, after(1ms, 1));
            if (r) values += *r;
            else ++timeouts;
        }
        co_return std::make_pair(values, timeouts);
    }());
    REQUIRE(values + timeouts == 2000);
}

TEST_CASE("time_timeout.timeout with real time and a spawned task racing it", "[stress]") {
    auto rt = braid_test::runtime(2);
    auto [ok, to] = rt.block_on([]() -> braid::Task<std::pair<int, int>> {
        int ok = 0, to = 0;
        for (int i = 0; i < 300; ++i) {
            auto h = braid::spawn(after(1ms, 1));
            auto r = co_await braid::timeout(1ms, std::move(h));
            (r ? ok : to) += 1;
        }
        co_return std::make_pair(ok, to);
    }());
    REQUIRE(ok + to == 300);
}

TEST_CASE("time_timeout.a negative timeout is refused") {
    auto rt = braid_test::runtime(1);
    rt.block_on([]() -> braid::Task<> {
        REQUIRE_THROWS_AS(braid::timeout(-1ms, after(1ms, 1)), braid::Error);
        co_return;
    }());
}

// ---- futures that are always ready: the budget must not hide the deadline ------

namespace {
// Never completes on its own: every await in it is ready at once (a permit
// taken and given back), so it uses up the task's cooperative budget on
// every poll.  After `advance_at` rounds it moves a paused runtime's clock
// (if `rt` is given); after `limit` rounds it throws, so that a timeout that
// never fires fails the test instead of hanging it.
braid::Task<> spin_on_semaphore(std::atomic<long>* rounds, long limit, braid_runtime* rt = nullptr,
                                long advance_at = 0) {
    braid::Semaphore sem(1);
    for (;;) {
        auto permit = co_await sem.acquire();
        long n = rounds->fetch_add(1) + 1;
        if (rt && n == advance_at) braid_runtime_advance(rt, 5000000);  // 5ms
        if (n >= limit) throw std::runtime_error("the timeout never fired");
    }
}
// The same with a channel that always has a message.
braid::Task<> spin_on_channel(std::atomic<long>* rounds, long limit, braid_runtime* rt = nullptr,
                              long advance_at = 0) {
    auto [tx, rx] = braid::mpsc::unbounded_channel<long>();
    tx.send(0);
    for (;;) {
        auto v = co_await rx.recv();
        long n = rounds->fetch_add(1) + 1;
        tx.send(*v + 1);
        if (rt && n == advance_at) braid_runtime_advance(rt, 5000000);
        if (n >= limit) throw std::runtime_error("the timeout never fired");
    }
}
}  // namespace

TEST_CASE("time_timeout.timeout fires around a future that is always ready (paused time)") {
    auto rt = braid_test::paused_runtime();
    braid_runtime* native = rt.native_handle();
    for (int which = 0; which < 2; ++which) {
        std::atomic<long> rounds{0};
        auto [in_time, took] = rt.block_on([](std::atomic<long>* r, braid_runtime* n, int w)
                                               -> braid::Task<std::pair<bool, braid::Duration>> {
            auto t0 = braid::Instant::now();
            bool ok = w == 0 ? co_await braid::timeout(1ms, spin_on_semaphore(r, 1000000, n, 1000))
                             : co_await braid::timeout(1ms, spin_on_channel(r, 1000000, n, 1000));
            co_return std::make_pair(ok, t0.elapsed());
        }(&rounds, native, which));
        REQUIRE_FALSE(in_time);
        REQUIRE(took == 5ms);
        // the deadline is looked at on the first poll after the clock moved:
        // the spinner ran at most two budgets past that
        REQUIRE(rounds.load() < 1000 + 2 * 128 + 2);
    }
}

TEST_CASE("time_timeout.timeout fires around a future that is always ready (real clock)") {
    auto rt = braid_test::runtime(1);
    const long limit = 100000000L / braid_test::kStressDivisor;
    for (int which = 0; which < 2; ++which) {
        std::atomic<long> rounds{0};
        bool in_time = rt.block_on([](std::atomic<long>* r, long lim, int w) -> braid::Task<bool> {
            if (w == 0) co_return co_await braid::timeout(1ms, spin_on_semaphore(r, lim));
            co_return co_await braid::timeout(1ms, spin_on_channel(r, lim));
        }(&rounds, limit, which));
        REQUIRE_FALSE(in_time);
        REQUIRE(rounds.load() > 0);
    }
}

}  // namespace test_time_timeout
