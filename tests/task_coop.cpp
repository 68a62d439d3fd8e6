// Cooperative budget: a task that keeps finding its awaited things ready
// yields after a budget of operations, so its neighbours make progress.
#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>

#include "support.hpp"

namespace test_task_coop {

// Runs `op` (one ready operation) in a loop on a one-worker runtime until a
// task spawned before the loop has run, or `limit` times: how many
// operations that took.
template <class Op>
long ready_ops_before_a_neighbour_runs(Op op, long limit = 10'000'000) {
    auto rt = braid::Runtime::builder().current_thread().build();
    return rt.block_on([](Op op, long limit) -> braid::Task<long> {
        std::atomic<bool> other_ran{false};
        auto other = braid::spawn([](std::atomic<bool>* r) -> braid::Task<> {
            r->store(true);
            co_return;
        }(&other_ran));
        long n = 0;
        while (!other_ran.load() && n < limit) {
            co_await op();
            ++n;
        }
        co_await other;
        co_return n;
    }(std::move(op), limit));
}

TEST_CASE("task_coop.a task looping on ready operations does not starve another task on its worker") {
    // One worker: without the budget the busy loop below would never give the
    // worker up, since every await completes at once.
    auto rt = braid::Runtime::builder().current_thread().build();
    auto [progress_seen, loops] = rt.block_on([]() -> braid::Task<std::pair<bool, long>> {
        std::atomic<bool> other_ran{false};
        auto other = braid::spawn([](std::atomic<bool>* r) -> braid::Task<> {
            r->store(true);
            co_return;
        }(&other_ran));
        auto [tx, rx] = braid::oneshot::channel<int>();
        tx.send(1);
        auto ready = braid::spawn([]() -> braid::Task<int> { co_return 1; }());
        co_await braid::yield_now();  // let `ready` finish; `other` is queued behind it
        long n = 0;
        while (!other_ran.load() && n < 10'000'000) {
            // already finished: each await completes without waiting
            co_await ready;
            ++n;
        }
        co_await other;
        co_return std::make_pair(other_ran.load(), n);
    }());
    REQUIRE(progress_seen);
    REQUIRE(loops <= 256);  // yielded within a budget or two (128 each)
}

TEST_CASE("task_coop.the budget also applies to elapsed sleeps") {
    long loops = ready_ops_before_a_neighbour_runs([] { return braid::sleep(std::chrono::nanoseconds(0)); });
    REQUIRE(loops >= 1);
    REQUIRE(loops <= 256);
}

braid::Task<> lock_once(braid::Mutex<int>* m) {
    auto guard = co_await m->lock();
    ++*guard;
}

braid::Task<> acquire_once(braid::Semaphore* s) {
    auto permit = co_await s->acquire();
    co_return;
}

braid::Task<> send_once(braid::mpsc::Sender<int>* tx) {
    auto back = co_await tx->send(1);
    if (back) throw std::runtime_error("channel closed");
}

TEST_CASE("task_coop.locking a free mutex, taking free permits and sending into a channel with room use the budget") {
    // Each of these completes at once on its first poll, and takes a unit
    // of the budget as it does (Tokio: the semaphore's Acquire and a
    // bounded Sender's send poll coop::poll_proceed): a task looping on
    // them yields within a budget or two.
    braid::Mutex<int> mutex(0);
    long locks = ready_ops_before_a_neighbour_runs([m = &mutex] { return lock_once(m); });
    CHECK(locks >= 1);
    CHECK(locks <= 256);
    braid::Semaphore sem(3);
    long acquires = ready_ops_before_a_neighbour_runs([s = &sem] { return acquire_once(s); });
    CHECK(acquires >= 1);
    CHECK(acquires <= 256);
    // Room for every send below (at most 1,000): none waits.
    auto [tx, rx] = braid::mpsc::channel<int>(1024);
    long sends = ready_ops_before_a_neighbour_runs([t = &tx] { return send_once(t); }, 1000);
    CHECK(sends >= 1);
    CHECK(sends <= 256);
    REQUIRE(rx.len() == std::size_t(sends));
}

}  // namespace test_task_coop
