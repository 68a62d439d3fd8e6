// Conformance: tokio/tests/signal_drop_recv.rs (Tokio 1.24), ported from
// what the case asserts: a signal delivered after its only listener was
// dropped does not end the process (the handler stays installed), and a
// listener made afterwards hears the signal.  #[tokio::test]: a
// current-thread runtime.
//
// In Tokio the delivery made while nobody listens reaches the new listener
// when the driver gets to it after that listener exists (on a
// current-thread runtime, at the first await); in braid a delivery with no
// listener is dropped when the reactor sees it, which may be before the
// new listener exists (docs/io.md).  So the new listener's recv() is given
// a delivery of its own: raised after it exists.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <csignal>
#include <unistd.h>

#include "support.hpp"

namespace conformance_signal_drop_recv {

TEST_CASE("signal_drop_recv.drop_then_get_a_signal") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        {
            braid::signal::Signal sig(SIGUSR1);
        }  // dropped

        EXPECT(::kill(::getpid(), SIGUSR1) == 0);  // nobody listens: ignored, not fatal
        braid::signal::Signal sig(SIGUSR1);
        EXPECT(::kill(::getpid(), SIGUSR1) == 0);

        co_await sig.recv();
    }());
}

}  // namespace conformance_signal_drop_recv
