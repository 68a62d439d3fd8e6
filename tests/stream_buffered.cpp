// buffered(n) and buffer_unordered(n): concurrency limit, order, results as
// they finish, exceptions, dropping cancels what runs, void results.
#include <catch2/catch.hpp>
#include <braid/stream.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using braid_test::Tracked;
namespace bs = braid::stream;

namespace {
using ms = std::chrono::milliseconds;

struct Gauge {
    int running = 0, peak = 0, started = 0;
};

// A job that sleeps `d` and returns v, counting how many run at once.
braid::Task<int> job(Gauge* g, int v, ms d) {
    ++g->running;
    ++g->started;
    g->peak = std::max(g->peak, g->running);
    co_await braid::sleep(d);
    --g->running;
    co_return v;
}
// Durations that make later jobs finish first.
ms dur(int i) { return ms(10 * (5 - i % 5)); }
}  // namespace

TEST_CASE("buffered: at most n at once, results in stream order") {
    auto rt = braid_test::paused_runtime();
    auto [v, peak, elapsed] = rt.block_on([]() -> braid::Task<std::tuple<std::vector<int>, int, long>> {
        Gauge g;
        auto t0 = braid::Instant::now();
        auto v = co_await (bs::iter(std::views::iota(0, 10)) | bs::map([&g](int i) { return job(&g, i, dur(i)); })
                           | bs::buffered(3) | bs::collect());
        co_return std::make_tuple(v, g.peak, long(std::chrono::duration_cast<ms>(braid::Instant::now() - t0).count()));
    }());
    REQUIRE(v == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    REQUIRE(peak == 3);
    REQUIRE(elapsed < 10 * 50);  // not one at a time
}

TEST_CASE("buffer_unordered: results as they finish, at most n at once") {
    auto rt = braid_test::paused_runtime();
    auto [v, peak] = rt.block_on([]() -> braid::Task<std::pair<std::vector<int>, int>> {
        Gauge g;
        auto v = co_await (bs::iter(std::views::iota(0, 5)) | bs::map([&g](int i) { return job(&g, i, dur(i)); })
                           | bs::buffer_unordered(5) | bs::collect());
        co_return std::make_pair(v, g.peak);
    }());
    REQUIRE(v == std::vector<int>{4, 3, 2, 1, 0});  // 10, 20, 30, 40, 50 ms
    REQUIRE(peak == 5);
}

TEST_CASE("buffer_unordered: the source is asked only when there is room (back-pressure)") {
    auto rt = braid_test::paused_runtime();
    auto [started_before_first, total] = rt.block_on([]() -> braid::Task<std::pair<int, int>> {
        Gauge g;
        int produced = 0;
        auto src = [](Gauge* g, int* produced) -> braid::Stream<braid::Task<int>> {
            for (int i = 0; i < 20; ++i) {
                ++*produced;
                co_yield job(g, i, 10ms);
            }
        }(&g, &produced);
        auto s = std::move(src) | bs::buffer_unordered(4);
        (void)co_await s.next();
        int before = produced;
        int n = 1;
        while (co_await s.next()) ++n;
        co_return std::make_pair(before, n);
    }());
    REQUIRE(started_before_first == 4);
    REQUIRE(total == 20);
}

TEST_CASE("buffered: an exception from one awaitable is rethrown, the rest are cancelled") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    auto rt = braid_test::paused_runtime();
    REQUIRE_THROWS_WITH(rt.block_on([]() -> braid::Task<> {
        auto s = bs::iter(std::views::iota(0, 6)) | bs::map([](int i) -> braid::Task<int> {
                     Tracked t(i);
                     co_await braid::sleep(ms(i + 1));
                     if (i == 2) throw std::runtime_error("job 2 failed");
                     co_return i;
                 })
               | bs::buffered(4);
        while (co_await s.next()) {
        }
    }()),
                        "job 2 failed");
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("buffered: dropping the stream cancels the awaitables in flight") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    auto rt = braid_test::paused_runtime();
    auto [first, live_in_flight] = rt.block_on([]() -> braid::Task<std::pair<int, long>> {
        int first;
        long live;
        {
            auto s = bs::iter(std::views::iota(0, 100)) | bs::map([](int i) -> braid::Task<int> {
                         Tracked t(i);
                         co_await braid::sleep(ms(i == 0 ? 1 : 1000));
                         co_return i;
                     })
                   | bs::buffer_unordered(8);
            first = *co_await s.next();
            live = Tracked::live();
        }
        co_return std::make_pair(first, live);
    }());
    REQUIRE(first == 0);
    REQUIRE(live_in_flight == 7);  // job 0 done and gone; jobs 1..7 running
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("buffer_unordered: void awaitables give std::monostate") {
    auto rt = braid_test::paused_runtime();
    auto n = rt.block_on([]() -> braid::Task<std::size_t> {
        co_return co_await (bs::iter(std::views::iota(0, 7))
                            | bs::map([](int i) { return braid::sleep(ms(i)); })  // Sleep: a plain awaitable
                            | bs::buffer_unordered(3) | bs::count());
    }());
    REQUIRE(n == 7);
}

TEST_CASE("buffered(0) is refused") {
    REQUIRE_THROWS_AS(bs::buffered(0), braid::Error);
    REQUIRE_THROWS_AS(bs::buffer_unordered(0), braid::Error);
}
