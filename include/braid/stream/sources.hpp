// Streams from values: iter, once, empty, pending, repeat, repeat_with,
// from_fn, unfold.
//
//   auto s = braid::stream::iter(std::vector{1, 2, 3});
//   while (auto v = co_await s.next()) std::printf("%d\n", *v);
//
// All of them are lazy: nothing is produced before it is asked for.  Each
// ready poll takes a unit of the task's cooperative budget (coop_proceed in
// core.hpp): draining an endless one yields to the other tasks in time.
#pragma once

#include <braid/detail/branch.hpp>
#include <braid/stream/core.hpp>
#include <braid/stream/generator.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>
#include <vector>

namespace braid::stream {

using braid::detail::Context;

// The elements of a range, in order.  The range is kept by value: a
// container passed as an rvalue is moved in and its elements are moved
// out; a view (std::views::iota, std::views::all(v), ...) is copied and
// its elements copied.
template <std::ranges::input_range R>
class Iter : public StreamBase<Iter<R>> {
public:
    using item_type = std::ranges::range_value_t<R>;

    explicit Iter(R r) : r_(std::move(r)), it_(std::ranges::begin(r_)) {}
    Iter(Iter&& o) : r_(std::move(o.r_)), n_(o.n_), it_(std::ranges::next(std::ranges::begin(r_), n_)) {}
    Iter(const Iter&) = delete;

    Poll<item_type> poll_next(Context& cx) {
        if (!coop_proceed(cx)) return Poll<item_type>::pending();
        if (it_ == std::ranges::end(r_)) return Poll<item_type>::end();
        ++n_;
        if constexpr (std::ranges::view<R>) {
            return {true, item_type(*it_++)};
        } else {
            return {true, item_type(std::move(*it_++))};
        }
    }
    void detach() noexcept {}
    // Exact when the range can tell the distance to its end.
    SizeHint size_hint() const {
        if constexpr (std::sized_sentinel_for<std::ranges::sentinel_t<R>, std::ranges::iterator_t<R>>) {
            // (end() of the range it_ points into; nothing is changed)
            return SizeHint::exactly(std::size_t(std::ranges::end(const_cast<R&>(r_)) - it_));
        } else {
            return SizeHint::unknown();
        }
    }

private:
    R r_;
    std::ptrdiff_t n_ = 0;
    std::ranges::iterator_t<R> it_;
};

template <class R>
    requires std::ranges::input_range<std::remove_cvref_t<R>>
auto iter(R&& r) {
    return Iter<std::remove_cvref_t<R>>(std::forward<R>(r));
}
template <class T>
auto iter(std::initializer_list<T> l) {
    return Iter<std::vector<T>>(std::vector<T>(l));
}

// One item, then the end.
template <class T>
class Once : public StreamBase<Once<T>> {
public:
    using item_type = T;
    explicit Once(T v) : v_(std::move(v)) {}
    Poll<T> poll_next(Context& cx) {
        if (!coop_proceed(cx)) return Poll<T>::pending();
        return {true, std::exchange(v_, std::nullopt)};
    }
    void detach() noexcept {}
    SizeHint size_hint() const noexcept { return SizeHint::exactly(v_ ? 1 : 0); }

private:
    std::optional<T> v_;
};
template <class T>
Once<std::decay_t<T>> once(T&& v) {
    return Once<std::decay_t<T>>(std::forward<T>(v));
}

// No item.
template <class T>
class Empty : public StreamBase<Empty<T>> {
public:
    using item_type = T;
    Poll<T> poll_next(Context& cx) {
        if (!coop_proceed(cx)) return Poll<T>::pending();
        return Poll<T>::end();
    }
    void detach() noexcept {}
    SizeHint size_hint() const noexcept { return SizeHint::exactly(0); }
};
template <class T>
Empty<T> empty() {
    return {};
}

// Never gives an item and never ends.
template <class T>
class Pending : public StreamBase<Pending<T>> {
public:
    using item_type = T;
    Poll<T> poll_next(Context&) { return Poll<T>::pending(); }
    void detach() noexcept {}
    // No item will ever come (Tokio says the same).
    SizeHint size_hint() const noexcept { return SizeHint::exactly(0); }
};
template <class T>
Pending<T> pending() {
    return {};
}

// f() for every item, forever: repeat_with(f); copies of v: repeat(v).
template <class F>
class RepeatWith : public StreamBase<RepeatWith<F>> {
public:
    using item_type = std::remove_cvref_t<std::invoke_result_t<F&>>;
    explicit RepeatWith(F f) : f_(std::move(f)) {}
    Poll<item_type> poll_next(Context& cx) {
        if (!coop_proceed(cx)) return Poll<item_type>::pending();
        return {true, std::invoke(f_)};
    }
    void detach() noexcept {}
    SizeHint size_hint() const noexcept { return {SIZE_MAX, std::nullopt}; }

private:
    F f_;
};
template <class F>
RepeatWith<F> repeat_with(F f) {
    return RepeatWith<F>(std::move(f));
}
template <class T>
auto repeat(T v) {
    return repeat_with([v = std::move(v)]() -> T { return v; });
}

// f() -> std::optional<T> for every item; the first std::nullopt ends the
// stream (Rust's iter::from_fn).  f is not called again after that.
template <class F>
class FromFn : public StreamBase<FromFn<F>> {
public:
    using item_type = typename std::invoke_result_t<F&>::value_type;
    explicit FromFn(F f) : f_(std::move(f)) {}
    Poll<item_type> poll_next(Context& cx) {
        if (!coop_proceed(cx)) return Poll<item_type>::pending();
        if (done_) return Poll<item_type>::end();
        std::optional<item_type> v = std::invoke(f_);
        done_ = !v;
        return {true, std::move(v)};
    }
    void detach() noexcept {}

private:
    F f_;
    bool done_ = false;
};
template <class F>
FromFn<F> from_fn(F f) {
    return FromFn<F>(std::move(f));
}

namespace detail {
template <class X>
struct is_optional : std::false_type {};
template <class X>
struct is_optional<std::optional<X>> : std::true_type {};

template <class T, class St, class F>
Stream<T> unfold_async(St state, F f) {
    std::optional<St> st(std::move(state));
    for (;;) {
        auto r = co_await std::invoke(f, std::move(*st));
        if (!r) co_return;
        st.emplace(std::move(r->second));
        co_yield std::move(r->first);
    }
}

template <class St, class F>
class UnfoldSync : public StreamBase<UnfoldSync<St, F>> {
public:
    using item_type = typename std::invoke_result_t<F&, St&&>::value_type::first_type;
    UnfoldSync(St st, F f) : st_(std::move(st)), f_(std::move(f)) {}
    Poll<item_type> poll_next(Context& cx) {
        if (!coop_proceed(cx)) return Poll<item_type>::pending();
        if (!st_) return Poll<item_type>::end();
        // Taken out before f runs: an exception from f ends the stream, as
        // one from the async form's (a generator's) body does, instead of
        // leaving a moved-from state for the next poll to call f with.
        St st = std::move(*st_);
        st_.reset();
        auto r = std::invoke(f_, std::move(st));
        if (!r) return Poll<item_type>::end();
        st_.emplace(std::move(r->second));
        return {true, std::move(r->first)};
    }
    void detach() noexcept {}

private:
    std::optional<St> st_;
    F f_;
};
}  // namespace detail

// Items from a state: f(state) gives std::optional<std::pair<T, State>>
// (the item and the next state; std::nullopt ends the stream), either
// directly or as an awaitable (a Task): futures' stream::unfold.  An
// exception from f comes out of the poll that called it, and the stream
// has ended (the state went into that call).
//
//   auto pages = braid::stream::unfold(1, [](int page) -> braid::Task<std::optional<std::pair<Page, int>>> {
//       Page p = co_await fetch(page);
//       if (p.empty()) co_return std::nullopt;
//       co_return std::pair(std::move(p), page + 1);
//   });
template <class St, class F>
auto unfold(St state, F f) {
    using R = std::invoke_result_t<F&, St&&>;
    if constexpr (detail::is_optional<std::remove_cvref_t<R>>::value) {
        return detail::UnfoldSync<St, F>(std::move(state), std::move(f));
    } else {
        using O = std::remove_cvref_t<braid::detail::await_result_t<R>>;
        using T = typename O::value_type::first_type;
        return detail::unfold_async<T, St, F>(std::move(state), std::move(f));
    }
}

}  // namespace braid::stream
