// Conformance: tokio/tests/signal_drop_signal.rs (Tokio 1.24), ported from
// what the case asserts: dropping listeners of a signal leaves the others
// hearing it, whatever the order they were made in.  #[tokio::test]: a
// current-thread runtime.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <csignal>
#include <optional>
#include <unistd.h>

#include "support.hpp"

namespace conformance_signal_drop_signal {

using braid::signal::Signal;

TEST_CASE("signal_drop_signal.dropping_signal_does_not_deregister_any_other_instances") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        // signals should not starve based on ordering
        std::optional<Signal> first_duplicate_signal(std::in_place, SIGUSR1);
        Signal sig(SIGUSR1);
        std::optional<Signal> second_duplicate_signal(std::in_place, SIGUSR1);

        first_duplicate_signal.reset();
        second_duplicate_signal.reset();

        EXPECT(::kill(::getpid(), SIGUSR1) == 0);
        co_await sig.recv();
    }());
}

}  // namespace conformance_signal_drop_signal
