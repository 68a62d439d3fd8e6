// braid::Stream<T>: an async generator.
//
//   braid::Stream<uint32_t> countdown(uint32_t from) {
//       for (uint32_t i = from + 1; i-- > 0;) { co_yield i; co_await braid::sleep(1s); }
//   }
//   auto s = countdown(3);
//   while (auto v = co_await s.next()) std::printf("%u\n", *v);
//
// The body may co_await anything a braid Task may (sleep, channels, select,
// other streams) and co_yield values.  It is lazy and runs only inside
// next() (or a combinator that polls it), up to its next co_yield: it never
// runs ahead of its consumer.  An exception that escapes the body is
// rethrown from next(); after that, and after the body returned, next()
// gives std::nullopt.  Destroying the Stream destroys the frame at its
// suspension point, running every destructor (cancellation is destruction).
//
// Cancel-safe: a next() cancelled while the body waits destroys nothing of
// the body; it stays where it was and goes on at the next next().
//
// Cooperative budget: resuming a body that can run at once (it is at a
// co_yield) takes a unit of the consuming task's budget, as any ready
// operation does (coop_proceed in core.hpp); a body that yields forever
// without awaiting therefore lets the other tasks on its worker run.
//
// Driven (fold, collect, count, any, all, for_each; stream::drive in
// core.hpp): the body's co_yield hands the item to the consumer's sink
// (through the combinators in between) and the body goes on at once when
// the consumer wants more: one call per item, no suspension.  Still lazy:
// the consumer has taken each item before the body goes past its co_yield,
// and the body stops at the co_yield of the last item the consumer takes.
// An exception the consumer's code throws comes out of the consumer's
// await, never inside the body.
//
// Any other stream converts to a Stream<T> (boxing: one generator frame),
// which gives pipelines a nameable type: Stream<int> s = iter(v) | map(f);
// A boxed stream's size_hint() is the one of the stream inside; a
// generator's own body says nothing (SizeHint::unknown(), and exactly 0
// once it finished).
#pragma once

#include <braid/detail/context.hpp>
#include <braid/detail/stream_relay.hpp>
#include <braid/error.hpp>
#include <braid/stream/core.hpp>

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace braid {

template <class T>
class Stream;

namespace stream::detail {

// The first parameter of the generator that boxes a stream (Stream<T>'s
// converting constructor): its promise keeps the boxed stream's size_hint.
struct BoxTag {};

template <class T>
struct StreamPromise : braid::detail::PromiseBase {
    // A consumer driving the body (Stream::drive): its sink, called from
    // yield_value, with the consumer's context current (its task-locals,
    // its budget); what stopped the drive.  Lives on the drive's stack
    // while the body runs.
    struct PushTarget {
        bool (*fn)(PushTarget*, T&&) noexcept;
        void* sink;
        braid::detail::Context* cx;
        bool stopped = false;    // the sink returned false
        std::exception_ptr exc;  // the sink threw
    };
    template <class Sink>
    static bool push_to(PushTarget* t, T&& v) noexcept {
        try {
            braid::detail::ContextScope scope(t->cx);
            if ((*static_cast<Sink*>(t->sink))(std::move(v))) return true;
            t->stopped = true;
        } catch (...) {
            t->exc = std::current_exception();
        }
        return false;
    }

    braid::detail::WakeRelay relay;
    PushTarget* push = nullptr;  // set while a drive runs the body
    braid::detail::LocalFrame* installed_locals = nullptr;  // the consumer's task-locals we last installed
    std::optional<T> item;
    std::exception_ptr exc;
    // The boxed stream (a parameter in the frame) and how to ask its hint.
    const void* boxed = nullptr;
    SizeHint (*boxed_hint)(const void*) = nullptr;

    StreamPromise() noexcept { this->ctx = &relay.ctx; }
    // Any generator's parameters (the promise sees them, and ignores them)...
    template <class... A>
    explicit StreamPromise(A&...) noexcept : StreamPromise() {}
    // ...but those of a box: the stream it boxes, there for size_hint.
    template <class S>
    StreamPromise(BoxTag&, S& s) noexcept : StreamPromise() {
        boxed = &s;
        boxed_hint = [](const void* p) { return stream::size_hint(*static_cast<const S*>(p)); };
    }

    Stream<T> get_return_object() noexcept;
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }

    struct YieldAwaiter {
        bool go_on;  // the item went to a driving consumer, which wants more: no suspension
        bool await_ready() const noexcept { return go_on; }
        void await_suspend(std::coroutine_handle<StreamPromise> h) noexcept {
            h.promise().relay.ctx.resume_point = h;  // the next poll resumes right here
        }
        void await_resume() const noexcept {}
    };
    // `co_yield v;` (also `co_yield {a, b};` for a T built from a braced list)
    template <class U = T>
        requires std::constructible_from<T, U&&>
    YieldAwaiter yield_value(U&& v) {
        if (PushTarget* t = push) {
            // Driven: the item goes to the sink now and the body goes on,
            // after a unit of the budget (as a poll that resumes the body
            // takes).  With the budget used up (cx was woken) it waits in
            // `item` for the next poll or drive, as a plain yield's does.
            if (stream::coop_proceed(*t->cx)) {
                if constexpr (std::is_same_v<U, T>) {
                    return {t->fn(t, std::move(v))};
                } else {
                    T value(std::forward<U>(v));
                    return {t->fn(t, std::move(value))};
                }
            }
        }
        item.emplace(std::forward<U>(v));
        return {false};
    }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { exc = std::current_exception(); }
};

}  // namespace stream::detail

template <class T>
class [[nodiscard]] Stream : public stream::StreamBase<Stream<T>> {
    static_assert(!std::is_reference_v<T> && !std::is_void_v<T>, "Stream<T>: T must be an object type");

public:
    using promise_type = stream::detail::StreamPromise<T>;
    using handle_type = std::coroutine_handle<promise_type>;
    using item_type = T;

    Stream() noexcept = default;
    explicit Stream(handle_type h) noexcept : h_(h) { h.promise().relay.ctx.resume_point = h; }
    Stream(Stream&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    Stream& operator=(Stream&& o) noexcept {
        if (this != &o) {
            reset();
            h_ = std::exchange(o.h_, {});
        }
        return *this;
    }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    ~Stream() { reset(); }

    // Boxes any other stream of T.
    template <class S>
        requires(!std::is_same_v<std::remove_cvref_t<S>, Stream> && stream::StreamShape<S> &&
                 std::is_same_v<typename S::item_type, T>)
    Stream(S s) : Stream(box(stream::detail::BoxTag{}, std::move(s))) {}

    bool valid() const noexcept { return bool(h_); }
    // The body returned or threw.
    bool done() const noexcept { return h_ && h_.done(); }

    // The stream protocol (core.hpp).  The common case (the body was
    // suspended at a co_yield and yields again without waiting) is inline;
    // everything else goes through poll_slow.
    stream::Poll<T> poll_next(braid::detail::Context& cx) {
        if (!h_ || h_.done()) return poll_slow(cx);
        promise_type& p = h_.promise();
        braid::detail::Context& g = p.relay.ctx;
        if (!at_yield(p, cx)) return poll_slow(cx);
        if (!stream::coop_proceed(cx)) return stream::Poll<T>::pending();  // budget used up: yield
        g.coop = cx.coop;  // the body's sources take from the consumer's budget
        {
            braid::detail::ContextScope scope(&g);
            g.resume();
        }
        if (p.item) {
            // (the value alone, not the whole optional: a wide load right
            // after the body's narrow stores would stall store forwarding)
            stream::Poll<T> r{true, std::optional<T>(std::in_place, std::move(*p.item))};
            p.item.reset();
            return r;
        }
        return after_resume(cx);
    }
    // Drives the body (core.hpp): while it can run at once it hands each
    // item from its co_yield to sink and goes on without suspending; in any
    // other state (waiting, task-locals to install, an item in hand) one
    // item goes through poll_next first.
    template <class Sink>
    stream::Drive drive(braid::detail::Context& cx, Sink& sink) {
        using Target = typename promise_type::PushTarget;
        for (;;) {
            if (h_ && !h_.done()) {
                promise_type& p = h_.promise();
                braid::detail::Context& g = p.relay.ctx;
                if (at_yield(p, cx)) {
                    Target t{&promise_type::template push_to<Sink>, &sink, &cx, false, nullptr};
                    p.push = &t;
                    g.coop = cx.coop;  // the body's sources take from the consumer's budget
                    {
                        braid::detail::ContextScope scope(&g);
                        g.resume();
                    }
                    p.push = nullptr;
                    // The sink stopped or threw: the body waits at that co_yield.
                    if (t.exc) std::rethrow_exception(std::move(t.exc));
                    if (t.stopped) return stream::Drive::Stopped;
                    if (p.item) return stream::Drive::Pending;  // the budget ran out at a co_yield (cx woken)
                    stream::Poll<T> r = after_resume(cx);  // the body ended, threw or waits
                    return r.ready ? stream::Drive::End : stream::Drive::Pending;
                }
            }
            stream::Poll<T> r = poll_next(cx);
            if (!r.item) return r.ready ? stream::Drive::End : stream::Drive::Pending;
            if (!sink(std::move(*r.item))) return stream::Drive::Stopped;
        }
    }
    void detach() noexcept {
        if (h_) h_.promise().relay.detach();
    }
    // A boxed stream's hint; nothing known of a generator's body; none left
    // once it finished.
    stream::SizeHint size_hint() const {
        if (!h_ || h_.done()) return stream::SizeHint::exactly(0);
        const promise_type& p = h_.promise();
        return p.boxed_hint ? p.boxed_hint(p.boxed) : stream::SizeHint::unknown();
    }

    // For drivers that own the frame themselves.
    handle_type release() noexcept { return std::exchange(h_, {}); }

private:
    // The common case of poll_next and drive: the body (not finished) is at
    // a co_yield, or has not started, with no item in hand, and sees cx's
    // task-locals already: it may run at once.
    static bool at_yield(promise_type& p, const braid::detail::Context& cx) {
        const braid::detail::Context& g = p.relay.ctx;
        return !g.leaf_ready && !p.relay.attached() && g.locals == cx.locals && !p.item;
    }
    [[gnu::noinline]] stream::Poll<T> poll_slow(braid::detail::Context& cx) {
        if (!h_) throw Error(BRAID_EINVAL, "polling an empty or moved-from Stream");
        if (h_.done()) return stream::coop_proceed(cx) ? stream::Poll<T>::end() : stream::Poll<T>::pending();
        promise_type& p = h_.promise();
        braid::detail::Context& g = p.relay.ctx;
        if (p.item) {
            // An item a drive's budget stopped at: the body waits at its
            // co_yield.  It takes its unit of the budget now.
            if (!stream::coop_proceed(cx)) return stream::Poll<T>::pending();
            p.relay.detach();
            stream::Poll<T> r{true, std::optional<T>(std::in_place, std::move(*p.item))};
            p.item.reset();
            return r;
        }
        // The body runs in the consumer's task: it sees the consumer's
        // task-local values, unless it is inside a scope of its own.
        if (g.locals == p.installed_locals) g.locals = p.installed_locals = cx.locals;
        g.coop = cx.coop;
        if (!g.leaf_ready) {
            // The body runs at once (it is at a co_yield, has not started,
            // or yielded its worker): a step ready at once takes a unit of
            // the budget.  (After a wait, the leaf it waited on took it.)
            if (!stream::coop_proceed(cx)) {
                p.relay.detach();  // cx was woken; nothing waits on the relay
                return stream::Poll<T>::pending();
            }
        } else if (!g.ready()) {
            p.relay.attach(cx);
            return stream::Poll<T>::pending();
        }
        {
            braid::detail::ContextScope scope(&g);
            g.resume();
        }
        if (p.item) {
            p.relay.detach();
            stream::Poll<T> r{true, std::optional<T>(std::in_place, std::move(*p.item))};
            p.item.reset();
            return r;
        }
        return after_resume(cx);
    }
    // The body did not yield: it ended, threw, or waits.
    [[gnu::noinline]] stream::Poll<T> after_resume(braid::detail::Context& cx) {
        promise_type& p = h_.promise();
        if (h_.done()) {
            p.relay.detach();
            if (p.exc) std::rethrow_exception(std::exchange(p.exc, nullptr));
            return stream::Poll<T>::end();
        }
        p.relay.attach(cx);
        return stream::Poll<T>::pending();
    }

    template <class S>
    static Stream box(stream::detail::BoxTag, S s) {
        while (auto v = co_await s.next()) co_yield std::move(*v);
    }
    void reset() noexcept {
        if (h_) std::exchange(h_, {}).destroy();
    }

    handle_type h_;
};

template <class T>
Stream<T> stream::detail::StreamPromise<T>::get_return_object() noexcept {
    return Stream<T>(std::coroutine_handle<StreamPromise>::from_promise(*this));
}

namespace stream {

// `s | boxed()`: the pipeline as a Stream<T> (a nameable type, at the cost
// of one generator frame; a Stream stays itself).
inline auto boxed() {
    return detail::adaptor([]<AsyncStream S>(S s) { return Stream<typename S::item_type>(std::move(s)); });
}

}  // namespace stream

}  // namespace braid
