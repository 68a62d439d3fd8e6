// Tokio 1.24, tests/task_local.rs: task-local values (task_local!): each
// spawned scope sees its own value across suspension points and worker
// threads; the value is still in scope while the scoped future is dropped,
// on abort and on completion.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <optional>

#include "support.hpp"

namespace conformance_task_local {

using namespace std::chrono_literals;
using braid_test::pending;

namespace {

inline braid::TaskLocal<uint32_t> REQ_ID;
inline braid::TaskLocal<bool> FOO;
inline braid::TaskLocal<uint32_t> KEY;

// Sends KEY's value (0 when not in scope) when destroyed; a moved-from one
// sends nothing.
struct SendsKeyOnDrop {
    std::optional<braid::oneshot::Sender<uint32_t>> tx;
    explicit SendsKeyOnDrop(braid::oneshot::Sender<uint32_t> t) : tx(std::move(t)) {}
    SendsKeyOnDrop(SendsKeyOnDrop&& o) noexcept : tx(std::exchange(o.tx, std::nullopt)) {}
    ~SendsKeyOnDrop() {
        if (tx) {
            const uint32_t* v = KEY.try_get();
            tx->send(v ? *v : 0);
        }
    }
};

}  // namespace

TEST_CASE("task_local.local") {
    // multi_thread; the clock is paused so that the sleep costs nothing.
    auto rt = braid::Runtime::builder().worker_threads(2).start_paused().build();
    rt.block_on([]() -> braid::Task<> {
        auto j1 = braid::spawn(REQ_ID.scope(1, []() -> braid::Task<> {
            EXPECT(REQ_ID.get() == 1);
            EXPECT(REQ_ID.get() == 1);
            co_return;
        }()));

        auto j2 = braid::spawn(REQ_ID.scope(2, []() -> braid::Task<> {
            // Tokio's REQ_ID.with(|v| ...): a reference to the value.
            const uint32_t& v = REQ_ID.get();
            EXPECT(REQ_ID.get() == 2);
            EXPECT(v == 2);

            co_await braid::sleep(10ms);

            EXPECT(REQ_ID.get() == 2);
        }()));

        auto j3 = braid::spawn(FOO.scope(true, []() -> braid::Task<> {
            EXPECT(FOO.get());
            co_return;
        }()));

        co_await j1;
        co_await j2;
        co_await j3;
    }());
}

// The scoped future is dropped by an abort: its destructor still sees the
// value (the future here is the coroutine frame; the guard is its argument).
TEST_CASE("task_local.task_local_available_on_abort") {
    auto rt = braid::Runtime::builder().current_thread().build();
    rt.block_on([]() -> braid::Task<> {
        auto [tx_drop, rx_drop] = braid::oneshot::channel<uint32_t>();
        auto [tx_poll, rx_poll] = braid::oneshot::channel<int>();

        auto h = braid::spawn(KEY.scope(42, [](braid::oneshot::Sender<int> tx_poll, SendsKeyOnDrop) -> braid::Task<> {
            tx_poll.send(0);
            co_await pending();
        }(std::move(tx_poll), SendsKeyOnDrop(std::move(tx_drop)))));

        co_await rx_poll;
        h.abort();
        auto got = co_await rx_drop;
        EXPECT(got == 42);

        bool cancelled = false;
        try {
            co_await h;
        } catch (const braid::TaskCancelled&) {
            cancelled = true;
        }
        EXPECT(cancelled);
    }());
}

// The scoped future completes at once and is dropped: its destructor still
// sees the value.
TEST_CASE("task_local.task_local_available_on_completion_drop") {
    auto rt = braid::Runtime::builder().current_thread().build();
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::oneshot::channel<uint32_t>();

        auto h = braid::spawn(KEY.scope(42, [](SendsKeyOnDrop) -> braid::Task<> { co_return; }(SendsKeyOnDrop(std::move(tx)))));

        auto got = co_await rx;
        EXPECT(got == 42);
        co_await h;
    }());
}

}  // namespace conformance_task_local
