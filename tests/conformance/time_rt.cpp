// Tokio's tests/time_rt.rs, ported: timers work on a multi-thread runtime
// and inside a current-thread runtime's block_on, a sleep polled by a task
// that keeps waking itself still fires (the timer is not starved), and a
// timeout around a receive that never comes elapses no earlier than its
// duration.  These cases run on the real clock, as Tokio's do: the 10ms
// timers are what is tested, never a synchronisation (the results travel
// through channels and join handles).
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>

#include "support.hpp"

namespace conformance_time_rt {

using namespace std::chrono_literals;

TEST_CASE("time_rt.timer_with_threaded_runtime") {
    braid::Runtime rt;  // multi-thread, the defaults
    auto [tx, rx] = braid::oneshot::channel<bool>();
    auto h = rt.spawn([](braid::oneshot::Sender<bool> tx) -> braid::Task<> {
        auto when = braid::Instant::now() + 10ms;
        co_await braid::sleep_until(when);
        EXPECT(braid::Instant::now() >= when);
        EXPECT(!tx.send(true).has_value());
    }(std::move(tx)));
    REQUIRE(rx.blocking_recv());
    rt.block_on([](braid::JoinHandle<void> h) -> braid::Task<> { co_await std::move(h); }(std::move(h)));
}

TEST_CASE("time_rt.timer_with_current_thread_scheduler") {
    auto rt = braid_test::current_thread_runtime();
    auto [tx, rx] = braid::oneshot::channel<bool>();
    rt.block_on([](braid::oneshot::Sender<bool> tx) -> braid::Task<> {
        auto when = braid::Instant::now() + 10ms;
        co_await braid::sleep_until(when);
        EXPECT(braid::Instant::now() >= when);
        EXPECT(!tx.send(true).has_value());
    }(std::move(tx)));
    REQUIRE(rx.blocking_recv());
}

namespace {
// Tokio's Starve: polls the sleep, and while it is pending counts and wakes
// its own task at once (wake_by_ref) before returning pending.
class Starve : public braid::detail::LeafAwaiter<Starve> {
public:
    explicit Starve(braid::Sleep s) : sleep_(std::move(s)) {}
    bool ready_now() const { return false; }
    int poll(braid_wake_fn w, void* d) {
        if (sleep_.poll(w, d) == 0) return 0;
        ++polls_;
        w(d);
        return BRAID_PENDING;
    }
    void unregister() noexcept { sleep_.unregister(); }
    uint64_t finish(int st) {
        if (st < 0) throw braid::Error(st, "starve");
        return polls_;
    }

private:
    braid::Sleep sleep_;
    uint64_t polls_ = 0;
};
}  // namespace

TEST_CASE("time_rt.starving") {
    braid_test::current_thread_runtime().block_on([]() -> braid::Task<> {
        auto when = braid::Instant::now() + 10ms;
        co_await Starve(braid::sleep_until(when));
        EXPECT(braid::Instant::now() >= when);
    }());
}

TEST_CASE("time_rt.timeout_value") {
    braid_test::current_thread_runtime().block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::oneshot::channel<int>();
        auto now = braid::Instant::now();
        auto dur = 10ms;
        auto res = co_await braid::timeout(dur, std::move(rx));
        EXPECT(!res.has_value());
        EXPECT(braid::Instant::now() >= now + dur);
    }());
}

}  // namespace conformance_time_rt
