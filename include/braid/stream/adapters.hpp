// Combinators that transform one stream (or join two): map, then, filter,
// filter_map, take, take_while, take_until, skip, skip_while, enumerate,
// fuse, peekable, chain, zip, chunks, inspect, scan, flatten, flat_map.
//
//   auto s = braid::stream::iter(v)
//          | braid::stream::map([](int x) { return x * 3; })
//          | braid::stream::filter([](const int& x) { return x % 2 == 0; })
//          | braid::stream::take(10);
//
// Each is a small struct around the stream it wraps (no allocation, no
// coroutine: the whole chain inlines into the consumer's poll loop; map,
// filter, filter_map, inspect and take also pass a consumer's drive on,
// core.hpp), except
// `then` and `take_until`, whose awaitables are awaited inside a generator.
// Each says how many items it has left (size_hint(), core.hpp) from what
// the streams it wraps say.  Closures get
// items by value (map, then, filter_map, inspect get T&&) or by const
// reference (the predicates: filter, take_while, skip_while).
#pragma once

#include <braid/detail/branch.hpp>
#include <braid/error.hpp>
#include <braid/stream/core.hpp>
#include <braid/stream/generator.hpp>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace braid::stream {

using braid::detail::Context;

// ---- map ------------------------------------------------------------------------

template <AsyncStream S, class F>
class Map : public StreamBase<Map<S, F>> {
public:
    using item_type = std::remove_cvref_t<std::invoke_result_t<F&, item_t<S>&&>>;
    static_assert(!std::is_void_v<item_type>, "map: the function must return a value (inspect() for side effects)");
    Map(S s, F f) : s_(std::move(s)), f_(std::move(f)) {}
    Poll<item_type> poll_next(Context& cx) {
        Poll<item_t<S>> p = s_.poll_next(cx);
        if (!p.item) return {p.ready, std::nullopt};
        return {true, std::invoke(f_, std::move(*p.item))};
    }
    template <class Sink>
    Drive drive(Context& cx, Sink& sink) {
        auto mapped = [&](item_t<S>&& v) -> bool { return sink(item_type(std::invoke(f_, std::move(v)))); };
        return stream::drive(s_, cx, mapped);
    }
    void detach() noexcept { s_.detach(); }
    SizeHint size_hint() const { return stream::size_hint(s_); }

private:
    S s_;
    F f_;
};
// `s | map(f)`: f(item) for every item.
template <class F>
auto map(F f) {
    return detail::adaptor([f = std::move(f)]<AsyncStream S>(S s) mutable { return Map<S, F>(std::move(s), std::move(f)); });
}

// ---- inspect ------------------------------------------------------------------------

template <AsyncStream S, class F>
class Inspect : public StreamBase<Inspect<S, F>> {
public:
    using item_type = item_t<S>;
    Inspect(S s, F f) : s_(std::move(s)), f_(std::move(f)) {}
    Poll<item_type> poll_next(Context& cx) {
        Poll<item_type> p = s_.poll_next(cx);
        if (p.item) std::invoke(f_, std::as_const(*p.item));
        return p;
    }
    template <class Sink>
    Drive drive(Context& cx, Sink& sink) {
        auto seen = [&](item_type&& v) -> bool {
            std::invoke(f_, std::as_const(v));
            return sink(std::move(v));
        };
        return stream::drive(s_, cx, seen);
    }
    void detach() noexcept { s_.detach(); }
    SizeHint size_hint() const { return stream::size_hint(s_); }

private:
    S s_;
    F f_;
};
// `s | inspect(f)`: calls f(const item&) and passes the item on.
template <class F>
auto inspect(F f) {
    return detail::adaptor(
        [f = std::move(f)]<AsyncStream S>(S s) mutable { return Inspect<S, F>(std::move(s), std::move(f)); });
}

// ---- then (async map) ------------------------------------------------------------

namespace detail {
template <class R, class S, class F>
Stream<R> then_gen(S s, F f) {
    while (auto v = co_await s.next()) co_yield co_await std::invoke(f, std::move(*v));
}
}  // namespace detail

// `s | then(f)`: f(item) returns an awaitable (a Task); its result is the
// item.  One at a time, in order (buffered(n) runs several at once).
template <class F>
auto then(F f) {
    return detail::adaptor([f = std::move(f)]<AsyncStream S>(S s) mutable {
        using A = std::invoke_result_t<F&, item_t<S>&&>;
        using R = std::remove_cvref_t<braid::detail::await_result_t<A>>;
        static_assert(!std::is_void_v<R>, "then: the awaitable must produce a value");
        return detail::then_gen<R>(std::move(s), std::move(f));
    });
}

// ---- filter, filter_map --------------------------------------------------------------

template <AsyncStream S, class F>
class Filter : public StreamBase<Filter<S, F>> {
public:
    using item_type = item_t<S>;
    Filter(S s, F f) : s_(std::move(s)), f_(std::move(f)) {}
    Poll<item_type> poll_next(Context& cx) {
        for (;;) {
            Poll<item_type> p = s_.poll_next(cx);
            if (!p.item || std::invoke(f_, std::as_const(*p.item))) return p;
        }
    }
    template <class Sink>
    Drive drive(Context& cx, Sink& sink) {
        auto kept = [&](item_type&& v) -> bool { return !std::invoke(f_, std::as_const(v)) || sink(std::move(v)); };
        return stream::drive(s_, cx, kept);
    }
    void detach() noexcept { s_.detach(); }
    SizeHint size_hint() const { return detail::at_most(stream::size_hint(s_)); }

private:
    S s_;
    F f_;
};
// `s | filter(pred)`: the items for which pred(const item&) is true.
template <class F>
auto filter(F f) {
    return detail::adaptor(
        [f = std::move(f)]<AsyncStream S>(S s) mutable { return Filter<S, F>(std::move(s), std::move(f)); });
}

template <AsyncStream S, class F>
class FilterMap : public StreamBase<FilterMap<S, F>> {
public:
    using item_type = typename std::remove_cvref_t<std::invoke_result_t<F&, item_t<S>&&>>::value_type;
    FilterMap(S s, F f) : s_(std::move(s)), f_(std::move(f)) {}
    Poll<item_type> poll_next(Context& cx) {
        for (;;) {
            Poll<item_t<S>> p = s_.poll_next(cx);
            if (!p.item) return {p.ready, std::nullopt};
            std::optional<item_type> v = std::invoke(f_, std::move(*p.item));
            if (v) return {true, std::move(v)};
        }
    }
    template <class Sink>
    Drive drive(Context& cx, Sink& sink) {
        auto kept = [&](item_t<S>&& v) -> bool {
            std::optional<item_type> o = std::invoke(f_, std::move(v));
            return !o || sink(std::move(*o));
        };
        return stream::drive(s_, cx, kept);
    }
    void detach() noexcept { s_.detach(); }
    SizeHint size_hint() const { return detail::at_most(stream::size_hint(s_)); }

private:
    S s_;
    F f_;
};
// `s | filter_map(f)`: f(item) gives std::optional<U>; the values are the items.
template <class F>
auto filter_map(F f) {
    return detail::adaptor(
        [f = std::move(f)]<AsyncStream S>(S s) mutable { return FilterMap<S, F>(std::move(s), std::move(f)); });
}

// ---- take, take_while, skip, skip_while -----------------------------------------------

template <AsyncStream S>
class Take : public StreamBase<Take<S>> {
public:
    using item_type = item_t<S>;
    Take(S s, std::size_t n) : s_(std::move(s)), left_(n) {}
    Poll<item_type> poll_next(Context& cx) {
        if (left_ == 0) return Poll<item_type>::end();
        Poll<item_type> p = s_.poll_next(cx);
        if (p.item) --left_;
        else if (p.ready) left_ = 0;
        return p;
    }
    template <class Sink>
    Drive drive(Context& cx, Sink& sink) {
        if (left_ == 0) return Drive::End;
        // The nth item stops the inner stream: it is not polled after it.
        auto counted = [&](item_type&& v) -> bool {
            --left_;
            return sink(std::move(v)) && left_ > 0;
        };
        Drive d = stream::drive(s_, cx, counted);
        if (d == Drive::End) left_ = 0;
        return d == Drive::Stopped && left_ == 0 ? Drive::End : d;
    }
    void detach() noexcept { s_.detach(); }
    SizeHint size_hint() const {
        if (left_ == 0) return SizeHint::exactly(0);
        SizeHint h = stream::size_hint(s_);
        return {std::min(h.lower, left_), h.upper ? std::min(*h.upper, left_) : left_};
    }

private:
    S s_;
    std::size_t left_;
};
// `s | take(n)`: the first n items (the stream is not polled after the nth).
inline auto take(std::size_t n) {
    return detail::adaptor([n]<AsyncStream S>(S s) { return Take<S>(std::move(s), n); });
}

template <AsyncStream S, class F>
class TakeWhile : public StreamBase<TakeWhile<S, F>> {
public:
    using item_type = item_t<S>;
    TakeWhile(S s, F f) : s_(std::move(s)), f_(std::move(f)) {}
    Poll<item_type> poll_next(Context& cx) {
        if (done_) return Poll<item_type>::end();
        Poll<item_type> p = s_.poll_next(cx);
        if (p.ready && (!p.item || !std::invoke(f_, std::as_const(*p.item)))) {
            done_ = true;
            return Poll<item_type>::end();
        }
        return p;
    }
    void detach() noexcept { s_.detach(); }
    SizeHint size_hint() const { return done_ ? SizeHint::exactly(0) : detail::at_most(stream::size_hint(s_)); }

private:
    S s_;
    F f_;
    bool done_ = false;
};
// `s | take_while(pred)`: items until the first for which pred is false
// (that one is dropped, and the stream is not polled again).
template <class F>
auto take_while(F f) {
    return detail::adaptor(
        [f = std::move(f)]<AsyncStream S>(S s) mutable { return TakeWhile<S, F>(std::move(s), std::move(f)); });
}

template <AsyncStream S>
class Skip : public StreamBase<Skip<S>> {
public:
    using item_type = item_t<S>;
    Skip(S s, std::size_t n) : s_(std::move(s)), left_(n) {}
    Poll<item_type> poll_next(Context& cx) {
        for (;;) {
            Poll<item_type> p = s_.poll_next(cx);
            if (!p.item || left_ == 0) return p;
            --left_;
        }
    }
    void detach() noexcept { s_.detach(); }
    SizeHint size_hint() const {
        SizeHint h = stream::size_hint(s_);
        auto less = [this](std::size_t n) { return n > left_ ? n - left_ : 0; };
        return {less(h.lower), h.upper ? std::optional<std::size_t>(less(*h.upper)) : std::nullopt};
    }

private:
    S s_;
    std::size_t left_;
};
// `s | skip(n)`: all but the first n items.
inline auto skip(std::size_t n) {
    return detail::adaptor([n]<AsyncStream S>(S s) { return Skip<S>(std::move(s), n); });
}

template <AsyncStream S, class F>
class SkipWhile : public StreamBase<SkipWhile<S, F>> {
public:
    using item_type = item_t<S>;
    SkipWhile(S s, F f) : s_(std::move(s)), f_(std::move(f)) {}
    Poll<item_type> poll_next(Context& cx) {
        for (;;) {
            Poll<item_type> p = s_.poll_next(cx);
            if (!p.item || !skipping_) return p;
            if (!std::invoke(f_, std::as_const(*p.item))) {
                skipping_ = false;
                return p;
            }
        }
    }
    void detach() noexcept { s_.detach(); }
    SizeHint size_hint() const {
        SizeHint h = stream::size_hint(s_);
        return skipping_ ? detail::at_most(h) : h;
    }

private:
    S s_;
    F f_;
    bool skipping_ = true;
};
// `s | skip_while(pred)`: drops items while pred is true, then gives all.
template <class F>
auto skip_while(F f) {
    return detail::adaptor(
        [f = std::move(f)]<AsyncStream S>(S s) mutable { return SkipWhile<S, F>(std::move(s), std::move(f)); });
}

// ---- enumerate, fuse ------------------------------------------------------------------

template <AsyncStream S>
class Enumerate : public StreamBase<Enumerate<S>> {
public:
    using item_type = std::pair<std::size_t, item_t<S>>;
    explicit Enumerate(S s) : s_(std::move(s)) {}
    Poll<item_type> poll_next(Context& cx) {
        Poll<item_t<S>> p = s_.poll_next(cx);
        if (!p.item) return {p.ready, std::nullopt};
        return {true, item_type(i_++, std::move(*p.item))};
    }
    void detach() noexcept { s_.detach(); }
    SizeHint size_hint() const { return stream::size_hint(s_); }

private:
    S s_;
    std::size_t i_ = 0;
};
// `s | enumerate()`: (index, item) pairs, from 0.
inline auto enumerate() {
    return detail::adaptor([]<AsyncStream S>(S s) { return Enumerate<S>(std::move(s)); });
}

template <AsyncStream S>
class Fuse : public StreamBase<Fuse<S>> {
public:
    using item_type = item_t<S>;
    explicit Fuse(S s) : s_(std::move(s)) {}
    Poll<item_type> poll_next(Context& cx) {
        if (done_) return Poll<item_type>::end();
        Poll<item_type> p = s_.poll_next(cx);
        if (p.is_end()) done_ = true;
        return p;
    }
    void detach() noexcept { s_.detach(); }
    bool is_done() const noexcept { return done_; }
    SizeHint size_hint() const { return done_ ? SizeHint::exactly(0) : stream::size_hint(s_); }

private:
    S s_;
    bool done_ = false;
};
// `s | fuse()`: once the stream ended it is never polled again (every
// stream braid makes is fused already; this is for hand-written ones).
inline auto fuse() {
    return detail::adaptor([]<AsyncStream S>(S s) { return Fuse<S>(std::move(s)); });
}

// ---- peekable ---------------------------------------------------------------------------

template <AsyncStream S>
class Peekable : public StreamBase<Peekable<S>> {
public:
    using item_type = item_t<S>;
    explicit Peekable(S s) : s_(std::move(s)) {}

    Poll<item_type> poll_next(Context& cx) {
        if (peeked_) return {true, std::exchange(peeked_, std::nullopt)};
        if (ended_) return Poll<item_type>::end();
        Poll<item_type> p = s_.poll_next(cx);
        if (p.is_end()) ended_ = true;
        return p;
    }
    void detach() noexcept { s_.detach(); }
    SizeHint size_hint() const {
        SizeHint h = ended_ ? SizeHint::exactly(0) : stream::size_hint(s_);
        return peeked_ ? detail::add_hints(h, SizeHint::exactly(1)) : h;
    }

    class [[nodiscard]] Peek : public detail::PollAwaiter<Peek> {
    public:
        explicit Peek(Peekable& p) noexcept : p_(&p) {}
        Peek(Peek&& o) noexcept : detail::PollAwaiter<Peek>(std::move(o)), p_(o.p_) {}
        ~Peek() {
            if (this->waiting_) p_->s_.detach();
        }
        // The next item, left in place (nullptr at the end).
        item_type* await_resume() {
            this->done_waiting();
            return p_->peeked_ ? &*p_->peeked_ : nullptr;
        }
        bool step(Context& cx) {
            if (p_->peeked_ || p_->ended_) return true;
            Poll<item_type> p = p_->s_.poll_next(cx);
            if (!p.ready) return false;
            if (p.item) p_->peeked_ = std::move(p.item);
            else p_->ended_ = true;
            return true;
        }
        void detach_stream() noexcept { p_->s_.detach(); }

    private:
        Peekable* p_;
    };
    // co_await p.peek(): a pointer to the next item, which stays the next
    // item (nullptr at the end).  Cancel-safe.
    Peek peek() & { return Peek(*this); }

private:
    S s_;
    std::optional<item_type> peeked_;
    bool ended_ = false;
};
// `s | peekable()`: adds peek().
inline auto peekable() {
    return detail::adaptor([]<AsyncStream S>(S s) { return Peekable<S>(std::move(s)); });
}

// ---- chain, zip ---------------------------------------------------------------------------

template <AsyncStream A, AsyncStream B>
class Chain : public StreamBase<Chain<A, B>> {
public:
    using item_type = item_t<A>;
    static_assert(std::is_same_v<item_t<A>, item_t<B>>, "chain: both streams must have the same item type");
    Chain(A a, B b) : a_(std::move(a)), b_(std::move(b)) {}
    Poll<item_type> poll_next(Context& cx) {
        if (!first_done_) {
            Poll<item_type> p = a_.poll_next(cx);
            if (!p.is_end()) return p;
            first_done_ = true;
        }
        return b_.poll_next(cx);
    }
    void detach() noexcept {
        a_.detach();
        b_.detach();
    }
    SizeHint size_hint() const {
        SizeHint b = stream::size_hint(b_);
        return first_done_ ? b : detail::add_hints(stream::size_hint(a_), b);
    }

private:
    A a_;
    B b_;
    bool first_done_ = false;
};
// `a | chain(b)`: a's items, then b's.
template <AsyncStream B>
auto chain(B b) {
    return detail::adaptor([b = std::move(b)]<AsyncStream A>(A a) mutable { return Chain<A, B>(std::move(a), std::move(b)); });
}

template <AsyncStream A, AsyncStream B>
class Zip : public StreamBase<Zip<A, B>> {
public:
    using item_type = std::pair<item_t<A>, item_t<B>>;
    Zip(A a, B b) : a_(std::move(a)), b_(std::move(b)) {}
    Poll<item_type> poll_next(Context& cx) {
        if (done_) return Poll<item_type>::end();
        if (!left_) {
            Poll<item_t<A>> p = a_.poll_next(cx);
            if (!p.ready) return Poll<item_type>::pending();
            if (!p.item) return finish();
            left_ = std::move(p.item);
        }
        Poll<item_t<B>> q = b_.poll_next(cx);
        if (!q.ready) return Poll<item_type>::pending();  // a's item waits here
        if (!q.item) return finish();
        item_type out(std::move(*left_), std::move(*q.item));
        left_.reset();
        return {true, std::move(out)};
    }
    void detach() noexcept {
        a_.detach();
        b_.detach();
    }
    // The shorter of the two (a's item waiting here counts as a's).
    SizeHint size_hint() const {
        if (done_) return SizeHint::exactly(0);
        SizeHint a = stream::size_hint(a_);
        if (left_) a = detail::add_hints(a, SizeHint::exactly(1));
        SizeHint b = stream::size_hint(b_);
        SizeHint r{std::min(a.lower, b.lower), a.upper ? a.upper : b.upper};
        if (a.upper && b.upper) r.upper = std::min(*a.upper, *b.upper);
        return r;
    }

private:
    Poll<item_type> finish() {
        done_ = true;
        left_.reset();
        return Poll<item_type>::end();
    }
    A a_;
    B b_;
    std::optional<item_t<A>> left_;
    bool done_ = false;
};
// `a | zip(b)`: pairs (a item, b item); ends when either ends.
template <AsyncStream B>
auto zip(B b) {
    return detail::adaptor([b = std::move(b)]<AsyncStream A>(A a) mutable { return Zip<A, B>(std::move(a), std::move(b)); });
}

// ---- chunks --------------------------------------------------------------------------------

template <AsyncStream S>
class Chunks : public StreamBase<Chunks<S>> {
public:
    using item_type = std::vector<item_t<S>>;
    Chunks(S s, std::size_t n) : s_(std::move(s)), n_(n) {
        if (n == 0) throw Error(BRAID_EINVAL, "chunks: size must be at least 1");
    }
    Poll<item_type> poll_next(Context& cx) {
        for (;;) {
            Poll<item_t<S>> p = s_.poll_next(cx);
            if (!p.ready) return Poll<item_type>::pending();  // what was gathered stays
            if (!p.item) {
                if (buf_.empty()) return Poll<item_type>::end();
                return {true, std::exchange(buf_, {})};
            }
            if (buf_.empty()) buf_.reserve(n_);
            buf_.push_back(std::move(*p.item));
            if (buf_.size() == n_) return {true, std::exchange(buf_, {})};
        }
    }
    void detach() noexcept { s_.detach(); }
    SizeHint size_hint() const {
        SizeHint h = stream::size_hint(s_);
        auto chunks_of = [this](std::size_t items) {
            items = detail::saturating_add(items, buf_.size());
            return items / n_ + (items % n_ != 0);
        };
        return {chunks_of(h.lower), h.upper ? std::optional<std::size_t>(chunks_of(*h.upper)) : std::nullopt};
    }

private:
    S s_;
    std::size_t n_;
    item_type buf_;
};
// `s | chunks(n)`: vectors of n items (the last one may be shorter).
inline auto chunks(std::size_t n) {
    if (n == 0) throw Error(BRAID_EINVAL, "chunks: size must be at least 1");
    return detail::adaptor([n]<AsyncStream S>(S s) { return Chunks<S>(std::move(s), n); });
}

// ---- scan ------------------------------------------------------------------------------------

template <AsyncStream S, class St, class F>
class Scan : public StreamBase<Scan<S, St, F>> {
public:
    using item_type = typename std::remove_cvref_t<std::invoke_result_t<F&, St&, item_t<S>&&>>::value_type;
    Scan(S s, St st, F f) : s_(std::move(s)), st_(std::move(st)), f_(std::move(f)) {}
    Poll<item_type> poll_next(Context& cx) {
        if (done_) return Poll<item_type>::end();
        Poll<item_t<S>> p = s_.poll_next(cx);
        if (!p.item) {
            done_ = p.ready;
            return {p.ready, std::nullopt};
        }
        std::optional<item_type> v = std::invoke(f_, st_, std::move(*p.item));
        if (!v) done_ = true;  // the stream is not polled again
        return {true, std::move(v)};
    }
    void detach() noexcept { s_.detach(); }
    SizeHint size_hint() const { return done_ ? SizeHint::exactly(0) : detail::at_most(stream::size_hint(s_)); }

private:
    S s_;
    St st_;
    F f_;
    bool done_ = false;
};
// `s | scan(init, f)`: a running state (futures' scan, with a plain
// function): f(state&, item) updates the state and gives std::optional<U>;
// each value is an item, and the first std::nullopt ends the stream.
template <class St, class F>
auto scan(St init, F f) {
    return detail::adaptor([init = std::move(init), f = std::move(f)]<AsyncStream S>(S s) mutable {
        return Scan<S, St, F>(std::move(s), std::move(init), std::move(f));
    });
}

// ---- take_until ---------------------------------------------------------------------------

namespace detail {
// An awaitable as a stream of one item (true) once it completed.
template <class A>
Stream<bool> completion_of(A a) {
    co_await std::move(a);
    co_yield true;
}
}  // namespace detail

template <AsyncStream S>
class TakeUntil : public StreamBase<TakeUntil<S>> {
public:
    using item_type = item_t<S>;
    TakeUntil(S s, Stream<bool> stop) : s_(std::move(s)), stop_(std::move(stop)) {}
    Poll<item_type> poll_next(Context& cx) {
        if (done_) return Poll<item_type>::end();
        if (stop_.poll_next(cx).ready) {  // the awaitable completed (it is never polled again)
            stopped_ = done_ = true;
            s_.detach();
            return Poll<item_type>::end();
        }
        Poll<item_type> p = s_.poll_next(cx);
        if (p.ready) {
            stop_.detach();
            if (!p.item) done_ = true;
        }
        return p;
    }
    void detach() noexcept {
        s_.detach();
        stop_.detach();
    }
    // Whether the awaitable ended the stream (false when the stream ended
    // on its own first).
    bool is_stopped() const noexcept { return stopped_; }
    SizeHint size_hint() const { return done_ ? SizeHint::exactly(0) : detail::at_most(stream::size_hint(s_)); }

private:
    S s_;
    Stream<bool> stop_;
    bool done_ = false;
    bool stopped_ = false;
};
// `s | take_until(a)`: the items until the awaitable a (a Task, a sleep, a
// CancellationToken's cancelled() ...) completes (futures' take_until).  a
// runs inside the consumer's polls, from the first one; each poll looks at
// a first, so an item and a's completion ready together end the stream.
// What a returns is dropped; an exception from it is thrown from next().
template <class A>
auto take_until(A a) {
    return detail::adaptor([a = std::move(a)]<AsyncStream S>(S s) mutable {
        return TakeUntil<S>(std::move(s), detail::completion_of(std::move(a)));
    });
}

// ---- flatten, flat_map ------------------------------------------------------------------

template <AsyncStream S>
    requires AsyncStream<item_t<S>>
class Flatten : public StreamBase<Flatten<S>> {
public:
    using inner_type = item_t<S>;
    using item_type = item_t<inner_type>;
    explicit Flatten(S s) : s_(std::move(s)) {}
    Poll<item_type> poll_next(Context& cx) {
        for (;;) {
            if (inner_) {
                Poll<item_type> p = inner_->poll_next(cx);
                if (!p.is_end()) return p;
                inner_.reset();
            }
            if (done_) return Poll<item_type>::end();
            Poll<inner_type> q = s_.poll_next(cx);
            if (!q.ready) return Poll<item_type>::pending();
            if (!q.item) {
                done_ = true;
                return Poll<item_type>::end();
            }
            inner_.emplace(std::move(*q.item));
        }
    }
    void detach() noexcept {
        s_.detach();
        if (inner_) inner_->detach();
    }
    // At least what the stream in hand has left; a bound only once the
    // outer stream has nothing more to give.
    SizeHint size_hint() const {
        SizeHint in = inner_ ? stream::size_hint(*inner_) : SizeHint::exactly(0);
        SizeHint out = done_ ? SizeHint::exactly(0) : stream::size_hint(s_);
        return {in.lower, out.upper == std::size_t(0) ? in.upper : std::nullopt};
    }

private:
    S s_;
    std::optional<inner_type> inner_;
    bool done_ = false;
};
// `s | flatten()`: for a stream of streams, the items of each in turn.
inline auto flatten() {
    return detail::adaptor([]<AsyncStream S>(S s) { return Flatten<S>(std::move(s)); });
}
// `s | flat_map(f)`: f(item) gives a stream; its items, one stream after
// the other (map then flatten).
template <class F>
auto flat_map(F f) {
    return detail::adaptor([f = std::move(f)]<AsyncStream S>(S s) mutable {
        return Flatten<Map<S, F>>(Map<S, F>(std::move(s), std::move(f)));
    });
}

}  // namespace braid::stream
