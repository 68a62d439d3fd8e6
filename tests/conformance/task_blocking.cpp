// Tokio 1.24, tests/task_blocking.rs: spawn_blocking from tasks; runtimes
// built, shut down and dropped inside another runtime's task; a paused clock
// does not jump while a blocking job runs, and a blocking job that ends
// (with a value or an exception, awaited or not) wakes the paused runtime.
//
// Gaps:
//   block_in_blocking — no task::block_in_place
//   block_in_block — no task::block_in_place
//   no_block_in_current_thread_scheduler — no task::block_in_place
//   yes_block_in_threaded_block_on — no task::block_in_place
//   no_block_in_current_thread_block_on — no task::block_in_place
//   can_enter_current_thread_rt_from_within_block_in_place — no task::block_in_place
//   can_shutdown_now_in_runtime — no Runtime::shutdown_background
//   coop_disabled_in_block_in_place — no task::block_in_place
//   coop_disabled_in_block_in_place_in_block_on — no task::block_in_place
//
// Differs:
//   useful_panic_message_when_dropping_rt_in_rt — Tokio panics when a runtime
//     is dropped inside another runtime's task; braid shuts it down there,
//     blocking that worker until its threads are joined (docs/ARCHITECTURE.md,
//     "Shutdown").  The case checks braid's behaviour.
#include <catch2/catch.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "support.hpp"

using namespace std::chrono_literals;

TEST_CASE("basic_blocking") {
    auto rt = braid::Runtime::builder().current_thread().build();
    rt.block_on([]() -> braid::Task<> {
        // Run a few times
        for (int i = 0; i < 100; ++i) {
            auto out = co_await braid::spawn([]() -> braid::Task<std::string> {
                auto job = [] {
                    std::this_thread::sleep_for(5ms);  // blocking work
                    return std::string("hello");
                };
                co_return co_await braid::spawn_blocking(std::move(job));
            }());

            EXPECT(out == "hello");
        }
    }());
}

TEST_CASE("useful_panic_message_when_dropping_rt_in_rt") {
    braid::Runtime outer;

    // Built and dropped inside a task of `outer`: braid shuts it down there
    // (the task it holds is cancelled by that shutdown).
    bool cancelled = outer.block_on([]() -> braid::Task<bool> {
        braid::JoinHandle<void> held;
        {
            auto inner = braid::Runtime::builder().current_thread().build();
            held = inner.spawn([]() -> braid::Task<> { co_await braid_test::pending(); }());
        }
        co_return held.is_finished() && braid_test::error_code_of([&] { held.take(); }) == BRAID_ECANCELED;
    }());
    REQUIRE(cancelled);
}

TEST_CASE("can_shutdown_with_zero_timeout_in_runtime") {
    braid::Runtime outer;

    outer.block_on([]() -> braid::Task<> {
        auto rt = braid::Runtime::builder().current_thread().build();
        EXPECT(rt.shutdown_timeout(0ms));
        co_return;
    }());
}

// Time does not jump while a blocking job runs.
TEST_CASE("blocking_when_paused") {
    auto rt = braid::Runtime::builder().current_thread().start_paused().build();
    rt.block_on([]() -> braid::Task<> {
        auto short_job = [] { std::this_thread::sleep_for(1ms); };
        bool in_time = co_await braid::timeout(3s, braid::spawn_blocking(std::move(short_job)));
        EXPECT(in_time);  // "timeout should not trigger"

        // Even when the timeout is shorter than the job's real running time:
        // the runtime's time is paused, the system's is not.
        auto long_job = [] { std::this_thread::sleep_for(50ms); };
        in_time = co_await braid::timeout(1ms, braid::spawn_blocking(std::move(long_job)));
        EXPECT(in_time);  // "timeout should not trigger"
    }());
}

// Completing a blocking job wakes the runtime parked with time paused.  The
// real-time bound is Tokio's: it only tells a hang (the clock jumped to the
// 15 s timeout after real seconds of nothing) from a wake-up.
TEST_CASE("blocking_task_wakes_paused_runtime") {
    auto rt = braid::Runtime::builder().current_thread().start_paused().build();
    auto t0 = std::chrono::steady_clock::now();
    rt.block_on([]() -> braid::Task<> {
        auto job = [] { std::this_thread::sleep_for(1ms); };
        bool in_time = co_await braid::timeout(15s, braid::spawn_blocking(std::move(job)));
        EXPECT(in_time);  // "timeout should not trigger"
    }());
    REQUIRE(std::chrono::steady_clock::now() - t0 < 10s);
}

TEST_CASE("unawaited_blocking_task_wakes_paused_runtime") {
    auto rt = braid::Runtime::builder().current_thread().start_paused().build();
    auto t0 = std::chrono::steady_clock::now();
    rt.block_on([]() -> braid::Task<> {
        // When this job finishes, time auto-advances, even though its
        // handle is not awaited yet.
        auto job = [] { std::this_thread::sleep_for(1ms); };
        auto a = braid::spawn_blocking(std::move(job));

        co_await braid::sleep(15s);
        co_await a;  // "blocking task should finish"
    }());
    REQUIRE(std::chrono::steady_clock::now() - t0 < 10s);
}

TEST_CASE("panicking_blocking_task_wakes_paused_runtime") {
    auto rt = braid::Runtime::builder().current_thread().start_paused().build();
    auto t0 = std::chrono::steady_clock::now();
    rt.block_on([]() -> braid::Task<> {
        auto job = [] {
            std::this_thread::sleep_for(1ms);
            throw std::runtime_error("blocking task panicked");
        };
        bool panicked = false;
        try {
            (void)co_await braid::timeout(15s, braid::spawn_blocking(std::move(job)));
        } catch (const std::runtime_error& e) {
            panicked = std::string(e.what()) == "blocking task panicked";
        }
        EXPECT(panicked);  // and the timeout did not trigger
    }());
    REQUIRE(std::chrono::steady_clock::now() - t0 < 10s);
}
