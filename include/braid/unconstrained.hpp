// braid::task::unconstrained(task): runs `task` outside the cooperative
// budget (Tokio's task::unconstrained).  Operations awaited inside it never
// yield because the budget ran out, and take nothing from the budget of
// the task that awaits it.  Use it sparingly: a loop over always-ready
// operations in it keeps its worker from every other task.
//
//   co_await braid::task::unconstrained(drain(rx));
#pragma once

#include <braid/detail/branch.hpp>
#include <braid/detail/context.hpp>
#include <braid/task.hpp>

#include <coroutine>
#include <type_traits>
#include <utility>

namespace braid::task {

namespace detail_unconstrained {
// Drives the task as a branch of the awaiting one, with the budget
// unlimited around each of its polls.
template <class T>
class Awaiter {
public:
    explicit Awaiter(Task<T> t) : b_(std::move(t)) {}
    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        braid::detail::Context& ctx = *h.promise().ctx;
        b_.start(&ctx);
        if (step()) return false;
        ctx.wait_on(h, &Awaiter::repoll, this);
        return true;
    }
    T await_resume() { return b_.take(); }

private:
    bool step() {
        int* budget = braid_coop_counter();
        int saved = std::exchange(*budget, -1);
        bool done = b_.poll();
        *budget = saved;
        return done;
    }
    static bool repoll(void* p, braid::detail::Context&) { return static_cast<Awaiter*>(p)->step(); }

    braid::detail::Branch<T> b_;
};
}  // namespace detail_unconstrained

template <class T>
Task<T> unconstrained(Task<T> task) {
    if constexpr (std::is_void_v<T>) {
        co_await detail_unconstrained::Awaiter<T>(std::move(task));
    } else {
        co_return co_await detail_unconstrained::Awaiter<T>(std::move(task));
    }
}

}  // namespace braid::task
