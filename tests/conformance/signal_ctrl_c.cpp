// Conformance: tokio/tests/signal_ctrl_c.rs (Tokio 1.24), ported from what
// the case asserts.  #[tokio::test]: a current-thread runtime.  SIGINT is
// sent to this process only after ctrl_c() is listening (and braid's
// handler stays installed afterwards, as Tokio's does).
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <csignal>
#include <unistd.h>

#include "support.hpp"

namespace conformance_signal_ctrl_c {

TEST_CASE("signal_ctrl_c.ctrl_c") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto ctrl_c = braid::signal::ctrl_c();  // listening from here on

        auto [fire, wait] = braid::oneshot::channel<int>();

        // a signal coming in, once the test says so
        auto sender = braid::spawn([](braid::oneshot::Receiver<int> wait) -> braid::Task<> {
            co_await std::move(wait);
            EXPECT(::kill(::getpid(), SIGINT) == 0);
        }, std::move(wait));

        EXPECT(!fire.send(1).has_value());

        co_await std::move(ctrl_c);
        co_await sender;
    }());
}

}  // namespace conformance_signal_ctrl_c
