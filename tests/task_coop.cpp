// Cooperative budget: a task that keeps finding its awaited things ready
// yields after a budget of operations, so its neighbours make progress.
#include <catch2/catch.hpp>

#include <atomic>

#include "support.hpp"

namespace test_task_coop {

TEST_CASE("task_coop.a task looping on ready operations does not starve another task on its worker") {
    // One worker: without the budget the busy loop below would never give the
    // worker up, since every await completes at once.
    auto rt = braid::Runtime::builder().current_thread().build();
    auto [progress_seen, loops] = rt.block_on([]() -> braid::Task<std::pair<bool, long>> {
        std::atomic<bool> other_ran{false};
        auto other = braid::spawn([](std::atomic<bool>* r) -> braid::Task<> {
            r->store(true);
            co_return;
        }(&other_ran));
        auto [tx, rx] = braid::oneshot::channel<int>();
        tx.send(1);
        auto ready = braid::spawn([]() -> braid::Task<int> { co_return 1; }());
        co_await braid::yield_now();  // let `ready` finish; `other` is queued behind it
        long n = 0;
        while (!other_ran.load() && n < 10'000'000) {
            // already finished: each await completes without waiting
            co_await ready;
            ++n;
        }
        co_await other;
        co_return std::make_pair(other_ran.load(), n);
    }());
    REQUIRE(progress_seen);
    REQUIRE(loops <= 256);  // yielded within a budget or two (128 each)
}

TEST_CASE("task_coop.the budget also applies to elapsed sleeps") {
    auto rt = braid::Runtime::builder().current_thread().build();
    auto [ran, loops] = rt.block_on([]() -> braid::Task<std::pair<bool, long>> {
        std::atomic<bool> other_ran{false};
        auto other = braid::spawn([](std::atomic<bool>* r) -> braid::Task<> {
            r->store(true);
            co_return;
        }(&other_ran));
        long n = 0;
        while (!other_ran.load() && n < 10'000'000) {
            co_await braid::sleep(std::chrono::nanoseconds(0));
            ++n;
        }
        co_await other;
        co_return std::make_pair(other_ran.load(), n);
    }());
    REQUIRE(ran);
    REQUIRE(loops <= 256);
}

}  // namespace test_task_coop
