// Conformance: tokio/tests/signal_twice.rs (Tokio 1.24), ported from what
// the case asserts: one listener hears two deliveries, one after the other.
// #[tokio::test]: a current-thread runtime.  Tokio's recv() gives None
// once the driver is gone; braid's throws then, so "is_some()" is "does not
// throw".
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <csignal>
#include <unistd.h>

#include "support.hpp"

namespace conformance_signal_twice {

TEST_CASE("signal_twice.twice") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid::signal::Signal sig(SIGUSR1);
        for (int i = 0; i < 2; ++i) {
            EXPECT(::kill(::getpid(), SIGUSR1) == 0);
            int code = co_await braid_test::code_of(sig.recv());
            EXPECT(code == 0);
        }
    }());
}

}  // namespace conformance_signal_twice
