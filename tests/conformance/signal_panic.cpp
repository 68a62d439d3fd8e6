// Conformance: tokio/tests/signal_panic.rs (Tokio 1.24), ported from what
// the case asserts.  Tokio's case listens for an invalid signal number
// (SignalKind::from_raw(-1)) and checks that the panic names the caller's
// file (#[track_caller]); braid reports the bad number by throwing
// braid::Error(BRAID_EINVAL) from the call (the caller's own frame), so the
// case is ported as "throws".  The panic's location is Rust's alone.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include "support.hpp"

namespace conformance_signal_panic {

TEST_CASE("signal_panic.signal_panic_caller") {
    auto rt = braid_test::current_thread_runtime();
    int code = rt.block_on([]() -> braid::Task<int> {
        co_return braid_test::error_code_of([] { braid::signal::Signal s(-1); });
    }());
    REQUIRE(code == BRAID_EINVAL);
}

}  // namespace conformance_signal_panic
