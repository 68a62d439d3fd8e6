// The callback form of the waits on shared primitives (locks, semaphores,
// channels, Notify, Barrier, OnceCell, join sets), called the way a C
// program calls them: start the wait with a callback, get an operation
// handle back, abort it or let it complete.  Every test counts what the
// primitive holds afterwards: an aborted wait leaves no lost value, permit,
// lock, notification or turn behind.
#include <catch2/catch.hpp>
#include <braid/braid.h>
#include <braid/unstable/waiter.h>

#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "capi_support.hpp"
#include "support.hpp"

namespace test_capi_wait_callbacks {

using capi_test::Counter;
using capi_test::Rt;

namespace {

// Waits for the operation to end and frees its handle.  The callback runs
// inside the operation's task before the task completes, so after this the
// counter is final.  Returns the task's status (BRAID_ECANCELED if aborted).
int settle(braid_task* t) { return capi_test::join(t); }

// Aborts the operation and waits for it to end: the callback has run once.
void abort_and_settle(braid_task* t) {
    REQUIRE(braid_task_abort(t) == BRAID_OK);
    settle(t);
}

int mutex_try_lock_poll(braid_mutex* m) { return braid_mutex_try_lock(m); }

// A runtime with paused time: its clock jumps only when every worker is
// idle, which quiesce() uses to know that the waits started before it have
// been polled and are queued (pending) in their primitives.
struct PausedRt : capi_test::Rt {
    explicit PausedRt(int workers = 1) : Rt(workers, true) {}
};

// Returns once every worker of the paused runtime went idle: a 1 ms sleep
// completes only through the clock's auto-advance.
void quiesce(braid_runtime* rt) {
    Counter c;
    braid_task* t = nullptr;
    REQUIRE(braid_sleep(&t, rt, 1, &Counter::cb, &c) == BRAID_OK);
    REQUIRE(settle(t) == BRAID_OK);
    REQUIRE(c.last == BRAID_OK);
}

// Holds the runtime's only worker inside a callback until released, so that
// a wait granted meanwhile cannot run its callback: an abort made then is
// sure to come after the grant and before the callback.
struct WorkerGate {
    std::promise<void> entered;
    std::promise<void> release;
    std::shared_future<void> released{release.get_future().share()};
    braid_task* t = nullptr;
    static void cb(void* p, int) {
        auto* g = static_cast<WorkerGate*>(p);
        g->entered.set_value();
        g->released.wait();
    }
    explicit WorkerGate(braid_runtime* rt) {
        REQUIRE(braid_sleep(&t, rt, 0, &WorkerGate::cb, this) == BRAID_OK);
        entered.get_future().wait();
    }
    void open() {
        release.set_value();
        REQUIRE(settle(t) == BRAID_OK);
    }
};

// The deterministic cancel path of every wait: started, polled until it is
// queued (quiesce), granted (`grant`: unlock, release, notify, send ...)
// while the worker is held, aborted, then let go: the callback sees
// BRAID_ECANCELED and `check` verifies that the grant went back.
template <class Start, class Grant, class Check>
void granted_then_aborted(Start start, Grant grant, Check check) {
    PausedRt r(1);
    Counter c;
    braid_task* t = nullptr;
    REQUIRE(start(r.rt, &t, &c) == BRAID_OK);
    quiesce(r.rt);
    REQUIRE(c.calls == 0);  // queued, pending
    WorkerGate gate(r.rt);
    grant();
    REQUIRE(braid_task_abort(t) == BRAID_OK);
    gate.open();
    REQUIRE(settle(t) == BRAID_ECANCELED);
    REQUIRE(c.calls == 1);
    REQUIRE(c.last == BRAID_ECANCELED);
    check();
}

}  // namespace

TEST_CASE("capi_wait_callbacks.C wait callbacks: a wait granted and then aborted gives the grant back") {
    SECTION("mutex: the lock goes on") {
        braid_mutex* m = nullptr;
        REQUIRE(braid_mutex_new(&m) == BRAID_OK);
        REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
        granted_then_aborted(
            [&](braid_runtime* rt, braid_task** t, Counter* c) { return braid_mutex_lock(t, rt, m, &Counter::cb, c); },
            [&] {
                REQUIRE(braid_mutex_unlock(m) == BRAID_OK);   // handed to the queued wait
                REQUIRE(braid_mutex_try_lock(m) == BRAID_EAGAIN);
            },
            [&] {
                REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
                REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
            });
        braid_mutex_free(m);
    }
    SECTION("rwlock: a writer's lock goes back") {
        braid_rwlock* rw = nullptr;
        REQUIRE(braid_rwlock_new(&rw) == BRAID_OK);
        REQUIRE(braid_rwlock_try_read(rw) == BRAID_OK);
        granted_then_aborted(
            [&](braid_runtime* rt, braid_task** t, Counter* c) { return braid_rwlock_write(t, rt, rw, &Counter::cb, c); },
            [&] { REQUIRE(braid_rwlock_read_unlock(rw) == BRAID_OK); },
            [&] {
                REQUIRE(braid_rwlock_try_write(rw) == BRAID_OK);
                REQUIRE(braid_rwlock_write_unlock(rw) == BRAID_OK);
            });
        braid_rwlock_free(rw);
    }
    SECTION("semaphore: the permits go back") {
        braid_semaphore* sem = nullptr;
        REQUIRE(braid_semaphore_new(&sem, 0) == BRAID_OK);
        granted_then_aborted(
            [&](braid_runtime* rt, braid_task** t, Counter* c) {
                return braid_semaphore_acquire(t, rt, sem, 2, &Counter::cb, c);
            },
            [&] {
                REQUIRE(braid_semaphore_release(sem, 2) == BRAID_OK);
                REQUIRE(braid_semaphore_available_permits(sem) == 0);  // handed to the wait
            },
            [&] { REQUIRE(braid_semaphore_available_permits(sem) == 2); });
        braid_semaphore_free(sem);
    }
    SECTION("notify: the notification is passed on") {
        braid_notify* n = nullptr;
        REQUIRE(braid_notify_new(&n) == BRAID_OK);
        granted_then_aborted(
            [&](braid_runtime* rt, braid_task** t, Counter* c) { return braid_notify_notified(t, rt, n, &Counter::cb, c); },
            [&] { braid_notify_notify_one(n); },
            [&] {
                REQUIRE(braid_notify_try_notified(n) == BRAID_OK);
            });
        braid_notify_free(n);
    }
    SECTION("once cell: the turn to initialise is passed on") {
        braid_once_cell* cell = nullptr;
        REQUIRE(braid_once_cell_new(&cell, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
        REQUIRE(braid_once_cell_init_blocking(cell, BRAID_WAIT_FOREVER) == BRAID_ONCE_CELL_INIT);
        granted_then_aborted(
            [&](braid_runtime* rt, braid_task** t, Counter* c) { return braid_once_cell_init(t, rt, cell, &Counter::cb, c); },
            [&] { REQUIRE(braid_once_cell_abort_init(cell) == BRAID_OK); },
            [&] {
                // 10 s bounds a failure only: a lost turn would wait forever.
                REQUIRE(braid_once_cell_init_blocking(cell, 10000) == BRAID_ONCE_CELL_INIT);
                REQUIRE(braid_once_cell_abort_init(cell) == BRAID_OK);
            });
        braid_once_cell_free(cell);
    }
    SECTION("barrier: an aborted arrival does not count") {
        braid_barrier* b = nullptr;
        REQUIRE(braid_barrier_new(&b, 2) == BRAID_OK);
        granted_then_aborted(
            [&](braid_runtime* rt, braid_task** t, Counter* c) { return braid_barrier_wait(t, rt, b, &Counter::cb, c); },
            [] {},
            [&] {
                braid_waiter* w = nullptr;
                // A NULL waker withdraws: it does not arrive, nothing is queued.
                REQUIRE(braid_barrier_poll_wait(b, &w, nullptr, nullptr) == BRAID_PENDING);
                REQUIRE(w == nullptr);
            });
        braid_barrier_free(b);
    }
    SECTION("mpsc send: the room goes to the next sender, the value stays the caller's") {
        braid_mpsc_tx* tx = nullptr;
        braid_mpsc_rx* rx = nullptr;
        REQUIRE(braid_mpsc_new(&tx, &rx, 1, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
        int v = 1, w = 2, got = 0;
        REQUIRE(braid_mpsc_try_send(tx, &v, sizeof v) == BRAID_OK);
        granted_then_aborted(
            [&](braid_runtime* rt, braid_task** t, Counter* c) {
                return braid_mpsc_send(t, rt, tx, &w, sizeof w, &Counter::cb, c);
            },
            [&] { REQUIRE(braid_mpsc_try_recv(rx, &got, sizeof got) == BRAID_OK); },
            [&] {
                REQUIRE(braid_mpsc_try_recv(rx, &got, sizeof got) == BRAID_EAGAIN);  // w was not sent
                REQUIRE(braid_mpsc_tx_capacity(tx) == 1);
                int x = 3;
                REQUIRE(braid_mpsc_try_send(tx, &x, sizeof x) == BRAID_OK);
            });
        REQUIRE(w == 2);
        braid_mpsc_tx_free(tx);
        braid_mpsc_rx_free(rx);
    }
    SECTION("mpsc recv: the value waits for the next receiver") {
        braid_mpsc_tx* tx = nullptr;
        braid_mpsc_rx* rx = nullptr;
        REQUIRE(braid_mpsc_new(&tx, &rx, 1, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
        int buf = -1, v = 5, got = 0;
        granted_then_aborted(
            [&](braid_runtime* rt, braid_task** t, Counter* c) {
                return braid_mpsc_recv(t, rt, rx, &buf, sizeof buf, &Counter::cb, c);
            },
            [&] { REQUIRE(braid_mpsc_try_send(tx, &v, sizeof v) == BRAID_OK); },
            [&] {
                REQUIRE(braid_mpsc_try_recv(rx, &got, sizeof got) == BRAID_OK);
                REQUIRE(got == 5);
            });
        REQUIRE(buf == -1);
        braid_mpsc_tx_free(tx);
        braid_mpsc_rx_free(rx);
    }
    SECTION("broadcast recv: the value waits for the next receive") {
        braid_broadcast_tx* tx = nullptr;
        braid_broadcast_rx* rx = nullptr;
        REQUIRE(braid_broadcast_new(&tx, 4, sizeof(int), alignof(int), nullptr, nullptr, nullptr) == BRAID_OK);
        REQUIRE(braid_broadcast_subscribe(&rx, tx) == BRAID_OK);
        int buf = -1, v = 6, got = 0;
        granted_then_aborted(
            [&](braid_runtime* rt, braid_task** t, Counter* c) {
                return braid_broadcast_recv(t, rt, rx, &buf, sizeof buf, nullptr, &Counter::cb, c);
            },
            [&] { REQUIRE(braid_broadcast_send(tx, &v, sizeof v, nullptr) == BRAID_OK); },
            [&] {
                REQUIRE(braid_broadcast_try_recv(rx, &got, sizeof got, nullptr) == BRAID_OK);
                REQUIRE(got == 6);
            });
        braid_broadcast_rx_free(rx);
        braid_broadcast_tx_free(tx);
    }
    SECTION("watch changed: the version stays unseen") {
        braid_watch_tx* tx = nullptr;
        braid_watch_rx* rx = nullptr;
        int v = 0;
        REQUIRE(braid_watch_new(&tx, &rx, &v, sizeof v, alignof(int), nullptr, nullptr) == BRAID_OK);
        granted_then_aborted(
            [&](braid_runtime* rt, braid_task** t, Counter* c) { return braid_watch_rx_changed(t, rt, rx, &Counter::cb, c); },
            [&] {
                v = 1;
                REQUIRE(braid_watch_send(tx, &v, sizeof v) == BRAID_OK);
            },
            [&] { REQUIRE(braid_watch_rx_has_changed(rx) == 1); });
        braid_watch_rx_free(rx);
        braid_watch_tx_free(tx);
    }
    SECTION("oneshot recv: the value stays in the channel") {
        braid_oneshot_tx* tx = nullptr;
        braid_oneshot_rx* rx = nullptr;
        REQUIRE(braid_oneshot_new(&tx, &rx, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
        int buf = -1, v = 8, got = 0;
        granted_then_aborted(
            [&](braid_runtime* rt, braid_task** t, Counter* c) {
                return braid_oneshot_recv(t, rt, rx, &buf, sizeof buf, &Counter::cb, c);
            },
            [&] { REQUIRE(braid_oneshot_send(tx, &v, sizeof v) == BRAID_OK); },
            [&] {
                REQUIRE(braid_oneshot_try_recv(rx, &got, sizeof got) == BRAID_OK);
                REQUIRE(got == 8);
            });
        REQUIRE(buf == -1);
        braid_oneshot_rx_free(rx);
    }
}

// ---- locks ------------------------------------------------------------------------

TEST_CASE("capi_wait_callbacks.C wait callbacks: braid_mutex_lock hands the lock to the callback") {
    Rt r;
    braid_mutex* m = nullptr;
    REQUIRE(braid_mutex_new(&m) == BRAID_OK);
    Counter c;
    braid_task* t = nullptr;
    REQUIRE(braid_mutex_lock(&t, r.rt, m, &Counter::cb, &c) == BRAID_OK);
    REQUIRE(settle(t) == BRAID_OK);
    REQUIRE(c.calls == 1);
    REQUIRE(c.last == BRAID_OK);
    REQUIRE(c.on_worker);
    REQUIRE(mutex_try_lock_poll(m) == BRAID_EAGAIN);  // the callback holds it now
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);

    // Held by this thread: the wait completes when it is unlocked.
    REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
    Counter c2;
    REQUIRE(braid_mutex_lock(&t, r.rt, m, &Counter::cb, &c2) == BRAID_OK);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    REQUIRE(settle(t) == BRAID_OK);
    REQUIRE(c2.calls == 1);
    REQUIRE(c2.last == BRAID_OK);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    braid_mutex_free(m);
}

TEST_CASE("capi_wait_callbacks.C wait callbacks: an aborted braid_mutex_lock never keeps the lock") {
    Rt r;
    braid_mutex* m = nullptr;
    REQUIRE(braid_mutex_new(&m) == BRAID_OK);
    // Pending behind this thread's lock, then aborted.
    REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
    Counter c;
    braid_task* t = nullptr;
    REQUIRE(braid_mutex_lock(&t, r.rt, m, &Counter::cb, &c) == BRAID_OK);
    abort_and_settle(t);
    REQUIRE(c.calls == 1);
    REQUIRE(c.last == BRAID_ECANCELED);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);

    // Unlock and abort race: the lock is either the callback's (BRAID_OK) or
    // nobody's; it is never lost to a cancelled wait.
    int got = 0;
    for (int i = 0; i < 2000 / braid_test::kStressDivisor; ++i) {
        REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
        Counter ci;
        REQUIRE(braid_mutex_lock(&t, r.rt, m, &Counter::cb, &ci) == BRAID_OK);
        REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
        REQUIRE(braid_task_abort(t) == BRAID_OK);
        settle(t);
        REQUIRE(ci.calls == 1);
        if (ci.last == BRAID_OK) {
            ++got;
            REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
        } else {
            REQUIRE(ci.last == BRAID_ECANCELED);
        }
        REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
        REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    }
    INFO("waits that won the race: " << got);
    braid_mutex_free(m);
}

TEST_CASE("capi_wait_callbacks.C wait callbacks: braid_rwlock_read / _write, and an aborted writer gives its share back") {
    Rt r;
    braid_rwlock* rw = nullptr;
    REQUIRE(braid_rwlock_new(&rw) == BRAID_OK);
    Counter r1, r2, w1;
    braid_task *t1 = nullptr, *t2 = nullptr, *tw = nullptr;
    REQUIRE(braid_rwlock_read(&t1, r.rt, rw, &Counter::cb, &r1) == BRAID_OK);
    REQUIRE(braid_rwlock_read(&t2, r.rt, rw, &Counter::cb, &r2) == BRAID_OK);
    REQUIRE(settle(t1) == BRAID_OK);
    REQUIRE(settle(t2) == BRAID_OK);
    REQUIRE(r1.last == BRAID_OK);
    REQUIRE(r2.last == BRAID_OK);  // two readers at once
    REQUIRE(braid_rwlock_try_write(rw) == BRAID_EAGAIN);

    // A writer waits for the readers; aborted, it takes nothing with it
    // (also the readers' permits it may have collected while it waited).
    REQUIRE(braid_rwlock_write(&tw, r.rt, rw, &Counter::cb, &w1) == BRAID_OK);
    REQUIRE(braid_rwlock_read_unlock(rw) == BRAID_OK);
    abort_and_settle(tw);
    REQUIRE(w1.calls == 1);
    REQUIRE(w1.last == BRAID_ECANCELED);  // one reader still holds it: it could not complete
    REQUIRE(braid_rwlock_read_unlock(rw) == BRAID_OK);
    REQUIRE(braid_rwlock_try_write(rw) == BRAID_OK);

    // Write lock through the callback form.
    Counter w2;
    REQUIRE(braid_rwlock_write(&tw, r.rt, rw, &Counter::cb, &w2) == BRAID_OK);
    REQUIRE(braid_rwlock_write_unlock(rw) == BRAID_OK);
    REQUIRE(settle(tw) == BRAID_OK);
    REQUIRE(w2.last == BRAID_OK);
    REQUIRE(braid_rwlock_try_read(rw) == BRAID_EAGAIN);
    REQUIRE(braid_rwlock_write_unlock(rw) == BRAID_OK);
    REQUIRE(braid_rwlock_try_write(rw) == BRAID_OK);
    REQUIRE(braid_rwlock_write_unlock(rw) == BRAID_OK);
    braid_rwlock_free(rw);
}

TEST_CASE("capi_wait_callbacks.C wait callbacks: braid_semaphore_acquire, an aborted acquire gives granted permits back") {
    Rt r;
    braid_semaphore* sem = nullptr;
    REQUIRE(braid_semaphore_new(&sem, 1) == BRAID_OK);
    Counter c;
    braid_task* t = nullptr;
    REQUIRE(braid_semaphore_acquire(&t, r.rt, sem, 1, &Counter::cb, &c) == BRAID_OK);
    REQUIRE(settle(t) == BRAID_OK);
    REQUIRE(c.last == BRAID_OK);
    REQUIRE(braid_semaphore_available_permits(sem) == 0);
    REQUIRE(braid_semaphore_release(sem, 1) == BRAID_OK);

    // Acquire 2 with 1 free: the wait queues and is granted the free one (it
    // leaves the semaphore: 0 available).  Aborted, it gives it back.
    Counter c2;
    REQUIRE(braid_semaphore_acquire(&t, r.rt, sem, 2, &Counter::cb, &c2) == BRAID_OK);
    while (braid_semaphore_available_permits(sem) != 0) std::this_thread::yield();
    abort_and_settle(t);
    REQUIRE(c2.calls == 1);
    REQUIRE(c2.last == BRAID_ECANCELED);
    REQUIRE(braid_semaphore_available_permits(sem) == 1);

    // Release and abort race: permits are conserved whoever wins.
    REQUIRE(braid_semaphore_try_acquire(sem, 1) == BRAID_OK);
    for (int i = 0; i < 2000 / braid_test::kStressDivisor; ++i) {
        Counter ci;
        REQUIRE(braid_semaphore_acquire(&t, r.rt, sem, 3, &Counter::cb, &ci) == BRAID_OK);
        std::thread rel([&] { EXPECT_ANYWHERE(braid_semaphore_release(sem, 3) == BRAID_OK); });
        REQUIRE(braid_task_abort(t) == BRAID_OK);
        rel.join();
        settle(t);
        REQUIRE(ci.calls == 1);
        if (ci.last == BRAID_OK) {
            REQUIRE(braid_semaphore_available_permits(sem) == 0);
        } else {
            REQUIRE(ci.last == BRAID_ECANCELED);
            REQUIRE(braid_semaphore_available_permits(sem) == 3);
            REQUIRE(braid_semaphore_try_acquire(sem, 3) == BRAID_OK);
        }
    }
    REQUIRE(braid_semaphore_release(sem, 1) == BRAID_OK);
    REQUIRE(braid_semaphore_available_permits(sem) == 1);

    // Closed: the wait ends with BRAID_ECLOSED.
    Counter c3;
    REQUIRE(braid_semaphore_acquire(&t, r.rt, sem, 2, &Counter::cb, &c3) == BRAID_OK);
    braid_semaphore_close(sem);
    settle(t);
    REQUIRE(c3.last == BRAID_ECLOSED);
    braid_semaphore_free(sem);
}

// ---- Notify, Barrier, OnceCell ---------------------------------------------------

TEST_CASE("capi_wait_callbacks.C wait callbacks: braid_notify_notified, an aborted wait passes the notification on") {
    Rt r;
    braid_notify* n = nullptr;
    REQUIRE(braid_notify_new(&n) == BRAID_OK);
    Counter c;
    braid_task* t = nullptr;
    REQUIRE(braid_notify_notified(&t, r.rt, n, &Counter::cb, &c) == BRAID_OK);
    braid_notify_notify_one(n);
    REQUIRE(settle(t) == BRAID_OK);
    REQUIRE(c.last == BRAID_OK);

    // notify_one and abort race: the notification is either the callback's
    // or still there for the next waiter (here: a try).
    for (int i = 0; i < 2000 / braid_test::kStressDivisor; ++i) {
        Counter ci;
        REQUIRE(braid_notify_notified(&t, r.rt, n, &Counter::cb, &ci) == BRAID_OK);
        braid_notify_notify_one(n);
        REQUIRE(braid_task_abort(t) == BRAID_OK);
        settle(t);
        REQUIRE(ci.calls == 1);
        int next = braid_notify_try_notified(n);
        if (ci.last == BRAID_OK) {
            REQUIRE(next == BRAID_EAGAIN);  // consumed by the callback
        } else {
            REQUIRE(ci.last == BRAID_ECANCELED);
            REQUIRE(next == BRAID_OK);  // passed on
        }
    }
    braid_notify_free(n);
}

TEST_CASE("capi_wait_callbacks.C wait callbacks: braid_barrier_wait reports the leader, an aborted arrival does not count") {
    Rt r;
    braid_barrier* b = nullptr;
    REQUIRE(braid_barrier_new(&b, 2) == BRAID_OK);
    Counter a, c;
    braid_task *ta = nullptr, *tc = nullptr;
    // Arrives, then is aborted: the round still needs two.
    REQUIRE(braid_barrier_wait(&ta, r.rt, b, &Counter::cb, &a) == BRAID_OK);
    abort_and_settle(ta);
    REQUIRE(a.last == BRAID_ECANCELED);
    REQUIRE(braid_barrier_wait(&tc, r.rt, b, &Counter::cb, &c) == BRAID_OK);
    int mine = braid_barrier_wait_blocking(b, BRAID_WAIT_FOREVER);  // the second of two
    REQUIRE(settle(tc) == BRAID_OK);
    REQUIRE(c.calls == 1);
    REQUIRE((mine == BRAID_BARRIER_LEADER) != (c.last == BRAID_BARRIER_LEADER));
    REQUIRE((mine == BRAID_OK || c.last == BRAID_OK));
    braid_barrier_free(b);
}

namespace {
struct CellInit {
    braid_once_cell* cell;
    int value;
    Counter c;
    static void cb(void* p, int status) {
        auto* s = static_cast<CellInit*>(p);
        if (status == BRAID_ONCE_CELL_INIT) {
            int v = s->value;
            EXPECT_ANYWHERE(braid_once_cell_complete_init(s->cell, &v, sizeof v) == BRAID_OK);
        }
        Counter::cb(&s->c, status);
    }
};
int cell_value(braid_once_cell* cell) {
    void* p = nullptr;
    if (braid_once_cell_get(cell, &p) != BRAID_OK) return -1;
    return *static_cast<int*>(p);
}
}  // namespace

TEST_CASE("capi_wait_callbacks.C wait callbacks: braid_once_cell_init gives the turn to one callback, an aborted wait passes it on") {
    Rt r;
    braid_once_cell* cell = nullptr;
    REQUIRE(braid_once_cell_new(&cell, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    CellInit first{cell, 42, {}};
    CellInit second{cell, 43, {}};
    braid_task *t1 = nullptr, *t2 = nullptr;
    REQUIRE(braid_once_cell_init(&t1, r.rt, cell, &CellInit::cb, &first) == BRAID_OK);
    REQUIRE(settle(t1) == BRAID_OK);
    REQUIRE(braid_once_cell_init(&t2, r.rt, cell, &CellInit::cb, &second) == BRAID_OK);
    REQUIRE(settle(t2) == BRAID_OK);
    REQUIRE(first.c.last == BRAID_ONCE_CELL_INIT);
    REQUIRE(second.c.last == BRAID_OK);
    REQUIRE(cell_value(cell) == 42);
    braid_once_cell_free(cell);

    // This thread has the turn, a callback waits; the turn is given up and
    // the wait aborted in a race: the turn goes to the callback or stays
    // available, never lost.
    for (int i = 0; i < 500 / braid_test::kStressDivisor; ++i) {
        REQUIRE(braid_once_cell_new(&cell, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
        REQUIRE(braid_once_cell_init_blocking(cell, BRAID_WAIT_FOREVER) == BRAID_ONCE_CELL_INIT);
        CellInit w{cell, 7, {}};
        REQUIRE(braid_once_cell_init(&t1, r.rt, cell, &CellInit::cb, &w) == BRAID_OK);
        REQUIRE(braid_once_cell_abort_init(cell) == BRAID_OK);
        REQUIRE(braid_task_abort(t1) == BRAID_OK);
        settle(t1);
        REQUIRE(w.c.calls == 1);
        if (w.c.last == BRAID_ONCE_CELL_INIT) {
            REQUIRE(cell_value(cell) == 7);
        } else {
            REQUIRE(w.c.last == BRAID_ECANCELED);
            // 10 s bounds a failure only: a lost turn would wait forever.
            REQUIRE(braid_once_cell_init_blocking(cell, 10000) == BRAID_ONCE_CELL_INIT);
            REQUIRE(braid_once_cell_abort_init(cell) == BRAID_OK);
        }
        braid_once_cell_free(cell);
    }
}

// ---- channels ----------------------------------------------------------------------

TEST_CASE("capi_wait_callbacks.C wait callbacks: braid_mpsc_recv copies into the caller's buffer, aborted, it takes nothing") {
    Rt r;
    braid_mpsc_tx* tx = nullptr;
    braid_mpsc_rx* rx = nullptr;
    REQUIRE(braid_mpsc_new(&tx, &rx, 4, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    int buf = 0;
    Counter c;
    braid_task* t = nullptr;
    REQUIRE(braid_mpsc_recv(&t, r.rt, rx, &buf, sizeof buf, &Counter::cb, &c) == BRAID_OK);
    int v = 11;
    REQUIRE(braid_mpsc_try_send(tx, &v, sizeof v) == BRAID_OK);
    REQUIRE(settle(t) == BRAID_OK);
    REQUIRE(c.last == BRAID_OK);
    REQUIRE(buf == 11);

    // Pending on an empty channel, aborted: the next value goes to the next
    // receiver.
    Counter c2;
    REQUIRE(braid_mpsc_recv(&t, r.rt, rx, &buf, sizeof buf, &Counter::cb, &c2) == BRAID_OK);
    abort_and_settle(t);
    REQUIRE(c2.last == BRAID_ECANCELED);
    v = 12;
    REQUIRE(braid_mpsc_try_send(tx, &v, sizeof v) == BRAID_OK);
    int got = 0;
    REQUIRE(braid_mpsc_try_recv(rx, &got, sizeof got) == BRAID_OK);
    REQUIRE(got == 12);

    // Send and abort race: every value is received exactly once, by the
    // callback or by the next receiver.
    int received = 0;
    for (int i = 0; i < 2000 / braid_test::kStressDivisor; ++i) {
        Counter ci;
        buf = -1;
        REQUIRE(braid_mpsc_recv(&t, r.rt, rx, &buf, sizeof buf, &Counter::cb, &ci) == BRAID_OK);
        v = i;
        REQUIRE(braid_mpsc_try_send(tx, &v, sizeof v) == BRAID_OK);
        REQUIRE(braid_task_abort(t) == BRAID_OK);
        settle(t);
        REQUIRE(ci.calls == 1);
        if (ci.last == BRAID_OK) {
            REQUIRE(buf == i);
        } else {
            REQUIRE(ci.last == BRAID_ECANCELED);
            REQUIRE(braid_mpsc_try_recv(rx, &got, sizeof got) == BRAID_OK);
            REQUIRE(got == i);
        }
        ++received;
        REQUIRE(braid_mpsc_try_recv(rx, &got, sizeof got) == BRAID_EAGAIN);
    }
    REQUIRE(received == 2000 / braid_test::kStressDivisor);

    // Every sender gone: BRAID_ECLOSED.
    Counter c3;
    REQUIRE(braid_mpsc_recv(&t, r.rt, rx, &buf, sizeof buf, &Counter::cb, &c3) == BRAID_OK);
    braid_mpsc_tx_free(tx);
    settle(t);
    REQUIRE(c3.last == BRAID_ECLOSED);
    braid_mpsc_rx_free(rx);
}

TEST_CASE("capi_wait_callbacks.C wait callbacks: braid_mpsc_send moves the value in on success and leaves it otherwise") {
    Rt r;
    braid_mpsc_tx* tx = nullptr;
    braid_mpsc_rx* rx = nullptr;
    REQUIRE(braid_mpsc_new(&tx, &rx, 1, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    int v = 1;
    Counter c;
    braid_task* t = nullptr;
    REQUIRE(braid_mpsc_send(&t, r.rt, tx, &v, sizeof v, &Counter::cb, &c) == BRAID_OK);
    REQUIRE(settle(t) == BRAID_OK);
    REQUIRE(c.last == BRAID_OK);

    // Full: the send waits; aborted, the value was not sent and the room is
    // not lost.
    int v2 = 2;
    Counter c2;
    REQUIRE(braid_mpsc_send(&t, r.rt, tx, &v2, sizeof v2, &Counter::cb, &c2) == BRAID_OK);
    abort_and_settle(t);
    REQUIRE(c2.last == BRAID_ECANCELED);
    int got = 0;
    REQUIRE(braid_mpsc_try_recv(rx, &got, sizeof got) == BRAID_OK);
    REQUIRE(got == 1);
    REQUIRE(braid_mpsc_try_recv(rx, &got, sizeof got) == BRAID_EAGAIN);
    REQUIRE(braid_mpsc_tx_capacity(tx) == 1);

    // A receive frees the room while the send is aborted: the value is in
    // the channel exactly when the callback said BRAID_OK.
    int in_channel = 0;
    for (int i = 0; i < 2000 / braid_test::kStressDivisor; ++i) {
        int filler = -1;
        REQUIRE(braid_mpsc_try_send(tx, &filler, sizeof filler) == BRAID_OK);
        int value = i;
        Counter ci;
        REQUIRE(braid_mpsc_send(&t, r.rt, tx, &value, sizeof value, &Counter::cb, &ci) == BRAID_OK);
        REQUIRE(braid_mpsc_try_recv(rx, &got, sizeof got) == BRAID_OK);
        REQUIRE(got == -1);
        REQUIRE(braid_task_abort(t) == BRAID_OK);
        settle(t);
        REQUIRE(ci.calls == 1);
        if (ci.last == BRAID_OK) {
            ++in_channel;
            REQUIRE(braid_mpsc_try_recv(rx, &got, sizeof got) == BRAID_OK);
            REQUIRE(got == i);
        } else {
            REQUIRE(ci.last == BRAID_ECANCELED);
            REQUIRE(braid_mpsc_try_recv(rx, &got, sizeof got) == BRAID_EAGAIN);
        }
        REQUIRE(braid_mpsc_tx_capacity(tx) == 1);
    }
    INFO("sends that won the race: " << in_channel);

    // Receiver gone: BRAID_ECLOSED, the value stays the caller's.
    REQUIRE(braid_mpsc_try_send(tx, &v, sizeof v) == BRAID_OK);
    Counter c3;
    REQUIRE(braid_mpsc_send(&t, r.rt, tx, &v2, sizeof v2, &Counter::cb, &c3) == BRAID_OK);
    braid_mpsc_rx_free(rx);
    settle(t);
    REQUIRE(c3.last == BRAID_ECLOSED);
    REQUIRE(v2 == 2);
    braid_mpsc_tx_free(tx);
}

TEST_CASE("capi_wait_callbacks.C wait callbacks: braid_broadcast_recv reports lag, values, and takes nothing when aborted") {
    Rt r;
    braid_broadcast_tx* tx = nullptr;
    REQUIRE(braid_broadcast_new(&tx, 2, sizeof(int), alignof(int), nullptr, nullptr, nullptr) == BRAID_OK);
    braid_broadcast_rx* rx = nullptr;
    REQUIRE(braid_broadcast_subscribe(&rx, tx) == BRAID_OK);
    for (int i = 1; i <= 3; ++i) REQUIRE(braid_broadcast_send(tx, &i, sizeof i, nullptr) == BRAID_OK);
    int buf = 0;
    uint64_t lagged = 0;
    Counter c;
    braid_task* t = nullptr;
    REQUIRE(braid_broadcast_recv(&t, r.rt, rx, &buf, sizeof buf, &lagged, &Counter::cb, &c) == BRAID_OK);
    settle(t);
    REQUIRE(c.last == BRAID_BROADCAST_LAGGED);
    REQUIRE(lagged == 1);
    for (int want = 2; want <= 3; ++want) {
        Counter ci;
        REQUIRE(braid_broadcast_recv(&t, r.rt, rx, &buf, sizeof buf, nullptr, &Counter::cb, &ci) == BRAID_OK);
        settle(t);
        REQUIRE(ci.last == BRAID_OK);
        REQUIRE(buf == want);
    }
    Counter c2;
    REQUIRE(braid_broadcast_recv(&t, r.rt, rx, &buf, sizeof buf, &lagged, &Counter::cb, &c2) == BRAID_OK);
    abort_and_settle(t);
    REQUIRE(c2.last == BRAID_ECANCELED);
    int v = 4;
    REQUIRE(braid_broadcast_send(tx, &v, sizeof v, nullptr) == BRAID_OK);
    REQUIRE(braid_broadcast_try_recv(rx, &buf, sizeof buf, nullptr) == BRAID_OK);
    REQUIRE(buf == 4);

    Counter c3;
    REQUIRE(braid_broadcast_recv(&t, r.rt, rx, &buf, sizeof buf, nullptr, &Counter::cb, &c3) == BRAID_OK);
    braid_broadcast_tx_free(tx);
    settle(t);
    REQUIRE(c3.last == BRAID_ECLOSED);
    braid_broadcast_rx_free(rx);
}

TEST_CASE("capi_wait_callbacks.C wait callbacks: braid_watch_rx_changed marks the version seen only when it completes") {
    Rt r;
    braid_watch_tx* tx = nullptr;
    braid_watch_rx* rx = nullptr;
    int v = 0;
    REQUIRE(braid_watch_new(&tx, &rx, &v, sizeof v, alignof(int), nullptr, nullptr) == BRAID_OK);
    Counter c;
    braid_task* t = nullptr;
    REQUIRE(braid_watch_rx_changed(&t, r.rt, rx, &Counter::cb, &c) == BRAID_OK);
    abort_and_settle(t);
    REQUIRE(c.last == BRAID_ECANCELED);
    v = 5;
    REQUIRE(braid_watch_send(tx, &v, sizeof v) == BRAID_OK);
    REQUIRE(braid_watch_rx_has_changed(rx) == 1);  // still unseen

    Counter c2;
    REQUIRE(braid_watch_rx_changed(&t, r.rt, rx, &Counter::cb, &c2) == BRAID_OK);
    settle(t);
    REQUIRE(c2.last == BRAID_OK);
    REQUIRE(braid_watch_rx_has_changed(rx) == 0);
    const void* p = nullptr;
    REQUIRE(braid_watch_rx_borrow(rx, 0, &p, nullptr) == BRAID_OK);
    REQUIRE(*static_cast<const int*>(p) == 5);
    REQUIRE(braid_watch_rx_borrow_end(rx) == BRAID_OK);

    Counter c3;
    REQUIRE(braid_watch_rx_changed(&t, r.rt, rx, &Counter::cb, &c3) == BRAID_OK);
    braid_watch_tx_free(tx);
    settle(t);
    REQUIRE(c3.last == BRAID_ECLOSED);
    braid_watch_rx_free(rx);
}

TEST_CASE("capi_wait_callbacks.C wait callbacks: braid_oneshot_recv, aborted, the value stays for the next receive") {
    Rt r;
    braid_oneshot_tx* tx = nullptr;
    braid_oneshot_rx* rx = nullptr;
    REQUIRE(braid_oneshot_new(&tx, &rx, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    int buf = 0;
    Counter c;
    braid_task* t = nullptr;
    REQUIRE(braid_oneshot_recv(&t, r.rt, rx, &buf, sizeof buf, &Counter::cb, &c) == BRAID_OK);
    abort_and_settle(t);
    REQUIRE(c.last == BRAID_ECANCELED);
    int v = 9;
    REQUIRE(braid_oneshot_send(tx, &v, sizeof v) == BRAID_OK);
    Counter c2;
    REQUIRE(braid_oneshot_recv(&t, r.rt, rx, &buf, sizeof buf, &Counter::cb, &c2) == BRAID_OK);
    settle(t);
    REQUIRE(c2.last == BRAID_OK);
    REQUIRE(buf == 9);
    braid_oneshot_rx_free(rx);

    REQUIRE(braid_oneshot_new(&tx, &rx, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    Counter c3;
    REQUIRE(braid_oneshot_recv(&t, r.rt, rx, &buf, sizeof buf, &Counter::cb, &c3) == BRAID_OK);
    braid_oneshot_tx_free(tx);
    settle(t);
    REQUIRE(c3.last == BRAID_ECLOSED);
    braid_oneshot_rx_free(rx);
}

// ---- join sets ----------------------------------------------------------------------

TEST_CASE("capi_wait_callbacks.C wait callbacks: braid_join_set_next, aborted, the finished task stays in the set") {
    Rt r;
    braid_join_set* set = nullptr;
    REQUIRE(braid_join_set_new(&set) == BRAID_OK);
    // The task in the set: a lock wait, pending while this thread holds the lock.
    braid_mutex* m = nullptr;
    REQUIRE(braid_mutex_new(&m) == BRAID_OK);
    REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
    Counter lock_cb;
    braid_task* member = nullptr;
    REQUIRE(braid_mutex_lock(&member, r.rt, m, &Counter::cb, &lock_cb) == BRAID_OK);
    int tag = 0;
    REQUIRE(braid_join_set_add(set, member, &tag) == BRAID_OK);

    braid_task* got = nullptr;
    void* got_ud = nullptr;
    Counter c;
    braid_task* t = nullptr;
    REQUIRE(braid_join_set_next(&t, r.rt, set, &got, &got_ud, &Counter::cb, &c) == BRAID_OK);
    abort_and_settle(t);
    REQUIRE(c.last == BRAID_ECANCELED);
    REQUIRE(braid_join_set_len(set) == 1);

    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);  // the member completes (and holds the lock)
    Counter c2;
    REQUIRE(braid_join_set_next(&t, r.rt, set, &got, &got_ud, &Counter::cb, &c2) == BRAID_OK);
    settle(t);
    REQUIRE(c2.last == BRAID_OK);
    REQUIRE(got == member);
    REQUIRE(got_ud == &tag);
    REQUIRE(braid_task_try_join(got) == BRAID_OK);
    braid_task_free(got);
    REQUIRE(lock_cb.last == BRAID_OK);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);

    Counter c3;
    REQUIRE(braid_join_set_next(&t, r.rt, set, &got, nullptr, &Counter::cb, &c3) == BRAID_OK);
    settle(t);
    REQUIRE(c3.last == BRAID_ECLOSED);
    braid_join_set_free(set);
    braid_mutex_free(m);
}

// ---- shutdown -----------------------------------------------------------------------

TEST_CASE("capi_wait_callbacks.C wait callbacks: a shutdown completes pending waits with BRAID_ECANCELED and takes nothing") {
    Rt r;
    braid_mutex* m = nullptr;
    braid_semaphore* sem = nullptr;
    braid_notify* n = nullptr;
    braid_mpsc_tx* tx = nullptr;
    braid_mpsc_rx* rx = nullptr;
    REQUIRE(braid_mutex_new(&m) == BRAID_OK);
    REQUIRE(braid_semaphore_new(&sem, 1) == BRAID_OK);
    REQUIRE(braid_notify_new(&n) == BRAID_OK);
    REQUIRE(braid_mpsc_new(&tx, &rx, 1, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
    Counter lock, acq, note, recv;
    int buf = 0;
    REQUIRE(braid_mutex_lock(nullptr, r.rt, m, &Counter::cb, &lock) == BRAID_OK);
    REQUIRE(braid_semaphore_acquire(nullptr, r.rt, sem, 2, &Counter::cb, &acq) == BRAID_OK);
    REQUIRE(braid_notify_notified(nullptr, r.rt, n, &Counter::cb, &note) == BRAID_OK);
    REQUIRE(braid_mpsc_recv(nullptr, r.rt, rx, &buf, sizeof buf, &Counter::cb, &recv) == BRAID_OK);
    r.free();
    for (Counter* c : {&lock, &acq, &note, &recv}) {
        REQUIRE(c->calls == 1);
        REQUIRE(c->last == BRAID_ECANCELED);
    }
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    REQUIRE(braid_semaphore_available_permits(sem) == 1);
    braid_notify_notify_one(n);
    REQUIRE(braid_notify_try_notified(n) == BRAID_OK);
    int v = 3;
    REQUIRE(braid_mpsc_try_send(tx, &v, sizeof v) == BRAID_OK);
    REQUIRE(braid_mpsc_try_recv(rx, &buf, sizeof buf) == BRAID_OK);
    REQUIRE(buf == 3);

    // A refused wait on a runtime that shut down never calls back.
    braid_runtime* dead = nullptr;
    {
        braid_runtime_builder* b = nullptr;
        REQUIRE(braid_runtime_builder_new(&b) == BRAID_OK);
        REQUIRE(braid_runtime_build(&dead, b) == BRAID_OK);
        braid_runtime_builder_free(b);
    }
    REQUIRE(braid_runtime_shutdown(dead, 0) == BRAID_OK);
    Counter refused;
    braid_task* t = reinterpret_cast<braid_task*>(&v);
    REQUIRE(braid_mutex_lock(&t, dead, m, &Counter::cb, &refused) == BRAID_ESHUTDOWN);
    REQUIRE(t == nullptr);
    REQUIRE(braid_runtime_free(dead) == BRAID_OK);
    REQUIRE(refused.calls == 0);

    braid_mpsc_tx_free(tx);
    braid_mpsc_rx_free(rx);
    braid_notify_free(n);
    braid_semaphore_free(sem);
    braid_mutex_free(m);
}

// ---- stress: plain threads against callback waiters ---------------------------------

namespace {
// A receiver that starts its next receive from its callback until the
// channel closes, counting every value it gets.
struct Receiver {
    braid_runtime* rt;
    braid_mpsc_rx* rx;
    int buf = 0;
    std::vector<std::atomic<int>>* seen;
    std::promise<void> done;
    static void cb(void* p, int status) {
        auto* s = static_cast<Receiver*>(p);
        if (status == BRAID_OK) {
            EXPECT_ANYWHERE(s->buf >= 0 && size_t(s->buf) < s->seen->size());
            if (s->buf >= 0 && size_t(s->buf) < s->seen->size()) (*s->seen)[size_t(s->buf)].fetch_add(1);
            int rc = braid_mpsc_recv(nullptr, s->rt, s->rx, &s->buf, sizeof s->buf, &Receiver::cb, s);
            EXPECT_ANYWHERE(rc == BRAID_OK);
            if (rc != BRAID_OK) s->done.set_value();
            return;
        }
        EXPECT_ANYWHERE(status == BRAID_ECLOSED);
        s->done.set_value();
    }
};

// A callback locker: takes the mutex `rounds` times, each time from the
// previous round's callback, incrementing a counter the mutex guards.
struct Locker {
    braid_runtime* rt;
    braid_mutex* m;
    long* guarded;
    int rounds;
    std::promise<void> done;
    static void cb(void* p, int status) {
        auto* s = static_cast<Locker*>(p);
        EXPECT_ANYWHERE(status == BRAID_OK);
        if (status != BRAID_OK) {
            s->done.set_value();
            return;
        }
        ++*s->guarded;
        EXPECT_ANYWHERE(braid_mutex_unlock(s->m) == BRAID_OK);
        if (--s->rounds == 0) {
            s->done.set_value();
            return;
        }
        int rc = braid_mutex_lock(nullptr, s->rt, s->m, &Locker::cb, s);
        EXPECT_ANYWHERE(rc == BRAID_OK);
        if (rc != BRAID_OK) s->done.set_value();
    }
};
}  // namespace

TEST_CASE("capi_wait_callbacks.C wait callbacks stress: plain senders, a callback receiver, every message once") {
    Rt r(4);
    constexpr int kSenders = 4;
    const int per = 20000 / braid_test::kStressDivisor;
    braid_mpsc_tx* tx = nullptr;
    braid_mpsc_rx* rx = nullptr;
    REQUIRE(braid_mpsc_new(&tx, &rx, 8, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    std::vector<std::atomic<int>> seen(size_t(kSenders) * size_t(per));
    Receiver recv{r.rt, rx, 0, &seen, {}};
    auto finished = recv.done.get_future();
    REQUIRE(braid_mpsc_recv(nullptr, r.rt, rx, &recv.buf, sizeof recv.buf, &Receiver::cb, &recv) == BRAID_OK);
    std::vector<std::thread> senders;
    for (int s = 0; s < kSenders; ++s) {
        braid_mpsc_tx* mine = nullptr;
        REQUIRE(braid_mpsc_tx_clone(&mine, tx) == BRAID_OK);
        senders.emplace_back([mine, s] {
            for (int i = 0; i < per; ++i) {
                int v = s * per + i;
                EXPECT_ANYWHERE(braid_mpsc_send_blocking(mine, &v, sizeof v, BRAID_WAIT_FOREVER) == BRAID_OK);
            }
            braid_mpsc_tx_free(mine);
        });
    }
    braid_mpsc_tx_free(tx);
    for (auto& th : senders) th.join();
    finished.wait();
    for (size_t i = 0; i < seen.size(); ++i) {
        if (seen[i].load() != 1) FAIL("message " << i << " received " << seen[i].load() << " times");
    }
    r.free();
    braid_mpsc_rx_free(rx);
}

TEST_CASE("capi_wait_callbacks.C wait callbacks stress: plain threads and callback lockers share a mutex") {
    Rt r(4);
    braid_mutex* m = nullptr;
    REQUIRE(braid_mutex_new(&m) == BRAID_OK);
    long guarded = 0;
    constexpr int kThreads = 3, kLockers = 3;
    const int rounds = 5000 / braid_test::kStressDivisor;
    std::vector<std::unique_ptr<Locker>> lockers;
    std::vector<std::future<void>> done;
    for (int i = 0; i < kLockers; ++i) {
        lockers.push_back(std::unique_ptr<Locker>(new Locker{r.rt, m, &guarded, rounds, {}}));
        done.push_back(lockers.back()->done.get_future());
        REQUIRE(braid_mutex_lock(nullptr, r.rt, m, &Locker::cb, lockers.back().get()) == BRAID_OK);
    }
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&] {
            for (int k = 0; k < rounds; ++k) {
                EXPECT_ANYWHERE(braid_mutex_lock_blocking(m, BRAID_WAIT_FOREVER) == BRAID_OK);
                ++guarded;
                EXPECT_ANYWHERE(braid_mutex_unlock(m) == BRAID_OK);
            }
        });
    }
    for (auto& th : threads) th.join();
    for (auto& f : done) f.wait();
    REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
    REQUIRE(guarded == long(kThreads + kLockers) * rounds);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    r.free();
    braid_mutex_free(m);
}

TEST_CASE("capi_wait_callbacks.C wait callbacks: a deadline on the operation calls back BRAID_ETIMEDOUT and takes nothing") {
    PausedRt r(1);
    braid_semaphore* sem = nullptr;
    REQUIRE(braid_semaphore_new(&sem, 1) == BRAID_OK);
    Counter c;
    braid_task* t = nullptr;
    // Two permits asked, one free: the wait holds the free one while it waits.
    REQUIRE(braid_semaphore_acquire(&t, r.rt, sem, 2, &Counter::cb, &c) == BRAID_OK);
    REQUIRE(braid_task_set_timeout(t, 50) == BRAID_OK);  // paused clock: fires when the runtime is idle
    REQUIRE(settle(t) == BRAID_ETIMEDOUT);
    REQUIRE(c.calls == 1);
    REQUIRE(c.last == BRAID_ETIMEDOUT);
    REQUIRE(braid_semaphore_available_permits(sem) == 1);
    REQUIRE(braid_semaphore_try_acquire(sem, 1) == BRAID_OK);
    REQUIRE(braid_semaphore_release(sem, 1) == BRAID_OK);
    braid_semaphore_free(sem);
}

TEST_CASE("capi_wait_callbacks.C wait callbacks: many callback waits on one lock are served in FIFO order") {
    PausedRt r(1);
    braid_mutex* m = nullptr;
    REQUIRE(braid_mutex_new(&m) == BRAID_OK);
    REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
    struct Order {
        braid_mutex* m;
        std::atomic<int>* next;
        int index;
        std::atomic<int> got{-1};
        static void cb(void* p, int status) {
            auto* o = static_cast<Order*>(p);
            EXPECT_ANYWHERE(status == BRAID_OK);
            o->got.store(o->next->fetch_add(1));
            EXPECT_ANYWHERE(braid_mutex_unlock(o->m) == BRAID_OK);
        }
    };
    constexpr int kWaits = 8;
    std::atomic<int> next{0};
    std::vector<std::unique_ptr<Order>> waits;
    std::vector<braid_task*> ops(kWaits);
    for (int i = 0; i < kWaits; ++i) {
        waits.push_back(std::unique_ptr<Order>(new Order{m, &next, i}));
        REQUIRE(braid_mutex_lock(&ops[size_t(i)], r.rt, m, &Order::cb, waits.back().get()) == BRAID_OK);
        quiesce(r.rt);  // queued before the next one starts
    }
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    for (int i = 0; i < kWaits; ++i) {
        REQUIRE(settle(ops[size_t(i)]) == BRAID_OK);
        REQUIRE(waits[size_t(i)]->got.load() == i);
    }
    REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    braid_mutex_free(m);
}

}  // namespace test_capi_wait_callbacks
