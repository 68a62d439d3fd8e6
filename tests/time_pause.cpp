// Paused time in C++, beyond Tokio's own tests (ported in
// conformance/time_pause.cpp): auto-advance goes on past timers whose wakers
// schedule no task, stops while a task runs, and an advance from outside a
// runtime fires what became due.  Both flavours where both apply.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_time_pause {

using namespace std::chrono_literals;

namespace {

// Runs `task` on `rt`, aborting it if it is still running after a minute of
// real time: a hang (time that stopped moving) becomes a failure
// (braid::TaskCancelled) rather than a stuck test.
template <class T>
T block_on_guarded(braid::Runtime& rt, braid::Task<T> task) {
    auto h = rt.spawn(std::move(task));
    struct Guard {
        std::mutex mu;
        std::condition_variable cv;
        bool done = false;
    } g;
    std::thread watchdog([&g, a = h.abort_handle()] {
        std::unique_lock<std::mutex> lk(g.mu);
        if (!g.cv.wait_for(lk, 60s, [&] { return g.done; })) a.abort();
    });
    struct Stop {
        Guard& g;
        std::thread& w;
        ~Stop() {
            {
                std::lock_guard<std::mutex> lk(g.mu);
                g.done = true;
            }
            g.cv.notify_all();
            w.join();
        }
    } stop{g, watchdog};
    return rt.block_on([](braid::JoinHandle<T>* jh) -> braid::Task<T> { co_return co_await *jh; }(&h));
}

// ---- auto-advance past timers whose wakers schedule nothing ----------------------------

void noop_wake(void*) {}

braid::Task<braid::Duration> sleep_behind_quiet_timers() {
    auto t0 = braid::Instant::now();
    // Timers whose wakers run but wake no task: the clock must go on to
    // the sleep behind them.
    auto a = braid::sleep(10ms);
    auto b = braid::sleep(20ms);
    EXPECT(a.poll(&noop_wake, nullptr) == BRAID_PENDING);
    EXPECT(b.poll(&noop_wake, nullptr) == BRAID_PENDING);
    co_await braid::sleep(30ms);
    EXPECT(a.is_elapsed() && b.is_elapsed());
    co_return t0.elapsed();
}

braid::Task<bool> clock_still_while_running() {
    // A sleeper is pending; this task keeps a worker busy (yielding), so the
    // clock must not move, however many times the other workers go idle.
    auto h = braid::spawn([]() -> braid::Task<> { co_await braid::sleep(10ms); }());
    auto t0 = braid::Instant::now();
    bool still = true;
    for (int i = 0; i < 2000; ++i) {
        co_await braid::yield_now();
        if (braid::Instant::now() != t0) still = false;
    }
    co_await h;
    EXPECT(t0.elapsed() == 10ms);
    co_return still;
}

}  // namespace

TEST_CASE("time_pause.auto-advance goes on past timers whose wakers schedule no task") {
    bool current = GENERATE(true, false);
    auto rt = braid_test::paused_runtime_of_flavour(current);
    REQUIRE(block_on_guarded(rt, sleep_behind_quiet_timers()) == 30ms);
}

TEST_CASE("time_pause.auto-advance waits while a task runs") {
    bool current = GENERATE(true, false);
    auto rt = braid_test::paused_runtime_of_flavour(current);
    REQUIRE(rt.block_on(clock_still_while_running()));
}

TEST_CASE("time_pause.advance from outside a current-thread runtime fires what became due") {
    auto rt = braid_test::paused_runtime_of_flavour(true);
    int64_t t0 = braid_now(rt.native_handle());
    braid_timer* t = nullptr;
    REQUIRE(braid_timer_new(&t, rt.native_handle(), t0 + 1000000) == BRAID_OK);
    braid_test::CountingWaker c;
    REQUIRE(braid_timer_poll_elapsed(t, &braid_test::CountingWaker::wake, &c) == BRAID_PENDING);
    rt.advance(999999ns);
    REQUIRE(c.count() == 0);
    rt.advance(1ns);
    REQUIRE(c.count() == 1);
    REQUIRE(braid_now(rt.native_handle()) - t0 == 1000000);
    braid_timer_free(t);
}

}  // namespace test_time_pause
