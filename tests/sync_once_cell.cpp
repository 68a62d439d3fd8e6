// OnceCell: set/get, get_or_init runs one initialiser among racers, a
// failed or cancelled initialiser hands over to the next waiter, values are
// destroyed with the cell, the C ABI protocol.
#include <catch2/catch.hpp>
#include <braid/once_cell.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_sync_once_cell {

using namespace std::chrono_literals;
using braid_test::Tracked;

using braid_test::CountingWaker;

TEST_CASE("sync_once_cell.once_cell: set once, then get") {
    braid::OnceCell<std::string> c;
    REQUIRE(c.get() == nullptr);
    REQUIRE_FALSE(c.initialized());
    REQUIRE_FALSE(c.set("first").has_value());
    auto back = c.set("second");
    REQUIRE(back.has_value());
    REQUIRE(back->value == "second");
    REQUIRE(back->is_already_init());
    REQUIRE(*c.get() == "first");
    braid::OnceCell<int> d(5);
    REQUIRE(*d.get() == 5);
}

TEST_CASE("sync_once_cell.once_cell: get_or_init runs the initialiser once when many tasks race") {
    auto rt = braid_test::runtime(2);
    auto r = rt.block_on([]() -> braid::Task<std::pair<int, int>> {
        auto cell = std::make_shared<braid::OnceCell<std::string>>();
        auto calls = std::make_shared<std::atomic<int>>(0);
        std::vector<braid::JoinHandle<bool>> hs;
        for (int i = 0; i < 50; ++i)
            hs.push_back(braid::spawn([](auto cell, auto calls) -> braid::Task<bool> {
                // Named: g++ 12 destroys a capturing lambda written inside a
                // co_await expression twice (see docs/sync.md).
                auto init = [calls]() -> braid::Task<std::string> {
                    ++*calls;
                    co_await braid::sleep(1ms);
                    co_return "ready";
                };
                const std::string& v = co_await cell->get_or_init(std::move(init));
                co_return v == "ready" && &v == cell->get();
            }(cell, calls)));
        int good = 0;
        for (auto& h : hs) good += co_await h;
        co_return std::pair<int, int>{calls->load(), good};
    }());
    REQUIRE(r.first == 1);
    REQUIRE(r.second == 50);
}

TEST_CASE("sync_once_cell.once_cell: a throwing initialiser lets the next waiter run its own") {
    auto rt = braid_test::runtime(1);
    auto r = rt.block_on([]() -> braid::Task<std::vector<std::string>> {
        auto cell = std::make_shared<braid::OnceCell<std::string>>();
        std::vector<std::string> out;
        auto failing = braid::spawn([](auto cell) -> braid::Task<std::string> {
            try {
                co_return co_await cell->get_or_init([]() -> braid::Task<std::string> {
                    co_await braid::sleep(1ms);
                    throw std::runtime_error("no");
                });
            } catch (const std::runtime_error& e) {
                co_return std::string("threw ") + e.what();
            }
        }(cell));
        co_await braid::yield_now();
        auto second = braid::spawn([](auto cell) -> braid::Task<std::string> {
            co_return co_await cell->get_or_init([] { return std::string("plain"); });
        }(cell));
        out.push_back(co_await failing);
        out.push_back(co_await second);
        out.push_back(*cell->get());
        co_return out;
    }());
    REQUIRE(r == std::vector<std::string>{"threw no", "plain", "plain"});
}

TEST_CASE("sync_once_cell.once_cell: an initialiser cancelled by abort hands over to the next waiter") {
    auto rt = braid_test::runtime(2);
    std::string v = rt.block_on([]() -> braid::Task<std::string> {
        auto cell = std::make_shared<braid::OnceCell<std::string>>();
        auto slow = braid::spawn([](auto cell) -> braid::Task<> {
            co_await cell->get_or_init([]() -> braid::Task<std::string> {
                co_await braid::sleep(1h);
                co_return "never";
            });
        }(cell));
        co_await braid::sleep(1ms);
        auto waiter = braid::spawn([](auto cell) -> braid::Task<std::string> {
            co_return co_await cell->get_or_init([]() -> braid::Task<std::string> { co_return "second"; });
        }(cell));
        co_await braid::sleep(1ms);
        slow.abort();
        try {
            co_await slow;
        } catch (const braid::TaskCancelled&) {
        }
        co_return co_await waiter;
    }());
    REQUIRE(v == "second");
}

TEST_CASE("sync_once_cell.once_cell: the value is destroyed with the cell") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    {
        braid::OnceCell<Tracked> c;
        c.set(Tracked(1));
        c.set(Tracked(2));  // handed back, destroyed here
        REQUIRE(c.get()->value == 1);
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("sync_once_cell.once_cell C ABI: the initialisation protocol") {
    braid_once_cell* c = nullptr;
    REQUIRE(braid_once_cell_new(&c, sizeof(int), 3, nullptr, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_once_cell_new(&c, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    void* p = nullptr;
    REQUIRE(braid_once_cell_get(c, &p) == BRAID_EAGAIN);
    REQUIRE(p == nullptr);
    CountingWaker a, b;
    braid_waiter* wa = nullptr;
    braid_waiter* wb = nullptr;
    braid_waiter* wc = nullptr;
    REQUIRE(braid_once_cell_poll_init(c, &wa, &CountingWaker::wake, &a) == BRAID_ONCE_CELL_INIT);  // a initialises
    REQUIRE(braid_once_cell_poll_init(c, &wb, &CountingWaker::wake, &b) == BRAID_PENDING);
    REQUIRE(braid_once_cell_poll_init(c, &wc, &CountingWaker::wake, &a) == BRAID_PENDING);
    int v = 7;
    REQUIRE(braid_once_cell_set(c, &v, sizeof v) == BRAID_EBUSY);  // being initialised
    REQUIRE(braid_once_cell_take(c, &v, sizeof v) == BRAID_EBUSY);
    REQUIRE(v == 7);
    REQUIRE(braid_once_cell_abort_init(c) == BRAID_OK);  // a gives up: b's turn
    REQUIRE(b.wakes == 1);
    braid_once_cell_cancel_init(c, &wb);  // b is cancelled before it polls: c's turn
    REQUIRE(a.wakes == 1);
    REQUIRE(braid_once_cell_poll_init(c, &wc, &CountingWaker::wake, &a) == BRAID_ONCE_CELL_INIT);
    long wrong = 1;
    REQUIRE(braid_once_cell_complete_init(c, &wrong, sizeof wrong) == BRAID_EINVAL);
    REQUIRE(braid_once_cell_complete_init(c, &v, sizeof v) == BRAID_OK);
    REQUIRE(braid_once_cell_get(c, &p) == BRAID_OK);
    REQUIRE(*static_cast<int*>(p) == 7);
    REQUIRE(braid_once_cell_poll_init(c, &wa, +[](void*) {}, nullptr) == BRAID_OK);
    REQUIRE(braid_once_cell_complete_init(c, &v, sizeof v) == BRAID_EINVAL);
    REQUIRE(braid_once_cell_abort_init(c) == BRAID_EINVAL);
    REQUIRE(braid_once_cell_init_blocking(c, BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_once_cell_free(c);
    braid_once_cell_free(nullptr);
    REQUIRE(braid_once_cell_get(nullptr, &p) == BRAID_EINVAL);
}

TEST_CASE("sync_once_cell.once_cell: a foreign thread waits for a task's initialisation") {
    auto rt = braid_test::runtime(1);
    braid::OnceCell<int> cell;
    std::atomic<bool> started{false};
    std::thread t;
    rt.block_on([](braid::OnceCell<int>* cell, std::thread* t, std::atomic<bool>* started) -> braid::Task<> {
        co_await cell->get_or_init([cell, t, started]() -> braid::Task<int> {
            *t = std::thread([cell, started] {
                *started = true;
                // The right to initialise is taken: this waits until it is done.
                int rc = braid_once_cell_init_blocking(cell->native_handle(), BRAID_WAIT_FOREVER);
                (void)rc;
            });
            while (!*started) co_await braid::yield_now();
            co_await braid::sleep(2ms);
            co_return 42;
        });
    }(&cell, &t, &started));
    t.join();
    REQUIRE(*cell.get() == 42);
    int rc = rt.block_on([](braid_once_cell* c) -> braid::Task<int> { co_return braid_once_cell_init_blocking(c, 1); }(
        cell.native_handle()));
    REQUIRE(rc == BRAID_EDEADLK);
}

TEST_CASE("sync_once_cell.once_cell: take empties the cell, which can be set again") {
    braid::OnceCell<std::string> c;
    REQUIRE_FALSE(c.take().has_value());  // not set
    REQUIRE_FALSE(c.set("one").has_value());
    auto v = c.take();
    REQUIRE(v == std::optional<std::string>("one"));
    REQUIRE(c.get() == nullptr);
    REQUIRE_FALSE(c.initialized());
    REQUIRE_FALSE(c.set("two").has_value());  // empty again
    REQUIRE(*c.get() == "two");
    REQUIRE(std::move(c).into_inner() == std::optional<std::string>("two"));
    // C: bad input changes nothing
    braid_once_cell* raw = nullptr;
    REQUIRE(braid_once_cell_new(&raw, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    int x = 3, out = 0;
    REQUIRE(braid_once_cell_take(nullptr, &out, sizeof out) == BRAID_EINVAL);
    REQUIRE(braid_once_cell_take(raw, &out, sizeof out) == BRAID_EAGAIN);
    REQUIRE(braid_once_cell_set(raw, &x, sizeof x) == BRAID_OK);
    REQUIRE(braid_once_cell_set(raw, &x, sizeof x) == BRAID_EEXIST);
    REQUIRE(braid_once_cell_take(raw, &out, sizeof out + 1) == BRAID_EINVAL);
    REQUIRE(braid_once_cell_take(raw, &out, sizeof out) == BRAID_OK);
    REQUIRE(out == 3);
    braid_once_cell_free(raw);
}

}  // namespace test_sync_once_cell
