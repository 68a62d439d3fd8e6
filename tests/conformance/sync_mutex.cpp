// Conformance: tokio/tests/sync_mutex.rs (Tokio 1.24), ported from what each
// case asserts.  Tokio's hand-polled lock futures are braid_mutex_poll_lock
// polled with a counting waker (braid_test::PolledWait); a lock won that way
// is adopted by a braid::MutexGuard.  #[tokio::test] cases run on a paused
// current-thread runtime (the timeouts need no real time).
//
// Gaps: none.
//
// Not applicable:
//   debug_format, mutex_debug - Rust's `Debug` formatting of the guard and
//     the mutex; C++ has no such trait and braid defines no printing.
//   lock (commented out in Tokio's file) - not a test.
//
// braid's own: stress_counter (tasks on four workers add under the lock:
// never two inside at once, no increment lost).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "support.hpp"

namespace conformance_sync_mutex {

using namespace std::chrono_literals;
using braid_test::PolledWait;

namespace {
template <class T>
PolledWait lock_of(braid::Mutex<T>& m) {
    return PolledWait(m.native_handle(), braid_mutex_poll_lock, braid_mutex_cancel_lock);
}
}  // namespace

TEST_CASE("sync_mutex.straight_execution") {
    braid::Mutex<int> l(100);
    {
        auto t = lock_of(l);
        REQUIRE(t.poll() == BRAID_OK);
        braid::MutexGuard<int> g(&l);
        REQUIRE(*g == 100);
        *g = 99;
    }
    {
        auto t = lock_of(l);
        REQUIRE(t.poll() == BRAID_OK);
        braid::MutexGuard<int> g(&l);
        REQUIRE(*g == 99);
        *g = 98;
    }
    {
        auto t = lock_of(l);
        REQUIRE(t.poll() == BRAID_OK);
        braid::MutexGuard<int> g(&l);
        REQUIRE(*g == 98);
    }
}

TEST_CASE("sync_mutex.readiness") {
    auto l1 = std::make_shared<braid::Mutex<int>>(100);
    auto l2 = l1;
    auto t1 = lock_of(*l1);
    auto t2 = lock_of(*l2);

    REQUIRE(t1.poll() == BRAID_OK);
    std::optional<braid::MutexGuard<int>> g(std::in_place, l1.get());

    // the lock is held by g: t2 waits
    REQUIRE(t2.poll() == BRAID_PENDING);

    // once g unlocks, t2 is woken and gets it
    g.reset();
    REQUIRE(t2.is_woken());
    REQUIRE(t2.poll() == BRAID_OK);
    braid::MutexGuard<int> g2(l2.get());
    REQUIRE(*g2 == 100);
}

TEST_CASE("sync_mutex.aborted_future_1") {
    // A task that holds the lock and is cancelled by a timeout unlocks it.
    auto rt = braid_test::current_thread_runtime(true);
    bool relocked = rt.block_on([]() -> braid::Task<bool> {
        auto m1 = std::make_shared<braid::Mutex<std::size_t>>(0);
        {
            auto m2 = m1;
            auto hold = [](std::shared_ptr<braid::Mutex<std::size_t>> m) -> braid::Task<> {
                auto iv = braid::interval(1000ms);
                auto g = co_await m->lock();
                co_await iv.tick();
                co_await iv.tick();
            };
            bool finished = co_await braid::timeout(1ms, hold(m2));
            EXPECT(!finished);
        }
        // nothing holds the mutex any more
        auto relock = [](std::shared_ptr<braid::Mutex<std::size_t>> m) -> braid::Task<> {
            auto g = co_await m->lock();
        };
        co_return co_await braid::timeout(1ms, relock(m1));
    }());
    REQUIRE(relocked);
}

TEST_CASE("sync_mutex.aborted_future_2") {
    // A lock cancelled while it waits leaves nothing locked behind.
    auto rt = braid_test::current_thread_runtime(true);
    bool relocked = rt.block_on([]() -> braid::Task<bool> {
        auto m1 = std::make_shared<braid::Mutex<std::size_t>>(0);
        {
            auto lock = co_await m1->lock();
            {
                auto m2 = m1;
                auto wait = [](std::shared_ptr<braid::Mutex<std::size_t>> m) -> braid::Task<> {
                    auto g = co_await m->lock();
                };
                bool finished = co_await braid::timeout(1ms, wait(m2));
                EXPECT(!finished);
            }
        }
        auto relock = [](std::shared_ptr<braid::Mutex<std::size_t>> m) -> braid::Task<> {
            auto g = co_await m->lock();
        };
        co_return co_await braid::timeout(1ms, relock(m1));
    }());
    REQUIRE(relocked);
}

TEST_CASE("sync_mutex.try_lock") {
    braid::Mutex<std::size_t> m(0);
    {
        auto g1 = m.try_lock();
        REQUIRE(g1.has_value());
        auto g2 = m.try_lock();
        REQUIRE_FALSE(g2.has_value());
    }
    auto g3 = m.try_lock();
    REQUIRE(g3.has_value());
}

TEST_CASE("sync_mutex.stress_counter") {
    constexpr int kTasks = 16;
    const int per_task = 2000 / braid_test::kStressDivisor;
    struct Shared {
        braid::Mutex<long> counter{0};
        std::atomic<int> inside{0};
        std::atomic<int> overlaps{0};
    };
    auto s = std::make_shared<Shared>();
    auto rt = braid_test::runtime(4);
    rt.block_on([](std::shared_ptr<Shared> s, int per_task) -> braid::Task<> {
        std::vector<braid::JoinHandle<void>> tasks;
        for (int t = 0; t < kTasks; ++t) {
            tasks.push_back(braid::spawn([](std::shared_ptr<Shared> s, int n) -> braid::Task<> {
                for (int i = 0; i < n; ++i) {
                    auto g = co_await s->counter.lock();
                    if (s->inside.fetch_add(1) != 0) s->overlaps.fetch_add(1);
                    long v = *g;
                    if (i % 7 == 0) co_await braid::yield_now();  // held across a suspension
                    *g = v + 1;
                    s->inside.fetch_sub(1);
                }
            }, s, per_task));
        }
        for (auto& t : tasks) co_await t;
    }(s, per_task));
    REQUIRE(s->overlaps.load() == 0);
    REQUIRE(s->counter.get_mut() == long(kTasks) * per_task);
    REQUIRE(s->counter.try_lock().has_value());
}

}  // namespace conformance_sync_mutex
