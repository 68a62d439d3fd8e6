// Conformance: tokio/tests/signal_notify_both.rs (Tokio 1.24), ported from
// what the case asserts: two listeners of one signal both hear one
// delivery.  #[tokio::test]: a current-thread runtime.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <csignal>
#include <unistd.h>

#include "support.hpp"

namespace conformance_signal_notify_both {

TEST_CASE("signal_notify_both.notify_both") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid::signal::Signal signal1(SIGUSR2);
        braid::signal::Signal signal2(SIGUSR2);

        EXPECT(::kill(::getpid(), SIGUSR2) == 0);

        co_await signal1.recv();
        co_await signal2.recv();
    }());
}

}  // namespace conformance_signal_notify_both
