// Time: Instant, sleep, sleep_until, Interval.  Durations are std::chrono;
// the clock is the runtime's (virtual under paused time).
//
// Durations too long for the clock saturate instead of wrapping: Instant
// arithmetic stops at Instant::far_future(), and sleep(hours::max()),
// timeout(Duration::max(), a) or an interval's tick past the end never
// come.  Under paused time (Runtime::Builder::start_paused) the clock jumps
// to the next timer whenever every worker is idle and no blocking job runs,
// until something runs; it never jumps to the far future.
#pragma once

#include <braid/detail/context.hpp>
#include <braid/error.hpp>
#include <braid/time.h>

#include <chrono>
#include <cstdint>
#include <ratio>
#include <type_traits>
#include <utility>

namespace braid {

using Duration = std::chrono::nanoseconds;

namespace detail {

// a + b and a - b, saturated to the int64_t range.
inline int64_t ns_add_sat(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}
inline int64_t ns_sub_sat(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r)) return b < 0 ? INT64_MAX : INT64_MIN;
    return r;
}

// Any std::chrono duration in nanoseconds, saturated to the int64_t range
// (std::chrono::duration_cast overflows instead).
template <class R, class P>
constexpr int64_t saturating_ns(std::chrono::duration<R, P> d) {
    using q = std::ratio_divide<P, std::nano>;
    if constexpr (std::is_floating_point_v<R>) {
        long double ns = static_cast<long double>(d.count()) * q::num / q::den;
        if (ns != ns) return 0;
        if (ns >= 9223372036854775807.0L) return INT64_MAX;
        if (ns <= -9223372036854775808.0L) return INT64_MIN;
        return static_cast<int64_t>(ns);
    } else if constexpr (q::den == 1) {  // as coarse as ns or coarser: a product
        constexpr int64_t lim = INT64_MAX / q::num;
        if (std::cmp_greater(d.count(), lim)) return INT64_MAX;
        if (std::cmp_less(d.count(), -lim)) return INT64_MIN;
        return static_cast<int64_t>(d.count()) * q::num;
    } else if constexpr (q::num == 1) {  // finer than ns: a quotient
        auto c = d.count() / q::den;
        if (std::cmp_greater(c, INT64_MAX)) return INT64_MAX;
        if (std::cmp_less(c, INT64_MIN)) return INT64_MIN;
        return static_cast<int64_t>(c);
    } else {
        return saturating_ns(std::chrono::duration<long double, P>(d));
    }
}

}  // namespace detail

// A point on the runtime's monotonic clock.  Arithmetic saturates: an
// instant too late for the clock is far_future(), which no clock reaches,
// so a sleep or timeout until it never completes (Tokio's far future).
class Instant {
public:
    constexpr Instant() = default;
    constexpr explicit Instant(int64_t ns) : ns_(ns) {}
    // Now, on the calling thread's runtime clock (paused-aware), or the real
    // monotonic clock outside runtimes.
    static Instant now() { return Instant(braid_now(nullptr)); }
    // The instant that never comes (INT64_MAX ns).
    static constexpr Instant far_future() { return Instant(INT64_MAX); }

    int64_t nanos() const { return ns_; }
    Duration elapsed() const { return now() - *this; }
    Duration duration_since(Instant earlier) const { return *this - earlier; }

    friend Duration operator-(Instant a, Instant b) { return Duration(detail::ns_sub_sat(a.ns_, b.ns_)); }
    template <class R, class P>
    friend Instant operator+(Instant a, std::chrono::duration<R, P> d) {
        return Instant(detail::ns_add_sat(a.ns_, detail::saturating_ns(d)));
    }
    template <class R, class P>
    friend Instant operator-(Instant a, std::chrono::duration<R, P> d) {
        return Instant(detail::ns_sub_sat(a.ns_, detail::saturating_ns(d)));
    }
    friend auto operator<=>(Instant, Instant) = default;

private:
    int64_t ns_ = 0;
};

// co_await: completes at the deadline.  The timer is registered only if the
// deadline has not passed when it is first awaited.
//
// A Sleep kept across the selects of a loop keeps its deadline and its timer
// (Tokio's `let sleep = sleep(d); pin!(sleep); loop { select! { _ = &mut
// sleep => .., .. } }`):
//
//   auto deadline = braid::sleep(5s);
//   for (;;) {
//       auto r = co_await braid::select(deadline, rx.recv());
//       if (r.index() == 0) break;            // 5s after the loop started
//       handle(std::get<1>(r));
//   }
class [[nodiscard]] Sleep : public detail::LeafAwaiter<Sleep> {
public:
    explicit Sleep(Instant deadline) : deadline_(deadline) {}
    Sleep(Sleep&& o) noexcept : deadline_(o.deadline_), t_(std::exchange(o.t_, nullptr)) {}
    Sleep(const Sleep&) = delete;
    ~Sleep() {
        if (t_) braid_timer_free(t_);  // a sleep that never waited has no timer: no call
    }

    Instant deadline() const { return deadline_; }
    bool is_elapsed() const { return Instant::now() >= deadline_; }
    // Moves the deadline (also while being awaited elsewhere is not allowed).
    void reset(Instant deadline) {
        deadline_ = deadline;
        if (t_) braid_timer_reset(t_, deadline.nanos());
    }

    // LeafAwaiter
    bool ready_now() const { return is_elapsed(); }
    int poll(braid_wake_fn w, void* d) {
        if (!t_) detail::check(braid_timer_new(&t_, nullptr, deadline_.nanos()), "sleep (not on a runtime thread?)");
        return braid_timer_poll_elapsed(t_, w, d);
    }
    // The same outside the cooperative budget (timeout's deadline).
    int poll_unconstrained(braid_wake_fn w, void* d) {
        if (!t_) detail::check(braid_timer_new(&t_, nullptr, deadline_.nanos()), "sleep (not on a runtime thread?)");
        return braid_timer_poll_unconstrained(t_, w, d);
    }
    // Drops the waker; the timer and its deadline stay.
    void unregister() noexcept {
        if (t_) braid_timer_poll_elapsed(t_, nullptr, nullptr);
    }
    // The timer is not needed once the sleep completed; it goes here rather
    // than in the destructor alone, because g++ 12 skips the destructor of a
    // temporary awaiter whose await_resume throws.
    void finish(int st) {
        braid_timer_free(std::exchange(t_, nullptr));
        if (st < 0) throw Error(st, "sleep");
    }

private:
    Instant deadline_;
    braid_timer* t_ = nullptr;
};

// Waits until `deadline` (at once if it has passed).
inline Sleep sleep_until(Instant deadline) { return Sleep(deadline); }

// Waits `d`.  A negative duration throws braid::Error(BRAID_EINVAL); one
// too long for the clock never completes.
template <class R, class P>
Sleep sleep(std::chrono::duration<R, P> d) {
    if (d < d.zero()) throw Error(BRAID_EINVAL, "sleep: negative duration");
    return Sleep(Instant::now() + d);
}

enum class MissedTickBehavior { Burst = BRAID_MISSED_TICK_BURST, Delay = BRAID_MISSED_TICK_DELAY, Skip = BRAID_MISSED_TICK_SKIP };

// Ticks at start, start + period, ...; tick() gives each tick's scheduled
// instant.  The first tick of interval(period) is immediate, as in Tokio.
class Interval {
public:
    Interval(Instant start, Duration period, MissedTickBehavior b = MissedTickBehavior::Burst) {
        if (period <= Duration::zero()) throw Error(BRAID_EINVAL, "interval: period must be positive");
        detail::check(braid_interval_new(&iv_, nullptr, start.nanos(), period.count(), int(b)),
                      "interval (not on a runtime thread?)");
    }
    Interval(Interval&& o) noexcept : iv_(std::exchange(o.iv_, nullptr)) {}
    Interval(const Interval&) = delete;
    ~Interval() { braid_interval_free(iv_); }

    class [[nodiscard]] Tick : public detail::LeafAwaiter<Tick> {
    public:
        explicit Tick(braid_interval* iv) : iv_(iv) {}
        // A tick cancelled while pending unregisters and consumes nothing.
        ~Tick() { unregister(); }
        // Drops the waker; no tick is consumed.
        void unregister() noexcept {
            if (registered_) braid_interval_poll_tick(iv_, nullptr, nullptr, nullptr);
            registered_ = false;
        }
        bool ready_now() const { return false; }
        int poll(braid_wake_fn w, void* d) {
            int rc = braid_interval_poll_tick(iv_, w, d, &tick_);
            registered_ = rc == BRAID_PENDING;  // a tick consumes the registration
            return rc;
        }
        Instant finish(int st) const {
            if (st < 0) throw Error(st, "interval tick");
            return Instant(tick_);
        }

    private:
        braid_interval* iv_;
        int64_t tick_ = 0;
        bool registered_ = false;
    };
    Tick tick() { return Tick(native()); }

    void set_missed_tick_behavior(MissedTickBehavior b) {
        detail::check(braid_interval_set_missed_tick_behavior(native(), int(b)), "interval");
    }
    // The next tick one period from now (Tokio's reset).
    void reset() { detail::check(braid_interval_reset(native()), "interval"); }
    // The next tick at `when`, then one period apart (Tokio's reset_at).
    void reset_at(Instant when) { detail::check(braid_interval_reset_at(native(), when.nanos()), "interval"); }
    // The next tick now (Tokio's reset_immediately).
    void reset_immediately() { reset_at(Instant::now()); }
    // The next tick after `d` (Tokio's reset_after).
    template <class R, class P>
    void reset_after(std::chrono::duration<R, P> d) {
        reset_at(Instant::now() + d);
    }
    Duration period() const { return Duration(braid_interval_period(iv_)); }

private:
    braid_interval* native() const {
        if (!iv_) throw Error(BRAID_EINVAL, "moved-from Interval");
        return iv_;
    }
    braid_interval* iv_ = nullptr;
};

// A period too long for the clock ticks once, at the start.
template <class R, class P>
Interval interval(std::chrono::duration<R, P> period) {
    return Interval(Instant::now(), Duration(detail::saturating_ns(period)));
}
template <class R, class P>
Interval interval_at(Instant start, std::chrono::duration<R, P> period) {
    return Interval(start, Duration(detail::saturating_ns(period)));
}

}  // namespace braid
