// braid::task::Builder (Tokio's task::Builder): spawns a task, a blocking
// job or a local task with a name, shown in the task dump and stall reports
// (worker tasks) and given by braid::task::name() inside the task or job.
// The name is copied when the task is spawned (at most BRAID_TASK_NAME_MAX
// bytes); the builder and the string may go then.
//
//   auto h = braid::task::Builder().name("accept-loop").spawn(accept_loop(listener));
//   auto j = braid::task::Builder().name("hash").spawn_blocking([&] { return hash(file); });
//
// Each spawn behaves as its unnamed form: spawn and spawn_on as
// braid::spawn and Handle::spawn (a runtime shutting down gives a cancelled
// handle), spawn_blocking as braid::spawn_blocking, spawn_local as
// braid::spawn_local (the current LocalSet: inside one of its tasks or
// under LocalSet::enter).
#pragma once

#include <braid/detail/spawn_state.hpp>
#include <braid/error.hpp>
#include <braid/join_handle.hpp>
#include <braid/local_set.hpp>
#include <braid/runtime.hpp>
#include <braid/spawn.hpp>
#include <braid/task.hpp>

#include <source_location>
#include <type_traits>
#include <utility>

namespace braid::task {

class Builder {
public:
    // nullptr: unnamed.
    Builder& name(const char* n) noexcept {
        name_ = n;
        return *this;
    }

    // On the runtime of the calling thread (braid::spawn).
    template <class T>
    JoinHandle<T> spawn(Task<T> task, std::source_location loc = std::source_location::current()) const {
        return detail::spawn_or_cancelled<T, braid_runtime>(&braid_task_new_in, nullptr, std::move(task),
                                                            {loc, name_});
    }
    template <class T>
    SpawnResult<T> try_spawn(Task<T> task, std::source_location loc = std::source_location::current()) const {
        return detail::try_spawn_with<T, braid_runtime>(&braid_task_new_in, nullptr, std::move(task), {loc, name_});
    }

    // On `handle`'s runtime, from any thread (Handle::spawn).
    template <class T>
    JoinHandle<T> spawn_on(Task<T> task, const Handle& handle,
                           std::source_location loc = std::source_location::current()) const {
        return detail::spawn_or_cancelled<T, braid_handle>(&braid_handle_task_new_in, handle.native_handle(),
                                                           std::move(task), {loc, name_});
    }

    // On the blocking pool of the calling thread's runtime
    // (braid::spawn_blocking).
    template <class F>
    auto spawn_blocking(F f, std::source_location loc = std::source_location::current()) const
        -> JoinHandle<std::invoke_result_t<F&>> {
        using R = std::invoke_result_t<F&>;
        braid_task* t = nullptr;
        detail::Result<R>* result = nullptr;
        int rc = detail::try_spawn_blocking_task(std::move(f), &t, &result, nullptr, {loc, name_});
        if (rc == BRAID_ESHUTDOWN) return JoinHandle<R>::cancelled();
        detail::check(rc, "task::Builder::spawn_blocking (is this thread inside a braid runtime?)");
        return JoinHandle<R>(t, result);
    }

    // Into the current LocalSet (braid::spawn_local); throws
    // braid::Error(BRAID_EINVAL) where there is none.
    template <class T>
    JoinHandle<T> spawn_local(Task<T> task, std::source_location loc = std::source_location::current()) const {
        braid_local_set* set = braid_local_set_current();
        if (!set) throw Error(BRAID_EINVAL, "task::Builder::spawn_local outside a LocalSet");
        return detail::spawn_into(set, std::move(task), {loc, name_});
    }
    // Into `set` (LocalSet::spawn_local).
    template <class T>
    JoinHandle<T> spawn_local_on(Task<T> task, LocalSet& set,
                                 std::source_location loc = std::source_location::current()) const {
        return detail::spawn_into(set.native_handle(), std::move(task), {loc, name_});
    }

private:
    const char* name_ = nullptr;
};

}  // namespace braid::task
