// time::pause / resume / advance from inside tasks, and the one-line test
// runners of braid/test.hpp.
#include <catch2/catch.hpp>
#include <braid/test.hpp>

#include <chrono>

#include "support.hpp"

namespace test_time_control {

using namespace std::chrono_literals;

TEST_CASE("time_control.pause inside a task freezes the clock, advance moves it and wakes sleepers") {
    braid::test::run([]() -> braid::Task<> {
        braid::time::pause();
        auto t0 = braid::Instant::now();
        EXPECT(braid::Instant::now() == t0);
        bool woke = false;
        auto sleeper = braid::spawn([](bool* woke) -> braid::Task<> {
            co_await braid::sleep(10s);
            *woke = true;
        }(&woke));
        co_await braid::yield_now();  // the sleeper registers its timer
        co_await braid::time::advance(5s);
        EXPECT(!woke);
        co_await braid::time::advance(5s);
        EXPECT(woke);  // advance yields: the woken sleeper ran first
        EXPECT(braid::Instant::now() - t0 == 10s);
        co_await sleeper;
        braid::time::resume();
    });
}

TEST_CASE("time_control.resume lets time move forward from where it stands") {
    braid::test::run([]() -> braid::Task<> {
        braid::time::pause();
        auto t0 = braid::Instant::now();
        co_await braid::time::advance(1h);
        braid::time::resume();
        EXPECT(braid::Instant::now() - t0 >= 1h);  // not reset to the real clock
        braid::time::pause();                      // can pause again after a resume
        braid::time::resume();
    });
}

TEST_CASE("time_control.pausing twice, resuming or advancing a running clock throw BRAID_EINVAL") {
    braid::test::run([]() -> braid::Task<> {
        EXPECT(braid_test::error_code_of([] { braid::time::resume(); }) == BRAID_EINVAL);
        EXPECT(co_await braid_test::code_of(braid::time::advance(1s)) == BRAID_EINVAL);
        braid::time::pause();
        EXPECT(braid_test::error_code_of([] { braid::time::pause(); }) == BRAID_EINVAL);
        braid::time::resume();
    });
    REQUIRE(braid_test::error_code_of([] { braid::time::pause(); }) == BRAID_EINVAL);  // no runtime here
}

TEST_CASE("time_control.a paused clock auto-advances when every task waits on a timer") {
    braid::test::run_multi_thread(2, []() -> braid::Task<> {
        braid::time::pause();
        auto t0 = braid::Instant::now();
        co_await braid::sleep(1h);  // instant in real time
        EXPECT(braid::Instant::now() - t0 >= 1h);
        braid::time::resume();
    });
}

TEST_CASE("time_control.test::run gives the body's value and rethrows its exception") {
    int v = braid::test::run([]() -> braid::Task<int> { co_return 3; });
    REQUIRE(v == 3);
    REQUIRE(braid::test::run([]() -> braid::Task<int> { co_return 4; }()) == 4);  // a Task directly
    int captured = 5;
    REQUIRE(braid::test::run([&]() -> braid::Task<int> { co_return captured; }) == 5);
    REQUIRE_THROWS_AS(braid::test::run([]() -> braid::Task<> {
                          throw std::runtime_error("x");
                          co_return;
                      }),
                      std::runtime_error);
}

TEST_CASE("time_control.test::run_paused runs on a paused clock") {
    braid::test::run_paused([]() -> braid::Task<> {
        auto t0 = braid::Instant::now();
        co_await braid::sleep(24h);
        EXPECT(braid::Instant::now() - t0 == 24h);
        EXPECT(braid_test::error_code_of([] { braid::time::pause(); }) == BRAID_EINVAL);  // paused already
    });
}

}  // namespace test_time_control
