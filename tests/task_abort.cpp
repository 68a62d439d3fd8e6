// Abort: before start, while sleeping, while running, after finishing,
// racing completion; cancellation destroys the frame.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_task_abort {

using namespace std::chrono_literals;
using braid_test::Tracked;

TEST_CASE("task_abort.abort of a sleeping task cancels it promptly and destroys its frame") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    auto rt = braid_test::runtime(2);
    bool cancelled = rt.block_on([]() -> braid::Task<bool> {
        std::atomic<bool> asleep{false};
        auto h = braid::spawn([](Tracked t, std::atomic<bool>* a) -> braid::Task<int> {
            a->store(true);
            co_await braid::sleep(std::chrono::hours(24));
            co_return t.value;
        }(Tracked(5), &asleep));
        while (!asleep.load()) co_await braid::yield_now();
        h.abort();
        try {
            co_await h;
        } catch (const braid::TaskCancelled&) {
            co_return Tracked::live() == 0;
        }
        co_return false;
    }());
    REQUIRE(cancelled);
}

TEST_CASE("task_abort.abort takes effect at the next suspension point of a running task") {
    auto rt = braid_test::runtime(2);
    std::atomic<int> steps{0};
    std::atomic<bool> go{false};
    auto h = rt.spawn([](std::atomic<int>* s, std::atomic<bool>* g) -> braid::Task<> {
        s->store(1);
        while (!g->load()) std::this_thread::yield();  // running, not suspended
        s->store(2);                                   // still runs: no suspension yet
        co_await braid::yield_now();                   // cancelled here
        s->store(3);
    }(&steps, &go));
    while (steps.load() != 1) std::this_thread::yield();
    h.abort();
    go.store(true);
    rt.block_on([](braid::JoinHandle<void>* jh) -> braid::Task<> {
        REQUIRE_THROWS_AS(co_await *jh, braid::TaskCancelled);
    }(&h));
    REQUIRE(steps.load() == 2);
}

TEST_CASE("task_abort.abort of a finished task is a no-op and the value stays available") {
    auto rt = braid_test::runtime(1);
    int v = rt.block_on([]() -> braid::Task<int> {
        auto h = braid::spawn([]() -> braid::Task<int> { co_return 11; }());
        while (!h.is_finished()) co_await braid::yield_now();
        h.abort();
        h.abort();
        co_return co_await h;
    }());
    REQUIRE(v == 11);
}

TEST_CASE("task_abort.abort before a current-thread task ever ran: it never runs") {
    auto rt = braid::Runtime::builder().current_thread().build();
    std::atomic<bool> ran{false};
    auto h = rt.spawn([](std::atomic<bool>* r) -> braid::Task<> {
        r->store(true);
        co_return;
    }(&ran));
    h.abort();
    rt.block_on([](braid::JoinHandle<void>* jh) -> braid::Task<> {
        REQUIRE_THROWS_AS(co_await *jh, braid::TaskCancelled);
    }(&h));
    REQUIRE_FALSE(ran.load());
}

TEST_CASE("task_abort.abort racing completion gives the joiner exactly one outcome", "[stress]") {
    auto rt = braid_test::runtime(2);
    constexpr int kRounds = 20000;
    std::atomic<int> bodies_finished{0};
    auto [values, cancels] = rt.block_on([](std::atomic<int>* fin) -> braid::Task<std::pair<int, int>> {
        int values = 0, cancels = 0;
        for (int i = 0; i < kRounds; ++i) {
            auto h = braid::spawn([](std::atomic<int>* f) -> braid::Task<int> {
                f->fetch_add(1);
                co_return 1;
            }(fin));
            if (i % 2) co_await braid::yield_now();
            h.abort();
            try {
                values += co_await h;
            } catch (const braid::TaskCancelled&) {
                ++cancels;
            }
        }
        co_return std::make_pair(values, cancels);
    }(&bodies_finished));
    REQUIRE(values + cancels == kRounds);
    REQUIRE(values == bodies_finished.load());  // a body that ran to the end gave its value
}

TEST_CASE("task_abort.aborts from other threads racing completions: every task ends exactly once", "[stress]") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    constexpr int kTasks = 20000;
    std::atomic<int> completed{0};
    {
        auto rt = braid_test::runtime(2);
        std::vector<braid::JoinHandle<void>> hs;
        hs.reserve(kTasks);
        for (int i = 0; i < kTasks; ++i)
            hs.push_back(rt.spawn([](Tracked t, std::atomic<int>* c) -> braid::Task<> {
                co_await braid::yield_now();
                c->fetch_add(1);
                (void)t;
            }(Tracked(i), &completed)));
        std::thread aborter([&] {
            for (int i = 0; i < kTasks; i += 2) hs[i].abort();
        });
        aborter.join();
        int outcomes = rt.block_on([](std::vector<braid::JoinHandle<void>>* v) -> braid::Task<int> {
            int n = 0, cancelled = 0;
            for (auto& h : *v) {
                try {
                    co_await h;
                    ++n;
                } catch (const braid::TaskCancelled&) {
                    ++cancelled;
                }
            }
            co_return n + cancelled;
        }(&hs));
        REQUIRE(outcomes == kTasks);
        REQUIRE(completed.load() >= kTasks / 2);
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("task_abort.a dropped JoinHandle detaches: the task still runs to the end") {
    auto rt = braid_test::runtime(2);
    std::atomic<int> done{0};
    rt.block_on([](std::atomic<int>* d) -> braid::Task<> {
        {
            auto h = braid::spawn([](std::atomic<int>* x) -> braid::Task<> {
                co_await braid::sleep(1ms);
                x->store(1);
            }(d));
        }
        while (d->load() == 0) co_await braid::sleep(1ms);
    }(&done));
    REQUIRE(done.load() == 1);
}

}  // namespace test_task_abort
