// Conformance: tokio/tests/sync_mpsc_weak.rs (Tokio 1.24), ported from what
// each case asserts.  #[tokio::test] cases run on a current-thread runtime.
// Tokio's reserve_owned() consumes its sender; braid's copies it, so the
// ports drop the original sender right after.  Tokio counts drops of Msg
// (moves are not drops in Rust); the ports count live braid_test::Tracked
// values instead.  A WeakSender of an unbounded channel upgrades with
// upgrade_unbounded().
//
// Gaps: none.
//
// Not applicable: none.
//
// g++ 12.2 destroys an aggregate temporary passed by value inside a
// co_await operand twice (docs/compilers.md): the actor messages are named
// before they are sent.
//
// braid's own: stress_upgrade_races (tasks on four workers upgrade weak
// senders and send while the last strong senders go: every send that
// succeeded is received, once, and the receiver ends).
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <vector>

#include "support.hpp"

namespace conformance_sync_mpsc_weak {

using braid_test::Tracked;

namespace {

// What the received loop of weak_sender and weak_unbounded_sender checks:
// the 11th value is 20, then the channel ends (all senders gone, the weak
// one does not keep it open).
braid::Task<bool> receive_eleven(braid::mpsc::Receiver<int>& rx) {
    for (int i = 0; i < 12; ++i) {
        auto msg = co_await rx.recv();
        if (msg) {
            if (i == 10 && *msg != 20) co_return false;
        } else {
            co_return i == 11;
        }
    }
    co_return false;
}
}  // namespace

TEST_CASE("sync_mpsc_weak.weak_sender") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::mpsc::channel<int>(11);
        auto weak = co_await braid::spawn([](braid::mpsc::Sender<int> tx) -> braid::Task<std::optional<braid::mpsc::WeakSender<int>>> {
            auto tx_weak = braid::mpsc::Sender<int>(tx).downgrade();
            for (int i = 0; i < 10; ++i)
                if (co_await tx.send(i)) co_return std::nullopt;
            auto tx2 = tx_weak.upgrade();
            EXPECT(tx2.has_value());  // tx is still there
            (void)co_await tx2->send(20);
            co_return tx2->downgrade();
        }, std::move(tx));
        EXPECT(co_await receive_eleven(rx));
        EXPECT(weak.has_value());
        EXPECT(!weak->upgrade().has_value());
    }());
}

namespace {
// Tokio's actor example: the actor keeps a weak sender to itself, so it ends
// when its last handle goes even though it can still message itself.
struct ActorMessage {
    // GetUniqueId when respond_to is set, SelfMessage otherwise
    std::optional<braid::oneshot::Sender<unsigned>> respond_to;
};

template <class Rx, class Weak, class Upgrade, class Send>
braid::Task<bool> run_actor(Rx receiver, Weak sender, Upgrade upgrade, Send send) {
    unsigned next_id = 0;
    bool received_self_msg = false;
    int i = 0;
    while (auto msg = co_await receiver.recv()) {
        if (msg->respond_to) {
            ++next_id;
            (void)msg->respond_to->send(next_id);  // ignored if the asker is gone
        } else {
            received_self_msg = true;
        }
        if (i == 0) {
            // send a message to itself while a strong sender still exists
            if (auto strong = upgrade(sender)) {
                ActorMessage self_msg;  // named: see the g++ 12 note at the top
                co_await send(*strong, std::move(self_msg));
                sender = strong->downgrade();
            }
        }
        ++i;
    }
    co_return received_self_msg;
}
}  // namespace

TEST_CASE("sync_mpsc_weak.actor_weak_sender") {
    auto rt = braid_test::current_thread_runtime();
    bool received_self_msg = rt.block_on([]() -> braid::Task<bool> {
        auto [sender, receiver] = braid::mpsc::channel<ActorMessage>(8);
        auto upgrade = [](const braid::mpsc::WeakSender<ActorMessage>& w) { return w.upgrade(); };
        auto send = [](braid::mpsc::Sender<ActorMessage>& s, ActorMessage m) -> braid::Task<> {
            (void)co_await s.send(std::move(m));
        };
        auto actor = braid::spawn(run_actor<braid::mpsc::Receiver<ActorMessage>, braid::mpsc::WeakSender<ActorMessage>,
                                            decltype(upgrade), decltype(send)>(std::move(receiver), sender.downgrade(),
                                                                               upgrade, send));
        co_await braid::spawn([](braid::mpsc::Sender<ActorMessage> handle) -> braid::Task<> {
            auto [send, recv] = braid::oneshot::channel<unsigned>();
            ActorMessage msg{std::move(send)};  // named: see the g++ 12 note at the top
            (void)co_await handle.send(std::move(msg));
            unsigned id = co_await std::move(recv);
            EXPECT(id == 1);
        }, std::move(sender));
        co_return co_await actor;
    }());
    REQUIRE(received_self_msg);
}

TEST_CASE("sync_mpsc_weak.test_msgs_dropped_on_rx_drop") {
    Tracked::reset();
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::mpsc::channel<Tracked>(3);
        EXPECT(!(co_await tx.send(Tracked())).has_value());
        EXPECT(!(co_await tx.send(Tracked())).has_value());

        // this message is sent when the future is first awaited...
        auto sent_fut = tx.send(Tracked());

        (void)co_await rx.recv();
        (void)co_await rx.recv();
        EXPECT(!(co_await sent_fut).has_value());

        // ...and dropped with the receiver
        { auto gone = std::move(rx); }
        EXPECT(Tracked::live() == 0);

        // nothing is put into the channel once the receiver is gone
        auto back = co_await tx.send(Tracked());
        EXPECT(back.has_value());
        EXPECT(Tracked::live() == 1);
    }());
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("sync_mpsc_weak.downgrade_upgrade_sender_success") {
    auto [tx, rx] = braid::mpsc::channel<int>(1);
    auto weak_tx = tx.downgrade();
    REQUIRE(weak_tx.upgrade().has_value());
}

TEST_CASE("sync_mpsc_weak.downgrade_upgrade_sender_failure") {
    auto [tx, rx] = braid::mpsc::channel<int>(1);
    auto weak_tx = tx.downgrade();
    { auto gone = std::move(tx); }
    REQUIRE_FALSE(weak_tx.upgrade().has_value());
}

TEST_CASE("sync_mpsc_weak.downgrade_drop_upgrade") {
    auto [tx, rx] = braid::mpsc::channel<int>(1);
    // the copy is dropped right away
    auto weak_tx = braid::mpsc::Sender<int>(tx).downgrade();
    { auto gone = std::move(tx); }
    REQUIRE_FALSE(weak_tx.upgrade().has_value());
}

TEST_CASE("sync_mpsc_weak.downgrade_get_permit_upgrade_no_senders") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::mpsc::channel<int>(1);
        auto weak_tx = tx.downgrade();
        auto permit = co_await tx.reserve_owned();
        EXPECT(permit.has_value());
        { auto gone = std::move(tx); }  // only the permit's sender is left
        EXPECT(weak_tx.upgrade().has_value());
    }());
}

TEST_CASE("sync_mpsc_weak.downgrade_upgrade_get_permit_no_senders") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::mpsc::channel<int>(1);
        auto tx2 = tx;
        auto permit = co_await tx.reserve_owned();
        EXPECT(permit.has_value());
        { auto gone = std::move(tx); }
        auto weak_tx = tx2.downgrade();
        { auto gone = std::move(tx2); }
        EXPECT(weak_tx.upgrade().has_value());
    }());
}

TEST_CASE("sync_mpsc_weak.test_tx_count_weak_sender") {
    auto [tx, rx] = braid::mpsc::channel<int>(1);
    auto tx_weak = tx.downgrade();
    auto tx_weak2 = tx.downgrade();
    REQUIRE(tx.strong_count() == 1);
    { auto gone = std::move(tx); }
    REQUIRE_FALSE(tx_weak.upgrade().has_value());
    REQUIRE_FALSE(tx_weak2.upgrade().has_value());
}

TEST_CASE("sync_mpsc_weak.weak_unbounded_sender") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
        auto weak = co_await braid::spawn([](braid::mpsc::UnboundedSender<int> tx) -> braid::Task<std::optional<braid::mpsc::WeakSender<int>>> {
            auto tx_weak = braid::mpsc::UnboundedSender<int>(tx).downgrade();
            for (int i = 0; i < 10; ++i)
                if (tx.send(i)) co_return std::nullopt;
            auto tx2 = tx_weak.upgrade_unbounded();
            EXPECT(tx2.has_value());
            (void)tx2->send(20);
            co_return tx2->downgrade();
        }, std::move(tx));
        EXPECT(co_await receive_eleven(rx));
        EXPECT(weak.has_value());
        EXPECT(!weak->upgrade_unbounded().has_value());
    }());
}

TEST_CASE("sync_mpsc_weak.actor_weak_unbounded_sender") {
    auto rt = braid_test::current_thread_runtime();
    bool received_self_msg = rt.block_on([]() -> braid::Task<bool> {
        auto [sender, receiver] = braid::mpsc::unbounded_channel<ActorMessage>();
        auto upgrade = [](const braid::mpsc::WeakSender<ActorMessage>& w) { return w.upgrade_unbounded(); };
        auto send = [](braid::mpsc::UnboundedSender<ActorMessage>& s, ActorMessage m) -> braid::Task<> {
            (void)s.send(std::move(m));
            co_return;
        };
        auto actor = braid::spawn(run_actor<braid::mpsc::Receiver<ActorMessage>, braid::mpsc::WeakSender<ActorMessage>,
                                            decltype(upgrade), decltype(send)>(std::move(receiver), sender.downgrade(),
                                                                               upgrade, send));
        co_await braid::spawn([](braid::mpsc::UnboundedSender<ActorMessage> handle) -> braid::Task<> {
            auto [send, recv] = braid::oneshot::channel<unsigned>();
            (void)handle.send(ActorMessage{std::move(send)});
            unsigned id = co_await std::move(recv);
            EXPECT(id == 1);
        }, std::move(sender));
        co_return co_await actor;
    }());
    REQUIRE(received_self_msg);
}

TEST_CASE("sync_mpsc_weak.test_msgs_dropped_on_unbounded_rx_drop") {
    Tracked::reset();
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::mpsc::unbounded_channel<Tracked>();
        EXPECT(!tx.send(Tracked()).has_value());
        EXPECT(!tx.send(Tracked()).has_value());
        auto sent = tx.send(Tracked());  // stays in the channel

        (void)co_await rx.recv();
        (void)co_await rx.recv();
        EXPECT(!sent.has_value());

        { auto gone = std::move(rx); }
        EXPECT(Tracked::live() == 0);

        auto back = tx.send(Tracked());
        EXPECT(back.has_value());
        EXPECT(Tracked::live() == 1);
    }());
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("sync_mpsc_weak.downgrade_upgrade_unbounded_sender_success") {
    auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
    auto weak_tx = tx.downgrade();
    REQUIRE(weak_tx.upgrade_unbounded().has_value());
}

TEST_CASE("sync_mpsc_weak.downgrade_upgrade_unbounded_sender_failure") {
    auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
    auto weak_tx = tx.downgrade();
    { auto gone = std::move(tx); }
    REQUIRE_FALSE(weak_tx.upgrade_unbounded().has_value());
}

TEST_CASE("sync_mpsc_weak.downgrade_drop_upgrade_unbounded") {
    auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
    auto weak_tx = braid::mpsc::UnboundedSender<int>(tx).downgrade();
    { auto gone = std::move(tx); }
    REQUIRE_FALSE(weak_tx.upgrade_unbounded().has_value());
}

TEST_CASE("sync_mpsc_weak.test_tx_count_weak_unbounded_sender") {
    auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
    auto tx_weak = tx.downgrade();
    auto tx_weak2 = tx.downgrade();
    { auto gone = std::move(tx); }
    REQUIRE_FALSE(tx_weak.upgrade_unbounded().has_value());
    REQUIRE_FALSE(tx_weak2.upgrade_unbounded().has_value());
}

TEST_CASE("sync_mpsc_weak.stress_upgrade_races") {
    constexpr int kTasks = 8;
    const int rounds = 300 / braid_test::kStressDivisor;
    auto rt = braid_test::runtime(4);
    for (int round = 0; round < rounds; ++round) {
        auto [sent, received] = rt.block_on([]() -> braid::Task<std::pair<long, long>> {
            auto [tx, rx] = braid::mpsc::channel<int>(2);
            auto weak = tx.downgrade();
            auto sent = std::make_shared<std::atomic<long>>(0);
            std::vector<braid::JoinHandle<void>> tasks;
            for (int t = 0; t < kTasks; ++t) {
                tasks.push_back(braid::spawn([](braid::mpsc::WeakSender<int> weak,
                                                std::shared_ptr<std::atomic<long>> sent) -> braid::Task<> {
                    for (int i = 0; i < 20; ++i) {
                        auto strong = weak.upgrade();
                        if (!strong) co_return;  // every strong sender is gone
                        if (!(co_await strong->send(i)).has_value()) sent->fetch_add(1);
                    }
                }, weak, sent));
            }
            auto dropper = braid::spawn([](braid::mpsc::Sender<int> tx) -> braid::Task<> {
                co_await braid::yield_now();
                (void)tx;  // the last strong sender the channel started with goes
            }, std::move(tx));
            long received = 0;
            while (co_await rx.recv()) ++received;  // ends once every upgrade is gone
            co_await dropper;
            for (auto& t : tasks) co_await t;
            co_return std::pair<long, long>(sent->load(), received);
        }());
        REQUIRE(sent == received);
    }
}

}  // namespace conformance_sync_mpsc_weak
