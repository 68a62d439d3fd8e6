// Plain threads, C code and async tasks mixed the way users mix them: sync
// code talking to async code through the blocking_* calls, handles used on
// plain threads (spawn, block_on, enter) racing with a shutdown, and the C
// ABI driven from C threads (callbacks touching data a C thread owns, wakers
// withdrawn before their context is freed, operations aborted and freed
// while their completion is in flight, a completion queue drained by a pool
// of threads).  Everything is counted: every message sent is received once
// or destroyed, every task started ends, every callback fires once.  A wait
// that could hang is bounded by a watchdog that turns a hang into a failure.
#include <catch2/catch.hpp>

#include <braid/braid.h>

#include <poll.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_thread_idioms {

using namespace std::chrono_literals;
using braid_test::Tracked;

namespace {

constexpr int kScale = braid_test::kStressDivisor;
constexpr int64_t kJoinMs = 60000;

// Turns a hang of the whole test case into a failure: if the case has not
// finished within the limit, it says which one and ends the process (a
// thread stuck in a blocking call cannot be recovered).
class Watchdog {
public:
    explicit Watchdog(const char* what, std::chrono::seconds limit = braid_test::kSanitized ? 240s : 120s)
        : t_([this, what, limit] {
              std::unique_lock<std::mutex> l(mu_);
              if (!cv_.wait_for(l, limit, [this] { return done_; })) {
                  std::fprintf(stderr, "watchdog: \"%s\" hung\n", what);
                  std::fflush(stderr);
                  std::abort();
              }
          }) {}
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;
    ~Watchdog() {
        {
            std::lock_guard<std::mutex> g(mu_);
            done_ = true;
        }
        cv_.notify_all();
        t_.join();
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread t_;
};

template <class T>
bool join_within(const braid::JoinHandle<T>& h) {
    return braid_task_join_blocking(h.native_handle(), kJoinMs) != BRAID_ETIMEDOUT;
}


}  // namespace

// ---- sync code talking to async code ---------------------------------------------

TEST_CASE("thread_idioms.plain threads blocking_send into a full channel that a task drains: each value once and in order") {
    Watchdog wd("blocking_send into a full channel");
    Tracked::reset();
    constexpr int kThreads = 4;
    const int each = 2000 / kScale;
    {
        auto rt = braid_test::runtime(2);
        auto [tx, rx] = braid::mpsc::channel<Tracked>(1);
        auto drain = rt.spawn([](braid::mpsc::Receiver<Tracked> rx, int each) -> braid::Task<std::string> {
            std::vector<int> seen(std::size_t(kThreads * each), 0);
            std::vector<int> last(kThreads, -1);
            while (auto v = co_await rx.recv()) {
                int x = v->value;
                if (x < 0 || x >= kThreads * each) co_return "out of range";
                ++seen[std::size_t(x)];
                int from = x / each;
                if (x <= last[std::size_t(from)]) co_return "out of order";
                last[std::size_t(from)] = x;
                if (x % 7 == 0) co_await braid::yield_now();  // the senders find it full
            }
            for (int s : seen)
                if (s != 1) co_return "a value not received exactly once";
            co_return "";
        }(std::move(rx), each));
        std::atomic<int> refused{0};
        std::vector<std::thread> ts;
        for (int t = 0; t < kThreads; ++t)
            ts.emplace_back([&refused, t, tx = tx] {
                for (int i = 0; i < each; ++i)
                    if (tx.blocking_send(Tracked(t * each + i))) refused.fetch_add(1);
            });
        { auto drop = std::move(tx); }
        for (auto& t : ts) t.join();
        REQUIRE(refused.load() == 0);
        REQUIRE(join_within(drain));
        REQUIRE(drain.take() == "");
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("thread_idioms.a receiver dropped while plain threads sit in blocking_send hands every unsent value back") {
    Watchdog wd("receiver dropped under blocking_send");
    constexpr int kThreads = 3;
    constexpr int kCap = 2;
    for (int round = 0; round < 20; ++round) {
        Tracked::reset();
        {
            auto rt = braid_test::runtime(2);
            auto [tx, rx] = braid::mpsc::channel<Tracked>(kCap);
            const int take = 5 + round;
            // The task takes `take` values and then drops the receiver while
            // the senders keep the channel full.
            auto taker = rt.spawn([](braid::mpsc::Receiver<Tracked> rx, int take) -> braid::Task<int> {
                int got = 0;
                while (got < take) {
                    auto v = co_await rx.recv();
                    if (!v) break;
                    ++got;
                }
                co_return got;
            }(std::move(rx), take));
            std::atomic<int> sent{0}, handed_back{0}, wrong_value{0};
            std::vector<std::thread> ts;
            for (int t = 0; t < kThreads; ++t)
                ts.emplace_back([&, t, tx = tx] {
                    for (int i = 0;; ++i) {
                        auto back = tx.blocking_send(Tracked(t * 100000 + i));
                        if (back) {
                            if (back->value != t * 100000 + i) wrong_value.fetch_add(1);
                            handed_back.fetch_add(1);
                            return;  // closed: every later send would fail too
                        }
                        sent.fetch_add(1);
                    }
                });
            { auto drop = std::move(tx); }
            for (auto& t : ts) t.join();
            REQUIRE(join_within(taker));
            int got = taker.take();
            INFO("round " << round);
            REQUIRE(got == take);
            REQUIRE(wrong_value.load() == 0);
            REQUIRE(handed_back.load() == kThreads);
            // What was sent was received, or was still buffered (at most
            // the capacity) when the receiver went.
            REQUIRE(sent.load() >= got);
            REQUIRE(sent.load() <= got + kCap);
        }
        REQUIRE(Tracked::live() == 0);
    }
}

TEST_CASE("thread_idioms.a plain thread in blocking_recv gets every value then nullopt when the sending task ends") {
    Watchdog wd("blocking_recv while the sender task ends");
    for (int round = 0; round < 20; ++round) {
        Tracked::reset();
        {
            auto rt = braid_test::runtime(2);
            auto [tx, rx] = braid::mpsc::channel<Tracked>(2);
            std::vector<int> got;
            bool ended = false;
            std::thread reader([&, rx = std::move(rx)]() mutable {
                while (auto v = rx.blocking_recv()) got.push_back(v->value);
                ended = true;
            });
            auto producer = rt.spawn([](braid::mpsc::Sender<Tracked> tx, int n) -> braid::Task<> {
                for (int i = 0; i < n; ++i) {
                    auto back = co_await tx.send(Tracked(i));
                    EXPECT(!back);
                }
            }(std::move(tx), 50 + round));
            REQUIRE(join_within(producer));
            producer.take();
            reader.join();
            INFO("round " << round);
            REQUIRE(ended);
            REQUIRE(got.size() == std::size_t(50 + round));
            for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == int(i));
        }
        REQUIRE(Tracked::live() == 0);
    }
}

TEST_CASE("thread_idioms.a plain thread in blocking_recv sees the channel end when a shutdown destroys the task owning the sender") {
    Watchdog wd("blocking_recv across a shutdown");
    for (int flavour = 0; flavour < 2; ++flavour) {
        Tracked::reset();
        std::optional<braid::Runtime> rt(flavour == 0 ? braid_test::runtime(2) : braid_test::runtime(1));
        auto [tx, rx] = braid::mpsc::channel<Tracked>(4);
        auto [otx, orx] = braid::oneshot::channel<Tracked>();
        int got = 0;
        bool mpsc_ended = false;
        int oneshot_code = 0;
        std::latch first(1);
        std::thread reader([&, rx = std::move(rx), orx = std::move(orx)]() mutable {
            while (auto v = rx.blocking_recv()) {
                if (got++ == 0) first.count_down();
            }
            mpsc_ended = true;
            oneshot_code = braid_test::error_code_of([&] { (void)orx.blocking_recv(); });
        });
        rt->spawn([](braid::mpsc::Sender<Tracked> tx, braid::oneshot::Sender<Tracked> otx) -> braid::Task<> {
            (void)co_await tx.send(Tracked(1));
            co_await braid_test::pending();  // holds both senders until the runtime goes
            (void)otx;
        }(std::move(tx), std::move(otx))).detach();
        first.wait();
        rt.reset();
        reader.join();
        INFO("flavour " << flavour);
        REQUIRE(got == 1);
        REQUIRE(mpsc_ended);
        REQUIRE(oneshot_code == BRAID_ECLOSED);
        REQUIRE(Tracked::live() == 0);
    }
}

namespace {
braid::Task<int> recv_one(braid::oneshot::Receiver<Tracked> rx) {
    Tracked t = co_await std::move(rx);
    co_return t.value;
}
}  // namespace

TEST_CASE("thread_idioms.a oneshot sent from a plain thread reaches a task waiting under a timeout") {
    Watchdog wd("oneshot from a thread under a timeout");
    Tracked::reset();
    {
        auto rt = braid_test::runtime(2);
        for (int round = 0; round < 50; ++round) {
            auto [tx, rx] = braid::oneshot::channel<Tracked>();
            auto [ready_tx, ready_rx] = braid::oneshot::channel<int>();
            auto waiter = rt.spawn([](braid::oneshot::Receiver<Tracked> rx,
                                      braid::oneshot::Sender<int> ready) -> braid::Task<std::optional<int>> {
                auto inner = recv_one(std::move(rx));
                (void)ready.send(1);
                co_return co_await braid::timeout(60s, std::move(inner));
            }(std::move(rx), std::move(ready_tx)));
            std::thread sender([tx = std::move(tx), round]() mutable {
                auto back = tx.send(Tracked(round));
                EXPECT_ANYWHERE(!back);
            });
            if (round % 2) (void)ready_rx.blocking_recv();  // half the time the task waits first
            sender.join();
            REQUIRE(join_within(waiter));
            REQUIRE(waiter.take() == std::optional<int>(round));
        }
    }
    REQUIRE(Tracked::live() == 0);
    REQUIRE(braid_test::worker_failures() == 0);
}

TEST_CASE("thread_idioms.a oneshot sent from a plain thread after the task's timeout fired comes back to the thread") {
    Watchdog wd("oneshot after the timeout");
    Tracked::reset();
    {
        auto rt = braid_test::paused_runtime(1);
        auto [tx, rx] = braid::oneshot::channel<Tracked>();
        auto [done_tx, done_rx] = braid::oneshot::channel<bool>();
        rt.spawn([](braid::oneshot::Receiver<Tracked> rx, braid::oneshot::Sender<bool> done) -> braid::Task<> {
            // The paused clock jumps to the deadline once the task is idle.
            auto r = co_await braid::timeout(1s, recv_one(std::move(rx)));
            (void)done.send(!r.has_value());
        }(std::move(rx), std::move(done_tx))).detach();
        bool timed_out = false;
        std::optional<Tracked> back;
        bool closed_seen = false;
        std::thread sender([&, tx = std::move(tx)]() mutable {
            timed_out = done_rx.blocking_recv();
            closed_seen = tx.is_closed();
            back = tx.send(Tracked(7));
        });
        sender.join();
        REQUIRE(timed_out);
        REQUIRE(closed_seen);
        REQUIRE(back.has_value());
        REQUIRE(back->value == 7);
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("thread_idioms.a watch sender on a plain thread: the task's changed loop ends on the last value then sees the close") {
    Watchdog wd("watch from a thread");
    auto rt = braid_test::runtime(2);
    for (int round = 0; round < 20; ++round) {
        auto [tx, rx] = braid::watch::channel<long>(0);
        const long n = 2000 / kScale;
        auto watcher = rt.spawn([](braid::watch::Receiver<long> rx) -> braid::Task<long> {
            long last = 0;
            for (;;) {
                bool changed = co_await rx.changed();
                if (!changed) break;
                long v = *rx.borrow_and_update();
                EXPECT(v > last);  // each change is a newer value
                last = v;
            }
            co_return last;
        }(std::move(rx)));
        std::thread sender([tx = std::move(tx)]() mutable {
            for (long v = 1; v <= n; ++v) (void)tx.send(v);
        });  // the sender is dropped when the thread ends
        sender.join();
        REQUIRE(join_within(watcher));
        REQUIRE(watcher.take() == n);
    }
}

TEST_CASE("thread_idioms.broadcast senders on plain threads: every receiver task gets every value once in each sender's order") {
    Watchdog wd("broadcast from threads");
    Tracked::reset();
    {
        auto rt = braid_test::runtime(2);
        constexpr int kSenders = 2;
        constexpr int kReceivers = 3;
        const int each = 500 / kScale;
        // Room for everything: no receiver lags.
        auto tx = braid::broadcast::channel<Tracked>(std::size_t(kSenders * each));
        std::vector<braid::JoinHandle<std::string>> rxs;
        for (int r = 0; r < kReceivers; ++r) {
            auto rx = tx.subscribe();
            rxs.push_back(rt.spawn([](braid::broadcast::Receiver<Tracked> rx, int each) -> braid::Task<std::string> {
                std::vector<int> last(kSenders, -1);
                int got = 0;
                for (;;) {
                    auto r = co_await rx.recv();
                    if (r.is_closed()) break;
                    if (!r) co_return "lagged";
                    int x = r->value;
                    int from = x / each;
                    if (from < 0 || from >= kSenders || x <= last[std::size_t(from)]) co_return "out of order";
                    last[std::size_t(from)] = x;
                    ++got;
                }
                if (got != kSenders * each) co_return "received " + std::to_string(got);
                co_return "";
            }(std::move(rx), each)));
        }
        std::vector<std::thread> ts;
        std::atomic<int> refused{0};
        for (int s = 0; s < kSenders; ++s)
            ts.emplace_back([&refused, s, tx = tx] {
                for (int i = 0; i < each; ++i)
                    if (tx.send(Tracked(s * each + i))) refused.fetch_add(1);
            });
        { auto drop = std::move(tx); }
        for (auto& t : ts) t.join();
        REQUIRE(refused.load() == 0);
        for (auto& h : rxs) {
            REQUIRE(join_within(h));
            REQUIRE(h.take() == "");
        }
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("thread_idioms.Mutex blocking_lock from plain threads while tasks hold and await the lock: no increment lost") {
    Watchdog wd("blocking_lock against tasks");
    auto rt = braid_test::runtime(2);
    braid::Mutex<long> m(0);
    constexpr int kTasks = 6;
    constexpr int kThreads = 2;
    const int each = 2000 / kScale;
    std::vector<braid::JoinHandle<void>> hs;
    for (int t = 0; t < kTasks; ++t)
        hs.push_back(rt.spawn([](braid::Mutex<long>* m, int each) -> braid::Task<> {
            for (int i = 0; i < each; ++i) {
                auto g = co_await m->lock();
                long v = *g;
                if (i % 16 == 0) co_await braid::yield_now();  // held across a suspension
                *g = v + 1;
            }
        }(&m, each)));
    std::vector<std::thread> ts;
    for (int t = 0; t < kThreads; ++t)
        ts.emplace_back([&m] {
            for (int i = 0; i < each; ++i) {
                auto g = m.blocking_lock();
                long v = *g;
                if (i % 16 == 0) std::this_thread::yield();
                *g = v + 1;
            }
        });
    for (auto& t : ts) t.join();
    for (auto& h : hs) {
        REQUIRE(join_within(h));
        h.take();
    }
    REQUIRE(**m.try_lock() == long(kTasks + kThreads) * each);
}

TEST_CASE("thread_idioms.permits added from a plain thread one at a time wake each waiting task once") {
    Watchdog wd("add_permits from a thread");
    auto rt = braid_test::runtime(2);
    for (int round = 0; round < 10; ++round) {
        braid::Semaphore sem(0);
        const int n = 200 / kScale + 10;
        std::atomic<int> acquired{0};
        std::latch queued(n);
        std::vector<braid::JoinHandle<void>> hs;
        for (int i = 0; i < n; ++i)
            hs.push_back(rt.spawn([](braid::Semaphore* s, std::atomic<int>* got, std::latch* q) -> braid::Task<> {
                auto a = s->acquire();
                q->count_down();
                auto p = co_await std::move(a);
                p.forget();
                got->fetch_add(1);
            }(&sem, &acquired, &queued)));
        std::thread adder([&] {
            queued.wait();
            for (int i = 0; i < n; ++i) sem.add_permits(1);
        });
        adder.join();
        for (auto& h : hs) {
            REQUIRE(join_within(h));
            h.take();
        }
        INFO("round " << round);
        REQUIRE(acquired.load() == n);
        REQUIRE(sem.available_permits() == 0);
    }
}

TEST_CASE("thread_idioms.Notify ping-pong between a plain thread and a task loses no wake-up") {
    Watchdog wd("notify ping-pong");
    for (int workers : {1, 2}) {
        auto rt = braid_test::runtime(workers);
        braid::Notify ping, pong;
        const int n = 5000 / kScale;
        auto task = rt.spawn([](braid::Notify* ping, braid::Notify* pong, int n) -> braid::Task<> {
            for (int i = 0; i < n; ++i) {
                co_await ping->notified();
                pong->notify_one();
            }
        }(&ping, &pong, n));
        std::thread th([&] {
            for (int i = 0; i < n; ++i) {
                ping.notify_one();
                pong.blocking_notified();
            }
        });
        th.join();
        REQUIRE(join_within(task));
        task.take();
        // Each notify_one was consumed: nothing is stored on either side.
        REQUIRE_FALSE(ping.try_notified());
        REQUIRE_FALSE(pong.try_notified());
    }
}

TEST_CASE("thread_idioms.notify_waiters from a plain thread wakes every enabled waiter and stores no permit") {
    Watchdog wd("notify_waiters from a thread");
    auto rt = braid_test::runtime(2);
    for (int round = 0; round < 20; ++round) {
        braid::Notify n;
        constexpr int kWaiters = 8;
        std::latch enabled(kWaiters);
        std::vector<braid::JoinHandle<void>> hs;
        for (int i = 0; i < kWaiters; ++i)
            hs.push_back(rt.spawn([](braid::Notify* n, std::latch* enabled) -> braid::Task<> {
                auto w = n->notified();
                bool already = w.enable();
                EXPECT(!already);
                enabled->count_down();
                co_await w;
            }(&n, &enabled)));
        std::thread th([&] {
            enabled.wait();
            n.notify_waiters();
        });
        th.join();
        for (auto& h : hs) {
            REQUIRE(join_within(h));
            h.take();
        }
        INFO("round " << round);
        REQUIRE_FALSE(n.try_notified());  // notify_waiters stores nothing (Tokio)
    }
}

TEST_CASE("thread_idioms.notify_one from plain threads racing with waiters being enabled: every notification is consumed once") {
    // Tokio: notify_one wakes one waiter or stores one permit; n calls with
    // waiters arriving concurrently must let exactly n waits through in
    // total, never more (a permit counted twice) and never fewer (lost).
    Watchdog wd("notify_one racing waiters");
    auto rt = braid_test::runtime(2);
    for (int round = 0; round < 20; ++round) {
        braid::Notify n;
        const int waits = 400 / kScale + 20;
        std::atomic<int> woken{0};
        auto waiter = rt.spawn([](braid::Notify* n, std::atomic<int>* woken, int waits) -> braid::Task<> {
            for (int i = 0; i < waits; ++i) {
                co_await n->notified();
                woken->fetch_add(1);
            }
        }(&n, &woken, waits));
        std::vector<std::thread> ts;
        // Two threads, each notifying half: the waiter must see every one
        // (a notify_one that finds no waiter stores a permit, but only one:
        // so each thread waits until its previous notification was taken).
        for (int t = 0; t < 2; ++t)
            ts.emplace_back([&, t] {
                for (int i = t; i < waits; i += 2) {
                    while (woken.load() < i) std::this_thread::yield();
                    n.notify_one();
                }
            });
        for (auto& t : ts) t.join();
        REQUIRE(join_within(waiter));
        waiter.take();
        INFO("round " << round);
        REQUIRE(woken.load() == waits);
        REQUIRE_FALSE(n.try_notified());
    }
}

TEST_CASE("thread_idioms.a CancellationToken cancelled from a plain thread ends tasks in select loops and no message is lost") {
    Watchdog wd("token cancelled from a thread");
    Tracked::reset();
    {
        auto rt = braid_test::runtime(2);
        constexpr int kTasks = 4;
        braid::CancellationToken token;
        std::latch busy(kTasks);
        std::vector<braid::JoinHandle<int>> hs;
        std::vector<std::thread> feeders;
        std::vector<std::unique_ptr<std::atomic<int>>> sent;
        for (int t = 0; t < kTasks; ++t) {
            auto [tx, rx] = braid::mpsc::channel<Tracked>(4);
            hs.push_back(rt.spawn([](braid::CancellationToken tok, braid::mpsc::Receiver<Tracked> rx,
                                     std::latch* busy) -> braid::Task<int> {
                int got = 0;
                for (;;) {
                    auto r = co_await braid::select(tok.cancelled(), rx.recv());
                    if (r.index() == 0) break;
                    if (!std::get<1>(r)) break;
                    if (++got == 10) busy->count_down();
                }
                co_return got;  // the receiver goes: the feeder's blocking_send hands its value back
            }(token, std::move(rx), &busy)));
            sent.push_back(std::make_unique<std::atomic<int>>(0));
            feeders.emplace_back([tx = std::move(tx), s = sent.back().get()] {
                for (int i = 0;; ++i) {
                    if (tx.blocking_send(Tracked(i))) return;
                    s->fetch_add(1);
                }
            });
        }
        std::thread canceller([&] {
            busy.wait();
            token.cancel();
        });
        canceller.join();
        for (auto& f : feeders) f.join();
        for (int t = 0; t < kTasks; ++t) {
            REQUIRE(join_within(hs[std::size_t(t)]));
            int got = hs[std::size_t(t)].take();
            INFO("task " << t);
            REQUIRE(got >= 10);
            // Received, or still buffered when the receiver went.
            REQUIRE(sent[std::size_t(t)]->load() >= got);
            REQUIRE(sent[std::size_t(t)]->load() <= got + 4);
        }
    }
    REQUIRE(Tracked::live() == 0);
}

// ---- handles on plain threads ------------------------------------------------------

TEST_CASE("thread_idioms.Handle spawn from many plain threads at once with a task joining every handle") {
    Watchdog wd("Handle::spawn from threads");
    Tracked::reset();
    {
        auto rt = braid_test::runtime(2);
        auto h = rt.handle();
        constexpr int kThreads = 4;
        const int each = 1000 / kScale;
        auto [tx, rx] = braid::mpsc::unbounded_channel<braid::JoinHandle<int>>();
        auto joiner = rt.spawn([](braid::mpsc::UnboundedReceiver<braid::JoinHandle<int>> rx) -> braid::Task<long> {
            long sum = 0;
            while (auto jh = co_await rx.recv()) sum += co_await *jh;
            co_return sum;
        }(std::move(rx)));
        std::latch start(kThreads);
        std::vector<std::thread> ts;
        for (int t = 0; t < kThreads; ++t)
            ts.emplace_back([&start, &h, t, tx = tx] {
                start.arrive_and_wait();
                for (int i = 0; i < each; ++i) {
                    int v = t * each + i;
                    auto jh = h.spawn([](Tracked x) -> braid::Task<int> {
                        if (x.value % 3 == 0) co_await braid::yield_now();
                        co_return x.value;
                    }(Tracked(v)));
                    EXPECT_ANYWHERE(!tx.send(std::move(jh)));
                }
            });
        { auto drop = std::move(tx); }
        for (auto& t : ts) t.join();
        REQUIRE(join_within(joiner));
        long n = long(kThreads) * each;
        REQUIRE(joiner.take() == n * (n - 1) / 2);
    }
    REQUIRE(Tracked::live() == 0);
    REQUIRE(braid_test::worker_failures() == 0);
}

TEST_CASE("thread_idioms.plain threads calling Handle block_on in a loop across a shutdown end cleanly") {
    // Each block_on gives its value, or ends with TaskCancelled (the
    // shutdown caught it) or BRAID_ESHUTDOWN (it started after); once one
    // is refused every later one is.  Every frame is destroyed.
    Watchdog wd("block_on racing a shutdown");
    for (int flavour = 0; flavour < 2; ++flavour) {
        for (int round = 0; round < 10; ++round) {
            Tracked::reset();
            std::optional<braid::Runtime> rt(flavour == 0 ? braid_test::runtime(2)
                                                          : braid_test::current_thread_runtime());
            constexpr int kThreads = 3;
            std::atomic<int> ok{0}, cancelled{0}, refused{0}, wrong{0}, other{0};
            std::latch running(kThreads);
            std::vector<std::thread> ts;
            for (int t = 0; t < kThreads; ++t)
                ts.emplace_back([&, t, h = rt->handle()] {
                    bool first = true, refused_once = false;
                    for (int i = 0;; ++i) {
                        try {
                            int v = h.block_on([](Tracked x) -> braid::Task<int> {
                                auto child = braid::spawn([](Tracked y) -> braid::Task<int> {
                                    co_await braid::yield_now();
                                    co_return y.value;
                                }(Tracked(x.value)));
                                co_return co_await child;
                            }(Tracked(t * 1000000 + i)));
                            if (v != t * 1000000 + i) wrong.fetch_add(1);
                            if (refused_once) wrong.fetch_add(1);  // accepted after a refusal
                            ok.fetch_add(1);
                        } catch (const braid::TaskCancelled&) {
                            cancelled.fetch_add(1);
                        } catch (const braid::Error& e) {
                            if (e.code() == BRAID_ESHUTDOWN) {
                                refused.fetch_add(1);
                                refused_once = true;
                            } else {
                                other.fetch_add(1);
                            }
                        }
                        if (first) {
                            first = false;
                            running.count_down();
                        }
                        if (refused_once) return;
                    }
                });
            running.wait();
            rt.reset();
            for (auto& t : ts) t.join();
            INFO("flavour " << flavour << " round " << round);
            REQUIRE(wrong.load() == 0);
            REQUIRE(other.load() == 0);
            REQUIRE(refused.load() == kThreads);
            REQUIRE(Tracked::live() == 0);
        }
    }
}

TEST_CASE("thread_idioms.a plain thread keeps JoinHandles past their runtime and awaits them through another runtime") {
    Watchdog wd("JoinHandle past its runtime");
    Tracked::reset();
    {
        auto other = braid_test::runtime(1);
        std::optional<braid::Runtime> rt(braid_test::runtime(2));
        auto done = rt->spawn([](Tracked t) -> braid::Task<int> { co_return t.value; }(Tracked(5)));
        auto stuck = rt->spawn([](Tracked t) -> braid::Task<int> {
            co_await braid_test::pending();
            co_return t.value;
        }(Tracked(6)));
        REQUIRE(join_within(done));
        std::latch gone(1);
        int value = 0, stuck_code = 0;
        std::thread th([&, done = std::move(done), stuck = std::move(stuck)]() mutable {
            gone.wait();
            value = other.block_on([](braid::JoinHandle<int> h) -> braid::Task<int> {
                co_return co_await h;
            }(std::move(done)));
            stuck_code = braid_test::error_code_of([&] {
                other.block_on([](braid::JoinHandle<int> h) -> braid::Task<int> {
                    co_return co_await h;
                }(std::move(stuck)));
            });
        });
        rt.reset();
        gone.count_down();
        th.join();
        REQUIRE(value == 5);
        REQUIRE(stuck_code == BRAID_ECANCELED);
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("thread_idioms.Runtime enter guards on many plain threads: spawn sleep and Handle current use the entered runtime") {
    Watchdog wd("enter on threads");
    auto a = braid_test::runtime(2);
    auto b = braid_test::runtime(1);
    constexpr int kThreads = 4;
    std::atomic<int> wrong{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < kThreads; ++t)
        ts.emplace_back([&, t] {
            auto& mine = t % 2 ? a : b;
            for (int i = 0; i < 50; ++i) {
                if (braid::Handle::try_current()) wrong.fetch_add(1);
                {
                    auto g = mine.enter();
                    auto h = braid::Handle::current();
                    if (h.native_handle() == nullptr) wrong.fetch_add(1);
                    auto jh = braid::spawn([](int v) -> braid::Task<int> {
                        co_await braid::sleep(0ms);
                        co_return v;
                    }(i));
                    // A guard only makes the runtime current: the thread may still block.
                    if (braid_task_join_blocking(jh.native_handle(), kJoinMs) != BRAID_OK) wrong.fetch_add(1);
                    else if (jh.take() != i) wrong.fetch_add(1);
                    {
                        auto inner = (t % 2 ? b : a).enter();  // nested: the other runtime
                        auto jh2 = braid::spawn([]() -> braid::Task<int> { co_return 1; }());
                        if (braid_task_join_blocking(jh2.native_handle(), kJoinMs) != BRAID_OK) wrong.fetch_add(1);
                    }
                    // The outer guard is back.
                    if (braid::Handle::current().native_handle() == nullptr) wrong.fetch_add(1);
                }
                if (braid::Handle::try_current()) wrong.fetch_add(1);
            }
        });
    for (auto& t : ts) t.join();
    REQUIRE(wrong.load() == 0);
}

TEST_CASE("thread_idioms.a thread entered into a runtime that another thread shuts down: spawns are cancelled and the guard drops") {
    Watchdog wd("entered across a shutdown");
    Tracked::reset();
    {
        std::optional<braid::Runtime> rt(braid_test::runtime(2));
        std::latch entered(1), gone(1);
        bool cancelled_after = false;
        std::thread th([&] {
            auto g = rt->enter();
            entered.count_down();
            gone.wait();
            auto jh = braid::spawn([](Tracked t) -> braid::Task<int> { co_return t.value; }(Tracked(1)));
            cancelled_after = braid_test::error_code_of([&] {
                (void)braid_task_join_blocking(jh.native_handle(), kJoinMs);
                jh.take();
            }) == BRAID_ECANCELED;
        });  // the guard drops after the runtime is gone
        entered.wait();
        rt.reset();
        gone.count_down();
        th.join();
        REQUIRE(cancelled_after);
    }
    REQUIRE(Tracked::live() == 0);
}

// ---- the C ABI as a C program uses it --------------------------------------------

namespace {

// A C runtime, freed with the object (braid_runtime_free: nothing of it runs
// afterwards).
struct CRt {
    braid_runtime* rt = nullptr;
    explicit CRt(int workers = 2) {
        braid_runtime_builder* b = nullptr;
        REQUIRE(braid_runtime_builder_new(&b) == BRAID_OK);
        REQUIRE(braid_runtime_builder_worker_threads(b, workers) == BRAID_OK);
        REQUIRE(braid_runtime_build(&rt, b) == BRAID_OK);
        braid_runtime_builder_free(b);
    }
    ~CRt() { free(); }
    void free() {
        if (rt) braid_runtime_free(rt);
        rt = nullptr;
    }
    CRt(const CRt&) = delete;
    CRt& operator=(const CRt&) = delete;
};

// The context a C caller hands to a poll function as wake_data.  Once the
// caller withdrew the registration it marks the context dead (and frees it
// at once in half the rounds: ASan then sees any later call); a waker that
// runs on a dead context is the bug.
struct WakeCtx {
    std::atomic<bool> live{true};
    std::atomic<int> wakes{0};
    static void wake(void* p) {
        auto* c = static_cast<WakeCtx*>(p);
        EXPECT_ANYWHERE(c->live.load());
        c->wakes.fetch_add(1);
    }
};

// One kind of registration: set up, arm (register WakeCtx::wake), fire
// (from another thread: what makes it ready), withdraw (variant v: the ways
// the API offers), clean up.
struct WithdrawCase {
    const char* name;
    int variants;
    std::function<void()> setup;
    std::function<int(braid_wake_fn, void*)> arm;
    std::function<void()> fire;
    std::function<void(int)> withdraw;
    std::function<void()> teardown;
};

// Races the firing with the withdrawal, `rounds` times.  Returns how many
// rounds really raced (the registration was pending when armed).
int withdraw_race(WithdrawCase& c, int rounds) {
    int raced = 0;
    for (int r = 0; r < rounds; ++r) {
        c.setup();
        auto* ctx = new WakeCtx;
        int rc = c.arm(&WakeCtx::wake, ctx);
        EXPECT_ANYWHERE(rc == BRAID_PENDING || rc == BRAID_OK);
        if (rc == BRAID_PENDING) ++raced;
        std::latch go(2);
        std::thread firer([&] {
            go.arrive_and_wait();
            c.fire();
        });
        go.arrive_and_wait();
        for (int spin = 0; spin < r % 7; ++spin) std::this_thread::yield();  // vary who is first
        c.withdraw(r % c.variants);
        ctx->live.store(false);
        bool freed = r % 2 == 1;
        if (freed) delete ctx;
        firer.join();
        if (!freed) delete ctx;
        c.teardown();
    }
    return raced;
}

}  // namespace

TEST_CASE("thread_idioms.a C waker withdrawn while another thread makes it ready is never called after the withdrawal returns") {
    // docs/c-api.md ("NULL waker") and braid/unstable/waiter.h: once the
    // withdrawal returns, "that waker is not running and will never be
    // called" -- so a C caller may free its wake_data right then.
    Watchdog wd("waker withdrawn under a race");
    CRt rt(2);
    const int rounds = 400 / kScale + 20;
    braid_mpsc_tx* mtx = nullptr;
    braid_mpsc_rx* mrx = nullptr;
    braid_oneshot_tx* otx = nullptr;
    braid_oneshot_rx* orx = nullptr;
    braid_timer* timer = nullptr;
    braid_task* task = nullptr;
    braid_oneshot_tx* gate_tx = nullptr;  // what lets the task of "task join" finish
    braid_notify* notify = nullptr;
    braid_mutex* mutex = nullptr;
    braid_semaphore* sem = nullptr;
    braid_token* token = nullptr;
    braid_watch_tx* wtx = nullptr;
    braid_watch_rx* wrx = nullptr;
    braid_waiter* w = nullptr;
    long buf = 0;
    long one = 1;
    // A future that ends once a value comes on its oneshot: the firing
    // thread sends, and never touches the task's handle (which the
    // withdrawal may be freeing meanwhile).
    struct Gate {
        braid_oneshot_rx* rx;
        long got;
        static int poll(void* s, braid_task* task) {
            auto* g = static_cast<Gate*>(s);
            int rc = braid_oneshot_poll_recv(g->rx, &braid_task_wake_fn, task, &g->got, sizeof g->got);
            return rc == BRAID_PENDING ? BRAID_PENDING : BRAID_OK;
        }
        static void release(void* s) { braid_oneshot_rx_free(static_cast<Gate*>(s)->rx); }
    };
    std::vector<WithdrawCase> cases = {
        {"mpsc receive", 3,
         [&] { REQUIRE(braid_mpsc_new(&mtx, &mrx, 4, sizeof(long), alignof(long), nullptr, nullptr) == BRAID_OK); },
         [&](braid_wake_fn f, void* d) { return braid_mpsc_poll_recv(mrx, &buf, sizeof buf, f, d); },
         [&] { (void)braid_mpsc_try_send(mtx, &one, sizeof one); },
         [&](int v) {
             if (v == 0) (void)braid_mpsc_poll_recv(mrx, nullptr, 0, nullptr, nullptr);
             else if (v == 1) (void)braid_mpsc_recv_unregister(mrx);
             else braid_mpsc_rx_free(std::exchange(mrx, nullptr));
         },
         [&] {
             braid_mpsc_tx_free(mtx);
             braid_mpsc_rx_free(mrx);
             mtx = nullptr;
             mrx = nullptr;
         }},
        {"mpsc receive woken by the last sender's drop", 2,
         [&] { REQUIRE(braid_mpsc_new(&mtx, &mrx, 4, sizeof(long), alignof(long), nullptr, nullptr) == BRAID_OK); },
         [&](braid_wake_fn f, void* d) { return braid_mpsc_poll_recv(mrx, &buf, sizeof buf, f, d); },
         [&] { braid_mpsc_tx_free(std::exchange(mtx, nullptr)); },
         [&](int v) {
             if (v == 0) (void)braid_mpsc_poll_recv(mrx, nullptr, 0, nullptr, nullptr);
             else (void)braid_mpsc_recv_unregister(mrx);
         },
         [&] {
             braid_mpsc_rx_free(mrx);
             mrx = nullptr;
         }},
        {"oneshot receive", 3,
         [&] { REQUIRE(braid_oneshot_new(&otx, &orx, sizeof(long), alignof(long), nullptr, nullptr) == BRAID_OK); },
         [&](braid_wake_fn f, void* d) { return braid_oneshot_poll_recv(orx, f, d, &buf, sizeof buf); },
         [&] { (void)braid_oneshot_send(std::exchange(otx, nullptr), &one, sizeof one); },  // consumes the sender
         [&](int v) {
             if (v == 0) (void)braid_oneshot_poll_recv(orx, nullptr, nullptr, nullptr, 0);
             else if (v == 1) (void)braid_oneshot_recv_unregister(orx);
             else braid_oneshot_rx_free(std::exchange(orx, nullptr));
         },
         [&] {
             braid_oneshot_tx_free(otx);
             braid_oneshot_rx_free(orx);
             otx = nullptr;
             orx = nullptr;
         }},
        {"oneshot sender's closed", 2,
         [&] { REQUIRE(braid_oneshot_new(&otx, &orx, sizeof(long), alignof(long), nullptr, nullptr) == BRAID_OK); },
         [&](braid_wake_fn f, void* d) { return braid_oneshot_tx_poll_closed(otx, f, d); },
         [&] { braid_oneshot_rx_free(std::exchange(orx, nullptr)); },
         [&](int v) {
             if (v == 0) (void)braid_oneshot_tx_poll_closed(otx, nullptr, nullptr);
             else braid_oneshot_tx_free(std::exchange(otx, nullptr));
         },
         [&] {
             braid_oneshot_tx_free(otx);
             otx = nullptr;
         }},
        {"timer", 2,
         [&] { REQUIRE(braid_timer_new(&timer, rt.rt, braid_now(rt.rt) + 50000) == BRAID_OK); },
         [&](braid_wake_fn f, void* d) { return braid_timer_poll_elapsed(timer, f, d); },
         [&] {},  // the reactor fires it
         [&](int v) {
             if (v == 0) (void)braid_timer_poll_elapsed(timer, nullptr, nullptr);
             else braid_timer_free(std::exchange(timer, nullptr));
         },
         [&] {
             braid_timer_free(timer);
             timer = nullptr;
         }},
        {"task join", 2,
         [&] {
             braid_oneshot_rx* grx = nullptr;
             REQUIRE(braid_oneshot_new(&gate_tx, &grx, sizeof(long), alignof(long), nullptr, nullptr) == BRAID_OK);
             void* state = nullptr;
             REQUIRE(braid_task_new(&task, &state, rt.rt, sizeof(Gate), &Gate::poll, nullptr, &Gate::release) ==
                     BRAID_OK);
             new (state) Gate{grx, 0};
             REQUIRE(braid_task_start(task) == BRAID_OK);
         },
         [&](braid_wake_fn f, void* d) { return braid_task_poll_join(task, f, d); },
         [&] { (void)braid_oneshot_send(std::exchange(gate_tx, nullptr), &one, sizeof one); },
         [&](int v) {
             if (v == 0) (void)braid_task_poll_join(task, nullptr, nullptr);
             else braid_task_free(std::exchange(task, nullptr));  // removes the registration too
         },
         [&] {
             if (task) {
                 EXPECT_ANYWHERE(braid_task_join_blocking(task, kJoinMs) == BRAID_OK);
                 braid_task_free(task);
             }
             task = nullptr;
         }},
        {"notify (waiter protocol)", 3, [&] { REQUIRE(braid_notify_new(&notify) == BRAID_OK); },
         [&](braid_wake_fn f, void* d) { return braid_notify_poll_notified(notify, &w, f, d); },
         [&] { braid_notify_notify_one(notify); },
         [&](int v) {
             if (v == 0) (void)braid_notify_poll_notified(notify, &w, nullptr, nullptr);
             else if (v == 1) braid_notify_unregister_notified(notify, &w);
             else braid_notify_cancel_notified(notify, &w);
         },
         [&] {
             braid_notify_cancel_notified(notify, &w);
             braid_notify_free(notify);
             notify = nullptr;
         }},
        {"mutex lock (waiter protocol)", 2,
         [&] {
             REQUIRE(braid_mutex_new(&mutex) == BRAID_OK);
             REQUIRE(braid_mutex_try_lock(mutex) == BRAID_OK);
         },
         [&](braid_wake_fn f, void* d) { return braid_mutex_poll_lock(mutex, &w, f, d); },
         [&] { EXPECT_ANYWHERE(braid_mutex_unlock(mutex) == BRAID_OK); },
         [&](int v) {
             if (v == 0) braid_mutex_unregister_lock(mutex, &w);
             else braid_mutex_cancel_lock(mutex, &w);
         },
         [&] {
             braid_mutex_cancel_lock(mutex, &w);  // a lock granted to it goes back
             EXPECT_ANYWHERE(braid_mutex_try_lock(mutex) == BRAID_OK);
             braid_mutex_unlock(mutex);
             braid_mutex_free(mutex);
             mutex = nullptr;
         }},
        {"semaphore acquire (waiter protocol)", 2, [&] { REQUIRE(braid_semaphore_new(&sem, 0) == BRAID_OK); },
         [&](braid_wake_fn f, void* d) { return braid_semaphore_poll_acquire(sem, 1, &w, f, d); },
         [&] { EXPECT_ANYWHERE(braid_semaphore_release(sem, 1) == BRAID_OK); },
         [&](int v) {
             if (v == 0) braid_semaphore_unregister_acquire(sem, &w);
             else braid_semaphore_cancel_acquire(sem, &w);
         },
         [&] {
             braid_semaphore_cancel_acquire(sem, &w);  // a granted permit goes back
             EXPECT_ANYWHERE(braid_semaphore_available_permits(sem) == 1);
             braid_semaphore_free(sem);
             sem = nullptr;
         }},
        {"cancellation token (waiter protocol)", 2, [&] { REQUIRE(braid_token_new(&token) == BRAID_OK); },
         [&](braid_wake_fn f, void* d) { return braid_token_poll_cancelled(token, &w, f, d); },
         [&] { braid_token_cancel(token); },
         [&](int v) {
             if (v == 0) braid_token_unregister_wait(token, &w);
             else braid_token_cancel_wait(token, &w);
         },
         [&] {
             braid_token_cancel_wait(token, &w);
             braid_token_free(token);
             token = nullptr;
         }},
        {"watch changed (waiter protocol)", 2,
         [&] {
             long init = 0;
             REQUIRE(braid_watch_new(&wtx, &wrx, &init, sizeof(long), alignof(long), nullptr, nullptr) == BRAID_OK);
         },
         [&](braid_wake_fn f, void* d) { return braid_watch_rx_poll_changed(wrx, &w, f, d); },
         [&] {
             long v = 2;
             (void)braid_watch_send(wtx, &v, sizeof v);
         },
         [&](int v) {
             if (v == 0) braid_watch_rx_unregister_changed(wrx, &w);
             else braid_watch_rx_cancel_changed(wrx, &w);
         },
         [&] {
             braid_watch_rx_cancel_changed(wrx, &w);
             braid_watch_rx_free(wrx);
             braid_watch_tx_free(wtx);
             wrx = nullptr;
             wtx = nullptr;
         }},
    };
    for (auto& c : cases) {
        int raced = withdraw_race(c, rounds);
        INFO(c.name);
        REQUIRE(raced > 0);
        REQUIRE(w == nullptr);
    }
    REQUIRE(braid_test::worker_failures() == 0);
}

namespace {

// What a callback operation reported: how often it was called and with what.
struct CallRecord {
    std::atomic<int> calls{0};
    std::atomic<int> status{1000};
    static void cb(void* p, int st) {
        auto* r = static_cast<CallRecord*>(p);
        r->status.store(st);
        r->calls.fetch_add(1);
    }
};

// Waits (bounded) until `r` was called once; false if it never was.
bool called_within(const CallRecord& r) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(kJoinMs);
    while (r.calls.load() == 0 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    return r.calls.load() > 0;
}

}  // namespace

TEST_CASE("thread_idioms.C callback waits aborted and freed from a thread while another thread completes them") {
    // The op's completion (a value sent, the lock released, a permit
    // released) and its abort + free race on three threads.  The callback
    // runs once, with BRAID_OK (and then the caller got it) or with
    // BRAID_ECANCELED (and then nothing was taken: the value, the lock or
    // the permit is still there for the next one).
    Watchdog wd("callback waits aborted in flight");
    CRt rt(2);
    const int rounds = 300 / kScale + 20;
    int ok[3] = {0, 0, 0}, cancelled[3] = {0, 0, 0};
    for (int r = 0; r < rounds; ++r) {
        for (int kind = 0; kind < 3; ++kind) {
            braid_mpsc_tx* tx = nullptr;
            braid_mpsc_rx* rx = nullptr;
            braid_mutex* m = nullptr;
            braid_semaphore* s = nullptr;
            long buf = -1;
            CallRecord rec;
            braid_task* op = nullptr;
            if (kind == 0) {
                REQUIRE(braid_mpsc_new(&tx, &rx, 2, sizeof(long), alignof(long), nullptr, nullptr) == BRAID_OK);
                REQUIRE(braid_mpsc_recv(&op, rt.rt, rx, &buf, sizeof buf, &CallRecord::cb, &rec) == BRAID_OK);
            } else if (kind == 1) {
                REQUIRE(braid_mutex_new(&m) == BRAID_OK);
                REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
                REQUIRE(braid_mutex_lock(&op, rt.rt, m, &CallRecord::cb, &rec) == BRAID_OK);
            } else {
                REQUIRE(braid_semaphore_new(&s, 0) == BRAID_OK);
                REQUIRE(braid_semaphore_acquire(&op, rt.rt, s, 1, &CallRecord::cb, &rec) == BRAID_OK);
            }
            std::latch go(3);
            std::thread completer([&] {
                go.arrive_and_wait();
                if (kind == 0) {
                    long v = 42;
                    EXPECT_ANYWHERE(braid_mpsc_try_send(tx, &v, sizeof v) == BRAID_OK);
                } else if (kind == 1) {
                    EXPECT_ANYWHERE(braid_mutex_unlock(m) == BRAID_OK);
                } else {
                    EXPECT_ANYWHERE(braid_semaphore_release(s, 1) == BRAID_OK);
                }
            });
            std::thread aborter([&] {
                go.arrive_and_wait();
                for (int spin = 0; spin < r % 5; ++spin) std::this_thread::yield();
                EXPECT_ANYWHERE(braid_task_abort(op) == BRAID_OK);
                braid_task_free(op);
            });
            go.arrive_and_wait();
            completer.join();
            aborter.join();
            INFO("round " << r << " kind " << kind);
            REQUIRE(called_within(rec));
            int st = rec.status.load();
            REQUIRE((st == BRAID_OK || st == BRAID_ECANCELED));
            (st == BRAID_OK ? ok : cancelled)[kind]++;
            if (kind == 0) {
                long again = -1;
                int rc = braid_mpsc_try_recv(rx, &again, sizeof again);
                if (st == BRAID_OK) {
                    REQUIRE(buf == 42);
                    REQUIRE(rc == BRAID_EAGAIN);  // taken once
                } else {
                    REQUIRE(buf == -1);
                    REQUIRE(rc == BRAID_OK);  // still there
                    REQUIRE(again == 42);
                }
                braid_mpsc_tx_free(tx);
                braid_mpsc_rx_free(rx);
            } else if (kind == 1) {
                // OK: the lock is ours; cancelled: it went back.
                REQUIRE(braid_mutex_try_lock(m) == (st == BRAID_OK ? BRAID_EAGAIN : BRAID_OK));
                REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
                braid_mutex_free(m);
            } else {
                REQUIRE(braid_semaphore_available_permits(s) == (st == BRAID_OK ? 0u : 1u));
                braid_semaphore_free(s);
            }
            // Still called exactly once: the workers are idle by now.
            REQUIRE(rec.calls.load() == 1);
        }
    }
    rt.free();  // nothing of the runtime runs after this
    UNSCOPED_INFO("mpsc " << ok[0] << "/" << cancelled[0] << " mutex " << ok[1] << "/" << cancelled[1]
                          << " semaphore " << ok[2] << "/" << cancelled[2]);
    REQUIRE(braid_test::worker_failures() == 0);
}

TEST_CASE("thread_idioms.C threads start callback operations on data they own and return once every callback fired") {
    // The C idiom: the caller's context lives on its stack and the
    // callbacks, on braid's workers, report into it under the caller's
    // mutex; the caller returns once each one fired, and its stack goes.
    Watchdog wd("C threads owning callback data");
    CRt rt(2);
    braid_semaphore* sem = nullptr;
    REQUIRE(braid_semaphore_new(&sem, 0) == BRAID_OK);
    braid_token* tok = nullptr;
    REQUIRE(braid_token_new(&tok) == BRAID_OK);
    constexpr int kThreads = 4;
    constexpr int kOps = 24;
    std::atomic<int> bad{0};
    std::latch started(kThreads);
    std::vector<std::thread> ts;
    for (int t = 0; t < kThreads; ++t)
        ts.emplace_back([&] {
            struct Mine {
                std::mutex mu;
                std::condition_variable cv;
                int calls[kOps] = {};
                int status[kOps] = {};
                int done = 0;
            } mine;
            struct Slot {
                Mine* mine;
                int i;
                static void cb(void* p, int st) {
                    auto* s = static_cast<Slot*>(p);
                    std::lock_guard<std::mutex> g(s->mine->mu);
                    s->mine->calls[s->i]++;
                    s->mine->status[s->i] = st;
                    s->mine->done++;
                    s->mine->cv.notify_one();
                }
            } slots[kOps];
            braid_task* ops[kOps] = {};
            for (int i = 0; i < kOps; ++i) {
                slots[i] = Slot{&mine, i};
                int rc = BRAID_OK;
                switch (i % 4) {
                    case 0: rc = braid_sleep(&ops[i], rt.rt, i % 3, &Slot::cb, &slots[i]); break;
                    case 1: rc = braid_semaphore_acquire(&ops[i], rt.rt, sem, 1, &Slot::cb, &slots[i]); break;
                    case 2: rc = braid_token_on_cancel(&ops[i], rt.rt, tok, &Slot::cb, &slots[i]); break;
                    default: rc = braid_sleep(&ops[i], rt.rt, 60000, &Slot::cb, &slots[i]); break;  // aborted below
                }
                if (rc != BRAID_OK) bad.fetch_add(1);
            }
            started.count_down();
            for (int i = 3; i < kOps; i += 4) braid_task_abort(ops[i]);
            auto all_fired = [&] {
                std::unique_lock<std::mutex> l(mine.mu);
                return mine.cv.wait_for(l, std::chrono::milliseconds(kJoinMs), [&] { return mine.done == kOps; });
            };
            if (!all_fired()) {
                // A failure, but one that must not leave a callback aimed at
                // this stack: abort everything and wait for the rest.
                bad.fetch_add(1000);
                for (auto* op : ops) braid_task_abort(op);
                if (!all_fired()) std::abort();
            }
            for (int i = 0; i < kOps; ++i) {
                if (mine.calls[i] != 1) bad.fetch_add(1);
                int want = i % 4 == 3 ? BRAID_ECANCELED : BRAID_OK;
                if (mine.status[i] != want) bad.fetch_add(1);
                braid_task_free(ops[i]);
            }
        });  // `mine` and `slots` go with the thread
    started.wait();
    // Permits are counted: one per acquire, whenever it queues.
    REQUIRE(braid_semaphore_release(sem, kThreads * kOps / 4) == BRAID_OK);
    REQUIRE(braid_token_cancel(tok) == BRAID_OK);
    for (auto& t : ts) t.join();
    rt.free();  // no callback can run after this: none must have been left
    REQUIRE(braid_semaphore_available_permits(sem) == 0);
    braid_token_free(tok);
    braid_semaphore_free(sem);
    REQUIRE(bad.load() == 0);
}

TEST_CASE("thread_idioms.a completion queue drained by a pool of C threads runs every completion once and its fd never lies") {
    // Operations bound to one queue; three host threads wait on its fd with
    // poll(2) and take turns (under the host's own mutex: one drainer at a
    // time, as the API asks) running it.  A completion queued while the fd
    // stays unreadable would leave it stranded: poll's long timeout with
    // completions pending is that failure.
    Watchdog wd("completion queue drained by a pool");
    CRt rt(2);
    braid_completion_queue* q = nullptr;
    REQUIRE(braid_completion_queue_new(&q) == BRAID_OK);
    int qfd = braid_completion_queue_fd(q);
    REQUIRE(qfd >= 0);
    const int kOps = 2000 / kScale;
    std::vector<std::atomic<int>> calls(static_cast<std::size_t>(kOps));
    struct Op {
        std::vector<std::atomic<int>>* calls;
        std::atomic<int>* ran;
        int i;
        static void cb(void* p, int st) {
            auto* o = static_cast<Op*>(p);
            EXPECT_ANYWHERE(st == BRAID_OK);
            (*o->calls)[std::size_t(o->i)].fetch_add(1);
            o->ran->fetch_add(1);
        }
    };
    std::atomic<int> ran{0};
    std::vector<Op> opsdata(static_cast<std::size_t>(kOps));
    std::mutex host;  // one drainer at a time
    std::atomic<bool> stop{false};
    std::atomic<int> stranded{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < 3; ++t)
        pool.emplace_back([&] {
            while (!stop.load()) {
                pollfd p{qfd, POLLIN, 0};
                int r = ::poll(&p, 1, 100);
                if (r == 0) {
                    // Not readable for 100 ms: nothing may be queued then.
                    if (!stop.load() && braid_completion_queue_pending(q) > 0) {
                        // Look again, longer: a post could have landed
                        // between the two calls.
                        r = ::poll(&p, 1, 5000);
                        if (r == 0 && braid_completion_queue_pending(q) > 0) stranded.fetch_add(1);
                    }
                    continue;
                }
                std::lock_guard<std::mutex> g(host);
                int n = braid_completion_queue_run(q, 7);
                EXPECT_ANYWHERE(n >= 0);
            }
        });
    // Two starter threads, each binding its operations to the queue.
    std::vector<std::thread> starters;
    for (int s = 0; s < 2; ++s)
        starters.emplace_back([&, s] {
            EXPECT_ANYWHERE(braid_completion_queue_set_current(q) == BRAID_OK);
            for (int i = s; i < kOps; i += 2) {
                opsdata[std::size_t(i)] = Op{&calls, &ran, i};
                braid_task* op = nullptr;
                int rc = i % 3 == 0 ? braid_spawn(&op, rt.rt, [](void*) {}, nullptr)
                                    : braid_sleep(&op, rt.rt, i % 2, &Op::cb, &opsdata[std::size_t(i)]);
                EXPECT_ANYWHERE(rc == BRAID_OK);
                if (i % 3 == 0) {
                    // a spawned function's join, delivered to the queue
                    EXPECT_ANYWHERE(braid_task_join(op, &Op::cb, &opsdata[std::size_t(i)]) == BRAID_OK);
                }
                braid_task_free(op);
            }
            EXPECT_ANYWHERE(braid_completion_queue_set_current(nullptr) == BRAID_OK);
        });
    for (auto& s : starters) s.join();
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(kJoinMs);
    while (ran.load() < kOps && std::chrono::steady_clock::now() < until && stranded.load() == 0)
        std::this_thread::yield();
    stop.store(true);
    for (auto& t : pool) t.join();
    REQUIRE(stranded.load() == 0);
    REQUIRE(ran.load() == kOps);
    for (auto& c : calls) REQUIRE(c.load() == 1);
    rt.free();
    REQUIRE(braid_completion_queue_run(q, 0) == 0);  // nothing was left over
    REQUIRE(braid_completion_queue_free(q) == BRAID_OK);
    REQUIRE(braid_test::worker_failures() == 0);
}

TEST_CASE("thread_idioms.C blocking waits timing out just as another thread completes them lose nothing and keep nothing") {
    // A *_blocking wait with a short timeout_ms on one thread, the event
    // that completes it on another, at about the same moment.  The wait
    // returns BRAID_OK (it got it) or BRAID_ETIMEDOUT (it got nothing: the
    // value, the room, the lock, the permit or the notification is still
    // there for the next one) -- docs/c-api.md, "Timeouts".
    Watchdog wd("blocking waits timing out under a race");
    const int rounds = 200 / kScale + 20;
    struct Kind {
        const char* name;
        std::function<void()> setup;
        std::function<int(int64_t)> wait;  // on the waiting thread
        std::function<void()> complete;    // on the other thread
        std::function<std::string(int)> check;  // given the wait's result; "" or what is wrong
    };
    braid_mpsc_tx* tx = nullptr;
    braid_mpsc_rx* rx = nullptr;
    braid_oneshot_tx* otx = nullptr;
    braid_oneshot_rx* orx = nullptr;
    braid_mutex* m = nullptr;
    braid_rwlock* rw = nullptr;
    braid_semaphore* sem = nullptr;
    braid_notify* n = nullptr;
    long got = -1;
    std::vector<Kind> kinds = {
        {"mpsc send for room",
         [&] {
             REQUIRE(braid_mpsc_new(&tx, &rx, 1, sizeof(long), alignof(long), nullptr, nullptr) == BRAID_OK);
             long first = 1;
             REQUIRE(braid_mpsc_try_send(tx, &first, sizeof first) == BRAID_OK);  // full
         },
         [&](int64_t ms) {
             long v = 2;
             return braid_mpsc_send_blocking(tx, &v, sizeof v, ms);
         },
         [&] {
             long v = 0;
             EXPECT_ANYWHERE(braid_mpsc_recv_blocking(rx, &v, sizeof v, kJoinMs) == BRAID_OK && v == 1);
         },
         [&](int rc) -> std::string {
             long v = 0;
             int more = braid_mpsc_try_recv(rx, &v, sizeof v);
             std::string bad;
             if (rc == BRAID_OK && !(more == BRAID_OK && v == 2)) bad = "sent but not in the channel";
             if (rc == BRAID_ETIMEDOUT && more != BRAID_EAGAIN) bad = "timed out but sent";
             // the room is free again either way
             long w = 3;
             if (bad.empty() && braid_mpsc_try_send(tx, &w, sizeof w) != BRAID_OK) bad = "room lost";
             braid_mpsc_tx_free(tx);
             braid_mpsc_rx_free(rx);
             return bad;
         }},
        {"mpsc receive",
         [&] { REQUIRE(braid_mpsc_new(&tx, &rx, 2, sizeof(long), alignof(long), nullptr, nullptr) == BRAID_OK); },
         [&](int64_t ms) { return braid_mpsc_recv_blocking(rx, &got, sizeof got, ms); },
         [&] {
             long v = 7;
             EXPECT_ANYWHERE(braid_mpsc_try_send(tx, &v, sizeof v) == BRAID_OK);
         },
         [&](int rc) -> std::string {
             long v = 0;
             int more = braid_mpsc_try_recv(rx, &v, sizeof v);
             std::string bad;
             if (rc == BRAID_OK && !(got == 7 && more == BRAID_EAGAIN)) bad = "received but not once";
             if (rc == BRAID_ETIMEDOUT && !(more == BRAID_OK && v == 7)) bad = "timed out and the value is gone";
             braid_mpsc_tx_free(tx);
             braid_mpsc_rx_free(rx);
             return bad;
         }},
        {"oneshot receive",
         [&] { REQUIRE(braid_oneshot_new(&otx, &orx, sizeof(long), alignof(long), nullptr, nullptr) == BRAID_OK); },
         [&](int64_t ms) { return braid_oneshot_recv_blocking(orx, &got, sizeof got, ms); },
         [&] {
             long v = 9;
             EXPECT_ANYWHERE(braid_oneshot_send(otx, &v, sizeof v) == BRAID_OK);
         },
         [&](int rc) -> std::string {
             long v = 0;
             int more = braid_oneshot_try_recv(orx, &v, sizeof v);
             std::string bad;
             if (rc == BRAID_OK && !(got == 9 && more == BRAID_ECLOSED)) bad = "received but not once";
             if (rc == BRAID_ETIMEDOUT && !(more == BRAID_OK && v == 9)) bad = "timed out and the value is gone";
             braid_oneshot_rx_free(orx);
             return bad;
         }},
        {"mutex lock",
         [&] {
             REQUIRE(braid_mutex_new(&m) == BRAID_OK);
             REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
         },
         [&](int64_t ms) { return braid_mutex_lock_blocking(m, ms); },
         [&] { EXPECT_ANYWHERE(braid_mutex_unlock(m) == BRAID_OK); },
         [&](int rc) -> std::string {
             int again = braid_mutex_try_lock(m);
             std::string bad;
             if (rc == BRAID_OK && again == BRAID_OK) bad = "locked twice";
             if (rc == BRAID_ETIMEDOUT && again != BRAID_OK) bad = "timed out and kept the lock";
             braid_mutex_unlock(m);
             if (braid_mutex_try_lock(m) != BRAID_OK) bad += " / not free at the end";
             braid_mutex_unlock(m);
             braid_mutex_free(m);
             return bad;
         }},
        {"rwlock write",
         [&] {
             REQUIRE(braid_rwlock_new(&rw) == BRAID_OK);
             REQUIRE(braid_rwlock_try_read(rw) == BRAID_OK);
         },
         [&](int64_t ms) { return braid_rwlock_write_blocking(rw, ms); },
         [&] { EXPECT_ANYWHERE(braid_rwlock_read_unlock(rw) == BRAID_OK); },
         [&](int rc) -> std::string {
             int again = braid_rwlock_try_read(rw);
             std::string bad;
             if (rc == BRAID_OK && again == BRAID_OK) bad = "a reader beside the writer";
             if (rc == BRAID_ETIMEDOUT && again != BRAID_OK) bad = "timed out and kept the write lock";
             if (again == BRAID_OK) braid_rwlock_read_unlock(rw);
             if (rc == BRAID_OK) braid_rwlock_write_unlock(rw);
             if (braid_rwlock_try_write(rw) != BRAID_OK) bad += " / not free at the end";
             else braid_rwlock_write_unlock(rw);
             braid_rwlock_free(rw);
             return bad;
         }},
        {"semaphore acquire",
         [&] { REQUIRE(braid_semaphore_new(&sem, 0) == BRAID_OK); },
         [&](int64_t ms) { return braid_semaphore_acquire_blocking(sem, 1, ms); },
         [&] { EXPECT_ANYWHERE(braid_semaphore_release(sem, 1) == BRAID_OK); },
         [&](int rc) -> std::string {
             std::size_t left = braid_semaphore_available_permits(sem);
             std::string bad;
             if (rc == BRAID_OK && left != 0) bad = "acquired and still there";
             if (rc == BRAID_ETIMEDOUT && left != 1) bad = "timed out and the permit is gone";
             braid_semaphore_free(sem);
             return bad;
         }},
        {"notify",
         [&] { REQUIRE(braid_notify_new(&n) == BRAID_OK); },
         [&](int64_t ms) { return braid_notify_notified_blocking(n, ms); },
         [&] { braid_notify_notify_one(n); },
         [&](int rc) -> std::string {
             int stored = braid_notify_try_notified(n);
             std::string bad;
             if (rc == BRAID_OK && stored == BRAID_OK) bad = "notified and the permit stored too";
             if (rc == BRAID_ETIMEDOUT && stored != BRAID_OK) bad = "timed out and the notification is lost";
             braid_notify_free(n);
             return bad;
         }},
    };
    for (auto& k : kinds) {
        int oks = 0, timeouts = 0;
        for (int r = 0; r < rounds; ++r) {
            k.setup();
            std::latch go(2);
            int rc = 0;
            std::thread waiter([&] {
                go.arrive_and_wait();
                rc = k.wait(r % 3);  // 0 ms (one attempt), 1 ms, 2 ms
            });
            std::thread completer([&] {
                go.arrive_and_wait();
                for (int spin = 0; spin < r % 11; ++spin) std::this_thread::yield();
                k.complete();
            });
            waiter.join();
            completer.join();
            INFO(k.name << ", round " << r << ", the wait gave " << braid_err_name(rc));
            REQUIRE((rc == BRAID_OK || rc == BRAID_ETIMEDOUT));
            (rc == BRAID_OK ? oks : timeouts)++;
            REQUIRE(k.check(rc) == "");
        }
        UNSCOPED_INFO(k.name << ": " << oks << " completed, " << timeouts << " timed out");
    }
    REQUIRE(braid_test::worker_failures() == 0);
}

TEST_CASE("thread_idioms.a Notified created before a plain thread's notify_waiters completes though it was not yet polled") {
    // Tokio: notify_waiters notifications "are received as long as they
    // happen after the creation of the Notified regardless of whether
    // enable or poll has been called" (loom_notify.rs: notify_waiters).
    Watchdog wd("notify_waiters before the first poll");
    auto rt = braid_test::paused_runtime(1);
    braid::Notify n;
    bool completed = rt.block_on([](braid::Notify* n) -> braid::Task<bool> {
        auto first = n->notified();
        auto second = n->notified();
        std::thread th([n] { n->notify_waiters(); });
        th.join();
        bool a = co_await braid::timeout(1s, std::move(first));  // paused: the timer fires once idle
        bool b = co_await braid::timeout(1s, std::move(second));
        co_return a && b;
    }(&n));
    REQUIRE(completed);
    REQUIRE_FALSE(n.try_notified());  // and still nothing is stored
}

TEST_CASE("thread_idioms.the check-then-await loop with notify_waiters from a plain thread never misses the last change") {
    // The Tokio idiom: create the Notified, check the condition, await;
    // the notifier changes the condition and calls notify_waiters.  A
    // notify_waiters between the check and the first poll must not be lost.
    Watchdog wd("check-then-await with notify_waiters");
    auto rt = braid_test::runtime(2);
    const int rounds = 2000 / kScale;
    braid::Notify n;
    std::atomic<int> value{0};
    auto waiter = rt.spawn([](braid::Notify* n, std::atomic<int>* value, int rounds) -> braid::Task<int> {
        int missed = 0;
        for (int want = 1; want <= rounds; ++want) {
            for (;;) {
                auto changed = n->notified();
                if (value->load() >= want) break;
                // No notify_waiters comes after the last change: a wait
                // that missed one would never end, so it is bounded.
                bool in_time = co_await braid::timeout(2s, std::move(changed));
                if (!in_time) ++missed;
            }
        }
        co_return missed;
    }(&n, &value, rounds));
    std::thread notifier([&] {
        for (int v = 1; v <= rounds; ++v) {
            value.store(v);
            n.notify_waiters();
            if (v % 4 == 0) std::this_thread::yield();
        }
    });
    notifier.join();
    REQUIRE(join_within(waiter));
    REQUIRE(waiter.take() == 0);
}

TEST_CASE("thread_idioms.a C callback wait on a Notify counts the notify_waiters made right after the call") {
    // braid_notify_notified starts its wait on a worker, later: a
    // notify_waiters the C thread makes right after the call is still its.
    Watchdog wd("C notified then notify_waiters");
    CRt rt(2);
    braid_notify* n = nullptr;
    REQUIRE(braid_notify_new(&n) == BRAID_OK);
    for (int round = 0; round < 50; ++round) {
        CallRecord rec;
        braid_task* op = nullptr;
        REQUIRE(braid_notify_notified(&op, rt.rt, n, &CallRecord::cb, &rec) == BRAID_OK);
        braid_notify_notify_waiters(n);
        INFO("round " << round);
        REQUIRE(braid_task_join_blocking(op, kJoinMs) == BRAID_OK);
        REQUIRE(called_within(rec));
        REQUIRE(rec.status.load() == BRAID_OK);
        braid_task_free(op);
    }
    REQUIRE(braid_notify_try_notified(n) == BRAID_EAGAIN);  // nothing stored
    rt.free();
    braid_notify_free(n);
}

}  // namespace test_thread_idioms
