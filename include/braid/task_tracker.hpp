// braid::TaskTracker (tokio-util's TaskTracker): counts the tasks spawned
// through it, and wait() completes once the tracker is closed and every one
// of them has ended.  The graceful-shutdown pattern without a JoinSet: the
// tracker keeps no outcomes, so a long-running server can spawn through it
// forever without growing.
//
//   braid::TaskTracker tracker;
//   while (auto conn = co_await accept_or_stop())
//       tracker.spawn(serve(std::move(*conn)));
//   tracker.close();         // no more tasks are coming...
//   co_await tracker.wait(); // ...and all of them have ended
//
// Closing does not refuse spawns (it only lets wait() complete once the
// count drops to zero); reopen() undoes it.  Copies share one tracker.
// A task counts from its spawn until its frame is gone: finished,
// cancelled, or dropped by a runtime that shuts down.
#pragma once

#include <braid/detail/context.hpp>
#include <braid/join_handle.hpp>
#include <braid/runtime.hpp>
#include <braid/spawn.hpp>
#include <braid/task.hpp>

#include <cstddef>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>
#include <vector>

namespace braid {

class TaskTracker {
    struct Waiter {
        const void* key;
        braid_wake_fn wake;
        void* data;
        bool* fired;
    };
    struct State {
        std::mutex mu;
        std::size_t tasks = 0;
        bool closed = false;
        std::vector<Waiter> waiters;
        // Closed and empty: every waiter completes (mu held; a braid waker
        // never runs its task inline, so calling it here is safe).
        void notify_locked() {
            if (!closed || tasks != 0) return;
            for (Waiter& w : waiters) {
                *w.fired = true;
                w.wake(w.data);
            }
            waiters.clear();
        }
    };

public:
    // Counts one task for as long as it lives (what track_future puts in a
    // task's frame).
    class Token {
    public:
        explicit Token(std::shared_ptr<State> s) : s_(std::move(s)) {
            std::lock_guard<std::mutex> g(s_->mu);
            ++s_->tasks;
        }
        Token(Token&& o) noexcept = default;
        Token(const Token&) = delete;
        Token& operator=(const Token&) = delete;
        ~Token() {
            if (!s_) return;
            std::lock_guard<std::mutex> g(s_->mu);
            --s_->tasks;
            s_->notify_locked();
        }

    private:
        std::shared_ptr<State> s_;
    };

    TaskTracker() : s_(std::make_shared<State>()) {}

    // A token that counts as a task until it is destroyed.
    Token token() const { return Token(s_); }

    // `task`, counted until its frame is gone (awaited, spawned elsewhere...).
    template <class T>
    Task<T> track_future(Task<T> task) const {
        return tracked(Tracked<T>(token(), std::move(task)));
    }

    // Spawns on the calling thread's runtime, tracked.
    template <class T>
    JoinHandle<T> spawn(Task<T> task) const {
        return braid::spawn(track_future(std::move(task)));
    }
    template <class F, class... Args>
        requires std::invocable<F&&, Args&&...>
    auto spawn(F f, Args... args) const {
        return spawn(detail::call_in_frame(std::move(f), std::move(args)...));
    }
    // Spawns on the runtime of `handle`, tracked.
    template <class T>
    JoinHandle<T> spawn_on(Task<T> task, const Handle& handle) const {
        return handle.spawn(track_future(std::move(task)));
    }
    // Runs f() on the blocking pool, tracked until it returns.
    template <class F>
    auto spawn_blocking(F f, std::source_location loc = std::source_location::current()) const {
        return braid::spawn_blocking([tok = token(), f = std::move(f)]() mutable { return f(); }, loc);
    }

    // Lets wait() complete once no tracked task is left.  True when it was
    // open.
    bool close() {
        std::lock_guard<std::mutex> g(s_->mu);
        bool was_open = !s_->closed;
        s_->closed = true;
        s_->notify_locked();
        return was_open;
    }
    // Opens it again.  True when it was closed.
    bool reopen() {
        std::lock_guard<std::mutex> g(s_->mu);
        return std::exchange(s_->closed, false);
    }
    bool is_closed() const {
        std::lock_guard<std::mutex> g(s_->mu);
        return s_->closed;
    }
    // Tracked tasks still alive.
    std::size_t len() const {
        std::lock_guard<std::mutex> g(s_->mu);
        return s_->tasks;
    }
    bool is_empty() const { return len() == 0; }

    class [[nodiscard]] Wait : public detail::LeafAwaiter<Wait> {
    public:
        explicit Wait(std::shared_ptr<State> s) : s_(std::move(s)) {}
        Wait(Wait&& o) noexcept : s_(std::move(o.s_)) {}  // only before it is polled
        ~Wait() { unregister(); }
        // Each await (or race) of a wait that completed starts a new wait
        // (docs/cancellation.md): the notification the last one got is
        // spent, so a tracker reopened since is waited on again.  One that
        // has not completed keeps a notification it got while a race's
        // other branch won.
        bool await_ready() {
            if (this->status_ != BRAID_PENDING && s_) {
                std::lock_guard<std::mutex> g(s_->mu);
                fired_ = false;
            }
            return detail::LeafAwaiter<Wait>::await_ready();
        }
        void unregister() noexcept {
            if (!s_) return;
            std::lock_guard<std::mutex> g(s_->mu);
            std::erase_if(s_->waiters, [this](const Waiter& w) { return w.key == this; });
        }
        bool ready_now() const {
            std::lock_guard<std::mutex> g(s_->mu);
            return s_->closed && s_->tasks == 0;
        }
        int poll(braid_wake_fn w, void* d) {
            std::lock_guard<std::mutex> g(s_->mu);
            if (fired_ || (s_->closed && s_->tasks == 0)) return 0;
            if (!w) {
                std::erase_if(s_->waiters, [this](const Waiter& x) { return x.key == this; });
                return BRAID_PENDING;
            }
            for (Waiter& x : s_->waiters)
                if (x.key == this) {
                    x.wake = w;
                    x.data = d;
                    return BRAID_PENDING;
                }
            s_->waiters.push_back(Waiter{this, w, d, &fired_});
            return BRAID_PENDING;
        }
        void finish(int) const noexcept {}

    private:
        std::shared_ptr<State> s_;
        bool fired_ = false;  // notified (guarded by the state's mutex)
    };

    // Completes once the tracker is closed and no tracked task is left (at
    // that moment: a reopen afterwards does not undo it).
    Wait wait() const { return Wait(s_); }

private:
    // The token and the task in one parameter of the wrapping coroutine:
    // members are destroyed in reverse order, so the task's frame (and all
    // it owns) is gone before the token stops counting it, as tokio-util's
    // TrackedFuture drops its future before its token.  Two parameters
    // would not do: g++ 12 destroys a coroutine's parameters in the order
    // they are declared, clang in reverse, and wait() must not complete
    // while the task's destructors still run.
    template <class T>
    struct Tracked {
        Tracked(Token t, Task<T> k) : tok(std::move(t)), task(std::move(k)) {}
        Token tok;
        Task<T> task;
    };
    template <class T>
    static Task<T> tracked(Tracked<T> parts) {
        co_return co_await std::move(parts.task);
    }

    std::shared_ptr<State> s_;
};

}  // namespace braid
