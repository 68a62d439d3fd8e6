// Mutex: mutual exclusion, FIFO order, owned guards, try_lock, blocking
// lock, cancellation (never left locked; a handed-over lock passes on), the
// C ABI.
#include <catch2/catch.hpp>
#include <braid/mutex.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_sync_mutex {

using namespace std::chrono_literals;

using braid_test::CountingWaker;

TEST_CASE("sync_mutex.mutex: the guard gives the value, unlocked when the guard goes") {
    braid::Mutex<std::vector<int>> m;
    {
        auto g = m.try_lock();
        REQUIRE(g);
        (*g)->push_back(1);
        REQUIRE_FALSE(m.try_lock());
        g->unlock();
        REQUIRE(m.try_lock());
    }
    auto rt = braid_test::runtime(1);
    size_t n = rt.block_on([](braid::Mutex<std::vector<int>>* m) -> braid::Task<size_t> {
        auto g = co_await m->lock();
        g->push_back(2);
        co_return g->size();
    }(&m));
    REQUIRE(n == 2);
    REQUIRE(m.get_mut() == std::vector<int>{1, 2});
}

TEST_CASE("sync_mutex.mutex: many tasks on two workers never overlap") {
    auto rt = braid_test::runtime(2);
    auto r = rt.block_on([]() -> braid::Task<std::pair<long, int>> {
        struct State {
            long count = 0;
            std::atomic<int> inside{0};
            std::atomic<int> overlaps{0};
        };
        auto m = std::make_shared<braid::Mutex<State>>(std::in_place);
        std::vector<braid::JoinHandle<void>> hs;
        for (int i = 0; i < 64; ++i)
            hs.push_back(braid::spawn([](auto m) -> braid::Task<> {
                for (int k = 0; k < 500; ++k) {
                    auto g = co_await m->lock();
                    if (g->inside.fetch_add(1) != 0) g->overlaps++;
                    g->count++;
                    if (k % 7 == 0) co_await braid::yield_now();  // held across a suspension
                    g->inside.fetch_sub(1);
                }
            }(m)));
        for (auto& h : hs) co_await h;
        auto g = co_await m->lock();
        co_return std::pair<long, int>{g->count, g->overlaps.load()};
    }());
    REQUIRE(r.first == 64 * 500);
    REQUIRE(r.second == 0);
}

TEST_CASE("sync_mutex.mutex: waiters get the lock in FIFO order") {
    auto rt = braid_test::runtime(1);
    auto order = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto m = std::make_shared<braid::Mutex<std::vector<int>>>();
        std::vector<braid::JoinHandle<void>> hs;
        {
            auto g = co_await m->lock();
            for (int i = 0; i < 8; ++i) {
                hs.push_back(braid::spawn([](auto m, int i) -> braid::Task<> {
                    auto g = co_await m->lock();
                    g->push_back(i);
                }(m, i)));
                co_await braid::yield_now();
            }
        }
        for (auto& h : hs) co_await h;
        co_return m->get_mut();
    }());
    REQUIRE(order == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7});
}

TEST_CASE("sync_mutex.mutex: an owned guard moves into another task") {
    auto rt = braid_test::runtime(2);
    std::string v = rt.block_on([]() -> braid::Task<std::string> {
        auto m = std::make_shared<braid::Mutex<std::string>>("a");
        auto g = co_await braid::lock_owned(m);
        auto h = braid::spawn([](braid::OwnedMutexGuard<std::string> g) -> braid::Task<> {
            co_await braid::sleep(1ms);
            *g += "b";
        }, std::move(g));
        auto mine = co_await m->lock();  // waits until the other task drops its guard
        *mine += "c";
        co_await h;
        co_return *mine;
    }());
    REQUIRE(v == "abc");
}

TEST_CASE("sync_mutex.mutex: a lock cancelled while waiting never leaves the mutex locked") {
    auto rt = braid_test::runtime(2);
    bool free_after = rt.block_on([]() -> braid::Task<bool> {
        auto m = std::make_shared<braid::Mutex<int>>(0);
        auto g = co_await m->lock();
        auto waiter = braid::spawn([](auto m) -> braid::Task<> {
            auto g = co_await m->lock();
            *g = 1;
        }(m));
        co_await braid::sleep(1ms);
        waiter.abort();
        try {
            co_await waiter;
        } catch (const braid::TaskCancelled&) {
        }
        g.unlock();
        auto again = m->try_lock();
        co_return again.has_value() && **again == 0;
    }());
    REQUIRE(free_after);
}

TEST_CASE("sync_mutex.mutex: a lock handed to a cancelled waiter passes on") {
    braid_mutex* m = nullptr;
    REQUIRE(braid_mutex_new(&m) == BRAID_OK);
    REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
    CountingWaker a, b;
    braid_waiter* wa = nullptr;
    braid_waiter* wb = nullptr;
    REQUIRE(braid_mutex_poll_lock(m, &wa, &CountingWaker::wake, &a) == BRAID_PENDING);
    REQUIRE(braid_mutex_poll_lock(m, &wb, &CountingWaker::wake, &b) == BRAID_PENDING);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);  // handed to a
    REQUIRE(a.wakes == 1);
    REQUIRE(braid_mutex_try_lock(m) == BRAID_EAGAIN);
    braid_mutex_cancel_lock(m, &wa);  // a never took it: b gets it
    REQUIRE(b.wakes == 1);
    REQUIRE(braid_mutex_poll_lock(m, &wb, &CountingWaker::wake, &b) == BRAID_OK);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    REQUIRE(braid_mutex_unlock(m) == BRAID_EINVAL);  // not locked
    // The last waiter cancelled with the lock handed over: it is free again.
    REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
    REQUIRE(braid_mutex_poll_lock(m, &wa, &CountingWaker::wake, &a) == BRAID_PENDING);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    braid_mutex_cancel_lock(m, &wa);
    REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    braid_mutex_free(m);
}

TEST_CASE("sync_mutex.mutex: blocking lock on foreign threads, refused on workers, timeout") {
    auto rt = braid_test::runtime(2);
    braid::Mutex<long> m(0);
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t)
        ts.emplace_back([&] {
            for (int i = 0; i < 1000; ++i) *m.blocking_lock() += 1;
        });
    // Tasks contend at the same time.
    rt.block_on([](braid::Mutex<long>* m) -> braid::Task<> {
        for (int i = 0; i < 1000; ++i) *co_await m->lock() += 1;
    }(&m));
    for (auto& t : ts) t.join();
    REQUIRE(m.get_mut() == 5000);
    auto g = m.try_lock();
    REQUIRE(braid_mutex_lock_blocking(m.native_handle(), 5) == BRAID_ETIMEDOUT);
    int rc = rt.block_on([](braid_mutex* h) -> braid::Task<int> { co_return braid_mutex_lock_blocking(h, 1); }(
        m.native_handle()));
    REQUIRE(rc == BRAID_EDEADLK);
    REQUIRE_THROWS_AS(rt.block_on([](braid::Mutex<long>* m) -> braid::Task<> {
        auto g2 = m->blocking_lock();
        co_return;
    }(&m)),
                      braid::Error);
}

TEST_CASE("sync_mutex.mutex C ABI: bad input") {
    REQUIRE(braid_mutex_new(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_mutex_try_lock(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_mutex_unlock(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_mutex_lock_blocking(nullptr, BRAID_WAIT_FOREVER) == BRAID_EINVAL);
    braid_mutex* m = nullptr;
    REQUIRE(braid_mutex_new(&m) == BRAID_OK);
    REQUIRE(braid_mutex_poll_lock(m, nullptr, nullptr, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_mutex_unlock(m) == BRAID_EINVAL);
    braid_mutex_cancel_lock(m, nullptr);
    braid_mutex_free(m);
    braid_mutex_free(nullptr);
}

TEST_CASE("sync_mutex.mutex C ABI: an unlock while the lock is on its way to a waiter is refused") {
    braid_mutex* m = nullptr;
    REQUIRE(braid_mutex_new(&m) == BRAID_OK);
    REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
    {
        braid_test::PolledWait waiter(m, braid_mutex_poll_lock, braid_mutex_cancel_lock);
        REQUIRE(waiter.poll() == BRAID_PENDING);
        REQUIRE(braid_mutex_unlock(m) == BRAID_OK);  // handed to the waiter
        REQUIRE(waiter.is_woken());
        REQUIRE(braid_mutex_unlock(m) == BRAID_EINVAL);  // the waiter's now, not unlocked
        REQUIRE(braid_mutex_try_lock(m) == BRAID_EAGAIN);
        waiter.cancel();  // the waiter gives it back: unlocked once
    }
    REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
    REQUIRE(braid_mutex_try_lock(m) == BRAID_EAGAIN);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    REQUIRE(braid_mutex_unlock(m) == BRAID_EINVAL);

    // The same when the waiter takes the lock instead of cancelling.
    REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
    {
        braid_test::PolledWait waiter(m, braid_mutex_poll_lock, braid_mutex_cancel_lock);
        REQUIRE(waiter.poll() == BRAID_PENDING);
        REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
        REQUIRE(braid_mutex_unlock(m) == BRAID_EINVAL);
        REQUIRE(waiter.poll() == BRAID_OK);
    }
    REQUIRE(braid_mutex_try_lock(m) == BRAID_EAGAIN);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    REQUIRE(braid_mutex_unlock(m) == BRAID_EINVAL);
    braid_mutex_free(m);
}

// The fairness rule (docs/sync.md): no barging.  While anyone waits, a new
// lock attempt queues behind (try_lock fails), also in the moment after an
// unlock when the lock is on its way to the first waiter; so a waiter is
// granted the lock after exactly as many acquisitions as there are waiters
// ahead of it.
TEST_CASE("sync_mutex.mutex C ABI: a newcomer never takes the lock from a waiter, also just after an unlock") {
    braid_mutex* m = nullptr;
    REQUIRE(braid_mutex_new(&m) == BRAID_OK);
    REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
    CountingWaker a, b, late;
    braid_waiter* wa = nullptr;
    braid_waiter* wb = nullptr;
    braid_waiter* wl = nullptr;
    REQUIRE(braid_mutex_poll_lock(m, &wa, &CountingWaker::wake, &a) == BRAID_PENDING);
    REQUIRE(braid_mutex_poll_lock(m, &wb, &CountingWaker::wake, &b) == BRAID_PENDING);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);  // a's now, a has not run yet
    REQUIRE(a.wakes == 1);
    // Lockers that arrive now, before a takes it, cannot barge in.
    for (int i = 0; i < 100; ++i) REQUIRE(braid_mutex_try_lock(m) == BRAID_EAGAIN);
    REQUIRE(braid_mutex_poll_lock(m, &wl, &CountingWaker::wake, &late) == BRAID_PENDING);
    REQUIRE(braid_mutex_poll_lock(m, &wa, &CountingWaker::wake, &a) == BRAID_OK);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    REQUIRE(b.wakes == 1);  // b before the late one, which came after it
    REQUIRE(late.wakes == 0);
    REQUIRE(braid_mutex_poll_lock(m, &wb, &CountingWaker::wake, &b) == BRAID_OK);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    REQUIRE(late.wakes == 1);  // after exactly the two acquisitions ahead of it
    REQUIRE(braid_mutex_poll_lock(m, &wl, &CountingWaker::wake, &late) == BRAID_OK);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    braid_mutex_free(m);
}

TEST_CASE("sync_mutex.mutex: a mapped guard holds the lock for a part of the value, and into_inner") {
    struct Pair {
        int a = 1;
        std::vector<int> b;
    };
    braid::Mutex<Pair> m;
    {
        auto b = (*m.try_lock()).map([](Pair& p) -> std::vector<int>& { return p.b; });
        b->push_back(5);
        REQUIRE_FALSE(m.try_lock().has_value());
        auto first = std::move(b).map([](std::vector<int>& v) -> int& { return v.front(); });
        *first += 1;
        REQUIRE_FALSE(m.try_lock().has_value());
    }
    {
        auto g = m.try_lock();
        auto none = std::move(*g).try_map([](Pair&) -> int* { return nullptr; });
        REQUIRE_FALSE(none.has_value());
        REQUIRE((*g)->b == std::vector<int>{6});  // the guard kept the lock
        REQUIRE_FALSE(m.try_lock().has_value());
        auto a = std::move(*g).try_map([](Pair& p) { return &p.a; });
        REQUIRE(a.has_value());
        REQUIRE(**a == 1);
    }
    REQUIRE(m.try_lock().has_value());
    REQUIRE(std::move(m).into_inner().b == std::vector<int>{6});
}

}  // namespace test_sync_mutex
