// Tokio 1.24, tests/rt_handle_block_on.rs: Handle::block_on, called inside
// a runtime context entered with Runtime::enter, before and after the
// runtime shut down.  braid has neither Handle::block_on nor
// Runtime::enter, so most of the file waits for them; what remains is a
// handle that outlives its runtime.
//
// Gaps:
//   basic — no Handle::block_on, no Runtime::enter
//   bounded_mpsc_channel — no Handle::block_on, no Runtime::enter
//   unbounded_mpsc_channel — no Handle::block_on, no Runtime::enter
//   basic_fs — no Handle::block_on, no Runtime::enter
//   fs_shutdown_before_started — no Handle::block_on, no Runtime::enter
//   basic_spawn_blocking — no Handle::block_on, no Runtime::enter
//   spawn_blocking_after_shutdown_fails — no Handle::block_on, no Runtime::enter
//   spawn_blocking_started_before_shutdown_continues — no Handle::block_on, no Runtime::enter
//   tcp_listener_bind — no Handle::block_on, no Runtime::enter
//   tcp_listener_connect_after_shutdown — no Handle::block_on, no Runtime::enter (#[ignore]d in Tokio)
//   tcp_listener_connect_before_shutdown — no Handle::block_on, no Runtime::enter (#[ignore]d in Tokio)
//   udp_socket_bind — no Handle::block_on, no Runtime::enter
//   udp_stream_bind_after_shutdown — no Handle::block_on, no Runtime::enter (#[ignore]d in Tokio)
//   udp_stream_bind_before_shutdown — no Handle::block_on, no Runtime::enter (#[ignore]d in Tokio)
//   unix_listener_bind_after_shutdown — no Runtime::enter (#[ignore]d in Tokio)
//   unix_listener_shutdown_after_bind — no Handle::block_on, no Runtime::enter (#[ignore]d in Tokio)
//   unix_listener_shutdown_after_accept — no Handle::block_on, no Runtime::enter (#[ignore]d in Tokio)
//   nesting — no Handle::block_on
//   unix_listener_bind — no Handle::block_on, no Runtime::enter
//   sleep — no Handle::block_on, no Runtime::enter
//   sleep_before_shutdown_panics — no Handle::block_on, no Runtime::enter
//   sleep_after_shutdown_panics — no Handle::block_on, no Runtime::enter
#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>

#include "support.hpp"

using braid_test::pending;

namespace {

enum class Flavor { CurrentThread, MultiThread4, MultiThread1 };

const char* name(Flavor f) {
    switch (f) {
        case Flavor::CurrentThread: return "current_thread";
        case Flavor::MultiThread4: return "multi_thread(4)";
        case Flavor::MultiThread1: return "multi_thread(1)";
    }
    return "?";
}

braid::Runtime make(Flavor f) {
    switch (f) {
        case Flavor::CurrentThread: return braid::Runtime::builder().current_thread().build();
        case Flavor::MultiThread4: return braid::Runtime::builder().worker_threads(4).build();
        case Flavor::MultiThread1: return braid::Runtime::builder().worker_threads(1).build();
    }
    throw std::logic_error("flavor");
}

}  // namespace

// A handle taken inside the runtime outlives it.  A task spawned before the
// runtime was dropped is cancelled by the drop.  A spawn after it: Tokio
// hands back a join handle that reports cancellation; braid refuses the
// spawn itself with braid::Error(BRAID_ESHUTDOWN) (include/braid/spawn.hpp);
// either answer is checked in full.
TEST_CASE("spawn_after_runtime_dropped") {
    auto flavor = GENERATE(Flavor::CurrentThread, Flavor::MultiThread4, Flavor::MultiThread1);
    INFO("flavour: " << name(flavor));
    auto rt = std::make_unique<braid::Runtime>(make(flavor));

    auto handle = rt->block_on([]() -> braid::Task<braid::Handle> { co_return braid::Handle::current(); }());

    auto jh1 = handle.spawn([]() -> braid::Task<> { co_await pending(); }());

    rt.reset();

    try {
        auto jh2 = handle.spawn([]() -> braid::Task<> { co_await pending(); }());
        // Tokio's answer: a task that never ran, reported as cancelled.
        REQUIRE(jh2.is_finished());
        REQUIRE_THROWS_AS(jh2.take(), braid::TaskCancelled);
    } catch (const braid::Error& e) {
        // braid's: the spawn is refused.
        REQUIRE(e.code() == BRAID_ESHUTDOWN);
    }

    REQUIRE(jh1.is_finished());
    REQUIRE_THROWS_AS(jh1.take(), braid::TaskCancelled);
}
