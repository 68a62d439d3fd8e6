// Tokio's tests/test_clock.rs, ported.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <chrono>

#include <braid/test.hpp>

#include "support.hpp"

namespace conformance_test_clock {

using namespace std::chrono_literals;

// Tokio panics; braid refuses with BRAID_EINVAL (braid::Error in C++).
TEST_CASE("test_clock.advancing_time_when_time_is_not_frozen_panics") {
    bool current = GENERATE(true, false);
    auto b = braid::Runtime::builder();
    if (current) b.current_thread();
    else b.worker_threads(1);
    auto rt = b.build();
    REQUIRE(braid_test::error_code_of([&] { rt.advance(1s); }) == BRAID_EINVAL);
    REQUIRE(braid_runtime_advance(rt.native_handle(), 1000000000) == BRAID_EINVAL);
    // and from inside a task, as Tokio calls it
    int code = rt.block_on([]() -> braid::Task<int> {
        co_return braid_runtime_advance(braid_runtime_current(), 1000000000);
    }());
    REQUIRE(code == BRAID_EINVAL);
}

TEST_CASE("test_clock.resume_lets_time_move_forward_instead_of_resetting_it") {
    braid::test::run([]() -> braid::Task<> {
        auto start = braid::Instant::now();
        braid::time::pause();
        co_await braid::time::advance(5s);
        auto advanced_by_ten_mins = braid::Instant::now();
        braid::time::resume();
        co_await braid::sleep(1ms);
        EXPECT(advanced_by_ten_mins < braid::Instant::now());
        EXPECT(braid::Instant::now() - start >= 5s);
    });
}

TEST_CASE("test_clock.can_pause_after_resume") {
    braid::test::run([]() -> braid::Task<> {
        auto start = braid::Instant::now();
        braid::time::pause();
        co_await braid::time::advance(10min);
        braid::time::resume();
        braid::time::pause();
        co_await braid::time::advance(10min);
        EXPECT(braid::Instant::now() - start >= 20min);
    });
}

// Tokio panics; braid throws braid::Error(BRAID_EINVAL).
TEST_CASE("test_clock.freezing_time_while_frozen_panics") {
    braid::test::run([]() -> braid::Task<> {
        braid::time::pause();
        EXPECT(braid_test::error_code_of([] { braid::time::pause(); }) == BRAID_EINVAL);
        co_return;
    });
}

TEST_CASE("test_clock.resuming_time_when_not_frozen_panics") {
    braid::test::run([]() -> braid::Task<> {
        EXPECT(braid_test::error_code_of([] { braid::time::resume(); }) == BRAID_EINVAL);
        co_return;
    });
}

}  // namespace conformance_test_clock
