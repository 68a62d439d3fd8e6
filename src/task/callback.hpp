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
#include <tuple>
#include <type_traits>
#include <utility>

#include "task/completion_queue.hpp"

namespace braid::detail {

// (int status, T* handle): a callback handed a stream, a file, a result.
template <class... P>
struct HandleShape : std::false_type {};
template <class T>
struct HandleShape<int, T*> : std::true_type {};

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
        post(g, ud, a...);
    }

    // A callback handed bytes that live only until it returns (a read loop's
    // buffer, refilled at once; a local): posted with a copy of them.
    void call_with_bytes(void* ud, int status, const void* data, std::size_t n) const {
        if (!q_) {
            fn_(ud, status, data, n);
            return;
        }
        CompletionQueue::Plain p = plain(BRAID_COMPLETION_BYTES, ud, status);
        p.rec.size = data ? n : 0;
        if (data) {
            p.bytes.assign(static_cast<const char*>(data), n);
            p.owns_bytes = true;
        }
        q_->post(std::move(p));
    }

private:
    CompletionQueue::Plain plain(int kind, void* ud, int status) const {
        CompletionQueue::Plain p;
        p.rec = braid_completion{reinterpret_cast<void (*)()>(fn_), ud, status, kind, 0, nullptr, nullptr};
        return p;
    }

    // Posts g(ud, a...): as a record when g has a plain shape
    // (braid_completion's kinds), else as a closure.
    template <class... P, class... A>
    void post(void (*g)(void*, P...), void* ud, A... a) const {
        using Args = std::tuple<P...>;
        if constexpr (std::is_same_v<Args, std::tuple<int>>) {
            q_->post(plain(BRAID_COMPLETION_STATUS, ud, a...));
        } else if constexpr (std::is_same_v<Args, std::tuple<int, std::size_t>>) {
            Args v(a...);
            CompletionQueue::Plain p = plain(BRAID_COMPLETION_SIZE, ud, std::get<0>(v));
            p.rec.size = std::get<1>(v);
            q_->post(std::move(p));
        } else if constexpr (HandleShape<P...>::value) {
            Args v(a...);
            CompletionQueue::Plain p = plain(BRAID_COMPLETION_HANDLE, ud, std::get<0>(v));
            p.rec.handle = const_cast<void*>(static_cast<const void*>(std::get<1>(v)));
            q_->post(std::move(p));
        } else if constexpr (std::is_same_v<Args, std::tuple<int, const void*, std::size_t>>) {
            // The pointer stays valid while the completion keeps the task.
            Args v(a...);
            CompletionQueue::Plain p = plain(BRAID_COMPLETION_BYTES, ud, std::get<0>(v));
            p.rec.data = std::get<1>(v);
            p.rec.size = std::get<2>(v);
            q_->post(std::move(p));
        } else {
            q_->post([g, ud, a...] { g(ud, a...); });
        }
    }

    F fn_;
    CompletionQueue* q_;
};

}  // namespace braid::detail
