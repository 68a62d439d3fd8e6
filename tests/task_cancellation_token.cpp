// CancellationToken: cancel, children, waiting, drop guard,
// run_until_cancelled, the C ABI.
#include <catch2/catch.hpp>
#include <braid/cancel.h>

#include <thread>

#include "support.hpp"

namespace test_task_cancellation_token {

using namespace std::chrono_literals;

TEST_CASE("task_cancellation_token.cancelling a token wakes every waiter") {
    auto rt = braid_test::runtime(2);
    int woke = rt.block_on([]() -> braid::Task<int> {
        braid::CancellationToken token;
        std::vector<braid::JoinHandle<int>> hs;
        for (int i = 0; i < 50; ++i)
            hs.push_back(braid::spawn([](braid::CancellationToken t) -> braid::Task<int> {
                co_await t.cancelled();
                co_return 1;
            }, token));
        co_await braid::yield_now();
        REQUIRE_FALSE(token.is_cancelled());
        token.cancel();
        token.cancel();  // twice is harmless
        int n = 0;
        for (auto& h : hs) n += co_await h;
        co_return n;
    }());
    REQUIRE(woke == 50);
}

TEST_CASE("task_cancellation_token.child tokens: a parent cancels its children, not the reverse") {
    braid::CancellationToken parent;
    auto child = parent.child_token();
    auto grandchild = child.child_token();
    auto other = parent.child_token();
    other.cancel();
    REQUIRE(other.is_cancelled());
    REQUIRE_FALSE(parent.is_cancelled());
    REQUIRE_FALSE(child.is_cancelled());
    parent.cancel();
    REQUIRE(child.is_cancelled());
    REQUIRE(grandchild.is_cancelled());
    auto late = parent.child_token();
    REQUIRE(late.is_cancelled());  // a child of a cancelled token starts cancelled
}

TEST_CASE("task_cancellation_token.a cancelled() wait can be cancelled itself without losing the token") {
    auto rt = braid_test::paused_runtime();
    bool later = rt.block_on([]() -> braid::Task<bool> {
        braid::CancellationToken token;
        auto r = co_await braid::select(token.cancelled(), braid::sleep(5ms));
        REQUIRE(r.index() == 1);
        token.cancel();
        co_await token.cancelled();
        co_return token.is_cancelled();
    }());
    REQUIRE(later);
}

TEST_CASE("task_cancellation_token.drop guard cancels on destruction unless disarmed") {
    braid::CancellationToken a, b;
    { auto g = a.drop_guard(); }
    REQUIRE(a.is_cancelled());
    {
        auto g = b.drop_guard();
        auto back = g.disarm();
        REQUIRE_FALSE(back.is_cancelled());
    }
    REQUIRE_FALSE(b.is_cancelled());
}

TEST_CASE("task_cancellation_token.run_until_cancelled: the value, or nullopt when cancelled first") {
    auto rt = braid_test::paused_runtime();
    auto [v, none] = rt.block_on([]() -> braid::Task<std::pair<std::optional<int>, bool>> {
        braid::CancellationToken token;
        auto v = co_await token.run_until_cancelled([]() -> braid::Task<int> {
            co_await braid::sleep(1ms);
            co_return 5;
        }());
        auto canceller = braid::spawn([](braid::CancellationToken t) -> braid::Task<> {
            co_await braid::sleep(2ms);
            t.cancel();
        }, token);
        auto w = co_await token.run_until_cancelled(braid::sleep(std::chrono::hours(1)));
        co_await canceller;
        co_return std::make_pair(v, !w.has_value());
    }());
    REQUIRE(v == 5);
    REQUIRE(none);
}

TEST_CASE("task_cancellation_token.C: tokens with callbacks, cancel from another thread") {
    braid_runtime* rt = nullptr;
    REQUIRE(braid_runtime_new(&rt) == BRAID_OK);
    braid_token* tok = nullptr;
    braid_token* child = nullptr;
    REQUIRE(braid_token_new(&tok) == BRAID_OK);
    REQUIRE(braid_token_child(&child, tok) == BRAID_OK);
    std::atomic<int> status{1000}, calls{0};
    struct Ctx {
        std::atomic<int>* status;
        std::atomic<int>* calls;
    } ctx{&status, &calls};
    braid_task* op = nullptr;
    REQUIRE(braid_token_on_cancel(&op, rt, child, [](void* p, int st) {
        auto* c = static_cast<Ctx*>(p);
        c->status->store(st);
        c->calls->fetch_add(1);
    }, &ctx) == BRAID_OK);
    REQUIRE(braid_token_is_cancelled(child) == 0);
    std::thread([tok] { braid_token_cancel(tok); }).join();
    REQUIRE(braid_task_join_blocking(op, BRAID_WAIT_FOREVER) == BRAID_OK);
    REQUIRE(calls.load() == 1);
    REQUIRE(status.load() == BRAID_OK);
    REQUIRE(braid_token_is_cancelled(child) == 1);
    REQUIRE(braid_token_cancel(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_token_is_cancelled(nullptr) == BRAID_EINVAL);
    braid_task_free(op);
    braid_token_free(child);
    braid_token_free(tok);
    braid_token_free(nullptr);
    REQUIRE(braid_runtime_free(rt) == BRAID_OK);
}

}  // namespace test_task_cancellation_token
