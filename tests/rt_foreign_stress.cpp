// Plain (non-runtime) threads against runtime tasks, by counting: threads
// that send into channels that tasks drain, wake tasks directly, abort them
// and spawn and join them.  Every message is received exactly once, every
// task started ends, nothing waits forever.  A wait that could hang is
// bounded by a generous watchdog that turns a lost wake-up into a failure
// with a diagnosis instead of a stuck test.  These run in every build and,
// for a bounded time, in the schedule-perturbation build (ctest -L stress
// with BRAID_STRESS_SECONDS set).
#include <catch2/catch.hpp>

#include <braid/braid.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_rt_foreign_stress {

using namespace std::chrono_literals;
using braid_test::Tracked;

namespace {

using braid_test::kStressDivisor;
constexpr int64_t kWatchdogMs = 60000;  // a stall this long is a lost wake-up

// Waits for a join handle's task from this (plain) thread, at most the
// watchdog's time; true when it finished.
template <class T>
bool join_within(const braid::JoinHandle<T>& h) {
    return braid_task_join_blocking(h.native_handle(), kWatchdogMs) != BRAID_ETIMEDOUT;
}

// A C runtime with `workers` workers, freed with the object.
struct CRuntime {
    braid_runtime* rt = nullptr;
    explicit CRuntime(int workers) {
        braid_runtime_builder* b = nullptr;
        REQUIRE(braid_runtime_builder_new(&b) == BRAID_OK);
        REQUIRE(braid_runtime_builder_worker_threads(b, workers) == BRAID_OK);
        REQUIRE(braid_runtime_build(&rt, b) == BRAID_OK);
        braid_runtime_builder_free(b);
    }
    ~CRuntime() { braid_runtime_free(rt); }
    CRuntime(const CRuntime&) = delete;
};

// The receiver of the lost-wake-up scenario: a C future that drains a
// channel of longs until every sender is gone.
struct Drain {
    braid_mpsc_rx* rx;
    std::atomic<long> got;
    std::atomic<long> sum;
    static int poll(void* state, braid_task* task) {
        auto* d = static_cast<Drain*>(state);
        for (;;) {
            long v = 0;
            int rc = braid_mpsc_poll_recv(d->rx, &v, sizeof v, reinterpret_cast<braid_wake_fn>(braid_task_wake), task);
            if (rc == BRAID_PENDING) return BRAID_PENDING;
            if (rc == BRAID_ECLOSED) return BRAID_OK;
            if (rc != BRAID_OK) return rc;
            d->got.fetch_add(1, std::memory_order_relaxed);
            d->sum.fetch_add(v, std::memory_order_relaxed);
        }
    }
};

// One round: `senders` plain threads each send `per_sender` values with
// braid_mpsc_send_blocking into a channel of capacity 4 that one future
// drains.  Returns "" or what went wrong.
std::string foreign_senders_round(braid_runtime* rt, int senders, long per_sender) {
    braid_mpsc_tx* tx = nullptr;
    braid_mpsc_rx* rx = nullptr;
    REQUIRE(braid_mpsc_new(&tx, &rx, 4, sizeof(long), alignof(long), nullptr, nullptr) == BRAID_OK);
    braid_task* task = nullptr;
    void* state = nullptr;
    REQUIRE(braid_task_new(&task, &state, rt, sizeof(Drain), &Drain::poll, nullptr, nullptr) == BRAID_OK);
    auto* d = new (state) Drain{rx, {0}, {0}};
    REQUIRE(braid_task_start(task) == BRAID_OK);

    std::vector<braid_mpsc_tx*> txs(static_cast<size_t>(senders));
    for (auto& t : txs) REQUIRE(braid_mpsc_tx_clone(&t, tx) == BRAID_OK);
    braid_mpsc_tx_free(tx);
    std::atomic<int> send_errors{0};
    std::vector<std::thread> threads;
    for (int s = 0; s < senders; ++s)
        threads.emplace_back([&, s] {
            for (long k = 0; k < per_sender; ++k) {
                long v = long(s) * per_sender + k;
                // Bounded, so that a receiver that stopped running cannot keep
                // this thread (and the test) forever; longer than the
                // receiver's watchdog below, so the senders are still there
                // when it looks at a stall.
                if (braid_mpsc_send_blocking(txs[size_t(s)], &v, sizeof v, 3 * kWatchdogMs) != BRAID_OK) {
                    send_errors.fetch_add(1);
                    break;
                }
            }
            braid_mpsc_tx_free(txs[size_t(s)]);
        });

    std::string problem;
    int rc = braid_task_join_blocking(task, kWatchdogMs);
    if (rc == BRAID_ETIMEDOUT) {
        size_t queued = braid_mpsc_rx_len(rx);
        long received = d->got.load();
        // Was it woken and left in a queue with no worker running it?  Any
        // new task wakes a worker, which then finds it.
        braid_task* kick = nullptr;
        braid_spawn(&kick, rt, [](void*) {}, nullptr);
        braid_task_free(kick);
        int again = braid_task_join_blocking(task, kWatchdogMs);
        problem = "the receiver stopped with " + std::to_string(queued) + " values queued after " +
                  std::to_string(received) + " received; " +
                  (again == BRAID_OK || d->got.load() > received
                       ? "an unrelated spawn made it run: it had been woken and queued, but no worker ran it"
                       : "it did not run even after an unrelated spawn");
    } else if (rc != BRAID_OK) {
        problem = std::string("the receiver ended with ") + braid_err_name(rc);
    }
    for (auto& t : threads) t.join();
    long n = long(senders) * per_sender;
    if (problem.empty() && send_errors.load() != 0) problem = "a sender failed";
    if (problem.empty() && d->got.load() != n) problem = "received " + std::to_string(d->got.load()) + " of " + std::to_string(n);
    if (problem.empty() && d->sum.load() != n * (n - 1) / 2) problem = "the values received are not the values sent";
    braid_task_free(task);
    braid_mpsc_rx_free(rx);
    return problem;
}

// `rounds` rounds of foreign_senders_round on a runtime of one worker, then
// on one of two.
void foreign_senders_rounds(int rounds, int senders, long per_sender) {
    for (int workers : {1, 2}) {
        CRuntime rt(workers);
        braid_test::StressRounds more(rounds);
        for (int r = 0; more.more(r); ++r) {
            std::string problem = foreign_senders_round(rt.rt, senders, per_sender);
            INFO("workers " << workers << ", round " << r);
            REQUIRE(problem == "");
        }
    }
}

}  // namespace

TEST_CASE("rt_foreign_stress.plain threads sending into a bounded channel never strand its receiving future", "[stress]") {
    // Four plain threads, capacity 4, one draining future: the receiver is
    // woken from foreign threads thousands of times per round, each time
    // racing with workers going idle.  A wake-up lost between the queue push
    // and a worker parking leaves it queued with no worker running it.
    foreign_senders_rounds(40 / kStressDivisor + 2, 4, 5000 / kStressDivisor);
}

TEST_CASE("rt_foreign_stress.one plain thread sending into a bounded channel never strands its receiving future", "[stress]") {
    // A channel with one sender publishes without a fence; the receiver,
    // faster than the thread, catches up and announces its sleep to the
    // sender's claim over and over: each of those is a chance to lose a
    // wake-up or to sleep past a value being moved in.
    foreign_senders_rounds(20 / kStressDivisor + 2, 1, 10000 / kStressDivisor);
}

TEST_CASE("rt_foreign_stress.a select over two channels each fed by a plain thread receives every message once", "[stress]") {
    // The receiving task sleeps on both channels at once; the one that
    // wakes it wins, and the other branch withdraws its receive (and its
    // sleep announcement) until the next round of the loop.
    auto rt = braid_test::runtime(2);
    braid_test::StressRounds rounds(10);
    for (int r = 0; rounds.more(r); ++r) {
        auto [atx, arx] = braid::mpsc::channel<long>(2);
        auto [btx, brx] = braid::mpsc::channel<long>(2);
        auto consumer = rt.spawn([](braid::mpsc::Receiver<long> a, braid::mpsc::Receiver<long> b) -> braid::Task<long> {
            long sum = 0;
            bool a_open = true, b_open = true;
            while (a_open && b_open) {
                auto got = co_await braid::select(a.recv(), b.recv());
                if (got.index() == 0) {
                    if (auto v = std::get<0>(got)) sum += *v;
                    else a_open = false;
                } else {
                    if (auto v = std::get<1>(got)) sum += *v;
                    else b_open = false;
                }
            }
            auto& rest = a_open ? a : b;
            while (auto v = co_await rest.recv()) sum += *v;
            co_return sum;
        }(std::move(arx), std::move(brx)));
        const long each = 20000 / kStressDivisor;
        std::atomic<int> refused{0};
        // Bounded sends (longer than the watchdog below), so that a
        // consumer that stopped fails the test instead of hanging it.
        auto feed = [&](braid::mpsc::Sender<long> tx, long first) {
            for (long v = first; v < first + each; ++v)
                if (braid_mpsc_send_blocking(tx.native_handle(), &v, sizeof v, 3 * kWatchdogMs) != BRAID_OK) {
                    refused.fetch_add(1);
                    return;
                }
        };
        std::thread ta(feed, std::move(atx), 0L), tb(feed, std::move(btx), each);
        ta.join();
        tb.join();
        REQUIRE(refused.load() == 0);
        REQUIRE(join_within(consumer));
        long n = 2 * each;
        REQUIRE(consumer.take() == n * (n - 1) / 2);
    }
}

TEST_CASE("rt_foreign_stress.plain threads waking a future directly: every wake-up counts", "[stress]") {
    // The future completes when it has seen `target` increments; plain
    // threads increment and call braid_task_wake.  A wake-up lost anywhere
    // between the state word and a worker leaves it pending forever.
    struct Counter {
        std::atomic<long>* count;
        long target;
        long polls;
        static int poll(void* s, braid_task*) {
            auto* c = static_cast<Counter*>(s);
            ++c->polls;
            return c->count->load() >= c->target ? BRAID_OK : BRAID_PENDING;
        }
    };
    for (int workers : {1, 2}) {
        CRuntime rt(workers);
        braid_test::StressRounds rounds(200 / kStressDivisor + 2);
        for (int r = 0; rounds.more(r); ++r) {
            std::atomic<long> count{0};
            constexpr int kThreads = 3;
            const long each = 300;
            braid_task* task = nullptr;
            void* state = nullptr;
            REQUIRE(braid_task_new(&task, &state, rt.rt, sizeof(Counter), &Counter::poll, nullptr, nullptr) == BRAID_OK);
            new (state) Counter{&count, kThreads * each, 0};
            REQUIRE(braid_task_start(task) == BRAID_OK);
            std::vector<std::thread> ts;
            for (int t = 0; t < kThreads; ++t)
                ts.emplace_back([&] {
                    for (long i = 0; i < each; ++i) {
                        count.fetch_add(1);
                        braid_task_wake(task);
                    }
                });
            for (auto& t : ts) t.join();
            INFO("workers " << workers << ", round " << r);
            REQUIRE(braid_task_join_blocking(task, kWatchdogMs) == BRAID_OK);
            braid_task_free(task);
        }
    }
}

TEST_CASE("rt_foreign_stress.plain threads aborting tasks: every task ends once, every frame is destroyed", "[stress]") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    auto rt = braid_test::runtime(2);
    braid_test::StressRounds rounds(20 / kStressDivisor + 2);
    for (int r = 0; rounds.more(r); ++r) {
        const int n = 2000 / kStressDivisor;
        std::atomic<int> started{0};
        std::vector<braid::JoinHandle<void>> hs;
        auto never = braid::Notify();
        for (int i = 0; i < n; ++i)
            hs.push_back(rt.spawn([](Tracked t, std::atomic<int>* s, braid::Notify* nv, int k) -> braid::Task<> {
                s->fetch_add(1);
                if (k % 2) co_await nv->notified();  // idle when aborted
                else
                    for (;;) co_await braid::yield_now();  // queued or running when aborted
                (void)t;
            }(Tracked(i), &started, &never, i)));
        std::vector<braid::AbortHandle> aborts;
        for (auto& h : hs) aborts.push_back(h.abort_handle());
        // Abort from two plain threads, racing with the tasks starting.
        std::thread a([&] {
            for (size_t i = 0; i < aborts.size(); i += 2) aborts[i].abort();
        });
        std::thread b([&] {
            for (size_t i = 1; i < aborts.size(); i += 2) aborts[i].abort();
        });
        a.join();
        b.join();
        int cancelled = 0;
        for (auto& h : hs) {
            REQUIRE(join_within(h));
            try {
                h.take();
            } catch (const braid::TaskCancelled&) {
                ++cancelled;
            }
        }
        REQUIRE(cancelled == n);
        REQUIRE(Tracked::live() == 0);
    }
}

TEST_CASE("rt_foreign_stress.plain threads and tasks exchange messages both ways, every message arrives once", "[stress]") {
    // Each plain thread sends requests to a task over a bounded channel and
    // waits for each reply on a oneshot: a thread that is woken late, or a
    // task never run, shows up as a stall.
    struct Request {
        long value;
        braid::oneshot::Sender<long> reply;
    };
    auto rt = braid_test::runtime(2);
    braid_test::StressRounds rounds(5);
    for (int r = 0; rounds.more(r); ++r) {
        auto [tx, rx] = braid::mpsc::channel<Request>(2);
        auto server = rt.spawn([](braid::mpsc::Receiver<Request> in) -> braid::Task<long> {
            long served = 0;
            while (auto req = co_await in.recv()) {
                (void)req->reply.send(req->value * 2);
                ++served;
            }
            co_return served;
        }(std::move(rx)));
        constexpr int kThreads = 4;
        const long each = 2000 / kStressDivisor;
        std::atomic<long> wrong{0};
        std::vector<std::thread> ts;
        for (int t = 0; t < kThreads; ++t)
            ts.emplace_back([&, t, sender = tx] {
                for (long i = 0; i < each; ++i) {
                    auto [otx, orx] = braid::oneshot::channel<long>();
                    long v = long(t) * each + i;
                    if (sender.blocking_send(Request{v, std::move(otx)})) {
                        wrong.fetch_add(1);
                        return;
                    }
                    if (orx.blocking_recv() != 2 * v) wrong.fetch_add(1);
                }
            });
        for (auto& t : ts) t.join();
        { auto drop = std::move(tx); }
        REQUIRE(wrong.load() == 0);
        REQUIRE(join_within(server));
        REQUIRE(server.take() == kThreads * each);
    }
}

}  // namespace test_rt_foreign_stress
