// Time-based stream combinators under paused time: timeout (per item),
// throttle, chunks_timeout (a log shipper's batching); intervals as streams.
#include <catch2/catch.hpp>
#include <braid/stream.hpp>

#include <string>
#include <vector>

#include "support.hpp"

namespace test_stream_time {

using namespace std::chrono_literals;
using braid_test::ms_since;
namespace bs = braid::stream;

namespace {
using ms = std::chrono::milliseconds;

// Items at the given offsets (ms since the first poll), each after a sleep.
braid::Stream<int> at(std::vector<int> offsets) {
    auto start = braid::Instant::now();
    int i = 0;
    for (int off : offsets) {
        co_await braid::sleep_until(start + ms(off));
        co_yield i++;
    }
}

// (item or -1 for Elapsed, ms when it came)
using Log = std::vector<std::pair<int, long>>;
}  // namespace

TEST_CASE("stream_time.timeout: items in time pass, a silence gives one Elapsed, the stream goes on") {
    auto rt = braid_test::paused_runtime();
    auto log = rt.block_on([]() -> braid::Task<Log> {
        auto t0 = braid::Instant::now();
        auto s = at({5, 10, 50, 55}) | bs::timeout(20ms);
        Log log;
        while (auto r = co_await s.next()) log.emplace_back(r->is_elapsed() ? -1 : **r, ms_since(t0));
        co_return log;
    }());
    // 5, 10 in time; silence from 10: Elapsed at 30 (once, not again at 50);
    // then 50 and 55
    REQUIRE(log == Log{{0, 5}, {1, 10}, {-1, 30}, {2, 50}, {3, 55}});
}

TEST_CASE("stream_time.timeout: a ready stream never reads the clock and never times out") {
    auto rt = braid_test::paused_runtime();
    auto n = rt.block_on([]() -> braid::Task<std::size_t> {
        co_return co_await (bs::iter(std::views::iota(0, 1000)) | bs::timeout(1ms)
                            | bs::filter([](const auto& r) { return r.has_value(); }) | bs::count());
    }());
    REQUIRE(n == 1000);
}

TEST_CASE("stream_time.timeout: TimeoutResult::value() throws for an Elapsed, and a const one is readable") {
    bs::TimeoutResult<int> e{bs::Elapsed{}};
    REQUIRE(e.is_elapsed());
    REQUIRE_FALSE(e);
    REQUIRE_THROWS_AS(e.value(), braid::Error);
    bs::TimeoutResult<int> v{3};
    REQUIRE(v.value() == 3);
    const bs::TimeoutResult<int>& cv = v;  // readable through a const reference
    REQUIRE(*cv == 3);
    REQUIRE(cv.value() == 3);
    const bs::TimeoutResult<int>& ce = e;
    REQUIRE_THROWS_AS(ce.value(), braid::Error);
}

TEST_CASE("stream_time.throttle: at most one item per period, the first is not delayed") {
    auto rt = braid_test::paused_runtime();
    auto log = rt.block_on([]() -> braid::Task<Log> {
        auto t0 = braid::Instant::now();
        auto s = bs::iter(std::views::iota(0, 4)) | bs::throttle(10ms);
        Log log;
        while (auto v = co_await s.next()) log.emplace_back(*v, ms_since(t0));
        co_return log;
    }());
    REQUIRE(log == Log{{0, 0}, {1, 10}, {2, 20}, {3, 30}});
}

TEST_CASE("stream_time.throttle: a slow stream is not slowed further") {
    auto rt = braid_test::paused_runtime();
    auto log = rt.block_on([]() -> braid::Task<Log> {
        auto t0 = braid::Instant::now();
        auto s = at({0, 25, 30, 60}) | bs::throttle(10ms);
        Log log;
        while (auto v = co_await s.next()) log.emplace_back(*v, ms_since(t0));
        co_return log;
    }());
    REQUIRE(log == Log{{0, 0}, {1, 25}, {2, 35}, {3, 60}});
}

TEST_CASE("stream_time.chunks_timeout: a batch when full, or when the time since its first item is up") {
    auto rt = braid_test::paused_runtime();
    using Batches = std::vector<std::pair<std::vector<int>, long>>;
    auto batches = rt.block_on([]() -> braid::Task<Batches> {
        auto t0 = braid::Instant::now();
        // a burst of 5 (full batches of 3 and a partial one), a quiet spell,
        // two stragglers 30 ms apart, then the end
        auto s = at({1, 1, 1, 1, 1, 100, 130, 200}) | bs::chunks_timeout(3, 20ms);
        Batches out;
        while (auto b = co_await s.next()) out.emplace_back(*b, ms_since(t0));
        co_return out;
    }());
    REQUIRE(batches == Batches{{{0, 1, 2}, 1},  // full
                               {{3, 4}, 21},    // 20 ms after item 3
                               {{5}, 120},      // 20 ms after item 5; item 6 comes at 130
                               {{6}, 150},
                               {{7}, 200}});    // the stream ended: what was left
}

TEST_CASE("stream_time.chunks_timeout: a log shipper fed by a channel flushes on size and on time") {
    auto rt = braid_test::paused_runtime();
    auto shipped = rt.block_on([]() -> braid::Task<std::vector<std::size_t>> {
        auto [tx, rx] = braid::mpsc::channel<std::string>(64);
        braid::spawn([](braid::mpsc::Sender<std::string> tx) -> braid::Task<> {
            for (int burst = 0; burst < 3; ++burst) {
                for (int i = 0; i < 25; ++i) co_await tx.send("line " + std::to_string(i));
                co_await braid::sleep(100ms);
            }
        }, std::move(tx)).detach();
        std::vector<std::size_t> sizes;
        auto batches = bs::from_receiver(std::move(rx)) | bs::chunks_timeout(10, 50ms);
        while (auto b = co_await batches.next()) sizes.push_back(b->size());
        co_return sizes;
    }());
    REQUIRE(shipped == std::vector<std::size_t>{10, 10, 5, 10, 10, 5, 10, 10, 5});
}

TEST_CASE("stream_time.chunks_timeout: cancelling next() keeps the batch under way") {
    auto rt = braid_test::paused_runtime();
    auto [first_lost, batch] = rt.block_on([]() -> braid::Task<std::pair<bool, std::vector<int>>> {
        auto s = at({1, 2, 40}) | bs::chunks_timeout(10, 30ms);
        auto r = co_await braid::timeout(10ms, s.next());  // gives up with two items gathered
        auto b = co_await s.next();                        // the same batch, flushed at 31 ms
        co_return std::make_pair(r.has_value(), *b);
    }());
    REQUIRE_FALSE(first_lost);
    REQUIRE(batch == std::vector<int>{0, 1});
}

TEST_CASE("stream_time.from_interval: ticks as a stream") {
    auto rt = braid_test::paused_runtime();
    auto offsets = rt.block_on([]() -> braid::Task<std::vector<long>> {
        auto t0 = braid::Instant::now();
        auto s = bs::from_interval(braid::interval(15ms)) | bs::take(4);
        std::vector<long> out;
        while (auto t = co_await s.next()) out.push_back(long(std::chrono::duration_cast<ms>(*t - t0).count()));
        co_return out;
    }());
    REQUIRE(offsets == std::vector<long>{0, 15, 30, 45});
}

TEST_CASE("stream_time.negative durations are refused") {
    REQUIRE_THROWS_AS(bs::timeout(-1ms), braid::Error);
    REQUIRE_THROWS_AS(bs::throttle(-1ms), braid::Error);
    REQUIRE_THROWS_AS(bs::chunks_timeout(3, -1ms), braid::Error);
    REQUIRE_THROWS_AS(bs::chunks_timeout(0, 1ms), braid::Error);
}

}  // namespace test_stream_time
