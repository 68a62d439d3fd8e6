// Conformance: tokio/tests/sync_semaphore_owned.rs (Tokio 1.24), ported from
// what each case asserts, through braid::acquire_owned.  #[tokio::test] and
// #[test] cases run on a current-thread runtime.  Some cases written before
// braid had try_acquire_owned take their first permits with an
// acquire_owned that completes at once.
//
// Gaps: none.
//
// Not applicable: none.
//
// braid's own: stress_owned_permits_move (owned permits acquired on one task
// and released by another, on four workers: permits conserved).
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <vector>

#include "support.hpp"

namespace conformance_sync_semaphore_owned {

using Sem = std::shared_ptr<braid::Semaphore>;

TEST_CASE("sync_semaphore_owned.acquire") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto sem = std::make_shared<braid::Semaphore>(1);
        std::optional<braid::OwnedSemaphorePermit> p1(co_await braid::acquire_owned(sem));
        auto j = braid::spawn([](Sem s) -> braid::Task<> {
            auto p2 = co_await braid::acquire_owned(std::move(s));
        }, sem);
        co_await braid::yield_now();  // j waits for p1's permit
        EXPECT(!j.is_finished());
        p1.reset();
        co_await j;
        EXPECT(sem->available_permits() == 1);
    }());
}

TEST_CASE("sync_semaphore_owned.acquire_many") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto semaphore = std::make_shared<braid::Semaphore>(42);
        std::optional<braid::OwnedSemaphorePermit> permit32(co_await braid::acquire_owned(semaphore, 32));
        auto [sender, receiver] = braid::oneshot::channel<int>();
        auto join_handle = braid::spawn([](Sem s, braid::oneshot::Sender<int> tx) -> braid::Task<> {
            auto permit10 = co_await braid::acquire_owned(s, 10);
            EXPECT(!tx.send(0).has_value());
            auto permit32 = co_await braid::acquire_owned(s, 32);
        }, semaphore, std::move(sender));
        co_await std::move(receiver);
        permit32.reset();
        co_await join_handle;
        EXPECT(semaphore->available_permits() == 42);
    }());
}

TEST_CASE("sync_semaphore_owned.add_permits") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto sem = std::make_shared<braid::Semaphore>(0);
        auto j = braid::spawn([](Sem s) -> braid::Task<> {
            auto p2 = co_await braid::acquire_owned(std::move(s));
        }, sem);
        sem->add_permits(1);
        co_await j;
    }());
}

TEST_CASE("sync_semaphore_owned.forget") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto sem = std::make_shared<braid::Semaphore>(1);
        {
            auto p = co_await braid::acquire_owned(sem);
            EXPECT(sem->available_permits() == 0);
            p.forget();
            EXPECT(sem->available_permits() == 0);
        }
        EXPECT(sem->available_permits() == 0);
        EXPECT(!sem->try_acquire().has_value());
    }());
}

TEST_CASE("sync_semaphore_owned.stress_test") {
    auto rt = braid_test::current_thread_runtime();
    auto sem = std::make_shared<braid::Semaphore>(5);
    rt.block_on([](Sem sem) -> braid::Task<> {
        std::vector<braid::JoinHandle<void>> handles;
        for (int i = 0; i < 1000; ++i) {
            handles.push_back(braid::spawn([](Sem s) -> braid::Task<> {
                auto p = co_await braid::acquire_owned(std::move(s));
            }, sem));
        }
        for (auto& j : handles) co_await j;
    }(sem));
    // exactly 5 permits are there now
    REQUIRE(sem->available_permits() == 5);
    auto five = sem->try_acquire(5);
    REQUIRE(five.has_value());
    REQUIRE_FALSE(sem->try_acquire().has_value());
    REQUIRE(sem.use_count() == 1);  // the tasks' permits let go of it
}

TEST_CASE("sync_semaphore_owned.stress_owned_permits_move") {
    constexpr std::size_t kPermits = 3;
    const int n = 3000 / braid_test::kStressDivisor;
    struct Shared {
        std::atomic<long> out{0}, too_many{0}, released{0};
    };
    auto sem = std::make_shared<braid::Semaphore>(kPermits);
    auto s = std::make_shared<Shared>();
    auto rt = braid_test::runtime(4);
    rt.block_on([](Sem sem, std::shared_ptr<Shared> s, int n) -> braid::Task<> {
        // acquire here, release in a task of its own (maybe on another worker)
        std::vector<braid::JoinHandle<void>> releasers;
        for (int i = 0; i < n; ++i) {
            auto p = co_await braid::acquire_owned(sem);
            if (s->out.fetch_add(1) + 1 > long(kPermits)) s->too_many.fetch_add(1);
            releasers.push_back(braid::spawn([](braid::OwnedSemaphorePermit p, std::shared_ptr<Shared> s) -> braid::Task<> {
                co_await braid::yield_now();
                s->out.fetch_sub(1);
                s->released.fetch_add(1);
                p = braid::OwnedSemaphorePermit();  // released here
            }, std::move(p), s));
        }
        for (auto& r : releasers) co_await r;
    }(sem, s, n));
    REQUIRE(s->too_many.load() == 0);
    REQUIRE(s->released.load() == n);
    REQUIRE(sem->available_permits() == kPermits);
    REQUIRE(sem.use_count() == 1);
}

TEST_CASE("sync_semaphore_owned.try_acquire") {
    auto sem = std::make_shared<braid::Semaphore>(1);
    {
        auto p1 = braid::try_acquire_owned(sem);
        REQUIRE(p1.has_value());
        auto p2 = braid::try_acquire_owned(sem);
        REQUIRE_FALSE(p2.has_value());
        REQUIRE(p2.is_no_permits());
    }
    auto p3 = braid::try_acquire_owned(sem);
    REQUIRE(p3.has_value());
}

TEST_CASE("sync_semaphore_owned.try_acquire_many") {
    auto sem = std::make_shared<braid::Semaphore>(42);
    {
        auto p1 = braid::try_acquire_many_owned(sem, 42);
        REQUIRE(p1.has_value());
        auto p2 = braid::try_acquire_owned(sem);
        REQUIRE_FALSE(p2.has_value());
    }
    auto p3 = braid::try_acquire_many_owned(sem, 32);
    REQUIRE(p3.has_value());
    auto p4 = braid::try_acquire_many_owned(sem, 10);
    REQUIRE(p4.has_value());
    REQUIRE_FALSE(braid::try_acquire_owned(sem).has_value());
}

TEST_CASE("sync_semaphore_owned.merge") {
    auto sem = std::make_shared<braid::Semaphore>(3);
    {
        auto p1 = braid::try_acquire_owned(sem);
        REQUIRE(sem->available_permits() == 2);
        auto p2 = braid::try_acquire_many_owned(sem, 2);
        REQUIRE(sem->available_permits() == 0);
        p1->merge(std::move(*p2));
        REQUIRE(p1->num_permits() == 3);
        p2.reset();  // merged: gives nothing back
        REQUIRE(sem->available_permits() == 0);
    }
    REQUIRE(sem->available_permits() == 3);
}

TEST_CASE("sync_semaphore_owned.merge_unrelated_permits") {
    // Tokio panics; braid throws and leaves both permits as they were.
    auto sem1 = std::make_shared<braid::Semaphore>(3);
    auto sem2 = std::make_shared<braid::Semaphore>(3);
    auto p1 = braid::try_acquire_owned(sem1);
    auto p2 = braid::try_acquire_owned(sem2);
    REQUIRE_THROWS_AS(p1->merge(std::move(*p2)), braid::Error);
    REQUIRE(p1->num_permits() == 1);
    REQUIRE(p2->num_permits() == 1);
}

TEST_CASE("sync_semaphore_owned.try_acquire_owned on a closed semaphore says closed") {
    auto sem = std::make_shared<braid::Semaphore>(1);
    sem->close();
    auto p = braid::try_acquire_owned(sem);
    REQUIRE(p.is_closed());
    REQUIRE(p.error() == braid::TryAcquireError::Closed);
}

}  // namespace conformance_sync_semaphore_owned
