// timeout and timeout_at: the awaitable's value, or nothing when the time ran
// out first — and then the awaitable is cancelled (its frame destroyed).
//
//   std::optional<Data> d = co_await braid::timeout(5s, fetch_data(url));
//
// For a void awaitable the result is a bool: true when it finished in time.
// The awaitable is polled before the clock is looked at, so one that is
// ready at once costs neither a timer nor a clock read: timeout(d, a)'s
// duration counts from the first poll that finds `a` not ready (the
// `co_await`, for the usual `co_await braid::timeout(d, a)`; async-std's
// timeout also starts its clock when first polled), timeout_at's deadline
// is fixed.  Paused time applies.  The deadline is seen even around an
// awaitable that is always ready and uses up the task's cooperative budget.
#pragma once

#include <braid/detail/branch.hpp>
#include <braid/time.hpp>

#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

namespace braid {

namespace detail {

template <class B>
class [[nodiscard]] TimeoutAwaiter {
public:
    using T = typename B::value_type;

    template <class Arg>
    TimeoutAwaiter(Instant deadline, Arg&& arg) : branch_(std::forward<Arg>(arg)), sleep_(deadline) {}
    // The deadline is `after_ns` from the first poll that finds the branch
    // pending (no clock read when it is ready at once).
    template <class Arg>
    TimeoutAwaiter(int64_t after_ns, Arg&& arg)
        : branch_(std::forward<Arg>(arg)), sleep_(Instant::far_future()), after_ns_(after_ns) {}

    bool await_ready() const noexcept { return false; }

    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        Context* parent = h.promise().ctx;
        branch_.start(parent);
        if (poll(*parent)) return false;
        parent->wait_on(h, &TimeoutAwaiter::repoll, this);
        return true;
    }

    auto await_resume() {
        try {
            if constexpr (std::is_void_v<T>) {
                if (elapsed_) return false;
                branch_.take();
                return true;
            } else {
                if (elapsed_) return std::optional<T>();
                return std::optional<T>(branch_.take());
            }
        } catch (...) {
            // released before it leaves: g++ 12 may skip this awaiter's
            // destructor when await_resume throws
            branch_.cancel();
            sleep_.unregister();
            sleep_.finish(0);  // frees the timer
            throw;
        }
    }

private:
    static bool repoll(void* self, Context& ctx) { return static_cast<TimeoutAwaiter*>(self)->poll(ctx); }
    bool poll(Context& ctx) {
        // The budget counter of this poll (the driver's, without a call when
        // it gave one): 0 is used up, < 0 unlimited.
        int* budget = ctx.coop ? ctx.coop : braid_coop_counter();
        bool had_budget = *budget != 0;
        if (branch_.poll()) return true;
        if (after_ns_ >= 0) sleep_.reset(Instant::now() + Duration(std::exchange(after_ns_, -1)));
        // The deadline is looked at even when the awaitable used the task's
        // budget up (one that is always ready does on every poll): then the
        // timer is polled outside the budget, as Tokio's timeout does.
        bool used_up_inside = had_budget && *budget == 0;
        int rc = used_up_inside ? sleep_.poll_unconstrained(ctx.wake_fn, ctx.wake_data)
                                : sleep_.poll(ctx.wake_fn, ctx.wake_data);
        if (rc == BRAID_PENDING) return false;
        if (rc < 0) throw Error(rc, "timeout");
        elapsed_ = true;
        branch_.cancel();
        return true;
    }

    B branch_;
    Sleep sleep_;
    int64_t after_ns_ = -1;  // >= 0: the deadline is this far from the first pending poll
    bool elapsed_ = false;
};

}  // namespace detail

// Awaits `a` until `deadline`.  An awaitable passed by lvalue is kept by the
// caller: on expiry it is not destroyed, only unregistered (see select.hpp).
template <class A>
auto timeout_at(Instant deadline, A&& a) {
    return detail::TimeoutAwaiter<detail::branch_t<A>>(deadline, detail::branch_arg(std::forward<A>(a)));
}

// Awaits `a` for at most `d` from the first poll that finds it pending (a
// negative duration throws braid::Error).
template <class R, class P, class A>
auto timeout(std::chrono::duration<R, P> d, A&& a) {
    if (d < d.zero()) throw Error(BRAID_EINVAL, "timeout: negative duration");
    return detail::TimeoutAwaiter<detail::branch_t<A>>(detail::saturating_ns(d), detail::branch_arg(std::forward<A>(a)));
}

}  // namespace braid
