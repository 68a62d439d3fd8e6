// The conventions of the C ABI (docs/c-api.md, "Conventions"):
//  - a poll function called with a NULL waker withdraws: it removes the
//    registration an earlier call of the same operation made (that waker is
//    never called after it), makes no attempt (a ready value stays there for
//    the next call) and returns BRAID_PENDING; one test per family below;
//  - timeout_ms counts as poll(2)'s: 0 makes one attempt (BRAID_ETIMEDOUT if
//    not ready), BRAID_WAIT_FOREVER (any negative value) waits without limit.
#include <catch2/catch.hpp>
#include <braid/braid.h>

#include <atomic>
#include <future>
#include <csignal>
#include <fcntl.h>
#include <unistd.h>
#include <thread>

#include "capi_support.hpp"
#include "support.hpp"

namespace test_capi_conventions {

namespace {

struct CountingWaker {
    std::atomic<int> calls{0};
    static void wake(void* p) { static_cast<CountingWaker*>(p)->calls++; }
};

// Spins (yielding) until `ready()` holds: the runtime makes it hold, no
// sleep is guessed.
template <class F>
void spin_until(F ready) {
    while (!ready()) std::this_thread::yield();
}

}  // namespace

// ---- NULL waker ---------------------------------------------------------------------

namespace {
constexpr int64_t kMs = 1000000;

// A blocking job that runs until release(): while it runs, a paused clock
// does not jump by itself (auto-advance waits for every worker to be idle
// and no blocking job to run), so only braid_runtime_advance moves it.
class ClockHold {
public:
    explicit ClockHold(braid_runtime* rt) {
        REQUIRE(braid_spawn_blocking(&job_, rt, &ClockHold::run, this) == BRAID_OK);
        started_.get_future().wait();  // running, not only queued
    }
    ClockHold(const ClockHold&) = delete;
    ~ClockHold() { release(); }
    void release() {
        if (!job_) return;
        gate_.set_value();
        REQUIRE(braid_task_join_blocking(job_, BRAID_WAIT_FOREVER) == BRAID_OK);
        braid_task_free(job_);
        job_ = nullptr;
    }

private:
    static void run(void* p) {
        auto* h = static_cast<ClockHold*>(p);
        h->started_.set_value();
        h->gate_.get_future().wait();
    }
    braid_task* job_ = nullptr;
    std::promise<void> started_, gate_;
};
}  // namespace

TEST_CASE("capi_conventions.NULL waker: mpsc receive withdraws and takes nothing") {
    braid_mpsc_tx* tx = nullptr;
    braid_mpsc_rx* rx = nullptr;
    REQUIRE(braid_mpsc_new(&tx, &rx, 4, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    CountingWaker old;
    int v = 0;
    REQUIRE(braid_mpsc_poll_recv(rx, &v, sizeof v, &CountingWaker::wake, &old) == BRAID_PENDING);
    REQUIRE(braid_mpsc_poll_recv(rx, nullptr, 0, nullptr, nullptr) == BRAID_PENDING);
    int sent = 7;
    REQUIRE(braid_mpsc_try_send(tx, &sent, sizeof sent) == BRAID_OK);  // wakes the receiver's waker, if any
    REQUIRE(old.calls.load() == 0);
    REQUIRE(braid_mpsc_poll_recv(rx, &v, sizeof v, nullptr, nullptr) == BRAID_PENDING);  // no attempt
    REQUIRE(v == 0);
    REQUIRE(braid_mpsc_try_recv(rx, &v, sizeof v) == BRAID_OK);
    REQUIRE(v == 7);
    // poll_recv_many too.
    size_t n = 5;
    REQUIRE(braid_mpsc_poll_recv_many(rx, &v, sizeof v, 1, &n, &CountingWaker::wake, &old) == BRAID_PENDING);
    REQUIRE(braid_mpsc_poll_recv_many(rx, &v, sizeof v, 1, &n, nullptr, nullptr) == BRAID_PENDING);
    sent = 8;
    REQUIRE(braid_mpsc_try_send(tx, &sent, sizeof sent) == BRAID_OK);
    REQUIRE(old.calls.load() == 0);
    REQUIRE(braid_mpsc_poll_recv_many(rx, &v, sizeof v, 1, &n, nullptr, nullptr) == BRAID_PENDING);
    REQUIRE(n == 0);
    REQUIRE(braid_mpsc_try_recv_many(rx, &v, sizeof v, 1, &n) == BRAID_OK);
    REQUIRE((n == 1 && v == 8));
    REQUIRE(braid_mpsc_try_recv_many(rx, &v, sizeof v, 1, &n) == BRAID_EAGAIN);
    REQUIRE(n == 0);
    braid_mpsc_tx_free(tx);
    braid_mpsc_rx_free(rx);
}

TEST_CASE("capi_conventions.NULL waker: oneshot receive and closed withdraw and take nothing") {
    braid_oneshot_tx* tx = nullptr;
    braid_oneshot_rx* rx = nullptr;
    REQUIRE(braid_oneshot_new(&tx, &rx, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    CountingWaker old;
    int v = 0;
    REQUIRE(braid_oneshot_poll_recv(rx, &CountingWaker::wake, &old, &v, sizeof v) == BRAID_PENDING);
    REQUIRE(braid_oneshot_poll_recv(rx, nullptr, nullptr, &v, sizeof v) == BRAID_PENDING);
    REQUIRE(braid_oneshot_try_recv(rx, &v, sizeof v) == BRAID_EAGAIN);
    int sent = 9;
    REQUIRE(braid_oneshot_send(tx, &sent, sizeof sent) == BRAID_OK);
    REQUIRE(old.calls.load() == 0);
    REQUIRE(braid_oneshot_poll_recv(rx, nullptr, nullptr, &v, sizeof v) == BRAID_PENDING);  // no attempt
    REQUIRE(braid_oneshot_try_recv(rx, &v, sizeof v) == BRAID_OK);
    REQUIRE(v == 9);
    braid_oneshot_rx_free(rx);

    REQUIRE(braid_oneshot_new(&tx, &rx, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    REQUIRE(braid_oneshot_tx_poll_closed(tx, &CountingWaker::wake, &old) == BRAID_PENDING);
    REQUIRE(braid_oneshot_tx_poll_closed(tx, nullptr, nullptr) == BRAID_PENDING);
    braid_oneshot_rx_free(rx);
    REQUIRE(old.calls.load() == 0);
    REQUIRE(braid_oneshot_tx_poll_closed(tx, nullptr, nullptr) == BRAID_PENDING);  // closed, and still no attempt
    REQUIRE(braid_oneshot_tx_poll_closed(tx, &CountingWaker::wake, &old) == BRAID_OK);
    braid_oneshot_tx_free(tx);
}

TEST_CASE("capi_conventions.NULL waker: join set withdraws and hands back no task") {
    auto rt = braid_test::runtime(1);
    braid_join_set* set = nullptr;
    REQUIRE(braid_join_set_new(&set) == BRAID_OK);
    braid_task* t = nullptr;
    REQUIRE(braid_sleep(&t, rt.native_handle(), 1000000, [](void*, int) {}, nullptr) == BRAID_OK);
    REQUIRE(braid_join_set_add(set, t, nullptr) == BRAID_OK);
    CountingWaker old, fresh;
    braid_task* done = nullptr;
    REQUIRE(braid_join_set_poll_next(set, &CountingWaker::wake, &old, &done, nullptr) == BRAID_PENDING);
    REQUIRE(braid_join_set_poll_next(set, nullptr, nullptr, &done, nullptr) == BRAID_PENDING);
    REQUIRE(braid_join_set_poll_next(set, &CountingWaker::wake, &fresh, &done, nullptr) == BRAID_PENDING);
    REQUIRE(braid_join_set_abort_all(set) == BRAID_OK);
    // The set calls its waker (under its lock) once the task finished.
    spin_until([&] { return fresh.calls.load() > 0; });
    REQUIRE(old.calls.load() == 0);
    done = t;
    REQUIRE(braid_join_set_poll_next(set, nullptr, nullptr, &done, nullptr) == BRAID_PENDING);  // no attempt
    REQUIRE(done == nullptr);
    braid_task* got = nullptr;
    REQUIRE(braid_join_set_try_next(set, &got, nullptr) == BRAID_OK);
    REQUIRE(got == t);
    REQUIRE(braid_task_try_join(got) == BRAID_ECANCELED);
    REQUIRE(braid_join_set_try_next(set, &done, nullptr) == BRAID_ECLOSED);  // empty: *out cleared
    REQUIRE(done == nullptr);
    braid_task_free(got);  // the set handed it over
    braid_join_set_free(set);
}

TEST_CASE("capi_conventions.NULL waker: signal receive withdraws and takes no delivery") {
    auto rt = braid_test::runtime(1);
    braid_signal* s = nullptr;
    REQUIRE(braid_signal_new(&s, rt.native_handle(), SIGUSR2) == BRAID_OK);
    CountingWaker old, fresh;
    REQUIRE(braid_signal_poll_recv(s, &CountingWaker::wake, &old) == BRAID_PENDING);
    REQUIRE(braid_signal_poll_recv(s, nullptr, nullptr) == BRAID_PENDING);
    REQUIRE(braid_signal_poll_recv(s, &CountingWaker::wake, &fresh) == BRAID_PENDING);
    REQUIRE(::raise(SIGUSR2) == 0);
    spin_until([&] { return fresh.calls.load() > 0; });  // the delivery arrived
    REQUIRE(old.calls.load() == 0);
    REQUIRE(braid_signal_poll_recv(s, nullptr, nullptr) == BRAID_PENDING);  // no attempt
    REQUIRE(braid_signal_poll_recv(s, &CountingWaker::wake, &fresh) == BRAID_OK);
    braid_signal_free(s);
}

TEST_CASE("capi_conventions.NULL waker: task join withdraws and reads no status") {
    auto rt = braid_test::runtime(1);
    braid_task* t = nullptr;
    REQUIRE(braid_sleep(&t, rt.native_handle(), 1000000, [](void*, int) {}, nullptr) == BRAID_OK);
    CountingWaker old;
    REQUIRE(braid_task_poll_join(t, &CountingWaker::wake, &old) == BRAID_PENDING);
    REQUIRE(braid_task_poll_join(t, nullptr, nullptr) == BRAID_PENDING);
    REQUIRE(braid_task_try_join(t) == BRAID_PENDING);
    REQUIRE(braid_task_abort(t) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_ECANCELED);
    REQUIRE(old.calls.load() == 0);
    REQUIRE(braid_task_poll_join(t, nullptr, nullptr) == BRAID_PENDING);  // finished, and still no attempt
    REQUIRE(braid_task_try_join(t) == BRAID_ECANCELED);
    REQUIRE(braid_task_poll_join(t, &CountingWaker::wake, &old) == BRAID_ECANCELED);
    braid_task_free(t);
}

TEST_CASE("capi_conventions.NULL waker: timer and interval withdraw and take no tick") {
    capi_test::Rt paused(1, true);  // braid_runtime_advance fires the timers it passes
    braid_runtime* rt = paused.rt;
    ClockHold hold(rt);  // the clock moves only by braid_runtime_advance below
    int64_t t0 = braid_now(rt);
    braid_timer* t = nullptr;
    REQUIRE(braid_timer_new(&t, rt, t0 + 10 * kMs) == BRAID_OK);
    braid_interval* iv = nullptr;
    REQUIRE(braid_interval_new(&iv, rt, t0 + 10 * kMs, 10 * kMs, BRAID_MISSED_TICK_SKIP) == BRAID_OK);
    CountingWaker old_t, old_iv;
    int64_t tick = 0;
    REQUIRE(braid_timer_poll_elapsed(t, &CountingWaker::wake, &old_t) == BRAID_PENDING);
    REQUIRE(braid_interval_poll_tick(iv, &CountingWaker::wake, &old_iv, &tick) == BRAID_PENDING);
    REQUIRE(braid_timer_poll_elapsed(t, nullptr, nullptr) == BRAID_PENDING);
    REQUIRE(braid_interval_poll_tick(iv, nullptr, nullptr, nullptr) == BRAID_PENDING);
    REQUIRE(braid_runtime_advance(rt, 10 * kMs) == BRAID_OK);  // both due: fires what is registered
    REQUIRE(old_t.calls.load() == 0);
    REQUIRE(old_iv.calls.load() == 0);
    REQUIRE(braid_timer_poll_elapsed(t, nullptr, nullptr) == BRAID_PENDING);  // due, and still no attempt
    REQUIRE(braid_timer_poll_unconstrained(t, nullptr, nullptr) == BRAID_PENDING);
    REQUIRE(braid_interval_poll_tick(iv, nullptr, nullptr, &tick) == BRAID_PENDING);
    REQUIRE(tick == 0);
    REQUIRE(braid_timer_poll_elapsed(t, &CountingWaker::wake, &old_t) == 0);
    REQUIRE(braid_interval_poll_tick(iv, &CountingWaker::wake, &old_iv, &tick) == 0);
    REQUIRE(tick == t0 + 10 * kMs);  // the tick stayed for this call
    hold.release();
    braid_interval_free(iv);
    braid_timer_free(t);
    paused.free();
}

TEST_CASE("capi_conventions.NULL waker: braid_fd withdraws the registration of that wake_data and reports nothing") {
    auto rt = braid_test::runtime(1);
    int fds[2];
    REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
    braid_fd* f = nullptr;
    REQUIRE(braid_fd_new(&f, rt.native_handle(), fds[0]) == BRAID_OK);
    CountingWaker old, fresh;
    int ready = -1;
    REQUIRE(braid_fd_poll_ready(f, BRAID_READABLE, &CountingWaker::wake, &old, &ready) == BRAID_PENDING);
    REQUIRE(braid_fd_poll_ready(f, BRAID_READABLE, nullptr, &old, &ready) == BRAID_PENDING);
    REQUIRE(ready == 0);
    REQUIRE(braid_fd_poll_ready(f, BRAID_READABLE, &CountingWaker::wake, &fresh, &ready) == BRAID_PENDING);
    REQUIRE(::write(fds[1], "x", 1) == 1);
    spin_until([&] { return fresh.calls.load() > 0; });  // the reactor saw it
    REQUIRE(old.calls.load() == 0);
    ready = -1;
    REQUIRE(braid_fd_poll_ready(f, BRAID_READABLE, nullptr, &fresh, &ready) == BRAID_PENDING);  // no attempt
    REQUIRE(ready == 0);
    REQUIRE(braid_fd_poll_ready(f, BRAID_READABLE, &CountingWaker::wake, &fresh, &ready) == BRAID_OK);
    REQUIRE(ready == BRAID_READABLE);
    braid_fd_free(f);
    ::close(fds[0]);
    ::close(fds[1]);
}

namespace {
// A stream whose producer records the waker of its last poll; one item (42).
struct Recorder {
    braid_wake_fn last = &CountingWaker::wake;
    bool ready = false;
    static int poll(void* state, void* out_item, braid_wake_fn wake, void*) {
        auto* r = static_cast<Recorder*>(state);
        r->last = wake;
        if (!wake) return BRAID_PENDING;  // the unregistering call
        if (!r->ready) return BRAID_PENDING;
        *static_cast<int*>(out_item) = 42;
        r->ready = false;
        return BRAID_OK;
    }
};
}  // namespace

TEST_CASE("capi_conventions.NULL waker: a stream withdraws (its producer is told) and takes no item") {
    Recorder rec;
    braid_stream* s = nullptr;
    REQUIRE(braid_stream_new(&s, sizeof(int), alignof(int), nullptr, nullptr, &Recorder::poll, nullptr, &rec) ==
            BRAID_OK);
    CountingWaker old;
    int item = 0;
    REQUIRE(braid_stream_poll_next(s, &item, sizeof item, &CountingWaker::wake, &old) == BRAID_PENDING);
    REQUIRE(rec.last != nullptr);
    rec.ready = true;
    REQUIRE(braid_stream_poll_next(s, nullptr, 0, nullptr, nullptr) == BRAID_PENDING);
    REQUIRE(rec.last == nullptr);  // the producer removed its registration
    REQUIRE(rec.ready);            // and produced nothing
    REQUIRE(braid_stream_poll_next(s, &item, sizeof item, &CountingWaker::wake, &old) == BRAID_OK);
    REQUIRE(item == 42);
    braid_stream_free(s);
}

TEST_CASE("capi_conventions.NULL waker: the braid_waiter protocol unregisters, the wait keeps its place and its grant") {
    braid_semaphore* sem = nullptr;
    REQUIRE(braid_semaphore_new(&sem, 1) == BRAID_OK);
    braid_waiter* w = nullptr;
    // No wait yet: nothing is taken, nothing queued.
    REQUIRE(braid_semaphore_poll_acquire(sem, 1, &w, nullptr, nullptr) == BRAID_PENDING);
    REQUIRE(w == nullptr);
    REQUIRE(braid_semaphore_available_permits(sem) == 1);
    REQUIRE(braid_semaphore_try_acquire(sem, 1) == BRAID_OK);
    CountingWaker old;
    REQUIRE(braid_semaphore_poll_acquire(sem, 1, &w, &CountingWaker::wake, &old) == BRAID_PENDING);
    REQUIRE(w != nullptr);
    REQUIRE(braid_semaphore_poll_acquire(sem, 1, &w, nullptr, nullptr) == BRAID_PENDING);
    REQUIRE(w != nullptr);
    REQUIRE(braid_semaphore_release(sem, 1) == BRAID_OK);  // granted to the queued wait
    REQUIRE(old.calls.load() == 0);
    REQUIRE(braid_semaphore_poll_acquire(sem, 1, &w, nullptr, nullptr) == BRAID_PENDING);  // no attempt
    REQUIRE(w != nullptr);
    REQUIRE(braid_semaphore_available_permits(sem) == 0);  // the grant stays with the wait
    REQUIRE(braid_semaphore_poll_acquire(sem, 1, &w, &CountingWaker::wake, &old) == BRAID_OK);
    REQUIRE(w == nullptr);
    REQUIRE(braid_semaphore_release(sem, 1) == BRAID_OK);
    braid_semaphore_free(sem);

    // A stored notification stays stored.
    braid_notify* n = nullptr;
    REQUIRE(braid_notify_new(&n) == BRAID_OK);
    braid_notify_notify_one(n);
    REQUIRE(braid_notify_poll_notified(n, &w, nullptr, nullptr) == BRAID_PENDING);
    REQUIRE(w == nullptr);
    REQUIRE(braid_notify_try_notified(n) == BRAID_OK);
    REQUIRE(braid_notify_try_notified(n) == BRAID_EAGAIN);
    braid_notify_free(n);

    // A free mutex stays free.
    braid_mutex* m = nullptr;
    REQUIRE(braid_mutex_new(&m) == BRAID_OK);
    REQUIRE(braid_mutex_poll_lock(m, &w, nullptr, nullptr) == BRAID_PENDING);
    REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    braid_mutex_free(m);
}

// ---- timeout_ms: 0 and BRAID_WAIT_FOREVER ------------------------------------------------

TEST_CASE("capi_conventions.timeout_ms: BRAID_WAIT_FOREVER is negative, as poll(2)'s -1") {
    STATIC_REQUIRE(BRAID_WAIT_FOREVER < 0);
}

TEST_CASE("capi_conventions.timeout_ms: mutex, rwlock, semaphore") {
    braid_mutex* m = nullptr;
    REQUIRE(braid_mutex_new(&m) == BRAID_OK);
    REQUIRE(braid_mutex_lock_blocking(m, 0) == BRAID_OK);  // free: the one attempt takes it
    REQUIRE(braid_mutex_lock_blocking(m, 0) == BRAID_ETIMEDOUT);
    std::thread unlocker([&] { braid_mutex_unlock(m); });
    REQUIRE(braid_mutex_lock_blocking(m, BRAID_WAIT_FOREVER) == BRAID_OK);
    unlocker.join();
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    braid_mutex_free(m);

    braid_rwlock* rw = nullptr;
    REQUIRE(braid_rwlock_new(&rw) == BRAID_OK);
    REQUIRE(braid_rwlock_read_blocking(rw, 0) == BRAID_OK);
    REQUIRE(braid_rwlock_write_blocking(rw, 0) == BRAID_ETIMEDOUT);
    std::thread reader([&] { braid_rwlock_read_unlock(rw); });
    REQUIRE(braid_rwlock_write_blocking(rw, BRAID_WAIT_FOREVER) == BRAID_OK);
    reader.join();
    REQUIRE(braid_rwlock_read_blocking(rw, 0) == BRAID_ETIMEDOUT);
    REQUIRE(braid_rwlock_write_unlock(rw) == BRAID_OK);
    braid_rwlock_free(rw);

    braid_semaphore* sem = nullptr;
    REQUIRE(braid_semaphore_new(&sem, 1) == BRAID_OK);
    REQUIRE(braid_semaphore_acquire_blocking(sem, 1, 0) == BRAID_OK);
    REQUIRE(braid_semaphore_acquire_blocking(sem, 1, 0) == BRAID_ETIMEDOUT);
    std::thread releaser([&] { braid_semaphore_release(sem, 1); });
    REQUIRE(braid_semaphore_acquire_blocking(sem, 1, BRAID_WAIT_FOREVER) == BRAID_OK);
    releaser.join();
    braid_semaphore_free(sem);
}

TEST_CASE("capi_conventions.timeout_ms: notify, barrier, once cell") {
    braid_notify* n = nullptr;
    REQUIRE(braid_notify_new(&n) == BRAID_OK);
    REQUIRE(braid_notify_notified_blocking(n, 0) == BRAID_ETIMEDOUT);
    braid_notify_notify_one(n);  // nobody waits: stored as a permit
    REQUIRE(braid_notify_notified_blocking(n, 0) == BRAID_OK);
    std::thread notifier([&] { braid_notify_notify_one(n); });
    REQUIRE(braid_notify_notified_blocking(n, BRAID_WAIT_FOREVER) == BRAID_OK);
    notifier.join();
    braid_notify_free(n);

    braid_barrier* b = nullptr;
    REQUIRE(braid_barrier_new(&b, 2) == BRAID_OK);
    REQUIRE(braid_barrier_wait_blocking(b, 0) == BRAID_ETIMEDOUT);  // the arrival is withdrawn
    std::atomic<int> other{0};
    std::thread arrival([&] { other = braid_barrier_wait_blocking(b, BRAID_WAIT_FOREVER); });
    int mine = braid_barrier_wait_blocking(b, BRAID_WAIT_FOREVER);
    arrival.join();
    REQUIRE(mine + other.load() == BRAID_BARRIER_LEADER);  // one leader, one follower (BRAID_OK)
    braid_barrier_free(b);

    braid_once_cell* cell = nullptr;
    REQUIRE(braid_once_cell_new(&cell, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    REQUIRE(braid_once_cell_init_blocking(cell, 0) == BRAID_ONCE_CELL_INIT);  // our turn
    REQUIRE(braid_once_cell_init_blocking(cell, 0) == BRAID_ETIMEDOUT);      // someone initialises
    std::thread init([&] {
        int v = 5;
        braid_once_cell_complete_init(cell, &v, sizeof v);
    });
    REQUIRE(braid_once_cell_init_blocking(cell, BRAID_WAIT_FOREVER) == BRAID_OK);
    init.join();
    REQUIRE(braid_once_cell_init_blocking(cell, 0) == BRAID_OK);
    braid_once_cell_free(cell);
}

TEST_CASE("capi_conventions.timeout_ms: mpsc, oneshot, broadcast, watch") {
    braid_mpsc_tx* tx = nullptr;
    braid_mpsc_rx* rx = nullptr;
    REQUIRE(braid_mpsc_new(&tx, &rx, 1, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    int v = 1, got = 0;
    REQUIRE(braid_mpsc_recv_blocking(rx, &got, sizeof got, 0) == BRAID_ETIMEDOUT);
    REQUIRE(braid_mpsc_send_blocking(tx, &v, sizeof v, 0) == BRAID_OK);
    REQUIRE(braid_mpsc_send_blocking(tx, &v, sizeof v, 0) == BRAID_ETIMEDOUT);  // full
    std::thread receiver([&] {
        int x = 0;
        braid_mpsc_recv_blocking(rx, &x, sizeof x, BRAID_WAIT_FOREVER);
    });
    v = 2;
    REQUIRE(braid_mpsc_send_blocking(tx, &v, sizeof v, BRAID_WAIT_FOREVER) == BRAID_OK);
    receiver.join();
    REQUIRE(braid_mpsc_recv_blocking(rx, &got, sizeof got, 0) == BRAID_OK);
    REQUIRE(got == 2);
    braid_mpsc_tx_free(tx);
    braid_mpsc_rx_free(rx);

    braid_oneshot_tx* otx = nullptr;
    braid_oneshot_rx* orx = nullptr;
    REQUIRE(braid_oneshot_new(&otx, &orx, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    REQUIRE(braid_oneshot_recv_blocking(orx, &got, sizeof got, 0) == BRAID_ETIMEDOUT);
    std::thread sender([&] {
        int x = 3;
        braid_oneshot_send(otx, &x, sizeof x);
    });
    REQUIRE(braid_oneshot_recv_blocking(orx, &got, sizeof got, BRAID_WAIT_FOREVER) == BRAID_OK);
    sender.join();
    REQUIRE(got == 3);
    braid_oneshot_rx_free(orx);

    braid_broadcast_tx* btx = nullptr;
    REQUIRE(braid_broadcast_new(&btx, 4, sizeof(int), alignof(int), nullptr, nullptr, nullptr) == BRAID_OK);
    braid_broadcast_rx* brx = nullptr;
    REQUIRE(braid_broadcast_subscribe(&brx, btx) == BRAID_OK);
    REQUIRE(braid_broadcast_recv_blocking(brx, &got, sizeof got, nullptr, 0) == BRAID_ETIMEDOUT);
    std::thread broadcaster([&] {
        int x = 4;
        braid_broadcast_send(btx, &x, sizeof x, nullptr);
    });
    REQUIRE(braid_broadcast_recv_blocking(brx, &got, sizeof got, nullptr, BRAID_WAIT_FOREVER) == BRAID_OK);
    broadcaster.join();
    REQUIRE(got == 4);
    braid_broadcast_rx_free(brx);
    braid_broadcast_tx_free(btx);

    braid_watch_tx* wtx = nullptr;
    braid_watch_rx* wrx = nullptr;
    int initial = 0;
    REQUIRE(braid_watch_new(&wtx, &wrx, &initial, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    REQUIRE(braid_watch_rx_changed_blocking(wrx, 0) == BRAID_ETIMEDOUT);
    std::thread watcher([&] {
        int x = 5;
        braid_watch_send(wtx, &x, sizeof x);
    });
    REQUIRE(braid_watch_rx_changed_blocking(wrx, BRAID_WAIT_FOREVER) == BRAID_OK);
    watcher.join();
    REQUIRE(braid_watch_rx_changed_blocking(wrx, 0) == BRAID_ETIMEDOUT);  // marked seen
    braid_watch_rx_free(wrx);
    braid_watch_tx_free(wtx);
}

namespace {
// A stream that has one item (42) once `ready` is set, and is pending before.
struct Gate {
    std::atomic<bool> ready{false};
    static int poll(void* state, void* out_item, braid_wake_fn, void*) {
        auto* g = static_cast<Gate*>(state);
        if (!out_item) return BRAID_PENDING;  // the unregistering call
        if (!g->ready.load()) return BRAID_PENDING;  // a blocking wait of 0 gives up at once
        *static_cast<int*>(out_item) = 42;
        return BRAID_OK;
    }
};
}  // namespace

TEST_CASE("capi_conventions.timeout_ms: stream, task join, runtime shutdown") {
    Gate gate;
    braid_stream* s = nullptr;
    REQUIRE(braid_stream_new(&s, sizeof(int), alignof(int), nullptr, nullptr, &Gate::poll, nullptr, &gate) == BRAID_OK);
    int item = 0;
    REQUIRE(braid_stream_next_blocking(s, &item, sizeof item, 0) == BRAID_ETIMEDOUT);
    gate.ready = true;
    REQUIRE(braid_stream_next_blocking(s, &item, sizeof item, BRAID_WAIT_FOREVER) == BRAID_OK);
    REQUIRE(item == 42);
    braid_stream_free(s);

    braid_runtime* rt = nullptr;
    REQUIRE(braid_runtime_new(&rt) == BRAID_OK);
    braid_task* t = nullptr;
    REQUIRE(braid_sleep(&t, rt, 1000000, [](void*, int) {}, nullptr) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, 0) == BRAID_ETIMEDOUT);
    braid_task_abort(t);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_ECANCELED);
    REQUIRE(braid_task_join_blocking(t, 0) == BRAID_ECANCELED);  // finished: the one attempt sees it
    braid_task_free(t);
    REQUIRE(braid_runtime_shutdown(rt, BRAID_WAIT_FOREVER) == BRAID_OK);
    REQUIRE(braid_runtime_shutdown(rt, 0) == BRAID_OK);
    REQUIRE(braid_runtime_free(rt) == BRAID_OK);
}

}  // namespace test_capi_conventions
