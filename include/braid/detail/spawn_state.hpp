// What a spawned task keeps in its braid_task state: the root coroutine, the
// context its leaves wait through, and the result for the JoinHandle.  The
// C runtime polls it through the braid_task_new functions below.
#pragma once

#include <braid/detail/context.hpp>
#include <braid/detail/result.hpp>
#include <braid/error.hpp>
#include <braid/join_handle.hpp>
#include <braid/task.h>
#include <braid/task.hpp>

#include <exception>
#include <new>
#include <type_traits>
#include <utility>

namespace braid::detail {

template <class T>
struct SpawnState {
    Context ctx;
    typename Task<T>::handle_type root;
    Result<T> result;

    // braid_poll_fn
    static int poll(void* p, braid_task*) {
        auto* s = static_cast<SpawnState*>(p);
        struct Coop {  // the budget counter, for this poll only (a later one may run on another thread)
            Context& c;
            explicit Coop(Context& cx) : c(cx) { c.coop = braid_coop_counter(); }
            ~Coop() { c.coop = nullptr; }
        } coop(s->ctx);
        {
            ContextScope scope(&s->ctx);
            if (!s->ctx.ready()) return BRAID_PENDING;
            s->ctx.resume();
        }
        if (!s->root.done()) return BRAID_PENDING;
        s->result = std::move(s->root.promise().result);
        s->drop_root();
        return s->result.has_exception() ? BRAID_EPANIC : BRAID_OK;
    }
    // braid_state_fn: cancelled; destroying the frame runs its destructors
    // (every awaiter unregisters itself).
    static void cancel(void* p) { static_cast<SpawnState*>(p)->drop_root(); }
    // braid_state_fn: last handle gone.
    static void release(void* p) { static_cast<SpawnState*>(p)->~SpawnState(); }

    void drop_root() {
        if (root) std::exchange(root, {}).destroy();
    }
    ~SpawnState() { drop_root(); }
};

// Creates a braid task that runs `task` and starts it.  `create` is
// braid_task_new (owner: a runtime, NULL for the calling thread's) or
// braid_handle_task_new (owner: a handle).  BRAID_OK with the C handle in
// *out and the result slot in *result; or the code the runtime refused the
// task with (BRAID_ESHUTDOWN, BRAID_EINVAL: no runtime on this thread or an
// empty Task, BRAID_ENOMEM), after destroying `task` (its frame and
// everything it holds): a refused task never runs.
template <class T, class Owner>
int try_spawn_task(int (*create)(braid_task**, void**, Owner*, size_t, braid_poll_fn, braid_state_fn, braid_state_fn),
                   Owner* owner, Task<T> task, braid_task** out, Result<T>** result) {
    *out = nullptr;
    *result = nullptr;
    if (!task.valid()) return BRAID_EINVAL;
    braid_task* t = nullptr;
    void* mem = nullptr;
    int rc = create(&t, &mem, owner, sizeof(SpawnState<T>), &SpawnState<T>::poll, &SpawnState<T>::cancel,
                    &SpawnState<T>::release);
    if (rc < 0) {
        Task<T> dropped(std::move(task));
        return rc;
    }
    auto* s = new (mem) SpawnState<T>();
    s->root = task.release();
    s->ctx.wake_fn = &braid_task_wake_fn;
    s->ctx.wake_data = t;
    s->ctx.resume_point = s->root;
    s->root.promise().ctx = &s->ctx;
    rc = braid_task_start(t);
    if (rc < 0) {  // refused: finished without running (no cancel call); drop the frame now
        s->drop_root();
        braid_task_free(t);
        return rc;
    }
    *out = t;
    *result = &s->result;
    return BRAID_OK;
}

// What spawn says to a refused task.
inline const char* spawn_error_context(const void* owner) {
    return owner ? "spawn" : "spawn (is this thread inside a braid runtime?)";
}

// spawn: a runtime that is shutting down drops the task (try_spawn_task
// destroyed it) and gives a handle that reports it cancelled, as Tokio's
// spawn does; any other refusal throws braid::Error.
template <class T, class Owner>
JoinHandle<T> spawn_or_cancelled(
    int (*create)(braid_task**, void**, Owner*, size_t, braid_poll_fn, braid_state_fn, braid_state_fn), Owner* owner,
    Task<T> task) {
    if (!task.valid()) throw Error(BRAID_EINVAL, "spawning an empty Task");
    braid_task* t = nullptr;
    Result<T>* result = nullptr;
    int rc = try_spawn_task<T, Owner>(create, owner, std::move(task), &t, &result);
    if (rc == BRAID_ESHUTDOWN) return JoinHandle<T>::cancelled();
    check(rc, spawn_error_context(owner));
    return JoinHandle<T>(t, result);
}

// try_spawn: every refusal is a value.
template <class T, class Owner>
SpawnResult<T> try_spawn_with(
    int (*create)(braid_task**, void**, Owner*, size_t, braid_poll_fn, braid_state_fn, braid_state_fn), Owner* owner,
    Task<T> task) {
    braid_task* t = nullptr;
    Result<T>* result = nullptr;
    int rc = try_spawn_task<T, Owner>(create, owner, std::move(task), &t, &result);
    if (rc < 0) return SpawnResult<T>(rc);
    return SpawnResult<T>(JoinHandle<T>(t, result));
}

// spawn_blocking's state: runs a callable once on the blocking pool.
template <class F>
struct BlockingState {
    using R = std::invoke_result_t<F&>;
    F fn;
    Result<R> result;
    explicit BlockingState(F&& f) : fn(std::move(f)) {}

    static int poll(void* p, braid_task*) {
        auto* s = static_cast<BlockingState*>(p);
        try {
            if constexpr (std::is_void_v<R>) {
                s->fn();
                s->result.set_value();
            } else {
                s->result.set_value(s->fn());
            }
            return BRAID_OK;
        } catch (...) {
            s->result.set_exception(std::current_exception());
            return BRAID_EPANIC;
        }
    }
    static void release(void* p) { static_cast<BlockingState*>(p)->~BlockingState(); }
};

// Runs f on the blocking pool of the calling thread's runtime.  As
// try_spawn_task: BRAID_OK with the handle, or the refusal code after f was
// destroyed (it never runs).
template <class F>
int try_spawn_blocking_task(F f, braid_task** out, Result<std::invoke_result_t<F&>>** result) {
    using State = BlockingState<F>;
    *out = nullptr;
    *result = nullptr;
    braid_task* t = nullptr;
    void* mem = nullptr;
    int rc = braid_task_new(&t, &mem, nullptr, sizeof(State), &State::poll, nullptr, &State::release);
    if (rc < 0) {
        [[maybe_unused]] F dropped(std::move(f));  // destroyed here: the job never runs
        return rc;
    }
    auto* s = new (mem) State(std::move(f));
    rc = braid_task_start_blocking(t);
    if (rc < 0) {  // refused: the release function destroys f
        braid_task_free(t);
        return rc;
    }
    *out = t;
    *result = &s->result;
    return BRAID_OK;
}

}  // namespace braid::detail
