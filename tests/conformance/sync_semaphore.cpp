// Conformance: tokio/tests/sync_semaphore.rs (Tokio 1.24), ported from what
// each case asserts.  #[tokio::test] cases run on a current-thread runtime.
// Tokio's #[should_panic] cases are misuses that braid reports by throwing
// braid::Error; they are ported as "throws".
//
// Gaps: none.
//
// Not applicable: none.
//
// braid's own: stress_permits_conserved (acquires of 1 to all permits, some
// polled once and cancelled as in Tokio's loom model concurrent_cancel,
// on four workers: never more permits out than exist, and all of them back
// at the end).
#include <catch2/catch.hpp>

#include <atomic>
#include <iterator>
#include <memory>
#include <vector>

#include "support.hpp"

namespace conformance_sync_semaphore {

TEST_CASE("sync_semaphore.no_permits") {
    REQUIRE_NOTHROW(braid::Semaphore(0));
}

TEST_CASE("sync_semaphore.try_acquire") {
    braid::Semaphore sem(1);
    {
        auto p1 = sem.try_acquire();
        REQUIRE(p1.has_value());
        auto p2 = sem.try_acquire();
        REQUIRE_FALSE(p2.has_value());
    }
    auto p3 = sem.try_acquire();
    REQUIRE(p3.has_value());
}

TEST_CASE("sync_semaphore.acquire") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto sem = std::make_shared<braid::Semaphore>(1);
        auto p1 = sem->try_acquire();
        EXPECT(p1.has_value());
        auto j = braid::spawn([](std::shared_ptr<braid::Semaphore> s) -> braid::Task<> {
            auto p2 = co_await s->acquire();
        }, sem);
        p1.reset();
        co_await j;
    }());
}

TEST_CASE("sync_semaphore.add_permits") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto sem = std::make_shared<braid::Semaphore>(0);
        auto j = braid::spawn([](std::shared_ptr<braid::Semaphore> s) -> braid::Task<> {
            auto p2 = co_await s->acquire();
        }, sem);
        sem->add_permits(1);
        co_await j;
    }());
}

TEST_CASE("sync_semaphore.forget") {
    braid::Semaphore sem(1);
    {
        auto p = sem.try_acquire();
        REQUIRE(p.has_value());
        REQUIRE(sem.available_permits() == 0);
        p->forget();
        REQUIRE(sem.available_permits() == 0);
    }
    REQUIRE(sem.available_permits() == 0);
    REQUIRE_FALSE(sem.try_acquire().has_value());
}

TEST_CASE("sync_semaphore.merge") {
    braid::Semaphore sem(3);
    {
        auto p1 = sem.try_acquire();
        REQUIRE(p1.has_value());
        REQUIRE(sem.available_permits() == 2);
        auto p2 = sem.try_acquire(2);
        REQUIRE(p2.has_value());
        REQUIRE(sem.available_permits() == 0);
        p1->merge(std::move(*p2));
        REQUIRE(p1->num_permits() == 3);
        REQUIRE(sem.available_permits() == 0);
    }
    REQUIRE(sem.available_permits() == 3);
}

TEST_CASE("sync_semaphore.merge_unrelated_permits") {
    braid::Semaphore sem1(3), sem2(3);
    auto p1 = sem1.try_acquire();
    auto p2 = sem2.try_acquire();
    REQUIRE(braid_test::error_code_of([&] { p1->merge(std::move(*p2)); }) == BRAID_EINVAL);
    // nothing moved: each permit goes back to its own semaphore
    REQUIRE(p1->num_permits() == 1);
    REQUIRE(p2->num_permits() == 1);
    p1.reset();
    p2.reset();
    REQUIRE(sem1.available_permits() == 3);
    REQUIRE(sem2.available_permits() == 3);
}

TEST_CASE("sync_semaphore.stress_test") {
    auto rt = braid_test::current_thread_runtime();
    auto sem = std::make_shared<braid::Semaphore>(5);
    rt.block_on([](std::shared_ptr<braid::Semaphore> sem) -> braid::Task<> {
        std::vector<braid::JoinHandle<void>> handles;
        for (int i = 0; i < 1000; ++i) {
            handles.push_back(braid::spawn([](std::shared_ptr<braid::Semaphore> s) -> braid::Task<> {
                auto p = co_await s->acquire();
            }, sem));
        }
        for (auto& j : handles) co_await j;
    }(sem));
    // exactly 5 permits are there now
    std::vector<braid::SemaphorePermit> held;
    for (int i = 0; i < 5; ++i) {
        auto p = sem->try_acquire();
        REQUIRE(p.has_value());
        held.push_back(std::move(*p));
    }
    REQUIRE_FALSE(sem->try_acquire().has_value());
}

TEST_CASE("sync_semaphore.add_max_amount_permits") {
    braid::Semaphore s(0);
    s.add_permits(braid::Semaphore::MAX_PERMITS);
    REQUIRE(s.available_permits() == braid::Semaphore::MAX_PERMITS);
}

TEST_CASE("sync_semaphore.add_more_than_max_amount_permits1") {
    braid::Semaphore s(1);
    REQUIRE(braid_test::error_code_of([&] { s.add_permits(braid::Semaphore::MAX_PERMITS); }) == BRAID_ERANGE);
    REQUIRE(s.available_permits() == 1);  // nothing added
}

TEST_CASE("sync_semaphore.add_more_than_max_amount_permits2") {
    braid::Semaphore s(braid::Semaphore::MAX_PERMITS - 1);
    s.add_permits(1);
    REQUIRE(braid_test::error_code_of([&] { s.add_permits(1); }) == BRAID_ERANGE);
    REQUIRE(s.available_permits() == braid::Semaphore::MAX_PERMITS);
}

TEST_CASE("sync_semaphore.panic_when_exceeds_maxpermits") {
    REQUIRE(braid_test::error_code_of([] { braid::Semaphore s(braid::Semaphore::MAX_PERMITS + 1); }) == BRAID_ERANGE);
}

TEST_CASE("sync_semaphore.no_panic_at_maxpermits") {
    REQUIRE_NOTHROW(braid::Semaphore(braid::Semaphore::MAX_PERMITS));
    braid::Semaphore s(braid::Semaphore::MAX_PERMITS - 1);
    REQUIRE_NOTHROW(s.add_permits(1));
}

TEST_CASE("sync_semaphore.stress_permits_conserved") {
    constexpr std::size_t kPermits = 10;
    constexpr int kTasks = 12;
    const int per_task = 1500 / braid_test::kStressDivisor;
    struct Shared {
        braid::Semaphore sem{kPermits};
        std::atomic<long> out{0};       // permits held right now
        std::atomic<long> too_many{0};  // times more than kPermits were out
        std::atomic<long> acquired{0}, cancelled{0};
    };
    auto s = std::make_shared<Shared>();
    auto rt = braid_test::runtime(4);
    rt.block_on([](std::shared_ptr<Shared> s, int n) -> braid::Task<> {
        std::vector<braid::JoinHandle<void>> tasks;
        for (int t = 0; t < kTasks; ++t) {
            tasks.push_back(braid::spawn([](std::shared_ptr<Shared> s, int t, int n) -> braid::Task<> {
                static constexpr std::size_t sizes[] = {4, 10, 8, 1, 3, 1, 2};
                for (int i = 0; i < n; ++i) {
                    std::size_t want = sizes[std::size_t(t + i) % std::size(sizes)];
                    if ((t + i) % 4 == 0) {
                        // polled once, then dropped (a lost select)
                        auto ready = []() -> braid::Task<> { co_return; };
                        auto r = co_await braid::select_biased(s->sem.acquire_many(want), ready());
                        if (r.index() == 1) {
                            s->cancelled.fetch_add(1);
                            continue;
                        }
                        long now = s->out.fetch_add(long(want)) + long(want);
                        if (now > long(kPermits)) s->too_many.fetch_add(1);
                        s->acquired.fetch_add(1);
                        s->out.fetch_sub(long(want));
                        continue;  // the permit is released here
                    }
                    auto p = co_await s->sem.acquire_many(want);
                    long now = s->out.fetch_add(long(want)) + long(want);
                    if (now > long(kPermits)) s->too_many.fetch_add(1);
                    s->acquired.fetch_add(1);
                    if (i % 3 == 0) co_await braid::yield_now();
                    s->out.fetch_sub(long(want));
                }
            }, s, t, n));
        }
        for (auto& t : tasks) co_await t;
    }(s, per_task));
    REQUIRE(s->too_many.load() == 0);
    REQUIRE(s->acquired.load() + s->cancelled.load() == long(kTasks) * per_task);
    REQUIRE(s->sem.available_permits() == kPermits);
    REQUIRE(s->sem.try_acquire(kPermits).has_value());
}

}  // namespace conformance_sync_semaphore
