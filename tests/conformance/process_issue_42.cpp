// Conformance: tokio/tests/process_issue_42.rs (Tokio 1.24), ported from
// what the case asserts: batches of children that exit at about the same
// time are all seen to exit (one child's exit event does not starve
// another's).  #[tokio::test]: a current-thread runtime; futures' join_all
// is braid::join_all.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "support.hpp"

namespace conformance_process_issue_42 {

using braid::process::Child;
using braid::process::Command;
using braid::process::ExitStatus;
using braid::process::Stdio;

namespace {
braid::Task<ExitStatus> wait_for(Child child) {
    co_return co_await child.wait();
}

braid::Task<> batch() {
    std::vector<braid::Task<ExitStatus>> processes;
    for (int i = 0; i < 10; ++i) {
        Child child = Command("/bin/echo")
                          .arg("I am spawned process #" + std::to_string(i))
                          .set_stdin(Stdio::null())
                          .set_stdout(Stdio::null())
                          .set_stderr(Stdio::null())
                          .kill_on_drop(true)
                          .spawn();
        processes.push_back(wait_for(std::move(child)));
    }
    std::vector<ExitStatus> statuses = co_await braid::join_all(std::move(processes));
    for (const auto& s : statuses) EXPECT(s.success());
}
}  // namespace

TEST_CASE("process_issue_42.issue_42") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        std::vector<braid::JoinHandle<void>> join_handles;
        for (int i = 0; i < 10; ++i) join_handles.push_back(braid::spawn(batch()));
        for (auto& h : join_handles) co_await h;
    }());
}

}  // namespace conformance_process_issue_42
