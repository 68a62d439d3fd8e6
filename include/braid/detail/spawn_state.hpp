// A spawned coroutine's task: the TaskFrame in front of the coroutine's
// frame is the braid_task state (braid/detail/task_frame.hpp), holding the
// context its leaves wait through; the result for the JoinHandle is moved
// to where the frame was once it finished.  The C runtime polls it through
// the functions below.
#pragma once

#include <braid/detail/context.hpp>
#include <braid/detail/result.hpp>
#include <braid/detail/task_frame.hpp>
#include <braid/error.hpp>
#include <braid/join_handle.hpp>
#include <braid/local_set.h>
#include <braid/task.h>
#include <braid/task.hpp>

#include <exception>
#include <new>
#include <optional>
#include <source_location>
#include <type_traits>
#include <utility>

namespace braid::detail {

template <class T>
struct SpawnState {
    using Handle = typename Task<T>::handle_type;
    static Handle root(TaskFrame* f) { return Handle::from_address(f->frame()); }
    // Where the result is once the coroutine finished.
    static Result<T>* result(TaskFrame* f) { return std::launder(reinterpret_cast<Result<T>*>(f->frame())); }
    static_assert(alignof(Result<T>) <= 16, "a spawned task's result lives in its 16-byte aligned frame");

    // braid_poll_fn
    static int poll(void* p, braid_task*) {
        auto* f = static_cast<TaskFrame*>(p);
        struct Coop {  // the budget counter, for this poll only (a later one may run on another thread)
            Context& c;
            explicit Coop(Context& cx) : c(cx) { c.coop = braid_coop_counter(); }
            ~Coop() { c.coop = nullptr; }
        } coop(f->ctx);
        {
            ContextScope scope(&f->ctx);
            if (!f->ctx.ready()) return BRAID_PENDING;
            f->ctx.resume();
        }
        Handle h = root(f);
        if (!h.done()) return BRAID_PENDING;
        Result<T> r = moved(h.promise().result);
        drop_frame(f);
        Result<T>* out = new (f->frame()) Result<T>(moved(r));
        f->has_result = true;
        return out->has_exception() ? BRAID_EPANIC : BRAID_OK;
    }
    // braid_state_fn: cancelled; destroying the frame runs its destructors
    // (every awaiter unregisters itself).
    static void cancel(void* p) { drop_frame(static_cast<TaskFrame*>(p)); }
    // braid_state_fn: last handle gone.
    static void release(void* p) {
        auto* f = static_cast<TaskFrame*>(p);
        drop_frame(f);
        if (f->has_result) result(f)->~Result<T>();
        f->~TaskFrame();
    }

    static void drop_frame(TaskFrame* f) {
        if (f->frame_alive) {
            f->frame_alive = false;
            root(f).destroy();
        }
    }

private:
    // A result moved; when T's move throws, one holding that exception.
    static Result<T> moved(Result<T>& from) noexcept {
        try {
            return Result<T>(std::move(from));
        } catch (...) {
            Result<T> e;
            e.set_exception(std::current_exception());
            return e;
        }
    }
};

template <class T>
inline constexpr braid_task_vtable spawn_vtable{&SpawnState<T>::poll, &SpawnState<T>::cancel,
                                                &SpawnState<T>::release, &TaskFrame::trace,
                                                &TaskFrame::location};

// How a spawn makes its task: braid_task_new_in (owner: a runtime, NULL for
// the calling thread's) or braid_handle_task_new_in (owner: a handle).
template <class Owner>
using CreateIn = int (*)(braid_task**, Owner*, void*, size_t, const braid_task_vtable*);

// What a spawn tells the task dump: the caller's location (a defaulted
// std::source_location parameter of the spawn functions) and a name
// (spawn_named, task::Builder; copied).
struct SpawnSite {
    std::source_location loc;
    const char* name = nullptr;
};

// Makes `task`'s block a braid task that runs it, and starts it.  BRAID_OK
// with the C handle in *out and the result slot in *result; or the code the
// runtime refused the task with (BRAID_ESHUTDOWN, BRAID_EINVAL: no runtime
// on this thread or an empty Task, BRAID_ENOMEM), after destroying `task`
// (its frame and everything it holds): a refused task never runs.
// `local`: started as a task of that local set (braid/local_set.h) instead.
template <class T, class Owner>
int try_spawn_task(CreateIn<Owner> create, Owner* owner, Task<T> task, braid_task** out, Result<T>** result,
                   const SpawnSite& site, braid_local_set* local = nullptr) {
    *out = nullptr;
    *result = nullptr;
    if (!task.valid()) return BRAID_EINVAL;
    typename Task<T>::handle_type h = task.release();
    TaskFrame* f = TaskFrame::of(h.address());
    braid_task* t = nullptr;
    int rc = create(&t, owner, f->block(), f->block_size(), &spawn_vtable<T>);
    if (rc < 0) {
        h.destroy();  // not adopted: the block goes with the frame
        return rc;
    }
    f->adopted = true;
    f->frame_alive = true;
    // Before the start, on a task nobody else has: these cannot fail (a
    // name that cannot be copied is left out).
    f->spawned_from = site.loc;  // the vtable's location function reads it
    if (site.name) braid_task_set_name(t, site.name);
    f->ctx.wake_fn = &braid_task_wake_fn;
    f->ctx.wake_data = t;
    f->ctx.resume_point = h;
    h.promise().ctx = &f->ctx;
    rc = local ? braid_local_set_start(local, t) : braid_task_start(t);
    if (rc < 0) {  // refused: finished without running (no cancel call); drop the frame now
        SpawnState<T>::drop_frame(f);
        braid_task_free(t);
        return rc;
    }
    *out = t;
    *result = SpawnState<T>::result(f);
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
JoinHandle<T> spawn_or_cancelled(CreateIn<Owner> create, Owner* owner, Task<T> task, const SpawnSite& site) {
    if (!task.valid()) throw Error(BRAID_EINVAL, "spawning an empty Task");
    braid_task* t = nullptr;
    Result<T>* result = nullptr;
    int rc = try_spawn_task<T, Owner>(create, owner, std::move(task), &t, &result, site);
    if (rc == BRAID_ESHUTDOWN) return JoinHandle<T>::cancelled();
    check(rc, spawn_error_context(owner));
    return JoinHandle<T>(t, result);
}

// try_spawn: every refusal is a value.
template <class T, class Owner>
SpawnResult<T> try_spawn_with(CreateIn<Owner> create, Owner* owner, Task<T> task, const SpawnSite& site) {
    braid_task* t = nullptr;
    Result<T>* result = nullptr;
    int rc = try_spawn_task<T, Owner>(create, owner, std::move(task), &t, &result, site);
    if (rc < 0) return SpawnResult<T>(rc);
    return SpawnResult<T>(JoinHandle<T>(t, result));
}

// spawn_blocking's state: runs a callable once on the blocking pool, and
// keeps the spawn's location for the task dump (the vtable's location
// function reads it).  The callable is destroyed as soon as it returns (or
// throws), before its result is stored and the job completes, as Tokio's
// blocking task consumes its FnOnce: what it captured (a tracker's token, a
// permit, a lock, a buffer) goes when the job ends, not when the last
// JoinHandle does.  A job that never ran has it destroyed by release.
template <class F>
struct BlockingState {
    using R = std::invoke_result_t<F&>;
    std::optional<F> fn;
    Result<R> result;
    std::source_location spawned_from;
    BlockingState(F&& f, std::source_location loc) : fn(std::in_place, std::move(f)), spawned_from(loc) {}

    static int poll(void* p, braid_task*) {
        auto* s = static_cast<BlockingState*>(p);
        try {
            if constexpr (std::is_void_v<R>) {
                (*s->fn)();
                s->fn.reset();
                s->result.set_value();
            } else {
                R r = (*s->fn)();
                s->fn.reset();
                s->result.set_value(std::move(r));
            }
            return BRAID_OK;
        } catch (...) {
            s->fn.reset();
            s->result.set_exception(std::current_exception());
            return BRAID_EPANIC;
        }
    }
    static void release(void* p) { static_cast<BlockingState*>(p)->~BlockingState(); }
    static void location(void* p, const char** file, uint32_t* line, const char** function) {
        const std::source_location& l = static_cast<BlockingState*>(p)->spawned_from;
        *file = l.file_name();
        *line = uint32_t(l.line());
        *function = l.function_name();
    }
};

template <class F>
inline constexpr braid_task_vtable blocking_vtable{&BlockingState<F>::poll, nullptr, &BlockingState<F>::release,
                                                   nullptr, &BlockingState<F>::location};

// Runs f on the blocking pool of the calling thread's runtime (or of
// `owner`'s, when given); the task dump shows site's location and name.
// The task and its state are one block (braid_task_new_in).  As
// try_spawn_task: BRAID_OK with the handle, or the refusal code after f was
// destroyed (it never runs).
template <class F>
int try_spawn_blocking_task(F f, braid_task** out, Result<std::invoke_result_t<F&>>** result,
                            braid_handle* owner, const SpawnSite& site) {
    using State = BlockingState<F>;
    *out = nullptr;
    *result = nullptr;
    constexpr std::size_t size = BRAID_TASK_HEADER_SIZE + sizeof(State);
    void* block = braid_alloc(size);
    if (!block) {
        [[maybe_unused]] F dropped(std::move(f));  // destroyed here: the job never runs
        return BRAID_ENOMEM;
    }
    braid_task* t = nullptr;
    int rc = owner ? braid_handle_task_new_in(&t, owner, block, size, &blocking_vtable<F>)
                   : braid_task_new_in(&t, nullptr, block, size, &blocking_vtable<F>);
    if (rc < 0) {
        braid_free(block, size);  // not adopted: still ours
        [[maybe_unused]] F dropped(std::move(f));
        return rc;
    }
    auto* s = new (static_cast<char*>(block) + BRAID_TASK_HEADER_SIZE) State(std::move(f), site.loc);
    if (site.name) braid_task_set_name(t, site.name);  // a name that cannot be copied is left out
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
