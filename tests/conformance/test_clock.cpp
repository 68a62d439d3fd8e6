// Tokio's tests/test_clock.rs, ported.
//
// Gaps:
//   resume_lets_time_move_forward_instead_of_resetting_it: no pause() /
//     resume(): braid's clock is paused when the runtime is built.
//   can_pause_after_resume: the same.
//   freezing_time_while_frozen_panics: the same (no pause() to call twice).
//   resuming_time_when_not_frozen_panics: the same (no resume()).
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <chrono>

#include "support.hpp"

using namespace std::chrono_literals;

// Tokio panics; braid refuses with BRAID_EINVAL (braid::Error in C++).
TEST_CASE("advancing_time_when_time_is_not_frozen_panics") {
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
