// Tokio 1.24, tests/rt_metrics.rs (tokio_unstable): the runtime's metrics,
// against braid's (Runtime::metrics(), Handle::metrics(): braid/metrics.hpp;
// docs/observability.md).  Tokio reads its metrics after dropping the
// runtime; braid's Handle::metrics() does the same.
//
// Gaps:
//   worker_noop_count — braid counts no unparks that found no work (no no-op counter); Tokio's check also
//     counts the timer's wake-up of its block_on future as one (no task runs there), where braid runs block_on's task
//   io_driver_fd_count — braid counts no file descriptors registered with or deregistered from its I/O
//     driver (no such counters; Tokio's io_driver_fd_registered_count / io_driver_fd_deregistered_count)
//
// Differs:
//   remote_schedule_count, worker_local_schedule_count — braid's block_on
//     future is a task scheduled from the calling thread: one more remote
//     schedule, and its wake-ups by the tasks it awaits are local
//     schedules (Tokio's block_on future is no task).
//   worker_overflow_count — on a current-thread runtime (its worker has the
//     same bounded local queue), where nobody steals meanwhile: exact
//     without blocking a second worker as Tokio's does.
//   worker_poll_count, worker_local_queue_depth — braid's block_on runs its
//     future as a task of the runtime, so its polls are counted too (Tokio's
//     block_on future is no task): the checks are "at least" where Tokio's
//     are exact; a task just spawned may sit in the worker's LIFO slot,
//     which braid's local_queue_depth does not count.
//   worker_steal_count — a steal takes up to half of the victim's queue at
//     once; the check is that the blocked worker's tasks were stolen (>= 1).
//   io_driver_ready_count — Tokio connects to google.com:80; the port
//     connects to a local listener (no network in tests).
#include <catch2/catch.hpp>

#include <braid/net/tcp.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "support.hpp"

namespace conformance_rt_metrics {

using namespace std::chrono_literals;

namespace {

braid::Runtime current_thread() { return braid::Runtime::builder().current_thread().build(); }

braid::Runtime threaded() { return braid::Runtime::builder().worker_threads(2).build(); }

}  // namespace

TEST_CASE("rt_metrics.num_workers") {
    auto rt = current_thread();
    REQUIRE(rt.worker_count() == 1);

    auto rt2 = threaded();
    REQUIRE(rt2.worker_count() == 2);
}

namespace {

// Waits (on this plain thread) until the runtime's metrics satisfy `done`:
// for gauges a thread updates after the job it reports on has finished.
// The metrics once the runtime is gone (Tokio reads them after dropping it).
braid::RuntimeMetrics metrics_after_drop(braid::Runtime rt) {
    auto h = rt.handle();
    { auto gone = std::move(rt); }
    return h.metrics();
}

// A worker field summed over the workers (and checked against the
// runtime-wide sum `total`).
uint64_t per_worker_sum(const braid::RuntimeMetrics& m, uint64_t braid_worker_metrics::*field, uint64_t total) {
    uint64_t sum = 0;
    for (auto& w : m.worker) sum += w.*field;
    REQUIRE(sum == total);
    return sum;
}

template <class Done>
braid::RuntimeMetrics wait_for_metrics(const braid::Handle& h, Done done) {
    auto m = h.metrics();
    auto give_up = std::chrono::steady_clock::now() + 60s;  // a bound against a hang, not a timing
    while (!done(m) && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::yield();
        m = h.metrics();
    }
    return m;
}

}  // namespace

TEST_CASE("rt_metrics.num_blocking_threads") {
    for (bool threaded_rt : {false, true}) {
        auto rt = threaded_rt ? threaded() : current_thread();
        auto h = rt.handle();
        REQUIRE(h.metrics().blocking_threads == 0);
        rt.block_on([]() -> braid::Task<> { co_await braid::spawn_blocking([] {}); }());
        REQUIRE(h.metrics().blocking_threads == 1);
    }
}

TEST_CASE("rt_metrics.num_idle_blocking_threads") {
    auto rt = current_thread();
    auto h = rt.handle();
    REQUIRE(h.metrics().blocking_idle == 0);
    rt.block_on([]() -> braid::Task<> { co_await braid::spawn_blocking([] {}); }());
    // The thread turns idle once the job's result is delivered.
    auto m = wait_for_metrics(h, [](const braid::RuntimeMetrics& m) { return m.blocking_idle == 1; });
    REQUIRE(m.blocking_idle == 1);
    REQUIRE(m.blocking_threads == 1);
}

TEST_CASE("rt_metrics.blocking_queue_depth") {
    auto rt = braid::Runtime::builder().current_thread().max_blocking_threads(1).build();
    auto h = rt.handle();
    REQUIRE(h.metrics().blocking_queued == 0);
    std::mutex ready;
    std::unique_lock<std::mutex> guard(ready);
    auto wait_until_ready = [&ready] { std::lock_guard<std::mutex> g(ready); };
    auto h1 = h.spawn_blocking(wait_until_ready);
    auto h2 = h.spawn_blocking(wait_until_ready);
    // One thread at most: the second job waits for it.
    REQUIRE(h.metrics().blocking_queued > 0);
    guard.unlock();
    rt.block_on([](braid::JoinHandle<void> a, braid::JoinHandle<void> b) -> braid::Task<> {
        co_await a;
        co_await b;
    }(std::move(h1), std::move(h2)));
    REQUIRE(h.metrics().blocking_queued == 0);
}

TEST_CASE("rt_metrics.worker_park_count") {
    for (bool threaded_rt : {false, true}) {
        auto rt = threaded_rt ? threaded() : current_thread();
        rt.block_on([]() -> braid::Task<> { co_await braid::sleep(1ms); }());  // waits for the timer: parks
        auto m = metrics_after_drop(std::move(rt));
        REQUIRE(per_worker_sum(m, &braid_worker_metrics::parks, m.parks) >= 1);
    }
}

TEST_CASE("rt_metrics.worker_steal_count") {
    auto rt = threaded();
    rt.block_on([]() -> braid::Task<> {
        co_await braid::spawn([]() -> braid::Task<> {
            std::promise<void> sent;
            auto received = sent.get_future();
            // Queued on this worker, which then blocks: only a steal runs it.
            braid::spawn([](std::promise<void> sent) -> braid::Task<> {
                sent.set_value();
                co_return;
            }(std::move(sent))).detach();
            braid::spawn([]() -> braid::Task<> { co_return; }()).detach();  // bumps it out of the LIFO slot
            received.wait();  // blocks the worker
            co_return;
        }());
    }());
    auto m = metrics_after_drop(std::move(rt));
    REQUIRE(per_worker_sum(m, &braid_worker_metrics::steals, m.steals) >= 1);
}

TEST_CASE("rt_metrics.worker_poll_count") {
    constexpr uint64_t N = 100;
    for (bool threaded_rt : {false, true}) {
        auto rt = threaded_rt ? threaded() : current_thread();
        rt.block_on([]() -> braid::Task<> {
            std::vector<braid::JoinHandle<void>> handles;
            for (uint64_t i = 0; i < N; ++i) handles.push_back(braid::spawn([]() -> braid::Task<> { co_return; }()));
            for (auto& j : handles) co_await j;
        }());
        auto m = metrics_after_drop(std::move(rt));
        REQUIRE(per_worker_sum(m, &braid_worker_metrics::polls, m.polls) >= N + 1);  // each task once, and block_on's task
    }
}

TEST_CASE("rt_metrics.worker_total_busy_duration") {
    constexpr int N = 5;
    for (bool threaded_rt : {false, true}) {
        auto rt = threaded_rt ? threaded() : current_thread();
        rt.block_on([]() -> braid::Task<> {
            for (int i = 0; i < N; ++i) co_await braid::spawn([]() -> braid::Task<> { co_await braid::yield_now(); }());
        }());
        auto m = metrics_after_drop(std::move(rt));
        REQUIRE(per_worker_sum(m, &braid_worker_metrics::busy_ns, m.busy_ns) > 0);
        REQUIRE(m.busy() > std::chrono::nanoseconds(0));
    }
}

TEST_CASE("rt_metrics.injection_queue_depth") {
    auto rt = current_thread();
    auto h = rt.handle();
    // Spawned from outside the runtime while nothing runs it: queued in
    // the inject queue.
    auto j = h.spawn([]() -> braid::Task<> { co_return; }());
    REQUIRE(h.metrics().inject_queue_depth == 1);
    rt.block_on([](braid::JoinHandle<void> j) -> braid::Task<> { co_await j; }(std::move(j)));
    REQUIRE(h.metrics().inject_queue_depth == 0);
}

TEST_CASE("rt_metrics.worker_local_queue_depth") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        for (int i = 0; i < 100; ++i) braid::spawn([]() -> braid::Task<> { co_return; }()).detach();
        auto m = braid::Handle::current().metrics();
        EXPECT(m.worker[0].local_queue_depth >= 99);  // the last one may sit in the LIFO slot
        EXPECT(m.worker[0].local_queue_depth <= 100);
        EXPECT(m.local_queue_depth == m.worker[0].local_queue_depth);
        co_return;
    }());
}

TEST_CASE("rt_metrics.io_driver_ready_count") {
    auto rt = current_thread();
    auto h = rt.handle();
    uint64_t before = h.metrics().io_events;
    rt.block_on([]() -> braid::Task<> {
        auto listener = braid::net::TcpListener::bind("127.0.0.1:0");
        auto addr = listener.local_addr();
        auto accepted = braid::spawn([](braid::net::TcpListener& l) -> braid::Task<> {
            auto conn = co_await l.accept();  // waits for the connection: a readiness event
            (void)conn;
        }(listener));
        co_await braid::yield_now();  // the accept waits first
        auto stream = co_await braid::net::TcpStream::connect(addr);
        co_await accepted;
    }());
    REQUIRE(h.metrics().io_events >= before + 1);
}

TEST_CASE("rt_metrics.remote_schedule_count") {
    for (bool threaded_rt : {false, true}) {
        auto rt = threaded_rt ? threaded() : current_thread();
        auto h = rt.handle();
        std::optional<braid::JoinHandle<void>> task;
        std::thread([&] { task = h.spawn([]() -> braid::Task<> { co_return; }()); }).join();
        rt.block_on([](braid::JoinHandle<void> t) -> braid::Task<> { co_await t; }(std::move(*task)));
        // The spawn from the other thread, and block_on's task.
        REQUIRE(h.metrics().remote_schedules == 2);
    }
}

TEST_CASE("rt_metrics.worker_local_schedule_count") {
    {
        auto rt = current_thread();
        rt.block_on([]() -> braid::Task<> { co_await braid::spawn([]() -> braid::Task<> { co_return; }()); }());
        auto m = metrics_after_drop(std::move(rt));
        // The spawn, and the wake-up of block_on's task when it finished.
        REQUIRE(m.worker[0].local_schedules == 2);
        REQUIRE(m.local_schedules == 2);
        REQUIRE(m.remote_schedules == 1);  // block_on's task
    }
    {
        auto rt = threaded();
        rt.block_on([]() -> braid::Task<> {
            co_await braid::spawn([]() -> braid::Task<> {
                co_await braid::spawn([]() -> braid::Task<> { co_return; }());
            }());
        }());
        auto m = metrics_after_drop(std::move(rt));
        uint64_t local = per_worker_sum(m, &braid_worker_metrics::local_schedules, m.local_schedules);
        // Two spawns from tasks, and up to two wake-ups of a task waiting for
        // one that finished (none when it had finished already).
        REQUIRE(local >= 2);
        REQUIRE(local <= 4);
        REQUIRE(m.remote_schedules == 1);
    }
}

TEST_CASE("rt_metrics.worker_overflow_count") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        // One poll spawns more tasks than the local queue holds (256): the
        // 257th moves half of the queue to the inject queue, after which
        // there is room for the rest.
        for (int i = 0; i < 300; ++i) braid::spawn([]() -> braid::Task<> { co_return; }()).detach();
        co_return;
    }());
    auto m = metrics_after_drop(std::move(rt));
    REQUIRE(m.worker[0].overflows == 1);
    REQUIRE(m.overflows == 1);
}

}  // namespace conformance_rt_metrics
