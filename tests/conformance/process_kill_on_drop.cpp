// Conformance: tokio/tests/process_kill_on_drop.rs (Tokio 1.24), ported from
// what the case asserts: dropping a Child made with kill_on_drop(true)
// kills it (it never prints "hello from beyond the grave"), kills only it
// (a grandchild it started runs on), and the stdout taken from it stays
// readable to its end.  #[tokio::test]: a current-thread runtime.
//
// Tokio's script is timed by sleeps (the grandchild writes after 1 s, the
// test drops the child after 2 s, the child would write after 5 s); here
// it is ordered by pipes instead: the child (sh, not bash) starts the
// grandchild, says "ready" on stderr and waits for it; the test drops the
// child once it read "ready", then lets the grandchild go by writing a line
// to the stdin the grandchild kept (fd 3).  Were the child alive, it would
// print its line when the grandchild exits.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "support.hpp"

namespace conformance_process_kill_on_drop {

using braid::process::Command;
using braid::process::Stdio;

TEST_CASE("process_kill_on_drop.kill_on_drop") {
    auto rt = braid_test::current_thread_runtime();
    std::string msg = rt.block_on([]() -> braid::Task<std::string> {
        Command cmd("/bin/sh");
        cmd.args({"-c",
                  "exec 3<&0\n"
                  "sh -c 'read line <&3; echo child ran' &\n"
                  "echo ready >&2\n"
                  "wait\n"
                  "echo hello from beyond the grave\n"});
        cmd.kill_on_drop(true).set_stdin(Stdio::piped()).set_stdout(Stdio::piped()).set_stderr(Stdio::piped());

        std::optional<braid::process::Child> child(cmd.spawn());
        auto in = *child->take_stdin();
        auto out = *child->take_stdout();
        auto err = *child->take_stderr();

        char ready[6];
        co_await err.read_exact(ready);
        EXPECT(std::string(ready, sizeof ready) == "ready\n");

        child.reset();  // killed, not the grandchild

        co_await in.write_all("go\n");
        co_return co_await braid::io::read_to_string(out);
    }());
    REQUIRE(msg == "child ran\n");
}

}  // namespace conformance_process_kill_on_drop
