// Semaphore: permits, acquire_many, FIFO fairness (a big acquire is not
// starved), partial grants given back on cancel, close, owned permits,
// forget/merge/split, blocking acquires, the C ABI.
#include <catch2/catch.hpp>
#include <braid/semaphore.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_sync_semaphore {

using namespace std::chrono_literals;

using braid_test::CountingWaker;

TEST_CASE("sync_semaphore.semaphore: permits are taken and given back") {
    braid::Semaphore sem(3);
    REQUIRE(sem.available_permits() == 3);
    {
        auto a = sem.try_acquire();
        auto b = sem.try_acquire(2);
        REQUIRE(a);
        REQUIRE(b);
        REQUIRE(b->num_permits() == 2);
        REQUIRE(sem.available_permits() == 0);
        REQUIRE_FALSE(sem.try_acquire());
    }
    REQUIRE(sem.available_permits() == 3);
    sem.add_permits(2);
    REQUIRE(sem.available_permits() == 5);
    {
        auto p = sem.try_acquire(4);
        auto part = p->split(3);
        REQUIRE(part->num_permits() == 3);
        REQUIRE(p->num_permits() == 1);
        REQUIRE_FALSE(p->split(2));
        p->merge(std::move(*part));
        REQUIRE(p->num_permits() == 4);
        p->forget();
    }
    REQUIRE(sem.available_permits() == 1);  // 4 forgotten
}

TEST_CASE("sync_semaphore.semaphore: at most n tasks inside") {
    auto rt = braid_test::runtime(2);
    int most = rt.block_on([]() -> braid::Task<int> {
        auto sem = std::make_shared<braid::Semaphore>(3);
        auto inside = std::make_shared<std::atomic<int>>(0);
        auto most = std::make_shared<std::atomic<int>>(0);
        std::vector<braid::JoinHandle<void>> hs;
        for (int i = 0; i < 50; ++i)
            hs.push_back(braid::spawn([](auto sem, auto inside, auto most) -> braid::Task<> {
                for (int k = 0; k < 20; ++k) {
                    auto p = co_await sem->acquire();
                    int now = ++*inside;
                    int m = most->load();
                    while (now > m && !most->compare_exchange_weak(m, now)) {
                    }
                    co_await braid::yield_now();
                    --*inside;
                }
            }(sem, inside, most)));
        for (auto& h : hs) co_await h;
        co_return most->load();
    }());
    REQUIRE(most >= 1);
    REQUIRE(most <= 3);
}

TEST_CASE("sync_semaphore.semaphore: a big acquire_many is served before later small acquires") {
    auto rt = braid_test::runtime(1);
    auto order = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto sem = std::make_shared<braid::Semaphore>(1);
        auto log = std::make_shared<std::vector<int>>();
        auto held = sem->try_acquire();  // 0 free
        auto big = braid::spawn([](auto s, auto l) -> braid::Task<> {
            auto p = co_await s->acquire_many(3);
            l->push_back(3);
        }(sem, log));
        co_await braid::yield_now();
        std::vector<braid::JoinHandle<void>> small;
        for (int i = 0; i < 3; ++i) {
            small.push_back(braid::spawn([](auto s, auto l) -> braid::Task<> {
                auto p = co_await s->acquire();
                l->push_back(1);
            }(sem, log)));
            co_await braid::yield_now();
        }
        held.reset();          // 1 free: goes to the big one (partial), not to the small ones
        co_await braid::yield_now();
        log->push_back(int(sem->available_permits()));  // 0
        sem->add_permits(2);   // big completes; then it releases 3 for the small ones
        co_await big;
        for (auto& h : small) co_await h;
        co_return *log;
    }());
    REQUIRE(order == std::vector<int>{0, 3, 1, 1, 1});
}

TEST_CASE("sync_semaphore.semaphore: a cancelled acquire_many gives back the permits it was granted") {
    braid_semaphore* sem = nullptr;
    REQUIRE(braid_semaphore_new(&sem, 0) == BRAID_OK);
    CountingWaker a, b;
    braid_waiter* wa = nullptr;
    braid_waiter* wb = nullptr;
    REQUIRE(braid_semaphore_poll_acquire(sem, 5, &wa, &CountingWaker::wake, &a) == BRAID_PENDING);
    REQUIRE(braid_semaphore_poll_acquire(sem, 1, &wb, &CountingWaker::wake, &b) == BRAID_PENDING);
    REQUIRE(braid_semaphore_release(sem, 3) == BRAID_OK);  // all 3 go to a (the head), partially
    REQUIRE(braid_semaphore_available_permits(sem) == 0);
    REQUIRE(a.wakes == 0);
    REQUIRE(b.wakes == 0);
    braid_semaphore_cancel_acquire(sem, &wa);  // a's 3 go on: 1 to b, 2 free
    REQUIRE(wa == nullptr);
    REQUIRE(b.wakes == 1);
    REQUIRE(braid_semaphore_available_permits(sem) == 2);
    REQUIRE(braid_semaphore_poll_acquire(sem, 1, &wb, &CountingWaker::wake, &b) == BRAID_OK);
    REQUIRE(wb == nullptr);
    // Granted in full but cancelled before it took them: all go back.
    REQUIRE(braid_semaphore_poll_acquire(sem, 4, &wa, &CountingWaker::wake, &a) == BRAID_PENDING);
    REQUIRE(braid_semaphore_release(sem, 2) == BRAID_OK);
    REQUIRE(a.wakes == 1);
    REQUIRE(braid_semaphore_available_permits(sem) == 0);
    braid_semaphore_cancel_acquire(sem, &wa);
    REQUIRE(braid_semaphore_available_permits(sem) == 4);
    braid_semaphore_cancel_acquire(sem, &wa);  // no-op
    braid_semaphore_free(sem);
}

TEST_CASE("sync_semaphore.semaphore: an acquire cancelled by abort leaves the permits in the semaphore") {
    auto rt = braid_test::runtime(2);
    size_t left = rt.block_on([]() -> braid::Task<size_t> {
        auto sem = std::make_shared<braid::Semaphore>(2);
        auto hold = sem->try_acquire(1);
        auto waiter = braid::spawn([](auto s) -> braid::Task<> {
            auto p = co_await s->acquire_many(2);  // gets 1 of 2, then is aborted
            co_await braid::sleep(1h);
        }(sem));
        co_await braid::sleep(1ms);
        waiter.abort();
        try {
            co_await waiter;
        } catch (const braid::TaskCancelled&) {
        }
        hold.reset();
        co_return sem->available_permits();
    }());
    REQUIRE(left == 2);
}

TEST_CASE("sync_semaphore.semaphore: close fails waiting and later acquires, held permits stay valid") {
    auto rt = braid_test::runtime(2);
    auto r = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto sem = std::make_shared<braid::Semaphore>(1);
        auto held = co_await sem->acquire();
        auto waiter = braid::spawn([](auto s) -> braid::Task<int> {
            try {
                auto p = co_await s->acquire();
                co_return 0;
            } catch (const braid::AcquireError& e) {
                co_return e.code() == BRAID_ECLOSED ? 1 : 2;
            }
        }(sem));
        co_await braid::sleep(1ms);
        sem->close();
        std::vector<int> out;
        out.push_back(co_await waiter);
        out.push_back(sem->is_closed() ? 1 : 0);
        out.push_back(sem->try_acquire() ? 1 : 0);
        try {
            auto p = co_await sem->acquire();
            out.push_back(0);
        } catch (const braid::AcquireError&) {
            out.push_back(1);
        }
        { auto drop = std::move(held); }
        out.push_back(int(sem->available_permits()));
        co_return out;
    }());
    REQUIRE(r == std::vector<int>{1, 1, 0, 1, 1});
}

TEST_CASE("sync_semaphore.semaphore: owned permits keep the semaphore alive in another task") {
    auto rt = braid_test::runtime(2);
    size_t after = rt.block_on([]() -> braid::Task<size_t> {
        auto sem = std::make_shared<braid::Semaphore>(2);
        auto permit = co_await braid::acquire_owned(sem, 2);
        auto h = braid::spawn([](braid::OwnedSemaphorePermit p) -> braid::Task<size_t> {
            co_await braid::sleep(1ms);
            co_return p.num_permits();
        }, std::move(permit));
        size_t n = co_await h;
        co_return n * 10 + sem->available_permits();
    }());
    REQUIRE(after == 22);
}

TEST_CASE("sync_semaphore.semaphore: blocking acquire on foreign threads, refused on workers, timeout") {
    auto rt = braid_test::runtime(2);
    braid::Semaphore sem(1);
    std::atomic<int> inside{0}, most{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t)
        ts.emplace_back([&] {
            for (int i = 0; i < 200; ++i) {
                auto p = sem.blocking_acquire();
                int now = ++inside;
                if (now > most) most = now;
                --inside;
            }
        });
    for (auto& t : ts) t.join();
    REQUIRE(most == 1);
    auto p = sem.try_acquire();
    REQUIRE(braid_semaphore_acquire_blocking(sem.native_handle(), 1, 5) == BRAID_ETIMEDOUT);
    REQUIRE(sem.available_permits() == 0);
    int rc = rt.block_on([](braid_semaphore* s) -> braid::Task<int> {
        co_return braid_semaphore_acquire_blocking(s, 1, 1);
    }(sem.native_handle()));
    REQUIRE(rc == BRAID_EDEADLK);
}

TEST_CASE("sync_semaphore.semaphore C ABI: bad input") {
    braid_semaphore* sem = nullptr;
    REQUIRE(braid_semaphore_new(nullptr, 1) == BRAID_EINVAL);
    REQUIRE(braid_semaphore_new(&sem, size_t(BRAID_SEMAPHORE_MAX_PERMITS) + 1) == BRAID_ERANGE);
    REQUIRE(braid_semaphore_new(&sem, size_t(BRAID_SEMAPHORE_MAX_PERMITS)) == BRAID_OK);
    REQUIRE(braid_semaphore_release(sem, 1) == BRAID_ERANGE);
    REQUIRE(braid_semaphore_try_acquire(sem, size_t(BRAID_SEMAPHORE_MAX_PERMITS) + 1) == BRAID_ERANGE);
    braid_semaphore_free(sem);
    REQUIRE(braid_semaphore_new(&sem, 0) == BRAID_OK);
    REQUIRE(braid_semaphore_try_acquire(sem, 1) == BRAID_EAGAIN);
    REQUIRE(braid_semaphore_try_acquire(sem, 0) == BRAID_OK);
    REQUIRE(braid_semaphore_poll_acquire(sem, 1, nullptr, nullptr, nullptr) == BRAID_EINVAL);
    braid_waiter* w = nullptr;
    REQUIRE(braid_semaphore_poll_acquire(sem, 1, &w, nullptr, nullptr) == BRAID_PENDING);  // a try: nothing queued
    REQUIRE(w == nullptr);
    REQUIRE(braid_semaphore_acquire_blocking(sem, 1, 0) == BRAID_ETIMEDOUT);  // one attempt
    braid_semaphore_close(sem);
    REQUIRE(braid_semaphore_is_closed(sem) == 1);
    REQUIRE(braid_semaphore_try_acquire(sem, 1) == BRAID_ECLOSED);
    REQUIRE(braid_semaphore_release(sem, 1) == BRAID_OK);
    REQUIRE(braid_semaphore_available_permits(sem) == 1);
    braid_semaphore_free(sem);
    braid_semaphore_free(nullptr);
    braid_semaphore_close(nullptr);
    braid_semaphore_cancel_acquire(nullptr, nullptr);
    REQUIRE(braid_semaphore_is_closed(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_semaphore_release(nullptr, 1) == BRAID_EINVAL);
    REQUIRE(braid_semaphore_available_permits(nullptr) == 0);
}

namespace {
braid_test::PolledWait::PollFn acquire(braid_semaphore* sem, uint64_t n) {
    return [sem, n](braid_waiter** w, braid_wake_fn f, void* d) { return braid_semaphore_poll_acquire(sem, size_t(n), w, f, d); };
}
braid_test::PolledWait::CancelFn cancel(braid_semaphore* sem) {
    return [sem](braid_waiter** w) { braid_semaphore_cancel_acquire(sem, w); };
}
}  // namespace

TEST_CASE("sync_semaphore.semaphore C ABI: permits granted to a waiter count against the maximum") {
    const uint64_t max = BRAID_SEMAPHORE_MAX_PERMITS;
    braid_semaphore* sem = nullptr;
    REQUIRE(braid_semaphore_new(&sem, 0) == BRAID_OK);
    {
        braid_test::PolledWait all(acquire(sem, max), cancel(sem));
        REQUIRE(all.poll() == BRAID_PENDING);
        REQUIRE(braid_semaphore_release(sem, size_t(max)) == BRAID_OK);  // granted to the waiter
        REQUIRE(all.is_woken());
        REQUIRE(braid_semaphore_available_permits(sem) == 0);
        // The waiter's permits exist: as many again would exceed the maximum.
        REQUIRE(braid_semaphore_release(sem, size_t(max)) == BRAID_ERANGE);
        REQUIRE(braid_semaphore_release(sem, 1) == BRAID_ERANGE);
        all.cancel();  // the grant comes back
    }
    REQUIRE(braid_semaphore_available_permits(sem) == max);
    REQUIRE(braid_semaphore_try_acquire(sem, size_t(max)) == BRAID_OK);
    REQUIRE(braid_semaphore_try_acquire(sem, 1) == BRAID_EAGAIN);

    // One permit granted to a waiter and not yet taken: at most max - 1 more.
    {
        braid_test::PolledWait one(acquire(sem, 1), cancel(sem));
        REQUIRE(one.poll() == BRAID_PENDING);
        REQUIRE(braid_semaphore_release(sem, 1) == BRAID_OK);
        REQUIRE(braid_semaphore_release(sem, size_t(max)) == BRAID_ERANGE);
        REQUIRE(braid_semaphore_release(sem, size_t(max - 1)) == BRAID_OK);
        one.cancel();
    }
    REQUIRE(braid_semaphore_available_permits(sem) == max);
    REQUIRE(braid_semaphore_release(sem, 1) == BRAID_ERANGE);

    // A waiter holding a partial grant when the semaphore closes: its
    // permits come back, still within the maximum.
    REQUIRE(braid_semaphore_try_acquire(sem, size_t(max)) == BRAID_OK);
    REQUIRE(braid_semaphore_release(sem, 5) == BRAID_OK);
    {
        braid_test::PolledWait big(acquire(sem, 10), cancel(sem));
        REQUIRE(big.poll() == BRAID_PENDING);  // took the 5 free ones
        REQUIRE(braid_semaphore_release(sem, size_t(max - 5)) == BRAID_OK);  // completes it
        REQUIRE(braid_semaphore_release(sem, 1) == BRAID_ERANGE);
        braid_semaphore_close(sem);
        REQUIRE(big.poll() == BRAID_OK);  // granted before the close
        REQUIRE(braid_semaphore_release(sem, 10) == BRAID_OK);
    }
    REQUIRE(braid_semaphore_available_permits(sem) == max);
    braid_semaphore_free(sem);
}

TEST_CASE("sync_semaphore.semaphore: forget_permits removes free permits only, and says how many") {
    braid::Semaphore sem(5);
    auto held = sem.try_acquire(2);
    REQUIRE(held.has_value());
    REQUIRE(sem.forget_permits(2) == 2);
    REQUIRE(sem.available_permits() == 1);
    REQUIRE(sem.forget_permits(10) == 1);  // only what is free
    REQUIRE(sem.available_permits() == 0);
    REQUIRE(sem.forget_permits(1) == 0);
    auto none = sem.try_acquire();
    REQUIRE(none.is_no_permits());
    held.reset();  // the held permits come back
    REQUIRE(sem.available_permits() == 2);
    REQUIRE(braid_semaphore_forget_permits(nullptr, 3) == 0);
    sem.close();
    REQUIRE(sem.try_acquire().is_closed());
}

}  // namespace test_sync_semaphore
