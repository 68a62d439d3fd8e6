// Long-lived select / stream / timeout loops written the way Tokio users write
// them: awaitables, streams and intervals kept across iterations, fed by
// other tasks and by plain threads; sleeps reset inside the loop; timeouts
// around next(); busy futures under a deadline; locks and permits raced
// against timers; selects dropped while a plain thread wakes a branch.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <ranges>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_task_select_loops {

using namespace std::chrono_literals;
namespace bs = braid::stream;
using braid_test::Tracked;

namespace {

// A message that knows whether it is still owned by someone: each live
// message is either received (consumed) or destroyed unreceived (dropped).
std::atomic<long> g_dropped{0};
struct Msg {
    int sender = -1;
    int seq = -1;
    bool live = false;
    Msg() = default;
    Msg(int s, int q) : sender(s), seq(q), live(true) {}
    Msg(Msg&& o) noexcept : sender(o.sender), seq(o.seq), live(std::exchange(o.live, false)) {}
    Msg& operator=(Msg&& o) noexcept {
        if (live) g_dropped.fetch_add(1);
        sender = o.sender;
        seq = o.seq;
        live = std::exchange(o.live, false);
        return *this;
    }
    Msg(const Msg&) = delete;
    ~Msg() {
        if (live) g_dropped.fetch_add(1);
    }
    // Received: nobody drops it any more.
    void consume() { live = false; }
};

// Per-sender bookkeeping: counts and order.
struct Ledger {
    std::vector<int> next;  // the next seq expected from each sender
    long out_of_order = 0;
    long total = 0;
    explicit Ledger(int senders) : next(senders, 0) {}
    void take(Msg& m) {
        m.consume();
        ++total;
        if (m.sender < 0 || m.sender >= int(next.size()) || m.seq != next[m.sender]) ++out_of_order;
        else ++next[m.sender];
    }
};

struct LoopResult {
    std::vector<int> next;
    long out_of_order = 0;
    long total = 0;
    long ticks = 0;
    long stopped_at = -1;  // messages received when the token's branch won
};

braid::Task<> async_sender(braid::mpsc::Sender<Msg> tx, int id, int n) {
    for (int i = 0; i < n; ++i) {
        Msg m(id, i);
        auto back = co_await tx.send(std::move(m));
        if (back) co_return;
        if (i % 7 == 0) co_await braid::yield_now();
    }
}

braid::Task<LoopResult> event_loop(braid::mpsc::Receiver<Msg> rx, braid::Stream<Msg> side, braid::CancellationToken tok,
                                   std::atomic<long>* progress, int senders) {
    Ledger ledger(senders);
    auto iv = braid::interval(30us);
    auto recv = rx.recv();             // kept across selects
    auto cancelled = tok.cancelled();  // kept across selects
    bool rx_open = true, side_open = true, stop = false;
    LoopResult out;
    while (!stop && (rx_open || side_open)) {
        auto r = co_await braid::select(braid::when(rx_open, recv), iv.tick(), braid::when(side_open, side.next()),
                                        cancelled);
        switch (r.index()) {
            case 0: {
                auto& m = std::get<0>(r);
                if (m) ledger.take(*m);
                else rx_open = false;
                break;
            }
            case 1:
                ++out.ticks;
                break;
            case 2: {
                auto& m = std::get<2>(r);
                if (m) ledger.take(*m);
                else side_open = false;
                break;
            }
            default:
                stop = true;
                out.stopped_at = ledger.total;
                break;
        }
        progress->store(ledger.total);
    }
    // Tokio's graceful stop: drain what is still coming.
    while (auto m = co_await rx.recv()) ledger.take(*m);
    while (auto m = co_await side.next()) ledger.take(*m);
    out.next = ledger.next;
    out.out_of_order = ledger.out_of_order;
    out.total = ledger.total;
    co_return out;
}

}  // namespace

TEST_CASE("task_select_loops.an event loop selecting over a kept recv a stream an interval and a token loses nothing", "[stress]") {
    const int n = 3000 / braid_test::kStressDivisor;
    // senders 0, 1: tasks; 2, 3: plain threads on the channel; 4: a plain
    // thread on the stream's unbounded channel.
    g_dropped = 0;
    for (int round = 0; round < 3; ++round) {
        auto rt = braid_test::runtime(2);
        auto [tx, rx] = braid::mpsc::channel<Msg>(8);
        auto [utx, urx] = braid::mpsc::unbounded_channel<Msg>();
        braid::CancellationToken tok;
        std::atomic<long> progress{0};
        std::vector<std::thread> threads;
        // The token is cancelled from a plain thread half-way (round 0, 1)
        // or never (round 2: the loop ends when both inputs close).  The
        // blocking senders hold their second half back until it is, so the
        // inputs cannot close before the loop saw the cancellation.
        const long stop_after = round < 2 ? long(n) * 5 / 2 : -1;
        for (int id = 2; id <= 3; ++id) {
            threads.emplace_back([t = tx, id, &tok, stop_after]() {
                for (int i = 0; i < n; ++i) {
                    if (i == n / 2 && stop_after >= 0)
                        while (!tok.is_cancelled()) std::this_thread::yield();
                    Msg m(id, i);
                    EXPECT_ANYWHERE(!t.blocking_send(std::move(m)));
                }
            });
        }
        threads.emplace_back([t = std::move(utx)]() {
            for (int i = 0; i < n; ++i) {
                Msg m(4, i);
                EXPECT_ANYWHERE(!t.send(std::move(m)));
            }
        });
        threads.emplace_back([&tok, &progress, stop_after]() {
            if (stop_after < 0) return;
            while (progress.load() < stop_after) std::this_thread::yield();
            tok.cancel();
        });
        auto res = rt.block_on([](braid::mpsc::Sender<Msg> t, braid::mpsc::Receiver<Msg> r, braid::Stream<Msg> s,
                                  braid::CancellationToken k, std::atomic<long>* p,
                                  int count) -> braid::Task<LoopResult> {
            braid::spawn(async_sender(t, 0, count)).detach();
            braid::spawn(async_sender(std::move(t), 1, count)).detach();
            co_return co_await event_loop(std::move(r), std::move(s), std::move(k), p, 5);
        }(std::move(tx), std::move(rx), bs::from_receiver(std::move(urx)), tok, &progress, n));
        for (auto& th : threads) th.join();
        CAPTURE(round);
        REQUIRE(res.out_of_order == 0);
        REQUIRE(res.total == 5L * n);
        for (int id = 0; id < 5; ++id) REQUIRE(res.next[id] == n);
        if (round < 2) REQUIRE(res.stopped_at >= stop_after);
        else REQUIRE(res.stopped_at == -1);
    }
    REQUIRE(g_dropped.load() == 0);
    REQUIRE(braid_test::worker_failures() == 0);
}

// ---- a sleep kept across selects and reset on activity (paused time) ------------

namespace {
struct Event {
    int64_t at_us;
    int what;  // the message, or -1: the idle sleep fired
};

// Sends 0, 1, ... each after its gap; the channel closes after the last.
braid::Task<> paced_sender(braid::mpsc::Sender<int> tx, std::vector<int> gaps_ms) {
    int i = 0;
    for (int g : gaps_ms) {
        co_await braid::sleep(std::chrono::milliseconds(g));
        auto back = co_await tx.send(i++);
        if (back) co_return;
    }
}

std::vector<int64_t> arrival_us(const std::vector<int>& gaps_ms) {
    std::vector<int64_t> t;
    int64_t at = 0;
    for (int g : gaps_ms) t.push_back(at += g * 1000);
    return t;
}

const std::vector<int> kGaps = {1, 2, 5, 5, 6, 10, 5, 0, 0, 3, 11, 4, 5, 7, 15, 5, 1};
}  // namespace

TEST_CASE("task_select_loops.an idle sleep kept across selects and reset on activity fires only after a quiet period") {
    auto rt = braid_test::paused_runtime();
    for (int round = 0; round < 20; ++round) {
        auto ev = rt.block_on([](std::vector<int> gaps) -> braid::Task<std::vector<Event>> {
            auto [tx, rx] = braid::mpsc::channel<int>(1);
            braid::spawn(paced_sender(std::move(tx), std::move(gaps))).detach();
            auto t0 = braid::Instant::now();
            auto idle = braid::sleep(5ms);
            auto recv = rx.recv();
            std::vector<Event> out;
            for (;;) {
                auto r = co_await braid::select(idle, recv);
                int64_t at = std::chrono::duration_cast<std::chrono::microseconds>(t0.elapsed()).count();
                if (r.index() == 0) {
                    out.push_back(Event{at, -1});
                } else {
                    auto m = std::get<1>(r);
                    if (!m) break;
                    out.push_back(Event{at, *m});
                }
                idle.reset(braid::Instant::now() + 5ms);  // activity (or an idle report): start over
            }
            co_return out;
        }(kGaps));
        auto arrivals = arrival_us(kGaps);
        CAPTURE(round);
        int64_t prev = 0;
        int next_msg = 0;
        int idles = 0;
        for (auto& e : ev) {
            CAPTURE(e.at_us, e.what, prev);
            if (e.what < 0) {
                ++idles;
                REQUIRE(e.at_us == prev + 5000);  // exactly at the deadline, never early or late
                REQUIRE(next_msg < int(arrivals.size()));
                REQUIRE(arrivals[next_msg] >= e.at_us);  // nothing was waiting (a tie may go either way)
            } else {
                REQUIRE(e.what == next_msg);
                REQUIRE(e.at_us == arrivals[next_msg]);  // received the instant it came
                REQUIRE(e.at_us <= prev + 5000);         // else the idle sleep should have fired first
                ++next_msg;
            }
            prev = e.at_us;
        }
        REQUIRE(next_msg == int(kGaps.size()));
        REQUIRE(idles >= 5);  // the gaps 6, 10 (x2), 11 (x2), 7, 15 (x3) at least, minus ties
    }
}

// ---- timeout around next(), the item arriving just at the deadline --------------

namespace {
braid::Stream<int> paced_gen(std::vector<int> gaps_ms, Tracked guard) {
    (void)guard;  // a frame local: destroyed once, with the frame
    int i = 0;
    for (int g : gaps_ms) {
        co_await braid::sleep(std::chrono::milliseconds(g));
        co_yield i++;
    }
}

braid::Stream<int> channel_stream(std::vector<int> gaps_ms) {
    auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
    braid::spawn([](braid::mpsc::UnboundedSender<int> t, std::vector<int> g) -> braid::Task<> {
        int i = 0;
        for (int d : g) {
            co_await braid::sleep(std::chrono::milliseconds(d));
            if (t.send(i++)) co_return;
        }
    }(std::move(tx), std::move(gaps_ms))).detach();
    return bs::from_receiver(std::move(rx));
}

struct TimeoutLoop {
    std::vector<int> items;
    std::vector<int64_t> at_us;
    int timeouts = 0;
    int64_t total_us = 0;
};

braid::Task<TimeoutLoop> next_with_timeouts(braid::Stream<int> s) {
    TimeoutLoop out;
    auto t0 = braid::Instant::now();
    for (;;) {
        auto v = co_await braid::timeout(2ms, s.next());
        if (!v) {
            ++out.timeouts;
            continue;
        }
        if (!*v) break;
        out.items.push_back(**v);
        out.at_us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(t0.elapsed()).count());
    }
    out.total_us = std::chrono::duration_cast<std::chrono::microseconds>(t0.elapsed()).count();
    co_return out;
}
}  // namespace

TEST_CASE("task_select_loops.timeout around next repeated with items arriving just at the deadline loses no item") {
    // Gaps of 2ms tie with the 2ms timeout; gaps of 3ms always time out once.
    std::vector<int> gaps;
    for (int i = 0; i < 60; ++i) gaps.push_back(std::array<int, 7>{0, 1, 2, 3, 2, 4, 2}[i % 7]);
    auto arrivals = arrival_us(gaps);
    int threes = int(std::count(gaps.begin(), gaps.end(), 3));
    int fours = int(std::count(gaps.begin(), gaps.end(), 4));
    int twos = int(std::count(gaps.begin(), gaps.end(), 2));
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    {
        auto rt = braid_test::paused_runtime();
        for (int which = 0; which < 2; ++which) {
            for (int round = 0; round < 10; ++round) {
                auto res = rt.block_on([](std::vector<int> g, int w) -> braid::Task<TimeoutLoop> {
                    if (w == 0) co_return co_await next_with_timeouts(paced_gen(std::move(g), Tracked(1)));
                    co_return co_await next_with_timeouts(channel_stream(std::move(g)));
                }(gaps, which));
                CAPTURE(which, round);
                REQUIRE(res.items.size() == gaps.size());
                for (size_t i = 0; i < res.items.size(); ++i) {
                    REQUIRE(res.items[i] == int(i));
                    REQUIRE(res.at_us[i] == arrivals[i]);
                }
                REQUIRE(res.total_us == arrivals.back());
                REQUIRE(res.timeouts >= threes + fours);
                REQUIRE(res.timeouts <= threes + 2 * fours + twos);
                REQUIRE(Tracked::live() == 0);
            }
        }
    }
    REQUIRE(Tracked::live() == 0);
}

// ---- a merged stream raced against a oneshot -------------------------------------

namespace {
std::atomic<int> g_gen_frames{0};
std::atomic<int> g_gen_frames_gone{0};
struct FrameGuard {
    FrameGuard() { g_gen_frames.fetch_add(1); }
    FrameGuard(const FrameGuard&) = delete;
    ~FrameGuard() { g_gen_frames_gone.fetch_add(1); }
};

// Sender 1's messages, `n` of them (forever when n < 0), a short sleep
// between them.
braid::Stream<Msg> ticking_gen(int n) {
    FrameGuard g;
    for (int i = 0; n < 0 || i < n; ++i) {
        Msg m(1, i);
        co_yield std::move(m);
        if (i % 3 == 0) co_await braid::sleep(20us);
        else co_await braid::yield_now();
    }
}

struct MergeResult {
    std::vector<int> next;
    long out_of_order = 0;
    long total = 0;
    bool stopped = false;
    int frames_gone_after_drop = -1;
};

braid::Task<MergeResult> merged_until_stopped(braid::mpsc::Receiver<Msg> rx, braid::oneshot::Receiver<int> stop,
                                              int gen_items, std::atomic<long>* progress) {
    Ledger ledger(2);
    MergeResult out;
    {
        auto merged = bs::from_receiver(std::move(rx)) | bs::merge(ticking_gen(gen_items));
        for (;;) {
            auto r = co_await braid::select(merged.next(), stop);
            if (r.index() == 1) {
                out.stopped = true;
                break;
            }
            auto& m = std::get<0>(r);
            if (!m) break;
            ledger.take(*m);
            progress->store(ledger.total);
        }
    }  // the merged stream goes here, and the generator's frame with it
    out.frames_gone_after_drop = g_gen_frames_gone.load();
    out.next = ledger.next;
    out.out_of_order = ledger.out_of_order;
    out.total = ledger.total;
    co_return out;
}
}  // namespace

TEST_CASE("task_select_loops.a channel stream merged with a generator raced against a oneshot until one side ends") {
    const int n = 4000 / braid_test::kStressDivisor;
    for (int round = 0; round < 6; ++round) {
        g_dropped = 0;
        g_gen_frames = 0;
        g_gen_frames_gone = 0;
        bool stop_early = round % 2 == 0;
        auto rt = braid_test::runtime(2);
        auto [tx, rx] = braid::mpsc::unbounded_channel<Msg>();
        auto [stop_tx, stop_rx] = braid::oneshot::channel<int>();
        std::atomic<long> progress{0};
        std::atomic<long> sent{0};
        std::thread producer([t = std::move(tx), &sent]() {
            for (int i = 0; i < n; ++i) {
                Msg m(0, i);
                if (!t.send(std::move(m))) sent.fetch_add(1);  // a refused message comes back and is dropped
            }
        });
        std::optional<braid::oneshot::Sender<int>> keep;
        std::thread stopper;
        if (stop_early) {
            stopper = std::thread([s = std::move(stop_tx), &progress]() mutable {
                while (progress.load() < n / 2) std::this_thread::yield();
                s.send(1);
            });
        } else {
            keep.emplace(std::move(stop_tx));  // never sent: the loop ends with the stream
        }
        auto res = rt.block_on(merged_until_stopped(std::move(rx), std::move(stop_rx), stop_early ? -1 : n / 2,
                                                    &progress));
        producer.join();
        if (stopper.joinable()) stopper.join();
        CAPTURE(round);
        REQUIRE(res.out_of_order == 0);
        REQUIRE(g_gen_frames.load() == 1);
        REQUIRE(res.frames_gone_after_drop == 1);  // destroyed when the select's loop dropped the stream, once
        REQUIRE(g_gen_frames_gone.load() == 1);
        if (stop_early) {
            REQUIRE(res.stopped);
            REQUIRE(res.total >= n / 2);
            // every message sent was either received or dropped with the receiver
            REQUIRE(res.next[0] + g_dropped.load() == n);
            REQUIRE(sent.load() >= res.next[0]);
        } else {
            REQUIRE_FALSE(res.stopped);
            REQUIRE(res.next[0] == n);
            REQUIRE(res.next[1] == n / 2);
            REQUIRE(g_dropped.load() == 0);
        }
    }
}

// ---- busy futures under a deadline -----------------------------------------------

namespace {
// Drains an always-ready stream: it never waits, it only yields when its
// budget runs out.  Past `limit` items the deadline it races was missed.
template <class S>
braid::Task<> drain_forever(S* s, std::atomic<long>* items, long limit = 20000000) {
    for (;;) {
        auto v = co_await s->next();
        if (!v) co_return;
        long seen = items->fetch_add(1, std::memory_order_relaxed);
        if (seen >= limit) throw std::runtime_error("the deadline never came");
    }
}

// Moves the paused clock by hand, one step per turn: it runs only if the
// busy task yields.
braid::Task<> advancer(int steps, braid::CancellationToken tok, std::atomic<int>* done) {
    for (int i = 0; i < steps; ++i) {
        co_await braid::time::advance(1ms);
        done->fetch_add(1);
    }
    tok.cancel();
}
}  // namespace

TEST_CASE("task_select_loops.a task draining an always-ready stream under timeout or select still sees the deadline") {
    // The clock is paused and moves only when the advancer runs: the busy
    // branch has to yield through its budget for the deadline to come.
    auto rt = braid_test::paused_runtime(1);
    for (int which = 0; which < 3; ++which) {
        std::atomic<long> items{0};
        std::atomic<int> steps{0};
        auto [index, took] = rt.block_on([](int w, std::atomic<long>* it, std::atomic<int>* st)
                                             -> braid::Task<std::pair<int, braid::Duration>> {
            braid::CancellationToken tok;
            auto s = bs::repeat(1);
            auto helper = braid::spawn(advancer(4, tok, st));
            auto t0 = braid::Instant::now();
            int idx = -1;
            if (w == 0) {
                bool in_time = co_await braid::timeout(2ms, drain_forever(&s, it));
                idx = in_time ? 0 : 1;
            } else if (w == 1) {
                auto r = co_await braid::select(drain_forever(&s, it), braid::sleep(2ms));
                idx = int(r.index());
            } else {
                auto r = co_await braid::select(drain_forever(&s, it), tok.cancelled());
                idx = int(r.index());
            }
            auto d = t0.elapsed();
            co_await helper;
            co_return std::make_pair(idx, d);
        }(which, &items, &steps));
        CAPTURE(which);
        REQUIRE(index == 1);
        REQUIRE(steps.load() == 4);
        REQUIRE(items.load() > 0);
        if (which < 2) {
            // timeout polls its timer outside the budget; select's sleep needs a
            // unit of it, and wins at one of the polls after the clock moved
            REQUIRE(took >= 2ms);
            REQUIRE(took <= (which == 0 ? 3ms : 4ms));
        } else {
            REQUIRE(took == 4ms);
        }
    }
}

// ---- locks and permits raced against timers --------------------------------------

namespace {
struct RaceStats {
    std::atomic<int> inside{0};
    std::atomic<int> max_inside{0};
    std::atomic<long> wins{0};
    std::atomic<long> losses{0};
};

braid::Task<> permit_racer(braid::Semaphore* sem, RaceStats* st, int rounds, int seed, bool kept) {
    std::optional<braid::Semaphore::Acquire> acq;
    for (int r = 0; r < rounds; ++r) {
        auto d = std::chrono::microseconds((seed * 31 + r * 17) % 40);
        std::optional<braid::SemaphorePermit> permit;
        if (kept) {
            if (!acq) acq.emplace(sem->acquire());
            auto res = co_await braid::select(*acq, braid::sleep(d));
            if (res.index() == 0) {
                permit.emplace(std::move(std::get<0>(res)));
                acq.reset();
            }
        } else {
            auto res = co_await braid::select(sem->acquire(), braid::sleep(d));
            if (res.index() == 0) permit.emplace(std::move(std::get<0>(res)));
        }
        if (!permit) {
            st->losses.fetch_add(1);
            continue;
        }
        int now = st->inside.fetch_add(1) + 1;
        int m = st->max_inside.load();
        while (now > m && !st->max_inside.compare_exchange_weak(m, now)) {
        }
        co_await braid::yield_now();
        st->inside.fetch_sub(1);
        st->wins.fetch_add(1);
    }
}

braid::Task<> lock_racer(braid::Mutex<long>* mu, RaceStats* st, int rounds, int seed) {
    for (int r = 0; r < rounds; ++r) {
        auto d = std::chrono::microseconds((seed * 13 + r * 7) % 30);
        auto res = co_await braid::select(braid::sleep(d), mu->lock());
        if (res.index() == 0) {
            st->losses.fetch_add(1);
            continue;
        }
        auto g = std::move(std::get<1>(res));
        long v = *g;  // a plain read-modify-write across a yield: only the holder may touch it
        co_await braid::yield_now();
        *g = v + 1;
        st->wins.fetch_add(1);
    }
}
}  // namespace

TEST_CASE("task_select_loops.semaphore acquires raced against timers by many tasks lose and duplicate no permit", "[stress]") {
    const int tasks = 16, rounds = 300 / braid_test::kStressDivisor;
    auto rt = braid_test::runtime(2);
    for (int kept = 0; kept < 2; ++kept) {
        braid::Semaphore sem(3);
        RaceStats st;
        rt.block_on([](braid::Semaphore* s, RaceStats* stats, int n, int r, bool k) -> braid::Task<> {
            std::vector<braid::JoinHandle<void>> hs;
            for (int i = 0; i < n; ++i) hs.push_back(braid::spawn(permit_racer(s, stats, r, i, k)));
            for (auto& h : hs) co_await h;
        }(&sem, &st, tasks, rounds, kept == 1));
        CAPTURE(kept);
        REQUIRE(sem.available_permits() == 3);
        REQUIRE(st.max_inside.load() <= 3);
        REQUIRE(st.wins.load() + st.losses.load() == long(tasks) * rounds);
        REQUIRE(st.wins.load() > 0);
    }
}

TEST_CASE("task_select_loops.mutex locks raced against timers by many tasks: one holder at a time and every win counted", "[stress]") {
    const int tasks = 16, rounds = 300 / braid_test::kStressDivisor;
    auto rt = braid_test::runtime(2);
    braid::Mutex<long> mu(0);
    RaceStats st;
    rt.block_on([](braid::Mutex<long>* m, RaceStats* stats, int n, int r) -> braid::Task<> {
        std::vector<braid::JoinHandle<void>> hs;
        for (int i = 0; i < n; ++i) hs.push_back(braid::spawn(lock_racer(m, stats, r, i)));
        for (auto& h : hs) co_await h;
    }(&mu, &st, tasks, rounds));
    REQUIRE(st.wins.load() + st.losses.load() == long(tasks) * rounds);
    auto g = mu.try_lock();
    REQUIRE(g.has_value());
    REQUIRE(**g == st.wins.load());
}

namespace {
// Waits for the lock until `patience` runs out; the kept variant loses a
// first select on purpose (keeping its place in the queue) and then waits.
braid::Task<> fifo_waiter(braid::Mutex<std::vector<int>>* mu, int id, braid::Duration patience, bool kept,
                          std::vector<int>* timed_out) {
    if (kept) {
        auto lk = mu->lock();
        auto r1 = co_await braid::select(lk, braid::sleep(100us));  // queues, then loses to the sleep
        if (r1.index() == 0) {
            std::get<0>(r1)->push_back(-1);  // not expected: the lock is held
            co_return;
        }
        auto r2 = co_await braid::select(braid::sleep(patience), lk);
        if (r2.index() == 1) std::get<1>(r2)->push_back(id);
        else timed_out->push_back(id);
        co_return;
    }
    auto r = co_await braid::select(mu->lock(), braid::sleep(patience));
    if (r.index() == 0) std::get<0>(r)->push_back(id);
    else timed_out->push_back(id);
}
}  // namespace

TEST_CASE("task_select_loops.lock waiters that time out leave the queue and the others are served in arrival order") {
    auto rt = braid_test::paused_runtime(1);
    auto [order, timed_out] = rt.block_on([]() -> braid::Task<std::pair<std::vector<int>, std::vector<int>>> {
        braid::Mutex<std::vector<int>> mu;
        std::vector<int> gone;
        std::vector<braid::JoinHandle<void>> hs;
        {
            auto held = co_await mu.lock();
            for (int i = 0; i < 12; ++i) {
                // odd ones give up at 3ms; every third waits with a kept lock that lost a select first
                braid::Duration patience = i % 2 ? braid::Duration(3ms) : braid::Duration(1h);
                hs.push_back(braid::spawn(fifo_waiter(&mu, i, patience, i % 3 == 0, &gone)));
                co_await braid::sleep(10us);  // queued in this order
            }
            co_await braid::sleep(5ms);
        }  // unlocked: the queue is served
        for (auto& h : hs) co_await h;
        auto g = co_await mu.lock();
        co_return std::make_pair(*g, gone);
    }());
    REQUIRE(order == std::vector<int>{0, 2, 4, 6, 8, 10});
    std::vector<int> gone = timed_out;
    std::sort(gone.begin(), gone.end());
    REQUIRE(gone == std::vector<int>{1, 3, 5, 7, 9, 11});
}

// ---- a select dropped while a plain thread wakes its branches ----------------------

TEST_CASE("task_select_loops.a task aborted in a select while a plain thread wakes its branches gives everything back", "[stress]") {
    const int rounds = 1500 / braid_test::kStressDivisor;
    auto rt = braid_test::runtime(2);
    long bad_msg = 0, bad_notify = 0, bad_permits = 0, won = 0, aborted = 0;
    for (int round = 0; round < rounds; ++round) {
        auto [tx, rx] = braid::mpsc::channel<int>(1);
        auto notify = std::make_shared<braid::Notify>();
        auto sem = std::make_shared<braid::Semaphore>(0);
        std::atomic<bool> started{false};
        auto rxp = std::make_shared<braid::mpsc::Receiver<int>>(std::move(rx));
        // The task runs until it wins a branch or is aborted.
        auto res = rt.block_on([](std::shared_ptr<braid::mpsc::Receiver<int>> r, std::shared_ptr<braid::Notify> nt,
                                  std::shared_ptr<braid::Semaphore> s, std::atomic<bool>* go,
                                  braid::mpsc::Sender<int> t, int rnd) -> braid::Task<std::pair<int, bool>> {
            // Odd rounds: the awaitables are kept in the task's frame (a loop's
            // shape), raced after a first select they lost; the frame goes
            // with the abort after the select's branches.
            auto h = braid::spawn([](std::shared_ptr<braid::mpsc::Receiver<int>> r2, std::shared_ptr<braid::Notify> n2,
                                     std::shared_ptr<braid::Semaphore> s2, std::atomic<bool>* g2,
                                     bool kept) -> braid::Task<int> {
                if (kept) {
                    auto rcv = r2->recv();
                    auto nfd = n2->notified();
                    auto acq = s2->acquire();
                    auto first = co_await braid::select_biased(rcv, nfd, acq, braid::yield_now());
                    if (first.index() != 3) co_return -2;  // nothing was sent yet
                    g2->store(true);
                    auto res2 = co_await braid::select(rcv, nfd, acq, braid::sleep(1h));
                    co_return int(res2.index());
                }
                g2->store(true);
                auto res2 = co_await braid::select(r2->recv(), n2->notified(), s2->acquire(), braid::sleep(1h));
                co_return int(res2.index());
            }(r, nt, s, go, rnd % 2 == 1));
            std::thread waker([&t, nt, s, go, rnd]() {
                while (!go->load()) std::this_thread::yield();
                for (int spin = 0; spin < rnd % 50; ++spin) std::this_thread::yield();
                switch (rnd % 3) {  // a different branch first each time
                    case 0: (void)t.try_send(7); nt->notify_one(); s->add_permits(1); break;
                    case 1: nt->notify_one(); s->add_permits(1); (void)t.try_send(7); break;
                    default: s->add_permits(1); (void)t.try_send(7); nt->notify_one(); break;
                }
            });
            while (!go->load()) co_await braid::yield_now();
            for (int spin = 0; spin < (rnd * 7) % 50; ++spin) std::this_thread::yield();
            h.abort();
            int idx = -1;
            bool was_aborted = false;
            try {
                idx = co_await h;
            } catch (const braid::TaskCancelled&) {
                was_aborted = true;
            }
            waker.join();
            co_return std::make_pair(idx, was_aborted);
        }(rxp, notify, sem, &started, std::move(tx), round));
        auto [idx, was_aborted] = res;
        if (idx == -2) ++bad_msg;
        if (was_aborted) ++aborted;
        else ++won;
        // The message stays unless the recv won.
        bool msg_left = rxp->try_recv().has_value();
        if (msg_left == (idx == 0)) ++bad_msg;
        // The notification is passed on unless the notified won.
        bool notified_left = rt.block_on([](std::shared_ptr<braid::Notify> nt) -> braid::Task<bool> {
            auto r = co_await braid::select_biased(nt->notified(), braid::yield_now());
            co_return r.index() == 0;
        }(notify));
        if (notified_left == (idx == 1)) ++bad_notify;
        // The permit is given back either way (a won one is dropped with the task).
        if (sem->available_permits() != 1) ++bad_permits;
    }
    CAPTURE(won, aborted);
    REQUIRE(bad_msg == 0);
    REQUIRE(bad_notify == 0);
    REQUIRE(bad_permits == 0);
}

// ---- a generator that selects inside, consumed by selects outside ---------------

namespace {
// Merges two channels with its own select loop (kept recvs and an interval in
// its frame): a next() cancelled from outside leaves the body suspended in
// that inner select, with its registrations going through the relay.
braid::Stream<Msg> select_gen(braid::mpsc::Receiver<Msg> a, braid::mpsc::Receiver<Msg> b) {
    auto iv = braid::interval(50us);
    auto ra = a.recv();
    auto rb = b.recv();
    bool ao = true, bo = true;
    while (ao || bo) {
        auto r = co_await braid::select(braid::when(ao, ra), braid::when(bo, rb), iv.tick());
        if (r.index() == 0) {
            auto& m = std::get<0>(r);
            if (!m) {
                ao = false;
                continue;
            }
            Msg out = std::move(*m);
            co_yield std::move(out);
        } else if (r.index() == 1) {
            auto& m = std::get<1>(r);
            if (!m) {
                bo = false;
                continue;
            }
            Msg out = std::move(*m);
            co_yield std::move(out);
        }
    }
}

void blocking_sender(braid::mpsc::Sender<Msg> t, int id, int n) {
    for (int i = 0; i < n; ++i) {
        Msg m(id, i);
        EXPECT_ANYWHERE(!t.blocking_send(std::move(m)));
    }
}
}  // namespace

TEST_CASE("task_select_loops.a generator selecting inside consumed by a select losing to fresh sleeps loses no message", "[stress]") {
    const int n = 3000 / braid_test::kStressDivisor;
    g_dropped = 0;
    auto rt = braid_test::runtime(2);
    for (int round = 0; round < 3; ++round) {
        auto [ta, ra] = braid::mpsc::channel<Msg>(4);
        auto [tb, rb] = braid::mpsc::channel<Msg>(4);
        auto [tc, rc] = braid::mpsc::channel<Msg>(4);
        std::thread pa(blocking_sender, std::move(ta), 0, n);
        std::thread pb(blocking_sender, std::move(tb), 1, n);
        std::thread pc(blocking_sender, std::move(tc), 2, n);
        auto [ledger_next, bad, sleeps] = rt.block_on(
            [](braid::Stream<Msg> s,
               braid::mpsc::Receiver<Msg> c) -> braid::Task<std::tuple<std::vector<int>, long, long>> {
                Ledger ledger(3);
                long sl = 0;
                bool so = true, co = true;
                auto rcv = c.recv();
                while (so || co) {
                    auto r = co_await braid::select(braid::when(so, s.next()), braid::when(co, rcv),
                                                    braid::sleep(20us));
                    if (r.index() == 0) {
                        auto& m = std::get<0>(r);
                        if (m) ledger.take(*m);
                        else so = false;
                    } else if (r.index() == 1) {
                        auto& m = std::get<1>(r);
                        if (m) ledger.take(*m);
                        else co = false;
                    } else {
                        ++sl;
                    }
                }
                co_return std::make_tuple(ledger.next, ledger.out_of_order, sl);
            }(select_gen(std::move(ra), std::move(rb)), std::move(rc)));
        pa.join();
        pb.join();
        pc.join();
        CAPTURE(round, sleeps);
        REQUIRE(bad == 0);
        REQUIRE(ledger_next == std::vector<int>{n, n, n});
    }
    REQUIRE(g_dropped.load() == 0);
    REQUIRE(braid_test::worker_failures() == 0);
}

namespace {
// Takes the stream, races a few of its next() against sleeps, hands it on.
using StreamRx = braid::mpsc::Receiver<braid::Stream<Msg>>;
using StreamTx = braid::mpsc::Sender<braid::Stream<Msg>>;
braid::Task<> stream_juggler(StreamRx in, StreamTx out, Ledger* ledger, long* handoffs) {
    for (;;) {
        auto s = co_await in.recv();
        if (!s) co_return;  // the other one saw the end
        for (int k = 0; k < 4; ++k) {
            auto r = co_await braid::select(s->next(), braid::sleep(15us));
            if (r.index() == 1) continue;
            auto& m = std::get<0>(r);
            if (!m) co_return;  // the end: dropping `out` ends the other juggler
            ledger->take(*m);
        }
        ++*handoffs;
        auto back = co_await out.send(std::move(*s));
        if (back) co_return;
    }
}
}  // namespace

TEST_CASE("task_select_loops.a generator handed between tasks after cancelled next calls loses no wake-up and no message", "[stress]") {
    const int n = 2000 / braid_test::kStressDivisor;
    g_dropped = 0;
    auto rt = braid_test::runtime(2);
    auto [ta, ra] = braid::mpsc::channel<Msg>(4);
    auto [tb, rb] = braid::mpsc::channel<Msg>(4);
    std::thread pa(blocking_sender, std::move(ta), 0, n);
    std::thread pb(blocking_sender, std::move(tb), 1, n);
    Ledger ledger(2);
    long handoffs = 0;
    rt.block_on([](braid::Stream<Msg> s, Ledger* l, long* h) -> braid::Task<> {
        auto [to_a, a_in] = braid::mpsc::channel<braid::Stream<Msg>>(1);
        auto [to_b, b_in] = braid::mpsc::channel<braid::Stream<Msg>>(1);
        auto first = co_await to_a.send(std::move(s));
        EXPECT(!first);
        // the jugglers take turns: only one holds the stream at a time
        auto ja = braid::spawn(stream_juggler(std::move(a_in), std::move(to_b), l, h));
        auto jb = braid::spawn(stream_juggler(std::move(b_in), std::move(to_a), l, h));
        co_await ja;
        co_await jb;
    }(select_gen(std::move(ra), std::move(rb)), &ledger, &handoffs));
    pa.join();
    pb.join();
    CAPTURE(handoffs);
    REQUIRE(ledger.out_of_order == 0);
    REQUIRE(ledger.next == std::vector<int>{n, n});
    REQUIRE(g_dropped.load() == 0);
}

// ---- an expiry loop over a kept DelayQueue::next (paused time) ------------------

namespace {
struct Expiry {
    int id;
    int64_t at_us;
    int64_t deadline_us;
};

// Asks for entry `id` to expire `delay_ms` after it is sent; every third is
// touched again (`delay_ms` from the touch) by a message -1 - id.
braid::Task<> expiry_requests(braid::mpsc::Sender<std::pair<int, int>> tx, int n) {
    for (int id = 0; id < n; ++id) {
        auto back = co_await tx.send(std::make_pair(id, 1 + (id * 7) % 11));
        if (back) co_return;
        co_await braid::sleep(std::chrono::milliseconds(id % 3));
        if (id % 3 == 0) {
            auto again = co_await tx.send(std::make_pair(-1 - id, 1 + (id * 5) % 13));
            if (again) co_return;
        }
    }
}
}  // namespace

TEST_CASE("task_select_loops.an expiry loop over a kept DelayQueue next and a recv expires every entry once at its deadline") {
    const int n = 200;
    auto rt = braid_test::paused_runtime();
    using Out = std::tuple<std::vector<Expiry>, int, int>;
    auto [expired, inserted, resets] = rt.block_on([](int count) -> braid::Task<Out> {
        auto [tx, rx] = braid::mpsc::channel<std::pair<int, int>>(2);
        braid::spawn(expiry_requests(std::move(tx), count)).detach();
        auto t0 = braid::Instant::now();
        auto us = [t0](braid::Instant i) {
            return std::chrono::duration_cast<std::chrono::microseconds>(i - t0).count();
        };
        braid::DelayQueue<int> q;
        std::vector<braid::DelayQueue<int>::Key> keys(count);
        std::vector<Expiry> out;
        int ins = 0, rs = 0;
        auto nx = q.next();  // kept: sees the inserts and resets made between the selects
        auto rcv = rx.recv();
        bool open = true;
        while (open || !q.is_empty()) {
            auto r = co_await braid::select(braid::when(!q.is_empty(), nx), braid::when(open, rcv));
            if (r.index() == 0) {
                auto& e = std::get<0>(r);
                if (e) out.push_back(Expiry{e->value, us(braid::Instant::now()), us(e->deadline)});
                continue;
            }
            auto& m = std::get<1>(r);
            if (!m) {
                open = false;
                continue;
            }
            auto [id, delay] = *m;
            if (id >= 0) {
                keys[id] = q.insert(id, std::chrono::milliseconds(delay));
                ++ins;
            } else if (q.deadline(keys[-1 - id])) {  // still queued: touched
                q.reset(keys[-1 - id], std::chrono::milliseconds(delay));
                ++rs;
            }
        }
        co_return std::make_tuple(out, ins, rs);
    }(n));
    REQUIRE(inserted == n);
    REQUIRE(resets > 0);
    REQUIRE(expired.size() == size_t(n));
    std::vector<int> seen(n, 0);
    int64_t prev = 0;
    for (auto& e : expired) {
        CAPTURE(e.id, e.at_us, e.deadline_us);
        REQUIRE(e.at_us == e.deadline_us);  // at its deadline, never early or late
        REQUIRE(e.deadline_us >= prev);     // in deadline order
        prev = e.deadline_us;
        ++seen[e.id];
    }
    REQUIRE(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));
}

// ---- an interval raced in a loop whose handler is slow (paused time) --------------

TEST_CASE("task_select_loops.an interval raced in a loop with a slow handler keeps its grid under each missed tick behavior") {
    auto rt = braid_test::paused_runtime();
    for (int b = 0; b < 3; ++b) {
        auto ticks = rt.block_on([](int beh) -> braid::Task<std::vector<int64_t>> {
            auto [tx, rx] = braid::mpsc::channel<int>(1);
            braid::spawn([](braid::mpsc::Sender<int> t) -> braid::Task<> {
                for (int i = 0; i < 40; ++i) {
                    co_await braid::sleep(std::chrono::milliseconds(3 + i % 5));
                    auto back = co_await t.send(i);
                    if (back) co_return;
                }
            }(std::move(tx))).detach();
            auto t0 = braid::Instant::now();
            auto iv = braid::interval(10ms);
            iv.set_missed_tick_behavior(beh == 0   ? braid::MissedTickBehavior::Burst
                                        : beh == 1 ? braid::MissedTickBehavior::Delay
                                                   : braid::MissedTickBehavior::Skip);
            std::vector<int64_t> got;
            auto rcv = rx.recv();
            for (;;) {
                auto r = co_await braid::select(iv.tick(), rcv);
                if (r.index() == 0) {
                    got.push_back(std::chrono::duration_cast<std::chrono::microseconds>(std::get<0>(r) - t0).count());
                    continue;
                }
                auto& m = std::get<1>(r);
                if (!m) break;
                if (*m % 4 == 3) co_await braid::sleep(17ms);  // a slow message: ticks come late
            }
            co_return got;
        }(b));
        CAPTURE(b);
        REQUIRE(ticks.size() > 10);
        REQUIRE(ticks[0] == 0);
        for (size_t i = 1; i < ticks.size(); ++i) {
            CAPTURE(i, ticks[i - 1], ticks[i]);
            if (b == 0) REQUIRE(ticks[i] == ticks[i - 1] + 10000);  // burst: every tick of the grid, once
            if (b == 1) REQUIRE(ticks[i] >= ticks[i - 1] + 10000);  // delay: a period at least between ticks
            if (b == 2) {                                            // skip: on the grid, none twice
                REQUIRE(ticks[i] % 10000 == 0);
                REQUIRE(ticks[i] > ticks[i - 1]);
            }
        }
    }
}

// ---- a waiter at the head of a queue that times out lets the ones behind in -------

namespace {
// Waits for one permit (or the read lock) and says when it got it (us from
// the start), -1 if not before `patience`.
braid::Task<int64_t> one_permit(braid::Semaphore* sem, braid::Instant t0, braid::Duration patience) {
    auto r = co_await braid::select(sem->acquire(), braid::sleep(patience));
    if (r.index() == 1) co_return -1;
    co_return std::chrono::duration_cast<std::chrono::microseconds>(t0.elapsed()).count();
}
braid::Task<int64_t> one_read(braid::RwLock<int>* rw, braid::Instant t0) {
    auto r = co_await braid::select(rw->read(), braid::sleep(1h));
    if (r.index() == 1) co_return -1;
    co_return std::chrono::duration_cast<std::chrono::microseconds>(t0.elapsed()).count();
}
}  // namespace

TEST_CASE("task_select_loops.an acquire_many that times out with permits handed to it lets the waiter behind it in at once") {
    auto rt = braid_test::paused_runtime();
    for (int kept = 0; kept < 2; ++kept) {
        auto [many_got, small_at, left] = rt.block_on([](bool k) -> braid::Task<std::tuple<bool, int64_t, size_t>> {
            braid::Semaphore sem(0);
            auto t0 = braid::Instant::now();
            bool got = false;
            // The head of the queue: wants 3; 2 come at 1ms, then it gives up at 5ms.
            auto head = braid::spawn([](braid::Semaphore* s, bool keep, bool* g) -> braid::Task<> {
                if (keep) {
                    auto acq = s->acquire_many(3);
                    auto r1 = co_await braid::select(acq, braid::sleep(2ms));  // loses, keeps its grant
                    if (r1.index() == 0) *g = true;
                    co_await braid::sleep(3ms);  // not raced now: the grant waits in `acq`
                    co_return;                   // `acq` goes: its grant goes back
                }
                auto r = co_await braid::select(s->acquire_many(3), braid::sleep(5ms));
                if (r.index() == 0) *g = true;
            }(&sem, k, &got));
            co_await braid::sleep(100us);
            auto small = braid::spawn(one_permit(&sem, t0, 1h));  // queued behind the head
            co_await braid::sleep(900us);
            sem.add_permits(2);  // handed to the head (FIFO: the one behind waits)
            int64_t at = co_await small;
            co_await head;
            co_return std::make_tuple(got, at, sem.available_permits());
        }(kept == 1));
        CAPTURE(kept);
        REQUIRE_FALSE(many_got);
        REQUIRE(small_at == 5000);  // when the head gave its 2 permits back, not later
        REQUIRE(left == 2);
    }
}

TEST_CASE("task_select_loops.a writer that times out behind a reader lets the readers queued behind it in at once") {
    auto rt = braid_test::paused_runtime();
    for (int kept = 0; kept < 2; ++kept) {
        auto [wrote, read_at] = rt.block_on([](bool k) -> braid::Task<std::pair<bool, int64_t>> {
            braid::RwLock<int> rw(0);
            auto t0 = braid::Instant::now();
            auto first = co_await rw.read();  // held until 20ms
            bool w = false;
            auto writer = braid::spawn([](braid::RwLock<int>* l, bool keep, bool* wr) -> braid::Task<> {
                if (keep) {
                    auto lk = l->write();
                    auto r1 = co_await braid::select(lk, braid::sleep(2ms));  // loses, keeps its place
                    if (r1.index() == 0) *wr = true;
                    co_await braid::sleep(3ms);
                    co_return;  // `lk` goes: it leaves the queue
                }
                auto r = co_await braid::select(braid::sleep(5ms), l->write());
                if (r.index() == 1) *wr = true;
            }(&rw, k, &w));
            co_await braid::sleep(100us);
            auto reader = braid::spawn(one_read(&rw, t0));  // behind the writer (write-preferring)
            co_await braid::sleep(20ms);
            {
                auto done = std::move(first);
            }
            int64_t at = co_await reader;
            co_await writer;
            co_return std::make_pair(w, at);
        }(kept == 1));
        CAPTURE(kept);
        REQUIRE_FALSE(wrote);
        REQUIRE(read_at == 5000);  // when the writer left, not when the first reader let go
    }
}

// ---- a kept broadcast recv raced against ticks while a plain thread sends ---------

TEST_CASE("task_select_loops.a kept broadcast recv raced against ticks accounts for every value as received or lagged", "[stress]") {
    const int n = 20000 / braid_test::kStressDivisor;
    auto rt = braid_test::runtime(2);
    for (int round = 0; round < 3; ++round) {
        auto tx = braid::broadcast::channel<long>(4);
        auto rx = tx.subscribe();
        std::thread producer([t = std::move(tx)]() {
            for (long i = 0; i < n; ++i) {
                t.send(i);
                if (i % 64 == 0) std::this_thread::yield();
            }
        });  // the sender goes with the thread: the channel closes
        using Out = std::tuple<long, long, long>;
        auto [received, lagged, bad] = rt.block_on([](braid::broadcast::Receiver<long> r) -> braid::Task<Out> {
            auto iv = braid::interval(20us);
            auto recv = r.recv();
            long got = 0, lag = 0, wrong = 0, expect = 0;
            for (;;) {
                auto res = co_await braid::select(recv, iv.tick());
                if (res.index() == 1) continue;
                auto& v = std::get<0>(res);
                if (v.is_closed()) break;
                if (v.is_lagged()) {
                    lag += long(v.lagged());
                    expect += long(v.lagged());
                    continue;
                }
                if (*v != expect) ++wrong;  // the next value after what was received or skipped
                expect = *v + 1;
                ++got;
            }
            co_return std::make_tuple(got, lag, wrong);
        }(std::move(rx)));
        producer.join();
        CAPTURE(round, received, lagged);
        REQUIRE(bad == 0);
        REQUIRE(received + lagged == n);
    }
}

// ---- a kept Notified and notify_waiters between selects ---------------------------

TEST_CASE("task_select_loops.a kept Notified that lost a select still receives a notify_waiters made between selects") {
    auto rt = braid_test::paused_runtime();
    auto [kept_idx, fresh_idx, rounds_ok] = rt.block_on([]() -> braid::Task<std::tuple<size_t, size_t, int>> {
        braid::Notify notify;
        int ok = 0;
        size_t kept = 9, fresh = 9;
        for (int round = 0; round < 20; ++round) {
            auto mine = notify.notified();
            auto r1 = co_await braid::select(mine, braid::sleep(1ms));  // polled: it waits in the list, then loses
            if (r1.index() != 1) co_return std::make_tuple(r1.index(), size_t(8), ok);
            notify.notify_waiters();  // wakes every Notified waiting in the list, `mine` too
            auto later = notify.notified();  // made after the call: not woken by it (Tokio)
            auto r2 = co_await braid::select(braid::sleep(1h), mine);
            kept = r2.index();
            auto r3 = co_await braid::select(braid::sleep(1ms), later);
            fresh = r3.index();
            if (kept == 1 && fresh == 0) ++ok;
        }
        co_return std::make_tuple(kept, fresh, ok);
    }());
    REQUIRE(kept_idx == 1);
    REQUIRE(fresh_idx == 0);
    REQUIRE(rounds_ok == 20);
}

// ---- a heartbeat interval reset on activity (paused time) --------------------------

TEST_CASE("task_select_loops.a heartbeat interval reset on every message ticks one period after the last activity") {
    auto rt = braid_test::paused_runtime();
    auto ev = rt.block_on([](std::vector<int> gaps) -> braid::Task<std::vector<Event>> {
        auto [tx, rx] = braid::mpsc::channel<int>(1);
        braid::spawn(paced_sender(std::move(tx), std::move(gaps))).detach();
        auto t0 = braid::Instant::now();
        auto hb = braid::interval_at(t0 + 5ms, 5ms);
        auto recv = rx.recv();
        std::vector<Event> out;
        for (;;) {
            auto r = co_await braid::select(hb.tick(), recv);
            int64_t at = std::chrono::duration_cast<std::chrono::microseconds>(t0.elapsed()).count();
            if (r.index() == 0) {
                out.push_back(Event{at, -1});
                continue;  // the interval goes on by itself: the next tick a period later
            }
            auto m = std::get<1>(r);
            if (!m) break;
            out.push_back(Event{at, *m});
            hb.reset();  // activity: the next heartbeat one period from now
        }
        co_return out;
    }(kGaps));
    auto arrivals = arrival_us(kGaps);
    int64_t prev = 0;
    int next_msg = 0;
    for (auto& e : ev) {
        CAPTURE(e.at_us, e.what, prev);
        if (e.what < 0) {
            REQUIRE(e.at_us == prev + 5000);
            REQUIRE(arrivals[next_msg] >= e.at_us);
        } else {
            REQUIRE(e.what == next_msg);
            REQUIRE(e.at_us == arrivals[next_msg]);
            REQUIRE(e.at_us <= prev + 5000);
            ++next_msg;
        }
        prev = e.at_us;
    }
    REQUIRE(next_msg == int(kGaps.size()));
}

// ---- a generator owned by a select branch that loses -------------------------------

namespace {
braid::Task<long> count_items(braid::Stream<Msg> s) {
    long n = 0;
    while (auto m = co_await s.next()) {
        m->consume();
        ++n;
    }
    co_return n;
}
}  // namespace

TEST_CASE("task_select_loops.a generator owned by a losing select branch is destroyed once before the select returns", "[stress]") {
    const int rounds = 300 / braid_test::kStressDivisor;
    auto rt = braid_test::runtime(2);
    g_gen_frames = 0;
    g_gen_frames_gone = 0;
    long mismatched = 0, sleeps_won = 0, started = 0;
    for (int round = 0; round < rounds; ++round) {
        auto [idx, made, gone] = rt.block_on([](int rnd) -> braid::Task<std::tuple<size_t, int, int>> {
            int made_before = g_gen_frames.load();
            int gone_before = g_gen_frames_gone.load();
            auto d = std::chrono::microseconds(rnd % 50);
            size_t i = 0;
            if (rnd % 2 == 0) {
                auto r = co_await braid::select(count_items(ticking_gen(-1)), braid::sleep(d));
                i = r.index();
            } else {  // the consumer is a pipe's awaitable, moved into the select
                auto r = co_await braid::select(braid::sleep(d), ticking_gen(-1) | bs::count());
                i = 1 - r.index();
            }
            co_return std::make_tuple(i, g_gen_frames.load() - made_before, g_gen_frames_gone.load() - gone_before);
        }(round));
        if (idx == 1) ++sleeps_won;
        // the stream never ends: the sleep wins, and the generator (if its
        // body started: it is lazy) went with its branch
        if (idx != 1 || made != gone || made > 1) ++mismatched;
        started += made;
    }
    CAPTURE(sleeps_won);
    REQUIRE(mismatched == 0);
    REQUIRE(started > rounds / 4);
    REQUIRE(g_gen_frames.load() == g_gen_frames_gone.load());
}

// ---- a merge whose busy side yields nothing -----------------------------------------

TEST_CASE("task_select_loops.a merge does not starve a stream behind one that uses the budget up without yielding") {
    // Tokio's merge flips which side it polls first on every poll.  Here one
    // side filters away everything an always-ready source gives: every poll
    // of it uses the whole budget and yields nothing.  The other side's first
    // tick is due at once and needs a unit of budget.
    auto rt = braid_test::runtime(1);
    for (int which = 0; which < 3; ++which) {
        std::atomic<long> filtered{0};
        int first = rt.block_on([](std::atomic<long>* f, int w) -> braid::Task<int> {
            auto busy = bs::iter(std::views::iota(0, 2000000)) | bs::filter([f](const int&) {
                            f->fetch_add(1, std::memory_order_relaxed);
                            return false;
                        });
            auto ticks = bs::from_interval(braid::interval(1ms)) | bs::map([](braid::Instant) { return -1; });
            if (w == 0) {
                auto m = std::move(busy) | bs::merge(std::move(ticks));
                auto v = co_await m.next();
                co_return v.value_or(-2);
            }
            if (w == 1) {
                auto m = std::move(ticks) | bs::merge(std::move(busy));
                auto v = co_await m.next();
                co_return v.value_or(-2);
            }
            bs::StreamMap<int, braid::Stream<int>> map;
            map.insert(0, std::move(busy));
            map.insert(1, std::move(ticks));
            auto v = co_await map.next();
            co_return v ? v->second : -2;
        }(&filtered, which));
        CAPTURE(which, filtered.load());
        CHECK(first == -1);
        CHECK(filtered.load() < 100000);  // the tick came before the busy side ran out
    }
}

// ---- stream time combinators over a side that uses the budget up ------------------

TEST_CASE("task_select_loops.stream timeout and chunks_timeout see their deadline around a stream that uses the budget up") {
    // As timeout() does for an awaitable: the deadline is looked at even when
    // the inner stream used the whole budget without giving an item.
    auto rt = braid_test::runtime(1);
    const int total = 20000000;
    for (int which = 0; which < 2; ++which) {
        std::atomic<long> seen{0};
        int outcome = rt.block_on([](std::atomic<long>* f, int w, int n) -> braid::Task<int> {
            // the first 3 items pass, then the filter drops everything
            auto busy = bs::iter(std::views::iota(0, n)) | bs::filter([f](const int& v) {
                            f->fetch_add(1, std::memory_order_relaxed);
                            return v < 3;
                        });
            if (w == 0) {
                auto s = std::move(busy) | bs::skip(3) | bs::timeout(1ms);
                auto v = co_await s.next();
                co_return !v ? -2 : v->is_elapsed() ? 1 : 0;
            }
            auto s = std::move(busy) | bs::chunks_timeout(100, 1ms);
            auto v = co_await s.next();
            co_return v ? int(v->size()) : -2;
        }(&seen, which, total));
        CAPTURE(which, seen.load());
        CHECK(outcome == (which == 0 ? 1 : 3));  // an Elapsed; the 3 items after 1ms
        CHECK(seen.load() < total);              // before the busy side ran out
    }
}

}  // namespace test_task_select_loops
