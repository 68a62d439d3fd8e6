// Tokio 1.24, tests/task_builder.rs (tokio_unstable + tracing): task::Builder
// spawns tasks, blocking jobs and local tasks with a name.  Tokio hands the
// name to tracing; braid keeps it on the task: the task dump and stall
// reports show a worker task's, and braid::task::name() gives any task's
// (a blocking job's and a local task's too) from inside it.  The ports
// check that the name arrives there, besides the value.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "support.hpp"

namespace conformance_task_builder {

namespace {

braid::Runtime rt() { return braid::Runtime::builder().current_thread().build(); }

bool named(const char* want) {
    const char* n = braid::task::name();
    return want ? (n && std::strcmp(n, want) == 0) : n == nullptr;
}

}  // namespace

namespace {

// Each spawn of `b` on a fresh current-thread runtime: its value, and the
// name seen inside (checked against `name`: nullptr for none).
std::string spawn_with(braid::task::Builder b, const char* name) {
    auto r = rt();
    return r.block_on([](braid::task::Builder b, const char* name) -> braid::Task<std::string> {
        co_return co_await b.spawn([](const char* name) -> braid::Task<std::string> {
            EXPECT(named(name));
            co_return "task executed";
        }(name));
    }(b, name));
}

std::string spawn_blocking_with(braid::task::Builder b, const char* name) {
    auto r = rt();
    std::string result = r.block_on([](braid::task::Builder b, const char* name) -> braid::Task<std::string> {
        co_return co_await b.spawn_blocking([name] {
            EXPECT_ANYWHERE(named(name));
            return std::string("task executed");
        });
    }(b, name));
    REQUIRE(braid_test::worker_failures() == 0);
    return result;
}

std::string spawn_local_with(braid::task::Builder b, const char* name) {
    auto r = rt();
    return r.block_on([](braid::task::Builder b, const char* name) -> braid::Task<std::string> {
        braid::LocalSet local;
        co_return co_await local.run_until([](braid::task::Builder b, const char* name) -> braid::Task<std::string> {
            co_return co_await b.spawn_local([](const char* name) -> braid::Task<std::string> {
                EXPECT(named(name));
                co_return "task executed";
            }(name));
        }(b, name));
    }(b, name));
}

}  // namespace

TEST_CASE("task_builder.spawn_with_name") { REQUIRE(spawn_with(braid::task::Builder().name("name"), "name") == "task executed"); }

TEST_CASE("task_builder.spawn_blocking_with_name") {
    REQUIRE(spawn_blocking_with(braid::task::Builder().name("name"), "name") == "task executed");
}

TEST_CASE("task_builder.spawn_local_with_name") {
    REQUIRE(spawn_local_with(braid::task::Builder().name("name"), "name") == "task executed");
}

TEST_CASE("task_builder.spawn_without_name") { REQUIRE(spawn_with(braid::task::Builder(), nullptr) == "task executed"); }

TEST_CASE("task_builder.spawn_blocking_without_name") {
    REQUIRE(spawn_blocking_with(braid::task::Builder(), nullptr) == "task executed");
}

TEST_CASE("task_builder.spawn_local_without_name") {
    REQUIRE(spawn_local_with(braid::task::Builder(), nullptr) == "task executed");
}

// braid's own: the Builder's other spawns keep the name too.
TEST_CASE("task_builder.builder_spawn_on_and_local_on_keep_the_name") {
    auto r = braid::Runtime::builder().worker_threads(1).build();
    auto h = r.handle();
    auto j_on = braid::task::Builder().name("on-handle").spawn_on(
        []() -> braid::Task<bool> { co_return named("on-handle"); }(), h);  // from a thread outside the runtime
    REQUIRE(r.block_on([](braid::JoinHandle<bool> j) -> braid::Task<bool> { co_return co_await j; }(std::move(j_on))));
    braid::LocalSet local;
    auto enter = r.enter();
    auto j = braid::task::Builder().name("in-set").spawn_local_on([]() -> braid::Task<bool> { co_return named("in-set"); }(),
                                                                  local);
    bool in_set = local.block_on(r, [](braid::JoinHandle<bool> j) -> braid::Task<bool> { co_return co_await j; }(std::move(j)));
    REQUIRE(in_set);
}

}  // namespace conformance_task_builder
