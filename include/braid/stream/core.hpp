// What every braid stream shares: the poll protocol, the AsyncStream
// concept, next(), and the pipe operator that chains combinators.
//
// A stream is a value with
//   using item_type = T;
//   braid::stream::Poll<T> poll_next(braid::detail::Context& cx);
//   void detach() noexcept;
// and usually derives from braid::stream::StreamBase<Self>, which adds
//   co_await s.next()    ->  std::optional<T> (std::nullopt at the end)
//
// poll_next never blocks: it gives an item, the end, or "pending" after
// arranging for cx's waker to be called when polling again may make
// progress (Rust's Stream::poll_next).  Two rules make streams safe to use
// from select, timeout and from one task after another:
//   - A poll that returns ready (an item or the end) leaves no waker of cx
//     registered anywhere.
//   - After a pending poll, detach() removes every registration of cx's
//     waker; the awaiters call it when a wait is abandoned (a cancelled
//     next()).  Nothing else is undone: an item the stream had in hand, or
//     a generator suspended half-way, stays for the next poll.
// Nothing registers the address of a stream object, so streams may be moved
// between polls.  A source whose poll is ready at once takes a unit of the
// task's cooperative budget first (coop_proceed below): when the budget is
// used up it reports pending after waking cx, so a task draining an
// always-ready stream yields to the other tasks on its worker.
//
// A stream may also say how many items it has left (size_hint below), and
// may let a consumer drive it (drive below): the consumer hands it a sink
// and the stream gives it every item that is ready, without a poll per item.
//
// Combinators are applied with `|` (see docs/streams.md):
//   auto s = braid::stream::iter(v) | braid::stream::map(f) | braid::stream::filter(g);
//   int total = co_await (std::move(s) | braid::stream::fold(0, std::plus<>()));
#pragma once

#include <braid/detail/context.hpp>
#include <braid/error.hpp>
#include <braid/task.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace braid::stream {

// What poll_next gives: pending (ready == false), an item, or the end
// (ready with no item).
template <class T>
struct Poll {
    bool ready = false;
    std::optional<T> item;

    static Poll pending() noexcept { return Poll{}; }
    static Poll end() noexcept { return Poll{true, std::nullopt}; }
    bool is_pending() const noexcept { return !ready; }
    bool is_end() const noexcept { return ready && !item; }
};

// The shape of a stream, without asking whether it can be moved (which
// would make converting constructors recurse).
template <class S>
concept StreamShape = requires(S& s, braid::detail::Context& cx) {
    typename S::item_type;
    { s.poll_next(cx) } -> std::same_as<Poll<typename S::item_type>>;
    { s.detach() } noexcept;
};

template <class S>
concept AsyncStream = StreamShape<S> && std::move_constructible<S>;

template <class S>
using item_t = typename std::remove_cvref_t<S>::item_type;

// The cooperative budget (Tokio's coop, braid_coop_take in braid/task.h) for
// a stream step that is ready at once: takes one unit of the running task's
// budget and returns true, or, once the budget of this poll is used up,
// wakes cx and returns false: the stream then reports pending (changing
// nothing), the task yields, is queued behind the others, and the step is
// taken at its next poll.  Outside a task the budget is unlimited.
//
// Every source that can be ready at once calls it first thing in poll_next
// (iter, once, repeat..., a generator resuming its body; the C ABI's
// braid_stream_poll_next does the same for C streams), so a
// task draining an always-ready stream, whatever combinators and consumer
// sit on top, yields after the same budget of items as one awaiting ready
// channels.  A combinator does not charge again: one unit per item produced.
// A hand-written source that can be ready at once calls it too.
[[gnu::always_inline]] inline bool coop_proceed(braid::detail::Context& cx) {
    if (int* b = cx.coop) [[likely]] {  // the task's counter, inline (see Context::coop)
        if (*b > 0) [[likely]] {
            --*b;
            return true;
        }
        if (*b < 0) return true;
    } else if (braid_coop_take()) {
        return true;
    }
    if (cx.wake_fn) cx.wake_fn(cx.wake_data);
    return false;
}

// Whether the budget of the task polling through cx is used up: a source
// polled now reports pending whatever it has (merge and the time
// combinators look, so that a stream that spends the whole budget without
// giving an item cannot starve the streams or the deadline after it).
inline bool budget_used_up(const braid::detail::Context& cx) noexcept {
    const int* b = cx.coop ? cx.coop : braid_coop_counter();
    return *b == 0;
}

// ---- driving -------------------------------------------------------------------
//
// A consumer that treats every item the same way (fold, collect, count, any,
// all, for_each) drives the stream instead of polling it item by item:
//   Drive s.drive(cx, sink)      sink(item_type&&) -> bool (false: stop)
// gives sink every item that is ready, in order, until the stream ends
// (Drive::End), is pending (Drive::Pending: cx's waker arranged as by a
// pending poll_next), or sink returned false (Drive::Stopped: nothing after
// that item was taken from the stream).  drive(s, cx, sink) below uses the
// stream's drive() when it has one and polls otherwise; a stream's own
// drive() gives exactly the items, budget units, wake-ups and exceptions
// polling would.  The combinators that transform items one by one (map,
// filter, filter_map, inspect, take) pass drive on through their closures,
// and a generator hands each item from its co_yield straight to the sink
// without suspending (generator.hpp): one call per item instead of a
// suspend and a resume.  A sink that throws ends the drive; the exception
// comes out of drive().
enum class Drive : unsigned char { Pending, End, Stopped };

template <class S, class Sink>
Drive drive(S& s, braid::detail::Context& cx, Sink& sink) {
    if constexpr (requires { { s.drive(cx, sink) } -> std::same_as<Drive>; }) {
        return s.drive(cx, sink);
    } else {
        for (;;) {
            Poll<typename S::item_type> p = s.poll_next(cx);
            if (!p.item) return p.ready ? Drive::End : Drive::Pending;
            if (!sink(std::move(*p.item))) return Drive::Stopped;
        }
    }
}

namespace detail {

using braid::detail::Context;

// Base of the awaiters that drive a stream (next(), fold(), peek() ...).
// Derived provides
//   bool step(Context&)          poll; true once finished (result stored)
//   void detach_stream() noexcept
// and calls done_waiting() first thing in await_resume.  A stream that
// throws ends the wait; the exception is rethrown from await_resume.
template <class Derived>
class PollAwaiter {
public:
    bool await_ready() const noexcept { return false; }

    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        Context& cx = *h.promise().ctx;
        if (run(cx)) return false;
        waiting_ = true;
        cx.wait_on(h, &PollAwaiter::repoll, this);
        return true;
    }

protected:
    PollAwaiter() = default;
    PollAwaiter(PollAwaiter&&) noexcept {}  // only before it is awaited
    PollAwaiter(const PollAwaiter&) = delete;

    // The wait is over (after a ready poll nothing is registered); rethrows
    // what the stream threw.  Called before anything else in await_resume,
    // so that a destructor skipped by g++ 12 (see docs/streams.md) has
    // nothing left to do.
    void done_waiting() {
        waiting_ = false;
        if (exc_) std::rethrow_exception(std::exchange(exc_, nullptr));
    }
    bool failed() const noexcept { return exc_ != nullptr; }

    bool waiting_ = false;

private:
    Derived& self() noexcept { return static_cast<Derived&>(*this); }
    bool run(Context& cx) noexcept {
        try {
            return self().step(cx);
        } catch (...) {
            exc_ = std::current_exception();
            self().detach_stream();
            return true;
        }
    }
    static bool repoll(void* p, Context& cx) { return static_cast<PollAwaiter*>(p)->run(cx); }

    std::exception_ptr exc_;
};

// co_await s.next()
template <class S>
class [[nodiscard]] Next : public PollAwaiter<Next<S>> {
public:
    using T = typename S::item_type;
    explicit Next(S& s) noexcept : s_(&s) {}
    Next(Next&& o) noexcept : PollAwaiter<Next<S>>(std::move(o)), s_(o.s_) {}
    // Cancelled while waiting: the stream forgets this consumer's waker and
    // keeps everything else (cancel-safe).
    ~Next() {
        if (this->waiting_) s_->detach();
    }

    std::optional<T> await_resume() {
        this->done_waiting();
        return std::move(item_);
    }

    bool step(Context& cx) {
        Poll<T> p = s_->poll_next(cx);
        if (!p.ready) return false;
        item_ = std::move(p.item);
        return true;
    }
    void detach_stream() noexcept { s_->detach(); }

private:
    S* s_;
    std::optional<T> item_;
};

// An adaptor: what `stream | adaptor` applies.
template <class F>
struct Adaptor {
    F fn;
};
template <class F>
Adaptor<F> adaptor(F fn) {
    return Adaptor<F>{std::move(fn)};
}

template <class S, class F>
    requires AsyncStream<std::remove_cvref_t<S>>
auto operator|(S&& s, Adaptor<F> a) {
    static_assert(!std::is_lvalue_reference_v<S>,
                  "braid::stream: pipe a stream by value (std::move(s) | ...), or borrow it with "
                  "braid::stream::by_ref(s) | ...");
    return std::move(a.fn)(std::remove_cvref_t<S>(std::move(s)));
}

}  // namespace detail

// Gives a stream type next().
template <class D>
class StreamBase {
public:
    // co_await s.next(): the next item, std::nullopt once the stream ended.
    // Cancel-safe: a next() cancelled while waiting (a select it lost, a
    // timeout) loses no item.  Not for two consumers at once.
    auto next() & { return detail::Next<D>(static_cast<D&>(*this)); }
};

// How many items a stream has left, as far as it knows (Rust's
// Stream::size_hint): at least `lower`, at most `upper` (std::nullopt: no
// bound known).  A hint, for reserving room: a stream may give fewer or
// more items than it said (a wrong hint is a bug of that stream, never
// undefined behaviour).
struct SizeHint {
    std::size_t lower = 0;
    std::optional<std::size_t> upper;
    friend bool operator==(const SizeHint&, const SizeHint&) = default;

    // Exactly n items.
    static SizeHint exactly(std::size_t n) noexcept { return {n, n}; }
    // Nothing known.
    static SizeHint unknown() noexcept { return {0, std::nullopt}; }
};

// braid::stream::size_hint(s): s.size_hint() when the stream has one, else
// SizeHint::unknown() (a hand-written stream need not say).
template <class S>
SizeHint size_hint(const S& s) {
    if constexpr (requires { { s.size_hint() } -> std::convertible_to<SizeHint>; }) return s.size_hint();
    else return SizeHint::unknown();
}

namespace detail {
inline std::size_t saturating_add(std::size_t a, std::size_t b) noexcept {
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}
// The hint of a and b one after the other (or merged): the lower bounds
// add up, saturating; the upper bound is lost when it overflows.
inline SizeHint add_hints(SizeHint a, SizeHint b) noexcept {
    SizeHint r{saturating_add(a.lower, b.lower), std::nullopt};
    if (a.upper && b.upper && *a.upper <= SIZE_MAX - *b.upper) r.upper = *a.upper + *b.upper;
    return r;
}
// Any number of the inner's items may be dropped (filter): at most its upper.
inline SizeHint at_most(SizeHint h) noexcept { return {0, h.upper}; }
}  // namespace detail

// Borrows a stream: `by_ref(s) | take(3)` consumes three items of s and
// leaves s usable.  s must outlive the result.
template <AsyncStream S>
class ByRef : public StreamBase<ByRef<S>> {
public:
    using item_type = typename S::item_type;
    explicit ByRef(S& s) noexcept : s_(&s) {}
    Poll<item_type> poll_next(braid::detail::Context& cx) { return s_->poll_next(cx); }
    template <class Sink>
    Drive drive(braid::detail::Context& cx, Sink& sink) {
        return stream::drive(*s_, cx, sink);
    }
    void detach() noexcept { s_->detach(); }
    SizeHint size_hint() const { return stream::size_hint(*s_); }

private:
    S* s_;
};

template <AsyncStream S>
ByRef<S> by_ref(S& s) noexcept {
    return ByRef<S>(s);
}

}  // namespace braid::stream
