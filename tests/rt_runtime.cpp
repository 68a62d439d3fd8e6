// Runtime: builder options, flavors, block_on, handles, hooks, shutdown.
#include <catch2/catch.hpp>
#include <pthread.h>

#include <atomic>
#include <cstdlib>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support.hpp"

namespace test_rt_runtime {

using namespace std::chrono_literals;
using braid_test::Tracked;

TEST_CASE("rt_runtime.block_on returns the task's value on a multi-thread runtime") {
    auto rt = braid_test::runtime(2);
    REQUIRE(rt.worker_count() == 2);
    int v = rt.block_on([]() -> braid::Task<int> { co_return 42; }());
    REQUIRE(v == 42);
}

TEST_CASE("rt_runtime.the block_on task runs on a worker, not on the calling thread") {
    auto rt = braid_test::runtime(2);
    auto caller = std::this_thread::get_id();
    auto where = rt.block_on([]() -> braid::Task<std::thread::id> { co_return std::this_thread::get_id(); }());
    REQUIRE(where != caller);
}

TEST_CASE("rt_runtime.braid::run is the one-line entry point") {
    REQUIRE(braid::run([]() -> braid::Task<int> {
                co_await braid::sleep(1ms);
                co_return 7;
            }()) == 7);
}

TEST_CASE("rt_runtime.current-thread runtime runs tasks on the block_on thread only") {
    auto rt = braid::Runtime::builder().current_thread().build();
    REQUIRE(rt.worker_count() == 1);
    auto caller = std::this_thread::get_id();
    auto ids = rt.block_on([]() -> braid::Task<std::vector<std::thread::id>> {
        std::vector<braid::JoinHandle<std::thread::id>> hs;
        for (int i = 0; i < 10; ++i)
            hs.push_back(braid::spawn([]() -> braid::Task<std::thread::id> {
                co_await braid::yield_now();
                co_return std::this_thread::get_id();
            }()));
        std::vector<std::thread::id> out{std::this_thread::get_id()};
        for (auto& h : hs) out.push_back(co_await h);
        co_return out;
    }());
    for (auto id : ids) REQUIRE(id == caller);
}

TEST_CASE("rt_runtime.current-thread runtime: tasks spawned from another thread run at the next block_on") {
    auto rt = braid::Runtime::builder().current_thread().build();
    std::atomic<int> ran{0};
    auto h = rt.handle();
    std::thread([&] {
        h.spawn([](std::atomic<int>* r) -> braid::Task<> {
            r->fetch_add(1);
            co_return;
        }(&ran)).detach();
    }).join();
    rt.block_on([](std::atomic<int>* r) -> braid::Task<> {
        while (r->load() == 0) co_await braid::yield_now();
    }(&ran));
    REQUIRE(ran.load() == 1);
}

TEST_CASE("rt_runtime.worker_threads sets the number of workers, BRAID_WORKER_THREADS sets the default") {
    REQUIRE(braid::Runtime::builder().worker_threads(3).build().worker_count() == 3);
    setenv("BRAID_WORKER_THREADS", "5", 1);
    REQUIRE(braid::Runtime().worker_count() == 5);
    REQUIRE(braid::Runtime::builder().worker_threads(2).build().worker_count() == 2);  // explicit wins
    unsetenv("BRAID_WORKER_THREADS");
    REQUIRE(braid::Runtime().worker_count() == int(std::max(1u, std::thread::hardware_concurrency())));
}

TEST_CASE("rt_runtime.builder rejects bad values with braid::Error") {
    auto b = braid::Runtime::builder();
    REQUIRE_THROWS_AS(b.worker_threads(0), braid::Error);
    REQUIRE_THROWS_AS(b.max_blocking_threads(0), braid::Error);
    REQUIRE_THROWS_AS(b.thread_keep_alive(-1ms), braid::Error);
    try {
        b.worker_threads(-3);
    } catch (const braid::Error& e) {
        REQUIRE(e.code() == BRAID_EINVAL);
    }
}

TEST_CASE("rt_runtime.thread hooks run on every runtime thread, and thread names are set") {
    std::atomic<int> started{0}, stopped{0};
    std::mutex mu;
    std::set<std::string> names;
    {
        auto rt = braid::Runtime::builder()
                      .worker_threads(2)
                      .thread_name("hooked")
                      .on_thread_start([&] {
                          ++started;
                          char buf[16] = {};
                          pthread_getname_np(pthread_self(), buf, sizeof buf);
                          std::lock_guard<std::mutex> g(mu);
                          names.insert(buf);
                      })
                      .on_thread_stop([&] { ++stopped; })
                      .build();
        rt.block_on([]() -> braid::Task<int> { co_return co_await braid::spawn_blocking([] { return 1; }); }());
    }
    // 2 workers + the reactor + at least one blocking thread
    REQUIRE(started.load() >= 4);
    REQUIRE(started.load() == stopped.load());
    REQUIRE(names == std::set<std::string>{"hooked"});
}

TEST_CASE("rt_runtime.a Handle spawns from many foreign threads at once") {
    auto rt = braid_test::runtime(2);
    auto h = rt.handle();
    std::atomic<int> count{0};
    std::vector<std::thread> threads;
    constexpr int kThreads = 8, kEach = 2000;
    std::vector<std::vector<braid::JoinHandle<int>>> handles(kThreads);
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            auto mine = h.clone();
            for (int i = 0; i < kEach; ++i)
                handles[t].push_back(mine.spawn([](std::atomic<int>* c, int v) -> braid::Task<int> {
                    c->fetch_add(1);
                    co_return v;
                }(&count, i)));
        });
    for (auto& t : threads) t.join();
    long sum = rt.block_on([](auto* hs) -> braid::Task<long> {
        long s = 0;
        for (auto& v : *hs)
            for (auto& h : v) s += co_await h;
        co_return s;
    }(&handles));
    REQUIRE(count.load() == kThreads * kEach);
    REQUIRE(sum == long(kThreads) * (kEach - 1) * kEach / 2);
}

TEST_CASE("rt_runtime.Handle::current works inside tasks and blocking jobs, and throws elsewhere") {
    REQUIRE_THROWS_AS(braid::Handle::current(), braid::Error);
    auto rt = braid_test::runtime(2);
    int v = rt.block_on([]() -> braid::Task<int> {
        auto h = braid::Handle::current();
        int a = co_await h.spawn([]() -> braid::Task<int> { co_return 1; }());
        int b = co_await braid::spawn_blocking([] {
            return braid::Handle::current().native_handle() != nullptr ? 2 : 0;
        });
        co_return a + b;
    }());
    REQUIRE(v == 3);
}

TEST_CASE("rt_runtime.a handle outlives its runtime, spawning through it then gives a cancelled JoinHandle") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    std::optional<braid::Handle> h;
    {
        auto rt = braid_test::runtime(1);
        h.emplace(rt.handle());
    }
    std::atomic<int> ran{0};
    auto body = [](Tracked, std::atomic<int>* r) -> braid::Task<int> {
        ++*r;
        co_return 1;
    };
    // From a plain thread, as Tokio does: the task is dropped (its frame
    // destroyed now), the handle reports it cancelled.
    std::thread([&] {
        auto jh = h->spawn(body(Tracked(1), &ran));
        EXPECT_ANYWHERE(Tracked::live() == 0);
        EXPECT_ANYWHERE(jh.is_finished());
        EXPECT_ANYWHERE(jh.id() != 0);
        bool cancelled = false;
        try {
            (void)jh.take();
        } catch (const braid::TaskCancelled&) {
            cancelled = true;
        }
        EXPECT_ANYWHERE(cancelled);
        jh.abort();  // a no-op, as for any finished task
        EXPECT_ANYWHERE(jh.abort_handle().is_finished());
        // the form that reports the refusal
        auto r = h->try_spawn(body(Tracked(2), &ran));
        EXPECT_ANYWHERE(!r.has_value());
        EXPECT_ANYWHERE(r.error() == BRAID_ESHUTDOWN);
        EXPECT_ANYWHERE(braid_test::error_code_of([&] { (void)r.value(); }) == BRAID_ESHUTDOWN);
        EXPECT_ANYWHERE(Tracked::live() == 0);
    }).join();
    REQUIRE(braid_test::worker_failures() == 0);
    REQUIRE(ran == 0);
    REQUIRE(Tracked::constructed >= 2);
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("rt_runtime.Runtime::spawn after shutdown_timeout: a cancelled JoinHandle, block_on and try_spawn report ESHUTDOWN") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    auto rt = braid_test::runtime(1);
    REQUIRE(rt.shutdown_timeout(1s));
    auto body = [](Tracked t) -> braid::Task<int> { co_return t.value; };
    auto jh = rt.spawn(body(Tracked(1)));
    REQUIRE(Tracked::live() == 0);
    REQUIRE(jh.is_finished());
    REQUIRE_THROWS_AS(jh.take(), braid::TaskCancelled);
    auto r = rt.try_spawn(body(Tracked(2)));
    REQUIRE_FALSE(r);
    REQUIRE(r.error() == BRAID_ESHUTDOWN);
    REQUIRE(braid_test::error_code_of([&] { rt.block_on(body(Tracked(3))); }) == BRAID_ESHUTDOWN);
    REQUIRE(Tracked::live() == 0);
}

namespace {
// What a destructor that spawns during the shutdown saw.
struct ShutdownSpawns {
    std::atomic<int> ran{0};         // spawned bodies that ran (none may)
    std::atomic<int> done{0};        // destructors that finished their spawning
    std::atomic<int> cancelled{0};   // handles that reported cancellation
    std::atomic<int> refused{0};     // try_ forms that reported BRAID_ESHUTDOWN
};

// Spawns from its destructor: spawn, spawn(f, args), spawn_blocking, the
// try_ forms, and a JoinSet.
struct SpawnsWhenDropped {
    ShutdownSpawns* s;
    explicit SpawnsWhenDropped(ShutdownSpawns* st) : s(st) {}
    SpawnsWhenDropped(SpawnsWhenDropped&& o) noexcept : s(std::exchange(o.s, nullptr)) {}
    ~SpawnsWhenDropped() {
        if (!s) return;
        auto body = [](Tracked, std::atomic<int>* r) -> braid::Task<> {
            ++*r;
            co_return;
        };
        auto count = [this](auto& jh) {
            try {
                (void)jh.take();
            } catch (const braid::TaskCancelled&) {
                if (jh.is_finished()) ++s->cancelled;
            }
        };
        auto a = braid::spawn(body(Tracked(10), &s->ran));
        count(a);
        auto b = braid::spawn(body, Tracked(11), &s->ran);
        count(b);
        auto c = braid::spawn_blocking([t = Tracked(12), r = &s->ran] { ++*r; });
        count(c);
        if (braid::try_spawn(body(Tracked(13), &s->ran)).error() == BRAID_ESHUTDOWN) ++s->refused;
        if (braid::try_spawn_blocking([t = Tracked(14), r = &s->ran] { ++*r; }).error() == BRAID_ESHUTDOWN) ++s->refused;
        braid::JoinSet<void> set;
        set.spawn(body(Tracked(15), &s->ran));
        if (set.len() == 1) {
            try {
                (void)set.try_join_next();
            } catch (const braid::TaskCancelled&) {
                ++s->cancelled;
            }
        }
        ++s->done;
    }
};
}  // namespace

TEST_CASE("rt_runtime.a destructor that spawns while the runtime shuts down does not terminate, the task is dropped") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    ShutdownSpawns s;
    std::atomic<int> started{0};
    {
        auto rt = braid_test::runtime(2);
        rt.spawn([](SpawnsWhenDropped, std::atomic<int>* st) -> braid::Task<> {
              ++*st;
              co_await braid::sleep(std::chrono::hours(1));
          }(SpawnsWhenDropped(&s), &started))
            .detach();
        while (started.load() == 0) std::this_thread::yield();
    }  // the shutdown drops the task: its parameter's destructor spawns
    REQUIRE(s.done == 1);
    REQUIRE(s.ran == 0);
    REQUIRE(s.cancelled == 4);
    REQUIRE(s.refused == 2);
    REQUIRE(Tracked::constructed >= 6);  // (moves count too)
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("rt_runtime.freeing a runtime cancels its tasks and runs their destructors") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    std::atomic<int> started{0};
    {
        auto rt = braid_test::runtime(2);
        for (int i = 0; i < 100; ++i)
            rt.spawn([](Tracked t, std::atomic<int>* s) -> braid::Task<> {
                  s->fetch_add(1);
                  co_await braid::sleep(std::chrono::hours(1));
                  (void)t;
              }(Tracked(i), &started))
                .detach();
        rt.block_on([](std::atomic<int>* s) -> braid::Task<> {
            while (s->load() < 100) co_await braid::yield_now();
        }(&started));
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("rt_runtime.shutdown_timeout gives up on a blocking job that runs too long") {
    auto rt = braid_test::runtime(1);
    // The job outlives the shutdown on its own thread (the Runtime's
    // destructor waits for it once it is released).
    auto release = std::make_shared<std::atomic<bool>>(false);
    auto started = std::make_shared<std::atomic<bool>>(false);
    rt.block_on([](auto rel, auto st) -> braid::Task<> {
        braid::spawn_blocking([rel, st] {
            st->store(true);
            while (!rel->load()) std::this_thread::yield();
        }).detach();
        while (!st->load()) co_await braid::yield_now();
    }(release, started));
    REQUIRE_FALSE(rt.shutdown_timeout(20ms));
    release->store(true);  // the job ends on its own thread; ~Runtime joins it
}

TEST_CASE("rt_runtime.shutdown waits for a running blocking job when given time") {
    auto rt = braid_test::runtime(1);
    std::atomic<bool> started{false}, go{false}, done{false};
    rt.block_on([](std::atomic<bool>* st, std::atomic<bool>* g, std::atomic<bool>* d) -> braid::Task<> {
        braid::spawn_blocking([st, g, d] {
            st->store(true);
            while (!g->load()) std::this_thread::yield();
            d->store(true);
        }).detach();
        while (!st->load()) co_await braid::yield_now();
    }(&started, &go, &done));
    std::thread releaser([&] { go.store(true); });
    REQUIRE(rt.shutdown_timeout(std::chrono::minutes(5)));
    releaser.join();
    REQUIRE(done.load());  // it was running: shutdown waited for it to end
}

TEST_CASE("rt_runtime.block_on on a runtime thread is refused with BRAID_EDEADLK") {
    auto rt = braid_test::runtime(1);
    braid_runtime* raw = rt.native_handle();
    int code = rt.block_on([](braid_runtime* r) -> braid::Task<int> {
        braid_task* t = nullptr;
        braid_spawn(&t, r, [](void*) {}, nullptr);
        int rc = braid_runtime_block_on(r, t);
        braid_task_free(t);
        co_return rc;
    }(raw));
    REQUIRE(code == BRAID_EDEADLK);
}

namespace {
// What a blocking job runs to completion through Handle::block_on: a timer,
// a spawned task and a channel, so that the runtime's workers (or its
// current-thread driver) and its timers do the work.
braid::Task<int> async_part() {
    co_await braid::sleep(std::chrono::milliseconds(1));
    auto [tx, rx] = braid::oneshot::channel<int>();
    braid::spawn([](braid::oneshot::Sender<int> s) -> braid::Task<> {
        (void)s.send(41);
        co_return;
    }(std::move(tx))).detach();
    int got = co_await rx;
    co_return got + 1;
}

// A task that hands async work to a blocking job, which bridges back with
// Handle::block_on (Tokio: spawn_blocking(move || handle.block_on(fut))).
braid::Task<int> bridge_through_blocking_job() {
    auto job = braid::spawn_blocking([h = braid::Handle::current()] { return h.block_on(async_part()); });
    co_return co_await job;
}
}  // namespace

TEST_CASE("rt_runtime.a blocking job runs async code to completion with Handle block_on on both flavours") {
    SECTION("multi-thread") {
        auto rt = braid_test::runtime(2);
        for (int i = 0; i < 20; ++i) REQUIRE(rt.block_on(bridge_through_blocking_job()) == 42);
    }
    SECTION("current-thread: the job's block_on waits for the thread that drives the runtime") {
        auto rt = braid_test::current_thread_runtime();
        for (int i = 0; i < 20; ++i) REQUIRE(rt.block_on(bridge_through_blocking_job()) == 42);
    }
    SECTION("current-thread: with nobody driving, the job's block_on drives the runtime itself") {
        auto rt = braid_test::current_thread_runtime();
        auto h = rt.handle().spawn_blocking([h = rt.handle()] { return h.block_on(async_part()); });
        REQUIRE(rt.block_on([](braid::JoinHandle<int> j) -> braid::Task<int> { co_return co_await j; }(std::move(h))) ==
                42);
    }
}

TEST_CASE("rt_runtime.concurrent block_on calls on a current-thread runtime take turns and none is refused") {
    // Tokio: block_on may be called from several threads at once; one
    // drives the runtime and the others' futures run there or once they
    // get the driver.  Every target waits on one barrier, so all of them
    // must have run before any can end.
    auto rt = braid_test::current_thread_runtime();
    constexpr int kThreads = 4;
    braid::Barrier all(kThreads + 1);  // and one arrival from C
    std::atomic<int> leaders{0}, finished{0};
    std::atomic<int> c_status{1000}, c_block_on{1000};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i)
        threads.emplace_back([&, i] {
            auto body = [](braid::Barrier* b, std::atomic<int>* leaders) -> braid::Task<int> {
                auto r = co_await b->wait();
                if (r.is_leader()) leaders->fetch_add(1);
                co_return 1;
            };
            int got = i % 2 == 0 ? rt.block_on(body(&all, &leaders)) : rt.handle().block_on(body(&all, &leaders));
            finished.fetch_add(got);
        });
    threads.emplace_back([&] {
        braid_task* t = nullptr;
        int rc = braid_barrier_wait(
            &t, rt.native_handle(), all.native_handle(),
            [](void* p, int st) { static_cast<std::atomic<int>*>(p)->store(st); }, &c_status);
        if (rc == BRAID_OK) {
            rc = braid_runtime_block_on(rt.native_handle(), t);
            braid_task_free(t);
        }
        c_block_on.store(rc);
    });
    for (auto& t : threads) t.join();
    REQUIRE(finished.load() == kThreads);
    REQUIRE(c_block_on.load() == BRAID_OK);
    REQUIRE((c_status.load() == BRAID_OK || c_status.load() == BRAID_BARRIER_LEADER));
    REQUIRE(leaders.load() + (c_status.load() == BRAID_BARRIER_LEADER ? 1 : 0) == 1);
}

TEST_CASE("rt_runtime.a task that a blocking job's block_on runs on a current-thread runtime may not block_on: BRAID_EDEADLK") {
    // Nobody else drives the runtime: the job's block_on runs its scheduler,
    // and a task polled there is on the runtime's only driver.
    auto rt = braid_test::current_thread_runtime();
    std::promise<int> code;
    auto got = code.get_future();
    rt.handle()
        .spawn_blocking([h = rt.handle(), &code] {
            code.set_value(h.block_on([]() -> braid::Task<int> {
                braid_task* t = nullptr;
                braid::Handle self = braid::Handle::current();
                int rc = braid_handle_spawn(&t, self.native_handle(), [](void*) {}, nullptr);
                if (rc == BRAID_OK) {
                    rc = braid_handle_block_on(self.native_handle(), t);
                    braid_task_free(t);
                }
                co_return rc;
            }()));
        })
        .detach();
    REQUIRE(got.get() == BRAID_EDEADLK);
}

TEST_CASE("rt_runtime.C: braid_handle_block_on and braid_runtime_block_on work on a blocking job's thread") {
    auto rt = braid_test::runtime(1);
    struct Ctx {
        braid_runtime* rt;
        braid_handle* h = nullptr;
        int handle_rc = 1000, runtime_rc = 1000;
    } ctx{rt.native_handle()};
    REQUIRE(braid_runtime_handle(&ctx.h, ctx.rt) == BRAID_OK);
    braid_task* job = nullptr;
    REQUIRE(braid_spawn_blocking(&job, ctx.rt, [](void* p) {
        auto* c = static_cast<Ctx*>(p);
        braid_task* t = nullptr;
        if (braid_spawn(&t, c->rt, [](void*) {}, nullptr) == BRAID_OK) {
            c->handle_rc = braid_handle_block_on(c->h, t);
            braid_task_free(t);
        }
        t = nullptr;
        if (braid_spawn(&t, c->rt, [](void*) {}, nullptr) == BRAID_OK) {
            c->runtime_rc = braid_runtime_block_on(c->rt, t);
            braid_task_free(t);
        }
    }, &ctx) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(job, BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_task_free(job);
    braid_handle_free(ctx.h);
    REQUIRE(ctx.handle_rc == BRAID_OK);
    REQUIRE(ctx.runtime_rc == BRAID_OK);
}

TEST_CASE("rt_runtime.a shutdown ends a blocking job's block_on with TaskCancelled and then waits for the job") {
    for (int round = 0; round < 10; ++round) {
        auto rt = braid_test::runtime(2);
        std::promise<void> waiting;
        auto is_waiting = waiting.get_future();
        auto outcome = std::make_shared<std::atomic<int>>(0);  // 1: TaskCancelled, 2: anything else
        auto [tx, rx] = braid::oneshot::channel<int>();       // never sent: the task waits until cancelled
        (void)rt.handle().spawn_blocking([h = rt.handle(), outcome, &waiting, r = std::move(rx)]() mutable {
            try {
                h.block_on([](braid::oneshot::Receiver<int> r, std::promise<void>* w) -> braid::Task<int> {
                    w->set_value();
                    co_return co_await r;
                }(std::move(r), &waiting));
                outcome->store(2);
            } catch (const braid::TaskCancelled&) {
                outcome->store(1);
            } catch (...) {
                outcome->store(2);
            }
        });
        is_waiting.wait();
        REQUIRE(rt.shutdown_timeout(std::chrono::minutes(5)));  // the job ended: nothing left running
        REQUIRE(outcome->load() == 1);
        (void)tx;
    }
}

TEST_CASE("rt_runtime.C++: block_on and shutdown from inside the runtime throw braid::Error(BRAID_EDEADLK)") {
    auto rt = braid_test::runtime(1);
    auto [block_on_code, shutdown_code] = rt.block_on([](braid::Runtime* r) -> braid::Task<std::pair<int, int>> {
        int a = 0, b = 0;
        try {
            r->block_on([]() -> braid::Task<int> { co_return 1; }());
        } catch (const braid::Error& e) {
            a = e.code();
        }
        try {
            r->shutdown_timeout(std::chrono::milliseconds(10));
        } catch (const braid::Error& e) {
            b = e.code();
        }
        co_return std::make_pair(a, b);
    }(&rt));
    REQUIRE(block_on_code == BRAID_EDEADLK);
    REQUIRE(shutdown_code == BRAID_EDEADLK);
    REQUIRE(rt.block_on([]() -> braid::Task<int> { co_return 5; }()) == 5);  // still usable
}

TEST_CASE("rt_runtime.a poll that blocks its worker is reported as slow") {
    auto rt = braid::Runtime::builder().worker_threads(1).slow_poll_warning(std::chrono::milliseconds(5)).build();
    REQUIRE(rt.slow_polls() == 0);
    rt.block_on([]() -> braid::Task<> {
        // blocks the worker (what spawn_blocking is for) for at least 20 ms
        auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
        while (std::chrono::steady_clock::now() < until) {
        }
        co_return;
    }());
    REQUIRE(rt.slow_polls() == 1);
    auto quiet = braid::Runtime::builder().worker_threads(1).slow_poll_warning(std::chrono::milliseconds(0)).build();
    quiet.block_on([]() -> braid::Task<> {
        auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(10);
        while (std::chrono::steady_clock::now() < until) {
        }
        co_return;
    }());
    REQUIRE(quiet.slow_polls() == 0);
}

TEST_CASE("rt_runtime.builder: durations beyond 10^12 ms are refused with BRAID_ERANGE, the largest one works") {
    const int64_t most = 1000000000000;  // 10^12 ms, about 31 years
    braid_runtime_builder* b = nullptr;
    REQUIRE(braid_runtime_builder_new(&b) == BRAID_OK);
    for (int64_t ms : {most + 1, INT64_MAX / 1000000 + 1, INT64_MAX}) {
        INFO(ms);
        REQUIRE(braid_runtime_builder_slow_poll_ms(b, ms) == BRAID_ERANGE);
        REQUIRE(braid_runtime_builder_blocking_keep_alive_ms(b, ms) == BRAID_ERANGE);
    }
    REQUIRE(braid_runtime_builder_slow_poll_ms(b, -1) == BRAID_EINVAL);
    REQUIRE(braid_runtime_builder_blocking_keep_alive_ms(b, -1) == BRAID_EINVAL);
    REQUIRE(braid_runtime_builder_slow_poll_ms(b, most) == BRAID_OK);
    REQUIRE(braid_runtime_builder_blocking_keep_alive_ms(b, most) == BRAID_OK);
    REQUIRE(braid_runtime_builder_worker_threads(b, 1) == BRAID_OK);
    braid_runtime* raw = nullptr;
    REQUIRE(braid_runtime_build(&raw, b) == BRAID_OK);
    braid_runtime_builder_free(b);
    // A blocking thread that then waits (keep-alive) for the longest time,
    // and polls measured against the longest limit.
    static std::atomic<int> ran{0};
    braid_task* job = nullptr;
    REQUIRE(braid_spawn_blocking(&job, raw, [](void*) { ran.fetch_add(1); }, nullptr) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(job, BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_task_free(job);
    REQUIRE(ran == 1);
    REQUIRE(braid_runtime_slow_polls(raw) == 0);
    REQUIRE(braid_runtime_shutdown(raw, 30000) == BRAID_OK);  // wakes the idle blocking thread
    REQUIRE(braid_runtime_free(raw) == BRAID_OK);

    REQUIRE_THROWS_AS(braid::Runtime::builder().thread_keep_alive(std::chrono::milliseconds(most + 1)), braid::Error);
    REQUIRE(braid_test::error_code_of([] { braid::Runtime::builder().slow_poll_warning(std::chrono::milliseconds::max()); }) ==
            BRAID_ERANGE);
}

}  // namespace test_rt_runtime
