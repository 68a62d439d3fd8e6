// Tasks: spawn, join, exceptions, ids, yield_now, argument ownership,
// spawn_blocking.
#include <catch2/catch.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "support.hpp"

namespace test_task_spawn {

using namespace std::chrono_literals;
using braid_test::Tracked;

namespace {
braid::Task<int> add(int a, int b) { co_return a + b; }
braid::Task<int> nested(int depth) {
    if (depth == 0) co_return 0;
    co_return 1 + co_await nested(depth - 1);
}
}  // namespace

TEST_CASE("task_spawn.awaiting a Task runs it inline and gives its value") {
    auto rt = braid_test::runtime(1);
    REQUIRE(rt.block_on(add(2, 3)) == 5);
    REQUIRE(rt.block_on(nested(1000)) == 1000);
}

TEST_CASE("task_spawn.a Task is lazy: nothing runs until it is awaited") {
    auto rt = braid_test::runtime(1);
    rt.block_on([]() -> braid::Task<> {
        bool ran = false;
        auto t = [](bool* r) -> braid::Task<> {
            *r = true;
            co_return;
        }(&ran);
        co_await braid::yield_now();
        REQUIRE_FALSE(ran);
        co_await std::move(t);
        REQUIRE(ran);
    }());
}

TEST_CASE("task_spawn.a Task destroyed before it is awaited destroys its arguments") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    {
        auto t = [](Tracked x) -> braid::Task<int> { co_return x.value; }(Tracked(1));
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("task_spawn.spawned tasks run concurrently and join in any order") {
    auto rt = braid_test::runtime(2);
    long sum = rt.block_on([]() -> braid::Task<long> {
        std::vector<braid::JoinHandle<int>> hs;
        for (int i = 0; i < 1000; ++i) hs.push_back(braid::spawn(add(i, 1)));
        long s = 0;
        for (auto it = hs.rbegin(); it != hs.rend(); ++it) s += co_await *it;
        co_return s;
    }());
    REQUIRE(sum == 1000L * 1001 / 2);
}

TEST_CASE("task_spawn.an exception escaping a task is rethrown where it is joined") {
    auto rt = braid_test::runtime(2);
    std::string msg = rt.block_on([]() -> braid::Task<std::string> {
        auto h = braid::spawn([]() -> braid::Task<int> {
            co_await braid::yield_now();
            throw std::logic_error("task failed on purpose");
        }());
        try {
            co_await h;
        } catch (const std::logic_error& e) {
            co_return e.what();
        }
        co_return "no exception";
    }());
    REQUIRE(msg == "task failed on purpose");
}

TEST_CASE("task_spawn.an exception escaping a detached task does not terminate the process") {
    auto rt = braid_test::runtime(2);
    std::atomic<bool> thrown{false};
    rt.block_on([](std::atomic<bool>* t) -> braid::Task<> {
        braid::spawn([](std::atomic<bool>* t2) -> braid::Task<> {
            t2->store(true);
            throw std::runtime_error("nobody listens");
            co_return;
        }(t)).detach();
        while (!t->load()) co_await braid::yield_now();
    }(&thrown));
    REQUIRE(thrown.load());
}

TEST_CASE("task_spawn.block_on rethrows the task's exception") {
    auto rt = braid_test::runtime(1);
    REQUIRE_THROWS_AS(rt.block_on([]() -> braid::Task<> {
        throw std::out_of_range("x");
        co_return;
    }()),
                      std::out_of_range);
}

TEST_CASE("task_spawn.spawn(f, args...) moves the arguments into the task's frame") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    auto rt = braid_test::runtime(2);
    int v = rt.block_on([]() -> braid::Task<int> {
        auto big = std::make_unique<int>(40);
        auto h = braid::spawn(
            [](std::unique_ptr<int> p, Tracked t, std::string s) -> braid::Task<int> {
                co_await braid::yield_now();
                co_return *p + t.value + int(s.size());
            },
            std::move(big), Tracked(1), std::string("x"));
        REQUIRE(big == nullptr);
        co_return co_await h;
    }());
    REQUIRE(v == 42);
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("task_spawn.a lambda's captures live as long as the task spawned through spawn(f)") {
    auto rt = braid_test::runtime(2);
    int v = rt.block_on([]() -> braid::Task<int> {
        auto shared = std::make_shared<int>(9);
        auto h = braid::spawn([shared]() -> braid::Task<int> {
            co_await braid::yield_now();
            co_return *shared;
        });
        shared.reset();
        co_return co_await h;
    }());
    REQUIRE(v == 9);
}

TEST_CASE("task_spawn.task ids are unique and visible inside the task") {
    auto rt = braid_test::runtime(2);
    rt.block_on([]() -> braid::Task<> {
        REQUIRE(braid::task::id() != 0);
        std::vector<braid::JoinHandle<uint64_t>> hs;
        for (int i = 0; i < 100; ++i)
            hs.push_back(braid::spawn([]() -> braid::Task<uint64_t> { co_return braid::task::id(); }()));
        std::set<uint64_t> ids;
        for (auto& h : hs) {
            uint64_t expected = h.id();
            uint64_t seen = co_await h;
            REQUIRE(seen == expected);
            ids.insert(seen);
        }
        REQUIRE(ids.size() == 100);
    }());
    REQUIRE(braid::task::id() == 0);
}

TEST_CASE("task_spawn.yield_now lets the other tasks on the worker run") {
    auto rt = braid::Runtime::builder().current_thread().build();
    std::vector<int> order = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto log = std::make_shared<std::vector<int>>();
        auto a = braid::spawn([](auto l) -> braid::Task<> {
            for (int i = 0; i < 3; ++i) {
                l->push_back(1);
                co_await braid::yield_now();
            }
        }, log);
        auto b = braid::spawn([](auto l) -> braid::Task<> {
            for (int i = 0; i < 3; ++i) {
                l->push_back(2);
                co_await braid::yield_now();
            }
        }, log);
        co_await a;
        co_await b;
        co_return *log;
    }());
    REQUIRE(order == std::vector<int>{1, 2, 1, 2, 1, 2});
}

TEST_CASE("task_spawn.spawn_blocking runs on the blocking pool and returns its value") {
    auto rt = braid_test::runtime(1);
    auto [v, same] = rt.block_on([]() -> braid::Task<std::pair<int, bool>> {
        auto worker = std::this_thread::get_id();
        auto where = co_await braid::spawn_blocking([] { return std::this_thread::get_id(); });
        int v = co_await braid::spawn_blocking([] { return 21 * 2; });
        co_return std::make_pair(v, where == worker);
    }());
    REQUIRE(v == 42);
    REQUIRE_FALSE(same);
}

TEST_CASE("task_spawn.spawn_blocking rethrows the closure's exception") {
    auto rt = braid_test::runtime(1);
    REQUIRE_THROWS_AS(rt.block_on([]() -> braid::Task<int> {
        co_return co_await braid::spawn_blocking([]() -> int { throw std::invalid_argument("bad"); });
    }()),
                      std::invalid_argument);
}

TEST_CASE("task_spawn.the blocking pool grows to max_blocking_threads and no further") {
    auto rt = braid::Runtime::builder().worker_threads(1).max_blocking_threads(3).build();
    std::atomic<int> inside{0}, peak{0};
    std::atomic<int> finished{0};
    rt.block_on([](std::atomic<int>* in, std::atomic<int>* pk, std::atomic<int>* fin) -> braid::Task<> {
        std::vector<braid::JoinHandle<void>> hs;
        for (int i = 0; i < 12; ++i)
            hs.push_back(braid::spawn_blocking([in, pk, fin] {
                int now = ++*in;
                int p = pk->load();
                while (now > p && !pk->compare_exchange_weak(p, now)) {
                }
                // hold the thread until three jobs overlap or enough have finished
                while (pk->load() < 3 && fin->load() < 9) std::this_thread::yield();
                --*in;
                ++*fin;
            }));
        for (auto& h : hs) co_await h;
    }(&inside, &peak, &finished));
    REQUIRE(peak.load() == 3);
    REQUIRE(finished.load() == 12);
}

TEST_CASE("task_spawn.awaiting an empty JoinHandle or Task throws braid::Error") {
    auto rt = braid_test::runtime(1);
    rt.block_on([]() -> braid::Task<> {
        braid::JoinHandle<int> empty;
        REQUIRE_THROWS_AS(co_await empty, braid::Error);
        braid::Task<int> t;
        REQUIRE_THROWS_AS(co_await std::move(t), braid::Error);
    }());
}

TEST_CASE("task_spawn.spawn outside a runtime throws braid::Error(BRAID_EINVAL)") {
    try {
        braid::spawn(add(1, 2)).detach();
        FAIL("must throw");
    } catch (const braid::Error& e) {
        REQUIRE(e.code() == BRAID_EINVAL);
    }
}

TEST_CASE("task_spawn.try_spawn and try_spawn_blocking: the handle on a runtime thread, the refusal elsewhere") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    auto rt = braid_test::runtime(1);
    auto [a, b, c] = rt.block_on([]() -> braid::Task<std::tuple<int, int, int>> {
        auto r = braid::try_spawn(add(2, 3));
        EXPECT(r.has_value() && r.error() == 0);
        int a = co_await *r;
        auto r2 = braid::try_spawn([](int x) -> braid::Task<int> { co_return x * 2; }, 21);
        int b = co_await r2.value();
        auto r3 = braid::try_spawn_blocking([] { return 7; });
        EXPECT(bool(r3));
        int c = co_await *r3;
        co_return std::tuple(a, b, c);
    }());
    REQUIRE(a == 5);
    REQUIRE(b == 42);
    REQUIRE(c == 7);
    // No runtime on this thread: refused, and the task dropped at once.
    auto body = [](Tracked t) -> braid::Task<int> { co_return t.value; };
    auto r = braid::try_spawn(body(Tracked(1)));
    REQUIRE(r.error() == BRAID_EINVAL);
    REQUIRE(Tracked::live() == 0);
    REQUIRE(braid::try_spawn_blocking([t = Tracked(2)] { return t.value; }).error() == BRAID_EINVAL);
    REQUIRE(braid::try_spawn(braid::Task<int>()).error() == BRAID_EINVAL);
    REQUIRE(Tracked::live() == 0);
    // spawn keeps throwing there (a programming error, not a shutdown)
    REQUIRE(braid_test::error_code_of([&] { braid::spawn(body(Tracked(3))).detach(); }) == BRAID_EINVAL);
    REQUIRE(Tracked::live() == 0);
}

namespace {
// The address of the awaiting coroutine's frame.
struct FrameAddress {
    void* addr = nullptr;
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) noexcept {
        addr = h.address();
        return false;  // goes on at once
    }
    void* await_resume() const noexcept { return addr; }
};
braid::Task<std::uintptr_t> own_frame() { co_return reinterpret_cast<std::uintptr_t>(co_await FrameAddress{}); }
}  // namespace

TEST_CASE("task_spawn.a spawned coroutine's task and frame are one block") {
    auto rt = braid_test::runtime(1);
    rt.block_on([]() -> braid::Task<> {
        auto h = braid::spawn(own_frame());
        std::uintptr_t frame = co_await h;
        // The task handle is the block's start; the frame follows the room
        // the frame's allocation kept for the task.
        EXPECT(frame == reinterpret_cast<std::uintptr_t>(h.native_handle()) + braid::detail::TaskFrame::kPrefix);
    }());
}

TEST_CASE("task_spawn.spawned tasks give back their blocks and destroy what they hold whichever way they end") {
    // Run under ASan/LSan (BRAID_SANITIZE=address), where the allocator
    // passes every block to malloc: a block not given back is a leak.
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    constexpr int N = 10'000;
    std::vector<braid::JoinHandle<Tracked>> outliving;  // joined after their runtime is gone
    {
        auto rt = braid_test::runtime(2);
        rt.block_on([&]() -> braid::Task<> {
            std::vector<braid::JoinHandle<Tracked>> joined, aborted;
            for (int i = 0; i < N; ++i) {
                auto body = [](Tracked t, int kind) -> braid::Task<Tracked> {
                    if (kind >= 2) co_await braid_test::pending();  // parks: aborted, or cancelled at shutdown
                    co_return Tracked(t.value + 1);
                };
                auto h = braid::spawn(body, Tracked(i), i % 4);
                switch (i % 4) {
                    case 0: joined.push_back(std::move(h)); break;
                    case 1: h.detach(); break;  // its output goes when it finishes
                    case 2: aborted.push_back(std::move(h)); break;
                    case 3: outliving.push_back(std::move(h)); break;
                }
            }
            long sum = 0;
            for (auto& h : joined) sum += (co_await h).value;
            constexpr long M = N / 4;  // tasks 0, 4, 8, ... give i + 1
            EXPECT(sum == 4 * (M * (M - 1) / 2) + M);
            for (auto& h : aborted) h.abort();
            for (auto& h : aborted) {
                bool cancelled = false;
                try {
                    co_await h;
                } catch (const braid::TaskCancelled&) {
                    cancelled = true;
                }
                EXPECT(cancelled);
            }
        }());
    }  // the runtime shuts down: the parked tasks are cancelled
    for (auto& h : outliving) {
        REQUIRE(h.is_finished());
        REQUIRE_THROWS_AS(h.take(), braid::TaskCancelled);
    }
    outliving.clear();
    REQUIRE(Tracked::live() == 0);
}

}  // namespace test_task_spawn
