// Tokio 1.24, tests/task_abort.rs: aborting a task that waits (on a timer,
// forever), from the task's own runtime or from another thread, with the
// handle kept or dropped right after: the task is cancelled and its future
// dropped.
//
// Gaps: none.
//
// Not applicable:
//   test_abort_task_that_panics_on_drop_contained — a C++ destructor is noexcept: one that throws terminates the process; there is no unwinding out of a drop to contain
//   test_abort_task_that_panics_on_drop_returned — likewise (no panic out of a destructor to report through the JoinHandle)
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "support.hpp"

namespace conformance_task_abort {

using namespace std::chrono_literals;
using braid_test::pending;

// A suspended task can be aborted (tokio-rs/tokio#3157).
TEST_CASE("task_abort.test_abort_without_panic_3157") {
    auto rt = braid::Runtime::builder().worker_threads(1).start_paused().build();

    rt.block_on([]() -> braid::Task<> {
        auto handle = braid::spawn([]() -> braid::Task<> { co_await braid::sleep(100s); }());

        // wait for task to sleep.
        co_await braid::sleep(10ms);

        handle.abort();
        bool cancelled = false;
        try {
            co_await handle;
        } catch (const braid::TaskCancelled&) {
            cancelled = true;
        }
        EXPECT(cancelled);
    }());
}

// A suspended task of a current-thread runtime can be aborted from another
// thread; its future is dropped (not on that thread) and the join reports
// the cancellation (tokio-rs/tokio#3662).
TEST_CASE("task_abort.test_abort_without_panic_3662") {
    // Sets its flag when dropped; a moved-from one sets nothing.
    struct DropCheck {
        std::shared_ptr<std::atomic<bool>> flag;
        explicit DropCheck(std::shared_ptr<std::atomic<bool>> f) : flag(std::move(f)) {}
        DropCheck(DropCheck&& o) noexcept : flag(std::move(o.flag)) {}
        ~DropCheck() {
            if (flag) flag->store(true);
        }
    };

    auto rt = braid::Runtime::builder().current_thread().build();

    rt.block_on([]() -> braid::Task<> {
        auto drop_flag = std::make_shared<std::atomic<bool>>(false);

        auto j = braid::spawn([](DropCheck drop_check) -> braid::Task<> {
            // the drop check is part of the task
            co_await pending();
            (void)drop_check;
        }(DropCheck(drop_flag)));

        // This thread has no access to the runtime; it marks the task
        // cancelled, and the task is dropped (not on this thread).
        std::thread([&j, drop_flag] {
            EXPECT_ANYWHERE(!drop_flag->load());
            j.abort();
        }).join();

        bool cancelled = false;
        try {
            co_await j;
        } catch (const braid::TaskCancelled&) {
            cancelled = true;
        }
        EXPECT(drop_flag->load());
        EXPECT(cancelled);

        // One more poll that returns pending (Tokio's deferred clean-up).
        auto i = braid::spawn([]() -> braid::Task<> { co_await braid::yield_now(); }());
        co_await i;
    }());
}

// A suspended task is aborted even if its JoinHandle is dropped at once
// (tokio-rs/tokio#3964).
TEST_CASE("task_abort.test_abort_wakes_task_3964") {
    auto rt = braid::Runtime::builder().current_thread().start_paused().build();

    rt.block_on([]() -> braid::Task<> {
        auto notify_dropped = std::make_shared<int>(0);
        std::weak_ptr<int> weak_notify_dropped = notify_dropped;

        auto handle = braid::spawn([](std::shared_ptr<int> notify_dropped) -> braid::Task<> {
            // the pointer is moved into the task
            co_await braid::sleep(100s);
            (void)notify_dropped;
        }(std::move(notify_dropped)));

        // wait for task to sleep.
        co_await braid::sleep(10ms);

        handle.abort();
        handle.detach();

        // wait for task to abort.
        co_await braid::sleep(10ms);

        // the pointer has been dropped
        EXPECT(weak_notify_dropped.expired());
    }());
}

// A local task aborted from another thread is dropped on the set's thread
// (tokio-rs/tokio#3929).
TEST_CASE("task_abort.remote_abort_local_set_3929") {
    struct DropCheck {
        std::thread::id created_on = std::this_thread::get_id();
        bool moved = false;
        DropCheck() = default;
        DropCheck(DropCheck&& o) noexcept : created_on(o.created_on) { o.moved = true; }
        ~DropCheck() {
            if (!moved) EXPECT_ANYWHERE(created_on == std::this_thread::get_id());  // dropped on the set's thread
        }
    };
    auto rt = braid::Runtime::builder().current_thread().build();
    braid::LocalSet local;
    auto enter = rt.enter();
    auto jh = local.spawn_local([](DropCheck check) -> braid::Task<> {
        co_await pending();
        (void)check;
    }(DropCheck{}));
    std::thread jh2([ah = jh.abort_handle()]() mutable { ah.abort(); });
    bool cancelled = local.block_on(rt, [](braid::JoinHandle<void> jh) -> braid::Task<bool> {
        try {
            co_await jh;
        } catch (const braid::TaskCancelled&) {
            co_return true;
        }
        co_return false;
    }(std::move(jh)));
    jh2.join();
    REQUIRE(cancelled);
}

}  // namespace conformance_task_abort
