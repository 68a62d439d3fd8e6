// braid::task::consume_budget(): takes one unit of the running task's
// cooperative budget (Tokio's task::consume_budget).  Each poll of a task
// may complete 128 operations that were ready at once; a loop of work that
// awaits nothing (or only ready operations braid does not count) awaits
// this now and then, so that it yields once the budget is used up and the
// other tasks of its worker get their turn:
//
//   for (auto& item : batch) {
//       process(item);
//       co_await braid::task::consume_budget();
//   }
//
// It completes at once while the budget lasts; when the budget is used up
// it yields (the task is queued behind the others) and takes a unit of the
// next poll's budget.  Inside task::unconstrained, and outside tasks, it
// never yields.
#pragma once

#include <braid/detail/context.hpp>
#include <braid/detail/unstable.hpp>

#include <coroutine>

namespace braid::task {

class [[nodiscard]] ConsumeBudget {
public:
    bool await_ready() const noexcept { return braid_coop_take() == 1; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
        braid::detail::Context& ctx = *h.promise().ctx;
        ctx.wake_fn(ctx.wake_data);  // re-queued behind the others
        ctx.wait_on(h, &ConsumeBudget::retry, nullptr);
    }
    void await_resume() const noexcept {}

private:
    // A later poll: its budget gives the unit.  (Re-polled within the same
    // used-up poll, by a select or join around it: wait for the next one.)
    static bool retry(void*, braid::detail::Context& ctx) {
        if (braid_coop_take() == 1) return true;
        ctx.wake_fn(ctx.wake_data);
        return false;
    }
};

inline ConsumeBudget consume_budget() noexcept { return {}; }

}  // namespace braid::task
