// Tokio's tests/time_pause.rs, ported: a paused clock moves by exactly what
// advance says (sub-millisecond too), a sleep or interval polled around an
// advance becomes ready exactly at its deadline, and paused runs are
// deterministic.  Tokio's #[tokio::test] is a current-thread runtime; every
// case also runs on a multi-thread one.
//
// Gaps: none.
//
// Differs:
//   pause_time_in_main_threads, pause_time_in_spawn_threads: Tokio refuses
//     to pause a multi-thread runtime (a panic); braid pauses either
//     flavour (auto-advance waits for every worker to be idle), so the
//     ports check that the pause works there.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#include <braid/test.hpp>

#include "support.hpp"

namespace conformance_time_pause {

using namespace std::chrono_literals;

namespace {

constexpr auto& paused = braid_test::paused_runtime_of_flavour;

// A waker that only counts (Tokio's is_woken()).
struct Count {
    std::atomic<int> calls{0};
    static void wake(void* p) { static_cast<Count*>(p)->calls.fetch_add(1); }
};

using braid_test::advance;

braid::Task<std::vector<int64_t>> paused_time_stress_run(int n) {
    uint64_t rng = 1;  // a fixed seed, as StdRng::seed_from_u64(1)
    auto start = braid::Instant::now();
    std::vector<int64_t> times;
    times.reserve(std::size_t(n));
    for (int i = 0; i < n; ++i) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        co_await braid::sleep(braid::Duration(int64_t((rng >> 33) % 1000000000)));  // 0..1 s
        times.push_back((braid::Instant::now() - start).count());
    }
    co_return times;
}

// advance_after_poll, sleep_no_poll, sleep_same_task(_no_poll),
// regression_3710_with_submillis_advance: a sleep `until` away, polled (or
// not) before an advance of `step`, is still pending after it.
braid::Task<> pending_across_advance(bool first_sleep, bool poll_first, braid::Duration until, braid::Duration step) {
    if (first_sleep) co_await braid::sleep(1ms);
    else advance(1ms);
    auto start = braid::Instant::now();
    Count c;
    auto s = braid::sleep_until(start + until);
    if (poll_first) EXPECT(s.poll(&Count::wake, &c) == BRAID_PENDING);
    auto before = braid::Instant::now();
    advance(step);
    EXPECT(before.elapsed() == step);  // assert_elapsed!
    EXPECT(s.poll(&Count::wake, &c) == BRAID_PENDING);
    EXPECT(c.calls.load() == 0);
}

// advance_once_with_timer, advance_multi_with_timer
braid::Task<> ready_after_advances(std::vector<braid::Duration> steps) {
    Count c;
    auto s = braid::sleep(1ms);
    EXPECT(s.poll(&Count::wake, &c) == BRAID_PENDING);
    for (std::size_t i = 0; i + 1 < steps.size(); ++i) {
        advance(steps[i]);
        EXPECT(s.poll(&Count::wake, &c) == BRAID_PENDING);
    }
    EXPECT(c.calls.load() == 0);
    advance(steps.back());
    EXPECT(c.calls.load() == 1);  // is_woken()
    EXPECT(s.poll(&Count::wake, &c) == 0);
    co_return;
}

// interval: poll_tick around advances (the interval through the C ABI,
// which exposes poll_tick as Tokio's Interval does).
braid::Task<std::vector<int64_t>> interval_ticks() {
    auto start = braid::Instant::now();
    advance(1ms);
    braid_interval* iv = nullptr;
    braid::detail::check(
        braid_interval_new(&iv, nullptr, start.nanos(), braid::Duration(300ms).count(), BRAID_MISSED_TICK_BURST),
        "interval");
    Count c;
    std::vector<int64_t> log;  // each poll: the tick in ms after start, or -1 for pending
    auto poll_next = [&] {
        int64_t tick = 0;
        int rc = braid_interval_poll_tick(iv, &Count::wake, &c, &tick);
        log.push_back(rc == 0 ? (tick - start.nanos()) / 1000000 : -1);
    };
    auto step = [&](braid::Duration d) {
        auto before = braid::Instant::now();
        advance(d);
        EXPECT(before.elapsed() == d);
    };
    poll_next();
    poll_next();
    step(100ms);
    poll_next();
    step(200ms);
    poll_next();
    poll_next();
    step(400ms);
    poll_next();
    poll_next();
    step(500ms);
    poll_next();
    poll_next();
    poll_next();
    braid_interval_free(iv);
    co_return log;
}

// test_time_advance_sub_ms, test_time_advance_3ms_and_change, exact_1ms_advance
braid::Task<> exact_advances(std::vector<braid::Duration> steps) {
    for (braid::Duration d : steps) {
        auto now = braid::Instant::now();
        advance(d);
        EXPECT(now.elapsed() == d);
    }
    co_return;
}

}  // namespace

TEST_CASE("time_pause.paused_time_is_deterministic") {
    bool current = GENERATE(true, false);
    const int n = 10000 / braid_test::kStressDivisor;
    std::vector<int64_t> run_1 = paused(current).block_on(paused_time_stress_run(n));
    std::vector<int64_t> run_2 = paused(current).block_on(paused_time_stress_run(n));
    REQUIRE(run_1 == run_2);
    // braid keeps nanoseconds (Tokio rounds to milliseconds): each instant is
    // exactly the sum of the sleeps before it.
    uint64_t rng = 1;
    int64_t sum = 0;
    for (int i = 0; i < n; ++i) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        sum += int64_t((rng >> 33) % 1000000000);
        REQUIRE(run_1[std::size_t(i)] == sum);
    }
}

TEST_CASE("time_pause.advance_after_poll") {
    bool current = GENERATE(true, false);
    paused(current).block_on(pending_across_advance(true, true, 300ms, 100ms));
}

TEST_CASE("time_pause.sleep_no_poll") {
    bool current = GENERATE(true, false);
    paused(current).block_on(pending_across_advance(false, false, 300ms, 100ms));
}

TEST_CASE("time_pause.sleep_same_task") {
    bool current = GENERATE(true, false);
    paused(current).block_on(pending_across_advance(false, true, 300ms, 100ms));
}

TEST_CASE("time_pause.sleep_same_task_no_poll") {
    bool current = GENERATE(true, false);
    paused(current).block_on(pending_across_advance(false, false, 300ms, 100ms));
}

TEST_CASE("time_pause.interval") {
    bool current = GENERATE(true, false);
    REQUIRE(paused(current).block_on(interval_ticks()) ==
            std::vector<int64_t>{0, -1, -1, 300, -1, 600, -1, 900, 1200, -1});
}

TEST_CASE("time_pause.test_time_advance_sub_ms") {
    bool current = GENERATE(true, false);
    paused(current).block_on(exact_advances({51592us, 1us}));
}

TEST_CASE("time_pause.test_time_advance_3ms_and_change") {
    bool current = GENERATE(true, false);
    paused(current).block_on(exact_advances({3141592us, 3123456us}));
}

TEST_CASE("time_pause.regression_3710_with_submillis_advance") {
    bool current = GENERATE(true, false);
    paused(current).block_on(pending_across_advance(false, true, 60s, 51592us));
}

TEST_CASE("time_pause.exact_1ms_advance") {
    bool current = GENERATE(true, false);
    paused(current).block_on(exact_advances({1ms, 1ms}));
}

TEST_CASE("time_pause.advance_once_with_timer") {
    bool current = GENERATE(true, false);
    paused(current).block_on(ready_after_advances({250us, 1500us}));
}

TEST_CASE("time_pause.advance_multi_with_timer") {
    bool current = GENERATE(true, false);
    paused(current).block_on(ready_after_advances({250us, 250us, 250us, 250us}));
}

TEST_CASE("time_pause.pause_time_in_main") {
    braid::test::run([]() -> braid::Task<> {
        braid::time::pause();
        co_return;
    });
}

TEST_CASE("time_pause.pause_time_in_task") {
    braid::test::run([]() -> braid::Task<> {
        co_await braid::spawn([]() -> braid::Task<> {
            braid::time::pause();
            co_return;
        }());
    });
}

TEST_CASE("time_pause.pause_time_in_main_threads") {
    braid::test::run_multi_thread(1, []() -> braid::Task<> {
        braid::time::pause();
        auto t0 = braid::Instant::now();
        co_await braid::sleep(1h);  // auto-advanced
        EXPECT(braid::Instant::now() - t0 >= 1h);
    });
}

TEST_CASE("time_pause.pause_time_in_spawn_threads") {
    braid::test::run_multi_thread(1, []() -> braid::Task<> {
        co_await braid::spawn([]() -> braid::Task<> {
            braid::time::pause();
            co_return;
        }());
        EXPECT(braid_test::error_code_of([] { braid::time::pause(); }) == BRAID_EINVAL);  // paused already
    });
}

}  // namespace conformance_time_pause
