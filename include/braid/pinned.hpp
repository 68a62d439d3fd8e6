// braid::pin(task): a Task that keeps its progress across the selects that
// race it (Tokio's `let fut = job(); tokio::pin!(fut); loop { select! { v =
// &mut fut => .., m = rx.recv() => .. } }`).
//
//   auto work = braid::pin(long_job());
//   for (;;) {
//       auto r = co_await braid::select(work, rx.recv());
//       if (r.index() == 0) { use(std::get<0>(r)); break; }   // the job's value
//       handle(std::get<1>(r));                                // the job goes on
//   }
//
// A Pinned owns the task's frame and runs it under a context of its own,
// whose waker forwards to whichever select (join, timeout, or plain
// co_await) races it at the moment.  When that branch ends, the forwarding
// is detached under a lock, so no wake reaches a branch that is gone; wakes
// that arrive while nothing races it are remembered, and the next race
// resumes it.  Raced by one awaiter at a time; it cannot move (it stays
// where it was declared, like Rust's pin!).  Once it has given its value (or
// exception) `done()` is true and awaiting it again throws braid::Error.
// Destroying it cancels the task (its frame is destroyed).
#pragma once

#include <braid/detail/context.hpp>
#include <braid/error.hpp>
#include <braid/task.hpp>

#include <atomic>
#include <utility>

namespace braid {

namespace detail {
// The lock of a Pinned's forwarding waker: held only to read or change the
// forwarding target and to call it (a short, non-blocking call).
class WakeLock {
public:
    void lock() noexcept {
        while (f_.exchange(true, std::memory_order_acquire))
            while (f_.load(std::memory_order_relaxed)) {
            }
    }
    void unlock() noexcept { f_.store(false, std::memory_order_release); }

private:
    std::atomic<bool> f_{false};
};
}  // namespace detail

template <class T>
class [[nodiscard]] Pinned {
public:
    explicit Pinned(Task<T> t) : h_(t.release()) {
        if (!h_) throw Error(BRAID_EINVAL, "braid::pin: an empty or moved-from Task");
        ctx_.wake_fn = &Pinned::wake;
        ctx_.wake_data = this;
        ctx_.resume_point = h_;
        h_.promise().ctx = &ctx_;
    }
    Pinned(const Pinned&) = delete;
    Pinned& operator=(const Pinned&) = delete;
    // Cancels the task if it has not finished.
    ~Pinned() {
        if (h_) h_.destroy();
    }

    // The task finished and gave its value (or exception) to an await.
    bool done() const noexcept { return taken_; }

    // The leaf that select, join, timeout and co_await drive.
    class [[nodiscard]] Awaiter : public detail::LeafAwaiter<Awaiter> {
    public:
        explicit Awaiter(Pinned& p) noexcept : p_(&p) {}
        Awaiter(Awaiter&& o) noexcept : p_(std::exchange(o.p_, nullptr)), owner_(std::exchange(o.owner_, false)) {}
        Awaiter(const Awaiter&) = delete;
        ~Awaiter() { unregister(); }

        bool ready_now() const noexcept { return false; }
        int poll(braid_wake_fn w, void* d) {
            if (!owner_) {
                if (p_->raced_) return BRAID_EBUSY;
                p_->raced_ = owner_ = true;
            }
            return p_->drive(w, d);
        }
        // Stops forwarding wakes here; the task keeps its progress.
        void unregister() noexcept {
            if (!owner_) return;
            p_->detach();
            p_->raced_ = owner_ = false;
        }
        T finish(int st) {
            unregister();
            if (st == BRAID_EBUSY) throw Error(st, "braid::Pinned raced by two awaits at once");
            if (st < 0) throw Error(st, "braid::Pinned awaited after it gave its value");
            return p_->take();
        }

    private:
        Pinned* p_;
        bool owner_ = false;
    };
    Awaiter operator co_await() & noexcept { return Awaiter(*this); }
    Awaiter operator co_await() && noexcept { return Awaiter(*this); }

private:
    // Runs the task if it was woken, with wakes forwarded to (w, d).
    int drive(braid_wake_fn w, void* d) {
        if (taken_) return BRAID_EINVAL;
        if (h_.done()) return 0;
        attach(w, d);
        if (!woken_.exchange(false, std::memory_order_acq_rel)) return BRAID_PENDING;
        detail::Context* cur = detail::tl_current_context;
        ctx_.locals = cur ? cur->locals : nullptr;
        {
            detail::ContextScope scope(&ctx_);
            if (ctx_.ready()) ctx_.resume();
        }
        return h_.done() ? 0 : BRAID_PENDING;
    }
    T take() {
        taken_ = true;
        auto h = std::exchange(h_, {});
        struct Destroy {
            typename Task<T>::handle_type h;
            ~Destroy() { h.destroy(); }
        } destroy{h};
        return h.promise().result.take();
    }
    void attach(braid_wake_fn w, void* d) noexcept {
        lock_.lock();
        to_ = w;
        to_data_ = d;
        lock_.unlock();
    }
    void detach() noexcept {
        lock_.lock();
        to_ = nullptr;
        lock_.unlock();
    }
    static void wake(void* p) {
        auto* s = static_cast<Pinned*>(p);
        s->woken_.store(true, std::memory_order_release);
        s->lock_.lock();
        if (s->to_) s->to_(s->to_data_);
        s->lock_.unlock();
    }

    typename Task<T>::handle_type h_;
    detail::Context ctx_;
    detail::WakeLock lock_;
    braid_wake_fn to_ = nullptr;  // under lock_
    void* to_data_ = nullptr;
    std::atomic<bool> woken_{true};
    bool raced_ = false;  // an Awaiter drives it now (owner thread only)
    bool taken_ = false;
};

// Pins `task` where the result is declared: `auto work = braid::pin(job());`.
template <class T>
Pinned<T> pin(Task<T> task) {
    return Pinned<T>(std::move(task));
}

}  // namespace braid
