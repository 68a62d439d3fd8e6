// Intervals and their missed-tick behaviours, under paused time.
#include <catch2/catch.hpp>

#include <vector>

#include "support.hpp"

namespace test_time_interval {

using namespace std::chrono_literals;

namespace {
// Ticks of an interval whose consumer is late once: it ticks at 0, then
// stalls 35 ms (a 10 ms period), then takes the next ticks.
braid::Task<std::vector<long>> ticks_after_stall(braid::MissedTickBehavior b) {
    auto t0 = braid::Instant::now();
    auto iv = braid::interval(10ms);
    iv.set_missed_tick_behavior(b);
    std::vector<long> at;
    auto ms = [&](braid::Instant i) { return long(std::chrono::duration_cast<std::chrono::milliseconds>(i - t0).count()); };
    at.push_back(ms(co_await iv.tick()));  // immediate
    co_await braid::sleep(35ms);
    for (int i = 0; i < 4; ++i) {
        co_await iv.tick();
        at.push_back(ms(braid::Instant::now()));
    }
    co_return at;
}
}  // namespace

TEST_CASE("time_interval.interval: the first tick is immediate and the next follow the period") {
    auto rt = braid_test::paused_runtime();
    auto v = rt.block_on([]() -> braid::Task<std::vector<long>> {
        auto t0 = braid::Instant::now();
        auto iv = braid::interval(25ms);
        std::vector<long> out;
        for (int i = 0; i < 4; ++i) {
            auto tick = co_await iv.tick();
            out.push_back(long(std::chrono::duration_cast<std::chrono::milliseconds>(tick - t0).count()));
        }
        co_return out;
    }());
    REQUIRE(v == std::vector<long>{0, 25, 50, 75});
}

TEST_CASE("time_interval.missed ticks: burst fires the missed ticks at once, then keeps the grid") {
    auto rt = braid_test::paused_runtime();
    REQUIRE(rt.block_on(ticks_after_stall(braid::MissedTickBehavior::Burst)) == std::vector<long>{0, 35, 35, 35, 40});
}

TEST_CASE("time_interval.missed ticks: delay restarts the period from the late tick") {
    auto rt = braid_test::paused_runtime();
    REQUIRE(rt.block_on(ticks_after_stall(braid::MissedTickBehavior::Delay)) == std::vector<long>{0, 35, 45, 55, 65});
}

TEST_CASE("time_interval.missed ticks: skip drops the missed ticks and stays on the grid") {
    auto rt = braid_test::paused_runtime();
    REQUIRE(rt.block_on(ticks_after_stall(braid::MissedTickBehavior::Skip)) == std::vector<long>{0, 35, 40, 50, 60});
}

TEST_CASE("time_interval.interval: reset moves the next tick one period from now") {
    auto rt = braid_test::paused_runtime();
    long ms = rt.block_on([]() -> braid::Task<long> {
        auto t0 = braid::Instant::now();
        auto iv = braid::interval(10ms);
        co_await iv.tick();
        co_await braid::sleep(3ms);
        iv.reset();
        auto t = co_await iv.tick();
        co_return long(std::chrono::duration_cast<std::chrono::milliseconds>(t - t0).count());
    }());
    REQUIRE(ms == 13);
}

TEST_CASE("time_interval.interval: a zero or negative period is refused") {
    auto rt = braid_test::runtime(1);
    rt.block_on([]() -> braid::Task<> {
        REQUIRE_THROWS_AS(braid::interval(0ms), braid::Error);
        REQUIRE_THROWS_AS(braid::interval(-5ms), braid::Error);
        co_return;
    }());
}

TEST_CASE("time_interval.interval: reset_at, reset_immediately and reset_after move the next tick, the grid follows") {
    auto rt = braid_test::paused_runtime();
    auto v = rt.block_on([]() -> braid::Task<std::vector<long>> {
        auto t0 = braid::Instant::now();
        auto ms = [&](braid::Instant i) { return long(std::chrono::duration_cast<std::chrono::milliseconds>(i - t0).count()); };
        auto iv = braid::interval(10ms);
        std::vector<long> out;
        out.push_back(ms(co_await iv.tick()));  // 0
        iv.reset_at(t0 + 33ms);
        out.push_back(ms(co_await iv.tick()));  // 33
        out.push_back(ms(co_await iv.tick()));  // 43
        co_await braid::sleep(2ms);             // 45
        iv.reset_immediately();
        out.push_back(ms(co_await iv.tick()));  // 45
        out.push_back(ms(co_await iv.tick()));  // 55
        iv.reset_after(4ms);
        out.push_back(ms(co_await iv.tick()));  // 59
        out.push_back(ms(co_await iv.tick()));  // 69
        co_return out;
    }());
    REQUIRE(v == std::vector<long>{0, 33, 43, 45, 55, 59, 69});
    REQUIRE(braid_interval_reset_at(nullptr, 0) == BRAID_EINVAL);
}

}  // namespace test_time_interval
