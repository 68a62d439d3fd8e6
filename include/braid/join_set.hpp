// braid::JoinSet<T>: spawn many tasks, join them in the order they finish.
//
//   braid::JoinSet<Output> set;
//   for (auto& item : items) set.spawn(process_item(std::move(item)));
//   while (auto r = co_await set.join_next()) results.push_back(std::move(*r));
//
// join_next gives std::nullopt once the set is empty, rethrows the exception
// that escaped a task, and throws braid::TaskCancelled for an aborted one.
// Destroying the set aborts what is still running (Tokio's JoinSet).
#pragma once

#include <braid/detail/branch.hpp>
#include <braid/detail/spawn_state.hpp>
#include <braid/error.hpp>
#include <braid/join_handle.hpp>
#include <braid/join_set.h>
#include <braid/spawn.hpp>

#include <optional>
#include <utility>

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
        if (rc == BRAID_ESHUTDOWN) rc = braid_task_new_cancelled(&t);  // dropped: a cancelled entry
        detail::check(rc, detail::spawn_error_context(nullptr));
        AbortHandle ah(t);
        rc = braid_join_set_add(native(), t, result);
        if (rc < 0) {
            braid_task_free(t);
            throw Error(rc, "JoinSet::spawn");
        }
        return ah;
    }
    template <class F, class... Args>
        requires std::invocable<F&&, Args&&...>
    AbortHandle spawn(F f, Args... args) {
        return spawn(detail::call_in_frame(std::move(f), std::move(args)...));
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
    // Waits for the next task to end and drops its outcome; false when empty.
    // (No exception is thrown and caught inside the coroutine: g++ 12
    // miscompiles co_await inside a try block in a loop.)
    class [[nodiscard]] NextEnded : public detail::LeafAwaiter<NextEnded> {
    public:
        explicit NextEnded(braid_join_set* s) : s_(s) {}
        ~NextEnded() { unregister(); }
        void unregister() noexcept {
            if (this->status_ == BRAID_PENDING) braid_join_set_unregister(s_);
        }
        bool ready_now() const { return false; }
        int poll(braid_wake_fn w, void* d) { return braid_join_set_poll_next(s_, w, d, &task_, &user_); }
        bool finish(int st) {
            if (st == BRAID_ECLOSED) return false;
            detail::check(st, "JoinSet::shutdown");
            JoinHandle<T> dropped(task_, static_cast<detail::Result<T>*>(user_));  // outcome dropped with it
            return true;
        }

    private:
        braid_join_set* s_;
        braid_task* task_ = nullptr;
        void* user_ = nullptr;
    };

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
