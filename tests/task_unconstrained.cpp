// task::unconstrained: operations inside it are not limited by the
// cooperative budget, and take nothing from the awaiting task's budget.
#include <catch2/catch.hpp>

#include "support.hpp"

namespace test_task_unconstrained {

namespace {
// Awaits `n` always-ready operations (a permit taken and given back each
// time) and reports how often the budget made it yield, as the number of
// other-task steps seen in between.
braid::Task<int> ready_ops(braid::Semaphore& sem, int n, const braid_test::Ticker& ticker) {
    int before = ticker.ticks();
    for (int i = 0; i < n; ++i) {
        auto p = co_await sem.acquire();
    }
    co_return ticker.ticks() - before;
}
}  // namespace

TEST_CASE("task_unconstrained.the budget makes a busy task yield, unconstrained does not") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid::Semaphore sem(1);
        braid_test::Ticker ticker;
        co_await braid::yield_now();
        int constrained = co_await ready_ops(sem, 1000, ticker);
        int free_run = co_await braid::task::unconstrained(ready_ops(sem, 1000, ticker));
        co_await ticker.stop();
        EXPECT(constrained > 0);  // it yielded to the ticker (1000 > the budget)
        EXPECT(free_run == 0);    // never yielded
    }());
}

TEST_CASE("task_unconstrained.unconstrained passes values and exceptions through and can be spawned") {
    auto rt = braid_test::runtime(1);
    int v = rt.block_on([]() -> braid::Task<int> {
        int a = co_await braid::task::unconstrained([]() -> braid::Task<int> {
            co_await braid::yield_now();
            co_return 2;
        }());
        int b = co_await braid::spawn(braid::task::unconstrained([]() -> braid::Task<int> { co_return 3; }()));
        bool threw = false;
        try {
            co_await braid::task::unconstrained([]() -> braid::Task<> {
                throw std::runtime_error("x");
                co_return;
            }());
        } catch (const std::runtime_error&) {
            threw = true;
        }
        EXPECT(threw);
        co_return a + b;
    }());
    REQUIRE(v == 5);
}

}  // namespace test_task_unconstrained
