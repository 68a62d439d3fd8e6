// Conformance: tokio/tests/sync_rwlock.rs (Tokio 1.24), ported from what
// each case asserts.  Tokio's hand-polled read()/write() futures are
// braid_rwlock_poll_read / _poll_write polled with a counting waker
// (braid_test::PolledWait); dropping the future is its cancel; a lock won
// that way is adopted by a braid guard.  #[tokio::test] cases run on a
// current-thread runtime, multithreaded on eight workers as in Tokio.
//
// Gaps: none.
//
// Not applicable: none.
//
// braid's own: stress_readers_writers (readers, writers and downgrading
// writers on four workers: readers never see a half-done write, no write
// is lost).
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <vector>

#include "support.hpp"

namespace conformance_sync_rwlock {

using braid_test::PolledWait;

namespace {
template <class T>
PolledWait read_of(braid::RwLock<T>& l) {
    return PolledWait(l.native_handle(), braid_rwlock_poll_read, braid_rwlock_cancel_read);
}
template <class T>
PolledWait write_of(braid::RwLock<T>& l) {
    return PolledWait(l.native_handle(), braid_rwlock_poll_write, braid_rwlock_cancel_write);
}
}  // namespace

TEST_CASE("sync_rwlock.read_shared") {
    braid::RwLock<int> rwlock(100);
    auto t1 = read_of(rwlock);
    REQUIRE(t1.poll() == BRAID_OK);
    braid::RwLockReadGuard<int> g1(&rwlock);
    auto t2 = read_of(rwlock);
    REQUIRE(t2.poll() == BRAID_OK);
    braid::RwLockReadGuard<int> g2(&rwlock);
    REQUIRE(*g1 == 100);
    REQUIRE(*g2 == 100);
}

TEST_CASE("sync_rwlock.write_shared_pending") {
    braid::RwLock<int> rwlock(100);
    auto t1 = read_of(rwlock);
    REQUIRE(t1.poll() == BRAID_OK);
    braid::RwLockReadGuard<int> g1(&rwlock);
    auto t2 = write_of(rwlock);
    REQUIRE(t2.poll() == BRAID_PENDING);
}

TEST_CASE("sync_rwlock.read_exclusive_pending") {
    braid::RwLock<int> rwlock(100);
    auto t1 = write_of(rwlock);
    REQUIRE(t1.poll() == BRAID_OK);
    braid::RwLockWriteGuard<int> g1(&rwlock);
    auto t2 = read_of(rwlock);
    REQUIRE(t2.poll() == BRAID_PENDING);
}

TEST_CASE("sync_rwlock.write_exclusive_pending") {
    braid::RwLock<int> rwlock(100);
    auto t1 = write_of(rwlock);
    REQUIRE(t1.poll() == BRAID_OK);
    braid::RwLockWriteGuard<int> g1(&rwlock);
    auto t2 = write_of(rwlock);
    REQUIRE(t2.poll() == BRAID_PENDING);
}

TEST_CASE("sync_rwlock.write_shared_drop") {
    braid::RwLock<int> rwlock(100);
    auto t1 = read_of(rwlock);
    REQUIRE(t1.poll() == BRAID_OK);
    std::optional<braid::RwLockReadGuard<int>> g1(std::in_place, &rwlock);
    auto t2 = write_of(rwlock);
    REQUIRE(t2.poll() == BRAID_PENDING);
    g1.reset();
    REQUIRE(t2.is_woken());
    REQUIRE(t2.poll() == BRAID_OK);
    braid::RwLockWriteGuard<int> g2(&rwlock);
}

TEST_CASE("sync_rwlock.write_read_shared_pending") {
    // A waiting writer holds back the readers that come after it.
    braid::RwLock<int> rwlock(100);
    auto t1 = read_of(rwlock);
    REQUIRE(t1.poll() == BRAID_OK);
    braid::RwLockReadGuard<int> g1(&rwlock);
    auto t2 = read_of(rwlock);
    REQUIRE(t2.poll() == BRAID_OK);
    braid::RwLockReadGuard<int> g2(&rwlock);

    auto t3 = write_of(rwlock);
    REQUIRE(t3.poll() == BRAID_PENDING);
    auto t4 = read_of(rwlock);
    REQUIRE(t4.poll() == BRAID_PENDING);
}

TEST_CASE("sync_rwlock.write_read_shared_drop_pending") {
    // When the waiting writer gives up, the reader behind it gets in.
    braid::RwLock<int> rwlock(100);
    auto t1 = read_of(rwlock);
    REQUIRE(t1.poll() == BRAID_OK);
    braid::RwLockReadGuard<int> g1(&rwlock);

    auto t2 = std::make_unique<PolledWait>(rwlock.native_handle(), braid_rwlock_poll_write,
                                           braid_rwlock_cancel_write);
    REQUIRE(t2->poll() == BRAID_PENDING);

    auto t3 = read_of(rwlock);
    REQUIRE(t3.poll() == BRAID_PENDING);
    t2.reset();

    REQUIRE(t3.is_woken());
    REQUIRE(t3.poll() == BRAID_OK);
    braid::RwLockReadGuard<int> g3(&rwlock);
}

TEST_CASE("sync_rwlock.read_uncontested") {
    auto rt = braid_test::current_thread_runtime();
    int result = rt.block_on([]() -> braid::Task<int> {
        braid::RwLock<int> rwlock(100);
        co_return *co_await rwlock.read();
    }());
    REQUIRE(result == 100);
}

TEST_CASE("sync_rwlock.write_uncontested") {
    auto rt = braid_test::current_thread_runtime();
    int result = rt.block_on([]() -> braid::Task<int> {
        braid::RwLock<int> rwlock(100);
        auto g = co_await rwlock.write();
        *g += 50;
        co_return *g;
    }());
    REQUIRE(result == 150);
}

TEST_CASE("sync_rwlock.write_order") {
    // Locks are taken in the order they are first polled, not created.
    auto rt = braid_test::current_thread_runtime();
    auto order = rt.block_on([]() -> braid::Task<std::vector<unsigned>> {
        braid::RwLock<std::vector<unsigned>> rwlock;
        auto fut2 = rwlock.write();
        auto fut1 = rwlock.write();
        { (co_await fut1)->push_back(1); }
        { (co_await fut2)->push_back(2); }
        auto g = co_await rwlock.read();
        co_return *g;
    }());
    REQUIRE(order == std::vector<unsigned>{1, 2});
}

TEST_CASE("sync_rwlock.multithreaded") {
    auto rt = braid_test::runtime(8);
    unsigned total = rt.block_on([]() -> braid::Task<unsigned> {
        auto barrier = std::make_shared<braid::Barrier>(5);
        auto rwlock = std::make_shared<braid::RwLock<unsigned>>(0u);
        for (unsigned add : {2u, 3u, 5u, 7u}) {
            braid::spawn([](std::shared_ptr<braid::Barrier> b, std::shared_ptr<braid::RwLock<unsigned>> l,
                            unsigned add) -> braid::Task<> {
                for (int i = 0; i < 1000; ++i) {
                    auto g = co_await l->write();
                    *g += add;
                }
                co_await b->wait();
            }, barrier, rwlock, add).detach();
        }
        co_await barrier->wait();
        auto g = co_await rwlock->read();
        co_return *g;
    }());
    REQUIRE(total == 17000);
}

TEST_CASE("sync_rwlock.try_write") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid::RwLock<int> lock(0);
        std::optional<braid::RwLockReadGuard<int>> read_guard(co_await lock.read());
        EXPECT(!lock.try_write().has_value());
        read_guard.reset();
        EXPECT(lock.try_write().has_value());
    }());
}

TEST_CASE("sync_rwlock.try_read_try_write") {
    braid::RwLock<std::size_t> lock(15);
    {
        auto rg1 = lock.try_read();
        REQUIRE(rg1.has_value());
        REQUIRE(**rg1 == 15);
        REQUIRE_FALSE(lock.try_write().has_value());
        auto rg2 = lock.try_read();
        REQUIRE(rg2.has_value());
        REQUIRE(**rg2 == 15);
    }
    {
        auto wg = lock.try_write();
        REQUIRE(wg.has_value());
        **wg = 1515;
        REQUIRE_FALSE(lock.try_read().has_value());
    }
    auto rg = lock.try_read();
    REQUIRE(rg.has_value());
    REQUIRE(**rg == 1515);
}

TEST_CASE("sync_rwlock.stress_readers_writers") {
    constexpr int kReaders = 6, kWriters = 4;
    const int per_task = 1500 / braid_test::kStressDivisor;
    struct Pair {
        long a = 0, b = 0;
    };
    struct Shared {
        braid::RwLock<Pair> lock;
        std::atomic<int> torn{0};
        std::atomic<int> readers_inside{0}, writers_inside{0}, overlaps{0};
    };
    auto s = std::make_shared<Shared>();
    auto rt = braid_test::runtime(4);
    rt.block_on([](std::shared_ptr<Shared> s, int n) -> braid::Task<> {
        std::vector<braid::JoinHandle<void>> tasks;
        for (int w = 0; w < kWriters; ++w) {
            tasks.push_back(braid::spawn([](std::shared_ptr<Shared> s, int n, bool downgrade) -> braid::Task<> {
                for (int i = 0; i < n; ++i) {
                    auto g = co_await s->lock.write();
                    if (s->writers_inside.fetch_add(1) != 0 || s->readers_inside.load() != 0) s->overlaps.fetch_add(1);
                    g->a += 1;
                    if (i % 5 == 0) co_await braid::yield_now();
                    g->b += 1;
                    s->writers_inside.fetch_sub(1);
                    if (downgrade && i % 3 == 0) {
                        auto r = std::move(g).downgrade();  // no writer gets in between
                        if (r->a != r->b) s->torn.fetch_add(1);
                    }
                }
            }, s, n, w % 2 == 0));
        }
        for (int r = 0; r < kReaders; ++r) {
            tasks.push_back(braid::spawn([](std::shared_ptr<Shared> s, int n) -> braid::Task<> {
                for (int i = 0; i < n; ++i) {
                    auto g = co_await s->lock.read();
                    s->readers_inside.fetch_add(1);
                    if (s->writers_inside.load() != 0) s->overlaps.fetch_add(1);
                    if (g->a != g->b) s->torn.fetch_add(1);
                    if (i % 7 == 0) co_await braid::yield_now();
                    s->readers_inside.fetch_sub(1);
                }
            }, s, n));
        }
        for (auto& t : tasks) co_await t;
    }(s, per_task));
    REQUIRE(s->torn.load() == 0);
    REQUIRE(s->overlaps.load() == 0);
    REQUIRE(s->lock.get_mut().a == long(kWriters) * per_task);
    REQUIRE(s->lock.get_mut().b == long(kWriters) * per_task);
    REQUIRE(s->lock.try_write().has_value());
}

TEST_CASE("sync_rwlock.into_inner") {
    braid::RwLock<int> rwlock(42);
    REQUIRE(std::move(rwlock).into_inner() == 42);
}

TEST_CASE("sync_rwlock.exhaust_reading") {
    auto rwlock = braid::RwLock<int>::with_max_readers(100, 1024);
    std::vector<std::unique_ptr<PolledWait>> waits;
    std::vector<braid::RwLockReadGuard<int>> reads;
    for (;;) {
        auto t = std::make_unique<PolledWait>(rwlock.native_handle(), braid_rwlock_poll_read, braid_rwlock_cancel_read);
        if (t->poll() != BRAID_OK) break;  // pending: the readers are exhausted (t is dropped)
        reads.emplace_back(&rwlock);
        waits.push_back(std::move(t));
    }
    REQUIRE(reads.size() == 1024);
    auto t1 = read_of(rwlock);
    REQUIRE(t1.poll() == BRAID_PENDING);
    reads.pop_back();
    REQUIRE(t1.is_woken());
    REQUIRE(t1.poll() == BRAID_OK);
    braid::RwLockReadGuard<int> g(&rwlock);
}

}  // namespace conformance_sync_rwlock
