// LocalSet / spawn_local: tasks that stay on the thread that drives the set.
#include <catch2/catch.hpp>

#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_task_local_set {

using namespace std::chrono_literals;

namespace {
// Not thread-safe on purpose: every access is checked to be on one thread.
struct ThreadLog {
    std::vector<std::thread::id> ids;
    void here() { ids.push_back(std::this_thread::get_id()); }
    bool all_equal_to(std::thread::id id) const {
        for (auto i : ids)
            if (i != id) return false;
        return true;
    }
};

// Records the thread it is destroyed on (a moved-from one records nothing).
struct OnDrop {
    explicit OnDrop(std::shared_ptr<std::thread::id> w) : where(std::move(w)) {}
    OnDrop(OnDrop&&) noexcept = default;
    ~OnDrop() {
        if (where) *where = std::this_thread::get_id();
    }
    std::shared_ptr<std::thread::id> where;
};

braid::Task<> local_work(std::shared_ptr<ThreadLog> log, int depth) {
    log->here();
    co_await braid::yield_now();
    log->here();
    co_await braid::sleep(1ms);
    log->here();
    if (depth > 0) co_await braid::spawn_local(local_work(log, depth - 1));
    log->here();
}
}  // namespace

TEST_CASE("task_local_set.LocalSet::block_on on a multi-thread runtime keeps every local task on the calling thread") {
    auto rt = braid_test::runtime(4);
    braid::LocalSet local;
    auto log = std::make_shared<ThreadLog>();
    auto me = std::this_thread::get_id();
    int from_runtime = local.block_on(rt, [](std::shared_ptr<ThreadLog> log) -> braid::Task<int> {
        log->here();
        std::vector<braid::JoinHandle<void>> hs;
        for (int i = 0; i < 8; ++i) hs.push_back(braid::spawn_local(local_work(log, 2)));
        // A task spawned on the runtime still runs, on a worker.
        auto worker = co_await braid::spawn([]() -> braid::Task<std::thread::id> {
            co_await braid::yield_now();
            co_return std::this_thread::get_id();
        }());
        for (auto& h : hs) co_await h;
        log->here();
        co_return worker != std::this_thread::get_id() ? 1 : 0;
    }(log));
    REQUIRE(from_runtime == 1);
    REQUIRE(log->ids.size() == 2 + 8 * 3 * 4);
    REQUIRE(log->all_equal_to(me));
}

TEST_CASE("task_local_set.LocalSet::block_on on a current-thread runtime") {
    auto rt = braid_test::current_thread_runtime();
    braid::LocalSet local;
    auto log = std::make_shared<ThreadLog>();
    local.block_on(rt, [](std::shared_ptr<ThreadLog> log) -> braid::Task<> {
        auto h = braid::spawn_local(local_work(log, 3));
        co_await braid::spawn([]() -> braid::Task<> { co_await braid::sleep(1ms); }());
        co_await h;
    }(log));
    REQUIRE(log->ids.size() == 4 * 4);
    REQUIRE(log->all_equal_to(std::this_thread::get_id()));
}

TEST_CASE("task_local_set.LocalSet::run_until inside a current-thread runtime's block_on") {
    auto rt = braid_test::current_thread_runtime();
    auto log = std::make_shared<ThreadLog>();
    int v = rt.block_on([](std::shared_ptr<ThreadLog> log) -> braid::Task<int> {
        braid::LocalSet local;
        auto pre = local.spawn_local(local_work(log, 0));  // queued, runs once the set is driven
        int r = co_await local.run_until([](std::shared_ptr<ThreadLog> log) -> braid::Task<int> {
            co_await braid::spawn_local(local_work(log, 1));
            co_return 9;
        }(log));
        co_await pre;  // finished: it ran while the set was driven
        co_return r;
    }(log));
    REQUIRE(v == 9);
    REQUIRE(log->ids.size() == 3 * 4);
    REQUIRE(log->all_equal_to(std::this_thread::get_id()));
}

TEST_CASE("task_local_set.run_until on a multi-thread worker is refused") {
    auto rt = braid_test::runtime(2);
    int code = rt.block_on([]() -> braid::Task<int> {
        braid::LocalSet local;
        co_return co_await braid_test::code_of(local.run_until([]() -> braid::Task<> { co_return; }()));
    }());
    REQUIRE(code == BRAID_ENOTSUP);
}

TEST_CASE("task_local_set.spawn_local outside a LocalSet throws BRAID_EINVAL") {
    auto rt = braid_test::current_thread_runtime();
    int code = rt.block_on([]() -> braid::Task<int> {
        co_return braid_test::error_code_of([] { (void)braid::spawn_local([]() -> braid::Task<> { co_return; }()); });
    }());
    REQUIRE(code == BRAID_EINVAL);
}

TEST_CASE("task_local_set.dropping a LocalSet cancels its unfinished tasks on the dropping thread") {
    auto rt = braid_test::runtime(2);
    auto dropped_on = std::make_shared<std::thread::id>();
    braid::JoinHandle<void> h;
    {
        braid::LocalSet local;
        local.block_on(rt, [](std::shared_ptr<std::thread::id> where, braid::JoinHandle<void>* out) -> braid::Task<> {
            *out = braid::spawn_local([](OnDrop d) -> braid::Task<> {
                co_await braid_test::pending();
                (void)d;
            }(OnDrop{where}));
            co_await braid::yield_now();
        }(dropped_on, &h));
        REQUIRE(*dropped_on == std::thread::id{});
    }
    REQUIRE(*dropped_on == std::this_thread::get_id());
    REQUIRE(h.is_finished());
}

TEST_CASE("task_local_set.a local task aborted from another thread is dropped on the set's thread") {
    auto rt = braid_test::runtime(2);
    braid::LocalSet local;
    auto dropped_on = std::make_shared<std::thread::id>();
    bool cancelled = local.block_on(rt, [](std::shared_ptr<std::thread::id> where) -> braid::Task<bool> {
        auto h = braid::spawn_local([](OnDrop d) -> braid::Task<> {
            co_await braid_test::pending();
            (void)d;
        }(OnDrop{where}));
        co_await braid::yield_now();
        // Abort from a worker of the runtime.
        co_await braid::spawn([](braid::AbortHandle ah) -> braid::Task<> {
            ah.abort();
            co_return;
        }(h.abort_handle()));
        try {
            co_await h;
        } catch (const braid::TaskCancelled&) {
            co_return true;
        }
        co_return false;
    }(dropped_on));
    REQUIRE(cancelled);
    REQUIRE(*dropped_on == std::this_thread::get_id());
}

TEST_CASE("task_local_set.LocalSet::enter: the set is current under the guard, nests, and is bound to its thread") {
    auto rt = braid_test::current_thread_runtime();
    auto rt_guard = rt.enter();
    braid::LocalSet a, b;
    REQUIRE(braid_local_set_current() == nullptr);
    {
        auto ga = a.enter();
        REQUIRE(braid_local_set_current() == a.native_handle());
        {
            auto gb = b.enter();
            REQUIRE(braid_local_set_current() == b.native_handle());
            // Leaving a set that is not the current one is refused.
            REQUIRE(braid_local_set_exit(a.native_handle(), nullptr) == BRAID_EINVAL);
            REQUIRE(braid_local_set_current() == b.native_handle());
        }
        REQUIRE(braid_local_set_current() == a.native_handle());
        auto h = braid::spawn_local([]() -> braid::Task<int> { co_return 5; }());  // into a, not run yet
        REQUIRE(!h.is_finished());
        REQUIRE(a.block_on(rt, [](braid::JoinHandle<int> h) -> braid::Task<int> { co_return co_await h; }(std::move(h))) == 5);
    }
    REQUIRE(braid_local_set_current() == nullptr);
    // a is bound to this thread now: entering it elsewhere is refused.
    int elsewhere = 0;
    std::thread([&] {
        braid_local_set* prev = nullptr;
        elsewhere = braid_local_set_enter(a.native_handle(), &prev);
    }).join();
    REQUIRE(elsewhere == BRAID_EINVAL);
}

TEST_CASE("task_local_set.run_until polls its future in the awaiting task, with the set current") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid::LocalSet local;
        uint64_t outer = braid::task::id();
        uint64_t inner = co_await local.run_until([](braid::LocalSet* local) -> braid::Task<uint64_t> {
            EXPECT(braid_local_set_current() == local->native_handle());
            co_await braid::yield_now();
            EXPECT(braid_local_set_current() == local->native_handle());
            co_return braid::task::id();
        }(&local));
        EXPECT(inner == outer);
        EXPECT(braid_local_set_current() == nullptr);
    }());
}

}  // namespace test_task_local_set
