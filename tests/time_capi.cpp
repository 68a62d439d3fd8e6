// Timers over the C ABI: what a waker may do (free, reset, create timers and
// intervals, also its own), saturated deadlines (the far future never
// fires), and paused time (braid_runtime_advance, auto-advance).
#include <catch2/catch.hpp>
#include <braid/braid.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "support.hpp"

namespace test_time_capi {

namespace {

constexpr int64_t kMs = 1000000;
constexpr int64_t kHour = 3600 * 1000 * kMs;

enum class Flavor { CurrentThread, MultiThread };

struct Rt {
    braid_runtime* rt = nullptr;
    Rt(Flavor f, bool paused, int workers = 2) {
        braid_runtime_builder* b = nullptr;
        REQUIRE(braid_runtime_builder_new(&b) == BRAID_OK);
        if (f == Flavor::CurrentThread) REQUIRE(braid_runtime_builder_current_thread(b) == BRAID_OK);
        else REQUIRE(braid_runtime_builder_worker_threads(b, workers) == BRAID_OK);
        REQUIRE(braid_runtime_builder_start_paused(b, paused ? 1 : 0) == BRAID_OK);
        REQUIRE(braid_runtime_build(&rt, b) == BRAID_OK);
        braid_runtime_builder_free(b);
    }
    ~Rt() { REQUIRE(braid_runtime_free(rt) == BRAID_OK); }
    Rt(const Rt&) = delete;
};

// A waker that only counts (and remembers the clock when it was called).
struct Count {
    std::atomic<int> calls{0};
    std::atomic<int64_t> at{0};
    braid_runtime* rt = nullptr;
    std::mutex mu;
    std::condition_variable cv;
    static void wake(void* p) {
        auto* c = static_cast<Count*>(p);
        if (c->rt) c->at.store(braid_now(c->rt));
        std::lock_guard<std::mutex> g(c->mu);
        c->calls.fetch_add(1);
        c->cv.notify_all();
    }
    // Waits for the first call; false when none came within the (real-time)
    // guard, which only turns a hang into a failure.
    bool wait_called(std::chrono::seconds guard = std::chrono::seconds(60)) {
        std::unique_lock<std::mutex> lk(mu);
        return cv.wait_for(lk, guard, [&] { return calls.load() > 0; });
    }
};

// A braid_callback that counts and keeps the last status.
struct Calls {
    std::atomic<int> n{0};
    std::atomic<int> last{1000};
    static void cb(void* p, int st) {
        auto* c = static_cast<Calls*>(p);
        c->last.store(st);
        c->n.fetch_add(1);
    }
};

// Runs `t` (a task of `r`) to completion on either flavour; a join that has
// not ended after `guard_ms` of real time (a hang) gives BRAID_ETIMEDOUT on
// the multi-thread flavour.
int finish(Rt& r, Flavor f, braid_task* t, int64_t guard_ms = 60000) {
    int rc = f == Flavor::CurrentThread ? braid_runtime_block_on(r.rt, t) : braid_task_join_blocking(t, guard_ms);
    braid_task_free(t);
    return rc;
}

// Runs `fn` in a task on a worker and waits for it.  Set-ups that register
// timers and start sleeps happen there: while a worker is busy the paused
// clock stays put, so every deadline is taken from the same instant.
void on_worker(Rt& r, Flavor f, std::function<void()> fn) {
    braid_task* t = nullptr;
    REQUIRE(braid_spawn(&t, r.rt, [](void* p) { (*static_cast<std::function<void()>*>(p))(); }, &fn) == BRAID_OK);
    REQUIRE(finish(r, f, t) == BRAID_OK);
}

}  // namespace

// ---- what a waker may do -------------------------------------------------------

TEST_CASE("time_capi.C: a timer's waker may free its own timer") {
    struct SelfFree {
        braid_timer* t = nullptr;
        std::atomic<int> calls{0};
        static void wake(void* p) {
            auto* s = static_cast<SelfFree*>(p);
            s->calls.fetch_add(1);
            braid_timer_free(s->t);  // used to deadlock: wakers ran under the driver's lock
        }
    };
    SECTION("fired by braid_runtime_advance on the calling thread") {
        Rt r(Flavor::CurrentThread, true);
        SelfFree s;
        REQUIRE(braid_timer_new(&s.t, r.rt, braid_now(r.rt) + 10 * kMs) == BRAID_OK);
        REQUIRE(braid_timer_poll_elapsed(s.t, &SelfFree::wake, &s) == BRAID_PENDING);
        REQUIRE(braid_runtime_advance(r.rt, 10 * kMs) == BRAID_OK);
        REQUIRE(s.calls.load() == 1);
    }
    SECTION("fired by the reactor thread (real time)") {
        Rt r(Flavor::MultiThread, false);
        SelfFree s;
        REQUIRE(braid_timer_new(&s.t, r.rt, braid_now(r.rt) + 1 * kMs) == BRAID_OK);
        REQUIRE(braid_timer_poll_elapsed(s.t, &SelfFree::wake, &s) == BRAID_PENDING);
        // The reactor calls the waker once; a second timer behind it proves
        // the reactor thread is still alive after that call.
        Count later;
        braid_timer* t2 = nullptr;
        REQUIRE(braid_timer_new(&t2, r.rt, braid_now(r.rt) + 2 * kMs) == BRAID_OK);
        REQUIRE(braid_timer_poll_elapsed(t2, &Count::wake, &later) == BRAID_PENDING);
        REQUIRE(later.wait_called());
        REQUIRE(s.calls.load() == 1);
        braid_timer_free(t2);
    }
}

TEST_CASE("time_capi.C: a waker may free another timer that is due in the same batch, that one is never called") {
    struct Pair {
        braid_timer* a = nullptr;
        braid_timer* b = nullptr;
        std::atomic<int> a_calls{0}, b_calls{0};
        static void wake_a(void* p) {
            auto* s = static_cast<Pair*>(p);
            s->a_calls.fetch_add(1);
            braid_timer_free(std::exchange(s->b, nullptr));
        }
        static void wake_b(void* p) { static_cast<Pair*>(p)->b_calls.fetch_add(1); }
    };
    Rt r(Flavor::CurrentThread, true);
    int64_t t0 = braid_now(r.rt);
    Pair s;
    // Same deadline (a registered first, so it fires first), and a later one
    // that the same advance makes due as well.
    int64_t b_at = GENERATE(10, 15);
    REQUIRE(braid_timer_new(&s.a, r.rt, t0 + 10 * kMs) == BRAID_OK);
    REQUIRE(braid_timer_new(&s.b, r.rt, t0 + b_at * kMs) == BRAID_OK);
    REQUIRE(braid_timer_poll_elapsed(s.a, &Pair::wake_a, &s) == BRAID_PENDING);
    REQUIRE(braid_timer_poll_elapsed(s.b, &Pair::wake_b, &s) == BRAID_PENDING);
    REQUIRE(braid_runtime_advance(r.rt, 20 * kMs) == BRAID_OK);
    REQUIRE(s.a_calls.load() == 1);
    REQUIRE(s.b_calls.load() == 0);
    REQUIRE(s.b == nullptr);
    braid_timer_free(s.a);
}

TEST_CASE("time_capi.C: a waker may reset its own timer and register again (a re-arming timer)") {
    struct Rearm {
        braid_timer* t = nullptr;
        braid_runtime* rt = nullptr;
        std::vector<int64_t> at;  // written only by the waker, read after the runtime is idle
        static void wake(void* p) {
            auto* s = static_cast<Rearm*>(p);
            s->at.push_back(braid_now(s->rt));
            if (s->at.size() == 5) return;
            EXPECT_ANYWHERE(braid_timer_reset(s->t, braid_timer_deadline(s->t) + 10 * kMs) == BRAID_OK);
            EXPECT_ANYWHERE(braid_timer_poll_elapsed(s->t, &Rearm::wake, s) == BRAID_PENDING);
        }
    };
    SECTION("driven by braid_runtime_advance") {
        Rt r(Flavor::CurrentThread, true);
        int64_t t0 = braid_now(r.rt);
        Rearm s;
        s.rt = r.rt;
        REQUIRE(braid_timer_new(&s.t, r.rt, t0 + 10 * kMs) == BRAID_OK);
        REQUIRE(braid_timer_poll_elapsed(s.t, &Rearm::wake, &s) == BRAID_PENDING);
        for (int i = 1; i <= 6; ++i) {
            REQUIRE(braid_runtime_advance(r.rt, 10 * kMs) == BRAID_OK);
            REQUIRE(s.at.size() == std::size_t(std::min(i, 5)));
        }
        REQUIRE(s.at == std::vector<int64_t>{t0 + 10 * kMs, t0 + 20 * kMs, t0 + 30 * kMs, t0 + 40 * kMs, t0 + 50 * kMs});
        braid_timer_free(s.t);
    }
    SECTION("driven by auto-advance, with a sleep pending behind it") {
        Flavor f = GENERATE(Flavor::CurrentThread, Flavor::MultiThread);
        Rt r(f, true);
        int64_t t0 = braid_now(r.rt);
        Rearm s;
        s.rt = r.rt;
        Calls done;
        braid_task* sl = nullptr;
        on_worker(r, f, [&] {
            EXPECT_ANYWHERE(braid_timer_new(&s.t, r.rt, t0 + 10 * kMs) == BRAID_OK);
            EXPECT_ANYWHERE(braid_timer_poll_elapsed(s.t, &Rearm::wake, &s) == BRAID_PENDING);
            EXPECT_ANYWHERE(braid_sleep(&sl, r.rt, 100, &Calls::cb, &done) == BRAID_OK);
        });
        REQUIRE(finish(r, f, sl) == BRAID_OK);
        REQUIRE(done.n.load() == 1);
        REQUIRE(braid_now(r.rt) - t0 == 100 * kMs);
        REQUIRE(s.at == std::vector<int64_t>{t0 + 10 * kMs, t0 + 20 * kMs, t0 + 30 * kMs, t0 + 40 * kMs, t0 + 50 * kMs});
        braid_timer_free(s.t);
    }
}

TEST_CASE("time_capi.C: a waker may create timers and intervals and register with them") {
    struct Maker {
        braid_runtime* rt = nullptr;
        braid_timer* t2 = nullptr;
        braid_interval* iv = nullptr;
        Count t2_wakes, iv_wakes;
        std::atomic<int> calls{0};
        static void wake(void* p) {
            auto* s = static_cast<Maker*>(p);
            s->calls.fetch_add(1);
            int64_t now = braid_now(s->rt);
            EXPECT_ANYWHERE(braid_timer_new(&s->t2, s->rt, now + 5 * kMs) == BRAID_OK);
            EXPECT_ANYWHERE(braid_timer_poll_elapsed(s->t2, &Count::wake, &s->t2_wakes) == BRAID_PENDING);
            EXPECT_ANYWHERE(braid_interval_new(&s->iv, s->rt, now, 5 * kMs, BRAID_MISSED_TICK_BURST) == BRAID_OK);
            int64_t tick = 0;
            EXPECT_ANYWHERE(braid_interval_poll_tick(s->iv, &Count::wake, &s->iv_wakes, &tick) == 0);
            EXPECT_ANYWHERE(tick == now);
            EXPECT_ANYWHERE(braid_interval_poll_tick(s->iv, &Count::wake, &s->iv_wakes, &tick) == BRAID_PENDING);
        }
    };
    Rt r(Flavor::CurrentThread, true);
    int64_t t0 = braid_now(r.rt);
    Maker s;
    s.rt = r.rt;
    braid_timer* t = nullptr;
    REQUIRE(braid_timer_new(&t, r.rt, t0 + 10 * kMs) == BRAID_OK);
    REQUIRE(braid_timer_poll_elapsed(t, &Maker::wake, &s) == BRAID_PENDING);
    REQUIRE(braid_runtime_advance(r.rt, 10 * kMs) == BRAID_OK);
    REQUIRE(s.calls.load() == 1);
    REQUIRE(s.t2_wakes.calls.load() == 0);
    REQUIRE(s.iv_wakes.calls.load() == 0);
    REQUIRE(braid_runtime_advance(r.rt, 5 * kMs) == BRAID_OK);
    REQUIRE(s.t2_wakes.calls.load() == 1);
    REQUIRE(s.iv_wakes.calls.load() == 1);
    int64_t tick = 0;
    REQUIRE(braid_interval_poll_tick(s.iv, nullptr, nullptr, &tick) == BRAID_PENDING);  // withdraws; the tick is not consumed
    REQUIRE(braid_interval_poll_tick(s.iv, &Count::wake, &s.iv_wakes, &tick) == 0);
    REQUIRE(tick == t0 + 15 * kMs);
    REQUIRE(braid_timer_poll_elapsed(s.t2, &Count::wake, &s.t2_wakes) == 0);
    braid_interval_free(s.iv);
    braid_timer_free(s.t2);
    braid_timer_free(t);
}

TEST_CASE("time_capi.C: an interval's waker may free the interval") {
    struct IvFree {
        braid_interval* iv = nullptr;
        std::atomic<int> calls{0};
        static void wake(void* p) {
            auto* s = static_cast<IvFree*>(p);
            s->calls.fetch_add(1);
            braid_interval_free(std::exchange(s->iv, nullptr));
        }
    };
    Rt r(Flavor::CurrentThread, true);
    IvFree s;
    REQUIRE(braid_interval_new(&s.iv, r.rt, braid_now(r.rt), 10 * kMs, BRAID_MISSED_TICK_BURST) == BRAID_OK);
    REQUIRE(braid_interval_poll_tick(s.iv, &IvFree::wake, &s, nullptr) == 0);
    REQUIRE(braid_interval_poll_tick(s.iv, &IvFree::wake, &s, nullptr) == BRAID_PENDING);
    REQUIRE(braid_runtime_advance(r.rt, 10 * kMs) == BRAID_OK);
    REQUIRE(s.calls.load() == 1);
    REQUIRE(s.iv == nullptr);
}

TEST_CASE("time_capi.C: sleep and interval callbacks may free, reset and create timers and intervals") {
    // The callbacks of braid_sleep and braid_interval_start run on a worker
    // after their timer fired; what they do with other timers must not wait
    // on the firing.
    struct World {
        braid_runtime* rt = nullptr;
        braid_timer* victim = nullptr;   // freed by the sleep's callback while due together with it
        braid_timer* moved = nullptr;    // reset by the interval's callback
        braid_timer* made = nullptr;     // created by the sleep's callback
        braid_interval* made_iv = nullptr;
        Count victim_wakes, moved_wakes, made_wakes;
        std::atomic<int> sleep_calls{0}, ticks{0};
        static void on_sleep(void* p, int st) {
            auto* w = static_cast<World*>(p);
            EXPECT_ANYWHERE(st == BRAID_OK);
            w->sleep_calls.fetch_add(1);
            braid_timer_free(std::exchange(w->victim, nullptr));
            int64_t now = braid_now(w->rt);
            EXPECT_ANYWHERE(braid_timer_new(&w->made, w->rt, now + 7 * kMs) == BRAID_OK);
            EXPECT_ANYWHERE(braid_timer_poll_elapsed(w->made, &Count::wake, &w->made_wakes) == BRAID_PENDING);
            EXPECT_ANYWHERE(braid_interval_new(&w->made_iv, w->rt, now, kHour, BRAID_MISSED_TICK_SKIP) == BRAID_OK);
            EXPECT_ANYWHERE(braid_interval_poll_tick(w->made_iv, nullptr, nullptr, nullptr) == BRAID_PENDING);
        }
        static void on_tick(void* p, int st) {
            auto* w = static_cast<World*>(p);
            if (st != BRAID_OK) return;
            if (w->ticks.fetch_add(1) == 0)
                EXPECT_ANYWHERE(braid_timer_reset(w->moved, braid_now(w->rt) + 3 * kMs) == BRAID_OK);
        }
    };
    Flavor f = GENERATE(Flavor::CurrentThread, Flavor::MultiThread);
    Rt r(f, true);
    int64_t t0 = braid_now(r.rt);
    World w;
    w.rt = r.rt;
    braid_task* iv = nullptr;
    braid_task* sl = nullptr;
    on_worker(r, f, [&] {
        EXPECT_ANYWHERE(braid_timer_new(&w.victim, r.rt, t0 + 10 * kMs) == BRAID_OK);
        EXPECT_ANYWHERE(braid_timer_new(&w.moved, r.rt, t0 + kHour) == BRAID_OK);
        EXPECT_ANYWHERE(braid_timer_poll_elapsed(w.victim, &Count::wake, &w.victim_wakes) == BRAID_PENDING);
        EXPECT_ANYWHERE(braid_timer_poll_elapsed(w.moved, &Count::wake, &w.moved_wakes) == BRAID_PENDING);
        EXPECT_ANYWHERE(braid_interval_start(&iv, r.rt, 4, BRAID_MISSED_TICK_BURST, &World::on_tick, &w) == BRAID_OK);
        EXPECT_ANYWHERE(braid_sleep(&sl, r.rt, 10, &World::on_sleep, &w) == BRAID_OK);
    });
    REQUIRE(finish(r, f, sl) == BRAID_OK);
    REQUIRE(w.sleep_calls.load() == 1);
    REQUIRE(w.victim == nullptr);
    REQUIRE(w.victim_wakes.calls.load() == 1);  // due with the sleep: called before or after, never after its free
    // The interval's first tick (4 ms) moved `moved` to 7 ms; the sleep's
    // timer (10 ms) created `made` for 17 ms.  A second sleep lets them fire.
    Calls later;
    REQUIRE(braid_sleep(&sl, r.rt, 20, &Calls::cb, &later) == BRAID_OK);
    REQUIRE(finish(r, f, sl) == BRAID_OK);
    REQUIRE(w.moved_wakes.calls.load() == 1);
    REQUIRE(w.made_wakes.calls.load() == 1);
    REQUIRE(braid_task_abort(iv) == BRAID_OK);
    if (f == Flavor::CurrentThread) REQUIRE(braid_runtime_block_on(r.rt, iv) == BRAID_ECANCELED);
    else REQUIRE(braid_task_join_blocking(iv, 60000) == BRAID_ECANCELED);
    braid_task_free(iv);
    REQUIRE(w.ticks.load() >= 7);
    braid_timer_free(w.moved);
    braid_timer_free(w.made);
    braid_interval_free(w.made_iv);
}

TEST_CASE("time_capi.C: braid_timer_free from another thread waits for a waker call in progress") {
    // "After the free returns the waker is not running and will not be
    // called": the waker holds on until the free has started, and the free
    // must not return before the waker did.
    struct Slow {
        braid_timer* t = nullptr;
        std::atomic<bool> in_waker{false}, free_started{false}, waker_done{false};
        std::atomic<int> calls{0};
        static void wake(void* p) {
            auto* s = static_cast<Slow*>(p);
            s->calls.fetch_add(1);
            s->in_waker.store(true);
            while (!s->free_started.load()) std::this_thread::yield();
            for (int i = 0; i < 2000; ++i) std::this_thread::yield();  // the free is blocked meanwhile
            s->waker_done.store(true);
        }
    };
    Rt r(Flavor::CurrentThread, true);
    Slow s;
    REQUIRE(braid_timer_new(&s.t, r.rt, braid_now(r.rt) + 10 * kMs) == BRAID_OK);
    REQUIRE(braid_timer_poll_elapsed(s.t, &Slow::wake, &s) == BRAID_PENDING);
    std::thread firer([&] { EXPECT_ANYWHERE(braid_runtime_advance(r.rt, 10 * kMs) == BRAID_OK); });
    while (!s.in_waker.load()) std::this_thread::yield();
    s.free_started.store(true);
    braid_timer_free(s.t);
    REQUIRE(s.waker_done.load());
    firer.join();
    REQUIRE(s.calls.load() == 1);
}

TEST_CASE("time_capi.C: wakers freeing each other's timers while other threads free them too", "[stress]") {
    // Per round: n timers due at one instant; the waker of timer i frees
    // timer i+1, and a second thread frees every third timer meanwhile.
    // Whoever claims a timer frees it once; no waker runs after the free of
    // its timer returned, none runs twice.
    const int n = 64;
    const int rounds = 400 / braid_test::kStressDivisor;
    struct Slot {
        braid_timer* t = nullptr;
        std::atomic<bool> claimed{false}, freed{false}, running{false};
        std::atomic<int> calls{0};
    };
    struct Round {
        std::vector<std::unique_ptr<Slot>> slots;
        bool release(int i) {  // true when this caller freed it
            Slot& s = *slots[std::size_t(i)];
            if (s.claimed.exchange(true)) return false;
            braid_timer_free(s.t);
            EXPECT_ANYWHERE(!s.running.load());
            s.freed.store(true);
            return true;
        }
    };
    struct Ctx {
        Round* r;
        int i;
        static void wake(void* p) {
            auto* c = static_cast<Ctx*>(p);
            Slot& s = *c->r->slots[std::size_t(c->i)];
            s.running.store(true);
            EXPECT_ANYWHERE(!s.freed.load());
            EXPECT_ANYWHERE(s.calls.fetch_add(1) == 0);
            c->r->release((c->i + 1) % int(c->r->slots.size()));
            s.running.store(false);
        }
    };
    Rt r(Flavor::CurrentThread, true);
    for (int round = 0; round < rounds; ++round) {
        Round rd;
        std::vector<Ctx> ctx(std::size_t(n), Ctx{&rd, 0});
        int64_t at = braid_now(r.rt) + kMs;
        for (int i = 0; i < n; ++i) {
            rd.slots.push_back(std::make_unique<Slot>());
            ctx[std::size_t(i)].i = i;
            REQUIRE(braid_timer_new(&rd.slots.back()->t, r.rt, at) == BRAID_OK);
            REQUIRE(braid_timer_poll_elapsed(rd.slots.back()->t, &Ctx::wake, &ctx[std::size_t(i)]) == BRAID_PENDING);
        }
        std::atomic<bool> go{false};
        std::thread other([&] {
            while (!go.load()) std::this_thread::yield();
            for (int i = n - 1; i >= 0; i -= 3) rd.release(i);
        });
        go.store(true);
        REQUIRE(braid_runtime_advance(r.rt, kMs) == BRAID_OK);
        other.join();
        int called = 0;
        for (int i = 0; i < n; ++i) {
            rd.release(i);  // the rest
            called += rd.slots[std::size_t(i)]->calls.load();
        }
        REQUIRE(called >= 1);
    }
    REQUIRE(braid_test::worker_failures() == 0);
}

// ---- saturation: the far future never fires ----------------------------------------

TEST_CASE("time_capi.C: braid_runtime_advance by a huge amount saturates instead of wrapping") {
    Rt r(Flavor::CurrentThread, true);
    int64_t t0 = braid_now(r.rt);
    Count near, far;
    braid_timer* tn = nullptr;
    braid_timer* tf = nullptr;
    REQUIRE(braid_timer_new(&tn, r.rt, t0 + kHour) == BRAID_OK);
    REQUIRE(braid_timer_new(&tf, r.rt, INT64_MAX) == BRAID_OK);
    REQUIRE(braid_timer_poll_elapsed(tn, &Count::wake, &near) == BRAID_PENDING);
    REQUIRE(braid_timer_poll_elapsed(tf, &Count::wake, &far) == BRAID_PENDING);
    REQUIRE(braid_runtime_advance(r.rt, INT64_MAX) == BRAID_OK);
    int64_t t1 = braid_now(r.rt);
    REQUIRE(t1 > t0 + kHour);
    REQUIRE(near.calls.load() == 1);
    REQUIRE(braid_runtime_advance(r.rt, INT64_MAX) == BRAID_OK);  // and again: still no wrap
    REQUIRE(braid_now(r.rt) >= t1);
    REQUIRE(far.calls.load() == 0);  // INT64_MAX is the far future: never due
    REQUIRE(braid_timer_poll_elapsed(tf, &Count::wake, &far) == BRAID_PENDING);
    braid_timer_free(tn);
    braid_timer_free(tf);
}

TEST_CASE("time_capi.C: sleeps with huge durations never fire, and paused time never jumps to them") {
    Flavor f = GENERATE(Flavor::CurrentThread, Flavor::MultiThread);
    Calls huge;
    {
        Rt r(f, true);
        int64_t t0 = braid_now(r.rt);
        REQUIRE(braid_sleep(nullptr, r.rt, INT64_MAX, &Calls::cb, &huge) == BRAID_OK);
        REQUIRE(braid_sleep(nullptr, r.rt, INT64_MAX / 1000, &Calls::cb, &huge) == BRAID_OK);
        REQUIRE(braid_sleep(nullptr, r.rt, INT64_MAX / kMs + 1, &Calls::cb, &huge) == BRAID_OK);
        REQUIRE(braid_sleep_until(nullptr, r.rt, INT64_MAX, &Calls::cb, &huge) == BRAID_OK);
        Calls hour;
        braid_task* t = nullptr;
        REQUIRE(braid_sleep(&t, r.rt, 3600 * 1000, &Calls::cb, &hour) == BRAID_OK);
        REQUIRE(finish(r, f, t) == BRAID_OK);
        REQUIRE(hour.n.load() == 1);
        REQUIRE(huge.n.load() == 0);
        // Everything is idle now; only the far-future sleeps are pending.
        Calls again;
        REQUIRE(braid_sleep(&t, r.rt, 0, &Calls::cb, &again) == BRAID_OK);
        REQUIRE(finish(r, f, t) == BRAID_OK);
        REQUIRE(braid_now(r.rt) - t0 == kHour);
        REQUIRE(huge.n.load() == 0);
    }
    REQUIRE(huge.n.load() == 4);  // shutdown cancelled them
    REQUIRE(huge.last.load() == BRAID_ECANCELED);
}

TEST_CASE("time_capi.C: an interval with a huge period ticks once, whatever its missed-tick behaviour") {
    int behavior = GENERATE(BRAID_MISSED_TICK_BURST, BRAID_MISSED_TICK_DELAY, BRAID_MISSED_TICK_SKIP);
    int64_t period = GENERATE(INT64_MAX, INT64_MAX / 2, INT64_MAX - kHour);
    bool late = GENERATE(false, true);
    Rt r(Flavor::CurrentThread, true);
    int64_t t0 = braid_now(r.rt);
    braid_interval* iv = nullptr;
    REQUIRE(braid_interval_new(&iv, r.rt, t0, period, behavior) == BRAID_OK);
    if (late) REQUIRE(braid_runtime_advance(r.rt, kHour) == BRAID_OK);  // the missed-tick rule applies
    int64_t tick = 0;
    Count w;
    REQUIRE(braid_interval_poll_tick(iv, &Count::wake, &w, &tick) == 0);
    REQUIRE(tick == t0);
    REQUIRE(braid_interval_poll_tick(iv, &Count::wake, &w, &tick) == BRAID_PENDING);
    REQUIRE(braid_runtime_advance(r.rt, kHour) == BRAID_OK);
    REQUIRE(braid_interval_poll_tick(iv, &Count::wake, &w, &tick) == BRAID_PENDING);
    REQUIRE(braid_interval_reset(iv) == BRAID_OK);  // one period from now: still the far future
    REQUIRE(braid_interval_poll_tick(iv, &Count::wake, &w, &tick) == BRAID_PENDING);
    REQUIRE(braid_runtime_advance(r.rt, kHour) == BRAID_OK);
    REQUIRE(braid_interval_poll_tick(iv, &Count::wake, &w, &tick) == BRAID_PENDING);
    REQUIRE(w.calls.load() == 0);
    braid_interval_free(iv);
}

TEST_CASE("time_capi.C: braid_interval_start with a huge period never calls back before it is aborted") {
    Flavor f = GENERATE(Flavor::CurrentThread, Flavor::MultiThread);
    Rt r(f, true);
    Calls ticks;
    braid_task* iv = nullptr;
    REQUIRE(braid_interval_start(&iv, r.rt, INT64_MAX, BRAID_MISSED_TICK_BURST, &Calls::cb, &ticks) == BRAID_OK);
    Calls hour;
    braid_task* t = nullptr;
    REQUIRE(braid_sleep(&t, r.rt, 3600 * 1000, &Calls::cb, &hour) == BRAID_OK);
    REQUIRE(finish(r, f, t) == BRAID_OK);
    REQUIRE(ticks.n.load() == 0);
    REQUIRE(braid_task_abort(iv) == BRAID_OK);
    REQUIRE(finish(r, f, iv) == BRAID_ECANCELED);
    REQUIRE(ticks.n.load() == 1);
    REQUIRE(ticks.last.load() == BRAID_ECANCELED);
}

// ---- paused time: auto-advance ------------------------------------------------------

TEST_CASE("time_capi.C: paused time keeps advancing past a timer whose waker schedules no task") {
    Flavor f = GENERATE(Flavor::CurrentThread, Flavor::MultiThread);
    Rt r(f, true);
    int64_t t0 = braid_now(r.rt);
    Count quiet;  // a waker that only counts
    quiet.rt = r.rt;
    braid_timer* t = nullptr;
    Calls done;
    braid_task* sl = nullptr;
    on_worker(r, f, [&] {
        EXPECT_ANYWHERE(braid_timer_new(&t, r.rt, t0 + 10 * kMs) == BRAID_OK);
        EXPECT_ANYWHERE(braid_timer_poll_elapsed(t, &Count::wake, &quiet) == BRAID_PENDING);
        EXPECT_ANYWHERE(braid_sleep(&sl, r.rt, 30, &Calls::cb, &done) == BRAID_OK);
    });
    REQUIRE(finish(r, f, sl) == BRAID_OK);
    REQUIRE(done.n.load() == 1);
    REQUIRE(quiet.calls.load() == 1);
    REQUIRE(quiet.at.load() == t0 + 10 * kMs);
    REQUIRE(braid_now(r.rt) - t0 == 30 * kMs);
    braid_timer_free(t);
}

TEST_CASE("time_capi.C: paused time keeps advancing past a timer freed by its own waker") {
    struct SelfFree {
        braid_timer* t = nullptr;
        std::atomic<int> calls{0};
        static void wake(void* p) {
            auto* s = static_cast<SelfFree*>(p);
            s->calls.fetch_add(1);
            braid_timer_free(std::exchange(s->t, nullptr));
        }
    };
    Flavor f = GENERATE(Flavor::CurrentThread, Flavor::MultiThread);
    Rt r(f, true);
    int64_t t0 = braid_now(r.rt);
    SelfFree s;
    Calls done;
    braid_task* sl = nullptr;
    on_worker(r, f, [&] {
        EXPECT_ANYWHERE(braid_timer_new(&s.t, r.rt, t0 + 10 * kMs) == BRAID_OK);
        EXPECT_ANYWHERE(braid_timer_poll_elapsed(s.t, &SelfFree::wake, &s) == BRAID_PENDING);
        EXPECT_ANYWHERE(braid_sleep(&sl, r.rt, 30, &Calls::cb, &done) == BRAID_OK);
    });
    REQUIRE(finish(r, f, sl) == BRAID_OK);
    REQUIRE(s.calls.load() == 1);
    REQUIRE(braid_now(r.rt) - t0 == 30 * kMs);
}

TEST_CASE("time_capi.C: a timer registered from outside the runtime while every worker is idle is auto-advanced to") {
    Rt r(Flavor::MultiThread, true);
    int64_t t0 = braid_now(r.rt);
    Count c;
    c.rt = r.rt;
    braid_timer* t = nullptr;
    REQUIRE(braid_timer_new(&t, r.rt, t0 + kHour) == BRAID_OK);
    REQUIRE(braid_timer_poll_elapsed(t, &Count::wake, &c) == BRAID_PENDING);
    // Nothing runs: the idle runtime must jump its clock to the deadline.
    REQUIRE(c.wait_called());
    REQUIRE(c.calls.load() == 1);
    REQUIRE(c.at.load() == t0 + kHour);
    braid_timer_free(t);
}

// ---- paused time: braid_runtime_advance (Tokio's time_pause tests) ------------------------

TEST_CASE("time_capi.C: braid_runtime_advance moves the clock by exactly the amount, sub-millisecond too") {
    Rt r(Flavor::CurrentThread, true);
    for (int64_t d : {int64_t(51592000), int64_t(1000), int64_t(3141592000), int64_t(3123456000), kMs, kMs, int64_t(1), int64_t(0)}) {
        int64_t before = braid_now(r.rt);
        REQUIRE(braid_runtime_advance(r.rt, d) == BRAID_OK);
        REQUIRE(braid_now(r.rt) - before == d);
    }
}

TEST_CASE("time_capi.C: a timer fires on the advance that reaches its deadline, not before") {
    Rt r(Flavor::CurrentThread, true);
    int64_t t0 = braid_now(r.rt);
    Count c;
    braid_timer* t = nullptr;
    REQUIRE(braid_timer_new(&t, r.rt, t0 + kMs) == BRAID_OK);
    REQUIRE(braid_timer_poll_elapsed(t, &Count::wake, &c) == BRAID_PENDING);
    SECTION("in quarter steps") {
        for (int i = 0; i < 3; ++i) {
            REQUIRE(braid_runtime_advance(r.rt, 250000) == BRAID_OK);
            REQUIRE(c.calls.load() == 0);
            REQUIRE(braid_timer_poll_elapsed(t, &Count::wake, &c) == BRAID_PENDING);
        }
        REQUIRE(braid_runtime_advance(r.rt, 250000) == BRAID_OK);
    }
    SECTION("past it") {
        REQUIRE(braid_runtime_advance(r.rt, 250000) == BRAID_OK);
        REQUIRE(braid_timer_poll_elapsed(t, &Count::wake, &c) == BRAID_PENDING);
        REQUIRE(braid_runtime_advance(r.rt, 1500000) == BRAID_OK);
    }
    REQUIRE(c.calls.load() == 1);
    REQUIRE(braid_timer_poll_elapsed(t, &Count::wake, &c) == 0);
    braid_timer_free(t);
}

TEST_CASE("time_capi.C: braid_runtime_advance on a runtime that is not paused is refused") {
    Rt r(Flavor::MultiThread, false, 1);
    REQUIRE(braid_runtime_advance(r.rt, kMs) == BRAID_EINVAL);
    REQUIRE(braid_runtime_advance(nullptr, kMs) == BRAID_EINVAL);
}

}  // namespace test_time_capi
