// Task groups (JoinSet, LocalSet) and the synchronisation primitives used the
// way Tokio users write them: join_next kept in a select loop, abort_all then
// drain, groups dropped while their tasks hold locks and permits, watch and
// broadcast receivers kept across selects, Notify's permit and enable idioms,
// semaphores and locks under timeouts, OnceCell initialisers cancelled.
// Every case counts: tasks started and ended, permits and locks given back,
// values sent and received or destroyed.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_group_sync_idioms {

using namespace std::chrono_literals;
using braid_test::Tracked;

namespace {

braid::Task<Tracked> tracked_after(std::chrono::milliseconds d, int v) {
    co_await braid::sleep(d);
    co_return Tracked(v);
}

braid::Task<> sleep_forever() { co_await braid::sleep(std::chrono::hours(24)); }

}  // namespace

// ---- JoinSet -------------------------------------------------------------------------------------------------

TEST_CASE("group_sync_idioms.a join_next that finished inside a join whose task is aborted drops the result it took") {
    long before = Tracked::live();
    {
        auto rt = braid_test::paused_runtime();
        auto left = rt.block_on([]() -> braid::Task<std::size_t> {
            auto set = std::make_shared<braid::JoinSet<Tracked>>();
            set->spawn(tracked_after(1ms, 7));
            // The joiner: join_next finishes at 1ms, the other branch never does.
            auto joiner = braid::spawn([](std::shared_ptr<braid::JoinSet<Tracked>> s) -> braid::Task<> {
                auto both = braid::join(s->join_next(), sleep_forever());
                co_await both;
            }(set));
            co_await braid::sleep(5ms);
            EXPECT(set->empty());  // join_next took the task out of the set
            joiner.abort();
            bool cancelled = false;
            try {
                co_await joiner;
            } catch (const braid::TaskCancelled&) {
                cancelled = true;
            }
            EXPECT(cancelled);
            co_return set->len();
        }());
        REQUIRE(left == 0);
    }
    REQUIRE(Tracked::live() == before);  // the value taken by join_next was destroyed with it
}

TEST_CASE("group_sync_idioms.a join_next that finished inside a try_join whose other branch fails drops the result it took") {
    long before = Tracked::live();
    {
        auto rt = braid_test::paused_runtime();
        bool failed = rt.block_on([]() -> braid::Task<bool> {
            braid::JoinSet<Tracked> set;
            set.spawn(tracked_after(1ms, 7));
            auto fail_later = []() -> braid::Task<int> {
                co_await braid::sleep(3ms);
                throw std::runtime_error("late failure");
            };
            bool f = false;
            try {
                auto both = braid::try_join(set.join_next(), fail_later());
                co_await both;
            } catch (const std::runtime_error&) {
                f = true;
            }
            EXPECT(set.empty());
            co_return f;
        }());
        REQUIRE(failed);
    }
    REQUIRE(Tracked::live() == before);
}

TEST_CASE("group_sync_idioms.an mpsc recv that finished inside a join whose task is aborted destroys the message it took") {
    long before = Tracked::live();
    {
        auto rt = braid_test::paused_runtime();
        bool cancelled = rt.block_on([]() -> braid::Task<bool> {
            auto [tx, rx] = braid::mpsc::channel<Tracked>(4);
            auto joiner = braid::spawn([](braid::mpsc::Receiver<Tracked> r) -> braid::Task<> {
                auto both = braid::join(r.recv(), sleep_forever());
                co_await both;
            }(std::move(rx)));
            co_await braid::sleep(1ms);
            auto back = co_await tx.send(Tracked(1));
            EXPECT(!back);
            co_await braid::sleep(1ms);  // the recv branch completed: the message is in its awaiter
            joiner.abort();
            bool c = false;
            try {
                co_await joiner;
            } catch (const braid::TaskCancelled&) {
                c = true;
            }
            co_return c;
        }());
        REQUIRE(cancelled);
    }
    REQUIRE(Tracked::live() == before);
}

TEST_CASE("group_sync_idioms.a join_next kept in a select loop against a channel loses no finished task and no message") {
    constexpr int kTasks = 200;
    constexpr int kMsgs = 300;
    long before = Tracked::live();
    auto rt = braid_test::runtime(2);
    auto [results, sum, msgs, left] = rt.block_on([]() -> braid::Task<std::tuple<int, long, int, std::size_t>> {
        braid::JoinSet<Tracked> set;
        auto [tx, rx] = braid::mpsc::channel<Tracked>(8);
        for (int i = 0; i < kTasks; ++i)
            set.spawn([](int v) -> braid::Task<Tracked> {
                for (int k = 0; k < v % 3; ++k) co_await braid::yield_now();
                co_return Tracked(v);
            }(i));
        auto producer = braid::spawn([](braid::mpsc::Sender<Tracked> t) -> braid::Task<> {
            for (int i = 0; i < kMsgs; ++i) {
                auto back = co_await t.send(Tracked(i));
                EXPECT(!back);
            }
        }(std::move(tx)));
        int got = 0;
        long total = 0;
        int m = 0;
        bool open = true;
        auto next = set.join_next();  // kept: raced again after it completes starts a new join_next
        while (got < kTasks || open) {
            auto r = co_await braid::select(braid::when(got < kTasks, next), braid::when(open, rx.recv()));
            if (r.index() == 0) {
                auto v = std::move(std::get<0>(r));
                EXPECT(v.has_value());
                total += v->value;
                ++got;
            } else {
                auto msg = std::move(std::get<1>(r));
                if (msg) ++m;
                else open = false;
            }
        }
        co_await producer;
        co_return std::make_tuple(got, total, m, set.len());
    }());
    REQUIRE(results == kTasks);
    REQUIRE(sum == long(kTasks) * (kTasks - 1) / 2);
    REQUIRE(msgs == kMsgs);
    REQUIRE(left == 0);
    REQUIRE(Tracked::live() == before);
}

TEST_CASE("group_sync_idioms.a task spawned into a JoinSet while a kept join_next waits in a select wakes it") {
    auto rt = braid_test::paused_runtime(2);
    auto order = rt.block_on([]() -> braid::Task<std::vector<int>> {
        braid::JoinSet<int> set;
        auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
        std::vector<int> out;
        auto next = set.join_next();
        // Empty set: join_next gives nullopt at once; the loop only races it while tasks are in.
        auto requests = braid::spawn([](braid::mpsc::UnboundedSender<int> t) -> braid::Task<> {
            for (int i = 1; i <= 3; ++i) {
                co_await braid::sleep(std::chrono::milliseconds(10 * i));
                t.send(i);
            }
        }(std::move(tx)));
        bool open = true;
        while (open || !set.empty()) {
            auto r = co_await braid::select(braid::when(!set.empty(), next), braid::when(open, rx.recv()));
            if (r.index() == 0) {
                auto v = std::get<0>(r);
                EXPECT(v.has_value());
                out.push_back(v.value_or(-1));
            } else if (auto req = std::get<1>(r)) {
                set.spawn([](int v) -> braid::Task<int> {
                    co_await braid::sleep(std::chrono::milliseconds(25 - 5 * v));
                    co_return v;
                }(*req));
            } else {
                open = false;
            }
        }
        co_await requests;
        co_return out;
    }());
    // request 1 at 10ms ends at 30ms, 2 at 30ms ends at 45ms, 3 at 60ms ends at 70ms
    REQUIRE(order == std::vector<int>{1, 2, 3});
}

TEST_CASE("group_sync_idioms.abort_all then draining the JoinSet counts every task once as finished or cancelled") {
    auto rt = braid_test::paused_runtime(2);
    auto [done, cancelled, failed, ended] = rt.block_on([]() -> braid::Task<std::tuple<int, int, int, int>> {
        auto ended_count = std::make_shared<std::atomic<int>>(0);
        braid::JoinSet<int> set;
        struct End {
            std::shared_ptr<std::atomic<int>> n;
            ~End() { n->fetch_add(1); }
        };
        for (int i = 0; i < 30; ++i)
            set.spawn([](int v, std::shared_ptr<std::atomic<int>> n) -> braid::Task<int> {
                End e{n};
                if (v % 3 == 0) co_return v;  // finishes at once
                if (v % 3 == 1) throw std::runtime_error("failed");
                co_await braid::sleep(std::chrono::hours(1));
                co_return v;
            }(i, ended_count));
        co_await braid::sleep(1ms);  // the quick ones are done
        set.abort_all();             // aborting a finished task does nothing
        int d = 0, c = 0, f = 0;
        for (;;) {
            try {
                auto r = co_await set.join_next();
                if (!r) break;
                ++d;
            } catch (const braid::TaskCancelled&) {
                ++c;
            } catch (const std::runtime_error&) {
                ++f;
            }
        }
        co_return std::make_tuple(d, c, f, ended_count->load());
    }());
    REQUIRE(done == 10);
    REQUIRE(failed == 10);
    REQUIRE(cancelled == 10);
    REQUIRE(ended == 30);
}

TEST_CASE("group_sync_idioms.a JoinSet dropped while its tasks hold locks and permits gives every one back") {
    auto rt = braid_test::runtime(2);
    auto [permits, locked, writable] = rt.block_on([]() -> braid::Task<std::tuple<std::size_t, bool, bool>> {
        auto sem = std::make_shared<braid::Semaphore>(5);
        auto mu = std::make_shared<braid::Mutex<int>>(0);
        auto rw = std::make_shared<braid::RwLock<int>>(0);
        braid::Barrier holding(4);  // three holders and this task
        {
            braid::JoinSet<void> set;
            set.spawn([](std::shared_ptr<braid::Semaphore> s, braid::Barrier* b) -> braid::Task<> {
                auto p = co_await s->acquire_many(3);
                co_await b->wait();
                co_await sleep_forever();
            }(sem, &holding));
            set.spawn([](std::shared_ptr<braid::Mutex<int>> m, braid::Barrier* b) -> braid::Task<> {
                auto g = co_await braid::lock_owned(m);
                co_await b->wait();
                co_await sleep_forever();
            }(mu, &holding));
            set.spawn([](std::shared_ptr<braid::RwLock<int>> l, braid::Barrier* b) -> braid::Task<> {
                auto g = co_await braid::read_owned(l);
                co_await b->wait();
                co_await sleep_forever();
            }(rw, &holding));
            co_await holding.wait();
            // Waiters, once the holders hold: they queue behind them and are dropped with them.
            for (int i = 0; i < 3; ++i) {
                set.spawn([](std::shared_ptr<braid::Semaphore> s) -> braid::Task<> {
                    auto p = co_await s->acquire_many(4);
                }(sem));
                set.spawn([](std::shared_ptr<braid::RwLock<int>> l) -> braid::Task<> {
                    auto g = co_await l->write();
                    co_await sleep_forever();
                }(rw));
            }
            co_await braid::sleep(5ms);  // let the waiters queue (one not queued yet is aborted unstarted)
        }  // the set goes: every task is aborted
        // Aborts take effect at the tasks' next suspension: wait for each resource.
        auto all = co_await braid::timeout(5s, sem->acquire_many(5));
        bool sem_back = all.has_value();
        auto g = co_await braid::timeout(5s, mu->lock());
        auto w = co_await braid::timeout(5s, rw->write());
        co_return std::make_tuple(sem_back ? sem->available_permits() + 5 : sem->available_permits(),
                                  g.has_value(), w.has_value());
    }());
    REQUIRE(permits == 5);
    REQUIRE(locked);
    REQUIRE(writable);
}

TEST_CASE("group_sync_idioms.detach_all empties the JoinSet and the tasks run to their end") {
    auto rt = braid_test::runtime(2);
    auto [after_detach, finished] = rt.block_on([]() -> braid::Task<std::pair<std::size_t, int>> {
        auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
        braid::Semaphore go(0);
        {
            braid::JoinSet<void> set;
            for (int i = 0; i < 10; ++i)
                set.spawn([](braid::mpsc::UnboundedSender<int> t, braid::Semaphore* g, int v) -> braid::Task<> {
                    auto p = co_await g->acquire();
                    t.send(v);
                }(tx, &go, i));
            set.detach_all();
            EXPECT(set.empty());
            auto none = co_await set.join_next();
            EXPECT(!none.has_value());
        }  // dropping the (empty) set aborts nothing
        std::size_t len = 0;
        tx = braid::mpsc::UnboundedSender<int>();  // only the tasks hold senders now
        go.add_permits(10);
        int n = 0;
        while (auto v = co_await rx.recv()) ++n;
        co_return std::make_pair(len, n);
    }());
    REQUIRE(after_detach == 0);
    REQUIRE(finished == 10);
}

TEST_CASE("group_sync_idioms.a JoinSet of blocking jobs gives every value and try_join_next sees them once done") {
    auto rt = braid_test::runtime(2);
    auto [sum, via_try, gate_closed_empty] = rt.block_on([]() -> braid::Task<std::tuple<long, int, bool>> {
        braid::JoinSet<long> set;
        auto gate = std::make_shared<braid::Semaphore>(0);
        for (long i = 1; i <= 8; ++i)
            set.spawn_blocking([gate, i]() -> long {
                auto p = gate->blocking_acquire();
                return i * i;
            });
        bool empty_now = !set.try_join_next().has_value();  // none can have finished
        gate->add_permits(8);
        long s = 0;
        int via_try = 0;
        int seen = 0;
        while (seen < 8) {
            if (auto v = set.try_join_next()) {
                s += *v;
                ++via_try;
                ++seen;
                continue;
            }
            auto v = co_await set.join_next();
            EXPECT(v.has_value());
            s += v.value_or(0);
            ++seen;
        }
        EXPECT(set.empty());
        co_return std::make_tuple(s, via_try, empty_now);
    }());
    REQUIRE(sum == 1 + 4 + 9 + 16 + 25 + 36 + 49 + 64);
    REQUIRE(gate_closed_empty);
    REQUIRE(via_try <= 8);
}

// ---- LocalSet ------------------------------------------------------------------------------------------------

TEST_CASE("group_sync_idioms.local tasks spawning local tasks under run_until all run on the driving thread and all end") {
    auto rt = braid_test::current_thread_runtime();
    auto [total, off_thread] = rt.block_on([]() -> braid::Task<std::pair<int, int>> {
        braid::LocalSet local;
        auto count = std::make_shared<int>(0);  // not atomic: only the set's thread touches it
        auto off = std::make_shared<int>(0);
        auto me = std::this_thread::get_id();
        co_await local.run_until([](std::shared_ptr<int> c, std::shared_ptr<int> o,
                                    std::thread::id home) -> braid::Task<> {
            std::vector<braid::JoinHandle<void>> hs;
            for (int i = 0; i < 5; ++i)
                hs.push_back(braid::spawn_local([](std::shared_ptr<int> c, std::shared_ptr<int> o,
                                                   std::thread::id home) -> braid::Task<> {
                    std::vector<braid::JoinHandle<void>> inner;
                    for (int k = 0; k < 4; ++k)
                        inner.push_back(braid::spawn_local([](std::shared_ptr<int> c, std::shared_ptr<int> o,
                                                              std::thread::id home) -> braid::Task<> {
                            co_await braid::yield_now();
                            if (std::this_thread::get_id() != home) ++*o;
                            ++*c;
                        }(c, o, home)));
                    for (auto& h : inner) co_await h;
                    ++*c;
                }(c, o, home)));
            for (auto& h : hs) co_await h;
        }(count, off, me));
        co_return std::make_pair(*count, *off);
    }());
    REQUIRE(total == 5 * 4 + 5);
    REQUIRE(off_thread == 0);
}

TEST_CASE("group_sync_idioms.local tasks woken by plain threads through oneshots and a Notify run on the set's thread") {
    auto rt = braid_test::runtime(2);
    braid::LocalSet local;
    auto me = std::this_thread::get_id();
    auto [sum, wrong_thread] = local.block_on(rt, [](std::thread::id home) -> braid::Task<std::pair<int, int>> {
        std::vector<braid::oneshot::Sender<int>> txs;
        std::vector<braid::JoinHandle<int>> hs;
        auto wrong = std::make_shared<int>(0);
        for (int i = 0; i < 8; ++i) {
            auto [tx, rx] = braid::oneshot::channel<int>();
            txs.push_back(std::move(tx));
            hs.push_back(braid::spawn_local([](braid::oneshot::Receiver<int> r, std::shared_ptr<int> w,
                                               std::thread::id home) -> braid::Task<int> {
                int v = co_await std::move(r);
                if (std::this_thread::get_id() != home) ++*w;
                co_return v;
            }(std::move(rx), wrong, home)));
        }
        auto notify = std::make_shared<braid::Notify>();
        auto waiter = braid::spawn_local([](std::shared_ptr<braid::Notify> n, std::shared_ptr<int> w,
                                            std::thread::id home) -> braid::Task<int> {
            co_await n->notified();
            if (std::this_thread::get_id() != home) ++*w;
            co_return 100;
        }(notify, wrong, home));
        co_await braid::yield_now();  // every local task waits now
        std::thread t([](std::vector<braid::oneshot::Sender<int>> senders, std::shared_ptr<braid::Notify> n) {
            int i = 0;
            for (auto& s : senders) EXPECT(!s.send(i++).has_value());
            n->notify_one();
        }, std::move(txs), notify);
        int s = 0;
        for (auto& h : hs) s += co_await h;
        s += co_await waiter;
        t.join();
        co_return std::make_pair(s, *wrong);
    }(me));
    REQUIRE(sum == 28 + 100);
    REQUIRE(wrong_thread == 0);
}

// ---- watch ---------------------------------------------------------------------------------------------------

TEST_CASE("group_sync_idioms.a kept watch changed in a select loop against ticks always ends on the latest value") {
    auto rt = braid_test::runtime(2);
    auto [last, saw_close, went_back] = rt.block_on([]() -> braid::Task<std::tuple<int, bool, int>> {
        auto [tx, rx] = braid::watch::channel<int>(0);
        auto writer = braid::spawn([](braid::watch::Sender<int> t) -> braid::Task<> {
            for (int i = 1; i <= 500; ++i) {
                t.send(i);
                if (i % 16 == 0) co_await braid::yield_now();
            }
        }(std::move(tx)));  // the sender goes when the writer ends: changed() gives false
        auto changed = rx.changed();
        int seen = 0;
        int backwards = 0;
        bool closed = false;
        braid::Interval tick = braid::interval(50us);
        while (!closed) {
            auto r = co_await braid::select(changed, tick.tick());
            if (r.index() == 1) continue;
            if (!std::get<0>(r)) {
                closed = true;
                break;
            }
            int v = *rx.borrow_and_update();
            if (v < seen) ++backwards;
            seen = v;
        }
        co_await writer;
        // After the close, the latest value is still there; nothing is unseen.
        int final_value = *rx.borrow();
        EXPECT(!rx.borrow().has_changed());
        co_return std::make_tuple(final_value == 500 ? seen : -seen, closed, backwards);
    }());
    REQUIRE(last == 500);
    REQUIRE(saw_close);
    REQUIRE(went_back == 0);
}

TEST_CASE("group_sync_idioms.dropping the watch sender wakes every waiting receiver with false") {
    auto rt = braid_test::runtime(2);
    auto [woken, all_false] = rt.block_on([]() -> braid::Task<std::pair<int, bool>> {
        auto [tx, rx] = braid::watch::channel<int>(1);
        braid::JoinSet<bool> set;
        braid::Barrier ready(6);
        for (int i = 0; i < 5; ++i)
            set.spawn([](braid::watch::Receiver<int> r, braid::Barrier* b) -> braid::Task<bool> {
                r.borrow_and_update();
                auto ch = r.changed();
                auto first = co_await braid::timeout(1ms, ch);  // registered, then kept
                EXPECT(!first.has_value());
                co_await b->wait();
                bool more = co_await ch;
                co_return more;
            }(rx, &ready));
        co_await ready.wait();
        { auto gone = std::move(tx); }
        int n = 0;
        bool f = true;
        while (auto r = co_await set.join_next()) {
            ++n;
            if (*r) f = false;
        }
        co_return std::make_pair(n, f);
    }());
    REQUIRE(woken == 5);
    REQUIRE(all_false);
}

// ---- broadcast -----------------------------------------------------------------------------------------------

TEST_CASE("group_sync_idioms.a lagging broadcast receiver is told how many it missed then gets the rest in order") {
    auto rt = braid_test::current_thread_runtime();
    using Out = std::tuple<uint64_t, std::vector<int>, int, std::size_t>;
    auto [lag, rest, resub_first, resub_len] = rt.block_on([]() -> braid::Task<Out> {
        auto tx = braid::broadcast::channel<int>(4);
        auto rx = tx.subscribe();
        for (int i = 0; i < 10; ++i) EXPECT(!tx.send(i).has_value());
        auto first = co_await rx.recv();
        EXPECT(first.is_lagged());
        uint64_t l = first.lagged();
        std::vector<int> got;
        for (;;) {
            auto r = rx.try_recv();
            if (!r) break;
            got.push_back(*r);
        }
        // resubscribe starts at the tail: it sees only what is sent after it.
        auto again = rx.resubscribe();
        std::size_t len_after = again.len();
        EXPECT(!tx.send(42).has_value());
        auto v = co_await again.recv();
        co_return std::make_tuple(l, got, v ? *v : -1, len_after);
    }());
    REQUIRE(lag == 6);
    REQUIRE(rest == std::vector<int>{6, 7, 8, 9});
    REQUIRE(resub_first == 42);
    REQUIRE(resub_len == 0);
}

TEST_CASE("group_sync_idioms.a kept broadcast recv in a select against a channel destroys every value once") {
    long before = Tracked::live();
    {
        auto rt = braid_test::runtime(2);
        auto [got, other] = rt.block_on([]() -> braid::Task<std::pair<int, int>> {
            auto tx = braid::broadcast::channel<Tracked>(1024);
            auto rx = tx.subscribe();
            auto [mtx, mrx] = braid::mpsc::channel<int>(4);
            auto a = braid::spawn([](braid::broadcast::Sender<Tracked> t) -> braid::Task<> {
                for (int i = 0; i < 300; ++i) {
                    (void)t.send(Tracked(i));
                    if (i % 8 == 0) co_await braid::yield_now();
                }
            }(std::move(tx)));
            auto b = braid::spawn([](braid::mpsc::Sender<int> t) -> braid::Task<> {
                for (int i = 0; i < 300; ++i) (void)co_await t.send(i);
            }(std::move(mtx)));
            auto recv = rx.recv();
            int g = 0, o = 0, expect_next = 0;
            bool b_open = true, m_open = true;
            while (b_open || m_open) {
                auto r = co_await braid::select(braid::when(b_open, recv), braid::when(m_open, mrx.recv()));
                if (r.index() == 0) {
                    auto& v = std::get<0>(r);
                    if (v.is_closed()) b_open = false;
                    else {
                        EXPECT(v.has_value());
                        EXPECT(v->value == expect_next);
                        ++expect_next;
                        ++g;
                    }
                } else if (std::get<1>(r)) {
                    ++o;
                } else {
                    m_open = false;
                }
            }
            co_await a;
            co_await b;
            co_return std::make_pair(g, o);
        }());
        REQUIRE(got == 300);
        REQUIRE(other == 300);
    }
    REQUIRE(Tracked::live() == before);
}

// ---- Notify --------------------------------------------------------------------------------------------------

TEST_CASE("group_sync_idioms.notify_one before anyone waits is stored as one permit and notify_waiters stores nothing") {
    auto rt = braid_test::paused_runtime();
    auto [first, second, after_waiters, woken] = rt.block_on([]() -> braid::Task<std::tuple<bool, bool, bool, int>> {
        braid::Notify n;
        n.notify_one();
        n.notify_one();  // at most one permit is stored
        bool a = co_await braid::timeout(1ms, n.notified());
        bool b = co_await braid::timeout(1ms, n.notified());
        // notify_waiters wakes the tasks waiting now, and no later one.
        auto count = std::make_shared<std::atomic<int>>(0);
        std::vector<braid::JoinHandle<void>> hs;
        for (int i = 0; i < 3; ++i)
            hs.push_back(braid::spawn([](braid::Notify* nn, std::shared_ptr<std::atomic<int>> c) -> braid::Task<> {
                co_await nn->notified();
                c->fetch_add(1);
            }(&n, count)));
        co_await braid::sleep(1ms);  // all three wait
        n.notify_waiters();
        for (auto& h : hs) co_await h;
        bool later = co_await braid::timeout(1ms, n.notified());
        co_return std::make_tuple(a, b, later, count->load());
    }());
    REQUIRE(first);
    REQUIRE_FALSE(second);
    REQUIRE_FALSE(after_waiters);
    REQUIRE(woken == 3);
}

TEST_CASE("group_sync_idioms.the enable-then-check idiom with a kept Notified raced against a timer misses no notify_one") {
    auto rt = braid_test::runtime(2);
    constexpr int kItems = 2000;
    auto [consumed, timeouts_ok] = rt.block_on([]() -> braid::Task<std::pair<int, bool>> {
        auto notify = std::make_shared<braid::Notify>();
        auto queue = std::make_shared<braid::Mutex<std::vector<int>>>(std::vector<int>{});
        auto producer = braid::spawn([](std::shared_ptr<braid::Notify> n,
                                        std::shared_ptr<braid::Mutex<std::vector<int>>> q) -> braid::Task<> {
            for (int i = 0; i < kItems; ++i) {
                {
                    auto g = co_await q->lock();
                    g->push_back(i);
                }
                n->notify_one();
                if (i % 32 == 0) co_await braid::yield_now();
            }
        }(notify, queue));
        int got = 0;
        int expect = 0;
        bool in_order = true;
        while (got < kItems) {
            auto n = notify->notified();
            n.enable();  // from here a notify_one is ours
            std::vector<int> batch;
            {
                auto g = co_await queue->lock();
                batch.swap(*g);
            }
            for (int v : batch) {
                if (v != expect) in_order = false;
                ++expect;
                ++got;
            }
            if (!batch.empty()) continue;
            // Nothing there: wait, re-checking after a timeout (the kept wait keeps its place).
            for (;;) {
                auto r = co_await braid::select(n, braid::sleep(200us));
                if (r.index() == 0) break;
                auto g = co_await queue->lock();
                if (!g->empty()) break;
            }
        }
        co_await producer;
        co_return std::make_pair(got, in_order);
    }());
    REQUIRE(consumed == kItems);
    REQUIRE(timeouts_ok);
}

// ---- Semaphore -----------------------------------------------------------------------------------------------

TEST_CASE("group_sync_idioms.acquire_many under a timeout takes all its permits or none") {
    auto rt = braid_test::paused_runtime();
    auto [timed_out, avail_after, got_later, avail_end] =
        rt.block_on([]() -> braid::Task<std::tuple<bool, std::size_t, bool, std::size_t>> {
            braid::Semaphore sem(2);
            auto r = co_await braid::timeout(5ms, sem.acquire_many(5));
            bool to = !r.has_value();
            std::size_t after = sem.available_permits();
            // Permits trickle in while it waits: it still gets all 5 at once, or none.
            auto waiter = braid::spawn([](braid::Semaphore* s) -> braid::Task<bool> {
                auto p = co_await braid::timeout(10ms, s->acquire_many(5));
                if (!p) co_return false;
                EXPECT(p->num_permits() == 5);
                co_return true;
            }(&sem));
            co_await braid::sleep(1ms);
            sem.add_permits(1);
            EXPECT(sem.available_permits() == 0);  // handed to the waiter, which holds them
            co_await braid::sleep(1ms);
            sem.add_permits(2);
            bool g = co_await waiter;
            co_return std::make_tuple(to, after, g, sem.available_permits());
        }());
    REQUIRE(timed_out);
    REQUIRE(avail_after == 2);
    REQUIRE(got_later);
    REQUIRE(avail_end == 5);
}

TEST_CASE("group_sync_idioms.closing a semaphore wakes every waiter with AcquireError and held permits still go back") {
    auto rt = braid_test::runtime(2);
    auto [errors, avail, closed] = rt.block_on([]() -> braid::Task<std::tuple<int, std::size_t, bool>> {
        auto sem = std::make_shared<braid::Semaphore>(1);
        auto held = co_await sem->acquire();
        braid::JoinSet<bool> set;
        braid::Barrier queued(5);
        for (int i = 0; i < 4; ++i)
            set.spawn([](std::shared_ptr<braid::Semaphore> s, braid::Barrier* b) -> braid::Task<bool> {
                auto acq = s->acquire_many(1);
                auto first = co_await braid::timeout(1ms, acq);  // queued, kept
                EXPECT(!first.has_value());
                co_await b->wait();
                try {
                    auto p = co_await acq;
                } catch (const braid::AcquireError&) {
                    co_return true;
                }
                co_return false;
            }(sem, &queued));
        co_await queued.wait();
        sem->close();
        int e = 0;
        while (auto r = co_await set.join_next())
            if (*r) ++e;
        { auto gone = std::move(held); }
        co_return std::make_tuple(e, sem->available_permits(), sem->is_closed());
    }());
    REQUIRE(errors == 4);
    REQUIRE(avail == 1);
    REQUIRE(closed);
}

TEST_CASE("group_sync_idioms.aborting tasks waiting on a semaphore with permits half granted returns every permit") {
    auto rt = braid_test::runtime(2);
    auto avail = rt.block_on([]() -> braid::Task<std::size_t> {
        auto sem = std::make_shared<braid::Semaphore>(0);
        braid::JoinSet<void> set;
        for (int i = 0; i < 6; ++i)
            set.spawn([](std::shared_ptr<braid::Semaphore> s) -> braid::Task<> {
                auto p = co_await s->acquire_many(4);
                co_await sleep_forever();
            }(sem));
        co_await braid::sleep(2ms);
        sem->add_permits(10);  // two waiters get 4, the third holds 2 of its 4
        co_await braid::sleep(2ms);
        set.abort_all();
        int cancelled = 0;
        for (;;) {
            try {
                auto r = co_await set.join_next();
                if (!r) break;
            } catch (const braid::TaskCancelled&) {
                ++cancelled;
            }
        }
        EXPECT(cancelled == 6);
        co_return sem->available_permits();
    }());
    REQUIRE(avail == 10);
}

// ---- Mutex and RwLock ----------------------------------------------------------------------------------------

TEST_CASE("group_sync_idioms.a writer keeping its write() across selects against a timer is not starved by new readers") {
    auto rt = braid_test::runtime(2);
    auto [wrote, readers_after, rounds] = rt.block_on([]() -> braid::Task<std::tuple<bool, int, int>> {
        auto lock = std::make_shared<braid::RwLock<int>>(0);
        auto stop = std::make_shared<std::atomic<bool>>(false);
        auto saw_write = std::make_shared<std::atomic<int>>(0);
        braid::JoinSet<void> readers;
        for (int i = 0; i < 4; ++i)
            readers.spawn([](std::shared_ptr<braid::RwLock<int>> l, std::shared_ptr<std::atomic<bool>> s,
                             std::shared_ptr<std::atomic<int>> w) -> braid::Task<> {
                while (!s->load()) {
                    auto g = co_await l->read();
                    if (*g == 1) w->fetch_add(1);
                    co_await braid::yield_now();  // holds the read lock across a yield: readers overlap
                }
            }(lock, stop, saw_write));
        co_await braid::sleep(1ms);
        bool got = false;
        int n = 0;
        {
            // Tokio: `let w = lock.write(); pin!(w); loop { select! { g = &mut w => .., _ = sleep(..) => .. } }`
            auto w = lock->write();
            while (!got) {
                auto r = co_await braid::select(w, braid::sleep(50us));
                ++n;
                if (r.index() == 0) {
                    auto g = std::move(std::get<0>(r));
                    *g = 1;
                    got = true;
                }
            }
        }
        // Readers queued behind the writer come in after it and see its write.
        while (saw_write->load() == 0) co_await braid::sleep(50us);
        stop->store(true);
        for (;;) {
            auto r = co_await readers.join_next();  // (g++ 12: never a co_await in a condition expression)
            if (!r) break;
        }
        co_return std::make_tuple(got, saw_write->load(), n);
    }());
    REQUIRE(wrote);
    REQUIRE(readers_after > 0);
    REQUIRE(rounds >= 1);
}

TEST_CASE("group_sync_idioms.owned guards moved into spawned tasks keep the lock until that task drops them") {
    auto rt = braid_test::runtime(2);
    auto [try_while_held, try_after, value] = rt.block_on([]() -> braid::Task<std::tuple<bool, bool, int>> {
        auto m = std::make_shared<braid::Mutex<int>>(0);
        auto g = co_await braid::lock_owned(m);
        auto [tx, rx] = braid::oneshot::channel<int>();
        auto h = braid::spawn([](braid::OwnedMutexGuard<int> guard, braid::oneshot::Receiver<int> r) -> braid::Task<> {
            int v = co_await std::move(r);
            *guard += v;
        }(std::move(g), std::move(rx)));
        bool held = !m->try_lock().has_value();
        EXPECT(!tx.send(41).has_value());
        co_await h;
        auto again = m->try_lock();
        bool free_now = again.has_value();
        int v = again ? **again : -1;
        co_return std::make_tuple(held, free_now, v);
    }());
    REQUIRE(try_while_held);
    REQUIRE(try_after);
    REQUIRE(value == 41);
}

// ---- OnceCell and Barrier ------------------------------------------------------------------------------------

namespace {
// An initialiser: counts its start, sleeps `d`, gives `v`.
braid::Task<Tracked> init_value(std::shared_ptr<std::atomic<int>> started, int v, braid::Duration d) {
    started->fetch_add(1);
    co_await braid::sleep(d);
    co_return Tracked(v);
}
}  // namespace

TEST_CASE("group_sync_idioms.get_or_init raced by many tasks whose first initialiser is cancelled is initialised once by another") {
    auto rt = braid_test::paused_runtime(2);
    auto [values_ok, inits, cancelled_first] = rt.block_on([]() -> braid::Task<std::tuple<bool, int, bool>> {
        auto cell = std::make_shared<braid::OnceCell<Tracked>>();
        auto inits_started = std::make_shared<std::atomic<int>>(0);
        // The first caller starts initialising, then its timeout cancels it.
        // (g++ 12: the initialisers are coroutine functions called from named,
        // non-coroutine lambdas; a capturing coroutine lambda made inside a
        // co_await operand is destroyed under its running frame.)
        auto never = [inits_started] { return init_value(inits_started, -1, std::chrono::hours(1)); };
        auto first = co_await braid::timeout(5ms, cell->get_or_init(never));
        bool c = !first.has_value() && !cell->initialized();
        braid::JoinSet<int> set;
        for (int i = 0; i < 8; ++i)
            set.spawn([](std::shared_ptr<braid::OnceCell<Tracked>> cl, std::shared_ptr<std::atomic<int>> n,
                         int who) -> braid::Task<int> {
                auto init = [n, who] { return init_value(n, who, 1ms); };
                const Tracked& v = co_await cl->get_or_init(init);
                co_return v.value;
            }(cell, inits_started, i));
        int agreed = -2;
        bool ok = true;
        while (auto r = co_await set.join_next()) {
            if (agreed == -2) agreed = *r;
            if (*r != agreed || agreed < 0) ok = false;
        }
        co_return std::make_tuple(ok, inits_started->load(), c);
    }());
    REQUIRE(values_ok);
    REQUIRE(inits == 2);  // the cancelled one and the one that finished
    REQUIRE(cancelled_first);
}

TEST_CASE("group_sync_idioms.a barrier wait cancelled by a timeout no longer counts toward the round") {
    auto rt = braid_test::paused_runtime(2);
    auto [timed_out, leaders, passed] = rt.block_on([]() -> braid::Task<std::tuple<bool, int, int>> {
        auto b = std::make_shared<braid::Barrier>(3);
        auto r = co_await braid::timeout(1ms, b->wait());
        bool to = !r.has_value();
        // Two more arrivals must not release the round: the cancelled one left.
        braid::JoinSet<bool> set;
        for (int i = 0; i < 2; ++i)
            set.spawn([](std::shared_ptr<braid::Barrier> bb) -> braid::Task<bool> {
                auto res = co_await bb->wait();
                co_return res.is_leader();
            }(b));
        co_await braid::sleep(10ms);
        EXPECT(!set.try_join_next().has_value());
        EXPECT(set.len() == 2);
        auto mine = co_await b->wait();  // the third arrival
        int l = mine.is_leader() ? 1 : 0;
        int p = 1;
        while (auto x = co_await set.join_next()) {
            ++p;
            if (*x) ++l;
        }
        co_return std::make_tuple(to, l, p);
    }());
    REQUIRE(timed_out);
    REQUIRE(leaders == 1);
    REQUIRE(passed == 3);
}

// ---- TaskTracker ---------------------------------------------------------------------------------------------

TEST_CASE("group_sync_idioms.a kept tracker wait raced again after it completed waits for the tracker to empty anew") {
    auto rt = braid_test::paused_runtime(2);
    auto [first_done, early, later_done] = rt.block_on([]() -> braid::Task<std::tuple<bool, bool, bool>> {
        braid::TaskTracker tracker;
        auto [tx1, rx1] = braid::oneshot::channel<int>();
        tracker.spawn([](braid::oneshot::Receiver<int> r) -> braid::Task<> { (void)co_await std::move(r); }(
            std::move(rx1))).detach();
        tracker.close();
        auto wait = tracker.wait();  // kept across the rounds
        // Round 1: the wait is registered when the last task ends.
        auto r1 = co_await braid::select(wait, braid::sleep(1ms));
        bool pending_before = r1.index() == 1;
        EXPECT(!tx1.send(1).has_value());
        bool done1 = co_await braid::timeout(1s, wait);
        // Round 2: the tracker is reused; the same wait starts a new wait.
        tracker.reopen();
        auto [tx2, rx2] = braid::oneshot::channel<int>();
        tracker.spawn([](braid::oneshot::Receiver<int> r) -> braid::Task<> { (void)co_await std::move(r); }(
            std::move(rx2))).detach();
        tracker.close();
        bool done_early = co_await braid::timeout(5ms, wait);  // the task is still running
        EXPECT(!tx2.send(2).has_value());
        bool done2 = co_await braid::timeout(1s, wait);
        co_return std::make_tuple(pending_before && done1, done_early, done2);
    }());
    REQUIRE(first_done);
    REQUIRE_FALSE(early);
    REQUIRE(later_done);
}

// ---- mpsc send kept across selects ---------------------------------------------------------------------------

TEST_CASE("group_sync_idioms.a kept mpsc send or send_timeout raced again after it completed sends no second value") {
    long before = Tracked::live();
    {
        auto rt = braid_test::paused_runtime();
        auto [first, again_code, received, extra] = rt.block_on([]() -> braid::Task<std::tuple<bool, int, int, bool>> {
            auto [tx, rx] = braid::mpsc::channel<Tracked>(4);
            auto send = tx.send(Tracked(5));  // kept
            auto r1 = co_await braid::select(send, braid::sleep(1ms));
            bool sent = r1.index() == 0 && !std::get<0>(r1).has_value();
            // Raced again: it has no value left to send.
            int code = 0;
            try {
                auto r2 = co_await braid::select(send, braid::sleep(1ms));
                (void)r2;
            } catch (const braid::Error& e) {
                code = e.code();
            }
            // The same with send_timeout.
            auto timed = tx.send_timeout(Tracked(6), 1s);
            auto t1 = co_await braid::select(timed, braid::sleep(1ms));
            EXPECT(t1.index() == 0 && !std::get<0>(t1).has_value());
            int timed_code = 0;
            try {
                auto t2 = co_await braid::select(timed, braid::sleep(1ms));
                (void)t2;
            } catch (const braid::Error& e) {
                timed_code = e.code();
            }
            EXPECT(timed_code == BRAID_EINVAL);
            auto m = co_await rx.recv();
            int v = m ? m->value : -1;
            auto m2 = co_await rx.recv();
            EXPECT(m2 && m2->value == 6);
            auto more = rx.try_recv();
            co_return std::make_tuple(sent, code, v, bool(more));
        }());
        REQUIRE(first);
        REQUIRE(again_code == BRAID_EINVAL);
        REQUIRE(received == 5);
        REQUIRE_FALSE(extra);
    }
    REQUIRE(Tracked::live() == before);
}

TEST_CASE("group_sync_idioms.a kept reserve_owned raced again after it completed reserves nothing more") {
    auto rt = braid_test::paused_runtime();
    auto [first, code, cap_after] = rt.block_on([]() -> braid::Task<std::tuple<bool, int, std::size_t>> {
        auto [tx, rx] = braid::mpsc::channel<int>(4);
        auto ro = tx.reserve_owned();  // kept: owns a clone of tx
        auto r1 = co_await braid::select(ro, braid::sleep(1ms));
        bool got = r1.index() == 0 && std::get<0>(r1).has_value();
        int c = 0;
        try {
            auto r2 = co_await braid::select(ro, braid::sleep(1ms));
            (void)r2;
        } catch (const braid::Error& e) {
            c = e.code();
        }
        { auto drop_result = std::move(r1); }  // the first permit goes unused: its slot comes back
        co_return std::make_tuple(got, c, tx.capacity());
    }());
    REQUIRE(first);
    REQUIRE(code == BRAID_EINVAL);
    REQUIRE(cap_after == 4);
}

}  // namespace test_group_sync_idioms
