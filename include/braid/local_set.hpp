// braid::LocalSet and braid::spawn_local: tasks that never leave one thread
// (Tokio's LocalSet), for state that is not thread-safe (a non-atomic
// reference count, a library bound to its thread).
//
//   braid::LocalSet local;
//   local.block_on(rt, []() -> braid::Task<> {
//       auto state = std::make_shared<NotThreadSafe>();
//       auto h = braid::spawn_local([](auto s) -> braid::Task<> { s->poke(); co_return; }(state));
//       co_await h;                  // both ran on this thread
//       co_await braid::spawn(work()); // runtime tasks still run on the workers
//   }());
//
// The set's tasks run only on the thread that drives it: block_on runs them
// on the calling thread (on a multi-thread runtime the thread is entered
// into the runtime and waits between tasks; on a current-thread runtime it
// also runs the runtime, as Runtime::block_on does); run_until is the
// awaitable form, for a task of a current-thread runtime (or of another
// set).  A set that is not driven runs nothing.  Destroying the set
// cancels its unfinished tasks there and then.
#pragma once

#include <braid/detail/branch.hpp>
#include <braid/detail/context.hpp>
#include <braid/detail/spawn_state.hpp>
#include <braid/error.hpp>
#include <braid/join_handle.hpp>
#include <braid/local_set.h>
#include <braid/runtime.hpp>
#include <braid/spawn.hpp>
#include <braid/task.hpp>

#include <coroutine>
#include <source_location>
#include <type_traits>
#include <utility>

namespace braid {

namespace detail {
// Makes `task` a task of `set` (its runtime: the calling thread's).
template <class T>
JoinHandle<T> spawn_into(braid_local_set* set, Task<T> task, const SpawnSite& site) {
    if (!task.valid()) throw Error(BRAID_EINVAL, "spawning an empty Task");
    braid_task* t = nullptr;
    Result<T>* result = nullptr;
    int rc = try_spawn_task<T, braid_runtime>(&braid_task_new_in, nullptr, std::move(task), &t, &result, site, set);
    if (rc == BRAID_ECLOSED || rc == BRAID_ESHUTDOWN) return JoinHandle<T>::cancelled();
    check(rc, "spawn_local (is this thread inside a braid runtime?)");
    return JoinHandle<T>(t, result);
}
}  // namespace detail

class LocalSet {
public:
    LocalSet() { detail::check(braid_local_set_new(&s_), "LocalSet"); }
    LocalSet(const LocalSet&) = delete;
    LocalSet& operator=(const LocalSet&) = delete;
    // Cancels the tasks that have not finished.  (On another thread than
    // the set's this cannot be done; the set is then left as it is.)
    ~LocalSet() { braid_local_set_free(s_); }

    // Adds a task to the set; it runs when the set is driven.  Needs a
    // runtime on this thread (inside the set, a runtime's task, or a thread
    // that entered one): that runtime's timers and I/O serve it.
    template <class T>
    JoinHandle<T> spawn_local(Task<T> task, std::source_location loc = std::source_location::current()) {
        return detail::spawn_into(s_, std::move(task), {loc});
    }

    // Runs `task` and the set's tasks on the calling thread (a thread that
    // is none of a runtime's own) until `task` has finished; gives its
    // value or rethrows.
    template <class T>
    T block_on(Runtime& rt, Task<T> task) {
        auto guard = rt.enter();  // the task is made on rt
        JoinHandle<T> h = spawn_local(std::move(task));
        int st = braid_local_set_block_on(s_, h.native_handle());
        if (st == BRAID_EDEADLK || st == BRAID_EBUSY || st == BRAID_EINVAL) throw Error(st, "LocalSet::block_on");
        return h.take();
    }

    // Drives the set from the awaiting task until `task` has finished, and
    // gives its value or rethrows.  `task` is polled inline, as a part of
    // the awaiting task (in its cooperative budget), with the set current
    // (braid::spawn_local adds to it); the set's tasks run in between, each
    // poll with a budget of its own.  For a task of a current-thread
    // runtime or of another set; on a multi-thread runtime's worker it
    // throws braid::Error(BRAID_ENOTSUP) (the awaiting task may move
    // between threads there: use block_on).
    template <class T>
    Task<T> run_until(Task<T> task) {
        if constexpr (std::is_void_v<T>) {
            co_await RunUntil<T>(s_, std::move(task));
        } else {
            co_return co_await RunUntil<T>(s_, std::move(task));
        }
    }

    // Makes this set the current one on the calling thread until the guard
    // goes (Tokio's LocalSet::enter): braid::spawn_local there adds tasks
    // to it (they run when the set is driven), also from code that is no
    // task of the set.  Needs a runtime on the thread for the spawns, as
    // spawn_local does.  Binds the set to the thread.  Throws
    // braid::Error(BRAID_EINVAL) on another thread than the set's.
    class [[nodiscard]] EnterGuard {
    public:
        EnterGuard(const EnterGuard&) = delete;
        EnterGuard& operator=(const EnterGuard&) = delete;
        ~EnterGuard() { braid_local_set_exit(s_, prev_); }

    private:
        friend class LocalSet;
        explicit EnterGuard(braid_local_set* s) : s_(s) {
            detail::check(braid_local_set_enter(s, &prev_), "LocalSet::enter");
        }
        braid_local_set* s_;
        braid_local_set* prev_ = nullptr;
    };
    EnterGuard enter() { return EnterGuard(s_); }

    braid_local_set* native_handle() const noexcept { return s_; }

private:
    // run_until's awaiter: polls the future as a branch of the awaiting
    // task with the set entered, then runs the set's ready tasks, and
    // leaves the awaiting task's waker with the set.
    template <class T>
    class [[nodiscard]] RunUntil {
    public:
        RunUntil(braid_local_set* s, Task<T> t) : s_(s), b_(std::move(t)) {}
        RunUntil(const RunUntil&) = delete;
        ~RunUntil() { unregister(); }

        bool await_ready() {
            int rc = braid_local_set_poll_run(s_, nullptr, nullptr);  // refused here (BRAID_ENOTSUP, BRAID_EINVAL)?
            if (rc != BRAID_PENDING) rc_ = rc < 0 ? rc : BRAID_EINVAL;
            return rc_ < 0;
        }
        template <class P>
        bool await_suspend(std::coroutine_handle<P> h) {
            detail::Context& ctx = *h.promise().ctx;
            b_.start(&ctx);
            if (step(ctx)) return false;
            ctx.wait_on(h, &RunUntil::repoll, this);
            return true;
        }
        T await_resume() {
            if (rc_ < 0) throw Error(rc_, "LocalSet::run_until");
            return b_.take();
        }

    private:
        // True when the future has finished (or the set refused the drive).
        bool step(detail::Context& ctx) {
            bool done;
            {
                braid_local_set* prev = nullptr;
                rc_ = braid_local_set_enter(s_, &prev);
                if (rc_ < 0) return true;
                struct Exit {
                    braid_local_set* s;
                    braid_local_set* prev;
                    ~Exit() { braid_local_set_exit(s, prev); }
                } exit{s_, prev};
                done = b_.poll();
            }
            if (done) {
                unregister();
                return true;
            }
            int rc = braid_local_set_poll_run(s_, ctx.wake_fn, ctx.wake_data);
            if (rc == BRAID_PENDING) {
                registered_ = true;
                return false;
            }
            rc_ = rc < 0 ? rc : BRAID_EINVAL;  // always BRAID_PENDING unless refused
            return true;
        }
        static bool repoll(void* p, detail::Context& ctx) { return static_cast<RunUntil*>(p)->step(ctx); }
        void unregister() noexcept {
            if (registered_) braid_local_set_poll_run(s_, nullptr, nullptr);
            registered_ = false;
        }

        braid_local_set* s_;
        detail::Branch<T> b_;
        int rc_ = BRAID_OK;
        bool registered_ = false;
    };

    braid_local_set* s_ = nullptr;
};

// Spawns `task` into the local set running on this thread (from one of its
// tasks, or under LocalSet::enter).  Throws braid::Error(BRAID_EINVAL)
// elsewhere.
template <class T>
JoinHandle<T> spawn_local(Task<T> task, std::source_location loc = std::source_location::current()) {
    braid_local_set* set = braid_local_set_current();
    if (!set) throw Error(BRAID_EINVAL, "spawn_local outside a LocalSet");
    return detail::spawn_into(set, std::move(task), {loc});
}
template <class F, class... Args>
    requires std::invocable<F&&, Args&&...> && detail::is_task<std::invoke_result_t<F&&, Args&&...>>::value
auto spawn_local(F f, Args... args) {
    return spawn_local(detail::call_in_frame(std::move(f), std::move(args)...));
}

}  // namespace braid
