// Task-local values: scoped, visible across suspensions and threads, in
// join/select branches, not in spawned tasks.
#include <catch2/catch.hpp>

#include <atomic>
#include <coroutine>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "support.hpp"

namespace test_task_local {

using namespace std::chrono_literals;

namespace {
braid::TaskLocal<std::string> REQUEST_ID;
braid::TaskLocal<int> DEPTH;

braid::Task<std::string> deep(int n) {
    co_await braid::yield_now();
    if (n > 0) co_return co_await deep(n - 1);
    co_return REQUEST_ID.get();
}
}  // namespace

TEST_CASE("task_local.a task-local is visible at any depth and across suspension points") {
    auto rt = braid_test::runtime(2);
    auto v = rt.block_on(REQUEST_ID.scope("req-42", deep(20)));
    REQUIRE(v == "req-42");
}

TEST_CASE("task_local.scopes nest, and the outer value comes back after the inner scope") {
    auto rt = braid_test::runtime(1);
    auto [inner, outer] = rt.block_on(DEPTH.scope(1, []() -> braid::Task<std::pair<int, int>> {
        int in = co_await DEPTH.scope(2, []() -> braid::Task<int> {
            co_await braid::sleep(1ms);
            co_return DEPTH.get();
        }());
        co_return std::make_pair(in, DEPTH.get());
    }()));
    REQUIRE(inner == 2);
    REQUIRE(outer == 1);
}

TEST_CASE("task_local.a spawned task does not inherit the value, branches of join do") {
    auto rt = braid_test::runtime(2);
    auto [spawned_has, branch_value] = rt.block_on(REQUEST_ID.scope("outer", []() -> braid::Task<std::pair<bool, std::string>> {
        bool has = co_await braid::spawn([]() -> braid::Task<bool> { co_return REQUEST_ID.try_get() != nullptr; }());
        auto [a, b] = co_await braid::join(deep(3), braid::sleep(1ms));
        (void)b;
        co_return std::make_pair(has, a);
    }()));
    REQUIRE_FALSE(spawned_has);
    REQUIRE(branch_value == "outer");
}

TEST_CASE("task_local.get() outside any scope throws, try_get gives nullptr") {
    auto rt = braid_test::runtime(1);
    rt.block_on([]() -> braid::Task<> {
        REQUIRE(REQUEST_ID.try_get() == nullptr);
        REQUIRE_THROWS_AS(REQUEST_ID.get(), braid::Error);
        co_return;
    }());
    REQUIRE(REQUEST_ID.try_get() == nullptr);
}

// ---- task-local values in destructors --------------------------------------------
// Tokio keeps the scoped value readable while the scoped future is dropped:
// RAII cleanup (a guard logging the request id) relies on it.

namespace {
braid::TaskLocal<int> KEY;

// Records what KEY holds when it is destroyed (-1: not in scope), and
// counts destructions.
struct SeesKey {
    std::atomic<int>* seen;
    std::atomic<int>* dropped;
    SeesKey(std::atomic<int>* s, std::atomic<int>* d) : seen(s), dropped(d) {}
    SeesKey(SeesKey&& o) noexcept : seen(std::exchange(o.seen, nullptr)), dropped(o.dropped) {}
    ~SeesKey() {
        if (!seen) return;  // moved from
        const int* v = KEY.try_get();
        seen->store(v ? *v : -1);
        ++*dropped;
    }
};

// Holds a SeesKey (a parameter, and a local in a nested frame) and waits
// forever, after saying it started.
braid::Task<> waits_forever(SeesKey param, std::atomic<int>* started) {
    auto inner = [](SeesKey, std::atomic<int>* started) -> braid::Task<> {
        ++*started;
        co_await braid::sleep(std::chrono::hours(1));
    };
    SeesKey second(param.seen, param.dropped);
    co_await inner(std::move(param), started);
}

struct Probe {
    std::atomic<int> seen{-2};  // -2: not destroyed yet
    std::atomic<int> dropped{0};
    std::atomic<int> started{0};
    SeesKey key() { return SeesKey(&seen, &dropped); }
};
}  // namespace

TEST_CASE("task_local.task-local in destructors: a task aborted inside a scope") {
    auto rt = braid_test::runtime(2);
    Probe p;
    rt.block_on([](Probe* p) -> braid::Task<> {
        auto h = braid::spawn(KEY.scope(42, waits_forever(p->key(), &p->started)));
        while (p->started.load() == 0) co_await braid::yield_now();
        h.abort();
        EXPECT(co_await braid_test::code_of(std::move(h)) == BRAID_ECANCELED);
    }(&p));
    REQUIRE(p.dropped == 2);
    REQUIRE(p.seen == 42);
}

TEST_CASE("task_local.task-local in destructors: an awaitable dropped after it completed") {
    auto rt = braid_test::runtime(1);
    Probe p;
    // Not a coroutine: an awaitable object that is ready at once (Tokio's
    // task_local_available_on_completion_drop).
    struct ReadyWithGuard {
        SeesKey guard;
        bool await_ready() const noexcept { return true; }
        void await_suspend(std::coroutine_handle<>) const noexcept {}
        int await_resume() const noexcept { return 5; }
    };
    int r = rt.block_on(KEY.scope(7, ReadyWithGuard{p.key()}));
    REQUIRE(r == 5);
    REQUIRE(p.dropped == 1);
    REQUIRE(p.seen == 7);
    // a coroutine's parameter, destroyed with its frame after it completed
    Probe q;
    rt.block_on(KEY.scope(8, [](SeesKey) -> braid::Task<> { co_return; }(q.key())));
    REQUIRE(q.dropped == 1);
    REQUIRE(q.seen == 8);
}

TEST_CASE("task_local.task-local in destructors: tasks dropped by a runtime shutdown, started or never polled") {
    Probe started, never;
    {
        auto rt = braid_test::runtime(2);
        rt.spawn(KEY.scope(11, waits_forever(started.key(), &started.started))).detach();
        while (started.started.load() == 0) std::this_thread::yield();
        // A current-thread runtime polls only inside block_on: this task
        // never runs; the shutdown drops it as it was spawned.
        auto ct = braid::Runtime::builder().current_thread().build();
        ct.spawn(KEY.scope(12, waits_forever(never.key(), &never.started))).detach();
    }
    REQUIRE(started.dropped == 2);
    REQUIRE(started.seen == 11);
    REQUIRE(never.started == 0);
    REQUIRE(never.dropped == 1);  // the parameter; the local was never made
    REQUIRE(never.seen == 12);
}

TEST_CASE("task_local.task-local in destructors: a select or timeout cancelling a branch in a scope") {
    auto rt = braid_test::paused_runtime(1);
    Probe outer, inner, timed;
    rt.block_on([](Probe* outer, Probe* inner, Probe* timed) -> braid::Task<> {
        // the select inside the scope: its losing branch is dropped
        int a = co_await KEY.scope(21, [](Probe* p) -> braid::Task<int> {
            auto r = co_await braid::select(waits_forever(p->key(), &p->started), braid::sleep(std::chrono::seconds(1)));
            co_return int(r.index());
        }(outer));
        EXPECT(a == 1);
        // the scope inside the losing branch
        auto b = co_await braid::select(KEY.scope(22, waits_forever(inner->key(), &inner->started)),
                                        braid::sleep(std::chrono::seconds(1)));
        EXPECT(b.index() == 1);
        // timeout around a scope, and a scope around a timeout
        auto c = co_await braid::timeout(std::chrono::seconds(1), KEY.scope(23, waits_forever(timed->key(), &timed->started)));
        EXPECT(!c);
        co_return;
    }(&outer, &inner, &timed));
    REQUIRE(outer.dropped == 2);
    REQUIRE(outer.seen == 21);
    REQUIRE(inner.dropped == 2);
    REQUIRE(inner.seen == 22);
    REQUIRE(timed.dropped == 2);
    REQUIRE(timed.seen == 23);
}

TEST_CASE("task_local.task-local in destructors: a JoinSet dropping its tasks") {
    auto rt = braid_test::runtime(2);
    Probe p[3];
    rt.block_on([](Probe* p) -> braid::Task<> {
        {
            braid::JoinSet<void> set;
            for (int i = 0; i < 3; ++i) set.spawn(KEY.scope(30 + i, waits_forever(p[i].key(), &p[i].started)));
            for (int i = 0; i < 3; ++i)
                while (p[i].started.load() == 0) co_await braid::yield_now();
        }  // aborts them; each is dropped on a worker
        for (int i = 0; i < 3; ++i)
            while (p[i].dropped.load() < 2) co_await braid::yield_now();
    }(p));
    for (int i = 0; i < 3; ++i) REQUIRE(p[i].seen == 30 + i);
}

TEST_CASE("task_local.task-local: a stream's closures see it after the consumer waited") {
    // The consumer's re-poll (after the generator yielded its worker) runs
    // map's closure: it runs in the task, so the value is in scope.
    auto rt = braid_test::runtime(1);
    long sum = rt.block_on(KEY.scope(1000, []() -> braid::Task<long> {
        auto slow = []() -> braid::Stream<int> {
            for (int i = 0; i < 10; ++i) {
                co_await braid::yield_now();
                co_yield i;
            }
        };
        co_return co_await (slow() | braid::stream::map([](int x) { return long(x + KEY.get()); })
                            | braid::stream::fold(0L, std::plus<>()));
    }()));
    REQUIRE(sum == 10 * 1000 + 45);
}

TEST_CASE("task_local.task-local: with and try_with") {
    auto rt = braid_test::runtime(1);
    rt.block_on(KEY.scope(3, []() -> braid::Task<> {
        EXPECT(KEY.with([](int& v) { return v * 2; }) == 6);
        EXPECT(KEY.try_with([](int v) { return v + 1; }) == std::optional<int>(4));
        bool called = false;
        EXPECT(KEY.try_with([&](int) { called = true; }));
        EXPECT(called);
        co_return;
    }()));
    REQUIRE_FALSE(KEY.try_with([](int v) { return v; }).has_value());
    REQUIRE_FALSE(KEY.try_with([](int) {}));
    REQUIRE_THROWS_AS(KEY.with([](int v) { return v; }), braid::Error);
}

}  // namespace test_task_local
