// Runtime contexts on plain threads: Runtime::enter / Handle::enter,
// Handle::try_current, Handle::block_on, Handle::spawn_blocking, and
// Runtime::shutdown_background.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "support.hpp"

namespace test_rt_enter {

using namespace std::chrono_literals;

namespace {
template <class T>
braid::Task<T> join(braid::JoinHandle<T> h) {
    co_return co_await h;
}
}  // namespace

TEST_CASE("rt_enter.try_current is empty outside a runtime and set inside one") {
    REQUIRE_FALSE(braid::Handle::try_current().has_value());
    auto rt = braid_test::runtime(2);
    bool inside = rt.block_on([]() -> braid::Task<bool> { co_return braid::Handle::try_current().has_value(); }());
    REQUIRE(inside);
}

TEST_CASE("rt_enter.enter makes Handle::current and spawn work on a plain thread") {
    auto rt = braid_test::runtime(2);
    {
        auto guard = rt.enter();
        auto h = braid::Handle::try_current();
        REQUIRE(h.has_value());
        REQUIRE(h->native_handle() != nullptr);
        // A spawn with no runtime named reaches the entered one.
        auto jh = braid::spawn([]() -> braid::Task<int> { co_return 7; }());
        REQUIRE(rt.block_on(join(std::move(jh))) == 7);
        // The thread stays a plain one: block_on works while entered.
        REQUIRE(rt.block_on([]() -> braid::Task<int> { co_return 8; }()) == 8);
    }
    REQUIRE_FALSE(braid::Handle::try_current().has_value());
}

TEST_CASE("rt_enter.enter guards nest and restore the outer runtime") {
    auto a = braid_test::runtime(1);
    auto b = braid_test::current_thread_runtime();
    auto ga = a.enter();
    REQUIRE(braid_runtime_current() == a.native_handle());
    {
        auto gb = b.enter();
        REQUIRE(braid_runtime_current() == b.native_handle());
    }
    REQUIRE(braid_runtime_current() == a.native_handle());
}

TEST_CASE("rt_enter.a sleep made on an entered thread runs on that runtime") {
    auto rt = braid_test::paused_runtime();
    auto guard = rt.enter();
    auto start = braid::Instant::now();
    rt.block_on([]() -> braid::Task<> { co_await braid::sleep(5s); }());
    REQUIRE(braid::Instant::now() - start >= 5s);
}

TEST_CASE("rt_enter.Handle::block_on runs a task from a plain thread") {
    auto rt = braid_test::runtime(2);
    auto h = rt.handle();
    int v = std::async(std::launch::async, [&] {
                return h.block_on([]() -> braid::Task<int> {
                    co_await braid::yield_now();
                    co_return 42;
                }());
            }).get();
    REQUIRE(v == 42);
}

TEST_CASE("rt_enter.Handle::block_on on a task thread is refused") {
    auto rt = braid_test::runtime(1);
    int code = rt.block_on([]() -> braid::Task<int> {
        co_return braid_test::error_code_of(
            [] { braid::Handle::current().block_on([]() -> braid::Task<> { co_return; }()); });
    }());
    REQUIRE(code == BRAID_EDEADLK);
}

TEST_CASE("rt_enter.Handle::block_on waits for its turn on a current-thread runtime") {
    auto rt = braid_test::current_thread_runtime();
    auto h = rt.handle();
    auto [tx, rx] = braid::oneshot::channel<int>();
    std::promise<void> other_started;
    std::thread other([&] {
        // The other thread's block_on holds the runtime until it gets a value.
        rt.block_on([](braid::oneshot::Receiver<int> rx, std::promise<void>* started) -> braid::Task<int> {
            started->set_value();
            co_return co_await rx;
        }(std::move(rx), &other_started));
    });
    other_started.get_future().wait();
    // This one's task runs on the other thread's scheduler, or on this
    // thread once the other returned: either way it completes.
    int v = h.block_on([](braid::oneshot::Sender<int> tx) -> braid::Task<int> {
        tx.send(1);
        co_return 5;
    }(std::move(tx)));
    other.join();
    REQUIRE(v == 5);
}

TEST_CASE("rt_enter.Handle::spawn_blocking runs on the blocking pool from a plain thread") {
    auto rt = braid_test::runtime(1);
    auto h = rt.handle();
    auto jh = h.spawn_blocking([] { return std::this_thread::get_id(); });
    auto id = rt.block_on(join(std::move(jh)));
    REQUIRE(id != std::this_thread::get_id());
}

TEST_CASE("rt_enter.shutdown_background does not wait for blocking jobs") {
    auto rt = braid_test::runtime(1);
    auto release = std::make_shared<std::promise<void>>();
    auto released = release->get_future().share();
    auto started = std::make_shared<std::promise<void>>();
    rt.handle().spawn_blocking([released, started] {
        started->set_value();
        released.wait();  // held until the runtime is gone
    }).detach();
    started->get_future().wait();
    rt.shutdown_background();  // returns while the job still runs
    REQUIRE(rt.native_handle() == nullptr);
    release->set_value();
}

}  // namespace test_rt_enter
