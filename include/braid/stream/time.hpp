// Time-based combinators: timeout (per item), throttle, chunks_timeout.
// They read the runtime's clock (paused time applies) and must be polled on
// a runtime thread.
//
//   auto batches = std::move(lines) | braid::stream::chunks_timeout(100, 50ms);
//   while (auto batch = co_await batches.next()) ship(*batch);   // full, or 50 ms after its first line
#pragma once

#include <braid/error.hpp>
#include <braid/stream/core.hpp>
#include <braid/time.h>
#include <braid/time.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace braid::stream {

using braid::detail::Context;

namespace detail {

inline int64_t to_ns(Duration d) { return d.count(); }
inline int64_t add_sat(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }

// One C timer that a combinator re-arms; registered with the consumer's
// waker only while the combinator is pending.
class StreamTimer {
public:
    StreamTimer() = default;
    StreamTimer(StreamTimer&& o) noexcept : t_(std::exchange(o.t_, nullptr)), registered_(std::exchange(o.registered_, false)) {}
    StreamTimer(const StreamTimer&) = delete;
    ~StreamTimer() { braid_timer_free(t_); }

    // True once `deadline` has passed; else cx's waker is registered
    // (replacing the previous registration) and false.  `unconstrained`:
    // outside the cooperative budget (see used_up_by).
    bool poll(int64_t deadline, Context& cx, bool unconstrained = false) {
        if (!t_) {
            if (braid_now(nullptr) >= deadline) return true;
            braid::detail::check(braid_timer_new(&t_, nullptr, deadline), "stream timer (not on a runtime thread?)");
        } else if (braid_timer_deadline(t_) != deadline) {
            braid_timer_reset(t_, deadline);
        }
        int rc = unconstrained ? braid_timer_poll_unconstrained(t_, cx.wake_fn, cx.wake_data)
                               : braid_timer_poll_elapsed(t_, cx.wake_fn, cx.wake_data);
        if (rc == BRAID_PENDING) {
            registered_ = true;
            return false;
        }
        unregister();
        if (rc < 0) throw Error(rc, "stream timer");
        return true;
    }
    void unregister() noexcept {
        if (registered_) {
            braid_timer_poll_elapsed(t_, nullptr, nullptr);
            registered_ = false;
        }
    }

private:
    braid_timer* t_ = nullptr;
    bool registered_ = false;
};

inline int64_t now_ns() { return braid_now(nullptr); }

// Whether the inner stream used the last of the budget in this poll (it had
// some before): then the combinator's own deadline is polled outside the
// budget, as braid::timeout does around an awaitable, or an inner stream
// that uses the budget up on every poll without giving an item would keep
// the deadline from ever being seen.
inline bool used_up_by(bool had_budget, const Context& cx) { return had_budget && budget_used_up(cx); }

}  // namespace detail

// An item of `s | timeout(d)`: the stream's item, or the news that d went
// by without one.
struct Elapsed {};
template <class T>
class TimeoutResult {
public:
    TimeoutResult(T v) : v_(std::move(v)) {}
    TimeoutResult(Elapsed) {}
    bool has_value() const noexcept { return v_.has_value(); }
    explicit operator bool() const noexcept { return has_value(); }
    bool is_elapsed() const noexcept { return !v_; }
    T& operator*() & { return *v_; }
    const T& operator*() const& { return *v_; }
    T&& operator*() && { return std::move(*v_); }
    T* operator->() { return &*v_; }
    const T* operator->() const { return &*v_; }
    T& value() & {
        if (!v_) throw Error(BRAID_ETIMEDOUT, "stream timeout: no item in time");
        return *v_;
    }
    const T& value() const& {
        if (!v_) throw Error(BRAID_ETIMEDOUT, "stream timeout: no item in time");
        return *v_;
    }

private:
    std::optional<T> v_;
};

template <AsyncStream S>
class Timeout : public StreamBase<Timeout<S>> {
public:
    using item_type = TimeoutResult<item_t<S>>;
    Timeout(S s, Duration d) : s_(std::move(s)), d_(detail::to_ns(d)) {}

    Poll<item_type> poll_next(Context& cx) {
        bool had_budget = !budget_used_up(cx);
        Poll<item_t<S>> p = s_.poll_next(cx);
        if (p.ready) {
            timer_.unregister();
            if (!p.item) return Poll<item_type>::end();
            armed_ = false;
            watching_ = true;
            return {true, item_type(std::move(*p.item))};
        }
        if (!watching_) return Poll<item_type>::pending();
        if (!armed_) {  // the clock for this item starts when it is first waited for
            deadline_ = detail::add_sat(detail::now_ns(), d_);
            armed_ = true;
        }
        if (!timer_.poll(deadline_, cx, detail::used_up_by(had_budget, cx))) return Poll<item_type>::pending();
        s_.detach();
        armed_ = false;
        watching_ = false;  // one Elapsed per silence; the stream is still polled
        return {true, item_type(Elapsed{})};
    }
    void detach() noexcept {
        s_.detach();
        timer_.unregister();
    }

private:
    S s_;
    int64_t d_;
    int64_t deadline_ = 0;
    bool armed_ = false;
    bool watching_ = true;
    detail::StreamTimer timer_;
};
// `s | timeout(d)`: every item must come within d of being waited for; if
// it does not, an Elapsed item comes first (once per silence: the next one
// only after another item), and the stream goes on (Tokio's
// StreamExt::timeout).
template <class R, class P>
auto timeout(std::chrono::duration<R, P> d) {
    if (d < d.zero()) throw Error(BRAID_EINVAL, "stream timeout: negative duration");
    Duration dd = std::chrono::duration_cast<Duration>(d);
    return detail::adaptor([dd]<AsyncStream S>(S s) { return Timeout<S>(std::move(s), dd); });
}

template <AsyncStream S>
class Throttle : public StreamBase<Throttle<S>> {
public:
    using item_type = item_t<S>;
    Throttle(S s, Duration d) : s_(std::move(s)), d_(detail::to_ns(d)) {}

    Poll<item_type> poll_next(Context& cx) {
        if (delayed_) {
            if (!timer_.poll(next_, cx)) return Poll<item_type>::pending();
            delayed_ = false;
        }
        Poll<item_type> p = s_.poll_next(cx);
        if (p.item && d_ > 0) {
            next_ = detail::add_sat(detail::now_ns(), d_);
            delayed_ = true;
        }
        return p;
    }
    void detach() noexcept {
        s_.detach();
        timer_.unregister();
    }

private:
    S s_;
    int64_t d_;
    int64_t next_ = 0;
    bool delayed_ = false;
    detail::StreamTimer timer_;
};
// `s | throttle(d)`: at most one item per d: after an item, the stream is
// not polled again until d has passed (the first item is not delayed).
template <class R, class P>
auto throttle(std::chrono::duration<R, P> d) {
    if (d < d.zero()) throw Error(BRAID_EINVAL, "throttle: negative duration");
    Duration dd = std::chrono::duration_cast<Duration>(d);
    return detail::adaptor([dd]<AsyncStream S>(S s) { return Throttle<S>(std::move(s), dd); });
}

template <AsyncStream S>
class ChunksTimeout : public StreamBase<ChunksTimeout<S>> {
public:
    using item_type = std::vector<item_t<S>>;
    ChunksTimeout(S s, std::size_t n, Duration d) : s_(std::move(s)), n_(n), d_(detail::to_ns(d)) {
        if (n == 0) throw Error(BRAID_EINVAL, "chunks_timeout: size must be at least 1");
    }

    Poll<item_type> poll_next(Context& cx) {
        bool had_budget = !budget_used_up(cx);
        for (;;) {
            Poll<item_t<S>> p = s_.poll_next(cx);
            if (!p.ready) break;
            if (!p.item) {
                timer_.unregister();
                if (buf_.empty()) return Poll<item_type>::end();
                return {true, std::exchange(buf_, {})};
            }
            if (buf_.empty()) {
                deadline_ = detail::add_sat(detail::now_ns(), d_);  // the batch's clock starts with its first item
                buf_.reserve(n_);
            }
            buf_.push_back(std::move(*p.item));
            if (buf_.size() == n_) {
                timer_.unregister();
                return {true, std::exchange(buf_, {})};
            }
        }
        if (buf_.empty() || !timer_.poll(deadline_, cx, detail::used_up_by(had_budget, cx)))
            return Poll<item_type>::pending();
        s_.detach();
        return {true, std::exchange(buf_, {})};
    }
    void detach() noexcept {
        s_.detach();
        timer_.unregister();
    }

private:
    S s_;
    std::size_t n_;
    int64_t d_;
    int64_t deadline_ = 0;
    item_type buf_;
    detail::StreamTimer timer_;
};
// `s | chunks_timeout(n, d)`: vectors of up to n items: one when n items
// are there, or when d has passed since the first item of the batch arrived
// (never an empty one); what is left when the stream ends (Tokio's
// StreamExt::chunks_timeout).
template <class R, class P>
auto chunks_timeout(std::size_t n, std::chrono::duration<R, P> d) {
    if (d < d.zero()) throw Error(BRAID_EINVAL, "chunks_timeout: negative duration");
    if (n == 0) throw Error(BRAID_EINVAL, "chunks_timeout: size must be at least 1");
    Duration dd = std::chrono::duration_cast<Duration>(d);
    return detail::adaptor([n, dd]<AsyncStream S>(S s) { return ChunksTimeout<S>(std::move(s), n, dd); });
}

}  // namespace braid::stream
