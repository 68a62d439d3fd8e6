// braid::JoinSet<T>: spawn many tasks, join them in the order they finish.
//
//   braid::JoinSet<Output> set;
//   for (auto& item : items) set.spawn(process_item(std::move(item)));
//   while (auto r = co_await set.join_next()) results.push_back(std::move(*r));
//
// join_next gives std::nullopt once the set is empty, rethrows the exception
// that escaped a task, and throws braid::TaskCancelled for an aborted one.
// Tasks can also be spawned on another runtime's Handle (spawn_on) and on
// the blocking pool (spawn_blocking); join_next_with_id gives each value
// with its task's id, join_all every value in the order they finished.
// Destroying the set aborts what is still running (Tokio's JoinSet).
#pragma once

#include <braid/detail/branch.hpp>
#include <braid/detail/spawn_state.hpp>
#include <braid/error.hpp>
#include <braid/join_handle.hpp>
#include <braid/join_set.h>
#include <braid/runtime.hpp>
#include <braid/spawn.hpp>

#include <concepts>
#include <cstdint>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

namespace braid {

template <class T>
class JoinSet {
public:
    using value_type = detail::value_or_monostate<T>;

    JoinSet() { detail::check(braid_join_set_new(&s_), "JoinSet"); }
    JoinSet(JoinSet&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    JoinSet& operator=(JoinSet&& o) noexcept {
        if (this != &o) {
            braid_join_set_free(s_);
            s_ = std::exchange(o.s_, nullptr);
        }
        return *this;
    }
    JoinSet(const JoinSet&) = delete;
    ~JoinSet() { braid_join_set_free(s_); }

    // Spawns on the calling thread's runtime and adds the task.  During
    // shutdown the task is dropped and join_next gives it back as cancelled
    // (braid/spawn.hpp).
    AbortHandle spawn(Task<T> task, std::source_location loc = std::source_location::current()) {
        braid_task* t = nullptr;
        detail::Result<T>* result = nullptr;
        int rc = detail::try_spawn_task<T, braid_runtime>(&braid_task_new_in, nullptr, std::move(task), &t, &result,
                                                          {loc});
        return add(rc, t, result, nullptr);
    }
    template <class F, class... Args>
        requires std::invocable<F&&, Args&&...>
    AbortHandle spawn(F f, Args... args) {
        return spawn(detail::call_in_frame(std::move(f), std::move(args)...));
    }
    // Spawns on the runtime of `handle` (any thread) and adds the task.
    AbortHandle spawn_on(Task<T> task, const Handle& handle,
                         std::source_location loc = std::source_location::current()) {
        braid_task* t = nullptr;
        detail::Result<T>* result = nullptr;
        int rc = detail::try_spawn_task<T, braid_handle>(&braid_handle_task_new_in, handle.native_handle(),
                                                         std::move(task), &t, &result, {loc});
        return add(rc, t, result, handle.native_handle());
    }
    // Runs f() on the blocking pool of the calling thread's runtime and adds
    // the job (its value comes back through join_next like a task's).
    template <class F>
        requires std::same_as<std::invoke_result_t<F&>, T>
    AbortHandle spawn_blocking(F f, std::source_location loc = std::source_location::current()) {
        braid_task* t = nullptr;
        detail::Result<T>* result = nullptr;
        int rc = detail::try_spawn_blocking_task(std::move(f), &t, &result, nullptr, {loc});
        return add(rc, t, result, nullptr);
    }
    // spawn_blocking on the runtime of `handle`.
    template <class F>
        requires std::same_as<std::invoke_result_t<F&>, T>
    AbortHandle spawn_blocking_on(F f, const Handle& handle,
                                  std::source_location loc = std::source_location::current()) {
        braid_task* t = nullptr;
        detail::Result<T>* result = nullptr;
        int rc = detail::try_spawn_blocking_task(std::move(f), &t, &result, handle.native_handle(), {loc});
        return add(rc, t, result, handle.native_handle());
    }

    class [[nodiscard]] JoinNext : public detail::LeafAwaiter<JoinNext> {
    public:
        explicit JoinNext(braid_join_set* s) : s_(s) {}
        ~JoinNext() { unregister(); }
        // Drops the waker; a task that finishes meanwhile stays in the set.
        void unregister() noexcept {
            if (this->status_ == BRAID_PENDING) braid_join_set_unregister(s_);
        }
        bool ready_now() const { return false; }
        int poll(braid_wake_fn w, void* d) { return braid_join_set_poll_next(s_, w, d, &task_, &user_); }
        std::optional<value_type> finish(int st) {
            if (st == BRAID_ECLOSED) return std::nullopt;
            detail::check(st, "JoinSet::join_next");
            return take(task_, user_);
        }

    private:
        braid_join_set* s_;
        braid_task* task_ = nullptr;
        void* user_ = nullptr;
    };

    // The next task to finish: its value, std::nullopt when the set is empty.
    JoinNext join_next() { return JoinNext(native()); }

    // join_next with the finished task's id (braid::task::id() inside it,
    // JoinHandle::id() outside): Tokio's join_next_with_id.
    Task<std::optional<std::pair<uint64_t, value_type>>> join_next_with_id() {
        std::optional<std::pair<uint64_t, value_type>> out;
        braid_task* t = nullptr;
        void* user = nullptr;
        bool got = co_await NextEnded(native(), &t, &user);
        if (got) {
            uint64_t id = braid_task_id(t);
            out.emplace(id, *take(t, user));
        }
        co_return out;
    }

    // Waits for every task and gives their values in the order they
    // finished (Tokio's join_all).  The first exception that escaped a task
    // (or braid::TaskCancelled for an aborted one) is rethrown once the
    // others were aborted and have ended.
    Task<std::vector<value_type>> join_all() {
        std::vector<value_type> out;
        out.reserve(len());
        std::exception_ptr failed;
        for (;;) {
            braid_task* t = nullptr;
            void* user = nullptr;
            bool got = co_await NextEnded(native(), &t, &user);
            if (!got) break;
            JoinHandle<T> h(t, static_cast<detail::Result<T>*>(user));
            if (failed) continue;  // dropped with h
            if (braid_task_try_join(t) != BRAID_OK) {
                failed = failure_of(std::move(h));
                abort_all();
                continue;
            }
            if constexpr (std::is_void_v<T>) {
                h.take();
                out.emplace_back();
            } else {
                out.push_back(h.take());
            }
        }
        if (failed) std::rethrow_exception(failed);
        co_return out;
    }

    // A finished task's value if one is ready now (std::nullopt otherwise).
    std::optional<value_type> try_join_next() {
        braid_task* t = nullptr;
        void* user = nullptr;
        int rc = braid_join_set_try_next(native(), &t, &user);
        if (rc == BRAID_EAGAIN || rc == BRAID_ECLOSED) return std::nullopt;
        detail::check(rc, "JoinSet::try_join_next");
        return take(t, user);
    }

    std::size_t len() const { return braid_join_set_len(s_); }
    bool empty() const { return len() == 0; }
    // Aborts every task still running (they come back from join_next as
    // cancelled).
    void abort_all() { detail::check(braid_join_set_abort_all(native()), "JoinSet::abort_all"); }
    // Empties the set; the tasks keep running.
    void detach_all() { detail::check(braid_join_set_detach_all(native()), "JoinSet::detach_all"); }

    // Aborts everything and waits until every task has ended (values and
    // failures alike are dropped).
    Task<> shutdown() {
        abort_all();
        for (;;) {
            bool ended = co_await NextEnded(native());
            if (!ended) break;
        }
    }

private:
    // Waits for the next task to end; false when empty.  Its outcome is
    // dropped, or given in *out_task / *out_user when those are given.
    // (No exception is thrown and caught inside the coroutine: g++ 12
    // miscompiles co_await inside a try block in a loop.)
    class [[nodiscard]] NextEnded : public detail::LeafAwaiter<NextEnded> {
    public:
        explicit NextEnded(braid_join_set* s, braid_task** out_task = nullptr, void** out_user = nullptr)
            : s_(s), out_task_(out_task), out_user_(out_user) {}
        ~NextEnded() { unregister(); }
        void unregister() noexcept {
            if (this->status_ == BRAID_PENDING) braid_join_set_unregister(s_);
        }
        bool ready_now() const { return false; }
        int poll(braid_wake_fn w, void* d) { return braid_join_set_poll_next(s_, w, d, &task_, &user_); }
        bool finish(int st) {
            if (st == BRAID_ECLOSED) return false;
            detail::check(st, "JoinSet::shutdown");
            if (out_task_) {
                *out_task_ = task_;
                *out_user_ = user_;
                return true;
            }
            JoinHandle<T> dropped(task_, static_cast<detail::Result<T>*>(user_));  // outcome dropped with it
            return true;
        }

    private:
        braid_join_set* s_;
        braid_task** out_task_;
        void** out_user_;
        braid_task* task_ = nullptr;
        void* user_ = nullptr;
    };

    // The exception a failed task's join gives.
    static std::exception_ptr failure_of(JoinHandle<T> h) {
        try {
            h.take();
        } catch (...) {
            return std::current_exception();
        }
        return nullptr;
    }

    // Adds what a spawn made (rc: its result; a task refused by a runtime
    // that shuts down becomes a cancelled entry).
    AbortHandle add(int rc, braid_task* t, detail::Result<T>* result, const void* owner) {
        if (rc == BRAID_ESHUTDOWN) rc = braid_task_new_cancelled(&t);  // dropped: a cancelled entry
        detail::check(rc, detail::spawn_error_context(owner));
        AbortHandle ah(t);
        rc = braid_join_set_add(native(), t, result);
        if (rc < 0) {
            braid_task_free(t);
            throw Error(rc, "JoinSet::spawn");
        }
        return ah;
    }

    // Takes the value out of a finished task and releases its handle.
    static std::optional<value_type> take(braid_task* t, void* user) {
        JoinHandle<T> h(t, static_cast<detail::Result<T>*>(user));
        if constexpr (std::is_void_v<T>) {
            h.take();
            return value_type{};
        } else {
            return h.take();
        }
    }
    braid_join_set* native() const {
        if (!s_) throw Error(BRAID_EINVAL, "moved-from JoinSet");
        return s_;
    }
    braid_join_set* s_ = nullptr;
};

}  // namespace braid
