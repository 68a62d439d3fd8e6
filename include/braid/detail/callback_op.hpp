// Awaiting a C callback operation (fs.h, process.h): the awaiter starts the
// operation with a callback that writes into a small heap state, then waits
// for the operation's braid_task to finish (braid_task_poll_join); by then
// the callback has run.  The state is shared by the awaiter and the callback
// (two references), so an awaiter cancelled while the operation runs on the
// blocking pool leaves the state - and any buffer in it - alive until the
// callback is done with it.  Nothing here decides behaviour: the operation
// and its result are the C layer's.
#pragma once

#include <braid/detail/context.hpp>
#include <braid/io/error.hpp>
#include <braid/task.h>

#include <atomic>
#include <string>
#include <utility>

namespace braid::detail {

template <class V>
struct CallbackState {
    std::atomic<int> refs{2};  // the awaiter's and the callback's
    int status = BRAID_PENDING;
    int os_error = 0;
    V value{};
    void drop() {
        if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }
    // Records the callback's status (and errno) and lets go of the state.
    void complete(int st) {
        status = st;
        os_error = st < 0 ? braid_last_os_error() : 0;
        drop();
    }
};

// Derived provides
//   int start(State* s, braid_task** out)   the C call, with s as user_data
//   auto result(State& s)                   the await_resume value on success
//   what() const                            text for the error (const char* or std::string)
template <class Derived, class V>
class CallbackAwaiter : public LeafAwaiter<Derived> {
public:
    using State = CallbackState<V>;

    CallbackAwaiter() = default;
    CallbackAwaiter(CallbackAwaiter&& o) noexcept
        : task_(std::exchange(o.task_, nullptr)), state_(std::exchange(o.state_, nullptr)) {}
    CallbackAwaiter(const CallbackAwaiter&) = delete;
    ~CallbackAwaiter() { reset(); }

    bool ready_now() const { return false; }
    // Drops the waker; the operation goes on (its result waits in the state).
    void unregister() noexcept {
        if (task_ && registered_) braid_task_poll_join(task_, nullptr, nullptr);
        registered_ = false;
    }
    int poll(braid_wake_fn w, void* d) {
        if (!task_) {
            state_ = new State();
            int rc = self().start(state_, &task_);
            if (rc < 0) {
                delete state_;  // the callback never runs
                state_ = nullptr;
                task_ = nullptr;
                return rc;
            }
        }
        int rc = braid_task_poll_join(task_, w, d);
        // Finished after a wait: the completer may still be inside our
        // waker; removing the registration waits that out.
        if (registered_ && rc != BRAID_PENDING) braid_task_poll_join(task_, nullptr, nullptr);
        registered_ = rc == BRAID_PENDING;
        return rc;
    }
    auto finish(int st) {
        // Everything is released before a throw: g++ 12 may skip this
        // awaiter's destructor when await_resume throws.
        State* s = std::exchange(state_, nullptr);
        if (task_) braid_task_free(std::exchange(task_, nullptr));
        registered_ = false;
        int status = st < 0 ? st : s->status;
        int os = st < 0 ? 0 : s->os_error;
        if (status < 0) {
            if (s) s->drop();
            throw IoError(status, os, std::string(self().what()));
        }
        struct Dropper {
            State* s;
            ~Dropper() { s->drop(); }
        } dropper{s};
        return self().result(*s);
    }

private:
    Derived& self() { return static_cast<Derived&>(*this); }
    void reset() {
        if (task_) {
            if (registered_) braid_task_poll_join(task_, nullptr, nullptr);
            braid_task_abort(task_);  // drops a job that has not started
            braid_task_free(std::exchange(task_, nullptr));
        }
        if (state_) std::exchange(state_, nullptr)->drop();
    }
    braid_task* task_ = nullptr;
    State* state_ = nullptr;
    bool registered_ = false;
};

}  // namespace braid::detail
