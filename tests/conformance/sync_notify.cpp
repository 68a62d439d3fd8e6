// Conformance: tokio/tests/sync_notify.rs (Tokio 1.24), ported from what
// each case asserts.  Tokio's hand-polled `notified()` futures are
// braid_notify_poll_notified polled with a counting waker
// (braid_test::PolledWait); dropping the future is its cancel.  A braid
// notified() does nothing until it is first polled, like a Tokio Notified
// that was never enabled.
//
// Gaps: none.
//
// The enable cases call braid_notify_enable_notified (Notified::enable in
// C++) on the hand-polled wait.
//
// Not applicable:
//   notify_in_drop_after_wake - Tokio checks that a Waker whose destructor
//     calls notify_waiters does not deadlock when Notify drops it.  A braid
//     waker is a function and a pointer: nothing runs when a primitive lets
//     go of it, and a waker must not call back into the primitive that calls
//     it (docs/sync.md, Threads).
//
// braid's own stress cases, on four workers: stress_notify_one_counts
// (producers notify_one per item, consumers sleep on notified(): every item
// taken once, nobody left asleep) and stress_notify_waiters_and_one (Tokio's
// loom model notify_waiters_and_one, repeated: a waiter racing a
// notify_waiters and a notify_one always wakes).
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <vector>

#include "support.hpp"

namespace conformance_sync_notify {

using braid_test::CountingWaker;
using braid_test::PolledWait;

namespace {
PolledWait notified(braid::Notify& n) {
    return PolledWait(n.native_handle(), braid_notify_poll_notified, braid_notify_cancel_notified);
}
}  // namespace

TEST_CASE("sync_notify.notify_notified_one") {
    braid::Notify notify;
    auto n = notified(notify);
    notify.notify_one();
    REQUIRE(n.poll() == BRAID_OK);
}

TEST_CASE("sync_notify.notified_one_notify") {
    braid::Notify notify;
    auto n = notified(notify);
    REQUIRE(n.poll() == BRAID_PENDING);
    notify.notify_one();
    REQUIRE(n.is_woken());
    REQUIRE(n.poll() == BRAID_OK);
}

TEST_CASE("sync_notify.notified_multi_notify") {
    braid::Notify notify;
    auto n1 = notified(notify);
    auto n2 = notified(notify);
    REQUIRE(n1.poll() == BRAID_PENDING);
    REQUIRE(n2.poll() == BRAID_PENDING);

    notify.notify_one();
    REQUIRE(n1.is_woken());
    REQUIRE_FALSE(n2.is_woken());

    REQUIRE(n1.poll() == BRAID_OK);
    REQUIRE(n2.poll() == BRAID_PENDING);
}

TEST_CASE("sync_notify.notify_notified_multi") {
    braid::Notify notify;
    notify.notify_one();

    auto n1 = notified(notify);
    auto n2 = notified(notify);
    REQUIRE(n1.poll() == BRAID_OK);
    REQUIRE(n2.poll() == BRAID_PENDING);

    notify.notify_one();
    REQUIRE(n2.is_woken());
    REQUIRE(n2.poll() == BRAID_OK);
}

TEST_CASE("sync_notify.notified_drop_notified_notify") {
    braid::Notify notify;
    auto n1 = std::make_unique<PolledWait>(notify.native_handle(), braid_notify_poll_notified,
                                           braid_notify_cancel_notified);
    auto n2 = notified(notify);
    REQUIRE(n1->poll() == BRAID_PENDING);

    n1.reset();

    REQUIRE(n2.poll() == BRAID_PENDING);
    notify.notify_one();
    REQUIRE(n2.is_woken());
    REQUIRE(n2.poll() == BRAID_OK);
}

TEST_CASE("sync_notify.notified_multi_notify_drop_one") {
    braid::Notify notify;
    auto n1 = std::make_unique<PolledWait>(notify.native_handle(), braid_notify_poll_notified,
                                           braid_notify_cancel_notified);
    auto n2 = notified(notify);
    REQUIRE(n1->poll() == BRAID_PENDING);
    REQUIRE(n2.poll() == BRAID_PENDING);

    notify.notify_one();
    REQUIRE(n1->is_woken());
    REQUIRE_FALSE(n2.is_woken());

    // n1 was chosen and goes without taking it: the notification passes on
    n1.reset();
    REQUIRE(n2.is_woken());
    REQUIRE(n2.poll() == BRAID_OK);
}

TEST_CASE("sync_notify.notify_one_after_dropped_all") {
    braid::Notify notify;
    auto n1 = std::make_unique<PolledWait>(notify.native_handle(), braid_notify_poll_notified,
                                           braid_notify_cancel_notified);
    REQUIRE(n1->poll() == BRAID_PENDING);

    notify.notify_waiters();
    notify.notify_one();

    n1.reset();

    auto n2 = notified(notify);
    REQUIRE(n2.poll() == BRAID_OK);
}

TEST_CASE("sync_notify.test_notify_one_not_enabled") {
    braid::Notify notify;
    auto future = notified(notify);  // created, never polled
    notify.notify_one();
    REQUIRE(future.poll() == BRAID_OK);
}

TEST_CASE("sync_notify.test_waker_update") {
    braid::Notify notify;
    auto future = notified(notify);

    CountingWaker first;
    REQUIRE(future.poll_with(first) == BRAID_PENDING);

    // polled again with another waker: that one replaces the first
    REQUIRE(future.poll() == BRAID_PENDING);
    notify.notify_one();

    REQUIRE(future.is_woken());
    REQUIRE_FALSE(first.woken());
    REQUIRE(future.poll() == BRAID_OK);
}

TEST_CASE("sync_notify.stress_notify_one_counts") {
    constexpr int kProducers = 4, kConsumers = 4;
    const int per_producer = 5000 / braid_test::kStressDivisor;
    const long total = long(kProducers) * per_producer;
    struct Shared {
        braid::Notify notify;
        std::atomic<long> items{0};     // produced, not yet taken
        std::atomic<long> taken{0};
        std::atomic<bool> done{false};
    };
    auto s = std::make_shared<Shared>();
    auto rt = braid_test::runtime(4);
    std::vector<long> per_consumer = rt.block_on([](std::shared_ptr<Shared> s, int per_producer,
                                                    long total) -> braid::Task<std::vector<long>> {
        std::vector<braid::JoinHandle<long>> consumers;
        for (int c = 0; c < kConsumers; ++c) {
            consumers.push_back(braid::spawn([](std::shared_ptr<Shared> s, long total) -> braid::Task<long> {
                long mine = 0;
                for (;;) {
                    long n = s->items.load();
                    while (n > 0 && !s->items.compare_exchange_weak(n, n - 1)) {
                    }
                    if (n > 0) {
                        ++mine;
                        if (s->taken.fetch_add(1) + 1 == total) {
                            s->done.store(true);
                            s->notify.notify_one();  // wake the next consumer to see `done`
                        }
                        continue;
                    }
                    if (s->done.load()) {
                        s->notify.notify_one();  // and the next one after us
                        co_return mine;
                    }
                    co_await s->notify.notified();
                }
            }, s, total));
        }
        std::vector<braid::JoinHandle<void>> producers;
        for (int p = 0; p < kProducers; ++p) {
            producers.push_back(braid::spawn([](std::shared_ptr<Shared> s, int n) -> braid::Task<> {
                for (int i = 0; i < n; ++i) {
                    s->items.fetch_add(1);
                    s->notify.notify_one();
                    if (i % 64 == 0) co_await braid::yield_now();
                }
            }, s, per_producer));
        }
        for (auto& p : producers) co_await p;
        std::vector<long> got;
        for (auto& c : consumers) got.push_back(co_await c);
        co_return got;
    }(s, per_producer, total));
    long sum = 0;
    for (long n : per_consumer) sum += n;
    REQUIRE(sum == total);
    REQUIRE(s->taken.load() == total);
    REQUIRE(s->items.load() == 0);
}

TEST_CASE("sync_notify.stress_notify_waiters_and_one") {
    const int iterations = 2000 / braid_test::kStressDivisor;
    auto rt = braid_test::runtime(4);
    int woke = rt.block_on([](int iterations) -> braid::Task<int> {
        int woke = 0;
        for (int i = 0; i < iterations; ++i) {
            auto notify = std::make_shared<braid::Notify>();
            auto waiter = braid::spawn([](std::shared_ptr<braid::Notify> n) -> braid::Task<> {
                co_await n->notified();
            }, notify);
            auto all = braid::spawn([](std::shared_ptr<braid::Notify> n) -> braid::Task<> {
                n->notify_waiters();
                co_return;
            }, notify);
            auto one = braid::spawn([](std::shared_ptr<braid::Notify> n) -> braid::Task<> {
                n->notify_one();
                co_return;
            }, notify);
            co_await all;
            co_await one;
            co_await waiter;  // never stays asleep: the notify_one is not lost
            ++woke;
            // at most the one notify_one is left stored
            notify->try_notified();
            EXPECT(!notify->try_notified());
        }
        co_return woke;
    }(iterations));
    REQUIRE(woke == iterations);
}

namespace {
int enable(braid::Notify& notify, PolledWait& n) { return braid_notify_enable_notified(notify.native_handle(), n.waiter()); }
}  // namespace

TEST_CASE("sync_notify.test_notify_one_after_enable") {
    braid::Notify notify;
    auto n = notified(notify);
    REQUIRE(enable(notify, n) == 0);
    notify.notify_one();
    REQUIRE(enable(notify, n) == 1);
    REQUIRE(n.poll() == BRAID_OK);
}

TEST_CASE("sync_notify.test_poll_after_enable") {
    braid::Notify notify;
    auto n = notified(notify);
    REQUIRE(enable(notify, n) == 0);
    REQUIRE(n.poll() == BRAID_PENDING);
    notify.notify_one();
    REQUIRE(n.is_woken());
    REQUIRE(n.poll() == BRAID_OK);
}

TEST_CASE("sync_notify.test_enable_after_poll") {
    braid::Notify notify;
    auto n = notified(notify);
    REQUIRE(n.poll() == BRAID_PENDING);
    REQUIRE(enable(notify, n) == 0);
    notify.notify_one();
    REQUIRE(n.is_woken());
    REQUIRE(enable(notify, n) == 1);
    REQUIRE(n.poll() == BRAID_OK);
}

TEST_CASE("sync_notify.test_enable_consumes_permit") {
    braid::Notify notify;
    notify.notify_one();  // stored
    auto n1 = notified(notify);
    REQUIRE(enable(notify, n1) == 1);
    auto n2 = notified(notify);
    REQUIRE(enable(notify, n2) == 0);  // the permit was n1's
}

}  // namespace conformance_sync_notify
