// timeout and timeout_at: the awaitable's value, or nothing when the time ran
// out first — and then the awaitable is cancelled (its frame destroyed).
//
//   std::optional<Data> d = co_await braid::timeout(5s, fetch_data(url));
//
// For a void awaitable the result is a bool: true when it finished in time.
// The awaitable is polled before the clock is looked at, so one that is
// ready at once never costs a timer.  Paused time applies.
#pragma once

#include <braid/detail/branch.hpp>
#include <braid/time.hpp>

#include <optional>
#include <type_traits>
#include <utility>

namespace braid {

namespace detail {

template <class T>
class [[nodiscard]] TimeoutAwaiter {
public:
    TimeoutAwaiter(Instant deadline, Task<T> task) : branch_(std::move(task)), sleep_(deadline) {}

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
        if constexpr (std::is_void_v<T>) {
            if (elapsed_) return false;
            branch_.take();
            return true;
        } else {
            if (elapsed_) return std::optional<T>();
            return std::optional<T>(branch_.take());
        }
    }

private:
    static bool repoll(void* self, Context& ctx) { return static_cast<TimeoutAwaiter*>(self)->poll(ctx); }
    bool poll(Context& ctx) {
        if (branch_.poll()) return true;
        int rc = sleep_.poll(ctx.wake_fn, ctx.wake_data);
        if (rc == BRAID_PENDING) return false;
        if (rc < 0) throw Error(rc, "timeout");
        elapsed_ = true;
        branch_.cancel();
        return true;
    }

    Branch<T> branch_;
    Sleep sleep_;
    bool elapsed_ = false;
};

}  // namespace detail

// Awaits `a` until `deadline`.
template <class A>
auto timeout_at(Instant deadline, A&& a) {
    return detail::TimeoutAwaiter<typename detail::task_of_t<A>::value_type>(deadline,
                                                                             detail::as_task(std::forward<A>(a)));
}

// Awaits `a` for at most `d` (a negative duration throws braid::Error).
template <class R, class P, class A>
auto timeout(std::chrono::duration<R, P> d, A&& a) {
    if (d < d.zero()) throw Error(BRAID_EINVAL, "timeout: negative duration");
    return timeout_at(Instant::now() + d, std::forward<A>(a));
}

}  // namespace braid
