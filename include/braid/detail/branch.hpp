// A branch: a coroutine run concurrently with others inside one task (join,
// select, timeout).  It has a Context of its own; its waker marks it woken
// and wakes whatever drives the enclosing awaiter, so when the task is
// polled again only the woken branches are resumed.  Destroying a branch
// destroys its frame (cancellation is destruction).
#pragma once

#include <braid/detail/context.hpp>
#include <braid/task.hpp>

#include <atomic>
#include <coroutine>
#include <type_traits>
#include <utility>
#include <variant>

namespace braid::detail {

// The type an awaitable produces.
template <class A>
decltype(auto) get_awaiter(A&& a) {
    if constexpr (requires { std::forward<A>(a).operator co_await(); }) return std::forward<A>(a).operator co_await();
    else if constexpr (requires { operator co_await(std::forward<A>(a)); }) return operator co_await(std::forward<A>(a));
    else return std::forward<A>(a);
}
template <class A>
using await_result_t = decltype(get_awaiter(std::declval<A>()).await_resume());

template <class A>
struct is_task_type : std::false_type {};
template <class T>
struct is_task_type<Task<T>> : std::true_type {};

// Any awaitable as a Task.  A Task stays itself (an lvalue Task is moved in:
// a branch owns what it runs, so cancelling it destroys it).  Other
// awaitables get a small frame: an rvalue is moved into it, an lvalue (a
// receiver the caller keeps, say) is awaited in place, by reference.
template <class A>
auto as_task(A&& a) {
    using D = std::remove_cvref_t<A>;
    if constexpr (is_task_type<D>::value) {
        return D(std::move(a));
    } else if constexpr (std::is_lvalue_reference_v<A>) {
        using R = std::remove_cvref_t<await_result_t<A>>;
        return [](std::remove_reference_t<A>* aw) -> Task<R> { co_return co_await *aw; }(&a);
    } else {
        using R = std::remove_cvref_t<await_result_t<D&&>>;
        return [](D aw) -> Task<R> { co_return co_await std::move(aw); }(std::move(a));
    }
}
template <class A>
using task_of_t = decltype(as_task(std::declval<A>()));

template <class T>
class Branch {
public:
    explicit Branch(Task<T> t) : h_(t.release()) {}
    Branch(Branch&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    Branch(const Branch&) = delete;
    ~Branch() { cancel(); }

    // Starts driving under `parent` (called once, when the enclosing awaiter
    // suspends or first polls).
    void start(Context* parent) {
        parent_ = parent;
        ctx_.wake_fn = &Branch::wake;
        ctx_.wake_data = this;
        ctx_.locals = parent->locals;
        ctx_.resume_point = h_;
        h_.promise().ctx = &ctx_;
    }

    // Resumes the branch if it was woken and its leaf is ready.  True once
    // its coroutine has finished (value or exception).
    bool poll() {
        if (done_) return true;
        if (!h_) return false;
        if (!woken_.exchange(false, std::memory_order_acq_rel)) return false;
        if (!ctx_.ready()) return false;
        {
            ContextScope scope(&ctx_);
            ctx_.resume();
        }
        done_ = h_.done();
        return done_;
    }

    bool done() const { return done_; }
    bool failed() const { return done_ && h_.promise().result.has_exception(); }
    // The value (or rethrows the exception); valid once done().
    T take() { return h_.promise().result.take(); }
    // Destroys the frame now (and with it everything the branch waits on).
    void cancel() {
        if (h_) std::exchange(h_, {}).destroy();
    }

private:
    static void wake(void* p) {
        auto* b = static_cast<Branch*>(p);
        b->woken_.store(true, std::memory_order_release);
        b->parent_->wake_fn(b->parent_->wake_data);
    }

    typename Task<T>::handle_type h_;
    Context ctx_;
    Context* parent_ = nullptr;
    std::atomic<bool> woken_{true};
    bool done_ = false;
};

// void results become std::monostate inside tuples and variants.
template <class T>
using value_or_monostate = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T>
value_or_monostate<T> take_value(Branch<T>& b) {
    if constexpr (std::is_void_v<T>) {
        b.take();
        return {};
    } else {
        return b.take();
    }
}

// Small per-thread generator for select's fair start order.
inline uint32_t fast_random() {
    thread_local uint64_t s = 0x9E3779B97F4A7C15ull ^ reinterpret_cast<uintptr_t>(&s);
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return uint32_t(s >> 32);
}

}  // namespace braid::detail
