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
// soon as one branch throws, and rethrows it.
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

template <bool FailFast, class... Ts>
class [[nodiscard]] JoinAwaiter {
    static_assert(sizeof...(Ts) > 0, "join needs at least one awaitable");

public:
    explicit JoinAwaiter(Task<Ts>... tasks) : branches_(Branch<Ts>(std::move(tasks))...) {}

    bool await_ready() const noexcept { return false; }

    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        Context* parent = h.promise().ctx;
        std::apply([&](auto&... b) { (b.start(parent), ...); }, branches_);
        if (poll_all()) return false;
        parent->wait_on(h, &JoinAwaiter::repoll, this);
        return true;
    }

    std::tuple<value_or_monostate<Ts>...> await_resume() {
        // the first exception in argument order, once everything finished
        std::apply([](auto&... b) { (rethrow_if_failed(b), ...); }, branches_);
        return std::apply([](auto&... b) { return std::tuple<value_or_monostate<Ts>...>(take_value(b)...); },
                          branches_);
    }

private:
    template <class B>
    static void rethrow_if_failed(B& b) {
        if (b.failed()) b.take();
    }
    static bool repoll(void* self, Context&) { return static_cast<JoinAwaiter*>(self)->poll_all(); }
    bool poll_all() {
        bool all = true, failed = false;
        std::apply([&](auto&... b) { ((all &= b.poll(), failed |= b.failed()), ...); }, branches_);
        if constexpr (FailFast) {
            if (failed) {
                std::apply([](auto&... b) { (cancel_unfinished(b), ...); }, branches_);
                return true;
            }
        }
        return all;
    }
    template <class B>
    static void cancel_unfinished(B& b) {
        if (!b.done()) b.cancel();
    }

    std::tuple<Branch<Ts>...> branches_;
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
        for (auto& b : branches_)
            if (b.failed()) b.take();
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
    bool poll_all() {
        bool all = true;
        for (auto& b : branches_) all &= b.poll();
        return all;
    }
    std::vector<Branch<T>> branches_;
};

}  // namespace detail

// Awaits every awaitable concurrently; a tuple of their results.
template <class... A>
auto join(A&&... awaitables) {
    return detail::JoinAwaiter<false, typename detail::task_of_t<A>::value_type...>(
        detail::as_task(std::forward<A>(awaitables))...);
}

// Like join, but the first exception cancels the other branches and is
// rethrown at once.
template <class... A>
auto try_join(A&&... awaitables) {
    return detail::JoinAwaiter<true, typename detail::task_of_t<A>::value_type...>(
        detail::as_task(std::forward<A>(awaitables))...);
}

// Awaits a runtime-sized set of tasks; their results in order (void: none).
template <class T>
auto join_all(std::vector<Task<T>> tasks) {
    return detail::JoinAllAwaiter<T>(std::move(tasks));
}

}  // namespace braid
