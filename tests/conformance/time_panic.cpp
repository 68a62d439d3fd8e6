// Tokio's tests/time_panic.rs, ported: what is left of it in braid.  Each
// Tokio case checks that a time API's panic is reported at the caller's
// line (#[track_caller]); the location is Rust's.  What braid has of the
// behaviour under it: an interval with a zero period is refused, to the
// caller, with braid::Error(BRAID_EINVAL) (before any runtime is needed).
//
// Gaps: none.
//
// Not applicable:
//   timeout_panic_caller: a runtime built without the time driver
//     (Tokio's enable_time left out); every braid runtime has a clock.
//   (every case) the panic's source location (#[track_caller]) is Rust's;
//     braid::Error carries a code and a message, not a location.
#include <catch2/catch.hpp>

#include <chrono>

#include "support.hpp"

namespace conformance_time_panic {

using namespace std::chrono_literals;

TEST_CASE("time_panic.interval_panic_caller") {
    // Off any runtime, as in Tokio: the period is checked first.
    REQUIRE(braid_test::error_code_of([] { (void)braid::interval(0ms); }) == BRAID_EINVAL);
}

TEST_CASE("time_panic.interval_at_panic_caller") {
    REQUIRE(braid_test::error_code_of([] { (void)braid::interval_at(braid::Instant::now(), 0ms); }) ==
            BRAID_EINVAL);
}

// Tokio panics (at the caller's line); braid throws braid::Error(BRAID_EINVAL).
TEST_CASE("time_panic.pause_panic_caller") {
    auto rt = braid::Runtime::builder().current_thread().build();
    int code = rt.block_on([]() -> braid::Task<int> {
        braid::time::pause();
        co_return braid_test::error_code_of([] { braid::time::pause(); });
    }());
    REQUIRE(code == BRAID_EINVAL);
}

TEST_CASE("time_panic.resume_panic_caller") {
    auto rt = braid::Runtime::builder().current_thread().build();
    int code = rt.block_on([]() -> braid::Task<int> {
        co_return braid_test::error_code_of([] { braid::time::resume(); });
    }());
    REQUIRE(code == BRAID_EINVAL);
}

}  // namespace conformance_time_panic
