// Conformance: tokio/tests/sync_mpsc.rs (Tokio 1.24), ported from what each
// case asserts.  Tokio's hand-polled reserve() futures are
// braid_mpsc_poll_reserve polled with a counting waker
// (braid_test::PolledWait: dropping the future is its cancel), a slot won
// that way is filled with braid_mpsc_send_reserved; a hand-polled recv() is
// braid_mpsc_poll_recv with a counting waker.  An `.await` that Tokio's case
// expects to complete at once (a reserve with room, a recv with a value
// there) is the try_ form, so that the case runs without a runtime;
// #[tokio::test] cases that wait run on a current-thread runtime, paused for
// send_timeout.  #[should_panic] cases are misuses braid reports by throwing
// braid::Error; they are ported as "throws".  Tokio's mpsc_stream support
// (a channel as a Stream) is braid::stream::from_receiver.
//
// Gaps: none.
//
// Not applicable:
//   recv_timeout_panic - #[should_panic]: Tokio's send_timeout builds its
//     timer when it is created and panics outside a runtime; braid's takes
//     a timer from the runtime only when it has to wait (a send with room
//     completes anywhere).
//
// try_send_fail_with_try_recv and the try_recv_* cases: Tokio's
// TryRecvError::{Empty, Disconnected} is braid's TryRecvError::{Empty,
// Closed} (try_recv's is_empty() / is_closed()).
//
// braid's own: stress_many_senders (bounded and unbounded, senders on four
// workers, a receiver draining with recv and recv_many, senders waiting for
// room and some sends cancelled by a lost select: every value sent arrives
// once, in order per sender, and nothing leaks).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace conformance_sync_mpsc {

using namespace std::chrono_literals;
using braid_test::CountingWaker;
using braid_test::PolledWait;
using braid_test::Tracked;

namespace {
// A reserve() of one slot polled by hand.  Once it returns BRAID_OK the slot
// is the caller's: fill it (send_reserved) or give it back.
template <class T>
std::unique_ptr<PolledWait> reserve_of(const braid::mpsc::Sender<T>& tx) {
    braid_mpsc_tx* h = tx.native_handle();
    return std::make_unique<PolledWait>(
        [h](braid_waiter** w, braid_wake_fn f, void* d) { return braid_mpsc_poll_reserve(h, 1, w, f, d); },
        [h](braid_waiter** w) { braid_mpsc_cancel_reserve(h, w); });
}
int send_reserved(const braid::mpsc::Sender<int>& tx, int v) {
    return braid_mpsc_send_reserved(tx.native_handle(), &v, sizeof v);
}

// A recv() of an int channel polled by hand.
struct RecvPoll {
    braid_mpsc_rx* rx;
    int value = 0;
    CountingWaker waker;
    explicit RecvPoll(braid::mpsc::Receiver<int>& r) : rx(r.native_handle()) {}
    ~RecvPoll() { braid_mpsc_recv_unregister(rx); }
    int poll() {
        waker.clear();
        return braid_mpsc_poll_recv(rx, &value, sizeof value, &CountingWaker::wake, &waker);
    }
    bool is_woken() const { return waker.woken(); }
};

// rx.try_recv() is Tokio's Err(Empty) / Err(Disconnected)?
template <class T>
bool empty_now(braid::mpsc::Receiver<T>& rx) {
    return rx.try_recv().error() == braid::TryRecvError::Empty;
}
template <class T>
bool disconnected(braid::mpsc::Receiver<T>& rx) {
    return rx.try_recv().is_closed();
}
}  // namespace

TEST_CASE("sync_mpsc.send_recv_with_buffer") {
    auto rt = braid_test::current_thread_runtime();
    auto got = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto [tx, rx] = braid::mpsc::channel<int>(16);
        {
            auto permit = co_await tx.reserve();
            EXPECT(permit.has_value());
            permit->send(1);
        }
        EXPECT(!tx.try_send(2).has_value());
        { auto gone = std::move(tx); }
        std::vector<int> out;
        while (auto v = co_await rx.recv()) out.push_back(*v);
        co_return out;
    }());
    REQUIRE(got == std::vector<int>{1, 2});
}

TEST_CASE("sync_mpsc.reserve_disarm") {
    auto [tx, rx] = braid::mpsc::channel<int>(2);
    auto tx1 = tx, tx2 = tx, tx3 = tx;
    auto tx4 = std::move(tx);

    // two handles reserve without waiting
    auto permit1 = tx1.try_reserve();
    auto permit2 = tx2.try_reserve();
    REQUIRE(permit1.has_value());
    REQUIRE(permit2.has_value());

    // a third waits, and a fourth
    auto r3 = reserve_of(tx3);
    REQUIRE(r3->poll() == BRAID_PENDING);
    auto r4 = reserve_of(tx4);
    REQUIRE(r4->poll() == BRAID_PENDING);

    // using a slot does not free it...
    permit1->send(1);
    permit1.reset();
    REQUIRE_FALSE(r3->is_woken());
    // ...receiving does: the first waiter is woken
    REQUIRE(rx.try_recv() == std::optional<int>(1));
    REQUIRE(r3->is_woken());
    REQUIRE_FALSE(r4->is_woken());

    // dropping a permit frees a slot too
    permit2.reset();
    REQUIRE(r4->is_woken());

    // nothing is left for another reserve
    auto r1 = reserve_of(tx1);
    REQUIRE(r1->poll() == BRAID_PENDING);
}

TEST_CASE("sync_mpsc.send_recv_stream_with_buffer") {
    auto rt = braid_test::current_thread_runtime();
    auto got = rt.block_on([]() -> braid::Task<std::vector<std::optional<int>>> {
        auto [tx, rx] = braid::mpsc::channel<int>(16);
        auto s = braid::stream::from_receiver(std::move(rx));
        braid::spawn([](braid::mpsc::Sender<int> tx) -> braid::Task<> {
            EXPECT(!(co_await tx.send(1)).has_value());
            EXPECT(!(co_await tx.send(2)).has_value());
        }, std::move(tx)).detach();
        std::vector<std::optional<int>> out;
        for (int i = 0; i < 3; ++i) out.push_back(co_await s.next());
        co_return out;
    }());
    REQUIRE(got == std::vector<std::optional<int>>{1, 2, std::nullopt});
}

TEST_CASE("sync_mpsc.async_send_recv_with_buffer") {
    auto rt = braid_test::current_thread_runtime();
    auto got = rt.block_on([]() -> braid::Task<std::vector<std::optional<int>>> {
        auto [tx, rx] = braid::mpsc::channel<int>(16);
        braid::spawn([](braid::mpsc::Sender<int> tx) -> braid::Task<> {
            EXPECT(!(co_await tx.send(1)).has_value());
            EXPECT(!(co_await tx.send(2)).has_value());
        }, std::move(tx)).detach();
        std::vector<std::optional<int>> out;
        for (int i = 0; i < 3; ++i) out.push_back(co_await rx.recv());
        co_return out;
    }());
    REQUIRE(got == std::vector<std::optional<int>>{1, 2, std::nullopt});
}

TEST_CASE("sync_mpsc.start_send_past_cap") {
    auto [tx1, rx] = braid::mpsc::channel<int>(1);
    auto tx2 = tx1;
    REQUIRE_FALSE(tx1.try_send(0).has_value());

    auto r1 = reserve_of(tx1);
    REQUIRE(r1->poll() == BRAID_PENDING);
    {
        auto r2 = reserve_of(tx2);
        REQUIRE(r2->poll() == BRAID_PENDING);

        r1.reset();  // the first waiter gives up

        REQUIRE(rx.try_recv().has_value());
        // the room goes to the one still waiting
        REQUIRE(r2->is_woken());
    }
    { auto gone = std::move(tx1); }
    { auto gone = std::move(tx2); }
    REQUIRE(disconnected(rx));
}

TEST_CASE("sync_mpsc.buffer_gteq_one") {
    REQUIRE(braid_test::error_code_of([] { (void)braid::mpsc::channel<int>(0); }) == BRAID_EINVAL);
}

TEST_CASE("sync_mpsc.send_recv_unbounded") {
    auto rt = braid_test::current_thread_runtime();
    auto got = rt.block_on([]() -> braid::Task<std::vector<std::optional<int>>> {
        auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
        EXPECT(!tx.send(1).has_value());
        EXPECT(!tx.send(2).has_value());
        std::vector<std::optional<int>> out;
        out.push_back(co_await rx.recv());
        out.push_back(co_await rx.recv());
        { auto gone = std::move(tx); }
        out.push_back(co_await rx.recv());
        co_return out;
    }());
    REQUIRE(got == std::vector<std::optional<int>>{1, 2, std::nullopt});
}

TEST_CASE("sync_mpsc.async_send_recv_unbounded") {
    auto rt = braid_test::current_thread_runtime();
    auto got = rt.block_on([]() -> braid::Task<std::vector<std::optional<int>>> {
        auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
        braid::spawn([](braid::mpsc::UnboundedSender<int> tx) -> braid::Task<> {
            EXPECT(!tx.send(1).has_value());
            EXPECT(!tx.send(2).has_value());
            co_return;
        }, std::move(tx)).detach();
        std::vector<std::optional<int>> out;
        for (int i = 0; i < 3; ++i) out.push_back(co_await rx.recv());
        co_return out;
    }());
    REQUIRE(got == std::vector<std::optional<int>>{1, 2, std::nullopt});
}

TEST_CASE("sync_mpsc.send_recv_stream_unbounded") {
    auto rt = braid_test::current_thread_runtime();
    auto got = rt.block_on([]() -> braid::Task<std::vector<std::optional<int>>> {
        auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
        auto s = braid::stream::from_receiver(std::move(rx));
        braid::spawn([](braid::mpsc::UnboundedSender<int> tx) -> braid::Task<> {
            EXPECT(!tx.send(1).has_value());
            EXPECT(!tx.send(2).has_value());
            co_return;
        }, std::move(tx)).detach();
        std::vector<std::optional<int>> out;
        for (int i = 0; i < 3; ++i) out.push_back(co_await s.next());
        co_return out;
    }());
    REQUIRE(got == std::vector<std::optional<int>>{1, 2, std::nullopt});
}

namespace {
// Neither copyable nor printable: channels ask nothing of T but a move.
struct NoImpls {
    NoImpls() = default;
    NoImpls(NoImpls&&) noexcept = default;
    NoImpls(const NoImpls&) = delete;
};
}  // namespace

TEST_CASE("sync_mpsc.no_t_bounds_buffer") {
    auto [tx, rx] = braid::mpsc::channel<NoImpls>(100);
    // the sender is copyable even though T is not
    REQUIRE_FALSE(braid::mpsc::Sender<NoImpls>(tx).try_send(NoImpls{}).has_value());
    REQUIRE(rx.try_recv().has_value());
}

TEST_CASE("sync_mpsc.no_t_bounds_unbounded") {
    auto [tx, rx] = braid::mpsc::unbounded_channel<NoImpls>();
    REQUIRE_FALSE(braid::mpsc::UnboundedSender<NoImpls>(tx).send(NoImpls{}).has_value());
    REQUIRE(rx.try_recv().has_value());
}

TEST_CASE("sync_mpsc.send_recv_buffer_limited") {
    auto [tx, rx] = braid::mpsc::channel<int>(1);

    // reserve the room and send
    auto p1 = tx.try_reserve();
    REQUIRE(p1.has_value());
    p1->send(1);

    // no room: the next reserve waits
    auto p2 = reserve_of(tx);
    REQUIRE(p2->poll() == BRAID_PENDING);

    // taking the value wakes it...
    REQUIRE(rx.try_recv().has_value());
    REQUIRE(p2->is_woken());

    // ...and the room is its: a try_send does not get it
    auto full = tx.try_send(1337);
    REQUIRE(full.has_value());
    REQUIRE(full->is_full());

    REQUIRE(p2->poll() == BRAID_OK);
    REQUIRE(send_reserved(tx, 2) == BRAID_OK);
    REQUIRE(rx.try_recv() == std::optional<int>(2));
}

TEST_CASE("sync_mpsc.recv_close_gets_none_idle") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::mpsc::channel<int>(10);
        rx.close();
        EXPECT(!(co_await rx.recv()).has_value());
        auto back = co_await tx.send(1);
        EXPECT(back == std::optional<int>(1));
    }());
}

TEST_CASE("sync_mpsc.recv_close_gets_none_reserved") {
    auto [tx1, rx] = braid::mpsc::channel<int>(1);
    auto tx2 = tx1;

    auto permit1 = tx1.try_reserve();
    REQUIRE(permit1.has_value());
    auto permit2 = reserve_of(tx2);
    REQUIRE(permit2->poll() == BRAID_PENDING);

    rx.close();

    REQUIRE(permit2->is_woken());
    REQUIRE(permit2->poll() == BRAID_ECLOSED);
    {
        // the slot reserved before the close can still be used
        RecvPoll recv(rx);
        REQUIRE(recv.poll() == BRAID_PENDING);
        permit1->send(123);
        REQUIRE(recv.is_woken());
        REQUIRE(recv.poll() == BRAID_OK);
        REQUIRE(recv.value == 123);
    }
    REQUIRE(disconnected(rx));
}

TEST_CASE("sync_mpsc.tx_close_gets_none") {
    auto rt = braid_test::current_thread_runtime();
    bool none = rt.block_on([]() -> braid::Task<bool> {
        auto rx = braid::mpsc::channel<int>(10).second;
        co_return !(co_await rx.recv()).has_value();
    }());
    REQUIRE(none);
}

TEST_CASE("sync_mpsc.try_send_fail") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::mpsc::channel<std::string>(1);
        EXPECT(!tx.try_send("hello").has_value());

        // this one fails: full
        auto fail = tx.try_send("fail");
        EXPECT(fail.has_value() && fail->is_full() && fail->value == "fail");

        EXPECT(co_await rx.recv() == std::optional<std::string>("hello"));
        EXPECT(!tx.try_send("goodbye").has_value());
        { auto gone = std::move(tx); }
        EXPECT(co_await rx.recv() == std::optional<std::string>("goodbye"));
        EXPECT(!(co_await rx.recv()).has_value());
    }());
}

TEST_CASE("sync_mpsc.try_send_fail_with_try_recv") {
    auto [tx, rx] = braid::mpsc::channel<std::string>(1);
    REQUIRE_FALSE(tx.try_send("hello").has_value());
    auto fail = tx.try_send("fail");
    REQUIRE(fail.has_value());
    REQUIRE(fail->is_full());

    REQUIRE(rx.try_recv() == std::optional<std::string>("hello"));
    REQUIRE_FALSE(tx.try_send("goodbye").has_value());
    { auto gone = std::move(tx); }
    REQUIRE(rx.try_recv() == std::optional<std::string>("goodbye"));
    REQUIRE(disconnected(rx));
}

TEST_CASE("sync_mpsc.try_reserve_fails") {
    auto [tx, rx] = braid::mpsc::channel<std::string>(1);
    auto permit = tx.try_reserve();
    REQUIRE(permit.has_value());

    // this one fails: full
    REQUIRE_FALSE(tx.try_reserve().has_value());
    REQUIRE(braid_mpsc_try_reserve(tx.native_handle(), 1) == BRAID_EAGAIN);

    permit->send("foo");
    REQUIRE(rx.try_recv() == std::optional<std::string>("foo"));

    // dropping a permit releases the slot
    {
        auto p = tx.try_reserve();
        REQUIRE(p.has_value());
    }
    REQUIRE(tx.try_reserve().has_value());
}

TEST_CASE("sync_mpsc.drop_permit_releases_permit") {
    auto [tx1, rx] = braid::mpsc::channel<int>(1);
    auto tx2 = tx1;
    auto permit = tx1.try_reserve();
    REQUIRE(permit.has_value());

    auto reserve2 = reserve_of(tx2);
    REQUIRE(reserve2->poll() == BRAID_PENDING);

    permit.reset();
    REQUIRE(reserve2->is_woken());
    REQUIRE(reserve2->poll() == BRAID_OK);
    REQUIRE(braid_mpsc_release_reserved(tx2.native_handle(), 1) == BRAID_OK);
}

TEST_CASE("sync_mpsc.dropping_rx_closes_channel") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::mpsc::channel<std::shared_ptr<int>>(100);
        auto msg = std::make_shared<int>(0);
        EXPECT(!tx.try_send(msg).has_value());
        { auto gone = std::move(rx); }
        EXPECT(!(co_await tx.reserve()).has_value());
        EXPECT(msg.use_count() == 1);
    }());
}

TEST_CASE("sync_mpsc.dropping_rx_closes_channel_for_try") {
    auto [tx, rx] = braid::mpsc::channel<std::shared_ptr<int>>(100);
    auto msg = std::make_shared<int>(0);
    REQUIRE_FALSE(tx.try_send(msg).has_value());
    { auto gone = std::move(rx); }

    auto closed = tx.try_send(msg);
    REQUIRE(closed.has_value());
    REQUIRE(closed->is_closed());
    closed.reset();
    REQUIRE(tx.try_reserve().is_closed());
    REQUIRE(tx.try_reserve_owned().is_closed());

    REQUIRE(msg.use_count() == 1);
}

TEST_CASE("sync_mpsc.unconsumed_messages_are_dropped") {
    auto msg = std::make_shared<int>(0);
    {
        auto [tx, rx] = braid::mpsc::channel<std::shared_ptr<int>>(100);
        REQUIRE_FALSE(tx.try_send(msg).has_value());
        REQUIRE(msg.use_count() == 2);
    }
    REQUIRE(msg.use_count() == 1);
}

TEST_CASE("sync_mpsc.blocking_recv") {
    auto [tx, rx] = braid::mpsc::channel<std::uint8_t>(1);
    std::optional<std::uint8_t> got;
    std::thread sync_code([&got, rx = std::move(rx)]() mutable { got = rx.blocking_recv(); });
    auto rt = braid_test::runtime(2);
    rt.block_on([](braid::mpsc::Sender<std::uint8_t> tx) -> braid::Task<> {
        (void)co_await tx.send(10);
    }(std::move(tx)));
    sync_code.join();
    REQUIRE(got == std::optional<std::uint8_t>(10));
}

TEST_CASE("sync_mpsc.blocking_recv_async") {
    auto rt = braid_test::current_thread_runtime();
    int code = rt.block_on([]() -> braid::Task<int> {
        auto [tx, rx] = braid::mpsc::channel<int>(1);
        co_return braid_test::error_code_of([&] { (void)rx.blocking_recv(); });
    }());
    REQUIRE(code == BRAID_EDEADLK);
}

TEST_CASE("sync_mpsc.blocking_send") {
    auto [tx, rx] = braid::mpsc::channel<std::uint8_t>(1);
    std::optional<std::uint8_t> back{0};
    std::thread sync_code([&back, tx = std::move(tx)] { back = tx.blocking_send(10); });
    auto rt = braid_test::runtime(2);
    auto got = rt.block_on([](braid::mpsc::Receiver<std::uint8_t> rx) -> braid::Task<std::optional<std::uint8_t>> {
        co_return co_await rx.recv();
    }(std::move(rx)));
    sync_code.join();
    REQUIRE_FALSE(back.has_value());
    REQUIRE(got == std::optional<std::uint8_t>(10));
}

TEST_CASE("sync_mpsc.blocking_send_async") {
    auto rt = braid_test::current_thread_runtime();
    int code = rt.block_on([]() -> braid::Task<int> {
        auto [tx, rx] = braid::mpsc::channel<int>(1);
        co_return braid_test::error_code_of([&] { (void)tx.blocking_send(0); });
    }());
    REQUIRE(code == BRAID_EDEADLK);
}

TEST_CASE("sync_mpsc.ready_close_cancel_bounded") {
    auto [tx, rx] = braid::mpsc::channel<int>(100);
    auto tx2 = tx;
    auto permit = tx.try_reserve();
    REQUIRE(permit.has_value());

    rx.close();

    // a reserved slot may still bring a value: recv waits for it
    RecvPoll recv(rx);
    REQUIRE(recv.poll() == BRAID_PENDING);

    permit.reset();
    REQUIRE(recv.is_woken());
    REQUIRE(recv.poll() == BRAID_ECLOSED);
}

TEST_CASE("sync_mpsc.permit_available_not_acquired_close") {
    auto [tx1, rx] = braid::mpsc::channel<int>(1);
    auto tx2 = tx1;
    auto permit1 = tx1.try_reserve();
    REQUIRE(permit1.has_value());

    auto permit2 = reserve_of(tx2);
    REQUIRE(permit2->poll() == BRAID_PENDING);

    rx.close();

    permit1.reset();
    REQUIRE(permit2->is_woken());

    permit2.reset();
    REQUIRE(disconnected(rx));
}

TEST_CASE("sync_mpsc.try_recv_bounded") {
    auto [tx, rx] = braid::mpsc::channel<std::string>(5);
    auto send = [&](int n) {
        for (int i = 0; i < n; ++i) REQUIRE_FALSE(tx.try_send("hello").has_value());
    };
    auto recv = [&](int n) {
        for (int i = 0; i < n; ++i) REQUIRE(rx.try_recv() == std::optional<std::string>("hello"));
    };
    send(5);
    REQUIRE(tx.try_send("hello").has_value());
    recv(5);
    REQUIRE(empty_now(rx));

    send(4);
    recv(1);
    send(2);
    REQUIRE(tx.try_send("hello").has_value());
    recv(5);
    REQUIRE(empty_now(rx));

    send(3);
    { auto gone = std::move(tx); }
    recv(3);
    REQUIRE(disconnected(rx));
}

TEST_CASE("sync_mpsc.try_recv_unbounded") {
    for (int num = 0; num < 100; ++num) {
        auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
        for (int i = 0; i < num; ++i) REQUIRE_FALSE(tx.send(i).has_value());
        for (int i = 0; i < num; ++i) REQUIRE(rx.try_recv() == std::optional<int>(i));
        REQUIRE(empty_now(rx));
        { auto gone = std::move(tx); }
        REQUIRE(disconnected(rx));
    }
}

TEST_CASE("sync_mpsc.try_recv_close_while_empty_bounded") {
    auto [tx, rx] = braid::mpsc::channel<int>(5);
    REQUIRE(empty_now(rx));
    { auto gone = std::move(tx); }
    REQUIRE(disconnected(rx));
}

TEST_CASE("sync_mpsc.try_recv_close_while_empty_unbounded") {
    auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
    REQUIRE(empty_now(rx));
    { auto gone = std::move(tx); }
    REQUIRE(disconnected(rx));
}

TEST_CASE("sync_mpsc.recv_timeout") {
    auto rt = braid_test::current_thread_runtime(true);
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::mpsc::channel<int>(5);
        for (int v : {10, 20, 30, 40, 50}) EXPECT(!(co_await tx.send_timeout(v, 1s)).has_value());
        auto timed_out = co_await tx.send_timeout(60, 1s);
        EXPECT(timed_out.has_value() && timed_out->is_timeout() && timed_out->value == 60);

        { auto gone = std::move(rx); }
        auto closed = co_await tx.send_timeout(70, 1s);
        EXPECT(closed.has_value() && closed->is_closed() && closed->value == 70);
    }());
}

TEST_CASE("sync_mpsc.test_tx_capacity") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::mpsc::channel<int>(10);
        // both capacities are the same before
        EXPECT(tx.capacity() == 10);
        EXPECT(tx.max_capacity() == 10);

        auto permit = co_await tx.reserve();
        // after reserve, only capacity drops by one
        EXPECT(tx.capacity() == 9);
        EXPECT(tx.max_capacity() == 10);

        EXPECT(!(co_await tx.send(0)).has_value());
        // after send, capacity drops by one again
        EXPECT(tx.capacity() == 8);
        EXPECT(tx.max_capacity() == 10);
    }());
}

namespace {
struct StressCounts {
    std::atomic<long> sent{0}, cancelled{0}, received{0}, out_of_order{0};
};

// Receives (recv and recv_many in turns) until every sender is gone, and
// checks the order of each sender's values.
template <class T>
braid::Task<> drain(braid::mpsc::Receiver<T> rx, std::shared_ptr<StressCounts> c, int senders) {
    std::vector<long> next(std::size_t(senders), 0);
    auto take = [&](const T& v) {
        int s = v.value / 1000000, seq = v.value % 1000000;
        if (seq < next[std::size_t(s)]) c->out_of_order.fetch_add(1);
        next[std::size_t(s)] = seq + 1;
        c->received.fetch_add(1);
    };
    std::vector<T> buf;
    for (int turn = 0;; ++turn) {
        if (turn % 2 == 0) {
            auto v = co_await rx.recv();
            if (!v) break;
            take(*v);
        } else {
            buf.clear();
            if (co_await rx.recv_many(buf, 17) == 0) break;
            for (auto& v : buf) take(v);
        }
    }
}
}  // namespace

TEST_CASE("sync_mpsc.stress_many_senders") {
    constexpr int kSenders = 8;
    const int per_sender = 4000 / braid_test::kStressDivisor;
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    auto bounded = std::make_shared<StressCounts>();
    auto unbounded = std::make_shared<StressCounts>();
    {
        auto rt = braid_test::runtime(4);
        rt.block_on([](std::shared_ptr<StressCounts> b, std::shared_ptr<StressCounts> u, int n) -> braid::Task<> {
            auto [tx, rx] = braid::mpsc::channel<Tracked>(4);
            auto [utx, urx] = braid::mpsc::unbounded_channel<Tracked>();
            auto r1 = braid::spawn(drain<Tracked>(std::move(rx), b, kSenders));
            auto r2 = braid::spawn(drain<Tracked>(std::move(urx), u, kSenders));
            std::vector<braid::JoinHandle<void>> senders;
            for (int s = 0; s < kSenders; ++s) {
                senders.push_back(braid::spawn([](braid::mpsc::Sender<Tracked> tx, std::shared_ptr<StressCounts> c,
                                                  int s, int n) -> braid::Task<> {
                    auto ready = []() -> braid::Task<> { co_return; };
                    for (int i = 0; i < n; ++i) {
                        if (i % 5 == 0) {
                            // a send that loses a select: not delivered, not leaked
                            auto r = co_await braid::select_biased(tx.send(Tracked(s * 1000000 + i)), ready());
                            if (r.index() == 1) {
                                c->cancelled.fetch_add(1);
                                continue;
                            }
                            EXPECT(!std::get<0>(r).has_value());
                        } else {
                            EXPECT(!(co_await tx.send(Tracked(s * 1000000 + i))).has_value());
                        }
                        c->sent.fetch_add(1);
                    }
                }, tx, b, s, n));
                senders.push_back(braid::spawn([](braid::mpsc::UnboundedSender<Tracked> tx,
                                                  std::shared_ptr<StressCounts> c, int s, int n) -> braid::Task<> {
                    for (int i = 0; i < n; ++i) {
                        EXPECT(!tx.send(Tracked(s * 1000000 + i)).has_value());
                        c->sent.fetch_add(1);
                        if (i % 32 == 0) co_await braid::yield_now();
                    }
                }, utx, u, s, n));
            }
            { auto mine = std::move(tx); }
            { auto mine = std::move(utx); }
            for (auto& s : senders) co_await s;
            co_await r1;
            co_await r2;
        }(bounded, unbounded, per_sender));
    }
    for (auto* c : {bounded.get(), unbounded.get()}) {
        REQUIRE(c->out_of_order.load() == 0);
        REQUIRE(c->received.load() == c->sent.load());
        REQUIRE(c->sent.load() + c->cancelled.load() == long(kSenders) * per_sender);
    }
    REQUIRE(unbounded->cancelled.load() == 0);
    REQUIRE(Tracked::live() == 0);
}

}  // namespace conformance_sync_mpsc
