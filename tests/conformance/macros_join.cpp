// Tokio's tests/macros_join.rs, ported to braid::join: every branch runs
// concurrently in the calling task and join gives a tuple of their values;
// a branch that is always ready (and uses up the task's cooperative budget)
// does not starve the others; and each poll of the join starts with the
// next branch in turn.  tokio_test's task::spawn(fut).poll() is
// braid_test::PollByHand over the join as a one-item stream.
// #[tokio::test] is a current-thread runtime.
//
// Gaps: none.
//
// Not applicable:
//   sync_one_lit_expr_no_comma, sync_two_lit_expr_no_comma: macro syntax
//     (without the trailing comma) of the _comma cases, which are ported.
//   join_size: the size of the Rust future join! generates.
#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "support.hpp"

namespace conformance_macros_join {

using braid_test::PollByHand;

namespace {

braid::Runtime rt() { return braid_test::current_thread_runtime(); }

braid::Task<int> value(int v) { co_return v; }

braid::Task<std::size_t> non_cooperative_task(std::shared_ptr<braid::Semaphore> permits) {
    std::size_t exceeded_budget = 0;
    for (int i = 0; i < 5; ++i) {
        // another branch should run after this one uses its whole budget
        for (int j = 0; j < 128; ++j) auto permit = co_await braid::acquire_owned(permits);
        ++exceeded_budget;
    }
    co_return exceeded_budget;
}

braid::Task<std::size_t> poor_little_task(std::shared_ptr<braid::Semaphore> permits) {
    std::size_t how_many_times_i_got_to_run = 0;
    for (int i = 0; i < 5; ++i) {
        auto permit = co_await braid::acquire_owned(permits);
        ++how_many_times_i_got_to_run;
    }
    co_return how_many_times_i_got_to_run;
}

struct PollOrder {
    std::mutex mu;
    std::vector<int> order;
};

braid::Task<> push_and_yield(int x, std::shared_ptr<PollOrder> poll_order) {
    for (int i = 0; i < 4; ++i) {
        {
            std::lock_guard<std::mutex> g(poll_order->mu);
            poll_order->order.push_back(x);
        }
        co_await braid::yield_now();
    }
}

}  // namespace

TEST_CASE("macros_join.sync_one_lit_expr_comma") {
    rt().block_on([]() -> braid::Task<> {
        auto foo = co_await braid::join(value(1));
        EXPECT(foo == std::make_tuple(1));
    }());
}

TEST_CASE("macros_join.sync_two_lit_expr_comma") {
    rt().block_on([]() -> braid::Task<> {
        auto foo = co_await braid::join(value(1), value(2));
        EXPECT(foo == std::make_tuple(1, 2));
    }());
}

TEST_CASE("macros_join.two_await") {
    rt().block_on([]() -> braid::Task<> {
        auto [tx1, rx1] = braid::oneshot::channel<std::string>();
        auto [tx2, rx2] = braid::oneshot::channel<uint32_t>();

        auto fut = braid_test::as_stream(braid::join(std::move(rx1), std::move(rx2)));
        PollByHand join(fut);

        EXPECT(join.poll_next().is_pending());

        EXPECT(!tx2.send(123).has_value());
        EXPECT(join.is_woken());
        EXPECT(join.poll_next().is_pending());

        EXPECT(!tx1.send("hello").has_value());
        EXPECT(join.is_woken());
        auto res = join.poll_next();
        EXPECT(res.ready && res.item == std::make_tuple(std::string("hello"), uint32_t(123)));
        co_return;
    }());
}

TEST_CASE("macros_join.join_does_not_allow_tasks_to_starve") {
    rt().block_on([]() -> braid::Task<> {
        auto permits = std::make_shared<braid::Semaphore>(1);
        auto [non_cooperative_result, little_task_result] =
            co_await braid::join(non_cooperative_task(permits), poor_little_task(permits));
        EXPECT(non_cooperative_result == 5);
        EXPECT(little_task_result == 5);
    }());
}

TEST_CASE("macros_join.a_different_future_is_polled_first_every_time_poll_fn_is_polled") {
    rt().block_on([]() -> braid::Task<> {
        auto poll_order = std::make_shared<PollOrder>();
        co_await braid::join(push_and_yield(1, poll_order), push_and_yield(2, poll_order),
                             push_and_yield(3, poll_order));
        // each poll of the join starts with a different branch
        EXPECT((poll_order->order == std::vector<int>{1, 2, 3, 2, 3, 1, 3, 1, 2, 1, 2, 3}));
    }());
}

}  // namespace conformance_macros_join
