// What a spawned task keeps in its braid_task state: the root coroutine, the
// context its leaves wait through, and the result for the JoinHandle.  The
// C runtime polls it through the braid_task_new functions below.
#pragma once

#include <braid/detail/context.hpp>
#include <braid/detail/result.hpp>
#include <braid/error.hpp>
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
// braid_handle_task_new (owner: a handle).  Returns the C handle and the state.
template <class T, class Owner>
std::pair<braid_task*, SpawnState<T>*> spawn_task(
    int (*create)(braid_task**, void**, Owner*, size_t, braid_poll_fn, braid_state_fn, braid_state_fn),
    Owner* owner, Task<T> task) {
    if (!task.valid()) throw Error(BRAID_EINVAL, "spawning an empty Task");
    braid_task* t = nullptr;
    void* mem = nullptr;
    int rc = create(&t, &mem, owner, sizeof(SpawnState<T>), &SpawnState<T>::poll, &SpawnState<T>::cancel,
                    &SpawnState<T>::release);
    if (rc < 0) throw Error(rc, owner ? "spawn" : "spawn (is this thread inside a braid runtime?)");
    auto* s = new (mem) SpawnState<T>();
    s->root = task.release();
    s->ctx.wake_fn = &braid_task_wake_fn;
    s->ctx.wake_data = t;
    s->ctx.resume_point = s->root;
    s->root.promise().ctx = &s->ctx;
    rc = braid_task_start(t);
    if (rc < 0) {
        braid_task_free(t);
        throw Error(rc, "spawn");
    }
    return {t, s};
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

}  // namespace braid::detail
