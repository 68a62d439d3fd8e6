// Tokio's tests/time_panic.rs, ported: what is left of it in braid.  Each
// Tokio case checks that a time API's panic is reported at the caller's
// line (#[track_caller]); the location is Rust's.  What braid has of the
// behaviour under it: an interval with a zero period is refused, to the
// caller, with braid::Error(BRAID_EINVAL) (before any runtime is needed).
//
// Gaps:
//   pause_panic_caller: no runtime-wide pause(): braid's clock is paused
//     when the runtime is built (start_paused), so there is no second
//     pause() to refuse.
//   resume_panic_caller: no resume() either (a paused runtime stays paused).
//
// Not applicable:
//   timeout_panic_caller: a runtime built without the time driver
//     (Tokio's enable_time left out); every braid runtime has a clock.
//   (every case) the panic's source location (#[track_caller]) is Rust's;
//     braid::Error carries a code and a message, not a location.
#include <catch2/catch.hpp>

#include <chrono>

#include "support.hpp"

using namespace std::chrono_literals;

TEST_CASE("interval_panic_caller") {
    // Off any runtime, as in Tokio: the period is checked first.
    REQUIRE(braid_test::error_code_of([] { (void)braid::interval(0ms); }) == BRAID_EINVAL);
}

TEST_CASE("interval_at_panic_caller") {
    REQUIRE(braid_test::error_code_of([] { (void)braid::interval_at(braid::Instant::now(), 0ms); }) ==
            BRAID_EINVAL);
}
