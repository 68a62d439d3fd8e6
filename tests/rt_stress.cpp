// Stress, by counting: a million spawns, spawns from many threads, shutdown
// while 100,000 tasks sleep and while blocking jobs run.  Nothing leaks,
// nothing runs twice, nothing is lost.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_rt_stress {

using namespace std::chrono_literals;
using braid_test::Tracked;

using braid_test::kStressDivisor;

TEST_CASE("rt_stress.a million spawns each run exactly once", "[stress]") {
    const int n = 1000000 / kStressDivisor;
    auto rt = braid_test::runtime(2);
    std::vector<std::atomic<uint8_t>> ran(static_cast<size_t>(n));
    std::atomic<int> total{0};
    rt.block_on([](std::vector<std::atomic<uint8_t>>* r, std::atomic<int>* tot, int count) -> braid::Task<> {
        std::vector<braid::JoinHandle<void>> hs;
        hs.reserve(size_t(count));
        for (int i = 0; i < count; ++i)
            hs.push_back(braid::spawn([](std::atomic<uint8_t>* slot, std::atomic<int>* t) -> braid::Task<> {
                slot->fetch_add(1);
                t->fetch_add(1);
                co_return;
            }(&(*r)[size_t(i)], tot)));
        for (auto& h : hs) co_await h;
    }(&ran, &total, n));
    REQUIRE(total.load() == n);
    for (auto& r : ran) REQUIRE(r.load() == 1);
}

TEST_CASE("rt_stress.spawning from 16 foreign threads at once loses nothing", "[stress]") {
    auto rt = braid_test::runtime(2);
    constexpr int kThreads = 16;
    const int each = 20000 / kStressDivisor;
    std::atomic<long> sum{0};
    std::atomic<int> done{0};
    {
        std::vector<std::thread> ts;
        for (int t = 0; t < kThreads; ++t)
            ts.emplace_back([&, t] {
                auto h = rt.handle();
                for (int i = 0; i < each; ++i)
                    h.spawn([](std::atomic<long>* s, std::atomic<int>* d, long v) -> braid::Task<> {
                         s->fetch_add(v);
                         d->fetch_add(1);
                         co_return;
                     }(&sum, &done, long(t) * each + i))
                        .detach();
            });
        for (auto& t : ts) t.join();
    }
    long n = long(kThreads) * each;
    rt.block_on([](std::atomic<int>* d, long total) -> braid::Task<> {
        while (d->load() < total) co_await braid::yield_now();
    }(&done, n));
    REQUIRE(sum.load() == n * (n - 1) / 2);
}

TEST_CASE("rt_stress.shutdown while 100,000 tasks sleep cancels each exactly once", "[stress]") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    const int n = 100000 / kStressDivisor;
    std::atomic<int> asleep{0}, woke{0};
    {
        auto rt = braid_test::runtime(2);
        rt.block_on([](std::atomic<int>* a, std::atomic<int>* w, int count) -> braid::Task<> {
            for (int i = 0; i < count; ++i)
                braid::spawn([](Tracked t, std::atomic<int>* a2, std::atomic<int>* w2) -> braid::Task<> {
                    a2->fetch_add(1);
                    co_await braid::sleep(std::chrono::hours(1));
                    w2->fetch_add(1);
                    (void)t;
                }(Tracked(i), a, w)).detach();
            while (a->load() < count) co_await braid::yield_now();
        }(&asleep, &woke, n));
        REQUIRE(Tracked::live() == n);
    }
    REQUIRE(woke.load() == 0);
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("rt_stress.shutdown while blocking jobs run waits for them and cancels the queued ones", "[stress]") {
    std::atomic<int> started{0}, finished{0};
    std::atomic<bool> release{false};
    std::vector<braid::JoinHandle<void>> hs;
    {
        auto rt = braid::Runtime::builder().worker_threads(1).max_blocking_threads(4).build();
        rt.block_on([](std::atomic<int>* s, std::atomic<int>* f, std::atomic<bool>* rel,
                       std::vector<braid::JoinHandle<void>>* out) -> braid::Task<> {
            for (int i = 0; i < 100; ++i)
                out->push_back(braid::spawn_blocking([s, f, rel] {
                    s->fetch_add(1);
                    while (!rel->load()) std::this_thread::yield();
                    f->fetch_add(1);
                }));
            while (s->load() < 4) co_await braid::yield_now();
        }(&started, &finished, &release, &hs));
        std::thread releaser([&] {
            while (started.load() < 4) std::this_thread::yield();
            release.store(true);
        });
        REQUIRE(rt.shutdown_timeout(std::chrono::minutes(5)));
        releaser.join();
    }
    // every job either ran to the end or never started
    REQUIRE(started.load() == finished.load());
    int ok = 0, cancelled = 0;
    for (auto& h : hs) {
        REQUIRE(h.is_finished());
        try {
            h.take();
            ++ok;
        } catch (const braid::TaskCancelled&) {
            ++cancelled;
        }
    }
    REQUIRE(ok == finished.load());
    REQUIRE(ok + cancelled == 100);
}

TEST_CASE("rt_stress.chained spawns: each task spawns the next", "[stress]") {
    auto rt = braid_test::runtime(2);
    const int n = 100000 / kStressDivisor;
    std::atomic<int> count{0};
    struct Chain {
        static braid::Task<> link(std::atomic<int>* c, int left) {
            c->fetch_add(1);
            if (left > 0) braid::spawn(link(c, left - 1)).detach();
            co_return;
        }
    };
    rt.block_on([](std::atomic<int>* c, int total) -> braid::Task<> {
        braid::spawn(Chain::link(c, total - 1)).detach();
        while (c->load() < total) co_await braid::yield_now();
    }(&count, n));
    REQUIRE(count.load() == n);
}

}  // namespace test_rt_stress
