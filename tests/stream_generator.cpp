// braid::Stream<T>, the async generator: laziness, back-pressure, awaiting
// inside the body, exceptions, dropping, cancel-safety of next() in select
// and timeout, consumers in other tasks, task-local values.
#include <catch2/catch.hpp>
#include <braid/stream.hpp>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "support.hpp"

namespace test_stream_generator {

using namespace std::chrono_literals;
using braid_test::Tracked;
using braid_test::range;
namespace bs = braid::stream;

namespace {
// The seed's countdown: yields, then sleeps.
braid::Stream<uint32_t> countdown(uint32_t from) {
    for (uint32_t i = from + 1; i-- > 0;) {
        co_yield i;
        co_await braid::sleep(1s);
    }
}

template <class S>
braid::Task<std::vector<typename S::item_type>> collect(S s) {
    std::vector<typename S::item_type> out;
    while (auto v = co_await s.next()) out.push_back(std::move(*v));
    co_return out;
}
}  // namespace

TEST_CASE("stream_generator.generator: items in order, then nullopt, and nullopt again") {
    auto rt = braid_test::runtime(1);
    auto [v, again] = rt.block_on([]() -> braid::Task<std::pair<std::vector<int>, bool>> {
        auto s = range(0, 5);
        std::vector<int> out;
        while (auto x = co_await s.next()) out.push_back(*x);
        bool more = (co_await s.next()).has_value() || (co_await s.next()).has_value();
        co_return std::make_pair(out, more);
    }());
    REQUIRE(v == std::vector<int>{0, 1, 2, 3, 4});
    REQUIRE_FALSE(again);
}

TEST_CASE("stream_generator.generator: lazy, and never more than one item ahead of its consumer") {
    auto rt = braid_test::runtime(1);
    auto log = rt.block_on([]() -> braid::Task<std::vector<std::string>> {
        std::vector<std::string> log;
        int produced = 0, consumed = 0, max_ahead = 0;
        auto gen = [](std::vector<std::string>* log, int* produced, int* consumed, int* max_ahead) -> braid::Stream<int> {
            log->push_back("start");
            for (int i = 0; i < 100; ++i) {
                ++*produced;
                *max_ahead = std::max(*max_ahead, *produced - *consumed);
                co_yield i;
            }
            log->push_back("end");
        };
        auto s = gen(&log, &produced, &consumed, &max_ahead);
        co_await braid::yield_now();
        log.push_back(produced == 0 ? "lazy" : "eager");
        while (auto v = co_await s.next()) {
            ++consumed;
            if (*v != consumed - 1) log.push_back("out of order");
        }
        log.push_back("max_ahead=" + std::to_string(max_ahead));
        co_return log;
    }());
    REQUIRE(log == std::vector<std::string>{"lazy", "start", "end", "max_ahead=1"});
}

TEST_CASE("stream_generator.generator: the seed's countdown under paused time") {
    auto rt = braid_test::paused_runtime();
    auto [v, elapsed] = rt.block_on([]() -> braid::Task<std::pair<std::vector<uint32_t>, braid::Duration>> {
        auto start = braid::Instant::now();
        auto v = co_await collect(countdown(3));
        co_return std::make_pair(v, start.elapsed());
    }());
    REQUIRE(v == std::vector<uint32_t>{3, 2, 1, 0});
    REQUIRE(elapsed == 4s);  // a sleep after each item, the last one too
}

TEST_CASE("stream_generator.generator: awaits channels, tasks, join and select inside the body") {
    auto rt = braid_test::runtime(2);
    auto v = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto [tx, rx] = braid::mpsc::channel<int>(2);
        braid::spawn([](braid::mpsc::Sender<int> t) -> braid::Task<> {
            for (int i = 0; i < 20; ++i) co_await t.send(i);
        }, std::move(tx)).detach();
        auto gen = [](braid::mpsc::Receiver<int> rx) -> braid::Stream<int> {
            while (auto x = co_await rx.recv()) {
                auto [a, b] = co_await braid::join(
                    [](int v) -> braid::Task<int> {
                        co_await braid::yield_now();
                        co_return v;
                    }(*x),
                    braid::spawn([](int v) -> braid::Task<int> { co_return v * 100; }(*x)));
                auto r = co_await braid::select(braid::sleep(1h), [](int v) -> braid::Task<int> { co_return v; }(a + b));
                co_yield std::get<1>(r);
            }
        };
        co_return co_await collect(gen(std::move(rx)));
    }());
    REQUIRE(v.size() == 20);
    for (int i = 0; i < 20; ++i) REQUIRE(v[size_t(i)] == i * 101);
}

TEST_CASE("stream_generator.generator: an exception is rethrown from next(), then the stream has ended") {
    auto rt = braid_test::runtime(1);
    auto [got, what, after] = rt.block_on([]() -> braid::Task<std::tuple<std::vector<int>, std::string, bool>> {
        auto s = []() -> braid::Stream<int> {
            co_yield 1;
            co_yield 2;
            co_await braid::yield_now();
            throw std::runtime_error("generator failed");
        }();
        std::vector<int> got;
        std::string what;
        try {
            while (auto v = co_await s.next()) got.push_back(*v);
        } catch (const std::runtime_error& e) {
            what = e.what();
        }
        bool after = (co_await s.next()).has_value();
        co_return std::make_tuple(got, what, after);
    }());
    REQUIRE(got == std::vector<int>{1, 2});
    REQUIRE(what == "generator failed");
    REQUIRE_FALSE(after);
}

TEST_CASE("stream_generator.generator: dropping it mid-way destroys the frame and what it holds") {
    Tracked::reset();
    auto rt = braid_test::paused_runtime();
    auto [first, live_while, live_after] = rt.block_on([]() -> braid::Task<std::tuple<int, long, long>> {
        auto gen = [](Tracked t) -> braid::Stream<int> {
            Tracked local(2);
            co_yield t.value;
            co_await braid::sleep(1h);  // dropped while waiting here
            co_yield local.value;
        };
        int first;
        long live_while;
        {
            auto s = gen(Tracked(1));
            first = *co_await s.next();
            auto r = co_await braid::select(s.next(), braid::sleep(1ms));  // leaves it waiting in sleep(1h)
            (void)r;
            live_while = Tracked::live();
        }
        co_return std::make_tuple(first, live_while, Tracked::live());
    }());
    REQUIRE(first == 1);
    REQUIRE(live_while == 2);
    REQUIRE(live_after == 0);
}

TEST_CASE("stream_generator.generator: next() in select is cancel-safe: no item is lost") {
    // A producer sends 0..199 with pauses; the consumer races next() against
    // a short sleep every time, so many next() calls are cancelled while the
    // generator waits in recv() or in its own sleep.
    auto rt = braid_test::paused_runtime();
    auto [v, timeouts] = rt.block_on([]() -> braid::Task<std::pair<std::vector<int>, int>> {
        auto [tx, rx] = braid::mpsc::channel<int>(1);
        braid::spawn([](braid::mpsc::Sender<int> t) -> braid::Task<> {
            for (int i = 0; i < 200; ++i) {
                co_await t.send(i);
                co_await braid::sleep(std::chrono::milliseconds(i % 7));
            }
        }, std::move(tx)).detach();
        auto s = [](braid::mpsc::Receiver<int> rx) -> braid::Stream<int> {
            while (auto x = co_await rx.recv()) {
                co_await braid::sleep(std::chrono::milliseconds(*x % 3));
                co_yield *x;
            }
        }(std::move(rx));
        std::vector<int> out;
        int timeouts = 0;
        for (;;) {
            auto r = co_await braid::select(s.next(), braid::sleep(2ms));
            if (r.index() == 1) {
                ++timeouts;
                continue;
            }
            auto& item = std::get<0>(r);
            if (!item) break;
            out.push_back(*item);
        }
        co_return std::make_pair(out, timeouts);
    }());
    REQUIRE(timeouts > 0);
    REQUIRE(v.size() == 200);
    for (int i = 0; i < 200; ++i) REQUIRE(v[size_t(i)] == i);
}

TEST_CASE("stream_generator.generator: next() under braid::timeout keeps the item for later") {
    auto rt = braid_test::paused_runtime();
    auto [a, b, c] = rt.block_on([]() -> braid::Task<std::tuple<bool, int, int>> {
        auto s = []() -> braid::Stream<int> {
            co_await braid::sleep(10ms);
            co_yield 7;
            co_yield 8;
        }();
        auto first = co_await braid::timeout(5ms, s.next());    // gives up; the generator stays in its sleep
        auto second = co_await braid::timeout(50ms, s.next());  // resumes the same sleep
        auto third = co_await s.next();
        co_return std::make_tuple(first.has_value(), **second, *third);
    }());
    REQUIRE_FALSE(a);
    REQUIRE(b == 7);
    REQUIRE(c == 8);
}

TEST_CASE("stream_generator.generator: consumed by one task after another, woken across threads") {
    auto rt = braid_test::runtime(2);
    auto total = rt.block_on([]() -> braid::Task<long> {
        auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
        auto s = std::make_shared<braid::Stream<int>>(bs::from_receiver(std::move(rx)));
        std::thread producer([t = std::move(tx)] {
            for (int i = 1; i <= 1000; ++i) t.send(i);
        });
        long sum = 0;
        for (int round = 0; round < 10; ++round) {
            // each round: a new task takes 100 items
            sum += co_await braid::spawn([](std::shared_ptr<braid::Stream<int>> s) -> braid::Task<long> {
                long part = 0;
                for (int i = 0; i < 100; ++i) part += *co_await s->next();
                co_return part;
            }, s);
        }
        producer.join();
        co_return sum;
    }());
    REQUIRE(total == 1000 * 1001 / 2);
}

TEST_CASE("stream_generator.generator: stream of Tracked values: every value destroyed once") {
    Tracked::reset();
    {
        auto rt = braid_test::runtime(1);
        long n = rt.block_on([]() -> braid::Task<long> {
            auto s = []() -> braid::Stream<Tracked> {
                for (int i = 0; i < 10; ++i) co_yield Tracked(i);
            }();
            long n = 0;
            while (auto t = co_await s.next()) n += t->value;
            co_return n;
        }());
        REQUIRE(n == 45);
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("stream_generator.generator: sees the consumer's task-local values") {
    static braid::TaskLocal<std::string> NAME;
    auto rt = braid_test::runtime(1);
    auto v = rt.block_on([]() -> braid::Task<std::vector<std::string>> {
        auto s = []() -> braid::Stream<std::string> {
            for (int i = 0; i < 2; ++i) {
                co_await braid::yield_now();
                std::string* n = NAME.try_get();
                // (not `co_yield n ? *n : std::string("none")`: g++ 12 miscompiles a
                // conditional with a temporary in co_yield, see docs/streams.md)
                std::string name = n ? *n : std::string("none");
                co_yield std::move(name);
            }
        }();
        std::vector<std::string> out;
        out.push_back(*co_await NAME.scope("first", s.next()));
        out.push_back(*co_await NAME.scope("second", s.next()));
        co_return out;
    }());
    REQUIRE(v == std::vector<std::string>{"first", "second"});
}

// Consumers (fold, collect, count, any, all, for_each) drive a generator:
// its co_yield hands each item to them without suspending.  The tests below
// hold that to what next() gives.
TEST_CASE("stream_generator.generator driven by a consumer: one item at a time and the body stops at the last one taken") {
    auto rt = braid_test::runtime(1);
    auto log = rt.block_on([]() -> braid::Task<std::vector<std::string>> {
        std::vector<std::string> log;
        auto s = [](std::vector<std::string>* log) -> braid::Stream<int> {
            for (int i = 0;; ++i) {
                log->push_back("yield " + std::to_string(i));
                co_yield i;
                log->push_back("after " + std::to_string(i));
            }
        }(&log);
        std::size_t n = co_await (bs::by_ref(s) | bs::take(3)
                                  | bs::for_each([&](int v) { log.push_back("got " + std::to_string(v)); }));
        log.push_back("taken " + std::to_string(n));
        int next = *co_await s.next();  // the body goes on from the third co_yield
        log.push_back("next " + std::to_string(next));
        co_return log;
    }());
    REQUIRE(log == std::vector<std::string>{"yield 0", "got 0", "after 0", "yield 1", "got 1", "after 1", "yield 2",
                                            "got 2", "taken 3", "after 2", "yield 3", "next 3"});
}

TEST_CASE("stream_generator.generator driven by a consumer: the consumer's exception leaves through its await and not into the body") {
    auto rt = braid_test::runtime(1);
    auto [threw, caught, next] = rt.block_on([]() -> braid::Task<std::tuple<bool, bool, int>> {
        bool caught = false;
        auto s = [](bool* caught) -> braid::Stream<int> {
            for (int i = 0;; ++i) {
                try {
                    co_yield i;
                } catch (...) {
                    *caught = true;
                }
            }
        }(&caught);
        bool threw = false;
        try {
            (void)co_await (bs::by_ref(s) | bs::map([](int v) {
                                if (v == 2) throw std::runtime_error("two");
                                return v;
                            })
                            | bs::collect());
        } catch (const std::runtime_error&) {
            threw = true;
        }
        int next = *co_await s.next();
        co_return std::make_tuple(threw, caught, next);
    }());
    REQUIRE(threw);
    REQUIRE_FALSE(caught);
    REQUIRE(next == 3);
}

TEST_CASE("stream_generator.generator driven by a consumer: values copied or moved out of co_yield are each destroyed once") {
    Tracked::reset();
    {
        auto rt = braid_test::runtime(1);
        auto got = rt.block_on([]() -> braid::Task<std::vector<int>> {
            auto s = []() -> braid::Stream<Tracked> {
                Tracked kept(100);
                for (int i = 0; i < 10; ++i) {
                    if (i % 3 == 0) co_yield kept;  // an lvalue: copied
                    else co_yield Tracked(i);       // a temporary: moved
                }
            }();
            std::vector<Tracked> v = co_await (std::move(s) | bs::filter([](const Tracked& t) { return t.value != 4; })
                                               | bs::collect());
            std::vector<int> out;
            for (const Tracked& t : v) out.push_back(t.value);
            co_return out;
        }());
        REQUIRE(got == std::vector<int>{100, 1, 2, 100, 5, 100, 7, 8, 100});
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("stream_generator.generator driven by a consumer: items across the body's waits and the task's budget all arrive") {
    auto rt = braid_test::runtime(2);
    uint64_t sum = rt.block_on([]() -> braid::Task<uint64_t> {
        auto [tx, rx] = braid::mpsc::channel<int>(4);
        auto feeder = braid::spawn([](braid::mpsc::Sender<int> tx) -> braid::Task<> {
            for (int i = 0; i < 300; ++i) co_await tx.send(i);
        }(std::move(tx)));
        auto s = [](braid::mpsc::Receiver<int> rx) -> braid::Stream<uint64_t> {
            for (uint64_t i = 0; i < 1000; ++i) co_yield i;  // 1000 ready items: the budget runs out on the way
            while (auto v = co_await rx.recv()) co_yield uint64_t(*v);  // then items after waits
        }(std::move(rx));
        uint64_t total = co_await (std::move(s) | bs::fold(uint64_t(0), [](uint64_t a, uint64_t v) { return a + v; }));
        co_await feeder;
        co_return total;
    }());
    REQUIRE(sum == 999 * 1000 / 2 + 299 * 300 / 2);
}

TEST_CASE("stream_generator.generator: a moved-from or empty Stream throws braid::Error") {
    auto rt = braid_test::runtime(1);
    REQUIRE_THROWS_AS(rt.block_on([]() -> braid::Task<> {
        auto s = range(0, 3);
        auto t = std::move(s);
        (void)co_await s.next();
    }()),
                      braid::Error);
}

TEST_CASE("stream_generator.generator: converting any stream to a Stream<T> (boxing)") {
    auto rt = braid_test::runtime(1);
    auto v = rt.block_on([]() -> braid::Task<std::vector<int>> {
        braid::Stream<int> s = bs::iter(std::vector{1, 2, 3}) | bs::map([](int x) { return x * 10; });
        braid::Stream<int> t = std::move(s) | bs::boxed();
        co_return co_await collect(std::move(t));
    }());
    REQUIRE(v == std::vector<int>{10, 20, 30});
}

TEST_CASE("stream_generator.generator: the runtime shutting down destroys a generator that waits") {
    Tracked::reset();
    {
        auto rt = braid_test::runtime(1);
        auto h = rt.spawn([]() -> braid::Task<> {
            auto s = [](Tracked) -> braid::Stream<int> {
                co_await braid::sleep(1h);
                co_yield 1;
            }(Tracked(1));
            (void)co_await s.next();
        }());
        while (Tracked::live() != 1) std::this_thread::yield();
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("stream_generator.budget: a generator that yields without awaiting lets another task on its worker run") {
    // One worker: the other task runs only when the consumer yields it.
    auto rt = braid::Runtime::builder().worker_threads(1).build();
    constexpr long kCap = 5'000'000 / braid_test::kStressDivisor;  // ends a drain that never yields (the failure)
    auto forever = []() -> braid::Stream<long> {
        for (long i = 0;; ++i) co_yield i;
    };
    auto stopper = [](std::atomic<bool>* stop) -> braid::Task<> {
        stop->store(true);
        co_return;
    };
    // next() in a loop
    long items = rt.block_on([](auto forever, auto stopper) -> braid::Task<long> {
        std::atomic<bool> stop{false};
        auto h = braid::spawn(stopper(&stop));
        auto s = forever();
        long n = 0;
        while (!stop.load() && n < kCap) {
            EXPECT(*co_await s.next() == n);
            ++n;
        }
        co_await h;
        EXPECT(stop.load());
        co_return n;
    }(forever, stopper));
    REQUIRE(items <= 256);
    // a consumer loop over a pipeline, and a boxed source (a generator over
    // another stream)
    long folded = rt.block_on([](auto forever, auto stopper) -> braid::Task<long> {
        std::atomic<bool> stop{false};
        auto h = braid::spawn(stopper(&stop));
        long n = co_await (forever() | bs::take_while([&](const long& i) { return !stop.load() && i < kCap; })
                           | bs::boxed() | bs::map([](long i) { return i * 2; }) | bs::count());
        co_await h;
        EXPECT(stop.load());
        co_return n;
    }(forever, stopper));
    REQUIRE(folded <= 256);
    // a generator driven by a consumer (its co_yield hands items over
    // without suspending): the budget still ends the poll
    long seen = rt.block_on([](auto forever, auto stopper) -> braid::Task<long> {
        std::atomic<bool> stop{false};
        auto h = braid::spawn(stopper(&stop));
        long n = 0;
        bool stopped = co_await (forever() | bs::any([&](const long& i) {
                                     n = i + 1;
                                     return stop.load() || i >= kCap;
                                 }));
        co_await h;
        EXPECT(stopped && stop.load());
        co_return n;
    }(forever, stopper));
    REQUIRE(seen <= 256);
}

TEST_CASE("stream_generator.budget: a generator fed by a ready channel yields too") {
    auto rt = braid::Runtime::builder().worker_threads(1).build();
    auto [ticks, total] = rt.block_on([]() -> braid::Task<std::pair<long, long>> {
        std::atomic<bool> stop{false};
        std::atomic<long> ticks{0};
        auto ticker = braid::spawn([](std::atomic<long>* t, std::atomic<bool>* s) -> braid::Task<> {
            while (!s->load()) {
                ++*t;
                co_await braid::yield_now();
            }
        }(&ticks, &stop));
        auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
        {
            auto sender = std::move(tx);  // dropped below: the stream ends after the values
            for (int i = 0; i < 20'000; ++i) sender.send(1);
        }
        long total = co_await (bs::from_receiver(std::move(rx)) | bs::fold(0L, std::plus<>()));
        long seen = ticks.load();
        stop = true;
        co_await ticker;
        co_return std::pair(seen, total);
    }());
    REQUIRE(total == 20'000);
    REQUIRE(ticks >= 20);
}

}  // namespace test_stream_generator
