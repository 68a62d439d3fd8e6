// Tokio's tests/macros_test.rs, ported: what the #[tokio::test] attribute
// gives a test (a current-thread runtime, braid_test's
// current_thread_runtime()) runs a task spawned from it to completion.  The
// rest of the file checks how the Rust attribute macros expand.
//
// Gaps: none.
//
// Not applicable:
//   test_macro_is_resilient_to_shadowing: the attribute keeps working when
//     a local `test` name shadows it (Rust macro hygiene); its body is
//     test_macro_can_be_used_via_use's.
//   unused_braces_test, unused_braces_main: a lint on the expansion.
//   trait_method: #[tokio::main] on a trait method.
//   issue_4175_test, issue_4175_main_1, issue_4175_main_2: the attribute on
//     functions returning `!` or io::Result.
//   clippy_semicolon_if_nothing_returned: a clippy lint on the expansion.
//   issue_5243::foo: the attribute inside a macro_rules! expansion.
#include <catch2/catch.hpp>

#include "support.hpp"

namespace conformance_macros_test {

TEST_CASE("macros_test.test_macro_can_be_used_via_use") {
    braid_test::current_thread_runtime().block_on([]() -> braid::Task<> {
        bool ran = false;
        co_await braid::spawn([](bool* ran) -> braid::Task<> {
            *ran = true;
            co_return;
        }(&ran));
        EXPECT(ran);
    }());
}

}  // namespace conformance_macros_test
