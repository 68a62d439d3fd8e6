// Conformance: tokio/tests/sync_mutex_owned.rs (Tokio 1.24), ported from
// what each case asserts, through braid::lock_owned.  "Ready on the first
// poll" is select_biased against an always-ready second branch; "pending
// now" is a task on a current-thread runtime that has run and not finished.
// Timeouts run on a paused current-thread runtime.
//
// Gaps: none.
//
// Not applicable:
//   debug_format - Rust's `Debug` formatting of the guard.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <variant>

#include "support.hpp"

namespace conformance_sync_mutex_owned {

using namespace std::chrono_literals;

namespace {
using M = braid::Mutex<int>;

braid::Task<> always_ready() { co_return; }

// lock_owned(m) when it is ready on its first poll, else std::nullopt (and
// the lock is not taken).
braid::Task<std::optional<braid::OwnedMutexGuard<int>>> lock_owned_now(std::shared_ptr<M> m) {
    auto r = co_await braid::select_biased(braid::lock_owned(std::move(m)), always_ready());
    if (r.index() != 0) co_return std::nullopt;
    co_return std::move(std::get<0>(r));
}
}  // namespace

TEST_CASE("sync_mutex_owned.straight_execution") {
    auto rt = braid_test::current_thread_runtime();
    auto l = std::make_shared<M>(100);
    rt.block_on([](std::shared_ptr<M> l) -> braid::Task<> {
        {
            auto g = co_await lock_owned_now(l);
            EXPECT(g.has_value());
            EXPECT(**g == 100);
            **g = 99;
        }
        {
            auto g = co_await lock_owned_now(l);
            EXPECT(g.has_value());
            EXPECT(**g == 99);
            **g = 98;
        }
        {
            auto g = co_await lock_owned_now(std::move(l));
            EXPECT(g.has_value());
            EXPECT(**g == 98);
            EXPECT(g->mutex().use_count() == 1);  // the guard keeps the mutex alive
        }
    }(std::move(l)));
}

TEST_CASE("sync_mutex_owned.readiness") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto l = std::make_shared<M>(100);
        auto g = co_await lock_owned_now(l);
        EXPECT(g.has_value());

        // the lock is held by g: a second lock_owned waits
        auto t2 = braid::spawn([](std::shared_ptr<M> l) -> braid::Task<int> {
            auto g2 = co_await braid::lock_owned(std::move(l));
            co_return *g2;
        }, l);
        co_await braid::yield_now();  // t2 runs up to its lock
        EXPECT(!t2.is_finished());

        // once g unlocks, t2 gets it
        g.reset();
        int v = co_await t2;
        EXPECT(v == 100);
        EXPECT(l.use_count() == 1);
    }());
}

TEST_CASE("sync_mutex_owned.aborted_future_1") {
    auto rt = braid_test::current_thread_runtime(true);
    bool relocked = rt.block_on([]() -> braid::Task<bool> {
        auto m1 = std::make_shared<braid::Mutex<std::size_t>>(0);
        {
            auto m2 = m1;
            auto hold = [](std::shared_ptr<braid::Mutex<std::size_t>> m) -> braid::Task<> {
                auto iv = braid::interval(1000ms);
                auto g = co_await braid::lock_owned(std::move(m));
                co_await iv.tick();
                co_await iv.tick();
            };
            bool finished = co_await braid::timeout(1ms, hold(std::move(m2)));
            EXPECT(!finished);
        }
        auto relock = [](std::shared_ptr<braid::Mutex<std::size_t>> m) -> braid::Task<> {
            auto g = co_await braid::lock_owned(std::move(m));
        };
        co_return co_await braid::timeout(1ms, relock(m1));
    }());
    REQUIRE(relocked);
}

TEST_CASE("sync_mutex_owned.aborted_future_2") {
    auto rt = braid_test::current_thread_runtime(true);
    bool relocked = rt.block_on([]() -> braid::Task<bool> {
        auto m1 = std::make_shared<braid::Mutex<std::size_t>>(0);
        {
            auto lock = co_await braid::lock_owned(m1);
            {
                auto m2 = m1;
                auto wait = [](std::shared_ptr<braid::Mutex<std::size_t>> m) -> braid::Task<> {
                    auto g = co_await braid::lock_owned(std::move(m));
                };
                bool finished = co_await braid::timeout(1ms, wait(std::move(m2)));
                EXPECT(!finished);
            }
        }
        auto relock = [](std::shared_ptr<braid::Mutex<std::size_t>> m) -> braid::Task<> {
            auto g = co_await braid::lock_owned(std::move(m));
        };
        co_return co_await braid::timeout(1ms, relock(m1));
    }());
    REQUIRE(relocked);
}

TEST_CASE("sync_mutex_owned.try_lock_owned") {
    auto lock = std::make_shared<braid::Mutex<int>>(42);
    {
        auto g1 = braid::try_lock_owned(lock);
        REQUIRE(g1.has_value());
        auto g2 = braid::try_lock_owned(lock);
        REQUIRE_FALSE(g2.has_value());
    }
    auto g3 = braid::try_lock_owned(lock);
    REQUIRE(g3.has_value());
    REQUIRE(**g3 == 42);
}

}  // namespace conformance_sync_mutex_owned
