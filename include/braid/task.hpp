// braid::Task<T>: a lazy coroutine.  It starts when it is awaited or
// spawned; awaiting it runs it inside the awaiting task (symmetric transfer,
// no scheduling); destroying it before it finished destroys its frame and
// everything the frame holds (cancellation is destruction).  The frame is
// allocated with room for a task in front (braid/detail/task_frame.hpp):
// spawning it is one allocation in all.
#pragma once

#include <braid/detail/context.hpp>
#include <braid/error.hpp>
#include <braid/detail/result.hpp>
#include <braid/detail/task_frame.hpp>

#include <coroutine>
#include <exception>
#include <source_location>
#include <utility>

namespace braid {

template <class T = void>
class Task;

namespace detail {

template <class T>
struct TaskPromiseStorage {
    Result<T> result;
    template <class U>
    void return_value(U&& v) { result.set_value(std::forward<U>(v)); }
};
template <>
struct TaskPromiseStorage<void> {
    Result<void> result;
    void return_void() { result.set_value(); }
};

// What TaskPromise::await_transform gives co_await: the awaiter itself
// (an operand that is an awaiter lives, a variable or a temporary of the
// co_await's full expression, until the co_await is over), or the one an
// operator co_await made, constructed in place.
template <class W>
struct AwaiterRef {
    W* w;
    decltype(auto) await_ready() { return w->await_ready(); }
    template <class H>
    decltype(auto) await_suspend(H h) { return w->await_suspend(h); }
    decltype(auto) await_resume() { return w->await_resume(); }
};
template <class W>
struct HeldAwaiter {
    W w;
    decltype(auto) await_ready() { return w.await_ready(); }
    template <class H>
    decltype(auto) await_suspend(H h) { return w.await_suspend(h); }
    decltype(auto) await_resume() { return w.await_resume(); }
};

template <class T>
struct TaskPromise : PromiseBase, TraceLink, TaskPromiseStorage<T> {
    std::coroutine_handle<> continuation = std::noop_coroutine();

    static void* operator new(std::size_t n) { return TaskFrame::allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept { TaskFrame::deallocate(p, n); }

    // The frame has a TaskFrame in front (Context::wait_on looks for this).
    static constexpr bool kTaskFrame = true;
    // Every co_await in the coroutine passes here: it records where the
    // coroutine awaits, for the task dump (one pointer store), and gives
    // the operand's awaiter, seen through a pointer (or, when it comes from
    // an operator co_await, held in place): no awaiter is copied or moved.
    template <class A>
    auto await_transform(A&& a, std::source_location where = std::source_location::current()) {
        this->where = where;
        if constexpr (requires { static_cast<A&&>(a).operator co_await(); })
            return HeldAwaiter<decltype(static_cast<A&&>(a).operator co_await())>{static_cast<A&&>(a).operator co_await()};
        else if constexpr (requires { operator co_await(static_cast<A&&>(a)); })
            return HeldAwaiter<decltype(operator co_await(static_cast<A&&>(a)))>{operator co_await(static_cast<A&&>(a))};
        else
            return AwaiterRef<std::remove_reference_t<A>>{&a};
    }

    Task<T> get_return_object() noexcept;
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct FinalAwaiter {
        bool await_ready() noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<TaskPromise> h) noexcept {
            return h.promise().continuation;
        }
        void await_resume() noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept { this->result.set_exception(std::current_exception()); }
};

}  // namespace detail

template <class T>
class [[nodiscard]] Task {
public:
    using promise_type = detail::TaskPromise<T>;
    using value_type = T;
    using handle_type = std::coroutine_handle<promise_type>;

    Task() noexcept = default;
    explicit Task(handle_type h) noexcept : h_(h) {}
    Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    Task& operator=(Task&& o) noexcept {
        if (this != &o) {
            reset();
            h_ = std::exchange(o.h_, {});
        }
        return *this;
    }
    Task(const Task&) = delete;
    Task& operator=(const Task&) = delete;
    ~Task() { reset(); }

    bool valid() const noexcept { return bool(h_); }
    bool done() const noexcept { return h_ && h_.done(); }

    struct Awaiter {
        handle_type h;
        bool await_ready() const {
            if (!h) throw Error(BRAID_EINVAL, "awaiting an empty or moved-from Task");
            return false;
        }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> awaiting) noexcept {
            h.promise().ctx = awaiting.promise().ctx;
            h.promise().continuation = awaiting;
            detail::TraceLink* parent = nullptr;
            if constexpr (requires { P::kTaskFrame; }) parent = &awaiting.promise();
            h.promise().parent = parent;
            return h;
        }
        T await_resume() { return h.promise().result.take(); }
    };
    Awaiter operator co_await() && noexcept { return Awaiter{h_}; }
    Awaiter operator co_await() & noexcept { return Awaiter{h_}; }

    // For drivers (spawn, block_on): give up ownership of the frame.
    handle_type release() noexcept { return std::exchange(h_, {}); }

private:
    void reset() noexcept {
        if (h_) std::exchange(h_, {}).destroy();
    }
    handle_type h_;
};

template <class T>
Task<T> detail::TaskPromise<T>::get_return_object() noexcept {
    return Task<T>(std::coroutine_handle<TaskPromise>::from_promise(*this));
}

}  // namespace braid
