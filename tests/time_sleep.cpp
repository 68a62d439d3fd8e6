// Time: sleep, sleep_until, Instant, paused time (advance, auto-advance).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_time_sleep {

using namespace std::chrono_literals;

TEST_CASE("time_sleep.paused time: a long sleep completes at once, and the virtual clock moved exactly") {
    auto rt = braid_test::paused_runtime();
    auto real0 = std::chrono::steady_clock::now();
    auto virt = rt.block_on([]() -> braid::Task<braid::Duration> {
        auto t0 = braid::Instant::now();
        co_await braid::sleep(std::chrono::hours(10));
        co_return t0.elapsed();
    }());
    REQUIRE(virt == std::chrono::hours(10));
    REQUIRE(std::chrono::steady_clock::now() - real0 < std::chrono::hours(1));
}

TEST_CASE("time_sleep.paused time: sleeps complete in deadline order") {
    auto rt = braid_test::paused_runtime(2);
    auto order = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto log = std::make_shared<std::vector<int>>();
        auto mu = std::make_shared<std::mutex>();
        std::vector<braid::JoinHandle<void>> hs;
        for (int ms : {50, 10, 40, 20, 30})
            hs.push_back(braid::spawn([](int d, auto l, auto m) -> braid::Task<> {
                co_await braid::sleep(std::chrono::milliseconds(d));
                std::lock_guard<std::mutex> g(*m);
                l->push_back(d);
            }, ms, log, mu));
        for (auto& h : hs) co_await h;
        co_return *log;
    }());
    REQUIRE(order == std::vector<int>{10, 20, 30, 40, 50});
}

TEST_CASE("time_sleep.paused time: advance moves the clock and fires what became due") {
    // current-thread: nothing runs (and the clock never jumps by itself)
    // outside block_on, so the test alone moves time here.
    auto rt = braid::Runtime::builder().current_thread().start_paused().build();
    std::atomic<int> woke{0};
    auto h = rt.spawn([](std::atomic<int>* w) -> braid::Task<> {
        co_await braid::sleep(100ms);
        w->store(1);
    }(&woke));
    rt.block_on([]() -> braid::Task<> { co_await braid::yield_now(); }());  // the sleeper registers
    rt.advance(99ms);
    REQUIRE(woke.load() == 0);
    rt.advance(1ms);
    rt.block_on([](braid::JoinHandle<void>* jh) -> braid::Task<> { co_await *jh; }(&h));
    REQUIRE(woke.load() == 1);
}

TEST_CASE("time_sleep.paused time does not advance while a blocking job runs") {
    auto rt = braid_test::paused_runtime(1);
    bool ok = rt.block_on([]() -> braid::Task<bool> {
        auto t0 = braid::Instant::now();
        auto job = braid::spawn_blocking([t0] {
            // The worker is idle while this runs; the clock must stay put.
            for (int i = 0; i < 1000; ++i) std::this_thread::yield();
            return braid::Instant::now() == t0;
        });
        auto sleeper = braid::spawn([]() -> braid::Task<> { co_await braid::sleep(std::chrono::hours(1)); }());
        bool unchanged = co_await job;
        co_await sleeper;
        co_return unchanged && t0.elapsed() == std::chrono::hours(1);
    }());
    REQUIRE(ok);
}

TEST_CASE("time_sleep.sleep_until a past deadline completes at once") {
    auto rt = braid_test::runtime(1);
    bool ok = rt.block_on([]() -> braid::Task<bool> {
        auto s = braid::sleep_until(braid::Instant::now() - 1s);
        REQUIRE(s.is_elapsed());
        co_await std::move(s);
        co_return true;
    }());
    REQUIRE(ok);
}

TEST_CASE("time_sleep.real time: a sleep lasts at least its duration") {
    auto rt = braid_test::runtime(2);
    auto elapsed = rt.block_on([]() -> braid::Task<braid::Duration> {
        auto t0 = braid::Instant::now();
        co_await braid::sleep(20ms);
        co_return t0.elapsed();
    }());
    REQUIRE(elapsed >= 20ms);
}

TEST_CASE("time_sleep.a negative duration is refused with braid::Error(BRAID_EINVAL)") {
    auto rt = braid_test::runtime(1);
    rt.block_on([]() -> braid::Task<> {
        try {
            co_await braid::sleep(-1ms);
            FAIL("negative sleep must throw");
        } catch (const braid::Error& e) {
            REQUIRE(e.code() == BRAID_EINVAL);
        }
    }());
}

TEST_CASE("time_sleep.a Sleep can be reset to a later deadline") {
    auto rt = braid_test::paused_runtime(1);
    auto d = rt.block_on([]() -> braid::Task<braid::Duration> {
        auto t0 = braid::Instant::now();
        auto s = braid::sleep(10ms);
        s.reset(t0 + 30ms);
        co_await std::move(s);
        co_return t0.elapsed();
    }());
    REQUIRE(d == 30ms);
}

TEST_CASE("time_sleep.Instant arithmetic") {
    braid::Instant a(1000), b(4000);
    REQUIRE(b - a == braid::Duration(3000));
    REQUIRE(a + 3us == b);
    REQUIRE(b.duration_since(a) == 3us);
    REQUIRE(a < b);
}

TEST_CASE("time_sleep.100,000 sleeping tasks all wake, in paused time", "[stress]") {
    auto rt = braid_test::paused_runtime(2);
    std::atomic<int> woke{0};
    rt.block_on([](std::atomic<int>* w) -> braid::Task<> {
        std::vector<braid::JoinHandle<void>> hs;
        hs.reserve(100000);
        for (int i = 0; i < 100000; ++i)
            hs.push_back(braid::spawn([](std::atomic<int>* x, int ms) -> braid::Task<> {
                co_await braid::sleep(std::chrono::milliseconds(ms));
                x->fetch_add(1);
            }(w, 1 + i % 50)));
        for (auto& h : hs) co_await h;
    }(&woke));
    REQUIRE(woke.load() == 100000);
}

TEST_CASE("time_sleep.sleep: a deadline kept across selects and reset by the other branch fires at the new deadline") {
    // Tokio's idle-timeout loop: `let sleep = sleep(d); pin!(sleep); loop {
    // select! { _ = &mut sleep => break, Some(_) = rx.recv() =>
    // sleep.as_mut().reset(now + d) } }`.
    auto rt = braid_test::paused_runtime();
    auto fired_at = rt.block_on([]() -> braid::Task<long> {
        auto t0 = braid::Instant::now();
        auto [tx, rx] = braid::mpsc::channel<int>(4);
        auto producer = braid::spawn([](braid::mpsc::Sender<int> tx) -> braid::Task<> {
            for (int i = 0; i < 3; ++i) {
                co_await braid::sleep(8ms);  // activity every 8 ms, 3 times
                (void)co_await tx.send(i);
            }
            co_await braid::sleep(1s);  // then quiet (keeps the channel open)
        }, std::move(tx));
        auto idle = braid::sleep(10ms);
        for (;;) {
            auto r = co_await braid::select(idle, rx.recv());
            if (r.index() == 0) break;
            idle.reset(braid::Instant::now() + 10ms);
        }
        long at = long(std::chrono::duration_cast<std::chrono::milliseconds>(braid::Instant::now() - t0).count());
        producer.abort();
        co_return at;
    }());
    REQUIRE(fired_at == 34);  // the last activity at 24 ms, plus 10 ms
}

}  // namespace test_time_sleep
