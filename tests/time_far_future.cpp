// Durations too long for the clock saturate to the far future
// (Instant(INT64_MAX)), which never comes: Instant arithmetic, sleep,
// timeout and interval never wrap around into the past.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <ratio>
#include <vector>

#include "support.hpp"

namespace test_time_far_future {

using namespace std::chrono_literals;

namespace {

using Years = std::chrono::duration<int64_t, std::ratio<365LL * 24 * 3600>>;
const braid::Instant kFar(INT64_MAX);

// Awaits `s` for at most an hour of (paused) time: true when it completed.
braid::Task<bool> within_an_hour(braid::Sleep s) {
    auto t0 = braid::Instant::now();
    bool done = co_await braid::timeout(1h, std::move(s));
    EXPECT(t0.elapsed() == (done ? braid::Duration::zero() : braid::Duration(1h)));
    co_return done;
}

braid::Task<std::vector<bool>> huge_sleeps() {
    std::vector<bool> done;
    done.push_back(co_await within_an_hour(braid::sleep(Years(300))));
    done.push_back(co_await within_an_hour(braid::sleep(std::chrono::hours::max())));
    done.push_back(co_await within_an_hour(braid::sleep(braid::Duration::max())));
    done.push_back(co_await within_an_hour(braid::sleep(std::chrono::duration<double>(1e30))));
    done.push_back(co_await within_an_hour(braid::sleep_until(kFar)));
    done.push_back(co_await within_an_hour(braid::sleep_until(braid::Instant::now() + std::chrono::hours::max())));
    co_return done;
}

braid::Task<std::vector<bool>> huge_timeouts() {
    std::vector<bool> in_time;
    auto t0 = braid::Instant::now();
    in_time.push_back(co_await braid::timeout(braid::Duration::max(), braid::sleep(10ms)));
    in_time.push_back(co_await braid::timeout(std::chrono::hours::max(), braid::sleep(10ms)));
    in_time.push_back(co_await braid::timeout(Years(300), braid::sleep(10ms)));
    in_time.push_back(co_await braid::timeout_at(kFar, braid::sleep(10ms)));
    EXPECT(t0.elapsed() == 40ms);
    co_return in_time;
}

braid::Task<int> huge_interval(braid::Duration period_hint) {
    // Both the chrono-typed factory and an explicit far period.
    auto a = braid::interval(std::chrono::hours::max());
    auto b = braid::interval_at(braid::Instant::now(), period_hint);
    auto t0 = braid::Instant::now();
    EXPECT(co_await a.tick() == t0);  // the first tick is immediate
    EXPECT(co_await b.tick() == t0);
    int more = 0;
    if (co_await braid::timeout(1h, a.tick())) ++more;
    if (co_await braid::timeout(1h, b.tick())) ++more;
    a.reset();  // one period from now: still the far future
    if (co_await braid::timeout(1h, a.tick())) ++more;
    EXPECT(t0.elapsed() == 3h);
    co_return more;
}

braid::Task<> sleep_far() { co_await braid::sleep(std::chrono::hours::max()); }
braid::Task<> sleep_hour() { co_await braid::sleep(1h); }

}  // namespace

TEST_CASE("time_far_future.Instant arithmetic saturates instead of wrapping") {
    braid::Instant a(1000);
    REQUIRE(braid::Instant::far_future() == kFar);
    REQUIRE(a + std::chrono::hours::max() == kFar);
    REQUIRE(a + braid::Duration::max() == kFar);
    REQUIRE(a + Years(300) == kFar);
    REQUIRE(a + std::chrono::duration<double>(1e300) == kFar);
    REQUIRE(a + std::chrono::duration<unsigned long long>(~0ULL) == kFar);
    REQUIRE(kFar + 1ns == kFar);
    // a duration saturates first (to Duration::max()), then the sum: the far
    // past, never wrapped into the future
    REQUIRE(a - std::chrono::hours::max() == braid::Instant(1000 - INT64_MAX));
    REQUIRE(a - std::chrono::duration<double>(1e300) == braid::Instant(1000 - INT64_MAX));
    REQUIRE(a + std::chrono::hours::min() == braid::Instant(INT64_MIN + 1000));
    REQUIRE(braid::Instant(-1000) - braid::Duration::max() == braid::Instant(INT64_MIN));
    REQUIRE(kFar - braid::Instant(-5) == braid::Duration::max());
    REQUIRE(braid::Instant(INT64_MIN) - braid::Instant(5) == braid::Duration::min());
    REQUIRE(braid::Instant::now() + std::chrono::hours::max() > braid::Instant::now());
    // Ordinary values are exact.
    REQUIRE(a + 3us == braid::Instant(4000));
    REQUIRE(a - 1us == braid::Instant(0));
    REQUIRE(a + std::chrono::duration<double, std::milli>(1.5) == braid::Instant(1501000));
    REQUIRE(a + std::chrono::duration<int64_t, std::pico>(INT64_MAX) == braid::Instant(1000 + INT64_MAX / 1000));
    REQUIRE(a + std::chrono::hours(1) == braid::Instant(1000 + 3600LL * 1000000000));
    REQUIRE(braid::Instant(4000) - a == 3us);
}

TEST_CASE("time_far_future.a sleep with a huge duration never completes") {
    bool current = GENERATE(true, false);
    auto rt = braid_test::paused_runtime_of_flavour(current);
    auto done = rt.block_on(huge_sleeps());
    REQUIRE(done == std::vector<bool>(6, false));
}

TEST_CASE("time_far_future.a timeout with a huge duration never expires") {
    bool current = GENERATE(true, false);
    auto rt = braid_test::paused_runtime_of_flavour(current);
    REQUIRE(rt.block_on(huge_timeouts()) == std::vector<bool>(4, true));
}

TEST_CASE("time_far_future.an interval with a huge period ticks once, then never again") {
    bool current = GENERATE(true, false);
    auto rt = braid_test::paused_runtime_of_flavour(current);
    REQUIRE(rt.block_on(huge_interval(braid::Duration::max())) == 0);
}

TEST_CASE("time_far_future.paused time never jumps to the far future") {
    bool current = GENERATE(true, false);
    auto rt = braid_test::paused_runtime_of_flavour(current);
    int64_t t0 = braid_now(rt.native_handle());
    auto far = rt.spawn(sleep_far());
    rt.block_on(sleep_hour());
    // Only the far-future sleep is pending now and every worker is idle.
    rt.block_on([]() -> braid::Task<> { co_await braid::yield_now(); }());
    REQUIRE(braid_now(rt.native_handle()) - t0 == 3600LL * 1000000000);
    REQUIRE_FALSE(far.is_finished());
}

}  // namespace test_time_far_future
