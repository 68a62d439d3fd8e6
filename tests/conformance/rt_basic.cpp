// Tokio 1.24, tests/rt_basic.rs: the current-thread runtime.  Tasks run
// only inside block_on; a runtime dropped with tasks still pending drops
// them without running them again (even when their destructors wake each
// other); spawning from tasks and from plain threads.
//
// Gaps:
//   shutdown_on_panic — no Builder::unhandled_panic(ShutdownRuntime)
//   spawns_do_nothing — no Builder::unhandled_panic(ShutdownRuntime)
//   shutdown_all_concurrent_block_on — no Builder::unhandled_panic (concurrent block_on calls take turns: rt_common's always_active_parker)
//   rng_seed — no Builder::rng_seed (no seeded runtime RNG)
//   rng_seed_multi_enter — no Builder::rng_seed
//
// Differs:
//   spawn_two, spawn_remote (their metrics checks) — braid's block_on future
//     is a task scheduled from the calling thread (one more remote
//     schedule), woken by the tasks it awaits (local schedules); Tokio's is
//     no task.
//
// Not applicable:
//   timeout_panics_when_no_time_handle — every braid runtime has timers (there is no enable_time to forget)
#include <catch2/catch.hpp>
#include <braid/stream.hpp>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "support.hpp"

namespace conformance_rt_basic {

namespace bs = braid::stream;
using braid_test::pending;

namespace {

braid::Runtime rt() { return braid::Runtime::builder().current_thread().build(); }

braid::Task<> yield_once() { co_await braid::yield_now(); }

// A stream that counts how often it is polled.
template <class S>
class TrackPolls : public bs::StreamBase<TrackPolls<S>> {
public:
    using item_type = bs::item_t<S>;
    TrackPolls(S s, std::shared_ptr<std::atomic<int>> npolls) : s_(std::move(s)), npolls_(std::move(npolls)) {}
    bs::Poll<item_type> poll_next(braid::detail::Context& cx) {
        npolls_->fetch_add(1);
        return s_.poll_next(cx);
    }
    void detach() noexcept { s_.detach(); }

private:
    S s_;
    std::shared_ptr<std::atomic<int>> npolls_;
};

}  // namespace

TEST_CASE("rt_basic.spawned_task_does_not_progress_without_block_on") {
    auto [tx, rx] = braid::oneshot::channel<std::string>();
    auto rt = conformance_rt_basic::rt();

    rt.spawn([](braid::oneshot::Sender<std::string> tx) -> braid::Task<> {
          EXPECT(!tx.send("hello"));
          co_return;
      }(std::move(tx)))
        .detach();

    // Nobody is inside block_on: the task has not run.
    REQUIRE_FALSE(rx.try_recv());

    auto out = rt.block_on([](braid::oneshot::Receiver<std::string>* rx) -> braid::Task<std::string> {
        co_return co_await *rx;
    }(&rx));
    REQUIRE(out == "hello");
}

TEST_CASE("rt_basic.no_extra_poll") {
    auto [tx, s] = braid_test::unbounded_channel_stream<int>();
    auto npolls = std::make_shared<std::atomic<int>>(0);
    TrackPolls<braid::Stream<int>> rx(std::move(s), npolls);

    auto rt = conformance_rt_basic::rt();
    rt.spawn([](TrackPolls<braid::Stream<int>> rx) -> braid::Task<> {
          while (co_await rx.next()) {
          }
      }(std::move(rx)))
        .detach();
    rt.block_on(yield_once());

    // polled exactly once: the initial poll
    REQUIRE(npolls->load() == 1);

    REQUIRE_FALSE(tx->send(1));
    rt.block_on(yield_once());

    // twice more: once to give the item, once more to be pending again
    REQUIRE(npolls->load() == 1 + 2);

    tx.reset();
    rt.block_on(yield_once());

    // once more: to give the end
    REQUIRE(npolls->load() == 1 + 2 + 1);
}

TEST_CASE("rt_basic.acquire_mutex_in_drop") {
    auto [tx1, rx1] = braid::oneshot::channel<int>();
    auto [tx2, rx2] = braid::oneshot::channel<int>();

    auto rt = std::make_unique<braid::Runtime>(conformance_rt_basic::rt());

    rt->spawn([](braid::oneshot::Receiver<int> rx2) -> braid::Task<> {
          try {
              co_await rx2;
          } catch (const braid::RecvError&) {
          }
          EXPECT_ANYWHERE(!"unreachable: polled after the runtime was dropped");
      }(std::move(rx2)))
        .detach();

    rt->spawn([](braid::oneshot::Receiver<int> rx1, braid::oneshot::Sender<int> tx2) -> braid::Task<> {
          try {
              co_await rx1;
          } catch (const braid::RecvError&) {
          }
          tx2.send(0);
          EXPECT_ANYWHERE(!"unreachable: polled after the runtime was dropped");
      }(std::move(rx1), std::move(tx2)))
        .detach();

    // A task that will never notify
    rt->spawn([](braid::oneshot::Sender<int> tx1) -> braid::Task<> {
          co_await pending();
          tx1.send(0);
      }(std::move(tx1)))
        .detach();

    // Tick the loop
    rt->block_on(yield_once());

    // Drop the runtime: dropping the third task drops tx1, which wakes the
    // second; that one must not run any more (nor the first).
    rt.reset();
    REQUIRE(braid_test::worker_failures() == 0);
}

TEST_CASE("rt_basic.drop_tasks_in_context") {
    static std::atomic<bool> success{false};
    success = false;

    // A future whose destructor looks for the runtime (Handle::try_current).
    struct ContextOnDrop {
        ~ContextOnDrop() {
            try {
                (void)braid::Handle::current();
                success = true;
            } catch (const braid::Error&) {
            }
        }
    };

    auto rt = std::make_unique<braid::Runtime>(conformance_rt_basic::rt());
    rt->spawn([]() -> braid::Task<> {
          ContextOnDrop guard;
          co_await pending();
      }())
        .detach();
    // The task must have started for its frame to hold the guard.
    rt->block_on(yield_once());
    rt.reset();

    REQUIRE(success.load());
}

TEST_CASE("rt_basic.wake_in_drop_after_panic") {
    auto [tx, rx] = braid::oneshot::channel<int>();

    struct WakeOnDrop {
        braid::oneshot::Sender<int> tx;
        ~WakeOnDrop() { tx.send(0); }
    };

    auto rt = conformance_rt_basic::rt();

    rt.spawn([](braid::oneshot::Sender<int> tx) -> braid::Task<> {
          WakeOnDrop wake_on_drop{std::move(tx)};
          // wait forever
          co_await pending();
      }(std::move(tx)))
        .detach();

    auto join = rt.spawn([](braid::oneshot::Receiver<int> rx) -> braid::Task<int> { co_return co_await rx; }(std::move(rx)));

    REQUIRE_THROWS_WITH(rt.block_on([]() -> braid::Task<> {
                            co_await braid::yield_now();
                            throw std::runtime_error("boom");
                        }()),
                        "boom");
    // The runtime is dropped here with both tasks pending: the first one's
    // destructor wakes the second one.
}

TEST_CASE("rt_basic.spawn_two") {
    auto rt = conformance_rt_basic::rt();
    auto handle = rt.handle();

    auto out = rt.block_on([]() -> braid::Task<std::string> {
        auto [tx, rx] = braid::oneshot::channel<std::string>();

        braid::spawn([](braid::oneshot::Sender<std::string> tx) -> braid::Task<> {
            braid::spawn([](braid::oneshot::Sender<std::string> tx) -> braid::Task<> {
                EXPECT(!tx.send("ZOMG"));
                co_return;
            }(std::move(tx))).detach();
            co_return;
        }(std::move(tx))).detach();

        co_return co_await rx;
    }());

    REQUIRE(out == "ZOMG");

    { auto gone = std::move(rt); }
    auto m = handle.metrics();
    REQUIRE(m.remote_schedules == 1);  // block_on's task
    // The two spawns, and the send waking block_on's task.
    REQUIRE(m.worker[0].local_schedules == 3);
}

TEST_CASE("rt_basic.spawn_remote") {
    auto rt = conformance_rt_basic::rt();
    auto rt_handle = rt.handle();
    std::thread sender;

    auto out = rt.block_on([](std::thread* sender) -> braid::Task<std::string> {
        auto [tx, rx] = braid::oneshot::channel<std::string>();

        auto handle = braid::spawn([](std::thread* sender, braid::oneshot::Sender<std::string> tx,
                                      braid::oneshot::Receiver<std::string> rx) -> braid::Task<std::string> {
            *sender = std::thread([tx = std::move(tx)]() mutable { EXPECT_ANYWHERE(!tx.send("ZOMG")); });
            co_return co_await rx;
        }(sender, std::move(tx), std::move(rx)));

        co_return co_await handle;
    }(&sender));
    sender.join();

    REQUIRE(out == "ZOMG");

    { auto gone = std::move(rt); }
    auto m = rt_handle.metrics();
    // block_on's task, and the send from the other thread when it found the
    // task waiting (it may have sent before the task waited).
    REQUIRE(m.remote_schedules >= 1);
    REQUIRE(m.remote_schedules <= 2);
    // The spawn, and the spawned task's end waking block_on's task.
    REQUIRE(m.worker[0].local_schedules == 2);
}

}  // namespace conformance_rt_basic
