// task::consume_budget: takes one unit of the cooperative budget; the task
// yields once the budget of its poll is used up (and not inside
// unconstrained).
#include <catch2/catch.hpp>

#include "support.hpp"

namespace test_task_consume_budget {

namespace {
// Takes `n` units and reports how often that made the task yield, as the
// number of other-task steps seen in between.
braid::Task<int> consume(int n, const braid_test::Ticker& ticker) {
    int before = ticker.ticks();
    for (int i = 0; i < n; ++i) co_await braid::task::consume_budget();
    co_return ticker.ticks() - before;
}
}  // namespace

TEST_CASE("task_consume_budget.consume_budget yields once the budget is used up, and not under unconstrained") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid_test::Ticker ticker;
        co_await braid::yield_now();
        int few = co_await consume(10, ticker);  // well inside one poll's budget
        co_await braid::yield_now();             // a fresh budget
        int many = co_await consume(1000, ticker);
        int free_run = co_await braid::task::unconstrained(consume(1000, ticker));
        co_await ticker.stop();
        EXPECT(few == 0);
        EXPECT(many >= 1000 / 128);  // it yielded each time the budget ran out
        EXPECT(free_run == 0);
    }());
}

TEST_CASE("task_consume_budget.consume_budget counts a forced yield in the metrics") {
    auto rt = braid_test::current_thread_runtime();
    auto m = rt.block_on([]() -> braid::Task<braid::RuntimeMetrics> {
        co_await braid::yield_now();
        for (int i = 0; i < 128; ++i) co_await braid::task::consume_budget();  // the whole budget, no yield
        auto before = braid::Handle::current().metrics();
        EXPECT(before.budget_forced_yields == 0);
        co_await braid::task::consume_budget();  // the 129th: yields
        co_return braid::Handle::current().metrics();
    }());
    REQUIRE(m.budget_forced_yields == 1);
}

}  // namespace test_task_consume_budget
