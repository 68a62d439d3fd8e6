// JoinSet and AbortHandle.
#include <catch2/catch.hpp>

#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_task_join_set {

using namespace std::chrono_literals;
using braid_test::Tracked;
using braid_test::value_after;

namespace {
}  // namespace

TEST_CASE("task_join_set.JoinSet: join_next gives results in completion order, then nullopt") {
    auto rt = braid_test::paused_runtime(2);
    auto order = rt.block_on([]() -> braid::Task<std::vector<int>> {
        braid::JoinSet<int> set;
        for (int ms : {30, 10, 20}) set.spawn(value_after(std::chrono::milliseconds(ms), ms));
        REQUIRE(set.len() == 3);
        std::vector<int> out;
        while (auto r = co_await set.join_next()) out.push_back(*r);
        REQUIRE(set.empty());
        co_return out;
    }());
    REQUIRE(order == std::vector<int>{10, 20, 30});
}

TEST_CASE("task_join_set.JoinSet: a task's exception is rethrown by join_next") {
    auto rt = braid_test::paused_runtime();
    auto [caught, rest] = rt.block_on([]() -> braid::Task<std::pair<bool, int>> {
        braid::JoinSet<int> set;
        set.spawn([]() -> braid::Task<int> {
            co_await braid::sleep(1ms);
            throw std::runtime_error("x");
        }());
        set.spawn(value_after(5ms, 7));
        bool c = false;
        try {
            co_await set.join_next();
        } catch (const std::runtime_error&) {
            c = true;
        }
        auto r = co_await set.join_next();
        co_return std::make_pair(c, r.value_or(-1));
    }());
    REQUIRE(caught);
    REQUIRE(rest == 7);
}

TEST_CASE("task_join_set.JoinSet: try_join_next, abort_all, shutdown") {
    auto rt = braid_test::paused_runtime();
    auto [tried, cancelled] = rt.block_on([]() -> braid::Task<std::pair<bool, int>> {
        braid::JoinSet<void> set;
        bool none_yet = !set.try_join_next().has_value();
        for (int i = 0; i < 5; ++i) set.spawn([]() -> braid::Task<> { co_await braid::sleep(std::chrono::hours(1)); }());
        co_await braid::yield_now();
        set.abort_all();
        int n = 0;
        for (;;) {
            try {
                if (!co_await set.join_next()) break;
            } catch (const braid::TaskCancelled&) {
                ++n;
            }
        }
        set.spawn([]() -> braid::Task<> { co_await braid::sleep(std::chrono::hours(1)); }());
        co_await set.shutdown();
        co_return std::make_pair(none_yet && set.empty(), n);
    }());
    REQUIRE(tried);
    REQUIRE(cancelled == 5);
}

TEST_CASE("task_join_set.JoinSet: destroying it with 10,000 live tasks aborts them all", "[stress]") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    std::atomic<int> started{0}, finished{0};
    auto rt = braid_test::runtime(2);
    rt.block_on([](std::atomic<int>* s, std::atomic<int>* f) -> braid::Task<> {
        {
            braid::JoinSet<void> set;
            for (int i = 0; i < 10000; ++i)
                set.spawn([](Tracked t, std::atomic<int>* s2, std::atomic<int>* f2) -> braid::Task<> {
                    s2->fetch_add(1);
                    co_await braid::sleep(std::chrono::hours(1));
                    f2->fetch_add(1);
                    (void)t;
                }, Tracked(i), s, f);
            while (s->load() < 10000) co_await braid::yield_now();
        }  // dropped here
        // the aborted tasks are cancelled at their suspension point: wait for
        // every frame to be gone
        while (Tracked::live() != 0) co_await braid::yield_now();
    }(&started, &finished));
    REQUIRE(finished.load() == 0);
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("task_join_set.JoinSet: detach_all lets the tasks run on") {
    auto rt = braid_test::runtime(2);
    std::atomic<int> done{0};
    rt.block_on([](std::atomic<int>* d) -> braid::Task<> {
        {
            braid::JoinSet<void> set;
            for (int i = 0; i < 10; ++i)
                set.spawn([](std::atomic<int>* dd) -> braid::Task<> {
                    co_await braid::yield_now();
                    dd->fetch_add(1);
                }, d);
            set.detach_all();
            REQUIRE(set.empty());
        }
        while (d->load() < 10) co_await braid::yield_now();
    }(&done));
    REQUIRE(done.load() == 10);
}

TEST_CASE("task_join_set.AbortHandle aborts a task from another thread") {
    auto rt = braid_test::runtime(2);
    auto h = rt.spawn([]() -> braid::Task<int> {
        co_await braid::sleep(std::chrono::hours(1));
        co_return 1;
    }());
    braid::AbortHandle ah = h.abort_handle();
    braid::AbortHandle copy = ah;
    std::thread([copy] { copy.abort(); }).join();
    rt.block_on([](braid::JoinHandle<int>* jh) -> braid::Task<> {
        REQUIRE_THROWS_AS(co_await *jh, braid::TaskCancelled);
    }(&h));
    REQUIRE(ah.is_finished());
}

TEST_CASE("task_join_set.abort storms: 100,000 aborts racing completions, each task ends exactly once", "[stress]") {
    const int n = 100000 / braid_test::kStressDivisor;
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    std::atomic<int> ran_to_end{0};
    auto rt = braid_test::runtime(2);
    std::vector<braid::AbortHandle> handles;
    handles.reserve(size_t(n));
    braid::JoinSet<void>* set_ptr = nullptr;
    auto [ok, cancelled] = rt.block_on([](int count, std::atomic<int>* ran, std::vector<braid::AbortHandle>* hs,
                                          braid::JoinSet<void>** sp) -> braid::Task<std::pair<int, int>> {
        braid::JoinSet<void> set;
        *sp = &set;
        for (int i = 0; i < count; ++i)
            hs->push_back(set.spawn([](Tracked t, std::atomic<int>* r) -> braid::Task<> {
                co_await braid::yield_now();
                r->fetch_add(1);
                (void)t;
            }, Tracked(i), ran));
        std::thread aborter([hs] {
            for (auto& h : *hs) h.abort();
        });
        int ok = 0, c = 0;
        for (;;) {
            try {
                if (!co_await set.join_next()) break;
                ++ok;
            } catch (const braid::TaskCancelled&) {
                ++c;
            }
        }
        aborter.join();
        co_return std::make_pair(ok, c);
    }(n, &ran_to_end, &handles, &set_ptr));
    REQUIRE(ok + cancelled == n);
    REQUIRE(ok == ran_to_end.load());
    handles.clear();
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("task_join_set.JoinSet: join_all gives every value in completion order") {
    auto rt = braid_test::paused_runtime(2);
    auto all = rt.block_on([]() -> braid::Task<std::vector<int>> {
        braid::JoinSet<int> set;
        for (int ms : {30, 10, 20}) set.spawn(value_after(std::chrono::milliseconds(ms), ms));
        auto v = co_await set.join_all();
        EXPECT(set.empty());
        co_return v;
    }());
    REQUIRE(all == std::vector<int>{10, 20, 30});
}

TEST_CASE("task_join_set.JoinSet: join_all rethrows the first failure after aborting the rest") {
    auto rt = braid_test::paused_runtime(1);
    bool caught = rt.block_on([]() -> braid::Task<bool> {
        braid::JoinSet<int> set;
        set.spawn([]() -> braid::Task<int> {
            co_await braid::sleep(1ms);
            throw std::runtime_error("boom");
        }());
        set.spawn([]() -> braid::Task<int> {
            co_await braid_test::pending();
            co_return 0;
        }());
        bool c = false;
        try {
            co_await set.join_all();
        } catch (const std::runtime_error&) {
            c = true;
        }
        EXPECT(set.empty());
        co_return c;
    }());
    REQUIRE(caught);
}

TEST_CASE("task_join_set.JoinSet: join_next_with_id pairs each value with its task's id") {
    auto rt = braid_test::paused_runtime(2);
    rt.block_on([]() -> braid::Task<> {
        braid::JoinSet<uint64_t> set;
        std::set<uint64_t> ids;
        for (int i = 0; i < 4; ++i) set.spawn([]() -> braid::Task<uint64_t> { co_return braid::task::id(); }());
        while (auto r = co_await set.join_next_with_id()) {
            EXPECT(r->first == r->second);  // the id the task saw as its own
            EXPECT(r->first != 0);
            ids.insert(r->first);
        }
        EXPECT(ids.size() == 4);
    }());
}

TEST_CASE("task_join_set.JoinSet: spawn_blocking and spawn_on") {
    auto rt = braid_test::runtime(1);
    auto other = braid_test::runtime(1);
    auto h = other.handle();
    auto sum = rt.block_on([](braid::Handle h) -> braid::Task<int> {
        braid::JoinSet<int> set;
        set.spawn_blocking([] { return 1; });
        set.spawn_on([]() -> braid::Task<int> {
            // Runs on the other runtime.
            co_return braid_runtime_current() != nullptr ? 2 : 0;
        }(), h);
        set.spawn_blocking_on([] { return 4; }, h);
        int s = 0;
        while (auto r = co_await set.join_next()) s += *r;
        co_return s;
    }(h.clone()));
    REQUIRE(sum == 7);
}

}  // namespace test_task_join_set
