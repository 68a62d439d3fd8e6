// Stream combinators: order and completeness of each one, the consumers,
// a dropped pipeline destroys every stage once, exceptions travel through a
// four-stage pipeline, by_ref, peekable, then, scan, flatten, flat_map,
// take_until, for_each_concurrent, and the size hints they pass on.
#include <catch2/catch.hpp>
#include <braid/stream.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <ranges>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "support.hpp"

namespace test_stream_combinators {

using namespace std::chrono_literals;
using braid_test::Tracked;
using braid_test::range;
namespace bs = braid::stream;

namespace {
// 0, 1, 2, ... forever, counting in *produced how many were made.
braid::Stream<int> naturals(int* produced) {
    for (int i = 0;; ++i) {
        ++*produced;
        co_yield i;
    }
}
// Awaits something (so items do not come in one poll) between items.
braid::Stream<int> slow_range(int from, int to) {
    for (int i = from; i < to; ++i) {
        co_await braid::yield_now();
        co_yield i;
    }
}

template <class T>
T go(braid::Task<T> t) {
    auto rt = braid_test::runtime(1);
    return rt.block_on(std::move(t));
}
template <class S>
braid::Task<std::vector<bs::item_t<S>>> gather(S s) {
    co_return co_await (std::move(s) | bs::collect());
}
using V = std::vector<int>;
}  // namespace

TEST_CASE("stream_combinators.map, filter, filter_map, inspect") {
    auto v = go(gather(range(0, 10) | bs::map([](int x) { return x * 3; })
                         | bs::filter([](const int& x) { return x % 2 == 0; })));
    REQUIRE(v == V{0, 6, 12, 18, 24});
    auto w = go(gather(slow_range(0, 6) | bs::filter_map([](int x) -> std::optional<std::string> {
                             if (x % 2) return std::nullopt;
                             return std::to_string(x);
                         })));
    REQUIRE(w == std::vector<std::string>{"0", "2", "4"});
    std::vector<int> seen;
    auto u = go(gather(range(0, 4) | bs::inspect([&](const int& x) { seen.push_back(x); })));
    REQUIRE(u == V{0, 1, 2, 3});
    REQUIRE(seen == V{0, 1, 2, 3});
}

TEST_CASE("stream_combinators.take, take_while, skip, skip_while") {
    REQUIRE(go(gather(range(0, 10) | bs::take(3))) == V{0, 1, 2});
    REQUIRE(go(gather(range(0, 2) | bs::take(5))) == V{0, 1});
    REQUIRE(go(gather(range(0, 10) | bs::take(0))).empty());
    REQUIRE(go(gather(slow_range(0, 10) | bs::take_while([](const int& x) { return x < 4; }))) == V{0, 1, 2, 3});
    REQUIRE(go(gather(range(0, 10) | bs::skip(7))) == V{7, 8, 9});
    REQUIRE(go(gather(range(0, 3) | bs::skip(7))).empty());
    REQUIRE(go(gather(bs::iter(V{1, 2, 5, 1, 7}) | bs::skip_while([](const int& x) { return x < 3; }))) == V{5, 1, 7});
}

TEST_CASE("stream_combinators.take stops polling the stream after the last item") {
    int produced = 0;
    auto v = go([](int* produced) -> braid::Task<V> {
        co_return co_await (naturals(produced) | bs::take(3) | bs::collect());
    }(&produced));
    REQUIRE(v == V{0, 1, 2});
    REQUIRE(produced == 3);
}

TEST_CASE("stream_combinators.enumerate, chain, zip, chunks, fuse") {
    auto e = go(gather(bs::iter(std::vector<std::string>{"a", "b"}) | bs::enumerate()));
    REQUIRE(e == std::vector<std::pair<std::size_t, std::string>>{{0, "a"}, {1, "b"}});
    REQUIRE(go(gather(range(0, 3) | bs::chain(slow_range(10, 12)) | bs::chain(bs::once(99)))) == V{0, 1, 2, 10, 11, 99});
    auto z = go(gather(slow_range(0, 5) | bs::zip(bs::iter(std::vector<std::string>{"x", "y", "z"}))));
    REQUIRE(z == std::vector<std::pair<int, std::string>>{{0, "x"}, {1, "y"}, {2, "z"}});
    auto c = go(gather(range(0, 7) | bs::chunks(3)));
    REQUIRE(c == std::vector<V>{{0, 1, 2}, {3, 4, 5}, {6}});
    REQUIRE(go(gather(range(0, 6) | bs::chunks(3))) == std::vector<V>{{0, 1, 2}, {3, 4, 5}});
    REQUIRE_THROWS_AS(bs::chunks(0), braid::Error);
    REQUIRE(go(gather(range(0, 3) | bs::fuse())) == V{0, 1, 2});
}

TEST_CASE("stream_combinators.sources: iter, once, empty, repeat, repeat_with, from_fn, unfold") {
    REQUIRE(go(gather(bs::iter({1, 2, 3}))) == V{1, 2, 3});
    std::vector<int> kept{4, 5};
    REQUIRE(go(gather(bs::iter(std::views::all(kept)))) == V{4, 5});
    REQUIRE(kept == V{4, 5});
    REQUIRE(go(gather(bs::iter(std::views::iota(0, 4)))) == V{0, 1, 2, 3});
    REQUIRE(go(gather(bs::once(7))) == V{7});
    REQUIRE(go(gather(bs::empty<int>())).empty());
    REQUIRE(go(gather(bs::repeat(std::string("r")) | bs::take(3))) == std::vector<std::string>{"r", "r", "r"});
    int n = 0;
    REQUIRE(go(gather(bs::repeat_with([&] { return n++; }) | bs::take(4))) == V{0, 1, 2, 3});
    int k = 0;
    REQUIRE(go(gather(bs::from_fn([&]() -> std::optional<int> {
                if (k == 3) return std::nullopt;
                return k++ * 10;
            }))) == V{0, 10, 20});
    REQUIRE(go(gather(bs::unfold(1, [](int s) -> std::optional<std::pair<int, int>> {
                if (s > 100) return std::nullopt;
                return std::pair(s, s * 2);
            }))) == V{1, 2, 4, 8, 16, 32, 64});
    REQUIRE(go(gather(bs::unfold(3, [](int s) -> braid::Task<std::optional<std::pair<std::string, int>>> {
                co_await braid::yield_now();
                if (s == 0) co_return std::nullopt;
                co_return std::pair(std::to_string(s), s - 1);
            }))) == std::vector<std::string>{"3", "2", "1"});
}

TEST_CASE("stream_combinators.iter keeps its position when moved between polls") {
    auto v = go([]() -> braid::Task<V> {
        auto a = bs::iter(std::array<int, 4>{1, 2, 3, 4});
        V out;
        out.push_back(*co_await a.next());
        auto b = std::move(a);  // std::array: its iterators do not survive a move
        while (auto x = co_await b.next()) out.push_back(*x);
        co_return out;
    }());
    REQUIRE(v == V{1, 2, 3, 4});
}

TEST_CASE("stream_combinators.consumers: fold, count, any, all, for_each, collect into a set") {
    REQUIRE(go([]() -> braid::Task<long> {
                co_return co_await (range(1, 101) | bs::fold(0L, [](long a, int x) { return a + x; }));
            }()) == 5050);
    REQUIRE(go([]() -> braid::Task<std::size_t> { co_return co_await (slow_range(0, 17) | bs::count()); }()) == 17);
    REQUIRE(go([]() -> braid::Task<bool> { co_return co_await (range(0, 10) | bs::any([](int x) { return x == 5; })); }()));
    REQUIRE_FALSE(go([]() -> braid::Task<bool> { co_return co_await (range(0, 10) | bs::all([](int x) { return x < 5; })); }()));
    REQUIRE(go([]() -> braid::Task<bool> { co_return co_await (bs::empty<int>() | bs::all([](int) { return false; })); }()));
    int sum = 0;
    REQUIRE(go([](int* s) -> braid::Task<std::size_t> {
                co_return co_await (slow_range(0, 5) | bs::for_each([s](int x) { *s += x; }));
            }(&sum)) == 5);
    REQUIRE(sum == 10);
    auto set = go([]() -> braid::Task<std::set<int>> {
        V v{3, 1, 3, 2};  // (outside the co_await: g++ 12 cannot compile an initializer list inside one)
        co_return co_await (bs::iter(std::move(v)) | bs::collect<std::set<int>>());
    }());
    REQUIRE(set == std::set<int>{1, 2, 3});
}

TEST_CASE("stream_combinators.any stops at the first match: the rest is not produced") {
    int produced = 0;
    bool found = go([](int* p) -> braid::Task<bool> {
        auto s = [](int* p) -> braid::Stream<int> {
            for (int i = 0; i < 100; ++i) {
                ++*p;
                co_yield i;
            }
        }(p);
        co_return co_await (std::move(s) | bs::any([](int x) { return x == 2; }));
    }(&produced));
    REQUIRE(found);
    REQUIRE(produced == 3);
}

TEST_CASE("stream_combinators.then: an async map, in order, one at a time") {
    auto v = go(gather(range(0, 5) | bs::then([](int x) -> braid::Task<std::string> {
                             co_await braid::yield_now();
                             co_return std::string(size_t(x), '*');
                         })));
    REQUIRE(v == std::vector<std::string>{"", "*", "**", "***", "****"});
}

TEST_CASE("stream_combinators.by_ref: consume part of a stream and keep the rest") {
    auto [head, tail] = go([]() -> braid::Task<std::pair<V, V>> {
        auto s = range(0, 6);
        V head = co_await (bs::by_ref(s) | bs::take(2) | bs::collect());
        V tail = co_await (bs::by_ref(s) | bs::collect());
        co_return std::make_pair(head, tail);
    }());
    REQUIRE(head == V{0, 1});
    REQUIRE(tail == V{2, 3, 4, 5});
}

TEST_CASE("stream_combinators.peekable: peek leaves the item in place, peek at the end is nullptr") {
    auto r = go([]() -> braid::Task<std::vector<std::string>> {
        auto s = slow_range(1, 3) | bs::peekable();
        std::vector<std::string> log;
        int* p = co_await s.peek();
        log.push_back("peek " + std::to_string(*p));
        p = co_await s.peek();
        log.push_back("peek " + std::to_string(*p));
        while (auto v = co_await s.next()) log.push_back("next " + std::to_string(*v));
        log.push_back(co_await s.peek() == nullptr ? "end" : "more");
        co_return log;
    }());
    REQUIRE(r == std::vector<std::string>{"peek 1", "peek 1", "next 1", "next 2", "end"});
}

TEST_CASE("stream_combinators.a long pipeline on values that count themselves: nothing leaks") {
    Tracked::reset();
    {
        auto sum = go([]() -> braid::Task<long> {
            auto s = []() -> braid::Stream<Tracked> {
                for (int i = 0; i < 100; ++i) co_yield Tracked(i);
            }();
            co_return co_await (std::move(s) | bs::map([](Tracked t) { return Tracked(t.value * 2); })
                                | bs::filter([](const Tracked& t) { return t.value % 4 == 0; })
                                | bs::enumerate() | bs::map([](std::pair<std::size_t, Tracked> p) { return p.second; })
                                | bs::chunks(7) | bs::fold(0L, [](long a, std::vector<Tracked> c) {
                                      for (auto& t : c) a += t.value;
                                      return a;
                                  }));
        }());
        REQUIRE(sum == 4900);  // 2i for even i < 100
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("stream_combinators.dropping a pipeline in the middle destroys every stage once") {
    Tracked::reset();
    auto rt = braid_test::paused_runtime();
    auto [first, live_mid, lost] = rt.block_on([]() -> braid::Task<std::tuple<int, long, bool>> {
        int first = 0;
        long live_mid = 0;
        bool lost = false;
        {
            // every stage owns a Tracked: the source frame, each closure, a
            // then() frame, a chunk buffer
            auto src = [](Tracked t) -> braid::Stream<Tracked> {
                for (int i = 0;; ++i) {
                    co_yield Tracked(i + t.value);
                    co_await braid::sleep(1ms);
                }
            }(Tracked(0));
            auto pipeline = std::move(src)
                          | bs::map([k = Tracked(1)](Tracked t) { return Tracked(t.value + k.value - 1); })
                          | bs::filter([k = Tracked(2)](const Tracked&) { return k.value == 2; })
                          | bs::then([k = Tracked(3)](Tracked t) -> braid::Task<Tracked> {
                                co_await braid::sleep(1ms);
                                co_return t;
                            })
                          | bs::chunks(3) | bs::take(10);
            auto c = co_await pipeline.next();
            first = (*c)[0].value;
            // leave it waiting in the middle of the next chunk
            auto r = co_await braid::select(pipeline.next(), braid::sleep(4ms));
            lost = r.index() != 1;
            c.reset();
            live_mid = Tracked::live();
        }
        co_return std::make_tuple(first, live_mid, lost);
    }());
    REQUIRE_FALSE(lost);
    REQUIRE(first == 0);
    REQUIRE(live_mid > 4);  // the three closures, the source's argument, the chunk under way...
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("stream_combinators.an exception travels out through a four-stage pipeline") {
    Tracked::reset();
    auto rt = braid_test::runtime(1);
    std::vector<int> seen;
    REQUIRE_THROWS_WITH(rt.block_on([](std::vector<int>* seen) -> braid::Task<> {
        auto src = [](Tracked) -> braid::Stream<int> {
            for (int i = 0;; ++i) {
                if (i == 5) throw std::runtime_error("source failed at 5");
                co_await braid::yield_now();
                co_yield i;
            }
        }(Tracked(1));
        auto p = std::move(src) | bs::map([t = Tracked(2)](int x) { return x + 1; })
               | bs::then([](int x) -> braid::Task<int> {
                     co_await braid::yield_now();
                     co_return x * 10;
                 })
               | bs::filter([](const int&) { return true; }) | bs::inspect([seen](const int& x) { seen->push_back(x); });
        while (co_await p.next()) {
        }
    }(&seen)),
                        "source failed at 5");
    REQUIRE(seen == V{10, 20, 30, 40, 50});
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("stream_combinators.an exception from a consumer's closure leaves nothing behind") {
    Tracked::reset();
    auto rt = braid_test::runtime(1);
    REQUIRE_THROWS_WITH(rt.block_on([]() -> braid::Task<> {
        auto src = [](Tracked) -> braid::Stream<Tracked> {
            for (int i = 0;; ++i) co_yield Tracked(i);
        }(Tracked(1));
        (void)co_await (std::move(src) | bs::fold(std::vector<Tracked>{}, [](std::vector<Tracked> acc, Tracked t) {
                            if (t.value == 3) throw std::invalid_argument("fold failed");
                            acc.push_back(std::move(t));
                            return acc;
                        }));
    }()),
                        "fold failed");
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("stream_combinators.a pipe on an lvalue stream does not compile, by_ref or std::move does") {
    // (static_assert in core.hpp; checked by reading, and by this compiling)
    auto v = go([]() -> braid::Task<V> {
        auto s = range(0, 3);
        co_return co_await (std::move(s) | bs::collect());
    }());
    REQUIRE(v == V{0, 1, 2});
}

// ---- the cooperative budget ---------------------------------------------------------

namespace {
// A cap that ends a drain that never yields (the failure), far above a budget.
constexpr long kNoYieldCap = 5'000'000 / braid_test::kStressDivisor;

// One worker: the drainer and the other task share it, so the other task
// runs only when the drainer yields.
braid::Runtime one_worker() { return braid::Runtime::builder().worker_threads(1).build(); }

// Sets *flag, from a task queued behind the caller on its worker.
braid::JoinHandle<void> spawn_setter(std::atomic<bool>* flag) {
    return braid::spawn([](std::atomic<bool>* f) -> braid::Task<> {
        f->store(true);
        co_return;
    }(flag));
}

// Counts its turns on the worker until *stop.
braid::JoinHandle<void> spawn_ticker(std::atomic<long>* ticks, std::atomic<bool>* stop) {
    return braid::spawn([](std::atomic<long>* t, std::atomic<bool>* s) -> braid::Task<> {
        while (!s->load()) {
            ++*t;
            co_await braid::yield_now();
        }
    }(ticks, stop));
}

// next() on `s` until the other task stopped it; how many items that took.
template <class S>
braid::Task<long> next_until_stopped(S s) {
    std::atomic<bool> stop{false};
    auto setter = spawn_setter(&stop);
    long n = 0;
    while (!stop.load() && n < kNoYieldCap) {
        auto v = co_await s.next();
        EXPECT(v.has_value());
        ++n;
    }
    co_await setter;
    EXPECT(stop.load());  // fails when the drainer never let the other task run
    co_return n;
}
}  // namespace

TEST_CASE("stream_combinators.budget: draining an endless ready stream with next() lets another task on the worker run") {
    auto rt = one_worker();
    // Each ready item takes a unit of the task's budget (128 per poll): the
    // drainer yields within the first budget and the other task stops it.
    REQUIRE(rt.block_on(next_until_stopped(bs::repeat(1))) <= 256);
    REQUIRE(rt.block_on(next_until_stopped(bs::iter(std::views::iota(0)))) <= 256);
    REQUIRE(rt.block_on(next_until_stopped(bs::repeat_with([] { return 2; }) | bs::map([](int x) { return x + 1; }))) <= 256);
    REQUIRE(rt.block_on(next_until_stopped(bs::from_fn([]() -> std::optional<int> { return 3; }))) <= 256);
    REQUIRE(rt.block_on(next_until_stopped(bs::unfold(0, [](int s) -> std::optional<std::pair<int, int>> {
                return std::pair(s, s + 1);
            }))) <= 256);
    REQUIRE(rt.block_on(next_until_stopped(bs::repeat(1) | bs::merge(bs::repeat(2)))) <= 256);
    REQUIRE(rt.block_on(next_until_stopped(bs::repeat(1) | bs::chain(bs::repeat(2)) | bs::enumerate())) <= 256);
}

TEST_CASE("stream_combinators.budget: fold, count, collect and any over endless ready streams yield to the other tasks") {
    auto rt = one_worker();
    rt.block_on([]() -> braid::Task<> {
        // A pipeline that ends only when the other task sets `stop`.
        {
            std::atomic<bool> stop{false};
            auto setter = spawn_setter(&stop);
            long n = co_await (bs::iter(std::views::iota(0L)) | bs::take_while([&](const long&) { return !stop.load(); })
                               | bs::take(std::size_t(kNoYieldCap)) | bs::map([](long x) { return x % 3; })
                               | bs::fold(0L, [](long k, long) { return k + 1; }));
            co_await setter;
            EXPECT(n <= 256);  // stopped by the other task, not by the cap
        }
        {
            std::atomic<bool> stop{false};
            auto setter = spawn_setter(&stop);
            auto n = co_await (bs::repeat(std::string("x")) | bs::take_while([&](const std::string&) { return !stop.load(); })
                               | bs::take(std::size_t(kNoYieldCap)) | bs::count());
            co_await setter;
            EXPECT(stop.load());
            EXPECT(n <= 256);
        }
        {
            // a filter that drops everything: no item reaches the consumer,
            // the source still pays for each one
            std::atomic<bool> stop{false};
            std::atomic<long> produced{0};
            auto setter = spawn_setter(&stop);
            auto found = co_await (bs::repeat_with([&] { return ++produced < kNoYieldCap && !stop.load() ? 0 : 1; })
                                   | bs::filter([](const int& x) { return x == 1; }) | bs::any([](int) { return true; }));
            co_await setter;
            EXPECT(found);
            EXPECT(stop.load());
            EXPECT(produced.load() <= 256);
        }
    }());
}

TEST_CASE("stream_combinators.budget: collecting a large finite stream yields many times on the way") {
    auto rt = one_worker();
    auto [ticks, size] = rt.block_on([]() -> braid::Task<std::pair<long, std::size_t>> {
        std::atomic<bool> stop{false};
        std::atomic<long> ticks{0};
        auto ticker = spawn_ticker(&ticks, &stop);
        std::vector<int> v(100'000, 7);
        auto out = co_await (bs::iter(std::move(v)) | bs::map([](int x) { return x * 2; }) | bs::collect());
        long seen = ticks.load();
        stop = true;
        co_await ticker;
        co_return std::pair(seen, out.size());
    }());
    REQUIRE(size == 100'000);
    // 100,000 items at 128 a poll: the collector yields ~780 times, and the
    // ticker gets a turn each time.
    REQUIRE(ticks >= 100);
}

TEST_CASE("stream_combinators.scan keeps a state and ends at the first nullopt") {
    auto sums = go(gather(range(1, 10) | bs::scan(0, [](int& acc, int x) -> std::optional<int> {
                              acc += x;
                              if (acc > 10) return std::nullopt;
                              return acc;
                          })));
    REQUIRE(sums == V{1, 3, 6, 10});
    // The stream is not polled after the nullopt.
    int produced = 0;
    auto v = go([](int* produced) -> braid::Task<V> {
        co_return co_await (naturals(produced) | bs::scan(std::string(), [](std::string& st, int x) -> std::optional<int> {
                                st += 'x';
                                return x < 2 ? std::optional<int>(x) : std::nullopt;
                            }) | bs::collect());
    }(&produced));
    REQUIRE(v == V{0, 1});
    REQUIRE(produced == 3);
}

TEST_CASE("stream_combinators.flatten and flat_map give each inner stream's items in turn, also when they wait") {
    auto f = go(gather(bs::iter(std::vector<V>{{1, 2}, {}, {3}}) | bs::map([](V v) { return bs::iter(std::move(v)); }) |
                       bs::flatten()));
    REQUIRE(f == V{1, 2, 3});
    auto g = go(gather(slow_range(0, 4) | bs::flat_map([](int n) { return slow_range(0, n); })));
    REQUIRE(g == V{0, 0, 1, 0, 1, 2});
    REQUIRE(go(gather(bs::empty<int>() | bs::flat_map([](int n) { return range(0, n); }))).empty());
}

TEST_CASE("stream_combinators.flatten waits on the inner stream, then the outer, with one waker") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [otx, orx] = braid_test::unbounded_channel_stream<braid::Stream<int>>();
        auto [itx, irx] = braid_test::unbounded_channel_stream<int>();
        auto flat = std::move(orx) | bs::flatten();
        braid_test::PollByHand s(flat);
        EXPECT(s.poll_next().is_pending());
        EXPECT(!otx->send(std::move(irx)));
        EXPECT(s.is_woken());
        EXPECT(s.poll_next().is_pending());  // the inner one has nothing yet
        EXPECT(!itx->send(7));
        EXPECT(s.is_woken());
        auto p = s.poll_next();
        EXPECT(p.ready && p.item == 7);
        EXPECT(s.poll_next().is_pending());  // (a ready poll left no waker behind)
        itx.reset();  // the inner one ends: the outer is asked again
        EXPECT(s.is_woken());
        EXPECT(s.poll_next().is_pending());
        otx.reset();
        EXPECT(s.is_woken());
        EXPECT(s.poll_next().is_end());
        co_return;
    }());
}

TEST_CASE("stream_combinators.take_until ends the stream once the awaitable completes") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid_test::unbounded_channel_stream<int>();
        auto [stop_tx, stop_rx] = braid::oneshot::channel<int>();
        auto s = std::move(rx) | bs::take_until(std::move(stop_rx));
        braid_test::PollByHand p(s);
        EXPECT(p.poll_next().is_pending());
        EXPECT(!tx->send(1));
        auto a = p.poll_next();
        EXPECT(a.ready && a.item == 1);
        EXPECT(p.poll_next().is_pending());  // both waited on again
        EXPECT(!stop_tx.send(0));
        EXPECT(p.is_woken());
        EXPECT(!tx->send(2));  // ready too, but the stop came first
        EXPECT(p.poll_next().is_end());
        EXPECT(s.is_stopped());
        EXPECT(p.poll_next().is_end());
        EXPECT(bs::size_hint(s) == bs::SizeHint::exactly(0));
        co_return;
    }());
    // A stream that ends first is not stopped.
    auto v = go([]() -> braid::Task<V> {
        auto s = range(0, 3) | bs::take_until(braid_test::pending());
        V out = co_await (bs::by_ref(s) | bs::collect());
        EXPECT(!s.is_stopped());
        co_return out;
    }());
    REQUIRE(v == V{0, 1, 2});
}

TEST_CASE("stream_combinators.take_until with a timer on paused time") {
    auto rt = braid_test::current_thread_runtime(true);
    auto v = rt.block_on([]() -> braid::Task<V> {
        auto ticks = [](int) -> braid::Stream<int> {
            for (int i = 0;; ++i) {
                co_await braid::sleep(10ms);
                co_yield i;
            }
        }(0);
        co_return co_await (std::move(ticks) | bs::take_until(braid::sleep(35ms)) | bs::collect());
    }());
    REQUIRE(v == V{0, 1, 2});
}

TEST_CASE("stream_combinators.for_each_concurrent runs up to n at once, and all of them") {
    auto rt = braid_test::current_thread_runtime(true);
    struct Counts {
        int running = 0, peak = 0, done = 0;
    };
    Counts c;
    std::size_t n = rt.block_on([](Counts* c) -> braid::Task<std::size_t> {
        co_return co_await (range(0, 10) | bs::for_each_concurrent(3, [c](int i) -> braid::Task<> {
                                ++c->running;
                                c->peak = std::max(c->peak, c->running);
                                co_await braid::sleep(std::chrono::milliseconds(10 + i));
                                --c->running;
                                ++c->done;
                            }));
    }(&c));
    REQUIRE(n == 10);
    REQUIRE(c.done == 10);
    REQUIRE(c.peak == 3);
    REQUIRE_THROWS_AS(bs::for_each_concurrent(0, [](int) -> braid::Task<> { co_return; }), braid::Error);
}

TEST_CASE("stream_combinators.for_each_concurrent rethrows the first exception") {
    auto rt = braid_test::current_thread_runtime();
    int code = rt.block_on([]() -> braid::Task<int> {
        co_return co_await braid_test::code_of(range(0, 5) | bs::for_each_concurrent(2, [](int i) -> braid::Task<> {
                                                   if (i == 3) throw braid::Error(BRAID_EBUSY, "three");
                                                   co_return;
                                               }));
    }());
    REQUIRE(code == BRAID_EBUSY);
}

TEST_CASE("stream_combinators.size hints pass through the combinators") {
    using H = bs::SizeHint;
    auto it = [] { return bs::iter(V{1, 2, 3, 4, 5}); };
    REQUIRE(bs::size_hint(it()) == H::exactly(5));
    REQUIRE(bs::size_hint(it() | bs::map([](int x) { return x; })) == H::exactly(5));
    REQUIRE(bs::size_hint(it() | bs::filter([](const int&) { return true; })) == H{0, 5});
    REQUIRE(bs::size_hint(it() | bs::take(2)) == H::exactly(2));
    REQUIRE(bs::size_hint(it() | bs::take(9)) == H::exactly(5));
    REQUIRE(bs::size_hint(it() | bs::skip(2)) == H::exactly(3));
    REQUIRE(bs::size_hint(it() | bs::chunks(2)) == H::exactly(3));
    REQUIRE(bs::size_hint(it() | bs::zip(bs::iter(V{1, 2}))) == H::exactly(2));
    REQUIRE(bs::size_hint(it() | bs::zip(range(0, 1))) == H{0, 5});
    REQUIRE(bs::size_hint(it() | bs::enumerate()) == H::exactly(5));
    REQUIRE(bs::size_hint(bs::repeat(1) | bs::take(4)) == H::exactly(4));
    REQUIRE(bs::size_hint(range(0, 3)) == H::unknown());
    // A boxed stream says what the stream in it says.
    braid::Stream<int> boxed = it() | bs::skip(1);
    REQUIRE(bs::size_hint(boxed) == H::exactly(4));
    std::vector<bs::Iter<V>> all;
    all.push_back(it());
    all.push_back(bs::iter(V{1}));
    REQUIRE(bs::size_hint(bs::merge_all(std::move(all))) == H::exactly(6));
    // flatten: what the stream in hand has, bounded once the outer one is done.
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto f = bs::iter(std::vector<V>{{1, 2}, {3}}) | bs::map([](V v) { return bs::iter(std::move(v)); }) | bs::flatten();
        EXPECT((bs::size_hint(f) == H{0, std::nullopt}));
        co_await f.next();
        EXPECT((bs::size_hint(f) == H{1, std::nullopt}));
        co_await f.next();
        co_await f.next();
        EXPECT(bs::size_hint(f) == H::exactly(0));
        auto pk = bs::iter(V{1, 2}) | bs::peekable();
        co_await pk.peek();
        EXPECT(bs::size_hint(pk) == H::exactly(2));
    }());
}

}  // namespace test_stream_combinators
