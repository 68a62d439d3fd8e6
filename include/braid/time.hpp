// Time: Instant, sleep, sleep_until, Interval.  Durations are std::chrono;
// the clock is the runtime's (virtual under paused time).
#pragma once

#include <braid/detail/context.hpp>
#include <braid/error.hpp>
#include <braid/time.h>

#include <chrono>
#include <cstdint>
#include <utility>

namespace braid {

using Duration = std::chrono::nanoseconds;

// A point on the runtime's monotonic clock.
class Instant {
public:
    constexpr Instant() = default;
    constexpr explicit Instant(int64_t ns) : ns_(ns) {}
    // Now, on the calling thread's runtime clock (paused-aware), or the real
    // monotonic clock outside runtimes.
    static Instant now() { return Instant(braid_now(nullptr)); }

    int64_t nanos() const { return ns_; }
    Duration elapsed() const { return now() - *this; }
    Duration duration_since(Instant earlier) const { return *this - earlier; }

    friend Duration operator-(Instant a, Instant b) { return Duration(a.ns_ - b.ns_); }
    template <class R, class P>
    friend Instant operator+(Instant a, std::chrono::duration<R, P> d) {
        return Instant(a.ns_ + std::chrono::duration_cast<Duration>(d).count());
    }
    template <class R, class P>
    friend Instant operator-(Instant a, std::chrono::duration<R, P> d) {
        return Instant(a.ns_ - std::chrono::duration_cast<Duration>(d).count());
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
    ~Sleep() { braid_timer_free(t_); }

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
        return braid_timer_poll(t_, w, d);
    }
    // The same outside the cooperative budget (timeout's deadline).
    int poll_unconstrained(braid_wake_fn w, void* d) {
        if (!t_) detail::check(braid_timer_new(&t_, nullptr, deadline_.nanos()), "sleep (not on a runtime thread?)");
        return braid_timer_poll_unconstrained(t_, w, d);
    }
    // Drops the waker; the timer and its deadline stay.
    void unregister() noexcept {
        if (t_) braid_timer_poll(t_, nullptr, nullptr);
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

// Waits `d`.  A negative duration throws braid::Error(BRAID_EINVAL).
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
            if (status_ == BRAID_PENDING) braid_interval_poll_tick(iv_, nullptr, nullptr, nullptr);
        }
        bool ready_now() const { return false; }
        int poll(braid_wake_fn w, void* d) { return braid_interval_poll_tick(iv_, w, d, &tick_); }
        Instant finish(int st) const {
            if (st < 0) throw Error(st, "interval tick");
            return Instant(tick_);
        }

    private:
        braid_interval* iv_;
        int64_t tick_ = 0;
    };
    Tick tick() { return Tick(native()); }

    void set_missed_tick_behavior(MissedTickBehavior b) {
        detail::check(braid_interval_set_missed_tick_behavior(native(), int(b)), "interval");
    }
    void reset() { detail::check(braid_interval_reset(native()), "interval"); }
    Duration period() const { return Duration(braid_interval_period(iv_)); }

private:
    braid_interval* native() const {
        if (!iv_) throw Error(BRAID_EINVAL, "moved-from Interval");
        return iv_;
    }
    braid_interval* iv_ = nullptr;
};

template <class R, class P>
Interval interval(std::chrono::duration<R, P> period) {
    return Interval(Instant::now(), std::chrono::duration_cast<Duration>(period));
}
template <class R, class P>
Interval interval_at(Instant start, std::chrono::duration<R, P> period) {
    return Interval(start, std::chrono::duration_cast<Duration>(period));
}

}  // namespace braid
