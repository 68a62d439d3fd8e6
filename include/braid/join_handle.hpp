// braid::JoinHandle<T>: the handle spawn returns.  co_await gives the task's
// value, rethrows the exception that escaped it, or throws
// braid::TaskCancelled if it was aborted (or dropped: by a runtime shutdown,
// or because it was spawned on a runtime that is shutting down).  The value
// or exception is given once: awaiting the handle again afterwards throws
// braid::Error(BRAID_EINVAL) (Tokio panics).  Dropping
// the handle detaches the task (it keeps running).  abort() cancels it at
// its next suspension point.
//
// braid::SpawnResult<T>: what try_spawn gives, the handle or why the task
// was refused.
#pragma once

#include <braid/detail/context.hpp>
#include <braid/detail/result.hpp>
#include <braid/error.hpp>
#include <braid/task.h>

#include <cstdint>
#include <utility>

namespace braid {

// Aborts a task from any thread; copyable; does not join or detach.
class AbortHandle {
public:
    AbortHandle() = default;
    explicit AbortHandle(braid_task* t) { detail::check(braid_task_abort_handle(&h_, t), "AbortHandle"); }
    AbortHandle(const AbortHandle& o) {
        if (o.h_) detail::check(braid_abort_handle_clone(&h_, o.h_), "AbortHandle");
    }
    AbortHandle(AbortHandle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    AbortHandle& operator=(AbortHandle o) noexcept {
        std::swap(h_, o.h_);
        return *this;
    }
    ~AbortHandle() {
        if (h_) braid_abort_handle_free(h_);
    }

    void abort() const {
        if (h_) braid_abort_handle_abort(h_);
    }
    bool is_finished() const { return h_ && braid_abort_handle_is_finished(h_) == 1; }

private:
    braid_abort_handle* h_ = nullptr;
};

template <class T>
class [[nodiscard]] JoinHandle {
public:
    JoinHandle() = default;
    JoinHandle(braid_task* t, detail::Result<T>* result) : t_(t), result_(result) {}
    // The handle of a task that never ran: finished and cancelled (what
    // spawn gives when the runtime is shutting down).
    static JoinHandle cancelled() {
        braid_task* t = nullptr;
        detail::check(braid_task_new_cancelled(&t), "JoinHandle::cancelled");
        return JoinHandle(t, nullptr);
    }
    JoinHandle(JoinHandle&& o) noexcept : t_(std::exchange(o.t_, nullptr)), result_(o.result_) {}
    JoinHandle& operator=(JoinHandle&& o) noexcept {
        if (this != &o) {
            braid_task_free(t_);
            t_ = std::exchange(o.t_, nullptr);
            result_ = o.result_;
        }
        return *this;
    }
    JoinHandle(const JoinHandle&) = delete;
    JoinHandle& operator=(const JoinHandle&) = delete;
    ~JoinHandle() {
        if (t_) braid_task_free(t_);  // detached or moved from: no call
    }

    bool valid() const noexcept { return t_ != nullptr; }
    // Cancels the task at its next suspension point; no-op once finished.
    void abort() const { braid_task_abort(checked()); }
    bool is_finished() const { return braid_task_is_finished(checked()) == 1; }
    uint64_t id() const { return braid_task_id(checked()); }
    AbortHandle abort_handle() const { return AbortHandle(checked()); }
    // Detaches: the task keeps running, the handle becomes empty.
    void detach() {
        braid_task_free(t_);
        t_ = nullptr;
    }
    // The C handle (borrowed).
    braid_task* native_handle() const noexcept { return t_; }

    class Awaiter : public detail::LeafAwaiter<Awaiter> {
    public:
        explicit Awaiter(const JoinHandle& h) : h_(h) {}
        ~Awaiter() { unregister(); }
        // Drops the join waker; the task keeps running, the handle joinable.
        // Never polled: nothing registered, no call.
        void unregister() noexcept {
            if (polled_ && h_.t_) braid_task_poll_join(h_.t_, nullptr, nullptr);
            polled_ = false;
        }
        bool ready_now() { return braid_task_is_finished(h_.checked()) == 1; }
        int poll(braid_wake_fn w, void* d) {
            polled_ = true;
            return braid_task_poll_join(h_.t_, w, d);
        }
        T finish(int) { return h_.take(); }

    private:
        const JoinHandle& h_;
        bool polled_ = false;  // since the last unregister(): a waker may be registered
    };
    Awaiter operator co_await() const& { return Awaiter(*this); }
    Awaiter operator co_await() const&& { return Awaiter(*this); }

    // After the task finished: its value, or throws.  Used by the awaiter and
    // by blocking joins.
    T take() const {
        int st = braid_task_try_join(checked());
        if (st == BRAID_OK || st == BRAID_EPANIC) return result_->take();
        if (st == BRAID_ECANCELED) throw TaskCancelled();
        throw Error(st == BRAID_PENDING ? BRAID_EAGAIN : st, "join");
    }

private:
    braid_task* checked() const {
        if (!t_) throw Error(BRAID_EINVAL, "empty or moved-from JoinHandle");
        return t_;
    }
    braid_task* t_ = nullptr;
    detail::Result<T>* result_ = nullptr;
};

// What try_spawn gives (std::expected-like): the JoinHandle of the task,
// or the code it was refused with: BRAID_ESHUTDOWN (the runtime is shutting
// down), BRAID_EINVAL (no runtime on this thread, an empty Task),
// BRAID_ENOMEM.  A refused task was dropped (its frame destroyed, its
// destructors run) before try_spawn returned; it never runs.
template <class T>
class [[nodiscard]] SpawnResult {
public:
    explicit SpawnResult(JoinHandle<T> h) noexcept : h_(std::move(h)) {}
    explicit SpawnResult(int code) noexcept : code_(code) {}

    bool has_value() const noexcept { return code_ == 0; }
    explicit operator bool() const noexcept { return has_value(); }
    // 0, or the BRAID_E* code the task was refused with.
    int error() const noexcept { return code_; }
    // The handle; throws braid::Error(error()) for a refused task.
    JoinHandle<T>& value() & {
        if (code_) throw Error(code_, "try_spawn");
        return h_;
    }
    JoinHandle<T>&& value() && {
        if (code_) throw Error(code_, "try_spawn");
        return std::move(h_);
    }
    JoinHandle<T>& operator*() & noexcept { return h_; }
    JoinHandle<T>&& operator*() && noexcept { return std::move(h_); }
    JoinHandle<T>* operator->() noexcept { return &h_; }

private:
    JoinHandle<T> h_;
    int code_ = 0;
};

}  // namespace braid
