// Tokio 1.24, tests/task_blocking.rs: spawn_blocking from tasks; runtimes
// built, shut down and dropped inside another runtime's task; a paused clock
// does not jump while a blocking job runs, and a blocking job that ends
// (with a value or an exception, awaited or not) wakes the paused runtime.
//
// Gaps: none.
//
// Differs:
//   useful_panic_message_when_dropping_rt_in_rt — Tokio panics when a runtime
//     is dropped inside another runtime's task; braid shuts it down there,
//     blocking that worker until its threads are joined (docs/ARCHITECTURE.md,
//     "Shutdown").  The case checks braid's behaviour.
//   no_block_in_current_thread_scheduler, no_block_in_current_thread_block_on
//     — Tokio panics; braid's block_in_place throws
//     braid::Error(BRAID_ENOTSUP) on a current-thread runtime.
//   coop_disabled_in_block_in_place, coop_disabled_in_block_in_place_in_block_on
//     — braid's Handle::block_on runs its future as a task of its own (with a
//     budget of its own, which yields and goes on): the ports check that
//     draining a ready channel from inside block_in_place completes.
#include <catch2/catch.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "support.hpp"

namespace conformance_task_blocking {

using namespace std::chrono_literals;

TEST_CASE("task_blocking.basic_blocking") {
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

TEST_CASE("task_blocking.useful_panic_message_when_dropping_rt_in_rt") {
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

TEST_CASE("task_blocking.can_shutdown_with_zero_timeout_in_runtime") {
    braid::Runtime outer;

    outer.block_on([]() -> braid::Task<> {
        auto rt = braid::Runtime::builder().current_thread().build();
        EXPECT(rt.shutdown_timeout(0ms));
        co_return;
    }());
}

// Time does not jump while a blocking job runs.
TEST_CASE("task_blocking.blocking_when_paused") {
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
TEST_CASE("task_blocking.blocking_task_wakes_paused_runtime") {
    auto rt = braid::Runtime::builder().current_thread().start_paused().build();
    auto t0 = std::chrono::steady_clock::now();
    rt.block_on([]() -> braid::Task<> {
        auto job = [] { std::this_thread::sleep_for(1ms); };
        bool in_time = co_await braid::timeout(15s, braid::spawn_blocking(std::move(job)));
        EXPECT(in_time);  // "timeout should not trigger"
    }());
    REQUIRE(std::chrono::steady_clock::now() - t0 < 10s);
}

TEST_CASE("task_blocking.unawaited_blocking_task_wakes_paused_runtime") {
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

TEST_CASE("task_blocking.panicking_blocking_task_wakes_paused_runtime") {
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

TEST_CASE("task_blocking.block_in_blocking") {
    auto rt = braid::Runtime();
    rt.block_on([]() -> braid::Task<> {
        for (int i = 0; i < 100; ++i) {
            auto out = co_await braid::spawn([]() -> braid::Task<std::string> {
                co_return co_await braid::spawn_blocking([] {
                    braid::task::block_in_place([] { std::this_thread::sleep_for(5ms); });  // blocking work
                    return std::string("hello");
                });
            }());
            EXPECT(out == "hello");
        }
    }());
}

TEST_CASE("task_blocking.block_in_block") {
    auto rt = braid::Runtime();
    rt.block_on([]() -> braid::Task<> {
        for (int i = 0; i < 100; ++i) {
            auto out = co_await braid::spawn([]() -> braid::Task<std::string> {
                co_return braid::task::block_in_place([] {
                    braid::task::block_in_place([] { std::this_thread::sleep_for(5ms); });  // blocking work
                    return std::string("hello");
                });
            }());
            EXPECT(out == "hello");
        }
    }());
}

TEST_CASE("task_blocking.no_block_in_current_thread_scheduler") {
    auto rt = braid::Runtime::builder().current_thread().build();
    REQUIRE(braid_test::block_in_place_code(rt) == BRAID_ENOTSUP);
}

TEST_CASE("task_blocking.yes_block_in_threaded_block_on") {
    auto rt = braid::Runtime();
    rt.block_on([]() -> braid::Task<> {
        braid::task::block_in_place([] {});
        co_return;
    }());
}

TEST_CASE("task_blocking.no_block_in_current_thread_block_on") {
    auto rt = braid::Runtime::builder().current_thread().build();
    REQUIRE(braid_test::block_in_place_code(rt) == BRAID_ENOTSUP);
}

TEST_CASE("task_blocking.can_enter_current_thread_rt_from_within_block_in_place") {
    auto outer = braid::Runtime();
    outer.block_on([]() -> braid::Task<> {
        braid::task::block_in_place([] {
            auto inner = braid::Runtime::builder().current_thread().build();
            inner.block_on([]() -> braid::Task<> { co_return; }());
        });
        co_return;
    }());
}

TEST_CASE("task_blocking.can_shutdown_now_in_runtime") {
    auto outer = braid::Runtime();
    outer.block_on([]() -> braid::Task<> {
        auto rt = braid::Runtime::builder().current_thread().build();
        rt.shutdown_background();
        co_return;
    }());
}

namespace {
// 200 values ready in an unbounded channel, received from inside
// block_in_place through Handle::current().block_on.
void drain_in_place(braid::mpsc::Receiver<int>& rx) {
    braid::task::block_in_place([&] {
        braid::Handle::current().block_on([](braid::mpsc::Receiver<int>& rx) -> braid::Task<> {
            for (int i = 0; i < 200; ++i) {
                auto v = co_await rx.recv();
                EXPECT(v.has_value());
            }
        }(rx));
    });
}
}  // namespace

TEST_CASE("task_blocking.coop_disabled_in_block_in_place") {
    auto outer = braid::Runtime();
    auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
    for (int i = 0; i < 200; ++i) (void)tx.send(i);
    outer.block_on([](braid::mpsc::Receiver<int> rx) -> braid::Task<> {
        co_await braid::spawn([](braid::mpsc::Receiver<int> rx) -> braid::Task<> {
            drain_in_place(rx);
            co_return;
        }(std::move(rx)));
    }(std::move(rx)));
}

TEST_CASE("task_blocking.coop_disabled_in_block_in_place_in_block_on") {
    auto outer = braid::Runtime();
    auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
    for (int i = 0; i < 200; ++i) (void)tx.send(i);
    outer.block_on([](braid::mpsc::Receiver<int> rx) -> braid::Task<> {
        drain_in_place(rx);
        co_return;
    }(std::move(rx)));
}

}  // namespace conformance_task_blocking
