// Conformance: tokio/tests/sync_oneshot.rs (Tokio 1.24), ported from what
// each case asserts.  Tokio's hand-polled receiver and poll_closed are the C
// ABI's braid_oneshot_poll_recv and braid_oneshot_tx_poll_closed polled with
// counting wakers, on a channel made in C and owned by the C++ Sender and
// Receiver.  #[tokio::test] cases run on a current-thread runtime.
//
// Gaps: none.
//
// Not applicable: none.
//
// close_try_recv_poll is Tokio's #[should_panic] on polling a receiver that
// closed: braid's poll gives BRAID_ECLOSED, which the case checks.
//
// The waker_ref_count checks of drops_tasks, receiver_changes_task and
// sender_changes_task count Rust Waker clones the channel holds; braid's
// wakers are a function and a pointer, so those cases check instead which
// waker is called (the registered one, only that one, never after its
// handle is gone).
//
// braid's own: stress_pairs (oneshots across four workers, a third of the
// receivers dropped early: every value is received, handed back or
// destroyed, once).
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <vector>

#include "support.hpp"

namespace conformance_sync_oneshot {

using braid_test::CountingWaker;
using braid_test::Tracked;

namespace {
// A channel of int made in C: the C++ halves own it, the raw handles are
// for polling by hand.
struct Channel {
    braid_oneshot_tx* ctx = nullptr;
    braid_oneshot_rx* crx = nullptr;
    braid::oneshot::Sender<int> tx;
    braid::oneshot::Receiver<int> rx;
    Channel() {
        REQUIRE(braid_oneshot_new(&ctx, &crx, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
        tx = braid::oneshot::Sender<int>(ctx);
        rx = braid::oneshot::Receiver<int>(crx);
    }
    int poll_recv(CountingWaker& w, int* out) { return braid_oneshot_poll_recv(crx, &CountingWaker::wake, &w, out, sizeof(int)); }
    int poll_closed(CountingWaker& w) { return braid_oneshot_tx_poll_closed(ctx, &CountingWaker::wake, &w); }
};
}  // namespace

TEST_CASE("sync_oneshot.send_recv") {
    Channel ch;
    CountingWaker rx_task;
    int v = 0;
    REQUIRE(ch.poll_recv(rx_task, &v) == BRAID_PENDING);

    REQUIRE_FALSE(ch.tx.send(1).has_value());
    REQUIRE(rx_task.woken());

    REQUIRE(ch.poll_recv(rx_task, &v) == BRAID_OK);
    REQUIRE(v == 1);
}

TEST_CASE("sync_oneshot.async_send_recv") {
    auto rt = braid_test::current_thread_runtime();
    int v = rt.block_on([]() -> braid::Task<int> {
        auto [tx, rx] = braid::oneshot::channel<int>();
        EXPECT(!tx.send(1).has_value());
        co_return co_await std::move(rx);
    }());
    REQUIRE(v == 1);
}

TEST_CASE("sync_oneshot.close_tx") {
    Channel ch;
    CountingWaker rx_task;
    int v = 0;
    REQUIRE(ch.poll_recv(rx_task, &v) == BRAID_PENDING);

    { auto gone = std::move(ch.tx); }
    REQUIRE(rx_task.woken());
    REQUIRE(ch.poll_recv(rx_task, &v) == BRAID_ECLOSED);
    REQUIRE(ch.rx.try_recv().is_closed());
}

TEST_CASE("sync_oneshot.close_rx") {
    {
        // without waiting on closed(): the value comes back
        auto [tx, rx] = braid::oneshot::channel<int>();
        { auto gone = std::move(rx); }
        auto back = tx.send(1);
        REQUIRE(back.has_value());
        REQUIRE(*back == 1);
    }
    {
        // through poll_closed
        Channel ch;
        CountingWaker tx_task;
        REQUIRE(ch.poll_closed(tx_task) == BRAID_PENDING);
        // asking does not take the waiting task's place
        REQUIRE_FALSE(ch.tx.is_closed());

        { auto gone = std::move(ch.rx); }

        REQUIRE(tx_task.woken());
        REQUIRE(ch.tx.is_closed());
        REQUIRE(ch.poll_closed(tx_task) == BRAID_OK);
        REQUIRE(ch.tx.send(1) == std::optional<int>(1));
    }
}

TEST_CASE("sync_oneshot.async_rx_closed") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::oneshot::channel<int>();
        braid::spawn([](braid::oneshot::Receiver<int> rx) -> braid::Task<> {
            { auto gone = std::move(rx); }
            co_return;
        }, std::move(rx)).detach();
        co_await tx.closed();
        EXPECT(tx.is_closed());
    }());
}

TEST_CASE("sync_oneshot.try_recv_after_completion") {
    auto [tx, rx] = braid::oneshot::channel<int>();
    REQUIRE_FALSE(tx.send(17).has_value());
    REQUIRE(rx.try_recv() == std::optional<int>(17));
    // the value was taken: the channel is finished (Tokio: Err(Closed))
    REQUIRE(rx.try_recv().error() == braid::TryRecvError::Closed);
    rx.close();
}

TEST_CASE("sync_oneshot.try_recv_after_completion_await") {
    Channel ch;
    REQUIRE_FALSE(ch.tx.send(17).has_value());
    CountingWaker rx_task;
    int v = 0;
    REQUIRE(ch.poll_recv(rx_task, &v) == BRAID_OK);
    REQUIRE(v == 17);
    REQUIRE(ch.rx.try_recv().is_closed());
    ch.rx.close();
}

TEST_CASE("sync_oneshot.explicit_close_poll") {
    {
        // with a value sent: it can still be received after close
        Channel ch;
        REQUIRE_FALSE(ch.tx.send(17).has_value());
        ch.rx.close();
        CountingWaker rx_task;
        int v = 0;
        REQUIRE(ch.poll_recv(rx_task, &v) == BRAID_OK);
        REQUIRE(v == 17);
    }
    {
        // without: the sender waiting on closed() is woken, its send refused
        Channel ch;
        CountingWaker tx_task, rx_task;
        REQUIRE(ch.poll_closed(tx_task) == BRAID_PENDING);
        ch.rx.close();
        REQUIRE(tx_task.woken());
        REQUIRE(ch.tx.is_closed());
        REQUIRE(ch.poll_closed(tx_task) == BRAID_OK);
        REQUIRE(ch.tx.send(10) == std::optional<int>(10));
        int v = 0;
        REQUIRE(ch.poll_recv(rx_task, &v) == BRAID_ECLOSED);
    }
    {
        // again, nobody waiting
        Channel ch;
        CountingWaker tx_task, rx_task;
        REQUIRE_FALSE(ch.tx.is_closed());
        ch.rx.close();
        REQUIRE(ch.tx.is_closed());
        REQUIRE(ch.poll_closed(tx_task) == BRAID_OK);
        int v = 0;
        REQUIRE(ch.poll_recv(rx_task, &v) == BRAID_ECLOSED);
    }
}

TEST_CASE("sync_oneshot.explicit_close_try_recv") {
    {
        auto [tx, rx] = braid::oneshot::channel<int>();
        REQUIRE_FALSE(tx.send(17).has_value());
        rx.close();
        auto r = rx.try_recv();
        REQUIRE(r.has_value());
        REQUIRE(*r == 17);
    }
    {
        Channel ch;
        CountingWaker tx_task;
        REQUIRE(ch.poll_closed(tx_task) == BRAID_PENDING);
        ch.rx.close();
        REQUIRE(tx_task.woken());
        REQUIRE(ch.tx.is_closed());
        REQUIRE(ch.poll_closed(tx_task) == BRAID_OK);
        REQUIRE(ch.rx.try_recv().is_closed());
    }
}

TEST_CASE("sync_oneshot.close_try_recv_poll") {
    Channel ch;
    ch.rx.close();
    REQUIRE(ch.rx.try_recv().is_closed());
    CountingWaker rx_task;
    int v = 0;
    REQUIRE(ch.poll_recv(rx_task, &v) == BRAID_ECLOSED);  // Tokio panics here
    REQUIRE_FALSE(rx_task.woken());
}

TEST_CASE("sync_oneshot.close_after_recv") {
    auto [tx, rx] = braid::oneshot::channel<int>();
    REQUIRE_FALSE(tx.send(17).has_value());
    REQUIRE(rx.try_recv().value() == 17);
    rx.close();
    REQUIRE(rx.try_recv().is_closed());
}

TEST_CASE("sync_oneshot.drops_tasks") {
    // Both halves are dropped while a waker is registered on each.  The one
    // dropped first is no longer there to be woken: only the other is told.
    {
        // the sender first (Tokio's order)
        Channel ch;
        CountingWaker tx_task, rx_task;
        int v = 0;
        REQUIRE(ch.poll_closed(tx_task) == BRAID_PENDING);
        REQUIRE(ch.poll_recv(rx_task, &v) == BRAID_PENDING);
        { auto gone = std::move(ch.tx); }
        REQUIRE(rx_task.count() == 1);
        { auto gone = std::move(ch.rx); }
        REQUIRE(tx_task.count() == 0);
        REQUIRE(rx_task.count() == 1);
    }
    {
        // the receiver first
        Channel ch;
        CountingWaker tx_task, rx_task;
        int v = 0;
        REQUIRE(ch.poll_closed(tx_task) == BRAID_PENDING);
        REQUIRE(ch.poll_recv(rx_task, &v) == BRAID_PENDING);
        { auto gone = std::move(ch.rx); }
        REQUIRE(tx_task.count() == 1);
        { auto gone = std::move(ch.tx); }
        REQUIRE(rx_task.count() == 0);
        REQUIRE(tx_task.count() == 1);
    }
    {
        // the sender sends: the receiver is woken, the sender's waker is gone
        Channel ch;
        CountingWaker tx_task, rx_task;
        int v = 0;
        REQUIRE(ch.poll_closed(tx_task) == BRAID_PENDING);
        REQUIRE(ch.poll_recv(rx_task, &v) == BRAID_PENDING);
        REQUIRE_FALSE(ch.tx.send(3).has_value());
        REQUIRE(rx_task.count() == 1);
        { auto gone = std::move(ch.rx); }
        REQUIRE(tx_task.count() == 0);
    }
}

TEST_CASE("sync_oneshot.receiver_changes_task") {
    Channel ch;
    CountingWaker task1, task2;
    int v = 0;
    REQUIRE(ch.poll_recv(task1, &v) == BRAID_PENDING);
    // polled again from another task: that task's waker replaces the first
    REQUIRE(ch.poll_recv(task2, &v) == BRAID_PENDING);

    REQUIRE_FALSE(ch.tx.send(1).has_value());

    REQUIRE_FALSE(task1.woken());
    REQUIRE(task2.woken());
    REQUIRE(ch.poll_recv(task2, &v) == BRAID_OK);
    REQUIRE(v == 1);
}

TEST_CASE("sync_oneshot.sender_changes_task") {
    Channel ch;
    CountingWaker task1, task2;
    REQUIRE(ch.poll_closed(task1) == BRAID_PENDING);
    REQUIRE(ch.poll_closed(task2) == BRAID_PENDING);

    { auto gone = std::move(ch.rx); }

    REQUIRE_FALSE(task1.woken());
    REQUIRE(task2.woken());
    REQUIRE(ch.poll_closed(task2) == BRAID_OK);
}

TEST_CASE("sync_oneshot.stress_pairs") {
    const int n = 6000 / braid_test::kStressDivisor;
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    struct Counts {
        std::atomic<int> received{0}, handed_back{0}, sender_gone{0}, receiver_gone{0};
    };
    auto c = std::make_shared<Counts>();
    {
        auto rt = braid_test::runtime(4);
        rt.block_on([](std::shared_ptr<Counts> c, int n) -> braid::Task<> {
            std::vector<braid::JoinHandle<void>> tasks;
            for (int i = 0; i < n; ++i) {
                auto [tx, rx] = braid::oneshot::channel<Tracked>();
                tasks.push_back(braid::spawn([](braid::oneshot::Sender<Tracked> tx, int i,
                                                std::shared_ptr<Counts> c) -> braid::Task<> {
                    if (i % 5 == 4) co_return;  // dropped without sending
                    if (auto back = tx.send(Tracked(i))) {
                        EXPECT(back->value == i);
                        c->handed_back.fetch_add(1);
                    }
                }, std::move(tx), i, c));
                tasks.push_back(braid::spawn([](braid::oneshot::Receiver<Tracked> rx, int i,
                                                std::shared_ptr<Counts> c) -> braid::Task<> {
                    if (i % 3 == 2) {  // dropped, with or without a value in it
                        c->receiver_gone.fetch_add(1);
                        co_return;
                    }
                    try {
                        Tracked v = co_await std::move(rx);
                        EXPECT(v.value == i);
                        c->received.fetch_add(1);
                    } catch (const braid::RecvError&) {
                        c->sender_gone.fetch_add(1);
                    }
                }, std::move(rx), i, c));
            }
            for (auto& t : tasks) co_await t;
        }(c, n));
    }
    int kept = 0, dropped_tx = 0, kept_and_sent = 0;
    for (int i = 0; i < n; ++i) {
        bool sends = i % 5 != 4, receives = i % 3 != 2;
        kept += receives;
        dropped_tx += receives && !sends;
        kept_and_sent += receives && sends;
    }
    REQUIRE(c->received.load() == kept_and_sent);
    REQUIRE(c->sender_gone.load() == dropped_tx);
    REQUIRE(c->received.load() + c->sender_gone.load() == kept);
    REQUIRE(c->handed_back.load() <= n - kept);
    REQUIRE(Tracked::live() == 0);
}

}  // namespace conformance_sync_oneshot
