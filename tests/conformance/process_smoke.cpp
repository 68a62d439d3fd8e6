// Conformance: tokio/tests/process_smoke.rs (Tokio 1.24), ported from what
// the case asserts.  #[tokio::test]: a current-thread runtime.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include "support.hpp"

namespace conformance_process_smoke {

using braid::process::Command;

TEST_CASE("process_smoke.simple") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        Command cmd("/bin/sh");
        cmd.arg("-c");
        braid::process::Child child = cmd.arg("exit 2").spawn();

        EXPECT(child.id().value_or(0) > 0);

        braid::process::ExitStatus status = co_await child.wait();
        EXPECT(status.code() == 2);

        // can't get id after process has exited (reaped: the pid may be another's)
        EXPECT(!child.id().has_value());

        // wait() is fused: the same status again
        status = co_await child.wait();
        EXPECT(status.code() == 2);

        // killing a child that exited is no error
        child.start_kill();
    }());
}

}  // namespace conformance_process_smoke
