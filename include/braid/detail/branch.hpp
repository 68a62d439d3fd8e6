// Branches: what join, select and timeout run concurrently inside one task.
// Each branch has a waker of its own; it marks the branch woken and wakes
// whatever drives the enclosing awaiter, so when the task is polled again
// only the woken branches are polled.
//
// What an argument becomes (kind_of):
//  - a Task (by value): a Branch that owns its frame; cancelling it destroys
//    the frame.  A Task by lvalue is refused: it would be consumed by the
//    first select (keep one across selects with braid::pin).
//  - a leaf awaiter (LeafAwaiter: Sleep, a receive, a lock ...): a
//    LeafBranch that polls the leaf directly, without a coroutine frame.  By
//    value it owns the leaf (cancelling destroys it, and its destructor
//    cancels the wait); by lvalue (a leaf the caller keeps across selects) it
//    polls the caller's object and calls its unregister() when the branch
//    ends, so the leaf keeps its state (its timer, its place in a queue) and
//    no waker of a gone branch stays behind.
//  - an awaitable by lvalue whose operator co_await gives a leaf (a
//    JoinHandle, a oneshot receiver, a braid::Pinned): a LeafBranch owning
//    that fresh leaf; the caller's awaitable stays as it was (a JoinHandle
//    stays joinable).
//  - an awaitable by value whose operator co_await gives a leaf (a oneshot
//    receiver, a JoinHandle moved in): a LeafBranch that holds the
//    awaitable and the leaf its operator co_await gives (made when the
//    branch starts, so that the branch may move before), no frame either.
//    Cancelling destroys the leaf, then the awaitable.
//  - any other awaitable by value: a Branch over a small frame that awaits
//    it (the awaitable is moved into the frame).  By lvalue only if it has
//    unregister() (the frame awaits it by reference and unregisters it when
//    it goes); otherwise it does not compile.
//
// So select, join and timeout over leaves (receives, sleeps, locks,
// permits, notifications, I/O readiness, joins) allocate nothing per call.
#pragma once

#include <braid/detail/context.hpp>
#include <braid/detail/result.hpp>
#include <braid/error.hpp>
#include <braid/task.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <new>
#include <type_traits>
#include <utility>
#include <variant>

namespace braid::detail {

// The awaiter an awaitable gives (itself, when it has no operator co_await).
template <class A>
decltype(auto) get_awaiter(A&& a) {
    if constexpr (requires { std::forward<A>(a).operator co_await(); }) return std::forward<A>(a).operator co_await();
    else if constexpr (requires { operator co_await(std::forward<A>(a)); }) return operator co_await(std::forward<A>(a));
    else return std::forward<A>(a);
}
template <class A>
using await_result_t = decltype(get_awaiter(std::declval<A>()).await_resume());
template <class A>
using awaiter_t = decltype(get_awaiter(std::declval<A>()));

template <class A>
struct is_task_type : std::false_type {};
template <class T>
struct is_task_type<Task<T>> : std::true_type {};

template <class A>
concept has_co_await = requires(A&& a) { std::forward<A>(a).operator co_await(); } ||
                       requires(A&& a) { operator co_await(std::forward<A>(a)); };
template <class A>
concept has_unregister = requires(std::remove_reference_t<A>& a) {
    { a.unregister() } noexcept;
};
template <class L>
inline constexpr bool is_leaf_v = std::is_base_of_v<LeafBase, std::remove_cvref_t<L>>;

enum class Kind { task, leaf_owned, leaf_held, leaf_ref, frame, frame_ref, task_lvalue, unsafe_lvalue };

template <class A>
constexpr Kind kind_of() {
    using D = std::remove_cvref_t<A>;
    constexpr bool lvalue = std::is_lvalue_reference_v<A>;
    if constexpr (is_task_type<D>::value) {
        return lvalue ? Kind::task_lvalue : Kind::task;
    } else if constexpr (has_co_await<A>) {
        // By value, the branch holds the awaitable and its leaf awaiter
        // (which may refer to it: a JoinHandle's does); one whose awaiter is
        // not a leaf goes into a frame.  By lvalue, a fresh leaf awaiter of
        // the caller's awaitable is polled directly.
        using W = awaiter_t<A>;
        constexpr bool leaf = !std::is_reference_v<W> && is_leaf_v<W>;
        if constexpr (!lvalue) return leaf && std::is_move_constructible_v<D> ? Kind::leaf_held : Kind::frame;
        else if constexpr (leaf) return Kind::leaf_owned;
        else if constexpr (has_unregister<A>) return Kind::frame_ref;
        else return Kind::unsafe_lvalue;
    } else if constexpr (is_leaf_v<D>) {
        if constexpr (lvalue) return has_unregister<A> ? Kind::leaf_ref : Kind::unsafe_lvalue;
        else if constexpr (std::is_move_constructible_v<D>) return Kind::leaf_owned;
        else return Kind::frame;
    } else if constexpr (!lvalue) {
        return Kind::frame;
    } else if constexpr (has_unregister<A>) {
        return Kind::frame_ref;
    } else {
        return Kind::unsafe_lvalue;
    }
}

// Whether `A` (as forwarded: T& for an lvalue) may be raced by select, join
// and timeout.
template <class A>
inline constexpr bool raceable_v = kind_of<A>() != Kind::task_lvalue && kind_of<A>() != Kind::unsafe_lvalue;

template <class A>
constexpr void check_raceable() {
    static_assert(kind_of<A>() != Kind::task_lvalue,
                  "braid::select/join/timeout: a Task passed by lvalue would be consumed by the first call. Pass "
                  "std::move(task) to race it once, or keep its progress across selects with "
                  "`auto work = braid::pin(std::move(task));` and pass `work`.");
    static_assert(kind_of<A>() != Kind::unsafe_lvalue,
                  "braid::select/join/timeout: this awaitable is passed by lvalue (kept by the caller) but has no "
                  "`void unregister() noexcept` to drop the waker of a branch that ended; pass it by value "
                  "(std::move) instead.");
}

// Drops a kept awaitable's registration when the frame awaiting it goes.
template <class A>
struct UnregisterOnExit {
    A* a;
    ~UnregisterOnExit() { a->unregister(); }
};

// Any raceable awaitable as a Task: a Task stays itself; other awaitables
// get a small frame that awaits them (an rvalue is moved into it, an lvalue
// is awaited in place and unregistered when the frame goes).
template <class A>
auto as_task(A&& a) {
    check_raceable<A>();
    using D = std::remove_cvref_t<A>;
    if constexpr (is_task_type<D>::value) {
        return D(std::move(a));
    } else if constexpr (std::is_lvalue_reference_v<A>) {
        using R = std::remove_cvref_t<await_result_t<A>>;
        using P = std::remove_reference_t<A>;
        if constexpr (has_unregister<A>) {
            return [](P* aw) -> Task<R> {
                UnregisterOnExit<P> guard{aw};
                co_return co_await *aw;
            }(&a);
        } else {
            return [](P* aw) -> Task<R> { co_return co_await *aw; }(&a);
        }
    } else {
        using R = std::remove_cvref_t<await_result_t<D&&>>;
        return [](D aw) -> Task<R> { co_return co_await std::move(aw); }(std::move(a));
    }
}
template <class A>
using task_of_t = decltype(as_task(std::declval<A>()));

// A branch running a Task: it owns the frame.
template <class T>
class Branch {
public:
    using value_type = T;

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
        if (!first_poll_done()) return false;
        {
            ctx_.coop = parent_->coop;  // the budget of the poll driving us (it may run on another thread next time)
            ContextScope scope(&ctx_);
            if (!ctx_.ready()) return false;
            ctx_.resume();
        }
        ctx_.coop = nullptr;
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

    // Whether the branch is to be polled now: always the first time (no
    // waker of it exists yet, so nobody else touches woken_ and no atomic
    // read-modify-write is needed: an awaitable ready at once costs none);
    // after that, when its waker ran since the last poll.
    bool first_poll_done() {
        if (!polled_) return polled_ = true;
        return woken_.exchange(false, std::memory_order_acq_rel);
    }

    typename Task<T>::handle_type h_;
    Context ctx_;
    Context* parent_ = nullptr;
    std::atomic<bool> woken_{false};
    bool polled_ = false;
    bool done_ = false;
};

// A branch polling a leaf awaiter directly: no frame.  Ref: the caller's
// leaf, kept across selects (unregistered when the branch ends); else the
// branch's own (destroyed when the branch ends, which cancels its wait).
// Held (non-void): the branch also owns that awaitable, moved in, and makes
// the leaf from it (its operator co_await) when it starts.  When the leaf
// completes its value moves into the branch at once, so a completed leaf
// never holds a value nobody takes.
template <class L, bool Ref, class Held = void>
class LeafBranch {
    static constexpr bool held = !std::is_void_v<Held>;
    static_assert(!(Ref && held));
    struct Empty {};
    using HeldOr = std::conditional_t<held, Held, Empty>;

public:
    using value_type = std::remove_cvref_t<decltype(std::declval<L&>().await_resume())>;

    // Owned: built from the awaitable (moved in, or its operator co_await).
    template <class A>
        requires(!Ref && !held && !std::is_same_v<std::remove_cvref_t<A>, LeafBranch> &&
                 std::is_same_v<std::remove_cvref_t<awaiter_t<A>>, L>)
    explicit LeafBranch(A&& a) {
        ::new (static_cast<void*>(&store_.leaf)) L(get_awaiter(std::forward<A>(a)));
        leaf_ = &store_.leaf;
    }
    // Held: the awaitable moves in; its leaf is made by start().
    explicit LeafBranch(HeldOr&& a)
        requires held
    {
        ::new (static_cast<void*>(&store_.awaitable)) Held(std::move(a));
        holds_ = true;
    }
    // Kept: the caller's leaf.
    explicit LeafBranch(L& l)
        requires Ref
        : leaf_(&l) {}
    // Only before it is started (a select passed on by value, say).
    LeafBranch(LeafBranch&& o) noexcept(Ref || std::is_nothrow_move_constructible_v<std::conditional_t<held, HeldOr, L>>)
        requires(Ref || held || std::is_move_constructible_v<L>)
    {
        if constexpr (Ref) {
            leaf_ = std::exchange(o.leaf_, nullptr);
        } else if constexpr (held) {
            if (o.holds_) {
                ::new (static_cast<void*>(&store_.awaitable)) Held(std::move(o.store_.awaitable));
                holds_ = true;
                o.release();
            }
        } else if (o.leaf_) {
            ::new (static_cast<void*>(&store_.leaf)) L(std::move(*o.leaf_));
            leaf_ = &store_.leaf;
            o.release();
        }
    }
    LeafBranch(const LeafBranch&) = delete;
    LeafBranch& operator=(const LeafBranch&) = delete;
    ~LeafBranch() { cancel(); }

    void start(Context* parent) {
        parent_ = parent;
        if constexpr (held) {
            // As the frame that would await it: an exception of operator
            // co_await is the branch's, seen when it is polled.
            try {
                ::new (static_cast<void*>(&store_.leaf)) L(get_awaiter(std::move(store_.awaitable)));
                leaf_ = &store_.leaf;
            } catch (...) {
                fail();
            }
        }
    }

    // Polls the leaf if the branch was woken.  True once it completed
    // (value or exception).
    bool poll() {
        if (done_) return true;
        if (!leaf_) return false;
        // The first poll needs no check (no waker of this branch exists yet;
        // see Branch::first_poll_done); later ones only after a wake.
        if (polled_ && !woken_.exchange(false, std::memory_order_acq_rel)) return false;
        ContextScope scope(parent_);
        try {
            if (!polled_) {
                polled_ = true;
                if (leaf_->await_ready()) {
                    complete();
                    return true;
                }
            }
            if (!leaf_->leaf_poll(&LeafBranch::wake, this)) return false;
            complete();
        } catch (...) {
            if constexpr (Ref) leaf_->unregister();
            fail();
        }
        return true;
    }

    bool done() const { return done_; }
    bool failed() const { return done_ && result_.has_exception(); }
    value_type take() { return result_.take(); }
    // Ends the branch: a kept leaf forgets this branch's waker (and keeps
    // everything else); an owned one is destroyed (its wait cancelled).  A
    // value it had and nobody took is destroyed.
    void cancel() noexcept {
        if constexpr (Ref) {
            if (leaf_ && polled_ && !done_) leaf_->unregister();
            leaf_ = nullptr;
        } else {
            release();
        }
        if (done_) result_ = Result<value_type>();
    }

private:
    // Done with the exception being handled.
    void fail() {
        done_ = true;
        result_.set_exception(std::current_exception());
        release();
    }
    void complete() {
        if constexpr (Ref) leaf_->unregister();  // nothing of this branch stays registered
        done_ = true;
        if constexpr (std::is_void_v<value_type>) {
            leaf_->await_resume();
            result_.set_value();
        } else {
            result_.set_value(leaf_->await_resume());
        }
        release();
    }
    void release() noexcept {
        if constexpr (!Ref) {
            if (leaf_) std::exchange(leaf_, nullptr)->~L();
        } else {
            leaf_ = nullptr;
        }
        if constexpr (held) {
            if (holds_) store_.awaitable.~Held();  // after the leaf, which may refer to it
            holds_ = false;
        }
    }
    static void wake(void* p) {
        auto* b = static_cast<LeafBranch*>(p);
        b->woken_.store(true, std::memory_order_release);
        b->parent_->wake_fn(b->parent_->wake_data);
    }

    union Store {
        Store() noexcept {}
        ~Store() {}
        L leaf;
    };
    struct HeldStore {
        HeldStore() noexcept {}
        ~HeldStore() {}
        union {
            HeldOr awaitable;
        };
        union {
            L leaf;
        };
    };
    [[no_unique_address]] std::conditional_t<Ref, Empty, std::conditional_t<held, HeldStore, Store>> store_;
    L* leaf_ = nullptr;
    Context* parent_ = nullptr;
    Result<value_type> result_;
    std::atomic<bool> woken_{false};
    bool polled_ = false;
    bool done_ = false;
    bool holds_ = false;  // held: the awaitable is alive in store_
};

// select's `braid::otherwise()`: chosen when every other branch is disabled;
// never polled.
struct Otherwise {};
struct ElseBranch {
    using value_type = void;
    explicit ElseBranch(Otherwise) noexcept {}
    void start(Context*) noexcept {}
    bool poll() noexcept { return false; }
    bool done() const noexcept { return false; }
    bool failed() const noexcept { return false; }
    void take() noexcept {}
    void cancel() noexcept {}
};

// The branch type for an argument, and what to construct it from.
template <class A, Kind K = kind_of<A>()>
struct branch_for;
template <class A>
struct branch_for<A, Kind::task> {
    using type = Branch<typename std::remove_cvref_t<A>::value_type>;
};
template <class A>
struct branch_for<A, Kind::leaf_owned> {
    using type = LeafBranch<std::remove_cvref_t<awaiter_t<A>>, false>;
};
template <class A>
struct branch_for<A, Kind::leaf_held> {
    using type = LeafBranch<std::remove_cvref_t<awaiter_t<A>>, false, std::remove_cvref_t<A>>;
};
template <class A>
struct branch_for<A, Kind::leaf_ref> {
    using type = LeafBranch<std::remove_reference_t<A>, true>;
};
template <class A>
struct branch_for<A, Kind::frame> {
    using type = Branch<typename task_of_t<A>::value_type>;
};
template <class A>
struct branch_for<A, Kind::frame_ref> {
    using type = Branch<typename task_of_t<A>::value_type>;
};
template <class A>
using branch_t = typename branch_for<A>::type;

// What branch_t<A> is constructed from: the argument itself, or (frames)
// the Task wrapping it.
template <class A>
decltype(auto) branch_arg(A&& a) {
    check_raceable<A>();
    constexpr Kind k = kind_of<A>();
    if constexpr (k == Kind::frame || k == Kind::frame_ref) return as_task(std::forward<A>(a));
    else if constexpr (k == Kind::task) return std::remove_cvref_t<A>(std::move(a));
    else return std::forward<A>(a);
}

// void results become std::monostate inside tuples and variants.
template <class T>
using value_or_monostate = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class B>
value_or_monostate<typename B::value_type> take_value(B& b) {
    if constexpr (std::is_void_v<typename B::value_type>) {
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
