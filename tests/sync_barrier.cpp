// Barrier: n arrivals release each other, exactly one leader per round, the
// barrier is reusable, a cancelled wait no longer counts, blocking waits.
#include <catch2/catch.hpp>
#include <braid/barrier.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_sync_barrier {

using namespace std::chrono_literals;

namespace {
struct CountingWaker {
    std::atomic<int> calls{0};
    static void wake(void* p) { static_cast<CountingWaker*>(p)->calls++; }
};
}  // namespace

TEST_CASE("sync_barrier.barrier: n tasks go on together, one of them the leader, round after round") {
    auto rt = braid_test::runtime(2);
    auto r = rt.block_on([]() -> braid::Task<std::vector<int>> {
        static constexpr int kTasks = 8, kRounds = 20;
        auto b = std::make_shared<braid::Barrier>(kTasks);
        auto leaders = std::make_shared<std::vector<std::atomic<int>>>(kRounds);
        auto arrived = std::make_shared<std::vector<std::atomic<int>>>(kRounds);
        auto early = std::make_shared<std::atomic<int>>(0);
        std::vector<braid::JoinHandle<void>> hs;
        for (int t = 0; t < kTasks; ++t)
            hs.push_back(braid::spawn([](auto b, auto leaders, auto arrived, auto early) -> braid::Task<> {
                for (int round = 0; round < kRounds; ++round) {
                    (*arrived)[size_t(round)]++;
                    auto res = co_await b->wait();
                    if ((*arrived)[size_t(round)].load() != kTasks) (*early)++;  // released too soon
                    if (res.is_leader()) (*leaders)[size_t(round)]++;
                }
            }(b, leaders, arrived, early)));
        for (auto& h : hs) co_await h;
        std::vector<int> out{early->load()};
        for (auto& l : *leaders) out.push_back(l.load());
        co_return out;
    }());
    REQUIRE(r[0] == 0);
    for (size_t i = 1; i < r.size(); ++i) REQUIRE(r[i] == 1);
}

TEST_CASE("sync_barrier.barrier: a barrier of 0 or 1 never waits and always leads") {
    auto rt = braid_test::runtime(1);
    bool ok = rt.block_on([]() -> braid::Task<bool> {
        braid::Barrier zero(0), one(1);
        bool a = (co_await zero.wait()).is_leader();
        bool b = (co_await one.wait()).is_leader();
        co_return a && b;
    }());
    REQUIRE(ok);
}

TEST_CASE("sync_barrier.barrier: a cancelled wait no longer counts as arrived") {
    braid_barrier* b = nullptr;
    REQUIRE(braid_barrier_new(&b, 3) == BRAID_OK);
    CountingWaker x, y;
    braid_waiter* wx = nullptr;
    braid_waiter* wy = nullptr;
    braid_waiter* wz = nullptr;
    REQUIRE(braid_barrier_poll_wait(b, &wx, &CountingWaker::wake, &x) == BRAID_PENDING);
    REQUIRE(braid_barrier_poll_wait(b, &wy, &CountingWaker::wake, &y) == BRAID_PENDING);
    braid_barrier_cancel_wait(b, &wx);  // withdrawn: 1 arrived
    REQUIRE(braid_barrier_poll_wait(b, &wz, nullptr, nullptr) == BRAID_PENDING);  // a NULL waker does not arrive
    REQUIRE(wz == nullptr);
    REQUIRE(braid_barrier_poll_wait(b, &wx, &CountingWaker::wake, &x) == BRAID_PENDING);  // 2 arrived
    REQUIRE(y.calls == 0);
    REQUIRE(braid_barrier_poll_wait(b, &wz, +[](void*) {}, nullptr) == BRAID_BARRIER_LEADER);  // 3rd completes
    REQUIRE(x.calls == 1);
    REQUIRE(y.calls == 1);
    REQUIRE(braid_barrier_poll_wait(b, &wx, &CountingWaker::wake, &x) == BRAID_OK);
    REQUIRE(braid_barrier_poll_wait(b, &wy, &CountingWaker::wake, &y) == BRAID_OK);
    // Cancelled after release: forgotten, the next round starts clean.
    REQUIRE(braid_barrier_poll_wait(b, &wx, &CountingWaker::wake, &x) == BRAID_PENDING);
    REQUIRE(braid_barrier_poll_wait(b, &wy, &CountingWaker::wake, &y) == BRAID_PENDING);
    REQUIRE(braid_barrier_poll_wait(b, &wz, +[](void*) {}, nullptr) == BRAID_BARRIER_LEADER);
    braid_barrier_cancel_wait(b, &wx);
    braid_barrier_cancel_wait(b, &wy);
    REQUIRE(braid_barrier_poll_wait(b, &wx, &CountingWaker::wake, &x) == BRAID_PENDING);
    braid_barrier_cancel_wait(b, &wx);
    braid_barrier_free(b);
}

TEST_CASE("sync_barrier.barrier: foreign threads and tasks meet at one barrier") {
    auto rt = braid_test::runtime(2);
    braid::Barrier b(3);
    std::atomic<int> leaders{0};
    std::thread t1([&] { leaders += b.blocking_wait().is_leader(); });
    std::thread t2([&] { leaders += b.blocking_wait().is_leader(); });
    bool lead = rt.block_on([](braid::Barrier* b) -> braid::Task<bool> {
        co_return (co_await b->wait()).is_leader();
    }(&b));
    t1.join();
    t2.join();
    REQUIRE(leaders + int(lead) == 1);
    REQUIRE(braid_barrier_wait_blocking(b.native_handle(), 5) == BRAID_ETIMEDOUT);
    int rc = rt.block_on([](braid_barrier* h) -> braid::Task<int> { co_return braid_barrier_wait_blocking(h, 1); }(
        b.native_handle()));
    REQUIRE(rc == BRAID_EDEADLK);
    REQUIRE(braid_barrier_new(nullptr, 1) == BRAID_EINVAL);
    REQUIRE(braid_barrier_poll_wait(nullptr, nullptr, nullptr, nullptr) == BRAID_EINVAL);
    braid_barrier_free(nullptr);
}

}  // namespace test_sync_barrier
