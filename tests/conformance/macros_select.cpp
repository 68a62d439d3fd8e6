// Tokio's tests/macros_select.rs, ported to braid::select and
// braid::select_biased: the first branch to finish wins and the others are
// not polled again; branches passed by lvalue (Tokio's `&mut fut`) keep
// their state across selects; braid::when is `, if cond` (a disabled branch
// is never polled); braid::otherwise() is `else`; braid::pin keeps a task's
// progress across selects.  tokio_test's task::spawn(fut).poll() is
// braid_test::PollByHand over the task as a one-item stream.
// #[tokio::test] is a current-thread runtime.
//
// A select! branch with a refutable pattern (`Some(x) = rx.recv()`) is
// disabled for the rest of that select! when the value does not match;
// braid::select has no patterns (the branch that finishes wins, whatever its
// value), so select_streams and future_panics_after_poll are written as the
// braid user writes them: a loop whose `when` disables the branch that gave
// the unmatched value.
//
// Gaps:
//   deterministic_select_current_thread, deterministic_select_multi_thread
//     (tokio_unstable): no runtime RNG seed (Tokio's Builder::rng_seed):
//     select's start order cannot be made repeatable.
//
// Not applicable:
//   sync_one_lit_expr_no_comma, sync_one_lit_expr_block: macro syntax (a
//     trailing comma, a block as the handler) of sync_one_lit_expr_comma,
//     which is ported.
//   struct_size: the size of the Rust future select! generates.
//   default_numeric_fallback: a clippy lint on the macro's expansion (not a
//     test).
//   mut_ref_patterns: Rust pattern bindings (`mut`, `ref`, `ref mut`).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "support.hpp"

namespace conformance_macros_select {

using namespace std::chrono_literals;
using braid_test::PollByHand;
using braid_test::Tracked;

namespace {

braid::Runtime rt() { return braid_test::current_thread_runtime(); }

braid::Task<int> one() { co_return 1; }
braid::Task<int> value(int v) { co_return v; }
braid::Task<> async_noop() { co_return; }
braid::Task<> require_mutable(int*) { co_return; }

// futures::future::pending(): never ready.
struct Never : braid::detail::LeafAwaiter<Never> {
    bool ready_now() const { return false; }
    int poll(braid_wake_fn, void*) { return BRAID_PENDING; }
    void unregister() noexcept {}
    void finish(int) const {}
};

// futures::future::poll_fn: counts its polls; ready with None (`ready`) or
// pending forever.
class CountedPoll : public braid::detail::LeafAwaiter<CountedPoll> {
public:
    CountedPoll(int* polls, bool ready) : polls_(polls), ready_(ready) {}
    bool ready_now() const { return false; }
    int poll(braid_wake_fn, void*) {
        ++*polls_;
        return ready_ ? 0 : BRAID_PENDING;
    }
    void unregister() noexcept {}
    std::optional<int> finish(int) const { return std::nullopt; }

private:
    int* polls_;
    bool ready_;
};

}  // namespace

TEST_CASE("macros_select.sync_one_lit_expr_comma") {
    rt().block_on([]() -> braid::Task<> {
        auto r = co_await braid::select(value(1));
        EXPECT(std::get<0>(r) == 1);
    }());
}

TEST_CASE("macros_select.nested_one") {
    rt().block_on([]() -> braid::Task<> {
        auto r = co_await braid::select(value(1));
        int foo = std::get<0>(r);
        auto r2 = co_await braid::select(value(foo));
        EXPECT(std::get<0>(r2) == 1);
    }());
}

TEST_CASE("macros_select.sync_one_await") {
    rt().block_on([]() -> braid::Task<> {
        auto r = co_await braid::select(one());
        EXPECT(std::get<0>(r) == 1);
    }());
}

TEST_CASE("macros_select.sync_one_ident") {
    rt().block_on([]() -> braid::Task<> {
        auto fut = one();
        auto r = co_await braid::select(std::move(fut));
        EXPECT(std::get<0>(r) == 1);
    }());
}

TEST_CASE("macros_select.sync_two") {
    rt().block_on([]() -> braid::Task<> {
        int cnt = 0;
        auto count_and = [](int* cnt, int v) -> braid::Task<int> {
            ++*cnt;
            co_return v;
        };
        auto r = co_await braid::select(count_and(&cnt, 1), count_and(&cnt, 2));
        int res = r.index() == 0 ? std::get<0>(r) : std::get<1>(r);
        EXPECT(cnt == 1);  // the loser was never polled
        EXPECT((res == 1 || res == 2));
    }());
}

TEST_CASE("macros_select.drop_in_fut") {
    long live_before = Tracked::live();
    rt().block_on([](long live_before) -> braid::Task<> {
        auto s = std::make_unique<Tracked>(7);
        auto fut = [](std::unique_ptr<Tracked> s, long live_before) -> braid::Task<int> {
            int v = co_await one();
            s.reset();  // drop(s)
            EXPECT(Tracked::live() == live_before);
            co_return v;
        };
        auto r = co_await braid::select(fut(std::move(s), live_before));
        EXPECT(std::get<0>(r) == 1);
    }(live_before));
    REQUIRE(Tracked::live() == live_before);
}

TEST_CASE("macros_select.one_ready") {
    rt().block_on([]() -> braid::Task<> {
        auto [tx1, rx1] = braid::oneshot::channel<int>();
        auto [tx2, rx2] = braid::oneshot::channel<int>();
        EXPECT(!tx1.send(1).has_value());
        auto r = co_await braid::select(std::move(rx1), std::move(rx2));
        EXPECT(r.index() == 0);  // rx2 (its sender alive) never completes
        EXPECT(std::get<0>(r) == 1);
    }());
}

TEST_CASE("macros_select.select_streams") {
    rt().block_on([]() -> braid::Task<> {
        auto [tx1, rx1] = braid::mpsc::unbounded_channel<int>();
        auto [tx2, rx2] = braid::mpsc::unbounded_channel<int>();

        auto sender = braid::spawn([](braid::mpsc::UnboundedSender<int> tx1,
                                      braid::mpsc::UnboundedSender<int> tx2) -> braid::Task<> {
            EXPECT(!tx2.send(1));
            co_await braid::yield_now();
            EXPECT(!tx1.send(2));
            co_await braid::yield_now();
            EXPECT(!tx2.send(3));
            co_await braid::yield_now();
            // both senders dropped here
        }(std::move(tx1), std::move(tx2)));

        std::vector<int> msgs;
        bool open1 = true, open2 = true;  // `Some(x) = rx.recv()` still matches
        for (bool rem = true; rem;) {
            auto r = co_await braid::select(braid::when(open1, rx1.recv()), braid::when(open2, rx2.recv()),
                                            braid::otherwise());
            switch (r.index()) {
            case 0:
                if (auto x = std::get<0>(r)) msgs.push_back(*x);
                else open1 = false;
                break;
            case 1:
                if (auto y = std::get<1>(r)) msgs.push_back(*y);
                else open2 = false;
                break;
            default:
                rem = false;
            }
        }
        co_await std::move(sender);

        std::sort(msgs.begin(), msgs.end());
        EXPECT((msgs == std::vector<int>{1, 2, 3}));
    }());
}

TEST_CASE("macros_select.move_uncompleted_futures") {
    rt().block_on([]() -> braid::Task<> {
        auto [tx1, rx1] = braid::oneshot::channel<int>();
        auto [tx2, rx2] = braid::oneshot::channel<int>();
        EXPECT(!tx1.send(1).has_value());
        EXPECT(!tx2.send(2).has_value());

        bool ran = false;
        auto r = co_await braid::select(rx1, rx2);  // by lvalue: the loser is kept
        if (r.index() == 0) {
            EXPECT(std::get<0>(r) == 1);
            int v = co_await rx2;
            EXPECT(v == 2);
            ran = true;
        } else {
            EXPECT(std::get<1>(r) == 2);
            int v = co_await rx1;
            EXPECT(v == 1);
            ran = true;
        }
        EXPECT(ran);
    }());
}

TEST_CASE("macros_select.nested") {
    rt().block_on([]() -> braid::Task<> {
        auto r = co_await braid::select(value(1));
        int x = std::get<0>(r);
        auto r2 = co_await braid::select(value(2));
        int res = x + std::get<0>(r2);
        EXPECT(res == 3);
    }());
}

TEST_CASE("macros_select.mutable_borrowing_future_with_same_borrow_in_block") {
    rt().block_on([]() -> braid::Task<> {
        int value = 234;
        auto r = co_await braid::select(require_mutable(&value), async_noop());
        if (r.index() == 1) value += 5;
        EXPECT(value >= 234);
    }());
}

TEST_CASE("macros_select.mutable_borrowing_future_with_same_borrow_in_block_and_else") {
    rt().block_on([]() -> braid::Task<> {
        int value = 234;
        auto r = co_await braid::select(require_mutable(&value), async_noop(), braid::otherwise());
        if (r.index() == 1) value += 5;
        if (r.index() == 2) value += 27;
        EXPECT(r.index() != 2);  // the else runs only when every branch is disabled
        EXPECT(value >= 234);
    }());
}

TEST_CASE("macros_select.future_panics_after_poll") {
    rt().block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::oneshot::channel<int>();
        int polls = 0;
        CountedPoll f(&polls, true);  // ready with None at its first poll

        auto body = [](CountedPoll* f, braid::oneshot::Receiver<int>* rx) -> braid::Task<int> {
            bool f_matches = true;
            for (;;) {
                auto r = co_await braid::select(braid::when(f_matches, *f), *rx);
                if (r.index() == 1) co_return std::get<1>(r);
                EXPECT(!std::get<0>(r).has_value());  // `Some(_) = f` did not match: f is done with
                f_matches = false;
            }
        };
        auto fut = braid_test::as_stream(body(&f, &rx));
        PollByHand task(fut);

        EXPECT(task.poll_next().is_pending());
        EXPECT(task.poll_next().is_pending());

        EXPECT(!tx.send(1).has_value());

        auto res = task.poll_next();
        EXPECT(res.ready && res.item == 1);
        EXPECT(polls == 1);  // a finished branch is never polled again
        co_return;
    }());
}

TEST_CASE("macros_select.disable_with_if") {
    rt().block_on([]() -> braid::Task<> {
        int polls = 0;
        CountedPoll f(&polls, false);  // poll_fn(|_| panic!())
        auto [tx, rx] = braid::oneshot::channel<int>();

        auto body = [](CountedPoll* f, braid::oneshot::Receiver<int>* rx) -> braid::Task<bool> {
            auto r = co_await braid::select(braid::when(false, *f), *rx);
            co_return r.index() == 1;
        };
        auto fut = braid_test::as_stream(body(&f, &rx));
        PollByHand task(fut);

        EXPECT(task.poll_next().is_pending());

        EXPECT(!tx.send(0).has_value());
        EXPECT(task.is_woken());

        auto res = task.poll_next();
        EXPECT(res.ready && res.item == true);
        EXPECT(polls == 0);
        co_return;
    }());
}

TEST_CASE("macros_select.join_with_select") {
    rt().block_on([]() -> braid::Task<> {
        auto [tx1, rx1] = braid::oneshot::channel<int>();
        auto [tx2, rx2] = braid::oneshot::channel<int>();

        auto body = [](braid::oneshot::Receiver<int>* rx1,
                       braid::oneshot::Receiver<int>* rx2) -> braid::Task<std::pair<int, int>> {
            std::optional<int> a, b;
            while (!a || !b) {
                auto r = co_await braid::select(braid::when(!a, *rx1), braid::when(!b, *rx2));
                if (r.index() == 0) a = std::get<0>(r);
                else b = std::get<1>(r);
            }
            co_return std::make_pair(*a, *b);
        };
        auto fut = braid_test::as_stream(body(&rx1, &rx2));
        PollByHand task(fut);

        EXPECT(task.poll_next().is_pending());

        EXPECT(!tx1.send(123).has_value());
        EXPECT(task.is_woken());
        EXPECT(task.poll_next().is_pending());

        EXPECT(!tx2.send(456).has_value());
        EXPECT(task.is_woken());
        auto res = task.poll_next();
        EXPECT(res.ready && res.item == std::make_pair(123, 456));
        co_return;
    }());
}

TEST_CASE("macros_select.use_future_in_if_condition") {
    rt().block_on([]() -> braid::Task<> {
        auto r = co_await braid::select(braid::when(false, braid::sleep(10ms)), value(1));
        EXPECT(r.index() == 1);  // "if condition ignored" otherwise
    }());
}

TEST_CASE("macros_select.use_future_in_if_condition_biased") {
    rt().block_on([]() -> braid::Task<> {
        auto r = co_await braid::select_biased(braid::when(false, braid::sleep(10ms)), value(1));
        EXPECT(r.index() == 1);
    }());
}

namespace {
template <std::size_t... I>
braid::Task<int> select_of_ones(std::index_sequence<I...>) {
    auto r = co_await braid::select(((void)I, one())...);
    co_return std::visit([](int x) { return x; }, r);
}
}  // namespace

TEST_CASE("macros_select.many_branches") {
    rt().block_on([]() -> braid::Task<> {
        int num = co_await select_of_ones(std::make_index_sequence<64>{});
        EXPECT(num == 1);
    }());
}

TEST_CASE("macros_select.never_branch_no_warnings") {
    rt().block_on([]() -> braid::Task<> {
        auto r = co_await braid::select(Never{}, one());
        EXPECT(r.index() == 1);
        EXPECT(std::get<1>(r) == 1);
    }());
}

TEST_CASE("macros_select.mut_on_left_hand_side") {
    rt().block_on([]() -> braid::Task<> {
        auto ok = braid::pin(value(1));
        auto r = co_await braid::select(ok);
        int a = std::get<0>(r);
        a += 1;
        EXPECT(a == 2);
    }());
}

TEST_CASE("macros_select.biased_one_not_ready") {
    rt().block_on([]() -> braid::Task<> {
        auto [tx1, rx1] = braid::oneshot::channel<int>();
        auto [tx2, rx2] = braid::oneshot::channel<int>();
        auto [tx3, rx3] = braid::oneshot::channel<int>();
        EXPECT(!tx2.send(2).has_value());
        EXPECT(!tx3.send(3).has_value());

        auto r = co_await braid::select_biased(std::move(rx1), std::move(rx2), std::move(rx3));
        // rx2 is polled before rx3
        EXPECT(r.index() == 1);
        EXPECT(std::get<1>(r) == 2);
    }());
}

TEST_CASE("macros_select.biased_eventually_ready") {
    rt().block_on([]() -> braid::Task<> {
        auto yielding = []() -> braid::Task<> { co_await braid::yield_now(); };
        auto one = braid::pin(async_noop());
        auto two = braid::pin(yielding());
        auto three = braid::pin(yielding());

        int count = 0;
        for (bool more = true; more;) {
            auto r = co_await braid::select_biased(braid::when(count < 2, two), braid::when(count < 3, three),
                                                   braid::when(count < 1, one), braid::otherwise());
            switch (r.index()) {
            case 0:
                ++count;
                EXPECT(count == 2);
                break;
            case 1:
                ++count;
                EXPECT(count == 3);
                break;
            case 2:
                ++count;
                EXPECT(count == 1);
                break;
            default:
                more = false;
            }
        }
        EXPECT(count == 3);
    }());
}

}  // namespace conformance_macros_select
