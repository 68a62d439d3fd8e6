// Tokio 1.24, tests/task_id.rs (tokio_unstable): task::id() inside a task
// (spawned or blocking) is the id its JoinHandle reports, ids do not
// collide, and the id is visible to the destructors of the task's future
// (on completion and on abort) and of its output (whenever the output is
// dropped: with the task, or later with the JoinHandle).  braid's
// task::id() is Tokio's try_id(): 0 outside a task.
//
// Gaps: none.
//
// Differs:
//   task_try_id_inside_block_on — braid's block_on runs its future as a task
//     (docs/ARCHITECTURE.md, "The C++ layer"), so it has an id there;
//     Tokio's block_on future is no task (try_id() is None).
//
// Not applicable:
//   task_id_outside_task_panic_caller — the caller location of task::id()'s panic (#[track_caller]); braid's task::id() does not throw outside a task, it gives 0 (task_try_id_outside_task)
//   task_id_inside_block_on_panic_caller — likewise; inside block_on braid has a task (task_try_id_inside_block_on)
#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <optional>

#include "support.hpp"

namespace conformance_task_id {

using braid_test::pending;

namespace {

braid::Runtime current_thread() { return braid::Runtime::builder().current_thread().build(); }
braid::Runtime multi_thread() { return braid::Runtime(); }

// Sends task::id() when destroyed; a moved-from one sends nothing.
struct SendsIdOnDrop {
    std::optional<braid::oneshot::Sender<uint64_t>> tx;
    explicit SendsIdOnDrop(braid::oneshot::Sender<uint64_t> t) : tx(std::move(t)) {}
    SendsIdOnDrop(SendsIdOnDrop&& o) noexcept : tx(std::exchange(o.tx, std::nullopt)) {}
    SendsIdOnDrop& operator=(SendsIdOnDrop&& o) noexcept {
        tx = std::exchange(o.tx, std::nullopt);
        return *this;
    }
    ~SendsIdOnDrop() {
        if (tx) tx->send(braid::task::id());
    }
};

braid::Task<uint64_t> own_id() { co_return braid::task::id(); }

}  // namespace

TEST_CASE("task_id.task_id_spawn") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        auto h = braid::spawn(own_id());
        auto id = co_await h;
        EXPECT(id != 0);
        EXPECT(id == h.id());
    }());
}

TEST_CASE("task_id.task_id_spawn_blocking") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        auto h = braid::spawn_blocking([] { return braid::task::id(); });
        auto id = co_await h;
        EXPECT(id != 0);
        EXPECT(id == h.id());
    }());
}

TEST_CASE("task_id.task_id_collision_current_thread") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        auto handle1 = braid::spawn(own_id());
        auto handle2 = braid::spawn(own_id());

        auto [id1, id2] = co_await braid::join(std::move(handle1), std::move(handle2));
        EXPECT(id1 != id2);
    }());
}

TEST_CASE("task_id.task_id_collision_multi_thread") {
    auto rt = multi_thread();
    rt.block_on([]() -> braid::Task<> {
        auto handle1 = braid::spawn(own_id());
        auto handle2 = braid::spawn(own_id());

        auto [id1, id2] = co_await braid::join(std::move(handle1), std::move(handle2));
        EXPECT(id1 != id2);
    }());
}

namespace {
braid::Task<> ids_match() {
    auto [tx, rx] = braid::oneshot::channel<uint64_t>();
    auto handle = braid::spawn([](braid::oneshot::Receiver<uint64_t> rx) -> braid::Task<> {
        auto id = co_await rx;
        EXPECT(id == braid::task::id());
    }(std::move(rx)));
    EXPECT(!tx.send(handle.id()));
    co_await handle;
}
}  // namespace

TEST_CASE("task_id.task_ids_match_current_thread") {
    auto rt = current_thread();
    rt.block_on(ids_match());
}

TEST_CASE("task_id.task_ids_match_multi_thread") {
    auto rt = multi_thread();
    rt.block_on(ids_match());
}

TEST_CASE("task_id.task_id_future_destructor_completion") {
    auto rt = multi_thread();
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::oneshot::channel<uint64_t>();
        // The future (the coroutine frame, which holds its argument) is
        // ready at once; it is destroyed when the task completes.
        auto handle = braid::spawn([](SendsIdOnDrop) -> braid::Task<> { co_return; }(SendsIdOnDrop(std::move(tx))));
        auto id = handle.id();
        co_await handle;
        auto got = co_await rx;
        EXPECT(got == id);
    }());
}

TEST_CASE("task_id.task_id_future_destructor_abort") {
    auto rt = multi_thread();
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::oneshot::channel<uint64_t>();
        auto handle = braid::spawn([](SendsIdOnDrop) -> braid::Task<> { co_await pending(); }(SendsIdOnDrop(std::move(tx))));
        auto id = handle.id();
        handle.abort();
        bool cancelled = false;
        try {
            co_await handle;
        } catch (const braid::TaskCancelled&) {
            cancelled = true;
        }
        EXPECT(cancelled);
        auto got = co_await rx;
        EXPECT(got == id);
    }());
}

// The handle is dropped before the task ran: the output is dropped when the
// task completes.
TEST_CASE("task_id.task_id_output_destructor_handle_dropped_before_completion") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::oneshot::channel<uint64_t>();
        auto handle = braid::spawn([](braid::oneshot::Sender<uint64_t> tx) -> braid::Task<SendsIdOnDrop> {
            co_return SendsIdOnDrop(std::move(tx));
        }(std::move(tx)));
        auto id = handle.id();
        handle.detach();
        EXPECT(!rx.try_recv());
        auto got = co_await rx;
        EXPECT(got == id);
    }());
}

// The task completed; its output is dropped with the JoinHandle, in another
// task.
TEST_CASE("task_id.task_id_output_destructor_handle_dropped_after_completion") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        auto [tx_output, rx_output] = braid::oneshot::channel<uint64_t>();
        auto [tx_future, rx_future] = braid::oneshot::channel<int>();
        auto handle = braid::spawn([](braid::oneshot::Sender<uint64_t> tx_output,
                                      braid::oneshot::Sender<int> tx_future) -> braid::Task<SendsIdOnDrop> {
            tx_future.send(0);
            co_return SendsIdOnDrop(std::move(tx_output));
        }(std::move(tx_output), std::move(tx_future)));
        auto id = handle.id();
        co_await rx_future;
        EXPECT(!rx_output.try_recv());
        handle.detach();
        auto got = co_await rx_output;
        EXPECT(got == id);
    }());
}

TEST_CASE("task_id.task_try_id_outside_task") { REQUIRE(braid::task::id() == 0); }

TEST_CASE("task_id.task_try_id_inside_block_on") {
    // Differs from Tokio (see the top of the file): block_on's future is a task.
    auto rt = multi_thread();
    uint64_t id = rt.block_on([]() -> braid::Task<uint64_t> { co_return braid::task::id(); }());
    REQUIRE(id != 0);
}

TEST_CASE("task_id.task_id_spawn_local") {
    auto rt = braid::Runtime::builder().current_thread().build();
    rt.block_on([]() -> braid::Task<> {
        braid::LocalSet local;
        co_await local.run_until([]() -> braid::Task<> {
            uint64_t id = co_await braid::spawn_local([]() -> braid::Task<uint64_t> { co_return braid::task::id(); }());
            EXPECT(id != 0);
        }());
    }());
}

TEST_CASE("task_id.task_id_nested_spawn_local") {
    auto rt = braid::Runtime::builder().current_thread().build();
    rt.block_on([]() -> braid::Task<> {
        braid::LocalSet local;
        co_await local.run_until([]() -> braid::Task<> {
            co_await braid::spawn_local([]() -> braid::Task<> {
                uint64_t parent_id = braid::task::id();
                braid::LocalSet inner;
                co_await inner.run_until([](uint64_t parent_id) -> braid::Task<> {
                    co_await braid::spawn_local([](uint64_t parent_id) -> braid::Task<> {
                        EXPECT(parent_id != braid::task::id());
                        co_return;
                    }(parent_id));
                }(parent_id));
                EXPECT(parent_id == braid::task::id());
            }());
        }());
    }());
}

TEST_CASE("task_id.task_id_block_in_place_block_on_spawn") {
    auto rt = braid::Runtime();
    rt.block_on([]() -> braid::Task<> {
        co_await braid::spawn([]() -> braid::Task<> {
            uint64_t parent_id = braid::task::id();
            braid::task::block_in_place([parent_id] {
                auto inner = braid::Runtime::builder().current_thread().build();
                inner.block_on([](uint64_t parent_id) -> braid::Task<> {
                    co_await braid::spawn([](uint64_t parent_id) -> braid::Task<> {
                        EXPECT(parent_id != braid::task::id());
                        co_return;
                    }(parent_id));
                }(parent_id));
            });
            EXPECT(parent_id == braid::task::id());
            co_return;
        }());
    }());
}

}  // namespace conformance_task_id
