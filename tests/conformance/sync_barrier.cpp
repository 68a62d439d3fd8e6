// Conformance: tokio/tests/sync_barrier.rs (Tokio 1.24), ported from what
// each case asserts.  Tokio's hand-polled futures are braid_barrier_poll_wait
// polled with a counting waker (braid_test::PolledWait).
//
// Gaps: none.
//
// Not applicable:
//   barrier_future_is_send - a Rust `Send` bound on the wait future; braid's
//     barrier may be waited on from any thread (docs/sync.md, Threads).
//
// braid's own: stress_rounds (tasks on four workers meet round after round:
// nobody leaves a round before all have arrived, one leader per round).
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <vector>

#include "support.hpp"

namespace conformance_sync_barrier {

using braid_test::PolledWait;

namespace {
PolledWait wait_on(braid::Barrier& b) {
    return PolledWait(b.native_handle(), braid_barrier_poll_wait, braid_barrier_cancel_wait);
}
bool released(int st) { return st == BRAID_OK || st == BRAID_BARRIER_LEADER; }
}  // namespace

TEST_CASE("sync_barrier.zero_does_not_block") {
    braid::Barrier b(0);
    for (int i = 0; i < 2; ++i) {
        auto w = wait_on(b);
        REQUIRE(w.poll() == BRAID_BARRIER_LEADER);
    }
}

TEST_CASE("sync_barrier.single") {
    braid::Barrier b(1);
    for (int i = 0; i < 3; ++i) {
        auto w = wait_on(b);
        REQUIRE(w.poll() == BRAID_BARRIER_LEADER);
    }
}

TEST_CASE("sync_barrier.tango") {
    braid::Barrier b(2);
    auto w1 = wait_on(b);
    REQUIRE(w1.poll() == BRAID_PENDING);

    auto w2 = wait_on(b);
    int r2 = w2.poll();
    REQUIRE(released(r2));
    REQUIRE(w1.is_woken());
    int r1 = w1.poll();
    REQUIRE(released(r1));

    // exactly one leader
    REQUIRE(((r1 == BRAID_BARRIER_LEADER) != (r2 == BRAID_BARRIER_LEADER)));
}

TEST_CASE("sync_barrier.lots") {
    braid::Barrier b(100);
    for (int round = 0; round < 10; ++round) {
        std::vector<std::unique_ptr<PolledWait>> waiting;
        for (int i = 0; i < 99; ++i) {
            waiting.push_back(
                std::make_unique<PolledWait>(b.native_handle(), braid_barrier_poll_wait, braid_barrier_cancel_wait));
            REQUIRE(waiting.back()->poll() == BRAID_PENDING);
        }
        for (auto& w : waiting) REQUIRE(w->poll() == BRAID_PENDING);

        // the 100th passes the barrier
        auto last = wait_on(b);
        int st = last.poll();
        REQUIRE(released(st));
        bool found_leader = st == BRAID_BARRIER_LEADER;
        for (auto& w : waiting) {
            REQUIRE(w->is_woken());
            int r = w->poll();
            REQUIRE(released(r));
            if (r == BRAID_BARRIER_LEADER) {
                REQUIRE_FALSE(found_leader);
                found_leader = true;
            }
        }
        REQUIRE(found_leader);
    }
}

TEST_CASE("sync_barrier.stress_rounds") {
    constexpr int kTasks = 8;
    const int rounds = 400 / braid_test::kStressDivisor;
    auto rt = braid_test::runtime(4);
    struct Shared {
        braid::Barrier barrier{kTasks};
        std::vector<std::atomic<int>> arrived;
        std::vector<std::atomic<int>> leaders;
        explicit Shared(int rounds) : arrived(size_t(rounds)), leaders(size_t(rounds)) {}
    };
    auto shared = std::make_shared<Shared>(rounds);
    rt.block_on([](std::shared_ptr<Shared> s, int rounds) -> braid::Task<> {
        std::vector<braid::JoinHandle<void>> tasks;
        for (int t = 0; t < kTasks; ++t) {
            tasks.push_back(braid::spawn([](std::shared_ptr<Shared> s, int rounds) -> braid::Task<> {
                for (int r = 0; r < rounds; ++r) {
                    s->arrived[size_t(r)].fetch_add(1);
                    auto res = co_await s->barrier.wait();
                    // nobody is released before everybody arrived
                    EXPECT(s->arrived[size_t(r)].load() == kTasks);
                    if (res.is_leader()) s->leaders[size_t(r)].fetch_add(1);
                }
            }, s, rounds));
        }
        for (auto& t : tasks) co_await t;
    }(shared, rounds));
    for (int r = 0; r < rounds; ++r) {
        REQUIRE(shared->arrived[size_t(r)].load() == kTasks);
        REQUIRE(shared->leaders[size_t(r)].load() == 1);
    }
}

}  // namespace conformance_sync_barrier
