// buffered(n) and buffer_unordered(n): concurrency limit, order, results as
// they finish, exceptions, dropping cancels what runs, void results.
#include <catch2/catch.hpp>
#include <braid/stream.hpp>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include "support.hpp"

namespace test_stream_buffered {

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

TEST_CASE("stream_buffered.buffered: at most n at once, results in stream order") {
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

TEST_CASE("stream_buffered.buffer_unordered: results as they finish, at most n at once") {
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

TEST_CASE("stream_buffered.buffer_unordered: the source is asked only when there is room (back-pressure)") {
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

TEST_CASE("stream_buffered.buffered: an exception from one awaitable is rethrown, the rest are cancelled") {
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

TEST_CASE("stream_buffered.buffered: dropping the stream cancels the awaitables in flight") {
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

TEST_CASE("stream_buffered.buffer_unordered: void awaitables give std::monostate") {
    auto rt = braid_test::paused_runtime();
    auto n = rt.block_on([]() -> braid::Task<std::size_t> {
        co_return co_await (bs::iter(std::views::iota(0, 7))
                            | bs::map([](int i) { return braid::sleep(ms(i)); })  // Sleep: a plain awaitable
                            | bs::buffer_unordered(3) | bs::count());
    }());
    REQUIRE(n == 7);
}

namespace {
braid::Task<int> at_once(int v) { co_return v; }
braid::Task<int> when_sent(braid::oneshot::Receiver<int> rx) { co_return co_await rx; }
braid::Task<int> after_1ms() {
    co_await braid::sleep(1ms);
    co_return -1;
}

// Item 1 waits for `rx`; every other item finishes as soon as it starts.
braid::Stream<braid::Task<int>> one_waits(braid::oneshot::Receiver<int> rx, int total) {
    for (int i = 0; i < total; ++i) {
        if (i == 1)
            co_yield when_sent(std::move(rx));
        else
            co_yield at_once(i);
    }
}

// Spends the whole budget on every poll; it finishes only past `limit`
// units, by which time what runs beside it was starved.
braid::Task<int> budget_eater(std::atomic<long>* units, long limit) {
    for (;;) {
        co_await braid::task::consume_budget();
        if (units->fetch_add(1, std::memory_order_relaxed) >= limit) co_return -2;
    }
}

braid::Stream<braid::Task<int>> eater_then_sleep(std::atomic<long>* units) {
    co_yield budget_eater(units, 20000000);
    co_yield after_1ms();
}
}  // namespace

TEST_CASE("stream_buffered.buffer_unordered: a finished awaitable comes within n results while the others finish at once") {
    // futures' FuturesUnordered polls in the order of the wake-ups, so a
    // result that is ready does not wait behind a stream of quicker ones.
    // Here the slots are refilled with awaitables that finish at once.
    constexpr int kTotal = 100000;
    auto rt = braid_test::runtime(1);
    for (int n : {2, 4, 16}) {
        auto [before, found] = rt.block_on([](int n) -> braid::Task<std::pair<int, bool>> {
            auto [tx, rx] = braid::oneshot::channel<int>();
            auto s = one_waits(std::move(rx), kTotal) | bs::buffer_unordered(std::size_t(n));
            (void)co_await s.next();  // every slot was filled: item 1 waits in one of them
            (void)tx.send(-1);
            int others = 0;
            for (;;) {
                auto v = co_await s.next();
                if (!v) co_return std::make_pair(others, false);
                if (*v == -1) co_return std::make_pair(others, true);
                ++others;
            }
        }(n));
        CAPTURE(n, before);
        REQUIRE(found);
        REQUIRE(before < n);
    }
}

TEST_CASE("stream_buffered.buffer_unordered: an awaitable that spends the whole budget does not starve the others") {
    // Tokio's coop: a leaf polled with no budget left waits for the next
    // poll.  The sleep beside the busy awaitable must still finish.
    auto rt = braid_test::runtime(1);
    std::atomic<long> units{0};
    int first = rt.block_on([](std::atomic<long>* units) -> braid::Task<int> {
        auto s = eater_then_sleep(units) | bs::buffer_unordered(2);
        auto v = co_await s.next();
        co_return v.value_or(-3);
    }(&units));
    CAPTURE(units.load());
    REQUIRE(first == -1);
}

TEST_CASE("stream_buffered.buffered(0) is refused") {
    REQUIRE_THROWS_AS(bs::buffered(0), braid::Error);
    REQUIRE_THROWS_AS(bs::buffer_unordered(0), braid::Error);
}

}  // namespace test_stream_buffered
