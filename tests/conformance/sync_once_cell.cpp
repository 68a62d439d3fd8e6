// Conformance: tokio/tests/sync_once_cell.rs (Tokio 1.24), ported from what
// each case asserts.  Tokio's `static ONCE` cells are cells the case owns;
// its runtimes are current-thread ones, paused where Tokio pauses time (the
// sleeps of the initialisers then take no real time).  Tokio counts drops of
// Foo (moves are not drops in Rust); the ports count live
// braid_test::Tracked values.  Tokio's OnceCell::from(v) / new_with(Some(v))
// is braid's OnceCell(v) constructor; a Result error of an initialiser
// (get_or_try_init) and a panic are an exception thrown by the initialiser,
// which reaches its caller and leaves the cell empty.
//
// Gaps: none.
//
// Not applicable: none.
//
// braid's own: stress_one_initialiser (tasks on four workers race
// get_or_init on fresh cells, some initialisers throwing, some waits
// cancelled: one initialiser succeeds per cell and everybody sees its
// value).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include "support.hpp"

namespace conformance_sync_once_cell {

using namespace std::chrono_literals;
using braid_test::Tracked;

namespace {
using Cell = std::shared_ptr<braid::OnceCell<std::uint32_t>>;

braid::Task<std::uint32_t> func1() { co_return 5; }
braid::Task<std::uint32_t> func2() {
    co_await braid::sleep(1ms);
    co_return 10;
}
braid::Task<std::uint32_t> func_err() {
    throw std::runtime_error("func_err");
    co_return 0;
}
braid::Task<std::uint32_t> func_ok() { co_return 10; }
braid::Task<std::uint32_t> func_panic() {
    co_await braid::sleep(1ms);
    throw std::logic_error("func_panic");
}
braid::Task<std::uint32_t> sleep_and_set() {
    co_await braid::sleep(2ms);
    co_return 5;
}

template <class F>
braid::JoinHandle<std::uint32_t> spawn_get_or_init(Cell cell, F init) {
    return braid::spawn([](Cell cell, F init) -> braid::Task<std::uint32_t> {
        co_return co_await cell->get_or_init(std::move(init));
    }, std::move(cell), std::move(init));
}
}  // namespace

TEST_CASE("sync_once_cell.drop_cell") {
    Tracked::reset();
    {
        braid::OnceCell<Tracked> once_cell;
        auto prev = once_cell.set(Tracked(1));
        REQUIRE_FALSE(prev.has_value());
        REQUIRE(Tracked::live() == 1);
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("sync_once_cell.drop_cell_new_with") {
    Tracked::reset();
    {
        braid::OnceCell<Tracked> once_cell(Tracked(1));
        REQUIRE(once_cell.initialized());
        REQUIRE(Tracked::live() == 1);
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("sync_once_cell.from") {
    braid::OnceCell<int> cell(2);
    REQUIRE(cell.get() != nullptr);
    REQUIRE(*cell.get() == 2);
}

TEST_CASE("sync_once_cell.get_or_init") {
    auto rt = braid_test::current_thread_runtime(true);
    rt.block_on([]() -> braid::Task<> {
        auto once = std::make_shared<braid::OnceCell<std::uint32_t>>();
        auto handle1 = spawn_get_or_init(once, &func1);
        auto handle2 = spawn_get_or_init(once, &func2);
        co_await braid::sleep(1ms);
        std::uint32_t result1 = co_await handle1;
        std::uint32_t result2 = co_await handle2;
        EXPECT(result1 == 5);
        EXPECT(result2 == 5);
    }());
}

TEST_CASE("sync_once_cell.get_or_init_panic") {
    auto rt = braid_test::current_thread_runtime(true);
    rt.block_on([]() -> braid::Task<> {
        auto once = std::make_shared<braid::OnceCell<std::uint32_t>>();
        auto handle1 = spawn_get_or_init(once, &func1);
        auto handle2 = spawn_get_or_init(once, &func_panic);  // never runs: the cell is set first
        co_await braid::sleep(1ms);
        std::uint32_t result1 = co_await handle1;
        std::uint32_t result2 = co_await handle2;
        EXPECT(result1 == 5);
        EXPECT(result2 == 5);
    }());
}

TEST_CASE("sync_once_cell.set_and_get") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto once = std::make_shared<braid::OnceCell<std::uint32_t>>();
        co_await braid::spawn([](Cell c) -> braid::Task<bool> { co_return !c->set(5).has_value(); }, once);
        EXPECT(once->get() != nullptr);
        EXPECT(*once->get() == 5);
    }());
}

TEST_CASE("sync_once_cell.get_uninit") {
    braid::OnceCell<std::uint32_t> once;
    REQUIRE(once.get() == nullptr);
}

TEST_CASE("sync_once_cell.set_twice") {
    braid::OnceCell<std::uint32_t> once;
    REQUIRE_FALSE(once.set(5).has_value());
    auto second = once.set(6);
    REQUIRE(second.has_value());
    REQUIRE(second->value == 6);
    REQUIRE(second->is_already_init());  // Tokio: AlreadyInitializedError(6)
    REQUIRE(once.get() != nullptr);
    REQUIRE(*once.get() == 5);
}

TEST_CASE("sync_once_cell.set_while_initializing") {
    auto rt = braid_test::current_thread_runtime(true);
    rt.block_on([]() -> braid::Task<> {
        auto once = std::make_shared<braid::OnceCell<std::uint32_t>>();
        auto handle1 = spawn_get_or_init(once, &sleep_and_set);
        auto handle2 = braid::spawn([](Cell c) -> braid::Task<std::pair<std::optional<std::uint32_t>, bool>> {
            co_await braid::sleep(1ms);
            auto back = c->set(10);
            // Tokio: InitializingError(10)
            if (!back || !back->is_initializing()) co_return std::pair(std::optional<std::uint32_t>(), false);
            co_return std::pair(std::optional<std::uint32_t>(back->value), c->get() == nullptr);
        }, once);
        co_await braid::sleep(2ms);
        std::uint32_t result1 = co_await handle1;
        auto [back, still_empty] = co_await handle2;
        EXPECT(result1 == 5);
        // being initialised: the value came back and the cell was not set yet
        EXPECT(back == std::optional<std::uint32_t>(10));
        EXPECT(still_empty);
    }());
}

TEST_CASE("sync_once_cell.get_or_try_init") {
    auto rt = braid_test::current_thread_runtime(true);
    rt.block_on([]() -> braid::Task<> {
        auto once = std::make_shared<braid::OnceCell<std::uint32_t>>();
        auto handle1 = spawn_get_or_init(once, &func_err);
        auto handle2 = spawn_get_or_init(once, &func_ok);
        co_await braid::sleep(1ms);
        bool failed = false;
        try {
            (void)co_await handle1;
        } catch (const std::runtime_error&) {
            failed = true;
        }
        EXPECT(failed);
        std::uint32_t result2 = co_await handle2;
        EXPECT(result2 == 10);
    }());
}

TEST_CASE("sync_once_cell.stress_one_initialiser") {
    constexpr int kTasks = 8;
    const int rounds = 300 / braid_test::kStressDivisor;
    auto rt = braid_test::runtime(4);
    for (int round = 0; round < rounds; ++round) {
        struct Shared {
            braid::OnceCell<int> cell;
            std::atomic<int> inits_ok{0}, inits_thrown{0}, saw_other{0}, cancelled{0};
        };
        auto s = std::make_shared<Shared>();
        rt.block_on([](std::shared_ptr<Shared> s) -> braid::Task<> {
            std::vector<braid::JoinHandle<void>> tasks;
            for (int t = 0; t < kTasks; ++t) {
                tasks.push_back(braid::spawn([](std::shared_ptr<Shared> s, int t) -> braid::Task<> {
                    auto init = [s, t]() -> braid::Task<int> {
                        co_await braid::yield_now();
                        if (t % 4 == 1) {
                            s->inits_thrown.fetch_add(1);
                            throw std::runtime_error("init failed");
                        }
                        s->inits_ok.fetch_add(1);
                        co_return 1000 + t;
                    };
                    if (t % 4 == 3) {
                        // waits that may lose a select: the right to initialise passes on
                        auto ready = []() -> braid::Task<> { co_await braid::yield_now(); };
                        auto get = [](std::shared_ptr<Shared> s, decltype(init) init) -> braid::Task<int> {
                            co_return co_await s->cell.get_or_init(std::move(init));
                        };
                        auto r = co_await braid::select(get(s, std::move(init)), ready());
                        if (r.index() == 1) s->cancelled.fetch_add(1);
                        co_return;
                    }
                    try {
                        const int& v = co_await s->cell.get_or_init(std::move(init));
                        if (v < 1000 || v >= 1000 + kTasks) s->saw_other.fetch_add(1);
                    } catch (const std::runtime_error&) {
                    }
                }, s, t));
            }
            for (auto& t : tasks) co_await t;
        }(s));
        REQUIRE(s->inits_ok.load() == 1);
        REQUIRE(s->cell.get() != nullptr);
        REQUIRE(s->saw_other.load() == 0);
    }
}

TEST_CASE("sync_once_cell.drop_into_inner") {
    Tracked::reset();
    {
        braid::OnceCell<Tracked> once_cell;
        REQUIRE_FALSE(once_cell.set(Tracked(1)).has_value());
        REQUIRE(Tracked::live() == 1);
        auto value = std::move(once_cell).into_inner();
        REQUIRE(value.has_value());
        REQUIRE(value->value == 1);
        REQUIRE(Tracked::live() == 1);
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("sync_once_cell.drop_into_inner_new_with") {
    Tracked::reset();
    {
        braid::OnceCell<Tracked> once_cell(Tracked(1));
        REQUIRE(Tracked::live() == 1);
        auto value = std::move(once_cell).into_inner();
        REQUIRE(value.has_value());
        REQUIRE(Tracked::live() == 1);
    }
    REQUIRE(Tracked::live() == 0);
}

}  // namespace conformance_sync_once_cell
