// Shutdown and life cycle the way Tokio services write it (Tokio's "graceful
// shutdown" guide): workers looping on select(token.cancelled(), rx.recv()),
// a TaskTracker closed and waited, a watch or broadcast shutdown signal, a
// channel whose close says every task ended; and runtimes dropped or shut
// down while tasks wait on every kind of primitive.  Every value that goes
// through a task is counted: each is destroyed exactly once, whatever ended
// its task.
#include <catch2/catch.hpp>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "support.hpp"

namespace test_rt_shutdown_idioms {

using namespace std::chrono_literals;

namespace {

// Counts, per id, the live values destroyed (moved-from shells are not
// counted) and the values received.
struct Ledger {
    std::mutex mu;
    std::map<int, int> made;
    std::map<int, int> dropped;
    std::map<int, int> received;
    std::atomic<long> live{0};
    void make(int id) {
        std::lock_guard<std::mutex> g(mu);
        ++made[id];
    }
    void drop(int id) {
        std::lock_guard<std::mutex> g(mu);
        ++dropped[id];
    }
    void receive(int id) {
        std::lock_guard<std::mutex> g(mu);
        ++received[id];
    }
    // Ids made other than once or dropped other than once, and ids in
    // [0, n) never made (n: the ids the test makes for sure).
    int bad_drops(int n = 0) {
        std::lock_guard<std::mutex> g(mu);
        int bad = 0;
        for (int i = 0; i < n; ++i)
            if (!made.count(i)) ++bad;
        for (auto& [id, k] : made)
            if (k != 1 || dropped[id] != 1) ++bad;
        for (auto& [id, k] : dropped)
            if (!made.count(id)) ++bad;
        return bad;
    }
};

// A value owned by one place at a time: its destruction while it still owns
// its id is recorded in the ledger.
class Obj {
public:
    Obj(Ledger* l, int id) : l_(l), id_(id) {
        l_->make(id);
        ++l_->live;
    }
    Obj(Obj&& o) noexcept : l_(o.l_), id_(std::exchange(o.id_, -1)) {}
    Obj& operator=(Obj&& o) noexcept {
        if (this != &o) {
            release();
            l_ = o.l_;
            id_ = std::exchange(o.id_, -1);
        }
        return *this;
    }
    Obj(const Obj&) = delete;
    ~Obj() { release(); }
    int id() const { return id_; }

private:
    void release() noexcept {
        if (id_ >= 0) {
            l_->drop(id_);
            --l_->live;
        }
        id_ = -1;
    }
    Ledger* l_;
    int id_;
};

// A blocking gate a plain thread or a blocking job waits at.
struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    bool entered = false;
    void enter_and_wait() {
        std::unique_lock<std::mutex> lk(mu);
        entered = true;
        cv.notify_all();
        cv.wait(lk, [&] { return open; });
    }
    void wait_entered() {
        std::unique_lock<std::mutex> lk(mu);
        cv.wait(lk, [&] { return entered; });
    }
    void release() {
        std::lock_guard<std::mutex> g(mu);
        open = true;
        cv.notify_all();
    }
};

}  // namespace

// ---- graceful shutdown: token + tracker ---------------------------------------

namespace {

struct WorkerStats {
    std::atomic<int> by_token{0};
    std::atomic<int> by_close{0};
};

// Tokio's worker: loop { select! { _ = token.cancelled() => break, m = rx.recv() => ... } }.
// keep_cancelled: one cancelled() awaitable kept across the loop (by lvalue);
// keep_recv: one recv() kept across the loop as well.
braid::Task<> select_worker(braid::CancellationToken token, braid::mpsc::Receiver<Obj> rx, Ledger* l,
                            WorkerStats* stats, bool keep_cancelled, bool keep_recv) {
    auto cancelled = token.cancelled();
    auto recv = rx.recv();
    for (;;) {
        std::optional<Obj> m;
        bool stop = false;
        if (keep_cancelled && keep_recv) {
            auto r = co_await braid::select(cancelled, recv);
            if (r.index() == 0) stop = true;
            else m = std::move(std::get<1>(r));
        } else if (keep_cancelled) {
            auto r = co_await braid::select(cancelled, rx.recv());
            if (r.index() == 0) stop = true;
            else m = std::move(std::get<1>(r));
        } else if (keep_recv) {
            auto r = co_await braid::select(token.cancelled(), recv);
            if (r.index() == 0) stop = true;
            else m = std::move(std::get<1>(r));
        } else {
            auto r = co_await braid::select(token.cancelled(), rx.recv());
            if (r.index() == 0) stop = true;
            else m = std::move(std::get<1>(r));
        }
        if (stop) {
            ++stats->by_token;
            co_return;
        }
        if (!m) {
            ++stats->by_close;
            co_return;
        }
        l->receive(m->id());
        if (m->id() % 3 == 0) co_await braid::yield_now();
    }
}

// Sends ids [first, first + n) until the token is cancelled; records which
// sends succeeded.
braid::Task<> producer(braid::CancellationToken token, braid::mpsc::Sender<Obj> tx, Ledger* l, int first, int n,
                       std::vector<int>* sent) {
    for (int i = first; i < first + n; ++i) {
        auto r = co_await braid::select_biased(token.cancelled(), tx.send(Obj(l, i)));
        if (r.index() == 0) co_return;
        if (!std::get<1>(r)) sent->push_back(i);  // delivered (else handed back, then destroyed)
    }
}

}  // namespace

TEST_CASE("rt_shutdown_idioms.select workers stop on a token and a tracker waits for them all with no message lost or leaked") {
    constexpr int kWorkers = 8;
    constexpr int kPerWorker = 200;
    for (int round = 0; round < 10; ++round) {
        Ledger l;
        WorkerStats stats;
        std::vector<std::vector<int>> sent(kWorkers);
        std::size_t left_after = 1;
        {
            auto rt = braid_test::runtime(2);
            left_after = rt.block_on([](Ledger* l, WorkerStats* stats, std::vector<std::vector<int>>* sent,
                                        int round) -> braid::Task<std::size_t> {
                braid::CancellationToken token;
                braid::TaskTracker tracker;
                std::vector<braid::JoinHandle<void>> producers;
                for (int w = 0; w < kWorkers; ++w) {
                    auto [tx, rx] = braid::mpsc::channel<Obj>(4);
                    tracker.spawn(select_worker(token.child_token(), std::move(rx), l, stats, w & 1, w & 2)).detach();
                    producers.push_back(tracker.spawn(
                        producer(token, std::move(tx), l, w * kPerWorker, kPerWorker, &(*sent)[w])));
                }
                // Half the rounds cancel once a producer is done, half once all are.
                if (round % 2 == 0) {
                    co_await producers[0];
                } else {
                    for (auto& p : producers) co_await p;
                }
                token.cancel();
                tracker.close();
                co_await tracker.wait();
                co_return tracker.len();
            }(&l, &stats, &sent, round));
        }
        REQUIRE(left_after == 0);
        REQUIRE(stats.by_token + stats.by_close == kWorkers);
        // Every value made was destroyed once; every one received had been sent.
        REQUIRE(l.live == 0);
        REQUIRE(l.bad_drops() == 0);
        for (auto& [id, k] : l.received) REQUIRE(k == 1);
        std::size_t delivered = 0;
        for (auto& v : sent) delivered += v.size();
        REQUIRE(l.received.size() <= delivered);
        for (auto& [id, k] : l.received) {
            auto& v = sent[id / kPerWorker];
            REQUIRE(std::find(v.begin(), v.end(), id) != v.end());
        }
    }
}

TEST_CASE("rt_shutdown_idioms.workers drain their channel before stopping when the senders go first") {
    // Tokio's other shape: no token; dropping every sender ends each recv
    // loop once the channel is drained (None), so every sent value is received.
    Ledger l;
    WorkerStats stats;
    auto rt = braid_test::runtime(2);
    rt.block_on([](Ledger* l, WorkerStats* stats) -> braid::Task<> {
        braid::CancellationToken never;
        braid::TaskTracker tracker;
        for (int w = 0; w < 4; ++w) {
            auto [tx, rx] = braid::mpsc::channel<Obj>(2);
            tracker.spawn(select_worker(never, std::move(rx), l, stats, w & 1, w & 2)).detach();
            for (int i = 0; i < 50; ++i) {
                auto r = co_await tx.send(Obj(l, w * 50 + i));
                EXPECT(!r);
            }
        }  // every sender dropped here
        tracker.close();
        co_await tracker.wait();
    }(&l, &stats));
    REQUIRE(stats.by_close == 4);
    REQUIRE(stats.by_token == 0);
    REQUIRE(l.received.size() == 200);
    REQUIRE(l.live == 0);
    REQUIRE(l.bad_drops(200) == 0);
}

TEST_CASE("rt_shutdown_idioms.the shutdown-complete channel closes once every task dropped its sender") {
    // The guide's "wait for tasks to finish": each task holds a clone of an
    // mpsc sender; recv() gives None once the last one is gone.
    for (int round = 0; round < 20; ++round) {
        auto rt = braid_test::runtime(2);
        auto r = rt.block_on([]() -> braid::Task<std::pair<int, bool>> {
            braid::CancellationToken token;
            auto [done_tx, done_rx] = braid::mpsc::channel<int>(1);
            std::atomic<int> ended{0};
            for (int i = 0; i < 16; ++i)
                braid::spawn([](braid::CancellationToken t, braid::mpsc::Sender<int> done,
                                std::atomic<int>* ended, int i) -> braid::Task<> {
                    auto r = co_await braid::select(t.cancelled(), braid::sleep(std::chrono::hours(i + 1)));
                    (void)r;
                    ++*ended;
                    (void)done;  // dropped with the frame
                }(token, done_tx, &ended, i)).detach();
            { auto drop = std::move(done_tx); }
            token.cancel();
            auto last = co_await done_rx.recv();
            co_return std::pair<int, bool>(ended.load(), last.has_value());
        }());
        REQUIRE(r.first == 16);
        REQUIRE(!r.second);
    }
}

// ---- dropping a runtime under waiting tasks -----------------------------------

namespace {

struct DropScene {
    Ledger l;
    // What the destructors that run during the shutdown saw.
    std::atomic<int> spawn_cancelled{0};  // spawn gave a finished (cancelled) handle
    std::atomic<int> try_spawn_refused{0};  // try_spawn gave BRAID_ESHUTDOWN
    std::atomic<int> blocking_saw_close{0};
};

// Spawns from its destructor, as a drop impl that hands cleanup to a task.
class SpawnsOnDrop {
public:
    SpawnsOnDrop(DropScene* s, int id, int child_id) : s_(s), o_(&s->l, id), child_id_(child_id) {}
    SpawnsOnDrop(SpawnsOnDrop&& o) noexcept : s_(std::exchange(o.s_, nullptr)), o_(std::move(o.o_)),
                                              child_id_(o.child_id_) {}
    ~SpawnsOnDrop() {
        if (!s_) return;
        auto h = braid::spawn([](Obj o) -> braid::Task<> {
            (void)o;
            co_await braid_test::pending();
        }(Obj(&s_->l, child_id_)));
        if (h.is_finished()) ++s_->spawn_cancelled;
        auto r = braid::try_spawn([](Obj o) -> braid::Task<> {
            (void)o;
            co_return;
        }(Obj(&s_->l, child_id_ + 1)));
        if (!r && r.error() == BRAID_ESHUTDOWN) ++s_->try_spawn_refused;
    }

private:
    DropScene* s_;
    Obj o_;
    int child_id_;
};

braid::Task<> wait_sleep(Obj o, braid::mpsc::Sender<int> started) {
    co_await started.send(o.id());
    co_await braid::sleep(std::chrono::hours(1));
}
braid::Task<> wait_recv(Obj o, braid::mpsc::Receiver<Obj> rx, braid::mpsc::Sender<int> started) {
    co_await started.send(o.id());
    auto m = co_await rx.recv();
    (void)m;
}
braid::Task<> hold_lock(Obj o, std::shared_ptr<braid::Mutex<int>> m, braid::oneshot::Sender<int> held) {
    auto g = co_await m->lock();
    held.send(o.id());
    co_await braid_test::pending();
}
braid::Task<> wait_lock(Obj o, std::shared_ptr<braid::Mutex<int>> m, braid::mpsc::Sender<int> started) {
    co_await started.send(o.id());
    auto g = co_await m->lock();
    co_await braid_test::pending();  // the lock passed on by a dropped holder
}
braid::Task<> hold_oneshot_tx(Obj o, braid::oneshot::Sender<Obj> tx, braid::mpsc::Sender<int> started) {
    co_await started.send(o.id());
    co_await braid_test::pending();
    tx.send(Obj(std::move(o)));
}
braid::Task<> wait_oneshot(Obj o, braid::oneshot::Receiver<Obj> rx, braid::mpsc::Sender<int> started) {
    co_await started.send(o.id());
    auto v = co_await rx;
    (void)v;
}
braid::Task<> wait_join(Obj o, braid::JoinHandle<void> h, braid::mpsc::Sender<int> started) {
    co_await started.send(o.id());
    co_await h;
}
braid::Task<> spawner_on_drop(SpawnsOnDrop s, braid::mpsc::Sender<int> started) {
    (void)s;
    co_await started.send(0);
    co_await braid_test::pending();
}
braid::Task<> wait_blocking(Obj o, braid::JoinHandle<int> h, braid::mpsc::Sender<int> started) {
    co_await started.send(o.id());
    int v = co_await h;
    (void)v;
}
braid::Task<> pinned_select(Obj o, braid::mpsc::Sender<int> started) {
    auto deadline = braid::sleep(std::chrono::hours(2));
    auto work = braid::pin([](Obj inner) -> braid::Task<int> {
        co_await braid::sleep(std::chrono::hours(3));
        co_return inner.id();
    }(Obj(std::move(o))));
    co_await started.send(-1);
    for (;;) {
        auto r = co_await braid::select(deadline, work, braid_test::pending());
        (void)r;
    }
}

// Builds the scene on `rt`: every task waits somewhere when this returns.
// Ids used: 0 .. 20.
int build_drop_scene(braid::Runtime& rt, DropScene* s, braid::mpsc::Sender<Obj>* keep_tx) {
    return rt.block_on([](DropScene* s, braid::mpsc::Sender<Obj>* keep_tx) -> braid::Task<int> {
        Ledger* l = &s->l;
        auto [started_tx, started_rx] = braid::mpsc::channel<int>(64);
        int n = 0;
        braid::spawn(wait_sleep(Obj(l, 0), started_tx)).detach(), ++n;
        auto [tx, rx] = braid::mpsc::channel<Obj>(4);
        co_await tx.send(Obj(l, 1));  // a value left in the channel
        auto [tx2, rx2] = braid::mpsc::channel<Obj>(4);
        *keep_tx = std::move(tx2);  // kept by the test past the runtime
        braid::spawn(wait_recv(Obj(l, 2), std::move(rx2), started_tx)).detach(), ++n;
        auto m = std::make_shared<braid::Mutex<int>>(0);
        auto [held_tx, held_rx] = braid::oneshot::channel<int>();
        braid::spawn(hold_lock(Obj(l, 3), m, std::move(held_tx))).detach();
        co_await std::move(held_rx);  // held before the others queue
        braid::spawn(wait_lock(Obj(l, 4), m, started_tx)).detach(), ++n;
        braid::spawn(wait_lock(Obj(l, 5), m, started_tx)).detach(), ++n;
        auto [otx, orx] = braid::oneshot::channel<Obj>();
        braid::spawn(hold_oneshot_tx(Obj(l, 6), std::move(otx), started_tx)).detach(), ++n;
        braid::spawn(wait_oneshot(Obj(l, 7), std::move(orx), started_tx)).detach(), ++n;
        auto target = braid::spawn([](Obj o, braid::mpsc::Receiver<Obj> rx) -> braid::Task<> {
            co_await braid_test::pending();
            (void)o;
            (void)rx;
        }(Obj(l, 8), std::move(rx)));
        braid::spawn(wait_join(Obj(l, 9), std::move(target), started_tx)).detach(), ++n;
        braid::spawn(spawner_on_drop(SpawnsOnDrop(s, 10, 17), started_tx)).detach(), ++n;
        braid::spawn(spawner_on_drop(SpawnsOnDrop(s, 11, 19), started_tx)).detach(), ++n;
        // A blocking job that runs until a task's frame is destroyed (the
        // shutdown cancels tasks before it waits for the blocking pool).
        auto [btx, brx] = braid::oneshot::channel<int>();
        auto job = braid::spawn_blocking([rx = std::move(brx), s, started = started_tx]() mutable {
            (void)started.blocking_send(-2);  // running: the shutdown will wait for it
            try {
                (void)rx.blocking_recv();
            } catch (const braid::RecvError&) {
                ++s->blocking_saw_close;
            }
            return 1;
        });
        ++n;
        (void)job;
        braid::spawn(wait_blocking(Obj(l, 12), std::move(job), started_tx)).detach(), ++n;
        braid::spawn([](Obj o, braid::oneshot::Sender<int> tx) -> braid::Task<> {
            co_await braid_test::pending();
            (void)o;
            tx.send(1);
        }(Obj(l, 13), std::move(btx))).detach();
        braid::spawn(pinned_select(Obj(l, 14), started_tx)).detach(), ++n;
        // Aborted, then left to the shutdown.
        auto aborted = braid::spawn(wait_sleep(Obj(l, 15), started_tx));
        ++n;
        for (int i = 0; i < n; ++i) co_await started_rx.recv();
        aborted.abort();
        // A task never polled: spawned last, the shutdown may come first.
        braid::spawn([](Obj o) -> braid::Task<> {
            (void)o;
            co_return;
        }(Obj(l, 16))).detach();
        co_return n;
    }(s, keep_tx));
}

}  // namespace

TEST_CASE("rt_shutdown_idioms.dropping a runtime under tasks waiting on every primitive destroys each value once") {
    for (int flavour = 0; flavour < 2; ++flavour) {
        for (int round = 0; round < 10; ++round) {
            DropScene s;
            braid::mpsc::Sender<Obj> keep_tx;
            {
                auto rt = flavour == 0 ? braid_test::runtime(2) : braid_test::current_thread_runtime();
                build_drop_scene(rt, &s, &keep_tx);
            }  // dropped here
            INFO("flavour " << flavour << " round " << round);
            REQUIRE(s.l.live == 0);
            REQUIRE(s.spawn_cancelled == 2);
            REQUIRE(s.try_spawn_refused == 2);
            REQUIRE(s.blocking_saw_close == 1);
            REQUIRE(s.l.bad_drops(21) == 0);
            // The receiver went with its task: the channel is closed.
            REQUIRE(keep_tx.is_closed());
        }
    }
}

// ---- shutdown_timeout and spawning afterwards ----------------------------------

TEST_CASE("rt_shutdown_idioms.shutdown_timeout gives up on a stuck blocking job and later spawns are cancelled not crashed") {
    Ledger l;
    Gate gate;
    auto rt = braid_test::runtime(2);
    auto handle = rt.handle();
    auto job = rt.block_on([](Gate* g) -> braid::Task<braid::JoinHandle<int>> {
        co_return braid::spawn_blocking([g] {
            g->enter_and_wait();
            return 7;
        });
    }(&gate));
    gate.wait_entered();
    bool drained = rt.shutdown_timeout(20ms);
    // Spawns of every kind after the shutdown: refused, the task dropped at once.
    auto h1 = rt.spawn([](Obj o) -> braid::Task<int> { co_return o.id(); }(Obj(&l, 0)));
    auto r2 = rt.try_spawn([](Obj o) -> braid::Task<int> { co_return o.id(); }(Obj(&l, 1)));
    auto h3 = handle.spawn([](Obj o) -> braid::Task<int> { co_return o.id(); }(Obj(&l, 2)));
    auto r4 = handle.try_spawn([](Obj o) -> braid::Task<int> { co_return o.id(); }(Obj(&l, 3)));
    auto h5 = handle.spawn_blocking([o = std::make_shared<Obj>(&l, 4)] { return o->id(); });
    int block_on_code = braid_test::error_code_of(
        [&] { (void)rt.block_on([](Obj o) -> braid::Task<int> { co_return o.id(); }(Obj(&l, 5))); });
    int handle_block_on_code = braid_test::error_code_of(
        [&] { (void)handle.block_on([](Obj o) -> braid::Task<int> { co_return o.id(); }(Obj(&l, 6))); });
    long live_before_release = l.live;
    bool job_finished_before = job.is_finished();
    gate.release();
    bool drained_later = rt.shutdown_timeout(std::chrono::milliseconds(-1));
    REQUIRE(!drained);
    REQUIRE(!job_finished_before);
    REQUIRE(drained_later);
    // The stuck job's value still reaches its handle once it ends.
    REQUIRE(job.is_finished());
    REQUIRE(job.take() == 7);
    REQUIRE(live_before_release == 0);
    REQUIRE(h1.is_finished());
    REQUIRE_THROWS_AS(h1.take(), braid::TaskCancelled);
    REQUIRE(!r2);
    REQUIRE(r2.error() == BRAID_ESHUTDOWN);
    REQUIRE(h3.is_finished());
    REQUIRE_THROWS_AS(h3.take(), braid::TaskCancelled);
    REQUIRE(!r4);
    REQUIRE(r4.error() == BRAID_ESHUTDOWN);
    REQUIRE(h5.is_finished());
    REQUIRE_THROWS_AS(h5.take(), braid::TaskCancelled);
    REQUIRE(block_on_code == BRAID_ESHUTDOWN);
    REQUIRE(handle_block_on_code == BRAID_ESHUTDOWN);
    REQUIRE(l.bad_drops(7) == 0);
}

TEST_CASE("rt_shutdown_idioms.shutdown_background leaves a running blocking job to finish and its handle still gets the value") {
    Gate gate;
    braid::JoinHandle<int> job;
    {
        auto rt = braid_test::runtime(1);
        job = rt.block_on([](Gate* g) -> braid::Task<braid::JoinHandle<int>> {
            co_return braid::spawn_blocking([g] {
                g->enter_and_wait();
                // Spawning from the job after the shutdown: a cancelled handle.
                auto h = braid::spawn([]() -> braid::Task<int> { co_return 1; }());
                return h.is_finished() ? 9 : 0;
            });
        }(&gate));
        gate.wait_entered();
        rt.shutdown_background();
    }
    REQUIRE(!job.is_finished());
    gate.release();
    REQUIRE(braid_task_join_blocking(job.native_handle(), BRAID_WAIT_FOREVER) == BRAID_OK);
    REQUIRE(job.take() == 9);
}

// ---- JoinSet, abort, mutex -------------------------------------------------------

TEST_CASE("rt_shutdown_idioms.a JoinSet dropped with running tasks aborts them all and runs their destructors") {
    for (int round = 0; round < 20; ++round) {
        Ledger l;
        auto rt = braid_test::runtime(2);
        auto r = rt.block_on([](Ledger* l) -> braid::Task<std::pair<long, std::size_t>> {
            braid::TaskTracker tracker;
            auto [started_tx, started_rx] = braid::mpsc::channel<int>(64);
            {
                braid::JoinSet<int> set;
                for (int i = 0; i < 16; ++i) {
                    if (i % 2 == 0) {
                        set.spawn(tracker.track_future([](Obj o, braid::mpsc::Sender<int> s) -> braid::Task<int> {
                            co_await s.send(o.id());
                            co_await braid::sleep(std::chrono::hours(1));
                            co_return o.id();
                        }(Obj(l, i), started_tx)));
                    } else {
                        set.spawn(tracker.track_future([](Obj o, braid::mpsc::Sender<int> s) -> braid::Task<int> {
                            co_await s.send(o.id());
                            for (;;) co_await braid::yield_now();  // busy: aborted between polls
                            co_return o.id();
                        }(Obj(l, i), started_tx)));
                    }
                }
                for (int i = 0; i < 16; ++i) co_await started_rx.recv();
            }  // dropped: every task aborted
            tracker.close();
            co_await tracker.wait();
            co_return std::pair<long, std::size_t>(l->live.load(), tracker.len());
        }(&l));
        REQUIRE(r.first == 0);
        REQUIRE(r.second == 0);
        REQUIRE(l.bad_drops(16) == 0);
    }
}

TEST_CASE("rt_shutdown_idioms.aborting a task that holds a mutex guard passes the lock to the next waiter") {
    for (int round = 0; round < 50; ++round) {
        auto rt = braid_test::runtime(2);
        auto got = rt.block_on([]() -> braid::Task<std::vector<int>> {
            auto m = std::make_shared<braid::Mutex<std::vector<int>>>();
            auto [held_tx, held_rx] = braid::oneshot::channel<int>();
            auto holder = braid::spawn([](std::shared_ptr<braid::Mutex<std::vector<int>>> m,
                                          braid::oneshot::Sender<int> held) -> braid::Task<> {
                auto g = co_await m->lock();
                g->push_back(0);
                held.send(1);
                co_await braid_test::pending();
            }(m, std::move(held_tx)));
            co_await std::move(held_rx);
            std::vector<braid::JoinHandle<void>> waiters;
            for (int i = 1; i <= 3; ++i)
                waiters.push_back(braid::spawn([](std::shared_ptr<braid::Mutex<std::vector<int>>> m,
                                                  int i) -> braid::Task<> {
                    auto g = co_await m->lock();
                    g->push_back(i);
                }(m, i)));
            // A waiter that gives up (timeout) must not keep the lock either.
            auto quitter = braid::spawn([](std::shared_ptr<braid::Mutex<std::vector<int>>> m) -> braid::Task<> {
                auto r = co_await braid::timeout(1ms, m->lock());
                (void)r;
            }(m));
            co_await quitter;
            holder.abort();
            int code = co_await braid_test::code_of(std::move(holder));
            EXPECT(code == BRAID_ECANCELED);
            for (auto& w : waiters) co_await w;
            auto g = co_await m->lock();
            co_return *g;
        }());
        REQUIRE(got.size() == 4);
        REQUIRE(got[0] == 0);
        std::sort(got.begin() + 1, got.end());
        REQUIRE(got[1] == 1);
        REQUIRE(got[3] == 3);
    }
}

// ---- across runtimes and threads ------------------------------------------------

TEST_CASE("rt_shutdown_idioms.a JoinHandle of one runtime awaited from a plain thread through another runtime's block_on") {
    for (int round = 0; round < 20; ++round) {
        Ledger l;
        auto a = braid_test::runtime(1);
        auto [tx, rx] = braid::oneshot::channel<int>();
        auto h = a.spawn([](Obj o, braid::oneshot::Receiver<int> rx) -> braid::Task<int> {
            int v = co_await std::move(rx);
            co_return v + o.id();
        }(Obj(&l, 10), std::move(rx)));
        int got = 0;
        std::thread t([&got, h = std::move(h)]() mutable {
            auto b = braid_test::current_thread_runtime();
            got = b.block_on([](braid::JoinHandle<int> h) -> braid::Task<int> { co_return co_await h; }(std::move(h)));
        });
        tx.send(5);
        t.join();
        REQUIRE(got == 15);
        REQUIRE(l.live == 0);
    }
}

TEST_CASE("rt_shutdown_idioms.a task of another runtime awaiting a JoinHandle sees TaskCancelled when the first runtime is dropped") {
    for (int round = 0; round < 20; ++round) {
        Ledger l;
        auto b = braid_test::runtime(1);
        braid::JoinHandle<int> waiter;
        {
            auto a = braid_test::runtime(1);
            auto h = a.spawn([](Obj o) -> braid::Task<int> {
                co_await braid_test::pending();
                co_return o.id();
            }(Obj(&l, 0)));
            auto [started_tx, started_rx] = braid::oneshot::channel<int>();
            waiter = b.spawn([](braid::JoinHandle<int> h, braid::oneshot::Sender<int> started) -> braid::Task<int> {
                started.send(1);
                co_return co_await braid_test::code_of(std::move(h));
            }(std::move(h), std::move(started_tx)));
            (void)started_rx.blocking_recv();
        }  // a dropped: its task is cancelled, b's task is woken
        int code = b.block_on([](braid::JoinHandle<int> w) -> braid::Task<int> { co_return co_await w; }(
            std::move(waiter)));
        REQUIRE(code == BRAID_ECANCELED);
        REQUIRE(l.live == 0);
    }
}

TEST_CASE("rt_shutdown_idioms.servers stop on a watch shutdown signal sent from a plain thread") {
    for (int round = 0; round < 20; ++round) {
        auto rt = braid_test::runtime(2);
        auto ch = braid::watch::channel<bool>(false);
        auto& tx = ch.first;
        auto& rx = ch.second;
        auto btx = braid::broadcast::channel<int>(4);
        std::atomic<int> stopped{0};
        braid::TaskTracker tracker;
        auto [ready_tx, ready_rx] = braid::mpsc::channel<int>(16);
        auto h = rt.handle();
        for (int i = 0; i < 4; ++i) {
            tracker.spawn_on([](braid::watch::Receiver<bool> rx, std::atomic<int>* stopped,
                                braid::mpsc::Sender<int> ready) -> braid::Task<> {
                co_await ready.send(1);
                for (;;) {
                    auto r = co_await braid::select(rx.changed(), braid::sleep(std::chrono::hours(1)));
                    if (r.index() == 1) continue;
                    bool alive = std::get<0>(r);
                    if (!alive || *rx.borrow()) break;
                }
                ++*stopped;
            }(rx, &stopped, ready_tx), h).detach();
            tracker.spawn_on([](braid::broadcast::Receiver<int> rx, std::atomic<int>* stopped,
                                braid::mpsc::Sender<int> ready) -> braid::Task<> {
                co_await ready.send(1);
                auto r = co_await rx.recv();
                if (r.has_value() && *r == 42) ++*stopped;
            }(btx.subscribe(), &stopped, ready_tx), h).detach();
        }
        for (int i = 0; i < 8; ++i) (void)ready_rx.blocking_recv();
        std::thread signaller([&tx, &btx] {
            (void)tx.send(true);
            (void)btx.send(42);
        });
        signaller.join();
        tracker.close();
        rt.block_on([](braid::TaskTracker t) -> braid::Task<> { co_await t.wait(); }(tracker));
        REQUIRE(stopped == 8);
    }
}

TEST_CASE("rt_shutdown_idioms.a runtime shut down from another thread while block_on waits ends the block_on with TaskCancelled") {
    for (int round = 0; round < 20; ++round) {
        Ledger l;
        auto rt = braid_test::runtime(2);
        auto [started_tx, started_rx] = braid::oneshot::channel<int>();
        std::thread stopper([&rt, rx = std::move(started_rx)]() mutable {
            (void)rx.blocking_recv();
            (void)rt.shutdown_timeout(std::chrono::milliseconds(-1));
        });
        int code = braid_test::error_code_of([&] {
            rt.block_on([](Obj o, braid::oneshot::Sender<int> started) -> braid::Task<> {
                started.send(1);
                co_await braid_test::pending();
                (void)o;
            }(Obj(&l, 0), std::move(started_tx)));
        });
        stopper.join();
        REQUIRE(code == BRAID_ECANCELED);
        REQUIRE(l.live == 0);
    }
}

namespace {
// Records how many tasks the tracker still counted when it was destroyed.
class SeesTracker {
public:
    SeesTracker(braid::TaskTracker t, std::vector<std::size_t>* seen) : t_(std::move(t)), seen_(seen) {}
    SeesTracker(SeesTracker&& o) noexcept : t_(o.t_), seen_(std::exchange(o.seen_, nullptr)) {}
    ~SeesTracker() {
        if (seen_) seen_->push_back(t_.len());
    }

private:
    braid::TaskTracker t_;
    std::vector<std::size_t>* seen_;
};
}  // namespace

TEST_CASE("rt_shutdown_idioms.a tracked task still counts while its frame is destroyed") {
    // tokio-util's TrackedFuture drops the future before its token: wait()
    // never completes while a tracked task's destructors still run.  One
    // tracker per way a task ends, so that no other task is counted.
    std::vector<std::size_t> seen[3];
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([](std::vector<std::size_t>* seen) -> braid::Task<> {
        braid::TaskTracker aborted, finished, unpolled;
        auto waiting = aborted.spawn([](SeesTracker s) -> braid::Task<> {
            (void)s;
            co_await braid_test::pending();
        }(SeesTracker(aborted, &seen[0])));
        auto done = finished.spawn([](SeesTracker s) -> braid::Task<> {
            (void)s;
            co_return;
        }(SeesTracker(finished, &seen[1])));
        co_await braid::yield_now();
        waiting.abort();
        {
            auto never_run = unpolled.track_future([](SeesTracker s) -> braid::Task<> {
                (void)s;
                co_return;
            }(SeesTracker(unpolled, &seen[2])));
        }
        for (auto* t : {&aborted, &finished, &unpolled}) {
            t->close();
            co_await t->wait();
        }
    }(seen));
    for (int i = 0; i < 3; ++i) {
        INFO("case " << i);
        REQUIRE(seen[i].size() == 1);
        CHECK(seen[i][0] == 1);
    }
}

// ---- more shutdown shapes ----------------------------------------------------------

TEST_CASE("rt_shutdown_idioms.a current-thread runtime shut down from another thread ends its running block_on") {
    // The task block_on runs waits on nothing, a timer, or a channel: the
    // shutdown must wake the thread that drives the runtime.
    for (int what = 0; what < 3; ++what) {
        for (int round = 0; round < 10; ++round) {
            Ledger l;
            auto rt = braid_test::current_thread_runtime();
            auto [started_tx, started_rx] = braid::oneshot::channel<int>();
            auto [tx, rx] = braid::mpsc::channel<int>(1);
            std::thread stopper([&rt, srx = std::move(started_rx)]() mutable {
                (void)srx.blocking_recv();
                (void)rt.shutdown_timeout(std::chrono::milliseconds(-1));
            });
            int code = braid_test::error_code_of([&] {
                rt.block_on([](Obj o, braid::oneshot::Sender<int> started, braid::mpsc::Receiver<int> rx,
                               int what) -> braid::Task<> {
                    started.send(1);
                    if (what == 0) co_await braid_test::pending();
                    if (what == 1) co_await braid::sleep(std::chrono::hours(1));
                    if (what == 2) (void)co_await rx.recv();
                    (void)o;
                }(Obj(&l, 0), std::move(started_tx), std::move(rx), what));
            });
            stopper.join();
            INFO("what " << what << " round " << round);
            REQUIRE(code == BRAID_ECANCELED);
            REQUIRE(l.live == 0);
            (void)tx;
        }
    }
}

TEST_CASE("rt_shutdown_idioms.a current-thread runtime shut down from another thread ends every concurrent block_on") {
    // Tokio's shutdown_all_concurrent_block_on: several threads block on
    // one current-thread runtime (one drives it, the others wait for their
    // turn); a shutdown ends them all, each with its task cancelled.
    constexpr int kThreads = 3;
    for (int round = 0; round < 10; ++round) {
        Ledger l;
        auto rt = braid_test::current_thread_runtime();
        auto [started_tx, started_rx] = braid::mpsc::channel<int>(kThreads);
        std::atomic<int> cancelled{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < kThreads; ++i)
            threads.emplace_back([&rt, &l, &cancelled, i, started = started_tx]() mutable {
                int code = braid_test::error_code_of([&] {
                    rt.block_on([](Obj o, braid::mpsc::Sender<int> started) -> braid::Task<> {
                        (void)co_await started.send(1);
                        co_await braid_test::pending();
                        (void)o;
                    }(Obj(&l, i), std::move(started)));
                });
                if (code == BRAID_ECANCELED) cancelled.fetch_add(1);
            });
        for (int i = 0; i < kThreads; ++i) REQUIRE(started_rx.blocking_recv() == 1);
        REQUIRE(rt.shutdown_timeout(std::chrono::milliseconds(-1)));
        for (auto& t : threads) t.join();
        INFO("round " << round);
        REQUIRE(cancelled.load() == kThreads);
        REQUIRE(l.live == 0);
    }
}

TEST_CASE("rt_shutdown_idioms.tracked blocking jobs still queued at a shutdown are dropped and stop counting") {
    for (int round = 0; round < 10; ++round) {
        Ledger l;
        braid::TaskTracker tracker;
        std::atomic<int> ran{0};
        {
            auto rt = braid::Runtime::builder().worker_threads(1).max_blocking_threads(1).build();
            rt.block_on([](Ledger* l, braid::TaskTracker tracker, std::atomic<int>* ran) -> braid::Task<> {
                auto [tx, rx] = braid::oneshot::channel<int>();
                auto [started_tx, started_rx] = braid::oneshot::channel<int>();
                // The only blocking thread waits on a task that the shutdown cancels.
                tracker.spawn_blocking([rx = std::move(rx), st = std::move(started_tx), ran]() mutable {
                    st.send(1);
                    try {
                        (void)rx.blocking_recv();
                    } catch (const braid::RecvError&) {
                    }
                    ++*ran;
                }).detach();
                co_await std::move(started_rx);
                braid::spawn([](braid::oneshot::Sender<int> tx) -> braid::Task<> {
                    co_await braid_test::pending();
                    tx.send(1);
                }(std::move(tx))).detach();
                for (int i = 0; i < 8; ++i)
                    tracker.spawn_blocking([o = std::make_shared<Obj>(l, i), ran] { ++*ran; }).detach();
                EXPECT(tracker.len() == 9);
            }(&l, tracker, &ran));
        }
        INFO("round " << round);
        REQUIRE(tracker.len() == 0);
        REQUIRE(l.live == 0);
        REQUIRE(l.bad_drops(8) == 0);
        REQUIRE(ran >= 1);
    }
}

TEST_CASE("rt_shutdown_idioms.a JoinSet whose tasks run on another runtime gives each back cancelled when that runtime goes") {
    for (int round = 0; round < 10; ++round) {
        Ledger l;
        auto main_rt = braid_test::runtime(1);
        std::optional<braid::Runtime> other(braid_test::runtime(1));
        auto r = main_rt.block_on([](Ledger* l, std::optional<braid::Runtime>* other) -> braid::Task<std::vector<int>> {
            braid::JoinSet<int> set;
            auto h = (*other)->handle();
            auto [started_tx, started_rx] = braid::mpsc::channel<int>(8);
            for (int i = 0; i < 4; ++i)
                set.spawn_on([](Obj o, braid::mpsc::Sender<int> s) -> braid::Task<int> {
                    co_await s.send(o.id());
                    co_await braid_test::pending();
                    co_return o.id();
                }(Obj(l, i), started_tx), h);
            for (int i = 0; i < 4; ++i) co_await started_rx.recv();
            // Dropped from a blocking thread of this runtime (no runtime's own thread may).
            co_await braid::spawn_blocking([other] { other->reset(); });
            std::vector<int> codes;
            for (;;) {
                int code = co_await braid_test::code_of(set.join_next());
                if (code != BRAID_ECANCELED) break;
                codes.push_back(code);
            }
            codes.push_back(int(set.len()));
            co_return codes;
        }(&l, &other));
        REQUIRE(r.size() == 5);
        REQUIRE(r.back() == 0);
        REQUIRE(l.live == 0);
    }
}

TEST_CASE("rt_shutdown_idioms.a drop guard in a frame the shutdown destroys cancels a token another runtime waits on") {
    for (int round = 0; round < 10; ++round) {
        auto waiter_rt = braid_test::runtime(1);
        braid::CancellationToken token;
        auto waiter = waiter_rt.spawn([](braid::CancellationToken t) -> braid::Task<int> {
            co_await t.cancelled();
            co_return 1;
        }(token.child_token()));
        {
            auto rt = braid_test::runtime(1);
            auto [started_tx, started_rx] = braid::oneshot::channel<int>();
            rt.spawn([](braid::CancellationToken::DropGuard g, braid::oneshot::Sender<int> s) -> braid::Task<> {
                s.send(1);
                co_await braid_test::pending();
                (void)g;
            }(token.drop_guard(), std::move(started_tx))).detach();
            (void)started_rx.blocking_recv();
            REQUIRE(!token.is_cancelled());
        }
        REQUIRE(token.is_cancelled());
        int v = waiter_rt.block_on([](braid::JoinHandle<int> w) -> braid::Task<int> { co_return co_await w; }(
            std::move(waiter)));
        REQUIRE(v == 1);
    }
}

namespace {
// A server task: its connections in a JoinSet it owns (Tokio's accept loop
// with a JoinSet); each connection owns a JoinSet of sub-requests.
braid::Task<> connection(Obj o, Ledger* l, int first, braid::mpsc::Sender<int> started) {
    braid::JoinSet<void> subs;
    for (int i = 0; i < 2; ++i)
        subs.spawn([](Obj o, braid::mpsc::Sender<int> started) -> braid::Task<> {
            co_await started.send(o.id());
            co_await braid::sleep(std::chrono::hours(1));
        }(Obj(l, first + i), started));
    co_await started.send(o.id());
    co_await braid_test::pending();
}
braid::Task<> server(Obj o, Ledger* l, int first, braid::mpsc::Sender<int> started) {
    braid::JoinSet<void> conns;
    for (int c = 0; c < 3; ++c) conns.spawn(connection(Obj(l, first + c * 3), l, first + c * 3 + 1, started));
    co_await started.send(o.id());
    for (;;) {
        auto r = co_await conns.join_next();
        if (!r) co_await braid_test::pending();
    }
}
}  // namespace

TEST_CASE("rt_shutdown_idioms.dropping a runtime under servers that own JoinSets of connections that own JoinSets") {
    // The shutdown destroys the tasks in any order: a JoinSet destroyed with
    // its owner aborts tasks the shutdown may have destroyed already, or not yet.
    constexpr int kServers = 4;
    constexpr int kPerServer = 10;  // the server, 3 connections, 6 sub-requests
    for (int flavour = 0; flavour < 2; ++flavour) {
        for (int round = 0; round < 20; ++round) {
            Ledger l;
            {
                auto rt = flavour == 0 ? braid_test::runtime(2) : braid_test::current_thread_runtime();
                rt.block_on([](Ledger* l) -> braid::Task<> {
                    auto [started_tx, started_rx] = braid::mpsc::channel<int>(64);
                    for (int s = 0; s < kServers; ++s)
                        braid::spawn(server(Obj(l, 100 + s), l, s * kPerServer, started_tx)).detach();
                    for (int i = 0; i < kServers * kPerServer; ++i) co_await started_rx.recv();
                }(&l));
            }
            INFO("flavour " << flavour << " round " << round);
            REQUIRE(l.live == 0);
            REQUIRE(l.bad_drops() == 0);
            REQUIRE(l.made.size() == std::size_t(kServers * kPerServer));
        }
    }
}

TEST_CASE("rt_shutdown_idioms.a LocalSet outliving its runtime destroys its tasks once") {
    for (int round = 0; round < 10; ++round) {
        Ledger l;
        std::optional<braid::LocalSet> local(std::in_place);
        {
            auto rt = braid_test::runtime(1);
            local->block_on(rt, [](Ledger* l) -> braid::Task<> {
                for (int i = 0; i < 4; ++i)
                    braid::spawn_local([](Obj o) -> braid::Task<> {
                        co_await braid::sleep(std::chrono::hours(1));
                        (void)o;
                    }(Obj(l, i))).detach();
                co_await braid::yield_now();
            }(&l));
        }
        long live_after_runtime = l.live;
        local.reset();
        INFO("round " << round);
        REQUIRE(live_after_runtime <= 4);
        REQUIRE(l.live == 0);
        REQUIRE(l.bad_drops(4) == 0);
    }
}

TEST_CASE("rt_shutdown_idioms.what destructors and blocking jobs spawn while the runtime shuts down is dropped not run") {
    for (int round = 0; round < 20; ++round) {
        Ledger l;
        Gate gate;
        std::atomic<int> ran{0};
        std::atomic<int> codes_ok{0};
        {
            auto rt = braid_test::runtime(1);
            auto handle = rt.handle();
            rt.block_on([](Ledger* l, Gate* gate, std::atomic<int>* ran, std::atomic<int>* ok,
                           braid::Handle h) -> braid::Task<> {
                // A blocking job that, once let go, spawns in every way.
                braid::spawn_blocking([l, gate, ran, ok, h = std::move(h)] {
                    gate->enter_and_wait();
                    auto t = h.spawn([](Obj o, std::atomic<int>* ran) -> braid::Task<> {
                        ++*ran;
                        (void)o;
                        co_return;
                    }(Obj(l, 0), ran));
                    if (t.is_finished()) ++*ok;
                    auto b = h.spawn_blocking([o = std::make_shared<Obj>(l, 1), ran] { ++*ran; });
                    if (b.is_finished()) ++*ok;
                    int code = braid_test::error_code_of(
                        [&] { h.block_on([](Obj o) -> braid::Task<> { (void)o; co_return; }(Obj(l, 2))); });
                    if (code == BRAID_ESHUTDOWN) ++*ok;
                    auto s = braid::try_spawn([](Obj o) -> braid::Task<> { (void)o; co_return; }(Obj(l, 3)));
                    if (!s && s.error() == BRAID_ESHUTDOWN) ++*ok;
                }).detach();
                // A task whose destructor spawns a blocking job and lets the job above go.
                struct OnDrop {
                    Ledger* l;
                    Gate* gate;
                    std::atomic<int>* ran;
                    std::atomic<int>* ok;
                    bool armed = true;
                    OnDrop(Ledger* l, Gate* g, std::atomic<int>* r, std::atomic<int>* o)
                        : l(l), gate(g), ran(r), ok(o) {}
                    OnDrop(OnDrop&& o) noexcept : l(o.l), gate(o.gate), ran(o.ran), ok(o.ok) { o.armed = false; }
                    ~OnDrop() {
                        if (!armed) return;
                        auto b = braid::spawn_blocking([o = std::make_shared<Obj>(l, 4), r = ran] { ++*r; });
                        if (b.is_finished()) ++*ok;
                        gate->release();
                    }
                };
                braid::spawn([](OnDrop d) -> braid::Task<> {
                    co_await braid_test::pending();
                    (void)d;
                }(OnDrop(l, gate, ran, ok))).detach();
                co_return;
            }(&l, &gate, &ran, &codes_ok, handle.clone()));
            gate.wait_entered();  // the job runs: the shutdown will wait for it
        }
        INFO("round " << round);
        REQUIRE(ran == 0);
        REQUIRE(codes_ok == 5);
        REQUIRE(l.live == 0);
        REQUIRE(l.bad_drops(5) == 0);
    }
}

TEST_CASE("rt_shutdown_idioms.plain threads inside Handle block_on see TaskCancelled when the runtime is dropped") {
    // On a current-thread runtime one thread drives it (block_on) and the
    // other waits for its turn (Handle::block_on); on a multi-thread one both wait.
    for (int flavour = 0; flavour < 2; ++flavour) {
        for (int round = 0; round < 10; ++round) {
            Ledger l;
            std::optional<braid::Runtime> rt(flavour == 0 ? braid_test::runtime(2)
                                                          : braid_test::current_thread_runtime());
            auto h = rt->handle();
            auto [tx, rx] = braid::mpsc::channel<int>(4);
            int codes[2] = {0, 0};
            auto body = [](Obj o, braid::mpsc::Sender<int> started) -> braid::Task<> {
                co_await started.send(o.id());
                co_await braid_test::pending();
            };
            std::thread a([&, tx = tx] {
                codes[0] = braid_test::error_code_of([&] { rt->block_on(body(Obj(&l, 0), tx)); });
            });
            (void)rx.blocking_recv();  // a's task runs
            std::thread b([&, tx = tx] {
                codes[1] = braid_test::error_code_of([&] { h.block_on(body(Obj(&l, 1), tx)); });
            });
            (void)rx.blocking_recv();  // b's task runs too (on a current-thread runtime a's block_on runs it)
            std::thread dropper([&] { rt.reset(); });
            a.join();
            b.join();
            dropper.join();
            INFO("flavour " << flavour << " round " << round);
            REQUIRE(codes[0] == BRAID_ECANCELED);
            REQUIRE(codes[1] == BRAID_ECANCELED);
            REQUIRE(l.live == 0);
            REQUIRE(l.bad_drops(2) == 0);
        }
    }
}

TEST_CASE("rt_shutdown_idioms.handles of tasks outlive their runtime: abort is_finished and take still answer") {
    Ledger l;
    braid::JoinHandle<int> pending_h, done_h;
    braid::AbortHandle ah;
    {
        auto rt = braid_test::runtime(1);
        pending_h = rt.spawn([](Obj o) -> braid::Task<int> {
            co_await braid_test::pending();
            co_return o.id();
        }(Obj(&l, 0)));
        ah = pending_h.abort_handle();
        done_h = rt.spawn([](Obj o) -> braid::Task<int> { co_return o.id() + 40; }(Obj(&l, 1)));
        (void)braid_task_join_blocking(done_h.native_handle(), BRAID_WAIT_FOREVER);
    }
    REQUIRE(l.live == 0);
    REQUIRE(pending_h.is_finished());
    REQUIRE(ah.is_finished());
    ah.abort();
    pending_h.abort();
    REQUIRE_THROWS_AS(pending_h.take(), braid::TaskCancelled);
    done_h.abort();
    REQUIRE(done_h.take() == 41);
}

TEST_CASE("rt_shutdown_idioms.a receiver dropped by a shutdown hands senders waiting on another runtime their values back") {
    for (int round = 0; round < 10; ++round) {
        Ledger l;
        auto senders_rt = braid_test::runtime(1);
        braid::JoinHandle<int> sender;
        {
            auto rt = braid_test::runtime(1);
            auto [tx, rx] = braid::mpsc::channel<Obj>(1);
            auto [started_tx, started_rx] = braid::oneshot::channel<int>();
            rt.spawn([](braid::mpsc::Receiver<Obj> rx, braid::oneshot::Sender<int> started) -> braid::Task<> {
                started.send(1);
                co_await braid_test::pending();
                (void)rx;
            }(std::move(rx), std::move(started_tx))).detach();
            (void)started_rx.blocking_recv();
            auto [full_tx, full_rx] = braid::oneshot::channel<int>();
            sender = senders_rt.spawn([](braid::mpsc::Sender<Obj> tx, Ledger* l,
                                         braid::oneshot::Sender<int> full) -> braid::Task<int> {
                auto first = co_await tx.send(Obj(l, 0));  // fills the channel
                EXPECT(!first);
                full.send(1);
                auto back = co_await tx.send(Obj(l, 1));  // waits for room: the receiver goes instead
                co_return back ? back->id() : -1;
            }(std::move(tx), &l, std::move(full_tx)));
            (void)full_rx.blocking_recv();
        }
        int got = senders_rt.block_on([](braid::JoinHandle<int> h) -> braid::Task<int> { co_return co_await h; }(
            std::move(sender)));
        INFO("round " << round);
        REQUIRE(got == 1);
        REQUIRE(l.live == 0);
        REQUIRE(l.bad_drops(2) == 0);
    }
}

TEST_CASE("rt_shutdown_idioms.permits held by tasks a shutdown destroys go to waiters on another runtime") {
    for (int round = 0; round < 10; ++round) {
        auto sem = std::make_shared<braid::Semaphore>(2);
        auto waiters_rt = braid_test::runtime(1);
        std::vector<braid::JoinHandle<int>> waiters;
        {
            auto rt = braid_test::runtime(2);
            auto [held_tx, held_rx] = braid::mpsc::channel<int>(4);
            for (int i = 0; i < 2; ++i)
                rt.spawn([](std::shared_ptr<braid::Semaphore> s, braid::mpsc::Sender<int> held) -> braid::Task<> {
                    auto p = co_await s->acquire();
                    co_await held.send(1);
                    co_await braid_test::pending();
                }(sem, held_tx)).detach();
            (void)held_rx.blocking_recv();
            (void)held_rx.blocking_recv();
            for (int i = 0; i < 2; ++i)
                waiters.push_back(waiters_rt.spawn([](std::shared_ptr<braid::Semaphore> s) -> braid::Task<int> {
                    auto p = co_await s->acquire();
                    co_return int(p.num_permits());
                }(sem)));
        }
        int total = waiters_rt.block_on([](std::vector<braid::JoinHandle<int>>* ws) -> braid::Task<int> {
            int n = 0;
            for (auto& w : *ws) n += co_await w;
            co_return n;
        }(&waiters));
        REQUIRE(total == 2);
        REQUIRE(sem->available_permits() == 2);
    }
}

TEST_CASE("rt_shutdown_idioms.dropping a paused runtime under sleeps intervals and timeouts") {
    for (int round = 0; round < 20; ++round) {
        Ledger l;
        {
            auto rt = braid_test::paused_runtime(round % 2 + 1);
            rt.block_on([](Ledger* l) -> braid::Task<> {
                auto [started_tx, started_rx] = braid::mpsc::channel<int>(16);
                for (int i = 0; i < 4; ++i) {
                    braid::spawn([](Obj o, braid::mpsc::Sender<int> s) -> braid::Task<> {
                        co_await s.send(o.id());
                        co_await braid::sleep(std::chrono::hours(o.id() + 1));
                    }(Obj(l, i), started_tx)).detach();
                    braid::spawn([](Obj o, braid::mpsc::Sender<int> s) -> braid::Task<> {
                        auto iv = braid::interval(std::chrono::milliseconds(10));
                        co_await s.send(o.id());
                        for (;;) co_await iv.tick();  // auto-advances while the others sleep
                    }(Obj(l, 10 + i), started_tx)).detach();
                    braid::spawn([](Obj o, braid::mpsc::Sender<int> s) -> braid::Task<> {
                        co_await s.send(o.id());
                        auto r = co_await braid::timeout(std::chrono::hours(2), braid_test::pending());
                        (void)r;
                        co_await braid_test::pending();
                    }(Obj(l, 20 + i), started_tx)).detach();
                }
                for (int i = 0; i < 12; ++i) co_await started_rx.recv();
                co_await braid::sleep(std::chrono::milliseconds(35));
            }(&l));
        }
        INFO("round " << round);
        REQUIRE(l.live == 0);
        REQUIRE(l.bad_drops() == 0);
        REQUIRE(l.made.size() == 12);
    }
}

TEST_CASE("rt_shutdown_idioms.a handle kept past its runtime: enter spawn spawn_blocking block_on and metrics still answer") {
    Ledger l;
    std::optional<braid::Handle> h;
    {
        auto rt = braid_test::runtime(1);
        h.emplace(rt.handle());
    }
    bool spawned_cancelled = false, blocking_cancelled = false, tracked_released = false;
    int block_on_code = 0;
    {
        auto g = h->enter();  // entering a shut-down runtime works (Tokio's too)
        {
            auto t = braid::spawn([](Obj o) -> braid::Task<> {
                (void)o;
                co_return;
            }(Obj(&l, 0)));
            spawned_cancelled = t.is_finished();
            auto b = braid::spawn_blocking([o = std::make_shared<Obj>(&l, 1)] { return o->id(); });
            blocking_cancelled = b.is_finished();
            braid::TaskTracker tracker;
            tracker.spawn_on([](Obj o) -> braid::Task<> {
                (void)o;
                co_return;
            }(Obj(&l, 2)), *h).detach();
            tracked_released = tracker.is_empty();
        }
    }
    block_on_code = braid_test::error_code_of([&] {
        h->block_on([](Obj o) -> braid::Task<> {
            (void)o;
            co_return;
        }(Obj(&l, 3)));
    });
    auto m = h->metrics();
    (void)m;
    REQUIRE(spawned_cancelled);
    REQUIRE(blocking_cancelled);
    REQUIRE(tracked_released);
    REQUIRE(block_on_code == BRAID_ESHUTDOWN);
    REQUIRE(l.live == 0);
    REQUIRE(l.bad_drops(4) == 0);
}

TEST_CASE("rt_shutdown_idioms.a runtime owned by a task of another runtime is shut down by that runtime's shutdown") {
    for (int round = 0; round < 10; ++round) {
        Ledger l;
        {
            auto outer = braid_test::runtime(1);
            auto inner = std::make_shared<braid::Runtime>(round % 2 ? braid_test::runtime(1)
                                                                    : braid_test::current_thread_runtime());
            auto [started_tx, started_rx] = braid::mpsc::channel<int>(8);
            for (int i = 0; i < 3; ++i)
                inner->spawn([](Obj o, braid::mpsc::Sender<int> s) -> braid::Task<> {
                    co_await s.send(o.id());
                    co_await braid::sleep(std::chrono::hours(1));
                }(Obj(&l, i), started_tx)).detach();
            if (round % 2 == 0) {
                // A current-thread runtime runs its tasks only inside block_on.
                inner->block_on([](braid::mpsc::Receiver<int>* rx) -> braid::Task<> {
                    for (int i = 0; i < 3; ++i) co_await rx->recv();
                }(&started_rx));
            } else {
                for (int i = 0; i < 3; ++i) (void)started_rx.blocking_recv();
            }
            outer.spawn([](std::shared_ptr<braid::Runtime> rt, Obj o) -> braid::Task<> {
                co_await braid_test::pending();
                (void)rt;
                (void)o;
            }(std::move(inner), Obj(&l, 3))).detach();
        }  // outer's shutdown destroys the task that holds the last reference to inner
        INFO("round " << round);
        REQUIRE(l.live == 0);
        REQUIRE(l.bad_drops(4) == 0);
    }
}

TEST_CASE("rt_shutdown_idioms.a joined task's frame is gone when its JoinHandle completes") {
    Ledger l;
    auto rt = braid_test::runtime(2);
    auto bad = rt.block_on([](Ledger* l) -> braid::Task<int> {
        int bad = 0;
        for (int i = 0; i < 2000; ++i) {
            auto h = braid::spawn([](Obj o) -> braid::Task<int> {
                co_await braid::yield_now();
                co_return o.id();
            }(Obj(l, i)));
            int v = co_await h;
            (void)v;
            if (l->live.load() != 0) ++bad;
        }
        braid::JoinSet<int> set;
        for (int i = 0; i < 2000; ++i) {
            set.spawn([](Obj o) -> braid::Task<int> {
                co_await braid::yield_now();
                co_return o.id();
            }(Obj(l, 10000 + i)));
        }
        co_await set.shutdown();
        if (l->live.load() != 0) bad += 100000;
        co_return bad;
    }(&l));
    REQUIRE(bad == 0);
}

namespace {
braid::Task<bool> rethrown(braid::JoinHandle<int> h) {
    try {
        (void)co_await h;
    } catch (const std::runtime_error&) {
        co_return true;
    }
    co_return false;
}
}  // namespace

TEST_CASE("rt_shutdown_idioms.a blocking job's captures are destroyed when it ends not when its handle goes") {
    // Tokio's blocking task consumes its FnOnce: what the closure captured
    // is dropped when it returns (or panics), whoever still holds the handle.
    Ledger l;
    auto rt = braid_test::runtime(2);
    auto handle = rt.handle();
    auto live = rt.block_on([](Ledger* l, braid::Handle h) -> braid::Task<std::vector<long>> {
        std::vector<long> live;
        auto a = braid::spawn_blocking([o = std::make_shared<Obj>(l, 0)] { return o->id(); });
        int va = co_await a;
        live.push_back(l->live.load() + va);
        auto b = h.spawn_blocking([o = std::make_shared<Obj>(l, 1)] { (void)o; });
        co_await b;
        live.push_back(l->live.load());
        auto c = braid::spawn_blocking([o = std::make_shared<Obj>(l, 2)]() -> int { throw std::runtime_error("x"); });
        bool threw = co_await rethrown(std::move(c));
        live.push_back(threw ? l->live.load() : -1);
        co_return live;
    }(&l, handle.clone()));
    REQUIRE(live.size() == 3);
    CHECK(live[0] == 0);
    CHECK(live[1] == 0);
    CHECK(live[2] == 0);
    REQUIRE(l.bad_drops(3) == 0);
}

TEST_CASE("rt_shutdown_idioms.a tracker's wait completes once its blocking jobs returned while their handles are kept") {
    // tokio-util: let h = tracker.spawn_blocking(f); tracker.close();
    // tracker.wait().await; h.await - the token goes when f returns.
    auto rt = braid_test::runtime(2);
    auto r = rt.block_on([]() -> braid::Task<std::pair<bool, int>> {
        braid::TaskTracker tracker;
        auto h = tracker.spawn_blocking([] { return 5; });
        tracker.close();
        auto w = tracker.wait();
        auto done = co_await braid::timeout(std::chrono::seconds(5), w);  // hangs without the fix
        int v = co_await h;
        co_return std::pair<bool, int>(bool(done), v);
    }());
    REQUIRE(r.first);
    REQUIRE(r.second == 5);
}

TEST_CASE("rt_shutdown_idioms.values queued in a channel are dropped when its receiver goes") {
    Ledger l;
    auto tx_rx = braid::mpsc::channel<Obj>(4);
    auto utx_urx = braid::mpsc::unbounded_channel<Obj>();
    auto rt = braid_test::runtime(1);
    rt.block_on([](Ledger* l, braid::mpsc::Sender<Obj>* tx, braid::mpsc::UnboundedSender<Obj>* utx) -> braid::Task<> {
        co_await tx->send(Obj(l, 0));
        co_await tx->send(Obj(l, 1));
        (void)utx->send(Obj(l, 2));
    }(&l, &tx_rx.first, &utx_urx.first));
    { auto drop = std::move(tx_rx.second); }
    { auto drop = std::move(utx_urx.second); }
    CHECK(l.live == 0);
}

namespace {
// Alice Ryhl's actor: requests carry a oneshot for the reply.
class Request {
public:
    Request(int v, braid::oneshot::Sender<int> reply) : v_(v), reply_(std::move(reply)) {}
    int v_;
    braid::oneshot::Sender<int> reply_;
};
}  // namespace

TEST_CASE("rt_shutdown_idioms.callers of an actor that a shutdown destroyed get RecvError not a hang") {
    for (int round = 0; round < 10; ++round) {
        auto callers_rt = braid_test::runtime(1);
        std::vector<braid::JoinHandle<int>> callers;
        {
            auto rt = braid_test::runtime(1);
            auto [tx, rx] = braid::mpsc::channel<Request>(8);
            auto [started_tx, started_rx] = braid::oneshot::channel<int>();
            // The actor answers one request, then stalls with the rest queued.
            rt.spawn([](braid::mpsc::Receiver<Request> rx, braid::oneshot::Sender<int> started) -> braid::Task<> {
                auto first = co_await rx.recv();
                if (first) (void)first->reply_.send(first->v_ * 2);
                started.send(1);
                co_await braid_test::pending();
            }(std::move(rx), std::move(started_tx))).detach();
            for (int i = 0; i < 4; ++i)
                callers.push_back(callers_rt.spawn([](braid::mpsc::Sender<Request> tx, int i) -> braid::Task<int> {
                    auto [reply_tx, reply_rx] = braid::oneshot::channel<int>();
                    Request req(i + 1, std::move(reply_tx));
                    auto back = co_await tx.send(std::move(req));
                    if (back) co_return -2;  // the actor is gone already
                    int code = co_await braid_test::code_of(std::move(reply_rx));
                    co_return code;
                }(tx, i)));
            (void)started_rx.blocking_recv();
        }  // the actor, its receiver and the queued requests go
        auto codes = callers_rt.block_on([](std::vector<braid::JoinHandle<int>>* cs) -> braid::Task<std::vector<int>> {
            std::vector<int> out;
            for (auto& c : *cs) out.push_back(co_await c);
            co_return out;
        }(&callers));
        int answered = 0, refused = 0;
        for (int c : codes) {
            if (c == 0) ++answered;
            else if (c == BRAID_ECLOSED || c == -2) ++refused;
        }
        INFO("round " << round);
        REQUIRE(answered == 1);
        REQUIRE(refused == 3);
    }
}

TEST_CASE("rt_shutdown_idioms.threads that keep spawning through handles while the runtime is dropped leak nothing") {
    constexpr int kThreads = 3;
    constexpr int kPerThread = 300;
    for (int round = 0; round < 10; ++round) {
        Ledger l;
        std::atomic<int> ran{0};
        std::atomic<int> refused{0};
        auto rt = std::make_unique<braid::Runtime>(braid_test::runtime(2));
        std::vector<braid::Handle> handles;
        for (int t = 0; t < kThreads; ++t) handles.push_back(rt->handle());
        auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t)
            threads.emplace_back([&, t, tx = tx] {
                for (int i = 0; i < kPerThread; ++i) {
                    int id = t * kPerThread + i;
                    auto h = handles[std::size_t(t)].spawn([](Obj o, std::atomic<int>* ran,
                                                             braid::mpsc::UnboundedSender<int> tx) -> braid::Task<> {
                        ++*ran;
                        (void)tx.send(o.id());
                        if (o.id() % 2) co_await braid::sleep(std::chrono::hours(1));
                        co_await braid::yield_now();
                    }(Obj(&l, id), &ran, tx));
                    if (i % 3 == 0) {
                        auto b = handles[std::size_t(t)].spawn_blocking([o = std::make_shared<Obj>(&l, 100000 + id)] {
                            return o->id();
                        });
                        (void)b;
                    }
                    if (h.is_finished() && braid_test::error_code_of([&] { h.take(); }) == BRAID_ECANCELED)
                        ++refused;
                }
            });
        for (int i = 0; i < kPerThread / 2; ++i) (void)rx.blocking_recv();
        rt.reset();
        for (auto& th : threads) th.join();
        INFO("round " << round);
        REQUIRE(l.live == 0);
        REQUIRE(l.bad_drops() == 0);
        REQUIRE(l.made.size() == std::size_t(kThreads * kPerThread + kThreads * ((kPerThread + 2) / 3)));
        REQUIRE(ran >= kPerThread / 2);
    }
}

TEST_CASE("rt_shutdown_idioms.a plain thread signals shutdown then waits for the tracker through a handle then shuts the runtime down") {
    // The guide end to end: the signal (watch) reaches every task, each
    // cleans up asynchronously, the thread waits for the tracker, then shuts
    // down; a second variant shuts down without waiting: the cleanups that
    // had not finished are cancelled, and every frame still goes once.
    for (int wait_first = 0; wait_first < 2; ++wait_first) {
        for (int round = 0; round < 10; ++round) {
            Ledger l;
            std::atomic<int> flushed{0};
            auto rt = braid_test::runtime(2);
            auto h = rt.handle();
            auto ch = braid::watch::channel<bool>(false);
            auto& tx = ch.first;
            braid::TaskTracker tracker;
            auto [ready_tx, ready_rx] = braid::mpsc::channel<int>(16);
            for (int i = 0; i < 8; ++i)
                tracker.spawn_on([](Obj o, braid::watch::Receiver<bool> rx, std::atomic<int>* flushed,
                                    braid::mpsc::Sender<int> ready) -> braid::Task<> {
                    co_await ready.send(o.id());
                    for (;;) {
                        bool alive = co_await rx.changed();
                        if (!alive || *rx.borrow()) break;
                    }
                    co_await braid::sleep(std::chrono::milliseconds(1 + o.id() % 3));  // flushing
                    co_await braid::yield_now();
                    ++*flushed;
                }(Obj(&l, i), ch.second, &flushed, ready_tx), h).detach();
            for (int i = 0; i < 8; ++i) (void)ready_rx.blocking_recv();
            std::thread stopper([&] {
                (void)tx.send(true);
                if (wait_first) {
                    tracker.close();
                    h.block_on([](braid::TaskTracker t) -> braid::Task<> { co_await t.wait(); }(tracker));
                }
                (void)rt.shutdown_timeout(std::chrono::milliseconds(-1));
            });
            stopper.join();
            INFO("wait_first " << wait_first << " round " << round);
            if (wait_first) REQUIRE(flushed == 8);
            REQUIRE(tracker.is_empty());
            REQUIRE(l.live == 0);
            REQUIRE(l.bad_drops(8) == 0);
        }
    }
}

TEST_CASE("rt_shutdown_idioms.locks and permits half granted when a shutdown destroys their tasks are left whole") {
    // Readers hold an RwLock while a writer waits (it collects the readers'
    // share) with readers queued behind it; acquire_many waits with part of
    // its permits granted; a mutex is held with waiters.  Whatever order the
    // shutdown destroys them in, nothing stays taken.
    for (int flavour = 0; flavour < 2; ++flavour) {
        for (int round = 0; round < 20; ++round) {
            auto lock = std::make_shared<braid::RwLock<int>>(0);
            auto sem = std::make_shared<braid::Semaphore>(5);
            auto mu = std::make_shared<braid::Mutex<int>>(0);
            {
                auto rt = flavour == 0 ? braid_test::runtime(2) : braid_test::current_thread_runtime();
                rt.block_on([](std::shared_ptr<braid::RwLock<int>> lock, std::shared_ptr<braid::Semaphore> sem,
                               std::shared_ptr<braid::Mutex<int>> mu) -> braid::Task<> {
                    auto [held_tx, held_rx] = braid::mpsc::channel<int>(16);
                    for (int i = 0; i < 2; ++i)
                        braid::spawn([](std::shared_ptr<braid::RwLock<int>> l, std::shared_ptr<braid::Semaphore> s,
                                        std::shared_ptr<braid::Mutex<int>> m,
                                        braid::mpsc::Sender<int> held) -> braid::Task<> {
                            auto r = co_await l->read();
                            auto p = co_await s->acquire_many(2);
                            auto g = m->try_lock();  // one of the two gets it
                            co_await held.send(1);
                            co_await braid_test::pending();
                        }(lock, sem, mu, held_tx)).detach();
                    for (int i = 0; i < 2; ++i) co_await held_rx.recv();
                    // Queued behind the holders.
                    for (int i = 0; i < 2; ++i) {
                        braid::spawn([](std::shared_ptr<braid::RwLock<int>> l) -> braid::Task<> {
                            auto w = co_await l->write();
                            co_await braid_test::pending();
                        }(lock)).detach();
                        braid::spawn([](std::shared_ptr<braid::RwLock<int>> l) -> braid::Task<> {
                            auto r = co_await l->read();
                            co_await braid_test::pending();
                        }(lock)).detach();
                        braid::spawn([](std::shared_ptr<braid::Semaphore> s) -> braid::Task<> {
                            auto p = co_await s->acquire_many(3);  // 1 free: granted in part
                            co_await braid_test::pending();
                        }(sem)).detach();
                        braid::spawn([](std::shared_ptr<braid::Mutex<int>> m) -> braid::Task<> {
                            auto g = co_await m->lock();
                            co_await braid_test::pending();
                        }(mu)).detach();
                    }
                    for (int i = 0; i < 4; ++i) co_await braid::yield_now();
                }(lock, sem, mu));
            }
            INFO("flavour " << flavour << " round " << round);
            REQUIRE(lock->try_write().has_value());
            REQUIRE(sem->available_permits() == 5);
            REQUIRE(mu->try_lock().has_value());
        }
    }
}

}  // namespace test_rt_shutdown_idioms
