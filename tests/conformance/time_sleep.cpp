// Tokio's tests/time_sleep.rs, ported: sleeps complete at their deadline
// (paused time), reset moves a pending or fired sleep, deadlines past the
// timer wheel's range still fire, and dropping sleeps from inside a timer's
// waker is safe.  #[tokio::test] is a current-thread runtime; a case that
// calls time::pause() first runs on one built paused (start_paused).
//
// braid's clock keeps nanoseconds where Tokio's timer rounds deadlines up
// to the next millisecond: where Tokio asserts an elapsed time within
// [d, d + 1ms] (assert_elapsed!), braid's is exactly the deadline's.  So in
// immediate_sleep, where Tokio's sleep_until(now) takes its clock to the
// next millisecond (assert_elapsed!(now, ms(1))), braid's completes with no
// time elapsed.
//
// Gaps: none.
//
// Not applicable: none.
//
// creating_sleep_outside_of_context is Tokio's #[should_panic] on making a
// sleep off a runtime; braid's Sleep finds its runtime when first polled,
// and that poll throws braid::Error.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "support.hpp"

namespace conformance_time_sleep {

using namespace std::chrono_literals;
using braid_test::CountingWaker;

namespace {

template <class F>
void run_paused(F f) {
    braid_test::current_thread_runtime(true).block_on(f());
}

}  // namespace

TEST_CASE("time_sleep.immediate_sleep") {
    run_paused([]() -> braid::Task<> {
        auto now = braid::Instant::now();
        co_await braid::sleep_until(now);
        EXPECT(now.elapsed() == 0ns);
    });
}

TEST_CASE("time_sleep.is_elapsed") {
    run_paused([]() -> braid::Task<> {
        auto sleep = braid::sleep(10ms);
        EXPECT(!sleep.is_elapsed());
        CountingWaker w;
        EXPECT(sleep.poll(&CountingWaker::wake, &w) == BRAID_PENDING);  // futures::poll!
        EXPECT(!sleep.is_elapsed());
        co_await sleep;
        EXPECT(sleep.is_elapsed());
    });
}

TEST_CASE("time_sleep.delayed_sleep_level_0") {
    run_paused([]() -> braid::Task<> {
        for (auto dur : {1ms, 10ms, 60ms}) {
            auto now = braid::Instant::now();
            co_await braid::sleep_until(now + dur);
            EXPECT(now.elapsed() == dur);
        }
    });
}

TEST_CASE("time_sleep.sub_ms_delayed_sleep") {
    run_paused([]() -> braid::Task<> {
        for (int i = 0; i < 5; ++i) {
            auto now = braid::Instant::now();
            auto deadline = now + 1ms + 1ns;
            co_await braid::sleep_until(deadline);
            EXPECT(now.elapsed() == 1ms + 1ns);
        }
    });
}

TEST_CASE("time_sleep.delayed_sleep_wrapping_level_0") {
    run_paused([]() -> braid::Task<> {
        co_await braid::sleep(5ms);
        auto now = braid::Instant::now();
        co_await braid::sleep_until(now + 60ms);
        EXPECT(now.elapsed() == 60ms);
    });
}

TEST_CASE("time_sleep.reset_future_sleep_before_fire") {
    run_paused([]() -> braid::Task<> {
        auto now = braid::Instant::now();
        CountingWaker w;
        auto sleep = braid::sleep_until(now + 100ms);
        EXPECT(sleep.poll(&CountingWaker::wake, &w) == BRAID_PENDING);
        sleep.reset(braid::Instant::now() + 200ms);
        co_await sleep;
        EXPECT(now.elapsed() == 200ms);
        EXPECT(!w.woken());  // the first waker was replaced by the task's
    });
}

TEST_CASE("time_sleep.reset_past_sleep_before_turn") {
    run_paused([]() -> braid::Task<> {
        auto now = braid::Instant::now();
        CountingWaker w;
        auto sleep = braid::sleep_until(now + 100ms);
        EXPECT(sleep.poll(&CountingWaker::wake, &w) == BRAID_PENDING);
        sleep.reset(now + 80ms);
        co_await sleep;
        EXPECT(now.elapsed() == 80ms);
    });
}

TEST_CASE("time_sleep.reset_past_sleep_before_fire") {
    run_paused([]() -> braid::Task<> {
        auto now = braid::Instant::now();
        CountingWaker w;
        auto sleep = braid::sleep_until(now + 100ms);
        EXPECT(sleep.poll(&CountingWaker::wake, &w) == BRAID_PENDING);
        co_await braid::sleep(10ms);
        sleep.reset(now + 80ms);
        co_await sleep;
        EXPECT(now.elapsed() == 80ms);
    });
}

TEST_CASE("time_sleep.reset_future_sleep_after_fire") {
    run_paused([]() -> braid::Task<> {
        auto now = braid::Instant::now();
        auto sleep = braid::sleep_until(now + 100ms);
        co_await sleep;
        EXPECT(now.elapsed() == 100ms);
        sleep.reset(now + 110ms);
        co_await sleep;
        EXPECT(now.elapsed() == 110ms);
    });
}

TEST_CASE("time_sleep.reset_sleep_to_past") {
    run_paused([]() -> braid::Task<> {
        auto now = braid::Instant::now();
        CountingWaker w;
        auto sleep = braid::sleep_until(now + 100ms);
        EXPECT(sleep.poll(&CountingWaker::wake, &w) == BRAID_PENDING);
        co_await braid::sleep(50ms);
        EXPECT(!w.woken());
        sleep.reset(now + 40ms);
        EXPECT(sleep.poll(&CountingWaker::wake, &w) == 0);
    });
}

TEST_CASE("time_sleep.creating_sleep_outside_of_context") {
    // Off every runtime: the sleep cannot find a timer to register with.
    auto sleep = braid::sleep_until(braid::Instant::now() + 500ms);
    CountingWaker w;
    REQUIRE(braid_test::error_code_of([&] { (void)sleep.poll(&CountingWaker::wake, &w); }) < 0);
}

TEST_CASE("time_sleep.greater_than_max") {
    run_paused([]() -> braid::Task<> {
        constexpr int64_t yr_5 = int64_t(5) * 365 * 24 * 60 * 60 * 1000;
        auto now = braid::Instant::now();
        co_await braid::sleep_until(now + std::chrono::milliseconds(yr_5));
        EXPECT(now.elapsed() == std::chrono::milliseconds(yr_5));
    });
}

TEST_CASE("time_sleep.short_sleeps") {
    braid_test::current_thread_runtime().block_on([]() -> braid::Task<> {
        for (int i = 0; i < 10000; ++i) co_await braid::sleep(0ms);
    }());
}

TEST_CASE("time_sleep.multi_long_sleeps") {
    run_paused([]() -> braid::Task<> {
        constexpr auto year = std::chrono::seconds(365 * 24 * 3600);
        for (int i = 0; i < 5; ++i) co_await braid::sleep(year);
        auto deadline = braid::Instant::now() + 10 * year;
        co_await braid::sleep_until(deadline);
        EXPECT(braid::Instant::now() >= deadline);
    });
}

TEST_CASE("time_sleep.long_sleeps") {
    run_paused([]() -> braid::Task<> {
        auto deadline = braid::Instant::now() + std::chrono::seconds(10LL * 365 * 24 * 3600);
        co_await braid::sleep_until(deadline);
        EXPECT(braid::Instant::now() >= deadline);
        EXPECT(braid::Instant::now() <= deadline + 1ms);
        EXPECT(braid::Instant::now() == deadline);  // no rounding in braid
    });
}

TEST_CASE("time_sleep.reset_after_firing") {
    // Not paused, as in Tokio: a real 1ms timer (it is what is tested, not a
    // synchronisation).
    braid_test::current_thread_runtime().block_on([]() -> braid::Task<> {
        auto timer = braid::sleep(1ms);
        auto deadline = timer.deadline();
        co_await timer;
        CountingWaker noop;
        EXPECT(timer.poll(&CountingWaker::wake, &noop) == 0);
        timer.reset(braid::Instant::now() + 600s);
        EXPECT(deadline != timer.deadline());
        EXPECT(timer.poll(&CountingWaker::wake, &noop) == BRAID_PENDING);
        EXPECT(timer.poll(&CountingWaker::wake, &noop) == BRAID_PENDING);
    }());
}

// NUM_LEVELS = 6 levels of 64 slots: the largest delay Tokio's wheel holds.
constexpr int64_t kMaxDuration = (int64_t(1) << (6 * 6)) - 1;

TEST_CASE("time_sleep.exactly_max") {
    run_paused([]() -> braid::Task<> {
        auto now = braid::Instant::now();
        co_await braid::sleep(std::chrono::milliseconds(kMaxDuration));
        EXPECT(now.elapsed() == std::chrono::milliseconds(kMaxDuration));
    });
}

TEST_CASE("time_sleep.no_out_of_bounds_close_to_max") {
    run_paused([]() -> braid::Task<> {
        auto now = braid::Instant::now();
        co_await braid::sleep(std::chrono::milliseconds(kMaxDuration - 1));
        EXPECT(now.elapsed() == std::chrono::milliseconds(kMaxDuration - 1));
    });
}

TEST_CASE("time_sleep.drop_after_reschedule_at_new_scheduled_time") {
    run_paused([]() -> braid::Task<> {
        auto start = braid::Instant::now();
        CountingWaker w;
        auto a = std::make_unique<braid::Sleep>(braid::sleep(5ms));
        auto b = std::make_unique<braid::Sleep>(braid::sleep(5ms));
        auto c = std::make_unique<braid::Sleep>(braid::sleep(10ms));
        (void)a->poll(&CountingWaker::wake, &w);
        (void)b->poll(&CountingWaker::wake, &w);
        (void)c->poll(&CountingWaker::wake, &w);

        b->reset(start + 10ms);
        braid::Sleep& a_ref = *a;  // (g++ 12 copies the operand of `co_await *a`)
        co_await a_ref;
        EXPECT(start.elapsed() == 5ms);
        b.reset();
        EXPECT(!c->is_elapsed());
    });
}

namespace {
// The waker of drop_from_wake: it drops every sleep in the list, its own
// timer's included, from inside the timer's wake.  Called again while it
// runs (a timer freed from inside a waker calling another waker) would be
// Tokio's panic in lock; it is recorded.
struct DropAll {
    std::mutex mu;
    std::vector<braid::Sleep> list;
    std::atomic<bool> reentered{false};
    std::atomic<int> wakes{0};
    static inline thread_local bool in_wake = false;

    static void wake(void* p) {
        auto* self = static_cast<DropAll*>(p);
        self->wakes.fetch_add(1);
        if (in_wake) {
            self->reentered.store(true);
            return;
        }
        in_wake = true;
        std::vector<braid::Sleep> dropped;
        {
            std::lock_guard<std::mutex> g(self->mu);
            dropped.swap(self->list);
        }
        dropped.clear();  // frees the timers, this one's included
        in_wake = false;
    }
};
}  // namespace

TEST_CASE("time_sleep.drop_from_wake") {
    DropAll state;
    run_paused([&state]() -> braid::Task<> {
        {
            std::lock_guard<std::mutex> g(state.mu);
            state.list.reserve(100);
            for (int i = 0; i < 100; ++i) {
                auto timer = braid::sleep(10ms);
                EXPECT(timer.poll(&DropAll::wake, &state) == BRAID_PENDING);
                state.list.push_back(std::move(timer));
            }
        }
        co_await braid::sleep(11ms);
        EXPECT(!state.reentered.load());
        std::lock_guard<std::mutex> g(state.mu);
        EXPECT(state.list.empty());  // a waker ran and dropped them all
    });
    REQUIRE(state.wakes.load() >= 1);
}

}  // namespace conformance_time_sleep
