// Spawning on the current runtime: spawn(Task), spawn(f, args...),
// spawn_blocking(f), yield_now(), and the current task's id.
#pragma once

#include <braid/detail/spawn_state.hpp>
#include <braid/error.hpp>
#include <braid/join_handle.hpp>
#include <braid/task.h>
#include <braid/task.hpp>

#include <concepts>
#include <functional>
#include <type_traits>
#include <utility>

namespace braid {

namespace detail {
template <class X>
struct is_task : std::false_type {};
template <class T>
struct is_task<Task<T>> : std::true_type {};

// A coroutine that owns f and args in its frame and awaits f(args...).
template <class F, class... Args>
std::invoke_result_t<F&&, Args&&...> call_in_frame(F f, Args... args) {
    co_return co_await std::invoke(std::move(f), std::move(args)...);
}
}  // namespace detail

// Spawns `task` on the runtime of the calling thread (a worker or blocking
// thread).  Throws braid::Error(BRAID_EINVAL) on other threads (use a
// Handle there) and braid::Error(BRAID_ESHUTDOWN) during shutdown.
template <class T>
JoinHandle<T> spawn(Task<T> task) {
    auto [t, s] = detail::spawn_task<T, braid_runtime>(&braid_task_new, nullptr, std::move(task));
    return JoinHandle<T>(t, &s->result);
}

// Spawns f(args...), where f returns a Task: f and the arguments are moved
// into the task's frame, so they live as long as the task.
template <class F, class... Args>
    requires std::invocable<F&&, Args&&...> && detail::is_task<std::invoke_result_t<F&&, Args&&...>>::value
auto spawn(F f, Args... args) {
    return spawn(detail::call_in_frame(std::move(f), std::move(args)...));
}

// Runs f() on the runtime's blocking pool; the handle gives its result (or
// rethrows its exception).  Aborting it before it starts cancels it.
template <class F>
auto spawn_blocking(F f) -> JoinHandle<std::invoke_result_t<F&>> {
    using State = detail::BlockingState<F>;
    braid_task* t = nullptr;
    void* mem = nullptr;
    int rc = braid_task_new(&t, &mem, nullptr, sizeof(State), &State::poll, nullptr, &State::release);
    if (rc < 0) throw Error(rc, "spawn_blocking (is this thread inside a braid runtime?)");
    auto* s = new (mem) State(std::move(f));
    rc = braid_task_start_blocking(t);
    if (rc < 0) {
        braid_task_free(t);
        throw Error(rc, "spawn_blocking");
    }
    return JoinHandle<std::invoke_result_t<F&>>(t, &s->result);
}

// Lets the other tasks queued on this worker run before this one goes on.
class [[nodiscard]] YieldNow {
public:
    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
        detail::Context& ctx = *h.promise().ctx;
        ctx.wake_fn(ctx.wake_data);  // re-queued behind the others
        ctx.wait_on(h, nullptr, nullptr);
    }
    void await_resume() const noexcept {}
};
inline YieldNow yield_now() { return {}; }

namespace task {
// The id of the task running on this thread (0 outside tasks: Tokio's
// try_id).  The destructors of a task's future and of its output see that
// task's id, also when the output goes with a JoinHandle dropped elsewhere.
inline uint64_t id() noexcept { return braid_task_current_id(); }
}  // namespace task

}  // namespace braid
