// join, try_join, join_all: run awaitables concurrently inside the current
// task and wait for all of them.
//
//   auto [a, b, c] = co_await braid::join(fetch_1(), fetch_2(), fetch_3());
//   auto [x, y]    = co_await braid::try_join(fetch_1(), fetch_2());
//   std::vector<int> v = co_await braid::join_all(std::move(tasks));
//
// Every branch runs in this task (no spawn); void results are std::monostate.
// join waits for every branch and then rethrows the first exception (in
// argument order); try_join cancels the others (destroying their frames) as
// soon as one branch throws, and rethrows it.  Each poll starts with the
// next branch in turn (Tokio's join!), so a branch that is always ready
// cannot starve the others.
#pragma once

#include <braid/detail/branch.hpp>

#include <cstddef>
#include <memory>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

namespace braid {

namespace detail {

// Polls branch i of a tuple of branches.
template <class Tuple, std::size_t... I>
bool poll_nth(Tuple& t, std::size_t i, std::index_sequence<I...>) {
    bool done = false;
    ((i == I ? (done = std::get<I>(t).poll()) : false), ...);
    return done;
}

// Whether branch i of a tuple of branches failed.
template <class Tuple, std::size_t... I>
bool failed_nth(Tuple& t, std::size_t i, std::index_sequence<I...>) {
    bool failed = false;
    ((i == I ? (failed = std::get<I>(t).failed()) : false), ...);
    return failed;
}

template <bool FailFast, class... Bs>
class [[nodiscard]] JoinAwaiter {
    static_assert(sizeof...(Bs) > 0, "join needs at least one awaitable");
    static constexpr std::size_t N = sizeof...(Bs);

public:
    using result_type = std::tuple<value_or_monostate<typename Bs::value_type>...>;

    template <class... Args>
    explicit JoinAwaiter(Args&&... args) : branches_(std::forward<Args>(args)...) {}

    bool await_ready() const noexcept { return false; }

    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        Context* parent = h.promise().ctx;
        std::apply([&](auto&... b) { (b.start(parent), ...); }, branches_);
        if (poll_all()) return false;
        parent->wait_on(h, &JoinAwaiter::repoll, this);
        return true;
    }

    // Everything is released before an exception leaves: g++ 12 may skip
    // this awaiter's destructor when await_resume throws.
    result_type await_resume() {
        try {
            // the first exception in argument order, once everything finished
            std::apply([](auto&... b) { (rethrow_if_failed(b), ...); }, branches_);
            return std::apply([](auto&... b) { return result_type(take_value(b)...); }, branches_);
        } catch (...) {
            std::apply([](auto&... b) { (b.cancel(), ...); }, branches_);
            throw;
        }
    }

private:
    template <class B>
    static void rethrow_if_failed(B& b) {
        if (b.failed()) b.take();
    }
    static bool repoll(void* self, Context&) { return static_cast<JoinAwaiter*>(self)->poll_all(); }
    // Every poll starts one branch further (Tokio's join!), so a branch that
    // is always ready and uses up the task's budget cannot starve the ones
    // after it.
    // try_join stops at the first branch that fails, as Tokio's try_join!
    // returns at the first error: the branches after it in this poll are
    // not polled (one would take a message, or send one, only to be
    // cancelled with it at once).
    bool poll_all() {
        bool all = true;
        std::size_t first = next_;
        next_ = (next_ + 1) % N;
        for (std::size_t k = 0; k < N; ++k) {
            std::size_t i = (first + k) % N;
            all &= poll_nth(branches_, i, std::index_sequence_for<Bs...>{});
            if constexpr (FailFast) {
                if (failed_nth(branches_, i, std::index_sequence_for<Bs...>{})) {
                    std::apply([](auto&... b) { (cancel_unfinished(b), ...); }, branches_);
                    return true;
                }
            }
        }
        return all;
    }
    template <class B>
    static void cancel_unfinished(B& b) {
        if (!b.done()) b.cancel();
    }

    std::tuple<Bs...> branches_;
    std::size_t next_ = 0;
};

template <class T>
class [[nodiscard]] JoinAllAwaiter {
public:
    explicit JoinAllAwaiter(std::vector<Task<T>> tasks) {
        branches_.reserve(tasks.size());
        for (auto& t : tasks) branches_.emplace_back(std::move(t));
    }
    bool await_ready() const noexcept { return branches_.empty(); }

    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        Context* parent = h.promise().ctx;
        for (auto& b : branches_) b.start(parent);
        if (poll_all()) return false;
        parent->wait_on(h, &JoinAllAwaiter::repoll, this);
        return true;
    }

    auto await_resume() {
        try {
            for (auto& b : branches_)
                if (b.failed()) b.take();
        } catch (...) {
            branches_.clear();  // released before it leaves (g++ 12, see JoinAwaiter)
            throw;
        }
        if constexpr (std::is_void_v<T>) {
            for (auto& b : branches_) b.take();
        } else {
            std::vector<T> out;
            out.reserve(branches_.size());
            for (auto& b : branches_) out.push_back(b.take());
            return out;
        }
    }

private:
    static bool repoll(void* self, Context&) { return static_cast<JoinAllAwaiter*>(self)->poll_all(); }
    // Rotates the first branch polled, as join does.
    bool poll_all() {
        bool all = true;
        std::size_t n = branches_.size(), first = next_;
        next_ = (next_ + 1) % n;
        for (std::size_t k = 0; k < n; ++k) all &= branches_[(first + k) % n].poll();
        return all;
    }
    std::vector<Branch<T>> branches_;
    std::size_t next_ = 0;
};

}  // namespace detail

// Awaits every awaitable concurrently; a tuple of their results.  An
// awaitable passed by lvalue is kept by the caller (see select.hpp).
template <class... A>
auto join(A&&... awaitables) {
    return detail::JoinAwaiter<false, detail::branch_t<A>...>(detail::branch_arg(std::forward<A>(awaitables))...);
}

// Like join, but the first exception cancels the other branches and is
// rethrown at once.
template <class... A>
auto try_join(A&&... awaitables) {
    return detail::JoinAwaiter<true, detail::branch_t<A>...>(detail::branch_arg(std::forward<A>(awaitables))...);
}

// Awaits a runtime-sized set of tasks; their results in order (void: none).
template <class T>
auto join_all(std::vector<Task<T>> tasks) {
    return detail::JoinAllAwaiter<T>(std::move(tasks));
}

}  // namespace braid
