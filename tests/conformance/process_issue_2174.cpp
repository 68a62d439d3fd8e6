// Conformance: tokio/tests/process_issue_2174.rs (Tokio 1.24), ported from
// what the case asserts: a task writing to a child's stdin that waits for
// room (the pipe is full) is woken when the child dies, and fails, instead
// of waiting forever.  #[tokio::test]: a current-thread runtime.  Tokio
// spawns the writer and sleeps a second so that the pipe fills; here the
// writer is polled by hand (braid_test::PollByHand over the task as a
// one-item stream): its first poll writes until the pipe is full and
// leaves it waiting, which is the state Tokio's sleep aims for.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <array>
#include <csignal>

#include "support.hpp"

namespace conformance_process_issue_2174 {

using braid::process::ChildStdin;
using braid::process::Command;
using braid::process::Stdio;

TEST_CASE("process_issue_2174.issue_2174") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid::process::Child child = Command("/bin/sleep")
                                          .arg("3600")
                                          .set_stdin(Stdio::piped())
                                          .set_stdout(Stdio::null())
                                          .kill_on_drop(true)
                                          .spawn();
        ChildStdin input = *child.take_stdin();

        // writes until it fails; the pipe holds 64 KiB
        auto writer = [](ChildStdin input) -> braid::Task<int> {
            std::array<char, 8192> data{};
            for (;;) co_await input.write_all(data);
            co_return 0;
        }(std::move(input));
        auto stream = braid_test::as_stream(std::move(writer));
        braid_test::PollByHand handle(stream);

        // the pipe is full: the writer waits for room
        EXPECT(handle.poll_next().is_pending());

        auto status = co_await child.kill();
        EXPECT(status.signal() == SIGKILL);

        // the reader is gone: the writer is woken, and its write fails
        while (!handle.is_woken()) co_await braid::yield_now();
        int code = 0;
        try {
            handle.poll_next();
        } catch (const braid::Error& e) {
            code = e.code();
        }
        EXPECT(code == BRAID_EPIPE);
    }());
}

}  // namespace conformance_process_issue_2174
