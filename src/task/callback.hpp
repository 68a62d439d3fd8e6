// A callback operation's C callback with its delivery target: where the
// callback runs.  Every callback operation (a sleep, a join, a read, a wait
// on a lock or a channel, a connect, a file operation) keeps its callback
// in one of these instead of a bare function pointer, and calls it as it
// would the pointer: cb(user_data, args...).
//
// The target is the current completion queue (task/completion_queue.hpp) of
// the thread that started the operation, captured when the callback is
// stored: none -> the callback runs where the operation completes (a
// worker, a blocking thread, the thread that shuts the runtime down); a
// queue -> the callback and its arguments are posted there, and the host
// runs them on its own thread.  This is the one place where that choice is
// made.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "task/completion_queue.hpp"

namespace braid::detail {

template <class F>
class Callback {
public:
    Callback(F f = nullptr) : fn_(f), q_(f ? CompletionQueue::current() : nullptr) {  // NOLINT: as a pointer
        if (q_) q_->ref();
    }
    Callback(const Callback& o) : fn_(o.fn_), q_(o.q_) {
        if (q_) q_->ref();
    }
    Callback(Callback&& o) noexcept : fn_(std::exchange(o.fn_, nullptr)), q_(std::exchange(o.q_, nullptr)) {}
    Callback& operator=(Callback o) noexcept {
        std::swap(fn_, o.fn_);
        std::swap(q_, o.q_);
        return *this;
    }
    ~Callback() {
        if (q_) q_->unref();
    }

    explicit operator bool() const { return fn_ != nullptr; }
    F get() const { return fn_; }

    template <class... A>
    void operator()(void* ud, A... a) const {
        call_as<F>(ud, a...);
    }
    // Calls the function as a G (a callback stored type-erased).
    template <class G, class... A>
    void call_as(void* ud, A... a) const {
        G g = reinterpret_cast<G>(fn_);
        if (!q_) {
            g(ud, a...);
            return;
        }
        q_->post([g, ud, a...] { g(ud, a...); });
    }

    // A callback handed bytes that live only until it returns (a read loop's
    // buffer, refilled at once; a local): posted with a copy of them.
    void call_with_bytes(void* ud, int status, const void* data, std::size_t n) const {
        if (!q_) {
            fn_(ud, status, data, n);
            return;
        }
        F g = fn_;
        std::string copy(static_cast<const char*>(data ? data : ""), data ? n : 0);
        q_->post([g, ud, status, copy = std::move(copy), has = data != nullptr] {
            g(ud, status, has ? copy.data() : nullptr, copy.size());
        });
    }

private:
    F fn_;
    CompletionQueue* q_;
};

}  // namespace braid::detail
