// Conformance: tokio/tests/sync_watch.rs (Tokio 1.24), ported from what each
// case asserts.  Tokio's hand-polled changed() and closed() futures are
// braid_watch_rx_poll_changed / braid_watch_tx_poll_closed polled with a
// counting waker (braid_test::PolledWait); dropping the future is its
// cancel.  Values are read through the C++ borrow().
//
// Gaps: none.
//
// Not applicable: none.
//
// Note: Tokio's has_changed() is an error once every sender is gone;
// braid's C++ has_changed() returns false then, and only the C ABI
// (braid_watch_rx_has_changed: BRAID_ECLOSED) tells the two apart, so
// borrow_and_update checks that through the C ABI.
//
// braid's own: stress_versions_in_order (one sender counting up on one
// worker, receivers on others: each sees values only increasing and ends on
// the last one).
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "support.hpp"

namespace conformance_sync_watch {

using braid_test::PolledWait;
using Rx = braid::watch::Receiver<std::string>;
using Tx = braid::watch::Sender<std::string>;

namespace {
PolledWait changed(Rx& rx) {
    return PolledWait(rx.native_handle(), braid_watch_rx_poll_changed, braid_watch_rx_cancel_changed);
}
PolledWait closed(Tx& tx) {
    return PolledWait(tx.native_handle(), braid_watch_tx_poll_closed, braid_watch_tx_cancel_closed);
}
std::string value(const Rx& rx) { return *rx.borrow(); }
}  // namespace

TEST_CASE("sync_watch.single_rx_recv") {
    auto [tx, rx] = braid::watch::channel<std::string>("one");
    {
        // not initially notified
        auto t = changed(rx);
        REQUIRE(t.poll() == BRAID_PENDING);
    }
    REQUIRE(value(rx) == "one");
    {
        auto t = changed(rx);
        REQUIRE(t.poll() == BRAID_PENDING);
        REQUIRE_FALSE(tx.send("two").has_value());
        REQUIRE(t.is_woken());
        REQUIRE(t.poll() == BRAID_OK);
    }
    REQUIRE(value(rx) == "two");
    {
        auto t = changed(rx);
        REQUIRE(t.poll() == BRAID_PENDING);
        { auto gone = std::move(tx); }
        REQUIRE(t.is_woken());
        REQUIRE(t.poll() == BRAID_ECLOSED);
    }
    REQUIRE(value(rx) == "two");
}

TEST_CASE("sync_watch.multi_rx") {
    auto [tx, rx1] = braid::watch::channel<std::string>("one");
    Rx rx2 = rx1;
    {
        auto t1 = changed(rx1);
        auto t2 = changed(rx2);
        REQUIRE(t1.poll() == BRAID_PENDING);
        REQUIRE(t2.poll() == BRAID_PENDING);
    }
    REQUIRE(value(rx1) == "one");
    REQUIRE(value(rx2) == "one");

    auto t2 = std::make_unique<PolledWait>(rx2.native_handle(), braid_watch_rx_poll_changed,
                                           braid_watch_rx_cancel_changed);
    {
        auto t1 = changed(rx1);
        REQUIRE(t1.poll() == BRAID_PENDING);
        REQUIRE(t2->poll() == BRAID_PENDING);
        REQUIRE_FALSE(tx.send("two").has_value());
        REQUIRE(t1.is_woken());
        REQUIRE(t2->is_woken());
        REQUIRE(t1.poll() == BRAID_OK);
    }
    REQUIRE(value(rx1) == "two");
    {
        auto t1 = changed(rx1);
        REQUIRE(t1.poll() == BRAID_PENDING);
        REQUIRE_FALSE(tx.send("three").has_value());
        REQUIRE(t1.is_woken());
        REQUIRE(t2->is_woken());
        REQUIRE(t1.poll() == BRAID_OK);
        REQUIRE(t2->poll() == BRAID_OK);
    }
    REQUIRE(value(rx1) == "three");

    t2.reset();
    REQUIRE(value(rx2) == "three");
    {
        auto t1 = changed(rx1);
        auto t2b = changed(rx2);
        REQUIRE(t1.poll() == BRAID_PENDING);
        REQUIRE(t2b.poll() == BRAID_PENDING);
        REQUIRE_FALSE(tx.send("four").has_value());
        REQUIRE(t1.poll() == BRAID_OK);
        REQUIRE(t2b.poll() == BRAID_OK);
    }
    REQUIRE(value(rx1) == "four");
    REQUIRE(value(rx2) == "four");
}

TEST_CASE("sync_watch.rx_observes_final_value") {
    {
        // the initial value
        auto [tx, rx] = braid::watch::channel<std::string>("one");
        { auto gone = std::move(tx); }
        {
            auto t1 = changed(rx);
            REQUIRE(t1.poll() == BRAID_ECLOSED);
        }
        REQUIRE(value(rx) == "one");
    }
    // a value sent
    auto [tx, rx] = braid::watch::channel<std::string>("one");
    REQUIRE_FALSE(tx.send("two").has_value());
    {
        auto t1 = changed(rx);
        REQUIRE(t1.poll() == BRAID_OK);
    }
    REQUIRE(value(rx) == "two");
    {
        auto t1 = changed(rx);
        REQUIRE(t1.poll() == BRAID_PENDING);
        REQUIRE_FALSE(tx.send("three").has_value());
        { auto gone = std::move(tx); }
        REQUIRE(t1.is_woken());
        REQUIRE(t1.poll() == BRAID_OK);  // the last value before the close
    }
    REQUIRE(value(rx) == "three");
    {
        auto t1 = changed(rx);
        REQUIRE(t1.poll() == BRAID_ECLOSED);
    }
    REQUIRE(value(rx) == "three");
}

TEST_CASE("sync_watch.poll_close") {
    auto [tx, rx] = braid::watch::channel<std::string>("one");
    {
        auto t = closed(tx);
        REQUIRE(t.poll() == BRAID_PENDING);
        { auto gone = std::move(rx); }
        REQUIRE(t.is_woken());
        REQUIRE(t.poll() == BRAID_OK);
    }
    auto back = tx.send("two");
    REQUIRE(back.has_value());
    REQUIRE(*back == "two");
}

TEST_CASE("sync_watch.borrow_and_update") {
    auto [tx, rx] = braid::watch::channel<std::string>("one");
    REQUIRE_FALSE(rx.has_changed());

    REQUIRE_FALSE(tx.send("two").has_value());
    REQUIRE(rx.has_changed());
    REQUIRE(changed(rx).poll() == BRAID_OK);
    REQUIRE(changed(rx).poll() == BRAID_PENDING);
    REQUIRE_FALSE(rx.has_changed());

    REQUIRE_FALSE(tx.send("three").has_value());
    REQUIRE(rx.has_changed());
    REQUIRE(*rx.borrow_and_update() == "three");
    REQUIRE(changed(rx).poll() == BRAID_PENDING);
    REQUIRE_FALSE(rx.has_changed());

    { auto gone = std::move(tx); }
    REQUIRE(*rx.borrow_and_update() == "three");
    REQUIRE(changed(rx).poll() == BRAID_ECLOSED);
    REQUIRE(braid_watch_rx_has_changed(rx.native_handle()) == BRAID_ECLOSED);
}

TEST_CASE("sync_watch.reopened_after_subscribe") {
    auto [tx, rx] = braid::watch::channel<std::string>("one");
    REQUIRE_FALSE(tx.is_closed());
    { auto gone = std::move(rx); }
    REQUIRE(tx.is_closed());

    {
        auto rx2 = tx.subscribe();
        REQUIRE_FALSE(tx.is_closed());
    }
    REQUIRE(tx.is_closed());
}

TEST_CASE("sync_watch.send_modify_panic") {
    auto [tx, rx] = braid::watch::channel<std::string>("one");
    tx.send_modify([](std::string& old) { old = "two"; });
    REQUIRE(*rx.borrow_and_update() == "two");

    Rx rx2 = rx;
    REQUIRE(*rx2.borrow_and_update() == "two");

    auto task = changed(rx2);

    // The modification throws halfway: what it changed stays, nobody is
    // notified, the exception reaches the caller.
    REQUIRE_THROWS_AS(tx.send_modify([](std::string& old) {
        old = "panicked";
        throw std::runtime_error("modify failed");
    }),
                      std::runtime_error);

    REQUIRE(task.poll() == BRAID_PENDING);
    REQUIRE(value(rx) == "panicked");

    tx.send_modify([](std::string& old) { old = "three"; });
    REQUIRE(task.poll() == BRAID_OK);
    REQUIRE(*rx.borrow_and_update() == "three");
}

TEST_CASE("sync_watch.stress_versions_in_order") {
    constexpr int kReceivers = 6;
    const long last = 20000 / braid_test::kStressDivisor;
    auto rt = braid_test::runtime(4);
    struct Seen {
        std::atomic<long> out_of_order{0}, ended_on{-1}, changes{0};
    };
    auto seen = std::make_shared<Seen>();
    rt.block_on([](std::shared_ptr<Seen> seen, long last) -> braid::Task<> {
        auto [tx, rx] = braid::watch::channel<long>(0);
        std::vector<braid::JoinHandle<long>> receivers;
        for (int r = 0; r < kReceivers; ++r) {
            receivers.push_back(braid::spawn([](braid::watch::Receiver<long> rx,
                                                std::shared_ptr<Seen> seen) -> braid::Task<long> {
                long prev = *rx.borrow_and_update();
                while (co_await rx.changed()) {
                    long v = *rx.borrow_and_update();
                    if (v <= prev) seen->out_of_order.fetch_add(1);
                    prev = v;
                    seen->changes.fetch_add(1);
                }
                // every sender gone: what is left is the last value sent
                co_return *rx.borrow();
            }, rx, seen));
        }
        { auto mine = std::move(rx); }
        auto sender = braid::spawn([](braid::watch::Sender<long> tx, long last) -> braid::Task<> {
            for (long i = 1; i <= last; ++i) {
                tx.send_modify([i](long& v) { v = i; });
                if (i % 32 == 0) co_await braid::yield_now();
            }
        }, std::move(tx), last);
        co_await sender;
        for (auto& r : receivers) {
            long v = co_await r;
            if (v != last) seen->ended_on.store(v);
        }
    }(seen, last));
    REQUIRE(seen->out_of_order.load() == 0);
    REQUIRE(seen->ended_on.load() == -1);
    REQUIRE(seen->changes.load() >= kReceivers);
}

}  // namespace conformance_sync_watch
