// Tokio 1.24, tests/task_local_set.rs: LocalSet, a set of !Send tasks run on
// one thread (spawn_local, run_until, block_on).
//
// Gaps:
//   shutdown_on_panic — no unhandled_panic(ShutdownRuntime)
//
// Differs:
//   (the #[tokio::test(flavor = "multi_thread")] cases: local_threadpool,
//   localset_future_threadpool, localset_future_timers, local_threadpool_timer,
//   local_threadpool_blocking_run, all_spawns_are_local,
//   nested_spawn_is_local) — Tokio awaits run_until (or the set itself) in
//     the test's block_on future, which Tokio polls on the calling thread;
//     braid runs a block_on's future on the workers, where the awaiting task
//     may move between threads, so run_until is refused there
//     (BRAID_ENOTSUP).  The ports drive the set with LocalSet::block_on on
//     the multi-thread runtime instead.  ON_RT_THREAD (a thread_local set on
//     the test's thread) is checked as "on the thread that drives the set".
//   localset_future_*: awaiting the LocalSet itself (until every task of it
//     has finished) is run_until over a join of the tasks' handles.
//   enter_guard_spawn — Tokio spawns under the guard before the runtime
//     exists; a braid task is made on a runtime, so the port enters the
//     runtime first.
//   localset_in_thread_local, store_local_set_in_thread_local_with_runtime
//     — the sets are destroyed at the exit of a thread the test joins, with
//     a task still in them, and the port checks that the task's frame was
//     let go.
//   run_until_does_not_get_own_budget — Tokio polls each future once by
//     hand (tokio_test's task::spawn) and counts the consume_budget calls
//     that completed; the port counts them up to the first yield, which it
//     sees as a step of another task (a ticker) in between.
//   local_threadpool_blocking_in_place — Tokio panics; braid's
//     block_in_place throws braid::Error(BRAID_ENOTSUP) (a current-thread
//     runtime) and the local task fails with it.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "support.hpp"

namespace conformance_task_local_set {

using namespace std::chrono_literals;

namespace {

thread_local bool ON_RT_THREAD = false;

braid::Runtime rt() { return braid::Runtime::builder().current_thread().build(); }

}  // namespace

TEST_CASE("task_local_set.local_current_thread_scheduler") {
    auto r = rt();
    r.block_on([]() -> braid::Task<> {
        braid::LocalSet local;
        co_await local.run_until([]() -> braid::Task<> {
            co_await braid::spawn_local([]() -> braid::Task<> { co_return; }());
        }());
    }());
}

TEST_CASE("task_local_set.local_threadpool") {
    ON_RT_THREAD = true;
    auto r = braid::Runtime();
    braid::LocalSet().block_on(r, []() -> braid::Task<> {
        EXPECT(ON_RT_THREAD);
        co_await braid::spawn_local([]() -> braid::Task<> {
            EXPECT(ON_RT_THREAD);
            co_return;
        }());
    }());
}

TEST_CASE("task_local_set.localset_future_threadpool") {
    ON_RT_THREAD = true;
    auto r = braid::Runtime();
    braid::LocalSet local;
    auto enter = r.enter();
    auto h = local.spawn_local([]() -> braid::Task<bool> { co_return ON_RT_THREAD; }());
    bool on = local.block_on(r, [](braid::JoinHandle<bool> h) -> braid::Task<bool> { co_return co_await h; }(std::move(h)));
    REQUIRE(on);
}

TEST_CASE("task_local_set.localset_future_timers") {
    static std::atomic<bool> RAN1{false}, RAN2{false};
    auto r = braid::Runtime();
    braid::LocalSet local;
    auto enter = r.enter();
    auto h1 = local.spawn_local([]() -> braid::Task<> {
        co_await braid::sleep(5ms);
        RAN1 = true;
    }());
    auto h2 = local.spawn_local([]() -> braid::Task<> {
        co_await braid::sleep(10ms);
        RAN2 = true;
    }());
    local.block_on(r, [](braid::JoinHandle<void> a, braid::JoinHandle<void> b) -> braid::Task<> {
        co_await a;
        co_await b;
    }(std::move(h1), std::move(h2)));
    REQUIRE(RAN1);
    REQUIRE(RAN2);
}

TEST_CASE("task_local_set.localset_future_drives_all_local_futs") {
    static std::atomic<bool> RAN1{false}, RAN2{false}, RAN3{false};
    auto r = rt();
    r.block_on([]() -> braid::Task<> {
        braid::LocalSet local;
        auto h1 = local.spawn_local([]() -> braid::Task<braid::JoinHandle<void>> {
            auto inner = braid::spawn_local([]() -> braid::Task<> {
                co_await braid::yield_now();
                RAN3 = true;
            }());
            co_await braid::yield_now();
            RAN1 = true;
            co_return inner;
        }());
        auto h2 = local.spawn_local([]() -> braid::Task<> {
            co_await braid::yield_now();
            RAN2 = true;
        }());
        co_await local.run_until([](braid::JoinHandle<braid::JoinHandle<void>> h1, braid::JoinHandle<void> h2) -> braid::Task<> {
            auto inner = co_await h1;
            co_await h2;
            co_await inner;
        }(std::move(h1), std::move(h2)));
    }());
    REQUIRE(RAN1);
    REQUIRE(RAN2);
    REQUIRE(RAN3);
}

TEST_CASE("task_local_set.local_threadpool_timer") {
    ON_RT_THREAD = true;
    auto r = braid::Runtime();
    braid::LocalSet().block_on(r, []() -> braid::Task<> {
        EXPECT(ON_RT_THREAD);
        co_await braid::spawn_local([]() -> braid::Task<> {
            EXPECT(ON_RT_THREAD);
            co_await braid::sleep(10ms);
            EXPECT(ON_RT_THREAD);
        }());
    }());
}

TEST_CASE("task_local_set.local_threadpool_blocking_in_place") {
    ON_RT_THREAD = true;
    auto r = rt();
    int code = braid::LocalSet().block_on(r, []() -> braid::Task<int> {
        EXPECT(ON_RT_THREAD);
        co_return co_await braid_test::code_of(braid::spawn_local([]() -> braid::Task<> {
            EXPECT(ON_RT_THREAD);
            braid::task::block_in_place([] {});
            co_return;
        }()));
    }());
    REQUIRE(code == BRAID_ENOTSUP);
}

TEST_CASE("task_local_set.local_threadpool_blocking_run") {
    ON_RT_THREAD = true;
    auto r = braid::Runtime();
    braid::LocalSet().block_on(r, []() -> braid::Task<> {
        EXPECT(ON_RT_THREAD);
        co_await braid::spawn_local([]() -> braid::Task<> {
            EXPECT(ON_RT_THREAD);
            co_await braid::spawn_blocking([] {
                EXPECT_ANYWHERE(!ON_RT_THREAD);  // blocking must not run on the local task set's thread
            });
            EXPECT(ON_RT_THREAD);
        }());
    }());
}

TEST_CASE("task_local_set.all_spawns_are_local") {
    ON_RT_THREAD = true;
    auto r = braid::Runtime();
    braid::LocalSet().block_on(r, []() -> braid::Task<> {
        EXPECT(ON_RT_THREAD);
        std::vector<braid::JoinHandle<void>> handles;
        for (int i = 0; i < 128; ++i)
            handles.push_back(braid::spawn_local([]() -> braid::Task<> {
                EXPECT(ON_RT_THREAD);
                co_return;
            }()));
        for (auto& h : handles) co_await h;
    }());
}

TEST_CASE("task_local_set.nested_spawn_is_local") {
    ON_RT_THREAD = true;
    auto r = braid::Runtime();
    braid::LocalSet().block_on(r, []() -> braid::Task<> {
        EXPECT(ON_RT_THREAD);
        co_await braid::spawn_local([]() -> braid::Task<> {
            EXPECT(ON_RT_THREAD);
            co_await braid::spawn_local([]() -> braid::Task<> {
                EXPECT(ON_RT_THREAD);
                co_await braid::spawn_local([]() -> braid::Task<> {
                    EXPECT(ON_RT_THREAD);
                    co_await braid::spawn_local([]() -> braid::Task<> {
                        EXPECT(ON_RT_THREAD);
                        co_return;
                    }());
                }());
            }());
        }());
    }());
}

TEST_CASE("task_local_set.join_local_future_elsewhere") {
    ON_RT_THREAD = true;
    auto r = braid::Runtime();
    braid::LocalSet local;
    local.block_on(r, []() -> braid::Task<> {
        auto [tx, rx] = braid::oneshot::channel<int>();
        auto join = braid::spawn_local([](braid::oneshot::Receiver<int> rx) -> braid::Task<std::string> {
            EXPECT(ON_RT_THREAD);  // local task must run on local thread, no matter where it is awaited
            co_await rx;
            co_return "hello world";
        }(std::move(rx)));
        auto join2 = braid::spawn([](braid::oneshot::Sender<int> tx, braid::JoinHandle<std::string> join) -> braid::Task<> {
            EXPECT(!ON_RT_THREAD);  // spawned task should be on a worker
            EXPECT(!tx.send(1));
            auto s = co_await join;
            EXPECT(s == "hello world");
        }(std::move(tx), std::move(join)));
        co_await join2;
    }());
}

TEST_CASE("task_local_set.drop_cancels_tasks") {
    auto r = rt();
    auto rc1 = std::make_shared<int>(0);
    auto rc2 = rc1;
    auto [started_tx, started_rx] = braid::oneshot::channel<int>();
    {
        braid::LocalSet local;
        auto enter = r.enter();
        local.spawn_local([](std::shared_ptr<int> rc2, braid::oneshot::Sender<int> started) -> braid::Task<> {
            EXPECT(!started.send(0));
            co_await braid_test::pending();
            (void)rc2;  // held by the frame until it is dropped
        }(std::move(rc2), std::move(started_tx))).detach();
        local.block_on(r, [](braid::oneshot::Receiver<int> rx) -> braid::Task<> { co_await rx; }(std::move(started_rx)));
    }
    REQUIRE(rc1.use_count() == 1);
}

TEST_CASE("task_local_set.drop_cancels_remote_tasks") {
    auto [tx, rx] = braid::mpsc::channel<int>(1024);
    auto r = rt();
    {
        braid::LocalSet local;
        auto enter = r.enter();
        local.spawn_local([](braid::mpsc::Receiver<int> rx) -> braid::Task<> {
            while (co_await rx.recv()) {
            }
        }(std::move(rx))).detach();
        local.block_on(r, []() -> braid::Task<> { co_await braid::sleep(1ms); }());
        { auto gone = std::move(tx); }  // wakes the local task remotely
    }  // must not loop for ever
}

TEST_CASE("task_local_set.local_tasks_wake_join_all") {
    auto r = rt();
    r.block_on([]() -> braid::Task<> {
        braid::LocalSet set;
        std::vector<braid::JoinHandle<void>> handles;
        for (int i = 1; i <= 128; ++i)
            handles.push_back(set.spawn_local([]() -> braid::Task<> {
                co_await braid::spawn_local([]() -> braid::Task<> { co_return; }());
            }()));
        co_await set.run_until([](std::vector<braid::JoinHandle<void>>& hs) -> braid::Task<> {
            for (auto& h : hs) co_await h;
        }(handles));
    }());
}

TEST_CASE("task_local_set.enter_guard_spawn") {
    auto r = rt();
    braid::LocalSet local;
    auto rt_guard = r.enter();  // braid makes the task on a runtime: entered before the spawn
    auto guard = local.enter();
    auto join = braid::spawn_local([]() -> braid::Task<bool> { co_return true; }());
    bool ok = local.block_on(r, [](braid::JoinHandle<bool> join) -> braid::Task<bool> { co_return co_await join; }(std::move(join)));
    REQUIRE(ok);
}

TEST_CASE("task_local_set.sleep_with_local_enter_guard") {
    auto r = rt();
    r.block_on([]() -> braid::Task<> {
        braid::LocalSet local;
        auto guard = local.enter();
        auto [tx, rx] = braid::oneshot::channel<int>();
        co_await local.run_until([](braid::oneshot::Sender<int> tx, braid::oneshot::Receiver<int> rx) -> braid::Task<> {
            braid::spawn_local([](braid::oneshot::Sender<int> tx) -> braid::Task<> {
                co_await braid::sleep(0ms);
                EXPECT(!tx.send(1));
            }(std::move(tx))).detach();
            EXPECT(co_await rx == 1);
        }(std::move(tx), std::move(rx)));
    }());
}

namespace {
// What a local task holds: the test checks that it was let go.
std::shared_ptr<int> held_by_local_task;
}  // namespace

TEST_CASE("task_local_set.localset_in_thread_local") {
    // A LocalSet in a thread_local, driven through a Handle from its own
    // thread and destroyed when that thread exits, with a task of it still
    // waiting: the task is cancelled there (its frame goes), no crash.
    auto r = rt();
    auto probe = std::make_shared<int>(0);
    auto [tx, rx] = braid::oneshot::channel<int>();
    std::thread th([h = r.handle(), probe, rx = std::move(rx)]() mutable {
        thread_local braid::LocalSet local_set;
        auto enter = h.enter();
        local_set.spawn_local([](std::shared_ptr<int> p) -> braid::Task<> {
            co_await braid_test::pending();
            (void)p;
        }(probe)).detach();
        probe.reset();
        h.block_on(local_set.run_until([](braid::oneshot::Receiver<int> rx) -> braid::Task<> {
            try {
                co_await rx;
            } catch (...) {
            }
        }(std::move(rx))));
    });
    { auto gone = std::move(tx); }  // lets the thread's run_until finish
    th.join();
    REQUIRE(probe.use_count() == 1);
}

TEST_CASE("task_local_set.local_tasks_are_polled_after_tick") {
    // Tokio's form waits real milliseconds; on paused time the clock moves
    // only once every task waits, so the checks run after every local task
    // had its turn.
    static std::atomic<std::size_t> RX1{0}, RX2{0};
    constexpr std::size_t EXPECTED = 500;
    auto r = braid_test::current_thread_runtime(true);
    r.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::mpsc::unbounded_channel<braid::oneshot::Receiver<int>>();
        braid::LocalSet local;
        co_await local.run_until([](braid::mpsc::UnboundedSender<braid::oneshot::Receiver<int>> tx,
                                    braid::mpsc::Receiver<braid::oneshot::Receiver<int>> rx) -> braid::Task<> {
            auto task2 = braid::spawn([](braid::mpsc::UnboundedSender<braid::oneshot::Receiver<int>> tx) -> braid::Task<> {
                co_await braid::sleep(10ms);
                std::vector<braid::oneshot::Sender<int>> oneshots;
                for (std::size_t i = 0; i < EXPECTED; ++i) {
                    auto [otx, orx] = braid::oneshot::channel<int>();
                    oneshots.push_back(std::move(otx));
                    EXPECT(!tx.send(std::move(orx)));
                }
                co_await braid::sleep(10ms);
                for (auto& o : oneshots) EXPECT(!o.send(0));
                co_await braid::sleep(20ms);
                EXPECT(RX1 == EXPECTED);
                EXPECT(RX2 == EXPECTED);
            }(std::move(tx)));
            while (auto oneshot = co_await rx.recv()) {
                ++RX1;
                braid::spawn_local([](braid::oneshot::Receiver<int> o) -> braid::Task<> {
                    co_await o;
                    ++RX2;
                }(std::move(*oneshot))).detach();
            }
            co_await task2;
        }(std::move(tx), std::move(rx)));
    }());
    REQUIRE(RX1 == EXPECTED);
    REQUIRE(RX2 == EXPECTED);
}

TEST_CASE("task_local_set.acquire_mutex_in_drop") {
    // Dropping the set drops the third task, whose sender wakes the second
    // task (a wake into the set being dropped): nothing runs any more, and
    // nothing deadlocks.
    static std::atomic<bool> reached{false};
    auto r = rt();
    r.block_on([]() -> braid::Task<> {
        auto [tx1, rx1] = braid::oneshot::channel<int>();
        auto [tx2, rx2] = braid::oneshot::channel<int>();
        braid::LocalSet local;
        local.spawn_local([](braid::oneshot::Receiver<int> rx2) -> braid::Task<> {
            co_await braid_test::code_of(std::move(rx2));
            reached = true;  // unreachable
        }(std::move(rx2))).detach();
        local.spawn_local([](braid::oneshot::Receiver<int> rx1, braid::oneshot::Sender<int> tx2) -> braid::Task<> {
            co_await braid_test::code_of(std::move(rx1));
            EXPECT(!tx2.send(0));
            reached = true;  // unreachable
        }(std::move(rx1), std::move(tx2))).detach();
        local.spawn_local([](braid::oneshot::Sender<int> tx1) -> braid::Task<> {  // never notified
            co_await braid_test::pending();
            EXPECT(!tx1.send(0));
        }(std::move(tx1))).detach();
        co_await local.run_until([]() -> braid::Task<> { co_await braid::yield_now(); }());  // tick the set
    }());  // the set is dropped at the end of the task
    REQUIRE(!reached);
}

TEST_CASE("task_local_set.spawn_wakes_localset") {
    auto r = rt();
    int ret = r.block_on([]() -> braid::Task<int> {
        braid::LocalSet local;
        auto won = co_await braid::select(local.run_until([]() -> braid::Task<> { co_await braid_test::pending(); }()),
                                          [](braid::LocalSet& local) -> braid::Task<int> {
                                              co_return co_await local.spawn_local([]() -> braid::Task<int> { co_return 7; }());
                                          }(local));
        EXPECT(won.index() == 1);
        co_return std::get<1>(won);
    }());
    REQUIRE(ret == 7);
}

TEST_CASE("task_local_set.store_local_set_in_thread_local_with_runtime") {
    // A thread_local holding a runtime and a set, the runtime destroyed
    // first (as the Rust fields drop in order) at the thread's exit, with a
    // task of the set that never ran: destroying the set then cancels it
    // without its runtime, no crash, its frame let go.
    auto probe = std::make_shared<int>(0);
    held_by_local_task = probe;
    std::thread th([] {
        struct RtAndLocalSet {
            braid::LocalSet local;  // destroyed after rt
            braid::Runtime rt = braid::Runtime::builder().current_thread().build();
            void method() {
                rt.block_on(local.run_until([]() -> braid::Task<> {
                    braid::spawn_local([](std::shared_ptr<int> p) -> braid::Task<> {
                        (void)p;
                        co_return;
                    }(std::move(held_by_local_task))).detach();
                    co_return;
                }()));
            }
        };
        thread_local RtAndLocalSet current;
        current.method();
    });
    th.join();
    REQUIRE(probe.use_count() == 1);
}

namespace {
// How many consume_budget calls complete before the first one that yields
// (the ticker, another task, runs only when this task yields).
braid::Task<int> completions_before_yield(const braid_test::Ticker* ticker) {
    int n = 0;
    int t0 = ticker->ticks();
    for (;;) {
        co_await braid::task::consume_budget();
        if (ticker->ticks() != t0) co_return n;
        ++n;
    }
}
}  // namespace

TEST_CASE("task_local_set.run_until_does_not_get_own_budget") {
    // run_until's future runs in the budget of the task that awaits it (which
    // used some already); a spawned task starts with a budget of its own.
    auto r = rt();
    auto [spawned_n, run_until_n] = r.block_on([]() -> braid::Task<std::pair<int, int>> {
        braid_test::Ticker ticker;
        co_await braid::task::consume_budget();  // consume some budget
        braid::LocalSet local;
        auto counts = co_await local.run_until([](const braid_test::Ticker* ticker) -> braid::Task<std::pair<int, int>> {
            auto spawned = braid::spawn(completions_before_yield(ticker));
            int run_until_n = co_await completions_before_yield(ticker);
            co_return std::pair<int, int>{co_await spawned, run_until_n};
        }(&ticker));
        co_await ticker.stop();
        co_return counts;
    }());
    REQUIRE(spawned_n != 0);
    REQUIRE(run_until_n != 0);
    REQUIRE(spawned_n > run_until_n);
}

}  // namespace conformance_task_local_set
