// select: the first finisher wins, losers are destroyed before select
// returns; fairness; biased order; nesting; exceptions; cross-thread wakes.
#include <catch2/catch.hpp>

#include <array>
#include <stdexcept>
#include <string>
#include <thread>

#include "support.hpp"

namespace test_task_select {

using namespace std::chrono_literals;
using braid_test::Tracked;
using braid_test::value_after;

namespace {
braid::Task<int> ready(int v) { co_return v; }
}  // namespace

TEST_CASE("task_select.select returns the first to finish and its index") {
    auto rt = braid_test::paused_runtime();
    auto r = rt.block_on([]() -> braid::Task<std::variant<int, std::string>> {
        co_return co_await braid::select(value_after(20ms, 1), [](int) -> braid::Task<std::string> {
            co_await braid::sleep(10ms);
            co_return "second";
        }(0));
    }());
    REQUIRE(r.index() == 1);
    REQUIRE(std::get<1>(r) == "second");
}

TEST_CASE("task_select.select destroys every loser before it returns") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    auto rt = braid_test::paused_runtime();
    long live_at_return = rt.block_on([]() -> braid::Task<long> {
        auto loser = [](Tracked t) -> braid::Task<int> {
            co_await braid::sleep(std::chrono::hours(1));
            co_return t.value;
        };
        auto r = co_await braid::select(loser(Tracked(1)), value_after(1ms, 2), loser(Tracked(3)));
        REQUIRE(r.index() == 1);
        co_return Tracked::live();
    }());
    REQUIRE(live_at_return == 0);
}

TEST_CASE("task_select.select with equal types: the index tells which") {
    auto rt = braid_test::paused_runtime();
    auto r = rt.block_on([]() -> braid::Task<std::variant<int, int, int>> {
        co_return co_await braid::select(value_after(3ms, 0), value_after(1ms, 1), value_after(2ms, 2));
    }());
    REQUIRE(r.index() == 1);
    REQUIRE(std::get<1>(r) == 1);
}

TEST_CASE("task_select.select start order is randomised, select_biased polls in order") {
    auto rt = braid_test::runtime(1);
    auto [counts, biased] = rt.block_on([]() -> braid::Task<std::pair<std::array<int, 3>, int>> {
        std::array<int, 3> c{};
        for (int i = 0; i < 3000; ++i) {
            auto r = co_await braid::select(ready(0), ready(1), ready(2));
            ++c[r.index()];
        }
        int first = 0;
        for (int i = 0; i < 100; ++i) {
            auto r = co_await braid::select_biased(ready(0), ready(1), ready(2));
            first += r.index() == 0;
        }
        co_return std::make_pair(c, first);
    }());
    for (int c : counts) REQUIRE(c > 500);  // each about 1000
    REQUIRE(biased == 100);
}

TEST_CASE("task_select.select rethrows the winner's exception") {
    auto rt = braid_test::paused_runtime();
    REQUIRE_THROWS_WITH(rt.block_on([]() -> braid::Task<> {
        co_await braid::select(value_after(10ms, 1), []() -> braid::Task<int> {
            co_await braid::sleep(1ms);
            throw std::invalid_argument("branch threw");
        }());
    }()),
                        "branch threw");
}

TEST_CASE("task_select.nested selects, and select inside join inside select") {
    auto rt = braid_test::paused_runtime();
    auto [outer_index, value] = rt.block_on([]() -> braid::Task<std::pair<size_t, int>> {
        auto inner = []() -> braid::Task<int> {
            auto r = co_await braid::select(value_after(5ms, 10), value_after(2ms, 20));
            co_return std::get<1>(r);
        };
        auto joined = [inner]() -> braid::Task<int> {
            auto [a, b] = co_await braid::join(inner(), value_after(3ms, 1));
            co_return a + b;
        };
        auto r = co_await braid::select(joined(), value_after(50ms, -1));
        co_return std::make_pair(r.index(), std::get<0>(r));
    }());
    REQUIRE(outer_index == 0);
    REQUIRE(value == 21);
}

TEST_CASE("task_select.select over a join handle, a oneshot and a sleep") {
    auto rt = braid_test::runtime(2);
    size_t idx = rt.block_on([]() -> braid::Task<size_t> {
        auto [tx, rx] = braid::oneshot::channel<int>();
        auto h = braid::spawn(value_after(std::chrono::hours(1), 0));
        braid::spawn([](braid::oneshot::Sender<int> t) -> braid::Task<> {
            co_await braid::sleep(1ms);
            t.send(5);
        }, std::move(tx)).detach();
        auto r = co_await braid::select(std::move(h), std::move(rx), braid::sleep(std::chrono::hours(2)));
        co_return r.index();
    }());
    REQUIRE(idx == 1);
}

TEST_CASE("task_select.a loser being woken from another thread as it loses", "[stress]") {
    // The loser waits on a oneshot whose sender fires from a foreign thread at
    // about the moment the winner (a yield) completes.  Whatever the timing,
    // nothing is lost or woken after its frame is gone.
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    {
        auto rt = braid_test::runtime(2);
        for (int round = 0; round < 2000; ++round) {
            auto [tx, rx] = braid::oneshot::channel<Tracked>();
            std::atomic<bool> go{false};
            std::thread sender([&, t = std::move(tx)]() mutable {
                while (!go.load()) std::this_thread::yield();
                t.send(Tracked(round));
            });
            auto rxp = std::make_shared<braid::oneshot::Receiver<Tracked>>(std::move(rx));
            size_t idx = rt.block_on([](auto r, std::atomic<bool>* g) -> braid::Task<size_t> {
                g->store(true);
                auto res = co_await braid::select_biased(braid::yield_now(), *r);
                co_return res.index();
            }(rxp, &go));
            sender.join();
            if (idx == 0) {
                // the value is still in the channel: the loser took nothing
                try {
                    auto v = rxp->try_recv();
                    REQUIRE(v.has_value());
                } catch (const braid::RecvError&) {
                    FAIL("the loser lost the value");
                }
            }
        }
    }
    REQUIRE(Tracked::live() == 0);
}

// ---- awaitables kept across select calls (Tokio's select in a loop) -----------

namespace {
// The next message, or nullopt once the caller's deadline passed.  The
// deadline is kept by the caller across calls: a helper returning while the
// sleep is still armed must leave nothing of its select registered.
braid::Task<std::optional<int>> recv_before(braid::Sleep& deadline, braid::mpsc::Receiver<int>& rx) {
    auto r = co_await braid::select(deadline, rx.recv());
    if (r.index() == 0) co_return std::nullopt;
    co_return std::get<1>(r);
}
}  // namespace

TEST_CASE("task_select.a kept sleep outlives the select that raced it and keeps its deadline across calls") {
    auto rt = braid_test::paused_runtime();
    auto [received, sum, took, late] = rt.block_on([]() -> braid::Task<std::tuple<int, int, braid::Duration, bool>> {
        auto [tx, rx] = braid::mpsc::channel<int>(4);
        // one message per millisecond, 20 of them: the deadline cuts them at 10ms
        braid::spawn([](braid::mpsc::Sender<int> t) -> braid::Task<> {
            for (int i = 1; i <= 20; ++i) {
                co_await braid::sleep(1ms);
                if (co_await t.send(i)) co_return;
            }
        }, std::move(tx)).detach();
        auto t0 = braid::Instant::now();
        auto deadline = braid::sleep(10500us);
        int n = 0, s = 0;
        while (auto m = co_await recv_before(deadline, rx)) {
            ++n;
            s += *m;
        }
        auto took = t0.elapsed();
        // The deadline's timer fired while no select was racing it; run on
        // past it with other timers so a stale wake would show (ASan).
        auto second = braid::sleep(5ms);
        bool late = (co_await recv_before(second, rx)).has_value();
        co_await braid::sleep(30ms);
        co_return std::make_tuple(n, s, took, late);
    }());
    REQUIRE(received == 10);
    REQUIRE(sum == 55);
    REQUIRE(took == 10500us);
    REQUIRE(late);  // the 11th message arrives at 11ms, before the second deadline
}

TEST_CASE("task_select.a helper returns while its kept sleep is armed and the runtime runs past the deadline") {
    auto rt = braid_test::paused_runtime();
    int got = rt.block_on([]() -> braid::Task<int> {
        auto [tx, rx] = braid::mpsc::channel<int>(1);
        auto deadline = braid::sleep(10ms);
        braid::spawn([](braid::mpsc::Sender<int> t) -> braid::Task<> {
            co_await braid::sleep(1ms);
            co_await t.send(7);
        }, std::move(tx)).detach();
        auto m = co_await recv_before(deadline, rx);  // both branches wait; the recv wins at 1ms
        co_await braid::sleep(50ms);                   // the kept deadline fires at 10ms
        EXPECT(deadline.is_elapsed());
        co_return m.value_or(-1);
    }());
    REQUIRE(got == 7);
}

TEST_CASE("task_select.a kept Notified keeps its place in the queue across selects and loses no notification") {
    auto rt = braid_test::paused_runtime();
    auto [first, other_woken_early] = rt.block_on([]() -> braid::Task<std::pair<size_t, bool>> {
        braid::Notify notify;
        auto mine = notify.notified();
        auto r1 = co_await braid::select(mine, braid::sleep(1ms));  // queues `mine`, then loses
        EXPECT(r1.index() == 1);
        // A second waiter queues behind it.
        std::atomic<bool> other{false};
        auto h = braid::spawn([](braid::Notify* n, std::atomic<bool>* o) -> braid::Task<> {
            co_await n->notified();
            o->store(true);
        }(&notify, &other));
        co_await braid::sleep(1ms);
        // Between the selects: notify_one picks the first in the queue, `mine`.
        notify.notify_one();
        co_await braid::sleep(1ms);
        bool early = other.load();
        auto r2 = co_await braid::select(braid::sleep(1h), mine);
        notify.notify_one();
        co_await h;
        co_return std::make_pair(r2.index(), early);
    }());
    REQUIRE(first == 1);
    REQUIRE_FALSE(other_woken_early);
}

TEST_CASE("task_select.a kept semaphore acquire keeps the permits granted while no select raced it") {
    auto rt = braid_test::paused_runtime();
    auto [got, left] = rt.block_on([]() -> braid::Task<std::pair<size_t, size_t>> {
        braid::Semaphore sem(0);
        auto acquire = sem.acquire_many(2);
        auto r1 = co_await braid::select(acquire, braid::sleep(1ms));
        EXPECT(r1.index() == 1);
        sem.add_permits(2);  // granted to the queued acquire, which nobody races now
        EXPECT(sem.available_permits() == 0);
        std::size_t n = 0;
        {
            auto r2 = co_await braid::select_biased(braid::sleep(1h), acquire);
            if (r2.index() == 1) n = std::get<1>(r2).num_permits();
        }
        co_return std::make_pair(n, sem.available_permits());
    }());
    REQUIRE(got == 2);
    REQUIRE(left == 2);  // the permit went back when it was dropped
}

// The wakes come from a plain thread and the timer thread while two workers
// steal from each other.
TEST_CASE("task_select.a kept recv raced against ticks in a loop receives every message from a plain thread once", "[stress]") {
    const int n = 20000 / braid_test::kStressDivisor;
    auto rt = braid_test::runtime(2);
    auto [tx, rx] = braid::mpsc::channel<int>(16);
    std::thread producer([t = std::move(tx)]() mutable {
        for (int i = 0; i < n; ++i) EXPECT_ANYWHERE(!t.blocking_send(i));
    });  // the sender goes with the thread: the channel closes
    using Counts = std::tuple<long, long, long>;
    auto [count, sum, ticks] = rt.block_on([](braid::mpsc::Receiver<int> r) -> braid::Task<Counts> {
        auto iv = braid::interval(20us);
        auto next = r.recv();
        long c = 0, s = 0, t = 0;
        for (;;) {
            auto res = co_await braid::select(next, iv.tick());
            if (res.index() == 1) {
                ++t;
                continue;
            }
            auto m = std::get<0>(res);
            if (!m) break;
            ++c;
            s += *m;
        }
        co_return std::make_tuple(c, s, t);
    }(std::move(rx)));
    producer.join();
    REQUIRE(count == n);
    REQUIRE(sum == long(n) * (n - 1) / 2);
    (void)ticks;
}

TEST_CASE("task_select.a kept Notified raced in a loop sees every notification a plain thread sends", "[stress]") {
    const int n = 5000 / braid_test::kStressDivisor;
    auto rt = braid_test::runtime(2);
    braid::Notify notify;
    std::atomic<int> acked{0};
    std::thread notifier([&] {
        for (int i = 0; i < n; ++i) {
            notify.notify_one();
            while (acked.load() <= i) std::this_thread::yield();  // the task saw it
        }
    });
    long ticks = rt.block_on([](braid::Notify* nt, std::atomic<int>* ack, int total) -> braid::Task<long> {
        auto iv = braid::interval(10us);
        auto mine = nt->notified();
        long t = 0;
        while (ack->load() < total) {
            auto r = co_await braid::select(mine, iv.tick());
            if (r.index() == 0) ack->fetch_add(1);
            else ++t;
        }
        co_return t;
    }(&notify, &acked, n));
    notifier.join();
    REQUIRE(acked.load() == n);
    (void)ticks;
}

// ---- preconditions, else, and tasks kept across selects --------------------

TEST_CASE("task_select.a branch disabled with braid::when is not polled") {
    auto rt = braid_test::paused_runtime();
    auto [idx, started, left, second] = rt.block_on([]() -> braid::Task<std::tuple<size_t, bool, size_t, int>> {
        auto [tx, rx] = braid::mpsc::channel<int>(4);
        EXPECT(!tx.try_send(1));
        bool s = false;
        auto r = co_await braid::select(braid::when(false, rx.recv()),
                                        braid::when(false, [](bool* st) -> braid::Task<int> {
                                            *st = true;
                                            co_return 2;
                                        }(&s)),
                                        braid::sleep(1ms));
        std::size_t still = rx.len();
        auto r2 = co_await braid::select(braid::when(true, rx.recv()), braid::sleep(1ms));
        int v = r2.index() == 0 ? std::get<0>(r2).value_or(-1) : -1;
        co_return std::make_tuple(r.index(), s, still, v);
    }());
    REQUIRE(idx == 2);
    REQUIRE_FALSE(started);  // the disabled task never ran
    REQUIRE(left == 1);      // the disabled receive took nothing
    REQUIRE(second == 1);
}

TEST_CASE("task_select.braid::otherwise is chosen when every branch is disabled, without it select throws") {
    auto rt = braid_test::paused_runtime();
    auto [got, rounds, code] = rt.block_on([]() -> braid::Task<std::tuple<int, int, int>> {
        auto [atx, arx] = braid::mpsc::channel<int>(8);
        auto [btx, brx] = braid::mpsc::channel<int>(8);
        for (int i = 1; i <= 3; ++i) {
            EXPECT(!atx.try_send(i));
            EXPECT(!btx.try_send(10 * i));
        }
        { auto gone = std::move(atx); }
        { auto gone = std::move(btx); }
        bool a_open = true, b_open = true;
        int sum = 0, n = 0;
        for (;; ++n) {
            auto r = co_await braid::select(braid::when(a_open, arx.recv()), braid::when(b_open, brx.recv()),
                                            braid::otherwise());
            if (r.index() == 2) break;
            if (r.index() == 0) {
                if (auto v = std::get<0>(r)) sum += *v;
                else a_open = false;
            } else {
                if (auto v = std::get<1>(r)) sum += *v;
                else b_open = false;
            }
        }
        int c = 0;
        try {
            co_await braid::select(braid::when(false, arx.recv()), braid::when(false, braid::sleep(1ms)));
        } catch (const braid::Error& e) {
            c = e.code();
        }
        co_return std::make_tuple(sum, n, c);
    }());
    REQUIRE(got == 66);
    REQUIRE(rounds == 8);  // 6 values and 2 ends
    REQUIRE(code == BRAID_EINVAL);
}

TEST_CASE("task_select.a pinned task keeps its progress across the selects that race it") {
    auto rt = braid_test::paused_runtime();
    auto [value, steps, ticks, took, done, again] = rt.block_on(
        []() -> braid::Task<std::tuple<int, int, int, braid::Duration, bool, int>> {
            auto t0 = braid::Instant::now();
            int s = 0;
            auto work = braid::pin([](int* st) -> braid::Task<int> {
                for (int i = 0; i < 5; ++i) {
                    co_await braid::sleep(10ms);
                    ++*st;
                }
                co_return 42;
            }(&s));
            auto iv = braid::interval(3ms);
            int t = 0, v = 0;
            for (;;) {
                auto r = co_await braid::select(work, iv.tick());
                if (r.index() == 0) {
                    v = std::get<0>(r);
                    break;
                }
                ++t;
            }
            auto took = t0.elapsed();
            int c = 0;
            try {
                co_await work;
            } catch (const braid::Error& e) {
                c = e.code();
            }
            co_return std::make_tuple(v, s, t, took, work.done(), c);
        }());
    REQUIRE(value == 42);
    REQUIRE(steps == 5);
    REQUIRE(took == 50ms);  // its sleeps went on while it lost: 5 x 10ms, not more
    REQUIRE(ticks >= 16);   // ticks at 0, 3, ..., 48ms (one may tie with the end)
    REQUIRE(done);
    REQUIRE(again == BRAID_EINVAL);
}

TEST_CASE("task_select.a pinned task woken while no select races it goes on at the next one") {
    auto rt = braid_test::paused_runtime();
    auto [first, second, value] = rt.block_on([]() -> braid::Task<std::tuple<size_t, size_t, int>> {
        auto [tx, rx] = braid::oneshot::channel<int>();
        auto work = braid::pin([](braid::oneshot::Receiver<int> r) -> braid::Task<int> {
            co_return 2 * co_await std::move(r);
        }(std::move(rx)));
        auto r1 = co_await braid::select_biased(work, braid::sleep(1ms));  // waits on the oneshot, loses
        tx.send(21);                                                       // wakes it: nobody races it now
        auto r2 = co_await braid::select_biased(braid::sleep(1h), work);
        co_return std::make_tuple(r1.index(), r2.index(), r2.index() == 1 ? std::get<1>(r2) : -1);
    }());
    REQUIRE(first == 1);
    REQUIRE(second == 1);
    REQUIRE(value == 42);
}

TEST_CASE("task_select.a pinned task fed from a plain thread loses selects and timeouts and counts every message", "[stress]") {
    const int n = 20000 / braid_test::kStressDivisor;
    auto rt = braid_test::runtime(2);
    auto [tx, rx] = braid::mpsc::channel<int>(8);
    std::thread producer([t = std::move(tx)]() mutable {
        for (int i = 0; i < n; ++i) EXPECT_ANYWHERE(!t.blocking_send(i));
    });
    auto [count, sum] = rt.block_on([](braid::mpsc::Receiver<int> r) -> braid::Task<std::pair<long, long>> {
        auto work = braid::pin([](braid::mpsc::Receiver<int> rr) -> braid::Task<std::pair<long, long>> {
            long c = 0, s = 0;
            while (auto m = co_await rr.recv()) {
                ++c;
                s += *m;
            }
            co_return std::make_pair(c, s);
        }(std::move(r)));
        auto iv = braid::interval(20us);
        for (int round = 0;; ++round) {
            if (round % 2) {
                auto res = co_await braid::select(work, iv.tick());
                if (res.index() == 0) co_return std::get<0>(res);
            } else if (auto v = co_await braid::timeout(30us, work)) {
                co_return *v;
            }
        }
    }(std::move(rx)));
    producer.join();
    REQUIRE(count == n);
    REQUIRE(sum == long(n) * (n - 1) / 2);
}

TEST_CASE("task_select.a join handle raced by lvalue stays joinable") {
    auto rt = braid_test::paused_runtime();
    auto [ticks, v, w] = rt.block_on([]() -> braid::Task<std::tuple<int, int, int>> {
        auto h = braid::spawn(value_after(10ms, 5));
        int t = 0, v = 0;
        for (;;) {
            auto r = co_await braid::select(h, braid::sleep(3ms));
            if (r.index() == 0) {
                v = std::get<0>(r);
                break;
            }
            ++t;
        }
        auto h2 = braid::spawn(value_after(10ms, 7));
        auto lost = co_await braid::select(h2, braid::sleep(1ms));
        EXPECT(lost.index() == 1);
        int w = co_await h2;  // still joinable
        co_return std::make_tuple(t, v, w);
    }());
    REQUIRE(ticks == 3);
    REQUIRE(v == 5);
    REQUIRE(w == 7);
}

TEST_CASE("task_select.a oneshot receiver and a join handle moved into a select that they lose go before it returns") {
    auto rt = braid_test::paused_runtime();
    auto [rx_gone, task_value] = rt.block_on([]() -> braid::Task<std::pair<bool, int>> {
        auto [tx, rx] = braid::oneshot::channel<int>();
        auto [done_tx, done_rx] = braid::oneshot::channel<int>();
        auto h = braid::spawn([](braid::oneshot::Sender<int> t) -> braid::Task<int> {
            co_await braid::sleep(10ms);
            t.send(9);
            co_return 9;
        }(std::move(done_tx)));
        // both held by their branches (no frame); both lose to the sleep
        auto r = co_await braid::select(std::move(rx), std::move(h), braid::sleep(1ms));
        EXPECT(r.index() == 2);
        bool gone = tx.is_closed();  // the receiver was destroyed with its branch
        int v = co_await std::move(done_rx);  // the task was detached, not aborted
        co_return std::make_pair(gone, v);
    }());
    REQUIRE(rx_gone);
    REQUIRE(task_value == 9);
}

TEST_CASE("task_select.an awaitable moved into a select whose operator co_await throws fails its branch") {
    auto rt = braid_test::paused_runtime();
    int code = rt.block_on([]() -> braid::Task<int> {
        braid::oneshot::Receiver<int> empty;  // operator co_await throws: used after move
        co_return co_await braid_test::code_of(braid::select(std::move(empty), braid::sleep(1h)));
    }());
    REQUIRE(code == BRAID_EINVAL);
}

TEST_CASE("task_select.join and timeout take kept awaitables too") {
    auto rt = braid_test::paused_runtime();
    auto [a, b, c, timed_out] = rt.block_on([]() -> braid::Task<std::tuple<int, int, bool, bool>> {
        auto [tx, rx] = braid::mpsc::channel<int>(4);
        auto deadline = braid::sleep(5ms);
        auto next = rx.recv();
        auto miss = co_await braid::timeout(1ms, next);  // nothing yet: unregistered, kept
        EXPECT(!tx.try_send(3));
        auto [m, _] = co_await braid::join(next, deadline);
        auto work = braid::pin(value_after(2ms, 4));
        auto t1 = co_await braid::timeout(1ms, work);
        auto t2 = co_await braid::timeout(5ms, work);
        co_return std::make_tuple(m.value_or(-1), t2.value_or(-1), t1.has_value(), !miss.has_value());
    }());
    REQUIRE(a == 3);
    REQUIRE(b == 4);
    REQUIRE_FALSE(c);
    REQUIRE(timed_out);
}

// What select, join and timeout accept by lvalue: awaitables that can drop
// the waker of a branch that ended (every braid leaf, and a few wrappers).
namespace {
struct NoUnregister {
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    int await_resume() const noexcept { return 1; }
};
using braid::detail::raceable_v;
static_assert(raceable_v<NoUnregister>, "by value: moved into the branch");
static_assert(!raceable_v<NoUnregister&>, "by lvalue: nothing to unregister with");
static_assert(raceable_v<braid::Task<int>>);
static_assert(!raceable_v<braid::Task<int>&>, "a Task by lvalue would be consumed: braid::pin it");
static_assert(raceable_v<braid::Pinned<int>&>);
static_assert(raceable_v<braid::JoinHandle<int>&>);
static_assert(raceable_v<braid::oneshot::Receiver<int>&>);
static_assert(raceable_v<braid::Sleep&>);
static_assert(raceable_v<braid::Interval::Tick&>);
static_assert(raceable_v<braid::mpsc::Receiver<int>::Recv&>);
static_assert(raceable_v<braid::mpsc::Receiver<int>::RecvMany&>);
static_assert(raceable_v<braid::mpsc::Sender<int>::Send&>);
static_assert(raceable_v<braid::mpsc::Sender<int>::SendTimeout&>);
static_assert(raceable_v<braid::mpsc::Sender<int>::ReserveOne&>);
static_assert(raceable_v<braid::mpsc::Sender<int>::ReserveOwned&>);
static_assert(raceable_v<braid::mpsc::Sender<int>::Closed&>);
static_assert(raceable_v<braid::oneshot::Sender<int>::Closed&>);
static_assert(raceable_v<braid::broadcast::Receiver<int>::Recv&>);
static_assert(raceable_v<braid::watch::Receiver<int>::Changed&>);
static_assert(raceable_v<braid::watch::Sender<int>::Closed&>);
static_assert(raceable_v<braid::Notify::Notified&>);
static_assert(raceable_v<braid::Semaphore::Acquire&>);
static_assert(raceable_v<braid::Mutex<int>::Lock&>);
static_assert(raceable_v<braid::RwLock<int>::Read&>);
static_assert(raceable_v<braid::RwLock<int>::Write&>);
static_assert(raceable_v<braid::Barrier::Wait&>);
static_assert(raceable_v<braid::CancellationToken::Cancelled&>);
static_assert(raceable_v<braid::signal::Signal::Recv&>);
static_assert(raceable_v<braid::JoinSet<int>::JoinNext&>);
static_assert(raceable_v<braid::AsyncFd<>::Ready&>);
static_assert(raceable_v<braid::net::TcpListener::AcceptAwaiter&>);
static_assert(raceable_v<braid::net::UdpSocket::RecvAwaiter&>);
static_assert(raceable_v<braid::net::LookupHost&>);
static_assert(raceable_v<braid::process::Child::WaitAwaiter&>);
}  // namespace

TEST_CASE("task_select.oneshot receivers raced by lvalue with preconditions until both arrived from a plain thread") {
    auto rt = braid_test::runtime(2);
    for (int round = 0; round < 200 / braid_test::kStressDivisor + 2; ++round) {
        auto [tx1, rx1] = braid::oneshot::channel<int>();
        auto [tx2, rx2] = braid::oneshot::channel<int>();
        std::thread sender([a = std::move(tx1), b = std::move(tx2)]() mutable {
            EXPECT_ANYWHERE(!b.send(456));
            EXPECT_ANYWHERE(!a.send(123));
        });
        using Rx = braid::oneshot::Receiver<int>;
        auto [a, b, other] = rt.block_on(
            [](Rx* r1, Rx* r2) -> braid::Task<std::tuple<int, int, int>> {
                std::optional<int> x, y;
                while (!x || !y) {
                    auto r = co_await braid::select(braid::when(!x, *r1), braid::when(!y, *r2));
                    if (r.index() == 0) x = std::get<0>(r);
                    else y = std::get<1>(r);
                }
                // Tokio's move_uncompleted_futures: the loser is awaited afterwards
                auto [t3, r3] = braid::oneshot::channel<int>();
                auto [t4, r4] = braid::oneshot::channel<int>();
                t3.send(1);
                t4.send(2);
                auto first = co_await braid::select(r3, r4);
                int sum = 0;
                if (first.index() == 0) {
                    sum = std::get<0>(first);
                    sum += co_await r4;
                } else {
                    sum = std::get<1>(first);
                    sum += co_await r3;
                }
                co_return std::make_tuple(*x, *y, sum);
            }(&rx1, &rx2));
        sender.join();
        REQUIRE(a == 123);
        REQUIRE(b == 456);
        REQUIRE(other == 3);
    }
}

namespace {
// A branch that never waits: it drains an always-ready stream and yields only
// when the task's budget runs out.  Past `limit` items the race was lost.
braid::Task<> spin_on_repeat(long limit) {
    auto s = braid::stream::repeat(1);
    for (long n = 0; n < limit; ++n) (void)co_await s.next();
    throw std::runtime_error("the sleep never won");
}
}  // namespace

TEST_CASE("task_select.an unbiased select draws a new start on every poll so a busy branch cannot starve a due sleep") {
    // Tokio's select! draws its random start on every poll.  With the first
    // poll's start kept, a busy branch drawn first would use up the budget on
    // every poll and the due sleep (which needs a unit of it) would never win:
    // about half of these selects spun until the limit.
    auto rt = braid_test::runtime(1);
    int spun = 0;
    for (int round = 0; round < 16; ++round) {
        size_t idx = rt.block_on([]() -> braid::Task<size_t> {
            try {
                auto r = co_await braid::select(spin_on_repeat(2000000), braid::sleep(1ms));
                co_return r.index();
            } catch (const std::runtime_error&) {
                co_return 0;
            }
        }());
        if (idx != 1) ++spun;
    }
    REQUIRE(spun == 0);
}

}  // namespace test_task_select
