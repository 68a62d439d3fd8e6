// Streams used the way tokio-stream and async-stream users write them: a
// `while let Some(v) = s.next().await` loop raced in a select against a
// timer, a channel or a cancellation token on every iteration; generators
// that await between yields, dropped half-way or throwing; merge, StreamMap,
// zip, peekable, then, chunks_timeout and throttle under paused time; the
// channel, watch, interval and listener wrappers closed from another task or
// a plain thread; buffered and buffer_unordered with futures that finish out
// of order, throw, or are dropped with the stream.  Every case counts: each
// item produced is received exactly once or destroyed, each local of a
// generator or a future that was made is destroyed, each task ends.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support.hpp"

namespace test_stream_idioms {

using namespace std::chrono_literals;
using braid_test::Tracked;
using braid_test::ms_since;
namespace bs = braid::stream;

namespace {

using ms = std::chrono::milliseconds;


// Locals of generators and futures count themselves.
struct Counters {
    std::atomic<int> made{0};
    std::atomic<int> gone{0};
    int live() const { return made.load() - gone.load(); }
};
struct Guard {
    Counters* c;
    explicit Guard(Counters* cs) : c(cs) { ++c->made; }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard() { ++c->gone; }
};

// 0..n-1, a sleep of `gap` before each item, a counted local all along.
braid::Stream<int> sleepy(int n, ms gap, Counters* c) {
    Guard g(c);
    for (int i = 0; i < n; ++i) {
        co_await braid::sleep(gap);
        co_yield i;
    }
}

// Items at the given offsets from the first poll.
braid::Stream<int> at(std::vector<int> offsets, int first_value) {
    auto start = braid::Instant::now();
    int v = first_value;
    for (int off : offsets) {
        co_await braid::sleep_until(start + ms(off));
        co_yield v++;
    }
}

// Every message of the channel, with a counted local; counts what it yields.
braid::Stream<Tracked> relay_channel(braid::mpsc::UnboundedReceiver<Tracked> rx, Counters* c,
                                     std::atomic<int>* yielded) {
    Guard g(c);
    for (;;) {
        auto m = co_await rx.recv();
        if (!m) co_return;
        ++*yielded;
        co_yield std::move(*m);
    }
}

// The same over a bounded receiver, no counting.
braid::Stream<int> from_bounded(braid::mpsc::Receiver<int> rx) {
    for (;;) {
        auto m = co_await rx.recv();
        if (!m) co_return;
        co_yield *m;
    }
}

// Counts how far it got: `produced` is the number of co_yields reached.
braid::Stream<Tracked> counted_range(int n, std::atomic<int>* produced) {
    for (int i = 0; i < n; ++i) {
        ++*produced;
        co_yield Tracked(i);
    }
}

// A future that sleeps, with a counted local; its value.
braid::Task<int> slow_value(int v, ms d, Counters* c) {
    Guard g(c);
    co_await braid::sleep(d);
    co_return v;
}

braid::Task<int> failing_after(ms d, Counters* c) {
    Guard g(c);
    co_await braid::sleep(d);
    throw std::runtime_error("future failed");
}

template <class S>
braid::Task<std::vector<typename S::item_type>> drain(S& s) {
    std::vector<typename S::item_type> out;
    for (;;) {
        auto v = co_await s.next();
        if (!v) break;
        out.push_back(std::move(*v));
    }
    co_return out;
}

bool is_iota(const std::vector<int>& v, int from, int n) {
    if (int(v.size()) != n) return false;
    for (int i = 0; i < n; ++i)
        if (v[std::size_t(i)] != from + i) return false;
    return true;
}

}  // namespace

// ---- next() in a select loop ---------------------------------------------------------------------------------

TEST_CASE("stream_idioms.a next() loop raced against a kept interval tick loses and duplicates no item") {
    Counters c;
    auto rt = braid_test::paused_runtime();
    auto [items, ticks] = rt.block_on([](Counters* cs) -> braid::Task<std::pair<std::vector<int>, int>> {
        auto s = sleepy(200, 3ms, cs);
        auto iv = braid::interval(2ms);
        auto tick = iv.tick();  // kept: raced again after it completed, it waits for the next tick
        std::vector<int> items;
        int ticks = 0;
        for (;;) {
            auto r = co_await braid::select(s.next(), tick);
            if (r.index() == 1) {
                ++ticks;
                continue;
            }
            auto& v = std::get<0>(r);
            if (!v) break;
            items.push_back(*v);
        }
        co_return std::make_pair(items, ticks);
    }(&c));
    REQUIRE(is_iota(items, 0, 200));
    // ticks at 0, 2, 4 ... 598 ms, and maybe the one at 600 ms, when the stream ended
    REQUIRE(ticks >= 300);
    REQUIRE(ticks <= 301);
    REQUIRE(c.made == 1);
    REQUIRE(c.live() == 0);
}

TEST_CASE("stream_idioms.a next() loop raced against a cancellation token cancelled from a plain thread keeps every message") {
    constexpr int kMsgs = 3000;
    Counters c;
    std::atomic<int> yielded{0};
    long before = Tracked::live();
    {
        auto rt = braid_test::runtime(2);
        auto got = rt.block_on([](Counters* cs, std::atomic<int>* y) -> braid::Task<std::vector<int>> {
            auto [tx, rx] = braid::mpsc::unbounded_channel<Tracked>();
            braid::CancellationToken token;
            std::thread producer([t = std::move(tx), token]() mutable {
                for (int i = 0; i < kMsgs; ++i) {
                    t.send(Tracked(i));
                    if (i == kMsgs / 2) token.cancel();
                }
            });
            auto s = relay_channel(std::move(rx), cs, y);
            std::vector<int> got;
            bool cancelled = false;
            while (!cancelled) {
                auto r = co_await braid::select(s.next(), token.cancelled());
                if (r.index() == 1) {
                    cancelled = true;
                    break;
                }
                auto& v = std::get<0>(r);
                if (!v) break;
                got.push_back(v->value);
            }
            // Tokio's `tokio::select! { _ = token.cancelled() => break, .. }`, then drain what is left.
            auto rest = co_await drain(s);
            for (auto& t : rest) got.push_back(t.value);
            producer.join();
            EXPECT(cancelled);
            co_return got;
        }(&c, &yielded));
        REQUIRE(is_iota(got, 0, kMsgs));
        REQUIRE(yielded == kMsgs);
    }
    REQUIRE(c.live() == 0);
    REQUIRE(Tracked::live() == before);
}

TEST_CASE("stream_idioms.a next() loop raced against another channel's recv loses no message on either side") {
    constexpr int kEach = 2000;
    auto rt = braid_test::runtime(2);
    auto [a, b] = rt.block_on([]() -> braid::Task<std::pair<std::vector<int>, std::vector<int>>> {
        auto [ta, ra] = braid::mpsc::channel<int>(4);
        auto [tb, rb] = braid::mpsc::channel<int>(4);
        auto fill = [](braid::mpsc::Sender<int> t, int from) -> braid::Task<> {
            for (int i = 0; i < kEach; ++i) {
                auto back = co_await t.send(from + i);
                EXPECT(!back);
            }
        };
        braid::spawn(fill(std::move(ta), 0)).detach();
        braid::spawn(fill(std::move(tb), 100000)).detach();
        auto s = from_bounded(std::move(ra));
        std::vector<int> a, b;
        bool s_open = true, rb_open = true;
        while (s_open || rb_open) {
            auto r = co_await braid::select(braid::when(s_open, s.next()), braid::when(rb_open, rb.recv()));
            if (r.index() == 0) {
                auto& v = std::get<0>(r);
                if (v) a.push_back(*v);
                else s_open = false;
            } else {
                auto& v = std::get<1>(r);
                if (v) b.push_back(*v);
                else rb_open = false;
            }
        }
        co_return std::make_pair(a, b);
    }());
    REQUIRE(is_iota(a, 0, kEach));
    REQUIRE(is_iota(b, 100000, kEach));
}

TEST_CASE("stream_idioms.a generator whose next() lost a select goes on in the task it is handed to") {
    Counters c;
    auto rt = braid_test::paused_runtime(2);
    auto got = rt.block_on([](Counters* cs) -> braid::Task<std::vector<int>> {
        // One stream, handed from task to task; each task races one next() against a short timer.
        auto s = std::make_unique<braid::Stream<int>>(sleepy(40, 3ms, cs));
        std::vector<int> got;
        for (int round = 0; round < 1000 && s; ++round) {
            auto h = braid::spawn(
                [](std::unique_ptr<braid::Stream<int>> st)
                    -> braid::Task<std::pair<std::unique_ptr<braid::Stream<int>>, std::optional<int>>> {
                    auto r = co_await braid::select(st->next(), braid::sleep(1ms));
                    std::optional<int> v;
                    if (r.index() == 0) {
                        auto& item = std::get<0>(r);
                        if (!item) co_return std::make_pair(nullptr, std::optional<int>());
                        v = *item;
                    }
                    co_return std::make_pair(std::move(st), v);
                }(std::move(s)));
            auto [back, v] = co_await h;
            s = std::move(back);
            if (v) got.push_back(*v);
        }
        co_return got;
    }(&c));
    REQUIRE(is_iota(got, 0, 40));
    REQUIRE(c.live() == 0);
}

// ---- generators ----------------------------------------------------------------------------------------------

namespace {
// Holds a guard and the sending side of a channel across its waits.
braid::Stream<int> holder(Counters* c, braid::mpsc::UnboundedSender<int> keep, braid::mpsc::UnboundedReceiver<int> in) {
    Guard g(c);
    co_yield 1;
    {
        Guard inner(c);
        co_await braid::sleep(1h);
        co_yield 2;
    }
    for (;;) {
        auto m = co_await in.recv();
        if (!m) break;
        co_yield *m;
    }
    keep.send(-1);
}
}  // namespace

TEST_CASE("stream_idioms.a generator dropped at a co_yield or while waiting destroys its locals and what it owns") {
    Counters c;
    auto rt = braid_test::paused_runtime();
    using Closed = std::tuple<bool, bool, bool>;
    auto [closed_at_yield, closed_waiting, closed_recv] = rt.block_on([](Counters* cs) -> braid::Task<Closed> {
        bool r[3];
        for (int stop = 0; stop < 3; ++stop) {
            auto [keep_tx, keep_rx] = braid::mpsc::unbounded_channel<int>();
            auto [in_tx, in_rx] = braid::mpsc::unbounded_channel<int>();
            {
                auto s = holder(cs, std::move(keep_tx), std::move(in_rx));
                auto first = co_await s.next();
                EXPECT(first && *first == 1);
                if (stop >= 1) {
                    // waiting on the 1h sleep, the next() given up by a timeout
                    auto t = co_await braid::timeout(5ms, s.next());
                    EXPECT(!t.has_value());
                    EXPECT(cs->live() == 2);
                }
                if (stop == 2) {
                    auto second = co_await s.next();  // the sleep ends (auto-advance)
                    EXPECT(second && *second == 2);
                    auto t = co_await braid::timeout(5ms, s.next());  // waiting on in.recv()
                    EXPECT(!t.has_value());
                }
            }
            // dropped: the sender it held went with it, and nothing was sent
            auto m = co_await keep_rx.recv();
            r[stop] = !m.has_value() && in_tx.is_closed();
        }
        co_return std::make_tuple(r[0], r[1], r[2]);
    }(&c));
    REQUIRE(closed_at_yield);
    REQUIRE(closed_waiting);
    REQUIRE(closed_recv);
    REQUIRE(c.made == 1 + 2 + 2);  // the outer guard each time, the inner one twice
    REQUIRE(c.live() == 0);
}

namespace {
braid::Stream<Tracked> throws_after(int n, Counters* c) {
    Guard g(c);
    Tracked local(100);
    for (int i = 0; i < n; ++i) {
        co_await braid::sleep(1ms);
        co_yield Tracked(i);
    }
    throw std::runtime_error("generator failed");
}
}  // namespace

TEST_CASE("stream_idioms.a generator that throws rethrows once from next() then ends with its locals destroyed") {
    Counters c;
    long before = Tracked::live();
    {
        auto rt = braid_test::paused_runtime();
        auto [items, thrown, after, live_after] =
            rt.block_on([](Counters* cs) -> braid::Task<std::tuple<std::vector<int>, std::string, int, int>> {
                auto s = throws_after(3, cs);
                std::vector<int> items;
                std::string what;
                for (;;) {
                    std::optional<Tracked> v;
                    try {
                        v = co_await s.next();
                    } catch (const std::runtime_error& e) {
                        what = e.what();
                        break;
                    }
                    if (!v) break;
                    items.push_back(v->value);
                }
                int after = 0;
                for (int i = 0; i < 3; ++i) {
                    auto v = co_await s.next();
                    if (v) ++after;
                }
                co_return std::make_tuple(items, what, after, cs->live());
            }(&c));
        REQUIRE(items == std::vector<int>{0, 1, 2});
        REQUIRE(thrown == "generator failed");
        REQUIRE(after == 0);
        REQUIRE(live_after == 0);  // the body's locals went when it threw, before the stream was dropped
    }
    REQUIRE(c.live() == 0);
    REQUIRE(Tracked::live() == before);
}

TEST_CASE("stream_idioms.a task awaiting next() is aborted and the generator it owns is destroyed") {
    Counters c;
    auto rt = braid_test::paused_runtime();
    auto [cancelled, live] = rt.block_on([](Counters* cs) -> braid::Task<std::pair<bool, int>> {
        auto consumer = braid::spawn([](Counters* k) -> braid::Task<int> {
            auto s = sleepy(10, 1h, k);
            int n = 0;
            for (;;) {
                auto v = co_await s.next();
                if (!v) break;
                ++n;
            }
            co_return n;
        }(cs));
        co_await braid::sleep(10ms);
        EXPECT(cs->live() == 1);
        consumer.abort();
        bool cancelled = false;
        try {
            co_await consumer;
        } catch (const braid::TaskCancelled&) {
            cancelled = true;
        }
        co_return std::make_pair(cancelled, cs->live());
    }(&c));
    REQUIRE(cancelled);
    REQUIRE(live == 0);
}

TEST_CASE("stream_idioms.a generator waiting on a timer is dropped on a plain thread") {
    Counters c;
    auto rt = braid_test::paused_runtime();
    auto [first, live_before, live_after] = rt.block_on([](Counters* cs) -> braid::Task<std::tuple<int, int, int>> {
        auto s = sleepy(10, 5ms, cs);
        auto v = co_await s.next();
        auto t = co_await braid::timeout(1ms, s.next());  // the body waits in its sleep
        EXPECT(!t.has_value());
        int before = cs->live();
        std::thread dropper([st = std::move(s)]() mutable { st = braid::Stream<int>(); });
        dropper.join();
        co_await braid::sleep(20ms);  // the timer the body waited on is gone: nothing fires into freed memory
        co_return std::make_tuple(v.value_or(-1), before, cs->live());
    }(&c));
    REQUIRE(first == 0);
    REQUIRE(live_before == 1);
    REQUIRE(live_after == 0);
}

// ---- combinators -----------------------------------------------------------------------------------------------

TEST_CASE("stream_idioms.merge of sleeping generators interleaves by time and keeps each stream in order") {
    auto rt = braid_test::paused_runtime();
    auto log = rt.block_on([]() -> braid::Task<std::vector<std::pair<int, long>>> {
        auto t0 = braid::Instant::now();
        auto a = at({1, 11, 21, 31}, 0);
        auto b = at({5, 15, 25}, 100);
        auto c = at({8, 9, 40}, 200);
        auto m = std::move(a) | bs::merge(std::move(b), std::move(c));
        std::vector<std::pair<int, long>> log;
        for (;;) {
            auto v = co_await m.next();
            if (!v) break;
            log.emplace_back(*v, ms_since(t0));
        }
        co_return log;
    }());
    using L = std::vector<std::pair<int, long>>;
    REQUIRE(log == L{{0, 1}, {100, 5}, {200, 8}, {201, 9}, {1, 11}, {101, 15}, {2, 21},
                     {102, 25}, {3, 31}, {202, 40}});
}

namespace {
braid::Stream<int> fails_at(int when_ms, Counters* c) {
    Guard g(c);
    co_await braid::sleep(ms(when_ms));
    throw std::runtime_error("merged stream failed");
    co_yield 0;
}
}  // namespace

TEST_CASE("stream_idioms.merge with a stream that throws rethrows from next() and dropping it destroys the others") {
    Counters c;
    auto rt = braid_test::paused_runtime();
    auto [got, what, live_before_drop] =
        rt.block_on([](Counters* cs) -> braid::Task<std::tuple<std::vector<int>, std::string, int>> {
            std::vector<int> got;
            std::string what;
            int live = -1;
            {
                auto m = sleepy(100, 3ms, cs) | bs::merge(fails_at(10, cs), sleepy(100, 4ms, cs));
                for (;;) {
                    std::optional<int> v;
                    try {
                        v = co_await m.next();
                    } catch (const std::runtime_error& e) {
                        what = e.what();
                        break;
                    }
                    if (!v) break;
                    got.push_back(*v);
                }
                live = cs->live();
            }
            co_return std::make_tuple(got, what, live);
        }(&c));
    // 3, 6, 9 ms from the first, 4, 8 from the third, then the failure at 10
    REQUIRE(got.size() == 5);
    REQUIRE(what == "merged stream failed");
    REQUIRE(live_before_drop == 2);  // the two sleepy bodies wait; the failed one has ended
    REQUIRE(c.live() == 0);
}

TEST_CASE("stream_idioms.a StreamMap stream removed while waiting keeps its item for when it is polled again") {
    auto rt = braid_test::paused_runtime();
    auto [from_map, from_removed, keys_at_end] =
        rt.block_on([]() -> braid::Task<std::tuple<std::vector<std::pair<int, int>>, std::vector<int>, std::size_t>> {
            auto [ta, ra] = braid::mpsc::channel<int>(8);
            auto [tb, rb] = braid::mpsc::channel<int>(8);
            bs::StreamMap<int, braid::Stream<int>> map;
            map.insert(1, from_bounded(std::move(ra)));
            map.insert(2, from_bounded(std::move(rb)));
            std::vector<std::pair<int, int>> from_map;
            auto r = co_await braid::timeout(5ms, map.next());  // both wait in recv()
            EXPECT(!r.has_value());
            auto removed = map.remove(1);
            EXPECT(removed.has_value());
            auto sa = co_await ta.send(10);
            auto sb = co_await tb.send(20);
            EXPECT(!sa && !sb);
            auto kv = co_await map.next();
            if (kv) from_map.push_back(*kv);
            tb = braid::mpsc::Sender<int>();  // stream 2 ends, the map empties
            auto end = co_await map.next();
            EXPECT(!end.has_value());
            std::vector<int> from_removed;
            auto v = co_await removed->next();
            if (v) from_removed.push_back(*v);
            ta = braid::mpsc::Sender<int>();
            auto v2 = co_await removed->next();
            EXPECT(!v2.has_value());
            co_return std::make_tuple(from_map, from_removed, map.size());
        }());
    REQUIRE(from_map == std::vector<std::pair<int, int>>{{2, 20}});
    REQUIRE(from_removed == std::vector<int>{10});
    REQUIRE(keys_at_end == 0);
}

TEST_CASE("stream_idioms.a StreamMap fed by many senders gives every item once and ends when all are gone") {
    constexpr int kStreams = 8;
    constexpr int kEach = 300;
    auto rt = braid_test::runtime(2);
    auto per_key = rt.block_on([]() -> braid::Task<std::vector<std::vector<int>>> {
        bs::StreamMap<int, braid::Stream<int>> map;
        for (int k = 0; k < kStreams; ++k) {
            auto [tx, rx] = braid::mpsc::channel<int>(2);
            map.insert(k, from_bounded(std::move(rx)));
            braid::spawn([](braid::mpsc::Sender<int> t) -> braid::Task<> {
                for (int i = 0; i < kEach; ++i) {
                    auto back = co_await t.send(i);
                    EXPECT(!back);
                }
            }(std::move(tx))).detach();
        }
        std::vector<std::vector<int>> per_key(kStreams);
        for (;;) {
            auto kv = co_await map.next();
            if (!kv) break;
            per_key[std::size_t(kv->first)].push_back(kv->second);
        }
        co_return per_key;
    }());
    for (auto& v : per_key) REQUIRE(is_iota(v, 0, kEach));
}

TEST_CASE("stream_idioms.zip keeps the left item when next() is cancelled before the right one comes") {
    auto rt = braid_test::paused_runtime();
    auto [pairs, first_timed_out] = rt.block_on([]() -> braid::Task<std::pair<std::vector<std::pair<int, int>>, bool>> {
        auto z = at({0, 1, 2}, 0) | bs::zip(at({10, 20, 30}, 100));
        auto r = co_await braid::timeout(5ms, z.next());  // 0 taken from the left, the right still sleeps
        bool timed_out = !r.has_value();
        auto pairs = co_await drain(z);
        co_return std::make_pair(pairs, timed_out);
    }());
    REQUIRE(first_timed_out);
    REQUIRE(pairs == std::vector<std::pair<int, int>>{{0, 100}, {1, 101}, {2, 102}});
}

TEST_CASE("stream_idioms.a peek() cancelled by a timeout loses nothing and a peeked item goes with the stream") {
    long before = Tracked::live();
    {
        auto rt = braid_test::paused_runtime();
        auto [timed_out, peeked, taken, rest] = rt.block_on([]() -> braid::Task<std::tuple<bool, int, int, int>> {
            auto [tx, rx] = braid::mpsc::unbounded_channel<Tracked>();
            auto p = bs::from_receiver(std::move(rx)) | bs::peekable();
            auto r = co_await braid::timeout(5ms, p.peek());
            bool timed_out = !r.has_value();
            tx.send(Tracked(1));
            tx.send(Tracked(2));
            Tracked* first = co_await p.peek();
            int peeked = first ? first->value : -1;
            auto v = co_await p.next();
            int taken = v ? v->value : -1;
            Tracked* second = co_await p.peek();
            int rest = second ? second->value : -1;
            co_return std::make_tuple(timed_out, peeked, taken, rest);  // item 2 peeked, dropped with p
        }());
        REQUIRE(timed_out);
        REQUIRE(peeked == 1);
        REQUIRE(taken == 1);
        REQUIRE(rest == 2);
    }
    REQUIRE(Tracked::live() == before);
}

TEST_CASE("stream_idioms.then whose awaitable is cancelled mid-way by a timeout finishes it at the next next()") {
    Counters c;
    auto rt = braid_test::paused_runtime();
    using Out = std::tuple<std::vector<int>, std::vector<long>, int>;
    auto [items, times, made] = rt.block_on([](Counters* cs) -> braid::Task<Out> {
        auto t0 = braid::Instant::now();
        auto s = bs::iter(std::vector<int>{1, 2, 3}) | bs::then([cs](int v) { return slow_value(v * 10, 10ms, cs); });
        std::vector<int> items;
        std::vector<long> times;
        for (;;) {
            auto r = co_await braid::timeout(4ms, s.next());  // gives up twice per item: the future goes on
            if (!r.has_value()) continue;
            auto& v = *r;
            if (!v) break;
            items.push_back(*v);
            times.push_back(ms_since(t0));
        }
        co_return std::make_tuple(items, times, cs->made.load());
    }(&c));
    REQUIRE(items == std::vector<int>{10, 20, 30});
    REQUIRE(times == std::vector<long>{10, 20, 30});  // never restarted
    REQUIRE(made == 3);
    REQUIRE(c.live() == 0);
}

TEST_CASE("stream_idioms.chain take skip take_while and filter_map over generators poll no further than needed") {
    std::atomic<int> produced_a{0}, produced_b{0};
    long before = Tracked::live();
    {
        auto rt = braid_test::paused_runtime();
        auto out = rt.block_on([](std::atomic<int>* pa, std::atomic<int>* pb) -> braid::Task<std::vector<int>> {
            auto s = counted_range(5, pa) | bs::chain(counted_range(100, pb))
                   | bs::filter_map([](Tracked t) {
                         return t.value % 2 == 0 ? std::optional<int>(t.value) : std::nullopt;
                     })
                   | bs::skip(1) | bs::take_while([](const int& v) { return v < 20; }) | bs::take(6);
            co_return co_await drain(s);
        }(&produced_a, &produced_b));
        // a: 0 2 4 (0 skipped), b: 0 2 4 6 (6 items)
        REQUIRE(out == std::vector<int>{2, 4, 0, 2, 4, 6});
        REQUIRE(produced_a == 5);
        REQUIRE(produced_b == 7);  // take(6) stops at b's 6: its body never went past that co_yield
    }
    REQUIRE(Tracked::live() == before);
}

TEST_CASE("stream_idioms.by_ref with take and collect leaves a generator usable where it stopped") {
    std::atomic<int> produced{0};
    long before = Tracked::live();
    {
        auto rt = braid_test::paused_runtime();
        using Out = std::tuple<std::vector<int>, bool, std::vector<int>>;
        auto [first, found, rest] = rt.block_on([](std::atomic<int>* p) -> braid::Task<Out> {
            auto s = counted_range(10, p);
            auto head = bs::by_ref(s) | bs::take(3) | bs::map([](Tracked t) { return t.value; }) | bs::collect();
            auto first = co_await std::move(head);
            auto probe = bs::by_ref(s) | bs::take(2) | bs::any([](const Tracked& t) { return t.value == 4; });
            bool found = co_await std::move(probe);
            auto tail = bs::by_ref(s) | bs::map([](Tracked t) { return t.value; }) | bs::collect();
            auto rest = co_await std::move(tail);
            co_return std::make_tuple(first, found, rest);
        }(&produced));
        REQUIRE(first == std::vector<int>{0, 1, 2});
        REQUIRE(found);
        REQUIRE(rest == std::vector<int>{5, 6, 7, 8, 9});
        REQUIRE(produced == 10);
    }
    REQUIRE(Tracked::live() == before);
}

TEST_CASE("stream_idioms.chunks_timeout raced against a kept deadline keeps every item of its batches") {
    auto rt = braid_test::paused_runtime();
    auto [items, batches, deadlines] = rt.block_on([]() -> braid::Task<std::tuple<std::vector<int>, int, int>> {
        auto [tx, rx] = braid::mpsc::channel<int>(16);
        braid::spawn([](braid::mpsc::Sender<int> t) -> braid::Task<> {
            for (int i = 0; i < 500; ++i) {
                auto back = co_await t.send(i);
                EXPECT(!back);
                if (i % 7 == 0) co_await braid::sleep(3ms);
            }
        }(std::move(tx))).detach();
        auto s = bs::from_receiver(std::move(rx)) | bs::chunks_timeout(5, 2ms);
        std::vector<int> items;
        int batches = 0, deadlines = 0;
        auto beat = braid::interval(1ms);
        auto tick = beat.tick();
        for (;;) {
            auto r = co_await braid::select(s.next(), tick);
            if (r.index() == 1) {
                ++deadlines;
                continue;
            }
            auto& b = std::get<0>(r);
            if (!b) break;
            EXPECT(!b->empty() && b->size() <= 5);
            ++batches;
            items.insert(items.end(), b->begin(), b->end());
        }
        co_return std::make_tuple(items, batches, deadlines);
    }());
    REQUIRE(is_iota(items, 0, 500));
    REQUIRE(batches >= 100);
    REQUIRE(deadlines > 0);
}

TEST_CASE("stream_idioms.throttle and timeout stacked on a bursty generator under paused time") {
    auto rt = braid_test::paused_runtime();
    auto log = rt.block_on([]() -> braid::Task<std::vector<std::pair<int, long>>> {
        auto t0 = braid::Instant::now();
        // a burst at 0, then silence until 100
        auto s = at({0, 0, 0, 100}, 0) | bs::throttle(10ms) | bs::timeout(30ms);
        std::vector<std::pair<int, long>> log;
        for (;;) {
            auto r = co_await s.next();
            if (!r) break;
            log.emplace_back(r->is_elapsed() ? -1 : **r, ms_since(t0));
        }
        co_return log;
    }());
    // 0 at once, 1 and 2 one period apart; the clock of the next item starts when it is waited for (20):
    // Elapsed at 50; 3 at 100
    using L = std::vector<std::pair<int, long>>;
    REQUIRE(log == L{{0, 0}, {1, 10}, {2, 20}, {-1, 50}, {3, 100}});
}

// ---- wrappers ---------------------------------------------------------------------------------------------------

TEST_CASE("stream_idioms.from_receiver ends when the last sender is dropped on a plain thread while next() waits") {
    long before = Tracked::live();
    {
        auto rt = braid_test::runtime(2);
        auto [got, ended] = rt.block_on([]() -> braid::Task<std::pair<int, bool>> {
            auto [tx, rx] = braid::mpsc::channel<Tracked>(4);
            auto s = bs::from_receiver(std::move(rx));
            std::thread t([tx = std::move(tx)]() mutable {
                EXPECT_ANYWHERE(!tx.blocking_send(Tracked(7)));
                tx = braid::mpsc::Sender<Tracked>();  // while the consumer waits in next(), or before
            });
            auto v = co_await s.next();
            auto e = co_await s.next();
            t.join();
            co_return std::make_pair(v ? v->value : -1, !e.has_value());
        }());
        REQUIRE(got == 7);
        REQUIRE(ended);
    }
    REQUIRE(Tracked::live() == before);
}

TEST_CASE("stream_idioms.from_broadcast fed by a plain thread counts every value as received or lagged") {
    constexpr int kValues = 20000;
    auto rt = braid_test::runtime(2);
    auto [received, lagged, increasing] = rt.block_on([]() -> braid::Task<std::tuple<long, long, bool>> {
        auto tx = braid::broadcast::channel<int>(16);
        auto s = bs::from_broadcast(tx.subscribe());
        std::thread producer([t = std::move(tx)]() mutable {
            for (int i = 0; i < kValues; ++i) t.send(i);
        });
        long received = 0, lagged = 0;
        int last = -1;
        bool increasing = true;
        for (;;) {
            auto r = co_await s.next();
            if (!r) break;
            if (r->is_lagged()) {
                lagged += long(r->lagged());
                continue;
            }
            ++received;
            if (**r <= last) increasing = false;
            if (long(**r) != received + lagged - 1) increasing = false;  // nothing skipped unannounced
            last = **r;
        }
        producer.join();
        co_return std::make_tuple(received, lagged, increasing);
    }());
    REQUIRE(received + lagged == kValues);
    REQUIRE(received > 0);
    REQUIRE(increasing);
}

TEST_CASE("stream_idioms.from_watch fed by a plain thread never goes backwards and ends on the last value") {
    constexpr int kValues = 5000;
    auto rt = braid_test::runtime(2);
    auto [last, monotonic, count] = rt.block_on([]() -> braid::Task<std::tuple<int, bool, int>> {
        auto [tx, rx] = braid::watch::channel<int>(0);
        auto s = bs::from_watch(std::move(rx));
        std::thread producer([t = std::move(tx)]() mutable {
            for (int i = 1; i <= kValues; ++i) t.send(i);
        });
        int last = -1, count = 0;
        bool monotonic = true;
        for (;;) {
            auto v = co_await s.next();
            if (!v) break;
            if (*v <= last) monotonic = false;
            last = *v;
            ++count;
        }
        producer.join();
        co_return std::make_tuple(last, monotonic, count);
    }());
    REQUIRE(last == kValues);  // the last value is always seen before the end
    REQUIRE(monotonic);
    REQUIRE(count >= 1);
}

TEST_CASE("stream_idioms.from_interval raced against a channel under paused time ticks every period") {
    auto rt = braid_test::paused_runtime();
    auto [ticks, msgs] = rt.block_on([]() -> braid::Task<std::pair<std::vector<long>, int>> {
        auto t0 = braid::Instant::now();
        auto [tx, rx] = braid::mpsc::channel<int>(4);
        braid::spawn([](braid::mpsc::Sender<int> t) -> braid::Task<> {
            for (int i = 0; i < 20; ++i) {
                co_await braid::sleep(3ms);
                auto back = co_await t.send(i);
                EXPECT(!back);
            }
        }(std::move(tx))).detach();
        auto ticks_s = bs::from_interval(braid::interval(10ms)) | bs::take(7);
        std::vector<long> ticks;
        int msgs = 0;
        bool open = true, ticking = true;
        while (open || ticking) {
            auto r = co_await braid::select(braid::when(ticking, ticks_s.next()), braid::when(open, rx.recv()));
            if (r.index() == 0) {
                auto& t = std::get<0>(r);
                if (t) ticks.push_back(long(std::chrono::duration_cast<ms>(*t - t0).count()));
                else ticking = false;
            } else {
                if (std::get<1>(r)) ++msgs;
                else open = false;
            }
        }
        co_return std::make_pair(ticks, msgs);
    }());
    REQUIRE(ticks == std::vector<long>{0, 10, 20, 30, 40, 50, 60});
    REQUIRE(msgs == 20);
}

TEST_CASE("stream_idioms.from_tcp_listener: three connections then the stream dropped in an aborted task closes the listener") {
    auto rt = braid_test::runtime(2);
    auto [accepted, refused] = rt.block_on([]() -> braid::Task<std::pair<std::size_t, int>> {
        auto listener = braid::net::TcpListener::bind("127.0.0.1:0");
        auto addr = listener.local_addr();
        auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
        auto server = braid::spawn([](braid::net::TcpListener l, braid::mpsc::UnboundedSender<int> t) -> braid::Task<> {
            auto incoming = bs::from_tcp_listener(std::move(l));
            for (;;) {
                auto c = co_await incoming.next();
                if (!c) break;
                t.send(1);
            }
        }(std::move(listener), std::move(tx)));
        std::vector<braid::net::TcpStream> clients;
        std::size_t accepted = 0;
        for (int i = 0; i < 3; ++i) {
            clients.push_back(co_await braid::net::TcpStream::connect(addr));
            auto one = co_await rx.recv();
            if (one) ++accepted;
        }
        server.abort();  // waiting in next(): the stream and its listener are dropped
        bool cancelled = false;
        try {
            co_await server;
        } catch (const braid::TaskCancelled&) {
            cancelled = true;
        }
        EXPECT(cancelled);
        int refused = co_await braid_test::code_of(braid::net::TcpStream::connect(addr));
        co_return std::make_pair(accepted, refused);
    }());
    REQUIRE(accepted == 3);
    REQUIRE(refused != 0);
}

// ---- buffered, buffer_unordered, for_each_concurrent ------------------------------------------------------------

TEST_CASE("stream_idioms.buffer_unordered gives results as they finish and buffered in stream order") {
    Counters c;
    auto rt = braid_test::paused_runtime();
    auto [unordered, ordered, ordered_times] =
        rt.block_on([](Counters* cs) -> braid::Task<std::tuple<std::vector<int>, std::vector<int>, std::vector<long>>> {
            std::vector<int> delays{30, 10, 25, 5, 12};
            auto mk = [cs](int d) { return slow_value(d, ms(d), cs); };
            auto u = bs::iter(delays) | bs::map(mk) | bs::buffer_unordered(3);
            auto unordered = co_await drain(u);
            auto t0 = braid::Instant::now();
            auto o = bs::iter(delays) | bs::map(mk) | bs::buffered(3);
            std::vector<int> ordered;
            std::vector<long> times;
            for (;;) {
                auto v = co_await o.next();
                if (!v) break;
                ordered.push_back(*v);
                times.push_back(ms_since(t0));
            }
            co_return std::make_tuple(unordered, ordered, times);
        }(&c));
    // n = 3: 30, 10, 25 start at 0; 10 ends at 10 and 5 starts (ends 15); 12 starts at 15 (ends 27)
    REQUIRE(unordered == std::vector<int>{10, 5, 25, 12, 30});
    REQUIRE(ordered == std::vector<int>{30, 10, 25, 5, 12});
    // buffered: a finished future keeps its place until it leaves, so 5 starts when 30 has left (at 30,
    // ends at 35) and 12 when 10 has (ends at 42)
    REQUIRE(ordered_times == std::vector<long>{30, 30, 30, 35, 42});
    REQUIRE(c.made == 10);
    REQUIRE(c.live() == 0);
}

TEST_CASE("stream_idioms.buffer_unordered with a future that throws rethrows once then ends and cancels the rest when dropped") {
    Counters c;
    auto rt = braid_test::paused_runtime();
    auto [got, what, after, live_before_drop] =
        rt.block_on([](Counters* cs) -> braid::Task<std::tuple<std::vector<int>, std::string, bool, int>> {
            std::vector<int> got;
            std::string what;
            bool after = false;
            int live = -1;
            {
                std::vector<int> ids{0, 1, 2, 3, 4, 5};
                auto mk = [cs](int i) {
                    return i == 2 ? failing_after(15ms, cs) : slow_value(i, ms(10 * (i + 1)), cs);
                };
                auto s = bs::iter(ids) | bs::map(mk) | bs::buffer_unordered(4);
                for (;;) {
                    std::optional<int> v;
                    try {
                        v = co_await s.next();
                    } catch (const std::runtime_error& e) {
                        what = e.what();
                        break;
                    }
                    if (!v) break;
                    got.push_back(*v);
                }
                auto more = co_await s.next();
                after = more.has_value();
                live = cs->live();
            }
            co_return std::make_tuple(got, what, after, live);
        }(&c));
    // 0 (10 ms) finishes, 4 starts; 2 fails at 15
    REQUIRE(got == std::vector<int>{0});
    REQUIRE(what == "future failed");
    REQUIRE_FALSE(after);
    REQUIRE(live_before_drop <= 3);  // 1, 3 and 4 were still running when 2 failed
    REQUIRE(c.live() == 0);
}

TEST_CASE("stream_idioms.dropping a buffered stream half-way cancels every future in flight") {
    Counters c;
    auto rt = braid_test::paused_runtime();
    using Out = std::tuple<std::vector<int>, int, int>;
    auto [got, live_before_drop, made] = rt.block_on([](Counters* cs) -> braid::Task<Out> {
        std::vector<int> got;
        int live = -1;
        {
            // the first ten finish out of order; the others never finish on their own
            auto mk = [cs](int i) { return slow_value(i, i < 10 ? ms(5 + (i * 7) % 11) : ms(3600000), cs); };
            auto s = bs::iter(std::views::iota(0, 100)) | bs::map(mk) | bs::buffered(5);
            for (int i = 0; i < 10; ++i) {
                auto v = co_await s.next();
                if (v) got.push_back(*v);
            }
            live = cs->live();
        }
        co_return std::make_tuple(got, live, cs->made.load());
    }(&c));
    REQUIRE(is_iota(got, 0, 10));
    REQUIRE(live_before_drop >= 4);  // the ones started after the tenth: up to five in flight
    REQUIRE(live_before_drop <= 5);
    REQUIRE(made == 10 + live_before_drop);
    REQUIRE(c.live() == 0);
}

TEST_CASE("stream_idioms.for_each_concurrent in a task that is aborted cancels every future in flight") {
    Counters c;
    auto rt = braid_test::paused_runtime();
    using Out = std::tuple<bool, int, int>;
    auto [cancelled, live_running, live_after] = rt.block_on([](Counters* cs) -> braid::Task<Out> {
        auto worker = braid::spawn([](Counters* k) -> braid::Task<std::size_t> {
            auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
            for (int i = 0; i < 50; ++i) tx.send(i);
            auto run = bs::from_receiver(std::move(rx))
                     | bs::for_each_concurrent(4, [k](int i) { return slow_value(i, ms(100 + i), k); });
            co_return co_await std::move(run);
        }(cs));
        co_await braid::sleep(50ms);
        int running = cs->live();
        worker.abort();
        bool cancelled = false;
        try {
            co_await worker;
        } catch (const braid::TaskCancelled&) {
            cancelled = true;
        }
        co_return std::make_tuple(cancelled, running, cs->live());
    }(&c));
    REQUIRE(cancelled);
    REQUIRE(live_running == 4);
    REQUIRE(live_after == 0);
}

TEST_CASE("stream_idioms.for_each_concurrent rethrows the first failure and cancels the futures still running") {
    Counters c;
    auto rt = braid_test::paused_runtime();
    auto [what, elapsed] = rt.block_on([](Counters* cs) -> braid::Task<std::pair<std::string, long>> {
        auto t0 = braid::Instant::now();
        std::string what;
        try {
            auto run = bs::iter(std::views::iota(0, 20)) | bs::for_each_concurrent(3, [cs](int i) {
                           return i == 1 ? failing_after(1ms, cs) : slow_value(i, 1h, cs);
                       });
            co_await std::move(run);
        } catch (const std::runtime_error& e) {
            what = e.what();
        }
        co_return std::make_pair(what, ms_since(t0));
    }(&c));
    REQUIRE(what == "future failed");
    REQUIRE(elapsed == 1);
    REQUIRE(c.made == 3);  // 0 and 2 were cancelled, nothing else started
    REQUIRE(c.live() == 0);
}

TEST_CASE("stream_idioms.every Tracked item of a pipeline is received once or destroyed when the consumer stops early") {
    long before = Tracked::live();
    std::atomic<int> produced{0};
    {
        auto rt = braid_test::paused_runtime();
        auto sum = rt.block_on([](std::atomic<int>* p) -> braid::Task<long> {
            auto [tx, rx] = braid::mpsc::unbounded_channel<Tracked>();
            for (int i = 0; i < 100; ++i) tx.send(Tracked(i));
            auto s = bs::from_receiver(std::move(rx)) | bs::chain(counted_range(50, p))
                   | bs::filter([](const Tracked& t) { return t.value % 3 != 0; }) | bs::chunks(4)
                   | bs::take(10);
            long sum = 0;
            for (;;) {
                auto b = co_await s.next();
                if (!b) break;
                for (auto& t : *b) sum += t.value;
            }
            co_return sum;  // the receiver with its messages, and the unpolled generator, dropped here
        }(&produced));
        long expect = 0;
        int taken = 0;
        for (int i = 0; i < 100 && taken < 40; ++i)
            if (i % 3 != 0) {
                expect += i;
                ++taken;
            }
        REQUIRE(sum == expect);
        REQUIRE(produced == 0);
    }
    REQUIRE(Tracked::live() == before);
}

// ---- more combinators under cancellation ---------------------------------------------------------------------

TEST_CASE("stream_idioms.then with an awaitable that throws rethrows once then ends and leaks no frame") {
    Counters c;
    auto rt = braid_test::paused_runtime();
    using Out = std::tuple<std::vector<int>, std::string, bool>;
    auto [items, what, after] = rt.block_on([](Counters* cs) -> braid::Task<Out> {
        std::vector<int> items;
        std::string what;
        bool after = false;
        auto s = bs::iter(std::vector<int>{1, 2, 3, 4})
               | bs::then([cs](int v) { return v == 3 ? failing_after(2ms, cs) : slow_value(v, 2ms, cs); });
        for (;;) {
            std::optional<int> v;
            try {
                v = co_await s.next();
            } catch (const std::runtime_error& e) {
                what = e.what();
                break;
            }
            if (!v) break;
            items.push_back(*v);
        }
        auto more = co_await s.next();
        after = more.has_value();
        co_return std::make_tuple(items, what, after);
    }(&c));
    REQUIRE(items == std::vector<int>{1, 2});
    REQUIRE(what == "future failed");
    REQUIRE_FALSE(after);
    REQUIRE(c.made == 3);
    REQUIRE(c.live() == 0);
}

namespace {
// A generator whose body races its own source against a heartbeat (-1).
braid::Stream<int> with_heartbeat(braid::Stream<int> inner) {
    for (;;) {
        auto r = co_await braid::select(inner.next(), braid::sleep(5ms));
        if (r.index() == 1) {
            co_yield -1;
            continue;
        }
        auto& v = std::get<0>(r);
        if (!v) co_return;
        int x = *v;
        co_yield x;
    }
}
}  // namespace

TEST_CASE("stream_idioms.a generator racing its own source in a select inside a consumer's select loop loses nothing") {
    Counters c;
    auto rt = braid_test::paused_runtime(2);
    using Out = std::tuple<std::vector<int>, int, int>;
    auto [items, beats, ticks] = rt.block_on([](Counters* cs) -> braid::Task<Out> {
        auto s = with_heartbeat(sleepy(100, 7ms, cs));
        std::vector<int> items;
        int beats = 0, ticks = 0;
        for (;;) {
            auto r = co_await braid::select(s.next(), braid::sleep(2ms));
            if (r.index() == 1) {
                ++ticks;
                continue;
            }
            auto& v = std::get<0>(r);
            if (!v) break;
            if (*v == -1) ++beats;
            else items.push_back(*v);
        }
        co_return std::make_tuple(items, beats, ticks);
    }(&c));
    REQUIRE(is_iota(items, 0, 100));
    REQUIRE(beats == 100);  // each 7 ms wait crosses one 5 ms heartbeat
    REQUIRE(ticks > 100);
    REQUIRE(c.live() == 0);
}

TEST_CASE("stream_idioms.take_until a token cancelled from a plain thread while next() waits ends the stream") {
    auto rt = braid_test::runtime(2);
    auto [count, stopped] = rt.block_on([]() -> braid::Task<std::pair<int, bool>> {
        braid::CancellationToken token;
        auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
        auto s = bs::from_receiver(std::move(rx)) | bs::take_until(token.cancelled());
        for (int i = 0; i < 5; ++i) tx.send(i);
        int count = 0;
        for (int i = 0; i < 5; ++i) {
            auto v = co_await s.next();
            if (v) ++count;
        }
        std::thread canceller([token] { token.cancel(); });
        auto end = co_await s.next();  // the channel stays open: only the token ends it
        canceller.join();
        EXPECT(!end.has_value());
        co_return std::make_pair(count, s.is_stopped());
    }());
    REQUIRE(count == 5);
    REQUIRE(stopped);
}

TEST_CASE("stream_idioms.timeout over an interval stream gives one Elapsed per period") {
    auto rt = braid_test::paused_runtime();
    auto log = rt.block_on([]() -> braid::Task<std::vector<std::pair<int, long>>> {
        auto t0 = braid::Instant::now();
        auto s = bs::from_interval(braid::interval(10ms)) | bs::timeout(4ms) | bs::take(6);
        std::vector<std::pair<int, long>> log;
        for (;;) {
            auto r = co_await s.next();
            if (!r) break;
            log.emplace_back(r->is_elapsed() ? -1 : 1, ms_since(t0));
        }
        co_return log;
    }());
    using L = std::vector<std::pair<int, long>>;
    REQUIRE(log == L{{1, 0}, {-1, 4}, {1, 10}, {-1, 14}, {1, 20}, {-1, 24}});
}

TEST_CASE("stream_idioms.throttle raced against a faster tick keeps its spacing and loses no item") {
    auto rt = braid_test::paused_runtime();
    auto [items, times] = rt.block_on([]() -> braid::Task<std::pair<std::vector<int>, std::vector<long>>> {
        auto t0 = braid::Instant::now();
        auto s = bs::iter(std::views::iota(0, 30)) | bs::throttle(10ms);
        auto iv = braid::interval(3ms);
        auto tick = iv.tick();
        std::vector<int> items;
        std::vector<long> times;
        for (;;) {
            auto r = co_await braid::select(s.next(), tick);
            if (r.index() == 1) continue;
            auto& v = std::get<0>(r);
            if (!v) break;
            items.push_back(*v);
            times.push_back(ms_since(t0));
        }
        co_return std::make_pair(items, times);
    }());
    REQUIRE(is_iota(items, 0, 30));
    for (std::size_t i = 0; i < times.size(); ++i) REQUIRE(times[i] == long(10 * i));
}

TEST_CASE("stream_idioms.zip drops the left item it holds when the right stream ends") {
    long before = Tracked::live();
    {
        auto rt = braid_test::paused_runtime();
        auto n = rt.block_on([]() -> braid::Task<std::size_t> {
            std::atomic<int> produced{0};
            auto [tx, rx] = braid::mpsc::unbounded_channel<Tracked>();
            auto z = counted_range(10, &produced) | bs::zip(bs::from_receiver(std::move(rx)));
            tx.send(Tracked(100));
            auto first = co_await z.next();
            EXPECT(first && first->first.value == 0 && first->second.value == 100);
            auto r = co_await braid::timeout(5ms, z.next());  // holds left item 1, waits on the channel
            EXPECT(!r.has_value());
            tx = braid::mpsc::UnboundedSender<Tracked>();
            auto end = co_await z.next();
            EXPECT(!end.has_value());
            co_return std::size_t(produced.load());
        }());
        REQUIRE(n == 2);
    }
    REQUIRE(Tracked::live() == before);
}

TEST_CASE("stream_idioms.StreamMap insert replacing a waiting stream hands it back with its progress") {
    auto rt = braid_test::paused_runtime();
    auto [from_map, from_old] = rt.block_on([]() -> braid::Task<std::pair<std::vector<int>, std::vector<int>>> {
        auto [ta, ra] = braid::mpsc::unbounded_channel<int>();
        auto [tb, rb] = braid::mpsc::unbounded_channel<int>();
        bs::StreamMap<std::string, braid::Stream<int>> map;
        map.insert("k", bs::from_receiver(std::move(ra)));
        auto r = co_await braid::timeout(5ms, map.next());
        EXPECT(!r.has_value());
        auto old = map.insert("k", bs::from_receiver(std::move(rb)));
        EXPECT(old.has_value());
        ta.send(1);
        tb.send(2);
        ta = braid::mpsc::UnboundedSender<int>();
        tb = braid::mpsc::UnboundedSender<int>();
        std::vector<int> from_map, from_old;
        for (;;) {
            auto kv = co_await map.next();
            if (!kv) break;
            EXPECT(kv->first == "k");
            from_map.push_back(kv->second);
        }
        from_old = co_await drain(*old);
        co_return std::make_pair(from_map, from_old);
    }());
    REQUIRE(from_map == std::vector<int>{2});
    REQUIRE(from_old == std::vector<int>{1});
}

TEST_CASE("stream_idioms.flat_map over sleeping generators with next() cancelled by timeouts keeps order") {
    Counters c;
    auto rt = braid_test::paused_runtime();
    auto items = rt.block_on([](Counters* cs) -> braid::Task<std::vector<int>> {
        auto inner = [cs](int k) { return sleepy(4, ms(3 + k), cs) | bs::map([k](int v) { return k * 10 + v; }); };
        auto s = bs::iter(std::views::iota(0, 5)) | bs::flat_map(inner);
        std::vector<int> items;
        for (;;) {
            auto r = co_await braid::timeout(2ms, s.next());
            if (!r.has_value()) continue;
            auto& v = *r;
            if (!v) break;
            items.push_back(*v);
        }
        co_return items;
    }(&c));
    std::vector<int> expect;
    for (int k = 0; k < 5; ++k)
        for (int v = 0; v < 4; ++v) expect.push_back(k * 10 + v);
    REQUIRE(items == expect);
    REQUIRE(c.made == 5);
    REQUIRE(c.live() == 0);
}

TEST_CASE("stream_idioms.merge_all of receivers fed by plain threads with an early stop destroys every item") {
    constexpr int kThreads = 4;
    constexpr int kEach = 2000;
    long before = Tracked::live();
    {
        auto rt = braid_test::runtime(2);
        auto [taken, per_thread_in_order] = rt.block_on([]() -> braid::Task<std::pair<int, bool>> {
            std::vector<braid::Stream<Tracked>> streams;
            std::vector<std::thread> threads;
            for (int t = 0; t < kThreads; ++t) {
                auto [tx, rx] = braid::mpsc::channel<Tracked>(8);
                streams.push_back(bs::from_receiver(std::move(rx)));
                threads.emplace_back([t, tx = std::move(tx)]() mutable {
                    for (int i = 0; i < kEach; ++i)
                        if (tx.blocking_send(Tracked(t * 100000 + i))) break;  // handed back: the stream is gone
                });
            }
            std::vector<int> last(kThreads, -1);
            bool ok = true;
            int taken = 0;
            {
                auto s = bs::merge_all(std::move(streams)) | bs::take(kEach);
                for (;;) {
                    auto v = co_await s.next();
                    if (!v) break;
                    int t = v->value / 100000, i = v->value % 100000;
                    if (i <= last[std::size_t(t)]) ok = false;
                    last[std::size_t(t)] = i;
                    ++taken;
                }
            }  // the receivers go with the stream: the threads' blocked sends give their values back
            for (auto& th : threads) th.join();
            co_return std::make_pair(taken, ok);
        }());
        REQUIRE(taken == kEach);
        REQUIRE(per_thread_in_order);
    }
    REQUIRE(Tracked::live() == before);
}

namespace {
braid::Stream<int> spawns_worker(braid::mpsc::UnboundedSender<int> done, Counters* c) {
    Guard g(c);
    auto h = braid::spawn([](braid::mpsc::UnboundedSender<int> d) -> braid::Task<int> {
        co_await braid::sleep(50ms);
        d.send(1);
        co_return 7;
    }(std::move(done)));
    co_yield 0;
    int v = co_await h;
    co_yield v;
}
}  // namespace

TEST_CASE("stream_idioms.a generator dropped while it awaits a JoinHandle detaches the task and the task still finishes") {
    Counters c;
    auto rt = braid_test::paused_runtime();
    auto [first, finished, live] = rt.block_on([](Counters* cs) -> braid::Task<std::tuple<int, bool, int>> {
        auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
        int first = -1;
        {
            auto s = spawns_worker(std::move(tx), cs);
            auto v = co_await s.next();
            first = v.value_or(-1);
            auto r = co_await braid::timeout(5ms, s.next());  // waiting on the JoinHandle
            EXPECT(!r.has_value());
        }
        auto m = co_await rx.recv();
        co_return std::make_tuple(first, m.has_value(), cs->live());
    }(&c));
    REQUIRE(first == 0);
    REQUIRE(finished);
    REQUIRE(live == 0);
}

TEST_CASE("stream_idioms.a peek() raced against a tick in a select loop then next() gives each item exactly once") {
    Counters c;
    auto rt = braid_test::paused_runtime();
    auto items = rt.block_on([](Counters* cs) -> braid::Task<std::vector<int>> {
        auto p = sleepy(50, 5ms, cs) | bs::peekable();
        auto iv = braid::interval(2ms);
        auto tick = iv.tick();
        std::vector<int> items;
        for (;;) {
            auto r = co_await braid::select(p.peek(), tick);
            if (r.index() == 1) continue;
            int* peeked = std::get<0>(r);
            if (!peeked) break;
            int seen = *peeked;
            auto v = co_await p.next();  // the peeked item, at once
            EXPECT(v && *v == seen);
            items.push_back(*v);
        }
        co_return items;
    }(&c));
    REQUIRE(is_iota(items, 0, 50));
    REQUIRE(c.live() == 0);
}

TEST_CASE("stream_idioms.a chunks_timeout batch under way and a timeout stream's generator are destroyed with their streams") {
    long before = Tracked::live();
    Counters c;
    {
        auto rt = braid_test::paused_runtime();
        auto [first, what] = rt.block_on([](Counters* cs) -> braid::Task<std::pair<std::size_t, std::string>> {
            std::size_t first = 0;
            {
                auto [tx, rx] = braid::mpsc::unbounded_channel<Tracked>();
                for (int i = 0; i < 7; ++i) tx.send(Tracked(i));
                auto s = bs::from_receiver(std::move(rx)) | bs::chunks_timeout(5, 10ms);
                auto b = co_await s.next();
                first = b ? b->size() : 0;
                auto r = co_await braid::timeout(3ms, s.next());  // two items gathered, batch not due
                EXPECT(!r.has_value());
            }
            std::string what;
            {
                auto s = throws_after(2, cs) | bs::timeout(5ms);
                for (;;) {
                    std::optional<bs::TimeoutResult<Tracked>> r;
                    try {
                        r = co_await s.next();
                    } catch (const std::runtime_error& e) {
                        what = e.what();
                        break;
                    }
                    if (!r) break;
                }
            }
            co_return std::make_pair(first, what);
        }(&c));
        REQUIRE(first == 5);
        REQUIRE(what == "generator failed");
    }
    REQUIRE(c.live() == 0);
    REQUIRE(Tracked::live() == before);
}

namespace {
braid::Task<std::optional<std::pair<int, int>>> next_page(int page) {
    co_await braid::sleep(1ms);
    if (page == 3) throw std::runtime_error("page failed");
    co_return std::pair<int, int>(page * 10, page + 1);
}
}  // namespace

TEST_CASE("stream_idioms.an async unfold raced against timeouts then failing gives its pages once and the error once") {
    auto rt = braid_test::paused_runtime();
    auto [pages, what, after] = rt.block_on([]() -> braid::Task<std::tuple<std::vector<int>, std::string, bool>> {
        auto s = bs::unfold(0, next_page);
        std::vector<int> pages;
        std::string what;
        for (;;) {
            std::optional<std::optional<int>> r;
            try {
                r = co_await braid::timeout(400us, s.next());  // gives up two or three times per page
            } catch (const std::runtime_error& e) {
                what = e.what();
                break;
            }
            if (!r) continue;
            if (!*r) break;
            pages.push_back(**r);
        }
        auto more = co_await s.next();
        co_return std::make_tuple(pages, what, more.has_value());
    }());
    REQUIRE(pages == std::vector<int>{0, 10, 20});
    REQUIRE(what == "page failed");
    REQUIRE_FALSE(after);
}

namespace {
// A sync unfold's function: counts up from its state and throws at 2; the
// states it was called with go to `seen` (-1: a moved-from state).
struct CountThenThrow {
    std::vector<int>* seen;
    std::optional<std::pair<int, std::vector<int>>> operator()(std::vector<int> st) const {
        seen->push_back(st.empty() ? -1 : st.back());
        if (st.empty()) return std::nullopt;
        if (st.back() == 2) throw std::runtime_error("state failed");
        int item = st.back();
        st.push_back(item + 1);
        return std::pair<int, std::vector<int>>(item, std::move(st));
    }
};
}  // namespace

TEST_CASE("stream_idioms.a sync unfold whose function throws gives the error once and then ends") {
    // The state went into the call that threw: the stream has ended, as a
    // generator has after its body threw; the function is not called again
    // with a moved-from state.
    auto rt = braid_test::runtime(1);
    std::vector<int> seen;
    auto [items, what, after] = rt.block_on(
        [](std::vector<int>* seen) -> braid::Task<std::tuple<std::vector<int>, std::string, bool>> {
            auto s = bs::unfold(std::vector<int>{0}, CountThenThrow{seen});
            std::vector<int> items;
            std::string what;
            for (;;) {
                std::optional<int> v;
                try {
                    v = co_await s.next();
                } catch (const std::runtime_error& e) {
                    what = e.what();
                    break;
                }
                if (!v) break;
                items.push_back(*v);
            }
            auto more = co_await s.next();
            co_return std::make_tuple(items, what, more.has_value());
        }(&seen));
    REQUIRE(items == std::vector<int>{0, 1});
    REQUIRE(what == "state failed");
    REQUIRE_FALSE(after);
    REQUIRE(seen == std::vector<int>{0, 1, 2});
}

}  // namespace test_stream_idioms
