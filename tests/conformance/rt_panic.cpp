// Tokio 1.24, tests/rt_panic.rs: misuse of the runtime API panics, and the
// panic names the caller's file (#[track_caller]).  A C++ exception has no
// caller location to check; what is ported is the misuse being reported
// where it happens: braid throws braid::Error from the call itself.
#include <catch2/catch.hpp>

#include "support.hpp"

namespace conformance_rt_panic {

using braid_test::pending;

TEST_CASE("rt_panic.current_handle_panic_caller") {
    // Not on a runtime thread: Handle::current() throws.
    int code = braid_test::error_code_of([] { (void)braid::Handle::current(); });
    REQUIRE(code == BRAID_EINVAL);
}

TEST_CASE("rt_panic.into_panic_panic_caller") {
    // The error of an aborted task is a cancellation, not a panic: awaiting
    // it throws braid::TaskCancelled, not the task's own exception.
    auto rt = braid::Runtime::builder().current_thread().build();
    rt.block_on([]() -> braid::Task<> {
        auto handle = braid::spawn([]() -> braid::Task<> { co_await pending(); }());

        handle.abort();

        bool cancelled = false;
        try {
            co_await handle;
        } catch (const braid::TaskCancelled&) {
            cancelled = true;
        }
        EXPECT(cancelled);
    }());
}

TEST_CASE("rt_panic.builder_worker_threads_panic_caller") {
    int code = braid_test::error_code_of([] { (void)braid::Runtime::builder().worker_threads(0).build(); });
    REQUIRE(code == BRAID_EINVAL);
}

TEST_CASE("rt_panic.builder_max_blocking_threads_panic_caller") {
    int code = braid_test::error_code_of([] { (void)braid::Runtime::builder().max_blocking_threads(0).build(); });
    REQUIRE(code == BRAID_EINVAL);
}

}  // namespace conformance_rt_panic
