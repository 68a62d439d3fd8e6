// Conformance: tokio/tests/signal_usr1.rs (Tokio 1.24), ported from what the
// case asserts.  #[tokio::test]: a current-thread runtime.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <csignal>
#include <unistd.h>

#include "support.hpp"

namespace conformance_signal_usr1 {

TEST_CASE("signal_usr1.signal_usr1") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid::signal::Signal signal(SIGUSR1);
        EXPECT(::kill(::getpid(), SIGUSR1) == 0);
        co_await signal.recv();
    }());
}

}  // namespace conformance_signal_usr1
