// Spawning on the current runtime: spawn(Task), spawn(f, args...),
// spawn_blocking(f), their try_ forms, yield_now(), and the current task's
// id.
//
// Spawning while the runtime shuts down (from a destructor that runs during
// the shutdown, from a blocking job, through a Handle afterwards) does not
// throw: as in Tokio, the task is dropped at once (its frame destroyed,
// destructors run, it never runs) and the JoinHandle reports it cancelled
// (is_finished(); co_await throws braid::TaskCancelled).  try_spawn and
// try_spawn_blocking report the refusal instead (BRAID_ESHUTDOWN).
#pragma once

#include <braid/detail/spawn_state.hpp>
#include <braid/error.hpp>
#include <braid/join_handle.hpp>
#include <braid/task.h>
#include <braid/task.hpp>

#include <concepts>
#include <functional>
#include <source_location>
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
// thread, or the thread shutting the runtime down).  Throws
// braid::Error(BRAID_EINVAL) on other threads (use a Handle there).  During
// shutdown: a cancelled handle, the task dropped (see above).
// The caller's location (`loc`, defaulted) shows in the task dump and in
// stall reports (braid/task_dump.h).
template <class T>
JoinHandle<T> spawn(Task<T> task, std::source_location loc = std::source_location::current()) {
    return detail::spawn_or_cancelled<T, braid_runtime>(&braid_task_new_in, nullptr, std::move(task), {loc});
}

// spawn, reporting a refusal: BRAID_ESHUTDOWN during shutdown, BRAID_EINVAL
// off the runtime's threads (the task is dropped either way).
template <class T>
SpawnResult<T> try_spawn(Task<T> task, std::source_location loc = std::source_location::current()) {
    return detail::try_spawn_with<T, braid_runtime>(&braid_task_new_in, nullptr, std::move(task), {loc});
}

// spawn with a name (copied, at most BRAID_TASK_NAME_MAX bytes kept), shown
// in the task dump and stall reports.
template <class T>
JoinHandle<T> spawn_named(const char* name, Task<T> task, std::source_location loc = std::source_location::current()) {
    return detail::spawn_or_cancelled<T, braid_runtime>(&braid_task_new_in, nullptr, std::move(task), {loc, name});
}

// Spawns f(args...), where f returns a Task: f and the arguments are moved
// into the task's frame, so they live as long as the task.
template <class F, class... Args>
    requires std::invocable<F&&, Args&&...> && detail::is_task<std::invoke_result_t<F&&, Args&&...>>::value
auto spawn(F f, Args... args) {
    return spawn(detail::call_in_frame(std::move(f), std::move(args)...));
}
template <class F, class... Args>
    requires std::invocable<F&&, Args&&...> && detail::is_task<std::invoke_result_t<F&&, Args&&...>>::value
auto try_spawn(F f, Args... args) {
    return try_spawn(detail::call_in_frame(std::move(f), std::move(args)...));
}

// Runs f() on the runtime's blocking pool; the handle gives its result (or
// rethrows its exception).  Aborting it before it starts cancels it.
// During shutdown f is destroyed without running and the handle reports
// cancellation; off the runtime's threads it throws BRAID_EINVAL.
template <class F>
auto spawn_blocking(F f, std::source_location loc = std::source_location::current())
    -> JoinHandle<std::invoke_result_t<F&>> {
    using R = std::invoke_result_t<F&>;
    braid_task* t = nullptr;
    detail::Result<R>* result = nullptr;
    int rc = detail::try_spawn_blocking_task(std::move(f), &t, &result, nullptr, {loc});
    if (rc == BRAID_ESHUTDOWN) return JoinHandle<R>::cancelled();
    detail::check(rc, "spawn_blocking (is this thread inside a braid runtime?)");
    return JoinHandle<R>(t, result);
}

// spawn_blocking, reporting a refusal (BRAID_ESHUTDOWN, BRAID_EINVAL).
template <class F>
auto try_spawn_blocking(F f, std::source_location loc = std::source_location::current())
    -> SpawnResult<std::invoke_result_t<F&>> {
    using R = std::invoke_result_t<F&>;
    braid_task* t = nullptr;
    detail::Result<R>* result = nullptr;
    int rc = detail::try_spawn_blocking_task(std::move(f), &t, &result, nullptr, {loc});
    if (rc < 0) return SpawnResult<R>(rc);
    return SpawnResult<R>(JoinHandle<R>(t, result));
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

// The name of the task running on this thread (task::Builder's, spawn_named's;
// also a named blocking job's or local task's), or nullptr: unnamed, or
// outside tasks.  Valid while the task runs.
inline const char* name() noexcept { return braid_task_name(braid_task_current()); }
}  // namespace task

}  // namespace braid
