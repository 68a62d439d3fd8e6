// buffered(n) and buffer_unordered(n): a stream of awaitables (Tasks, say)
// run up to n at a time, concurrently, inside the consuming task (as
// branches, like join and select: no spawn).
//
//   auto pages = braid::stream::iter(urls)
//              | braid::stream::map([](std::string u) { return fetch(std::move(u)); })   // Task<Page>
//              | braid::stream::buffered(8);                                           // 8 fetches in flight
//
// buffered gives the results in the order of the stream; buffer_unordered
// as they finish (taking turns: a finished one is given after at most n - 1
// others, and one that spends the whole budget does not starve the rest).
// The source is asked for a new awaitable only when fewer
// than n are running.  An exception thrown by one of them is rethrown from
// next() (the stream then ends, and the others still running have been
// cancelled by then).  Void results are std::monostate.  Dropping the stream cancels
// (destroys) every awaitable still running.
//
//   co_await (std::move(jobs) | braid::stream::for_each_concurrent(4, [](Job j) { return run(std::move(j)); }));
//
// for_each_concurrent(n, f) runs f(item)'s awaitables up to n at a time, as
// they come, and completes when the stream ended and all of them finished
// (futures' for_each_concurrent); its result is how many ran.
#pragma once

#include <braid/detail/branch.hpp>
#include <braid/error.hpp>
#include <braid/stream/adapters.hpp>
#include <braid/stream/consumers.hpp>
#include <braid/stream/core.hpp>
#include <braid/stream/generator.hpp>

#include <cstddef>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace braid::stream {

namespace detail {

template <class S>
using awaited_t = typename braid::detail::task_of_t<item_t<S>>::value_type;

// The awaitables in flight, in fixed slots (a started Branch never moves).
template <AsyncStream S, bool Ordered>
class InFlight {
public:
    using V = awaited_t<S>;
    using R = braid::detail::value_or_monostate<V>;

    InFlight(S s, std::size_t n) : s_(std::move(s)), slots_(n) {}
    InFlight(const InFlight&) = delete;

    // Starts what may start, runs what was woken; true with a result in
    // `out`, or true with `out` empty at the end; false: pending.
    bool poll(Context& cx, std::optional<R>& out) {
        while (!src_done_ && count_ < slots_.size()) {
            Poll<item_t<S>> p = s_.poll_next(cx);
            if (!p.ready) break;
            if (!p.item) {
                src_done_ = true;
                break;
            }
            std::size_t i = Ordered ? (head_ + count_) % slots_.size() : free_slot();
            slots_[i].emplace(braid::detail::as_task(std::move(*p.item)));
            slots_[i]->start(&cx);
            ++count_;
        }
        // buffered: the head first, its result is the only one that may go.
        // buffer_unordered: from start_, which moves past each slot whose
        // result went (so a finished awaitable waits for at most n - 1
        // others, however fast they finish) and, after a poll that gave
        // nothing, to the first slot polled with the budget used up (so an
        // awaitable that spends the whole budget cannot starve the others).
        const std::size_t n = slots_.size(), first = Ordered ? head_ : start_;
        std::size_t ready = n, starved = n;
        for (std::size_t k = 0; k < n; ++k) {
            std::size_t i = (first + k) % n;
            if (!slots_[i]) continue;
            if (!Ordered && starved == n && budget_used_up(cx)) starved = i;
            if (slots_[i]->poll() && ready == n && (!Ordered || k == 0)) ready = i;
        }
        if (ready != n) {
            struct Free {  // the slot is emptied also when the result is an exception
                InFlight* self;
                std::size_t i;
                ~Free() {
                    self->slots_[i].reset();
                    --self->count_;
                    if (Ordered)
                        self->head_ = (self->head_ + 1) % self->slots_.size();
                    else
                        self->start_ = (i + 1) % self->slots_.size();
                }
            } free{this, ready};
            out.emplace(braid::detail::take_value(*slots_[ready]));
            return true;
        }
        if (starved != n) start_ = starved;
        return count_ == 0 && src_done_;
    }

private:
    std::size_t free_slot() const {
        for (std::size_t i = 0; i < slots_.size(); ++i)
            if (!slots_[i]) return i;
        return 0;  // not reached: count_ < size
    }

    S s_;
    std::vector<std::optional<braid::detail::Branch<V>>> slots_;
    std::size_t head_ = 0, start_ = 0, count_ = 0;
    bool src_done_ = false;
};

// co_await in the generator: the next result, or the end.
template <class F>
class [[nodiscard]] StepAwaiter {
public:
    using R = typename F::R;
    explicit StepAwaiter(F& f) : f_(&f) {}
    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        Context& cx = *h.promise().ctx;
        if (run(cx)) return false;
        cx.wait_on(h, &StepAwaiter::repoll, this);
        return true;
    }
    std::optional<R> await_resume() {
        if (exc_) std::rethrow_exception(std::exchange(exc_, nullptr));
        return std::move(out_);
    }

private:
    bool run(Context& cx) noexcept {
        try {
            return f_->poll(cx, out_);
        } catch (...) {
            exc_ = std::current_exception();
            return true;
        }
    }
    static bool repoll(void* p, Context& cx) { return static_cast<StepAwaiter*>(p)->run(cx); }
    F* f_;
    std::optional<R> out_;
    std::exception_ptr exc_;
};

template <bool Ordered, AsyncStream S>
Stream<typename InFlight<S, Ordered>::R> buffered_gen(S s, std::size_t n) {
    InFlight<S, Ordered> f(std::move(s), n);
    for (;;) {
        auto r = co_await StepAwaiter<InFlight<S, Ordered>>(f);
        if (!r) co_return;
        co_yield std::move(*r);
    }
}

}  // namespace detail

// `s | buffered(n)`: up to n of the stream's awaitables at once; results in
// stream order.
inline auto buffered(std::size_t n) {
    if (n == 0) throw Error(BRAID_EINVAL, "buffered: n must be at least 1");
    return detail::adaptor([n]<AsyncStream S>(S s) { return detail::buffered_gen<true>(std::move(s), n); });
}

// `s | buffer_unordered(n)`: up to n at once; results as they finish.
inline auto buffer_unordered(std::size_t n) {
    if (n == 0) throw Error(BRAID_EINVAL, "buffer_unordered: n must be at least 1");
    return detail::adaptor([n]<AsyncStream S>(S s) { return detail::buffered_gen<false>(std::move(s), n); });
}

// `s | for_each_concurrent(n, f)`: awaits f(item) for every item, up to n
// at once (n >= 1), inside the consuming task; the number of items.  The
// first exception is thrown from the co_await (those still running are
// cancelled).
template <class F>
auto for_each_concurrent(std::size_t n, F f) {
    if (n == 0) throw Error(BRAID_EINVAL, "for_each_concurrent: n must be at least 1");
    return detail::adaptor([n, f = std::move(f)]<AsyncStream S>(S s) mutable {
        return std::move(s) | map(std::move(f)) | buffer_unordered(n) | count();
    });
}

}  // namespace braid::stream
