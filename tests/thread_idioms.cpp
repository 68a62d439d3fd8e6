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

void reset_tracked() {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
}

}  // namespace

// ---- sync code talking to async code ---------------------------------------------

TEST_CASE("plain threads blocking_send into a full channel that a task drains: each value once and in order") {
    Watchdog wd("blocking_send into a full channel");
    reset_tracked();
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
            ts.emplace_back([&refused, t, each, tx = tx] {
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

TEST_CASE("a receiver dropped while plain threads sit in blocking_send hands every unsent value back") {
    Watchdog wd("receiver dropped under blocking_send");
    constexpr int kThreads = 3;
    constexpr int kCap = 2;
    for (int round = 0; round < 20; ++round) {
        reset_tracked();
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

TEST_CASE("a plain thread in blocking_recv gets every value then nullopt when the sending task ends") {
    Watchdog wd("blocking_recv while the sender task ends");
    for (int round = 0; round < 20; ++round) {
        reset_tracked();
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

TEST_CASE("a plain thread in blocking_recv sees the channel end when a shutdown destroys the task owning the sender") {
    Watchdog wd("blocking_recv across a shutdown");
    for (int flavour = 0; flavour < 2; ++flavour) {
        reset_tracked();
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

TEST_CASE("a oneshot sent from a plain thread reaches a task waiting under a timeout") {
    Watchdog wd("oneshot from a thread under a timeout");
    reset_tracked();
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

TEST_CASE("a oneshot sent from a plain thread after the task's timeout fired comes back to the thread") {
    Watchdog wd("oneshot after the timeout");
    reset_tracked();
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

TEST_CASE("a watch sender on a plain thread: the task's changed loop ends on the last value then sees the close") {
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
        std::thread sender([tx = std::move(tx), n]() mutable {
            for (long v = 1; v <= n; ++v) (void)tx.send(v);
        });  // the sender is dropped when the thread ends
        sender.join();
        REQUIRE(join_within(watcher));
        REQUIRE(watcher.take() == n);
    }
}

TEST_CASE("broadcast senders on plain threads: every receiver task gets every value once in each sender's order") {
    Watchdog wd("broadcast from threads");
    reset_tracked();
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
            ts.emplace_back([&refused, s, each, tx = tx] {
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

TEST_CASE("Mutex blocking_lock from plain threads while tasks hold and await the lock: no increment lost") {
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
        ts.emplace_back([&m, each] {
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

TEST_CASE("permits added from a plain thread one at a time wake each waiting task once") {
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

TEST_CASE("Notify ping-pong between a plain thread and a task loses no wake-up") {
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

TEST_CASE("notify_waiters from a plain thread wakes every enabled waiter and stores no permit") {
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

TEST_CASE("notify_one from plain threads racing with waiters being enabled: every notification is consumed once") {
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

TEST_CASE("a CancellationToken cancelled from a plain thread ends tasks in select loops and no message is lost") {
    Watchdog wd("token cancelled from a thread");
    reset_tracked();
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

TEST_CASE("Handle spawn from many plain threads at once with a task joining every handle") {
    Watchdog wd("Handle::spawn from threads");
    reset_tracked();
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
            ts.emplace_back([&start, &h, t, each, tx = tx] {
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

TEST_CASE("plain threads calling Handle block_on in a loop across a shutdown end cleanly") {
    // Each block_on gives its value, or ends with TaskCancelled (the
    // shutdown caught it) or BRAID_ESHUTDOWN (it started after); once one
    // is refused every later one is.  Every frame is destroyed.
    Watchdog wd("block_on racing a shutdown");
    for (int flavour = 0; flavour < 2; ++flavour) {
        for (int round = 0; round < 10; ++round) {
            reset_tracked();
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

TEST_CASE("a plain thread keeps JoinHandles past their runtime and awaits them through another runtime") {
    Watchdog wd("JoinHandle past its runtime");
    reset_tracked();
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

TEST_CASE("Runtime enter guards on many plain threads: spawn sleep and Handle current use the entered runtime") {
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

TEST_CASE("a thread entered into a runtime that another thread shuts down: spawns are cancelled and the guard drops") {
    Watchdog wd("entered across a shutdown");
    reset_tracked();
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
