// Conformance: tokio/tests/signal_no_rt.rs (Tokio 1.24), ported from what
// the case asserts.  Tokio's #[should_panic] case makes a signal listener
// where no runtime runs; braid reports that misuse by throwing
// braid::Error, so the case is ported as "throws" (and checks that nothing
// was installed for the signal).
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <csignal>

#include "support.hpp"

namespace conformance_signal_no_rt {

TEST_CASE("signal_no_rt.no_runtime_panics_creating_signals") {
    struct sigaction before {};
    REQUIRE(::sigaction(SIGHUP, nullptr, &before) == 0);

    int code = braid_test::error_code_of([] { braid::signal::Signal s(SIGHUP); });
    REQUIRE(code == BRAID_EINVAL);

    struct sigaction after {};
    REQUIRE(::sigaction(SIGHUP, nullptr, &after) == 0);
    REQUIRE(after.sa_handler == before.sa_handler);  // no handler was installed
}

}  // namespace conformance_signal_no_rt
