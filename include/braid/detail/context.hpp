// How a chain of braid coroutines waits.  Every braid coroutine's promise
// points at the Context of whatever drives it (a spawned task, later a
// select or join branch).  A leaf awaiter that must wait registers the
// context's waker with the C object it waits on, and records itself here;
// when the driver is polled again it re-polls that leaf and resumes the
// coroutine only once the leaf is ready (spurious wake-ups cost nothing).
#pragma once

#include <braid/task.h>
#include <braid/detail/unstable.hpp>

#include <coroutine>
#include <source_location>
#include <cstddef>
#include <new>
#include <utility>

namespace braid::detail {

struct LocalFrame;
struct Context;

// The context whose coroutines are running on this thread right now (set by
// whoever resumes or re-polls them: a spawned task, a branch, a generator;
// and by a task-local scope while its frame is destroyed), for task-local
// values.
inline thread_local Context* tl_current_context = nullptr;

class ContextScope {
public:
    explicit ContextScope(Context* c) : saved_(std::exchange(tl_current_context, c)) {}
    ~ContextScope() { tl_current_context = saved_; }
    ContextScope(const ContextScope&) = delete;

private:
    Context* saved_;
};

struct Context {
    std::coroutine_handle<> resume_point;          // the coroutine waiting on the leaf
    bool (*leaf_ready)(void* leaf, Context&) = nullptr;  // re-poll; true: resume
    void* leaf = nullptr;
    braid_wake_fn wake_fn = nullptr;               // wakes the driver
    void* wake_data = nullptr;
    struct LocalFrame* locals = nullptr;           // task-local values in scope (task_local.hpp)
    // The running task's cooperative budget counter (braid_coop_counter)
    // while the driver polls, so that stream sources take a unit without a
    // call; null elsewhere (they call braid_coop_take then).
    int* coop = nullptr;
    // The Task<T> coroutine that waits (resume_point's promise, when it is
    // one; null otherwise): where the task dump's awaiting chain starts
    // (TaskFrame::trace).
    struct TraceLink* waiting = nullptr;

    template <class P>
    void wait_on(std::coroutine_handle<P> h, bool (*ready)(void*, Context&), void* l) {
        resume_point = h;
        leaf_ready = ready;
        leaf = l;
        if constexpr (requires { P::kTaskFrame; })
            waiting = &h.promise();
        else
            waiting = nullptr;
    }
    // Whether the recorded coroutine may be resumed now.  The re-poll runs
    // as this context's code (a stream's closures run in it, a select drops
    // its losers in it), so task-local values are visible there too.
    bool ready() {
        if (!leaf_ready) return true;
        ContextScope scope(this);
        return leaf_ready(leaf, *this);
    }
    // Resumes the recorded coroutine (it runs until the next leaf or the end).
    void resume() {
        std::coroutine_handle<> h = resume_point;
        resume_point = {};
        leaf_ready = nullptr;
        leaf = nullptr;
        waiting = nullptr;
        h.resume();
    }
};

// A link of the task dump's awaiting chain, in every Task<T> promise: where
// the coroutine last awaited, and the promise of the Task<T> coroutine that
// awaits it (null at the root).  It lives in the promise, not in front of
// the frame: a coroutine that is only awaited may have no block of its own
// (clang elides the allocation of a frame whose lifetime it can see).
struct TraceLink {
    std::source_location where{};
    TraceLink* parent = nullptr;
};

// Base of every braid promise: the context, and frames from braid's
// per-thread allocator.
struct PromiseBase {
    Context* ctx = nullptr;

    static void* operator new(std::size_t n) {
        void* p = braid_alloc(n);
        if (!p) throw std::bad_alloc();
        return p;
    }
    static void operator delete(void* p, std::size_t n) noexcept { braid_free(p, n); }
};

// Marks the leaf awaiters (select, join and timeout drive them directly).
struct LeafBase {};

// A leaf awaiter over a C object with a poll function.  Derived provides
//   int poll(braid_wake_fn, void*)   0 / BRAID_PENDING / negative code
//   bool ready_now()                 cheap check before suspending (may be false)
//   auto finish(int status)          the await_resume value
//   void unregister() noexcept       drops the waker registration a pending
//                                    poll left, keeping everything else: the
//                                    timer and its deadline, the place in a
//                                    wait queue, a notification or grant
//                                    already given to it.  After it returns
//                                    the old waker is not running and is never
//                                    called; the next poll registers anew.
//                                    (Every braid leaf has it; a leaf without
//                                    it can be raced by value only.)
// select, join and timeout call unregister() on a leaf the caller keeps (one
// passed by lvalue) when the branch racing it ends, so the leaf can be raced
// again by the next select, where it goes on from where it was.
template <class Derived>
class LeafAwaiter : public LeafBase {
public:
    // Ready at once (and within the task's cooperative budget): no suspension.
    bool await_ready() {
        status_ = BRAID_PENDING;  // a leaf can be awaited again after it completed
        if (self().ready_now() && braid_coop_take()) {
            status_ = 0;
            return true;
        }
        return false;
    }

    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        Context& ctx = *h.promise().ctx;
        if (leaf_poll(ctx.wake_fn, ctx.wake_data)) return false;
        ctx.wait_on(h, &LeafAwaiter::repoll, this);
        return true;
    }

    decltype(auto) await_resume() { return self().finish(status_); }

    // Driving without a coroutine (select, join, timeout): await_ready()
    // first, then leaf_poll with the driver's waker until it returns true;
    // then await_resume() gives the value.
    bool leaf_poll(braid_wake_fn w, void* d) {
        int rc = self().poll(w, d);
        if (rc == BRAID_PENDING) return false;
        status_ = rc;
        return true;
    }

protected:
    int status_ = BRAID_PENDING;

private:
    Derived& self() { return static_cast<Derived&>(*this); }
    static bool repoll(void* p, Context& ctx) {
        return static_cast<LeafAwaiter*>(p)->leaf_poll(ctx.wake_fn, ctx.wake_data);
    }
};

}  // namespace braid::detail
