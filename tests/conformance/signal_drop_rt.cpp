// Conformance: tokio/tests/signal_drop_rt.rs (Tokio 1.24), ported from what
// the case asserts: two runtimes listen for one signal; dropping the first
// runtime (then its listener) leaves the second hearing the signal.  Both
// runtimes are current-thread ones, as in Tokio.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <csignal>
#include <optional>
#include <unistd.h>

#include "support.hpp"

namespace conformance_signal_drop_rt {

using braid::signal::Signal;

namespace {
braid::Runtime rt() {
    return braid::Runtime::builder().current_thread().build();
}
braid::Task<Signal> listen(int signum) {
    co_return Signal(signum);
}
braid::Task<> recv(Signal& s) {
    co_await s.recv();
}
}  // namespace

TEST_CASE("signal_drop_rt.dropping_loops_does_not_cause_starvation") {
    std::optional<braid::Runtime> first_rt(rt());
    std::optional<Signal> first_signal(first_rt->block_on(listen(SIGUSR1)));

    braid::Runtime second_rt = rt();
    Signal second_signal = second_rt.block_on(listen(SIGUSR1));

    REQUIRE(::kill(::getpid(), SIGUSR1) == 0);

    first_rt->block_on(recv(*first_signal));

    first_rt.reset();
    first_signal.reset();

    REQUIRE(::kill(::getpid(), SIGUSR1) == 0);

    second_rt.block_on(recv(second_signal));
}

}  // namespace conformance_signal_drop_rt
