// select: the first finisher wins, losers are destroyed before select
// returns; fairness; biased order; nesting; exceptions; cross-thread wakes.
#include <catch2/catch.hpp>

#include <array>
#include <stdexcept>
#include <string>
#include <thread>

#include "support.hpp"

using namespace std::chrono_literals;
using braid_test::Tracked;

namespace {
braid::Task<int> after(std::chrono::milliseconds d, int v) {
    co_await braid::sleep(d);
    co_return v;
}
braid::Task<int> ready(int v) { co_return v; }
}  // namespace

TEST_CASE("select returns the first to finish and its index") {
    auto rt = braid_test::paused_runtime();
    auto r = rt.block_on([]() -> braid::Task<std::variant<int, std::string>> {
        co_return co_await braid::select(after(20ms, 1), [](int) -> braid::Task<std::string> {
            co_await braid::sleep(10ms);
            co_return "second";
        }(0));
    }());
    REQUIRE(r.index() == 1);
    REQUIRE(std::get<1>(r) == "second");
}

TEST_CASE("select destroys every loser before it returns") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    auto rt = braid_test::paused_runtime();
    long live_at_return = rt.block_on([]() -> braid::Task<long> {
        auto loser = [](Tracked t) -> braid::Task<int> {
            co_await braid::sleep(std::chrono::hours(1));
            co_return t.value;
        };
        auto r = co_await braid::select(loser(Tracked(1)), after(1ms, 2), loser(Tracked(3)));
        REQUIRE(r.index() == 1);
        co_return Tracked::live();
    }());
    REQUIRE(live_at_return == 0);
}

TEST_CASE("select with equal types: the index tells which") {
    auto rt = braid_test::paused_runtime();
    auto r = rt.block_on([]() -> braid::Task<std::variant<int, int, int>> {
        co_return co_await braid::select(after(3ms, 0), after(1ms, 1), after(2ms, 2));
    }());
    REQUIRE(r.index() == 1);
    REQUIRE(std::get<1>(r) == 1);
}

TEST_CASE("select start order is randomised, select_biased polls in order") {
    auto rt = braid_test::runtime(1);
    auto [counts, biased] = rt.block_on([]() -> braid::Task<std::pair<std::array<int, 3>, int>> {
        std::array<int, 3> c{};
        for (int i = 0; i < 3000; ++i) {
            auto r = co_await braid::select(ready(0), ready(1), ready(2));
            ++c[r.index()];
        }
        int first = 0;
        for (int i = 0; i < 100; ++i) {
            auto r = co_await braid::select_biased(ready(0), ready(1), ready(2));
            first += r.index() == 0;
        }
        co_return std::make_pair(c, first);
    }());
    for (int c : counts) REQUIRE(c > 500);  // each about 1000
    REQUIRE(biased == 100);
}

TEST_CASE("select rethrows the winner's exception") {
    auto rt = braid_test::paused_runtime();
    REQUIRE_THROWS_WITH(rt.block_on([]() -> braid::Task<> {
        co_await braid::select(after(10ms, 1), []() -> braid::Task<int> {
            co_await braid::sleep(1ms);
            throw std::invalid_argument("branch threw");
        }());
    }()),
                        "branch threw");
}

TEST_CASE("nested selects, and select inside join inside select") {
    auto rt = braid_test::paused_runtime();
    auto [outer_index, value] = rt.block_on([]() -> braid::Task<std::pair<size_t, int>> {
        auto inner = []() -> braid::Task<int> {
            auto r = co_await braid::select(after(5ms, 10), after(2ms, 20));
            co_return std::get<1>(r);
        };
        auto joined = [inner]() -> braid::Task<int> {
            auto [a, b] = co_await braid::join(inner(), after(3ms, 1));
            co_return a + b;
        };
        auto r = co_await braid::select(joined(), after(50ms, -1));
        co_return std::make_pair(r.index(), std::get<0>(r));
    }());
    REQUIRE(outer_index == 0);
    REQUIRE(value == 21);
}

TEST_CASE("select over a join handle, a oneshot and a sleep") {
    auto rt = braid_test::runtime(2);
    size_t idx = rt.block_on([]() -> braid::Task<size_t> {
        auto [tx, rx] = braid::oneshot::channel<int>();
        auto h = braid::spawn(after(std::chrono::hours(1), 0));
        braid::spawn([](braid::oneshot::Sender<int> t) -> braid::Task<> {
            co_await braid::sleep(1ms);
            t.send(5);
        }, std::move(tx)).detach();
        auto r = co_await braid::select(std::move(h), std::move(rx), braid::sleep(std::chrono::hours(2)));
        co_return r.index();
    }());
    REQUIRE(idx == 1);
}

TEST_CASE("a loser being woken from another thread as it loses", "[stress]") {
    // The loser waits on a oneshot whose sender fires from a foreign thread at
    // about the moment the winner (a yield) completes.  Whatever the timing,
    // nothing is lost or woken after its frame is gone.
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    {
        auto rt = braid_test::runtime(2);
        for (int round = 0; round < 2000; ++round) {
            auto [tx, rx] = braid::oneshot::channel<Tracked>();
            std::atomic<bool> go{false};
            std::thread sender([&, t = std::move(tx)]() mutable {
                while (!go.load()) std::this_thread::yield();
                t.send(Tracked(round));
            });
            auto rxp = std::make_shared<braid::oneshot::Receiver<Tracked>>(std::move(rx));
            size_t idx = rt.block_on([](auto r, std::atomic<bool>* g) -> braid::Task<size_t> {
                g->store(true);
                auto res = co_await braid::select_biased(braid::yield_now(), *r);
                co_return res.index();
            }(rxp, &go));
            sender.join();
            if (idx == 0) {
                // the value is still in the channel: the loser took nothing
                try {
                    auto v = rxp->try_recv();
                    REQUIRE(v.has_value());
                } catch (const braid::RecvError&) {
                    FAIL("the loser lost the value");
                }
            }
        }
    }
    REQUIRE(Tracked::live() == 0);
}
