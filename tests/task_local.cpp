// Task-local values: scoped, visible across suspensions and threads, in
// join/select branches, not in spawned tasks.
#include <catch2/catch.hpp>

#include <string>
#include <thread>

#include "support.hpp"

using namespace std::chrono_literals;

namespace {
braid::TaskLocal<std::string> REQUEST_ID;
braid::TaskLocal<int> DEPTH;

braid::Task<std::string> deep(int n) {
    co_await braid::yield_now();
    if (n > 0) co_return co_await deep(n - 1);
    co_return REQUEST_ID.get();
}
}  // namespace

TEST_CASE("a task-local is visible at any depth and across suspension points") {
    auto rt = braid_test::runtime(2);
    auto v = rt.block_on(REQUEST_ID.scope("req-42", deep(20)));
    REQUIRE(v == "req-42");
}

TEST_CASE("scopes nest, and the outer value comes back after the inner scope") {
    auto rt = braid_test::runtime(1);
    auto [inner, outer] = rt.block_on(DEPTH.scope(1, []() -> braid::Task<std::pair<int, int>> {
        int in = co_await DEPTH.scope(2, []() -> braid::Task<int> {
            co_await braid::sleep(1ms);
            co_return DEPTH.get();
        }());
        co_return std::make_pair(in, DEPTH.get());
    }()));
    REQUIRE(inner == 2);
    REQUIRE(outer == 1);
}

TEST_CASE("a spawned task does not inherit the value, branches of join do") {
    auto rt = braid_test::runtime(2);
    auto [spawned_has, branch_value] = rt.block_on(REQUEST_ID.scope("outer", []() -> braid::Task<std::pair<bool, std::string>> {
        bool has = co_await braid::spawn([]() -> braid::Task<bool> { co_return REQUEST_ID.try_get() != nullptr; }());
        auto [a, b] = co_await braid::join(deep(3), braid::sleep(1ms));
        (void)b;
        co_return std::make_pair(has, a);
    }()));
    REQUIRE_FALSE(spawned_has);
    REQUIRE(branch_value == "outer");
}

TEST_CASE("get() outside any scope throws, try_get gives nullptr") {
    auto rt = braid_test::runtime(1);
    rt.block_on([]() -> braid::Task<> {
        REQUIRE(REQUEST_ID.try_get() == nullptr);
        REQUIRE_THROWS_AS(REQUEST_ID.get(), braid::Error);
        co_return;
    }());
    REQUIRE(REQUEST_ID.try_get() == nullptr);
}
