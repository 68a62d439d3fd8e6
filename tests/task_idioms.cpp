// Tasks, join, select and timeout used the way Tokio users write them
// (Tokio's "Concurrency Patterns" and "Best Practices"), on their error,
// exception and cancellation paths: try_join failing while its siblings hold
// channel items, primary/backup selects whose branches finish or throw in
// the same poll, selects and timeouts around JoinHandles and blocking jobs
// (which keep running), nested timeouts, tasks that throw or are aborted
// mid spawn_blocking, JoinSets fed while they are drained, blocking jobs
// that block_on the runtime, and graceful shutdowns that count every task.
// Every case counts: values constructed and destroyed, tasks started and
// ended, items sent and received.
#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <future>
#include <latch>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_task_idioms {

using namespace std::chrono_literals;
using braid_test::Tracked;
using braid_test::value_after;

namespace {

struct Boom : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Counts destructions (an RAII guard held across an await).
struct Guard {
    std::shared_ptr<std::atomic<int>> ended;
    explicit Guard(std::shared_ptr<std::atomic<int>> e) : ended(std::move(e)) {}
    Guard(const Guard&) = delete;
    ~Guard() { ended->fetch_add(1); }
};

using Counter = std::shared_ptr<std::atomic<int>>;
Counter counter() { return std::make_shared<std::atomic<int>>(0); }

braid::Task<Tracked> tracked_after(std::chrono::milliseconds d, int v) {
    co_await braid::sleep(d);
    co_return Tracked(v);
}

braid::Task<int> throw_after(std::chrono::milliseconds d, std::string what) {
    co_await braid::sleep(d);
    throw Boom(what);
}

braid::Task<int> throw_now(std::string what) {
    throw Boom(what);
    co_return 0;
}

// Holds a guard and never finishes.
braid::Task<int> guarded_forever(Counter ended) {
    Guard g(std::move(ended));
    co_await braid_test::pending();
    co_return 0;
}

// Receives one item, keeps it (and a guard) across a wait that never ends.
braid::Task<int> take_one_and_hold(braid::mpsc::Receiver<Tracked>* rx, Counter taken, Counter ended) {
    Guard g(std::move(ended));
    auto item = co_await rx->recv();
    if (item) taken->fetch_add(1);
    co_await braid_test::pending();
    co_return item ? item->value : -1;
}

// Sends into a full channel: waits for room that never comes.
braid::Task<int> send_into_full(braid::mpsc::Sender<Tracked> tx, Counter ended) {
    Guard g(std::move(ended));
    auto back = co_await tx.send(Tracked(99));
    co_return back ? -1 : 1;
}

// The message of the Boom that `a` throws ("" when it throws none).
template <class A>
braid::Task<std::string> boom_of(A a) {
    try {
        co_await std::move(a);
    } catch (const Boom& e) {
        co_return std::string(e.what());
    }
    co_return std::string();
}

// Awaits a JoinHandle (kept by the caller): the BRAID_E* code of the
// braid::Error it throws (0: none), the message of a Boom.
template <class T>
braid::Task<int> join_code(braid::JoinHandle<T>& h) {
    try {
        co_await h;
    } catch (const braid::Error& e) {
        co_return e.code();
    }
    co_return 0;
}
template <class T>
braid::Task<std::string> join_boom(braid::JoinHandle<T>& h) {
    try {
        co_await h;
    } catch (const Boom& e) {
        co_return std::string(e.what());
    }
    co_return std::string();
}

braid::Task<int> ready_value(int v) { co_return v; }

// Whether awaiting `h` throws braid::TaskCancelled.
template <class T>
braid::Task<bool> cancelled_join(braid::JoinHandle<T>& h) {
    try {
        co_await h;
    } catch (const braid::TaskCancelled& e) {
        co_return e.code() == BRAID_ECANCELED;
    }
    co_return false;
}

braid::Duration since(braid::Instant t0) { return braid::Instant::now() - t0; }

}  // namespace

// ---- join! / try_join! ------------------------------------------------------------------------------------

TEST_CASE("task_idioms.try_join failing while siblings hold received items or wait to send destroys them and loses no item") {
    long before = Tracked::live();
    auto taken = counter();
    auto ended = counter();
    {
        auto rt = braid_test::paused_runtime();
        auto [what, left, full_left] =
            rt.block_on([](Counter taken, Counter ended) -> braid::Task<std::tuple<std::string, int, int>> {
                auto [tx, rx] = braid::mpsc::channel<Tracked>(8);
                for (int i = 0; i < 5; ++i) EXPECT(!tx.try_send(Tracked(i)));
                auto [ftx, frx] = braid::mpsc::channel<Tracked>(1);
                EXPECT(!ftx.try_send(Tracked(50)));  // full: the sender branch waits
                auto t0 = braid::Instant::now();
                std::string what;
                try {
                    auto all =
                        braid::try_join(take_one_and_hold(&rx, taken, ended), take_one_and_hold(&rx, taken, ended),
                                        send_into_full(ftx, ended), throw_after(1ms, "primary failed"));
                    co_await all;
                } catch (const Boom& e) {
                    what = e.what();
                }
                EXPECT(since(t0) == 1ms);  // thrown at once, not after the siblings (which never end)
                int left = 0;
                while (rx.try_recv()) ++left;
                int full_left = 0;
                while (frx.try_recv()) ++full_left;
                co_return std::make_tuple(what, left, full_left);
            }(taken, ended));
        REQUIRE(what == "primary failed");
        REQUIRE(taken->load() == 2);
        REQUIRE(ended->load() == 3);  // every sibling's guard ran before try_join threw
        REQUIRE(left == 3);           // the items nobody had received stayed in the channel
        REQUIRE(full_left == 1);      // the cancelled send delivered nothing
    }
    REQUIRE(Tracked::live() == before);  // the two received items and the unsent value were destroyed
}

TEST_CASE("task_idioms.join waits for every branch before rethrowing and try_join rethrows the first failure at once") {
    auto ended = counter();
    auto rt = braid_test::paused_runtime();
    auto [join_what, join_at, try_what, try_at] = rt.block_on(
        [](Counter ended) -> braid::Task<std::tuple<std::string, braid::Duration, std::string, braid::Duration>> {
            auto t0 = braid::Instant::now();
            auto j = braid::join(value_after(5ms, 1), throw_after(2ms, "second"), throw_after(1ms, "third"));
            std::string jw = co_await boom_of(std::move(j));
            auto join_at = since(t0);
            t0 = braid::Instant::now();
            // Two failures: the one that happened first in time is rethrown.
            auto tj = braid::try_join(guarded_forever(ended), throw_after(2ms, "second"), throw_after(1ms, "third"));
            std::string tw = co_await boom_of(std::move(tj));
            co_return std::make_tuple(jw, join_at, tw, since(t0));
        }(ended));
    REQUIRE(join_what == "second");  // join: the first failure in argument order, once all ended
    REQUIRE(join_at == 5ms);
    REQUIRE(try_what == "third");  // try_join: the first to fail, at once
    REQUIRE(try_at == 1ms);
    REQUIRE(ended->load() == 1);
}

TEST_CASE("task_idioms.a failure nested in join inside select inside join reaches the top once and cancels everything") {
    long before = Tracked::live();
    auto ended = counter();
    {
        auto rt = braid_test::paused_runtime();
        auto [what, at, what2, at2] = rt.block_on(
            [](Counter ended) -> braid::Task<std::tuple<std::string, braid::Duration, std::string, braid::Duration>> {
                auto t0 = braid::Instant::now();
                // join: the inner join ends at 5ms with the failure, the select takes it, the outer
                // join still waits for its slower branch (7ms).
                auto inner = braid::join(throw_after(1ms, "deep"), tracked_after(5ms, 1));
                auto sel = braid::select(std::move(inner), braid::sleep(std::chrono::hours(1)));
                auto outer = braid::join(std::move(sel), tracked_after(7ms, 2));
                std::string w = co_await boom_of(std::move(outer));
                auto at = since(t0);
                // try_join at both levels: the failure at 1ms cancels every guarded branch.
                t0 = braid::Instant::now();
                auto inner2 = braid::try_join(throw_after(1ms, "deep2"), guarded_forever(ended));
                auto sel2 = braid::select(std::move(inner2), guarded_forever(ended));
                auto outer2 = braid::try_join(std::move(sel2), guarded_forever(ended));
                std::string w2 = co_await boom_of(std::move(outer2));
                co_return std::make_tuple(w, at, w2, since(t0));
            }(ended));
        REQUIRE(what == "deep");
        REQUIRE(at == 7ms);
        REQUIRE(what2 == "deep2");
        REQUIRE(at2 == 1ms);
        REQUIRE(ended->load() == 3);
    }
    REQUIRE(Tracked::live() == before);
}

TEST_CASE("task_idioms.join of JoinHandles where one task is aborted throws TaskCancelled and the others run to their end") {
    long before = Tracked::live();
    auto finished = counter();
    {
        auto rt = braid_test::paused_runtime();
        auto [join_cancelled, join_at, try_cancelled, try_at, done] = rt.block_on(
            [](Counter finished) -> braid::Task<std::tuple<bool, braid::Duration, bool, braid::Duration, int>> {
                auto worker = [](std::chrono::milliseconds d, Counter f) -> braid::Task<Tracked> {
                    co_await braid::sleep(d);
                    f->fetch_add(1);
                    co_return Tracked(1);
                };
                auto t0 = braid::Instant::now();
                auto a = braid::spawn(worker(3ms, finished));
                auto b = braid::spawn(worker(std::chrono::hours(1), finished));
                auto c = braid::spawn(worker(5ms, finished));
                b.abort();
                bool jc = false;
                try {
                    auto all = braid::join(std::move(a), std::move(b), std::move(c));
                    co_await all;
                } catch (const braid::TaskCancelled&) {
                    jc = true;
                }
                auto join_at = since(t0);  // join waited for a and c
                EXPECT(finished->load() == 2);
                // try_join: the aborted one fails it at once; the others' handles are dropped, which
                // detaches their tasks: they still run to their end.
                t0 = braid::Instant::now();
                auto d = braid::spawn(worker(3ms, finished));
                auto e = braid::spawn(worker(std::chrono::hours(1), finished));
                auto f = braid::spawn(worker(5ms, finished));
                e.abort();
                bool tc = false;
                try {
                    auto all = braid::try_join(std::move(d), std::move(e), std::move(f));
                    co_await all;
                } catch (const braid::TaskCancelled&) {
                    tc = true;
                }
                auto try_at = since(t0);
                co_await braid::sleep(10ms);
                co_return std::make_tuple(jc, join_at, tc, try_at, finished->load());
            }(finished));
        REQUIRE(join_cancelled);
        REQUIRE(join_at == 5ms);
        REQUIRE(try_cancelled);
        REQUIRE(try_at == 0ms);
        REQUIRE(done == 4);  // the detached tasks of the try_join finished too
    }
    REQUIRE(Tracked::live() == before);  // their values were dropped with the tasks nobody joined
}

TEST_CASE("task_idioms.kept awaitables in a try_join that fails keep their place and lose no message or notification") {
    long before = Tracked::live();
    {
        auto rt = braid_test::paused_runtime();
        auto [msg, notified, first_poll] = rt.block_on([]() -> braid::Task<std::tuple<int, bool, std::string>> {
            auto [tx, rx] = braid::mpsc::channel<Tracked>(4);
            braid::Notify notify;
            auto recv = rx.recv();
            auto n = notify.notified();
            auto tj = braid::try_join(recv, n, throw_after(1ms, "late"));
            std::string w = co_await boom_of(std::move(tj));
            EXPECT(w == "late");
            // Both waits were only unregistered: what arrives now waits in them.
            EXPECT(!tx.try_send(Tracked(5)));
            notify.notify_one();
            auto m = co_await recv;
            co_await n;
            // A branch that fails on its first poll: the others are cancelled before they ever wait.
            auto tj2 = braid::try_join(rx.recv(), throw_now("at once"));
            std::string w2 = co_await boom_of(std::move(tj2));
            co_return std::make_tuple(m ? m->value : -1, true, w2);
        }());
        REQUIRE(msg == 5);
        REQUIRE(notified);
        REQUIRE(first_poll == "at once");
    }
    REQUIRE(Tracked::live() == before);
}

TEST_CASE("task_idioms.try_join polls no branch after one failed: a ready receive behind the failure takes nothing") {
    long before = Tracked::live();
    {
        auto rt = braid_test::paused_runtime();
        auto [what, left, sent] = rt.block_on([]() -> braid::Task<std::tuple<std::string, int, bool>> {
            auto [tx, rx] = braid::mpsc::channel<Tracked>(4);
            auto [otx, orx] = braid::mpsc::channel<Tracked>(1);
            EXPECT(!tx.try_send(Tracked(1)));
            // The first poll starts with the first branch (Tokio's try_join! too): it fails, and
            // the receive and the send after it are never polled, as in Tokio.
            auto tj = braid::try_join(throw_now("first"), rx.recv(), otx.send(Tracked(2)));
            std::string w = co_await boom_of(std::move(tj));
            int left = 0;
            while (rx.try_recv()) ++left;
            bool sent = static_cast<bool>(orx.try_recv());
            co_return std::make_tuple(w, left, sent);
        }());
        REQUIRE(what == "first");
        REQUIRE(left == 1);  // the message is still in the channel
        REQUIRE(!sent);      // nothing was sent after the failure
    }
    REQUIRE(Tracked::live() == before);
}

// ---- select! ----------------------------------------------------------------------------------------------

TEST_CASE("task_idioms.primary and backup ready in the same poll: biased takes the first and the loser is dropped or kept") {
    long before = Tracked::live();
    {
        auto rt = braid_test::paused_runtime();
        auto [by_value, kept, kept_value, leftover] = rt.block_on([]() -> braid::Task<std::tuple<int, int, int, long>> {
            auto [p_tx, p_rx] = braid::oneshot::channel<Tracked>();
            auto [b_tx, b_rx] = braid::oneshot::channel<Tracked>();
            EXPECT(!p_tx.send(Tracked(1)));
            EXPECT(!b_tx.send(Tracked(2)));
            auto r = co_await braid::select_biased(std::move(p_rx), std::move(b_rx));
            int by_value = r.index() == 0 ? std::get<0>(r).value : -1;
            long leftover = Tracked::live();  // the winner's value (in r) only: the loser's went with its receiver
            // Kept receivers: the loser keeps its value for the next receive.
            auto [p2_tx, p2_rx] = braid::oneshot::channel<Tracked>();
            auto [b2_tx, b2_rx] = braid::oneshot::channel<Tracked>();
            EXPECT(!p2_tx.send(Tracked(3)));
            EXPECT(!b2_tx.send(Tracked(4)));
            auto r2 = co_await braid::select_biased(p2_rx, b2_rx);
            int kept = r2.index() == 0 ? std::get<0>(r2).value : -1;
            Tracked backup = co_await b2_rx;
            co_return std::make_tuple(by_value, kept, backup.value, leftover);
        }());
        REQUIRE(by_value == 1);
        REQUIRE(kept == 3);
        REQUIRE(kept_value == 4);
        REQUIRE(leftover == before + 1);
    }
    REQUIRE(Tracked::live() == before);
}

TEST_CASE("task_idioms.an unbiased select over two always-ready receives picks both sides and loses no message") {
    constexpr int kEach = 64;
    auto rt = braid_test::runtime(1);
    auto [first, second, total] = rt.block_on([]() -> braid::Task<std::tuple<int, int, int>> {
        auto [tx1, rx1] = braid::mpsc::channel<int>(kEach);
        auto [tx2, rx2] = braid::mpsc::channel<int>(kEach);
        for (int i = 0; i < kEach; ++i) {
            EXPECT(!tx1.try_send(i));
            EXPECT(!tx2.try_send(i));
        }
        int first = 0, second = 0, total = 0;
        for (int i = 0; i < kEach; ++i) {  // both sides ready at every poll
            auto r = co_await braid::select(rx1.recv(), rx2.recv());
            (r.index() == 0 ? first : second) += 1;
        }
        while (rx1.try_recv()) ++total;
        while (rx2.try_recv()) ++total;
        co_return std::make_tuple(first, second, total + first + second);
    }());
    REQUIRE(first > 0);  // 2^-63 to fail by chance
    REQUIRE(second > 0);
    REQUIRE(total == 2 * kEach);
}

TEST_CASE("task_idioms.select_biased drains the first ready branch before looking at the next") {
    auto rt = braid_test::runtime(1);
    auto order = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto [tx1, rx1] = braid::mpsc::channel<int>(8);
        auto [tx2, rx2] = braid::mpsc::channel<int>(8);
        for (int i = 0; i < 4; ++i) {
            EXPECT(!tx1.try_send(10 + i));
            EXPECT(!tx2.try_send(20 + i));
        }
        std::vector<int> order;
        for (int i = 0; i < 8; ++i) {
            auto r = co_await braid::select_biased(rx1.recv(), rx2.recv());
            order.push_back(r.index() == 0 ? *std::get<0>(r) : *std::get<1>(r));
        }
        co_return order;
    }());
    REQUIRE(order == std::vector<int>{10, 11, 12, 13, 20, 21, 22, 23});
}

TEST_CASE("task_idioms.select where one branch throws or both throw in the same poll rethrows exactly one failure") {
    auto ended = counter();
    auto rt = braid_test::paused_runtime();
    auto [one, biased_both, a_seen, b_seen] =
        rt.block_on([](Counter ended) -> braid::Task<std::tuple<std::string, std::string, int, int>> {
            // the request that fails first wins the race: its failure is the select's
            auto s1 = braid::select(throw_after(1ms, "primary down"), guarded_forever(ended));
            std::string one = co_await boom_of(std::move(s1));
            // both fail at the same instant: biased, the first argument's failure
            auto s2 = braid::select_biased(throw_after(1ms, "a"), throw_after(1ms, "b"));
            std::string both = co_await boom_of(std::move(s2));
            int a = 0, b = 0;
            for (int i = 0; i < 64; ++i) {
                auto s3 = braid::select(throw_now("a"), throw_now("b"));
                std::string w = co_await boom_of(std::move(s3));
                if (w == "a") ++a;
                if (w == "b") ++b;
            }
            co_return std::make_tuple(one, both, a, b);
        }(ended));
    REQUIRE(one == "primary down");
    REQUIRE(ended->load() == 1);
    REQUIRE(biased_both == "a");
    REQUIRE(a_seen + b_seen == 64);
    REQUIRE(a_seen > 0);  // unbiased: either may be polled first
    REQUIRE(b_seen > 0);
}

TEST_CASE("task_idioms.select over JoinHandles drops the losing handle which detaches its task as in Tokio") {
    long before = Tracked::live();
    {
        auto rt = braid_test::runtime(2);
        auto [winner, loser_ran, loser_finished] = rt.block_on([]() -> braid::Task<std::tuple<int, int, bool>> {
            auto gate = std::make_shared<braid::Notify>();
            auto [done_tx, done_rx] = braid::oneshot::channel<int>();
            auto fast = braid::spawn(value_after(1ms, 1));
            auto slow = braid::spawn(
                [](std::shared_ptr<braid::Notify> g, braid::oneshot::Sender<int> done) -> braid::Task<Tracked> {
                    co_await g->notified();
                    EXPECT(!done.send(7));
                    co_return Tracked(2);
                }(gate, std::move(done_tx)));
            auto slow_abort = slow.abort_handle();
            auto r = co_await braid::select(std::move(fast), std::move(slow));
            int winner = r.index() == 0 ? std::get<0>(r) : -1;
            gate->notify_one();  // the loser was not aborted: it goes on from its wait
            int ran = co_await std::move(done_rx);
            while (!slow_abort.is_finished()) co_await braid::yield_now();
            co_return std::make_tuple(winner, ran, slow_abort.is_finished());
        }());
        REQUIRE(winner == 1);
        REQUIRE(loser_ran == 7);
        REQUIRE(loser_finished);
    }
    REQUIRE(Tracked::live() == before);  // its value went with the detached task
}

TEST_CASE("task_idioms.a branch disabled with when never runs its task and an all-disabled select throws or takes otherwise") {
    long before = Tracked::live();
    auto ran = counter();
    {
        auto rt = braid_test::paused_runtime();
        auto [idx, code, else_idx] =
            rt.block_on([](Counter ran) -> braid::Task<std::tuple<std::size_t, int, std::size_t>> {
                auto body = [](Tracked t, Counter r) -> braid::Task<int> {
                    r->fetch_add(1);
                    co_await braid::yield_now();
                    co_return t.value;
                };
                auto s1 = braid::select(braid::when(false, body(Tracked(1), ran)), braid::sleep(1ms));
                auto r1 = co_await s1;
                int code = 0;
                try {
                    auto s2 = braid::select(braid::when(false, body(Tracked(2), ran)),
                                            braid::when(false, body(Tracked(3), ran)));
                    co_await s2;
                } catch (const braid::Error& e) {
                    code = e.code();
                }
                auto s3 = braid::select(braid::when(false, body(Tracked(4), ran)), braid::otherwise());
                auto r3 = co_await s3;
                co_return std::make_tuple(r1.index(), code, r3.index());
            }(ran));
        REQUIRE(idx == 1);
        REQUIRE(code == BRAID_EINVAL);  // Tokio panics: "all branches are disabled and there is no else branch"
        REQUIRE(else_idx == 1);
        REQUIRE(ran->load() == 0);
    }
    REQUIRE(Tracked::live() == before);  // every disabled branch's frame (and its argument) was destroyed
}

// ---- timeout ----------------------------------------------------------------------------------------------

namespace {
// CPU work that never waits: it awaits only consume_budget (the best practice
// for a long computation inside a task), so it yields only when the budget
// is used up.
braid::Task<long> busy_forever(Counter iterations, Counter ended) {
    Guard g(std::move(ended));
    long x = 0;
    for (;;) {
        x += iterations->fetch_add(1);
        co_await braid::task::consume_budget();
    }
    co_return x;
}
}  // namespace

TEST_CASE("task_idioms.timeout around CPU work that only consumes budget fires and destroys the work") {
    for (int workers : {0, 1}) {
        auto iterations = counter();
        auto ended = counter();
        auto rt = workers == 0 ? braid_test::current_thread_runtime() : braid_test::runtime(workers);
        bool elapsed = rt.block_on([](Counter it, Counter e) -> braid::Task<bool> {
            auto r = co_await braid::timeout(20ms, busy_forever(it, e));
            co_return !r.has_value();
        }(iterations, ended));
        REQUIRE(elapsed);
        REQUIRE(iterations->load() > 128);  // it ran across several budgets
        REQUIRE(ended->load() == 1);
    }
}

TEST_CASE("task_idioms.a future completing exactly at the deadline under paused time gives its value") {
    auto rt = braid_test::paused_runtime();
    auto [by_duration, at_instant, at, zero_pending, zero_ready] = rt.block_on(
        []() -> braid::Task<
                 std::tuple<std::optional<int>, std::optional<int>, braid::Duration, bool, std::optional<int>>> {
            auto t0 = braid::Instant::now();
            // Tokio polls the future before the deadline: one due at the deadline wins.
            auto a = co_await braid::timeout(10ms, value_after(10ms, 1));
            auto deadline = braid::Instant::now() + 10ms;
            auto until = [](braid::Instant d) -> braid::Task<int> {
                co_await braid::sleep_until(d);
                co_return 2;
            };
            auto b = co_await braid::timeout_at(deadline, until(deadline));
            auto at = since(t0);
            // A zero timeout: a pending future elapses, a ready one still gives its value.
            auto zero = braid::timeout(0ms, braid_test::pending());
            bool zp = !(co_await zero);
            auto zr = co_await braid::timeout(0ms, ready_value(3));
            co_return std::make_tuple(a, b, at, zp, zr);
        }());
    REQUIRE(by_duration == std::optional<int>(1));
    REQUIRE(at_instant == std::optional<int>(2));
    REQUIRE(at == 20ms);
    REQUIRE(zero_pending);
    REQUIRE(zero_ready == std::optional<int>(3));
}

TEST_CASE("task_idioms.nested timeouts: the shorter one fires whichever is outside") {
    auto ended = counter();
    auto rt = braid_test::paused_runtime();
    auto [outer_fired, outer_at, inner_fired, inner_at] =
        rt.block_on([](Counter ended) -> braid::Task<std::tuple<bool, braid::Duration, bool, braid::Duration>> {
            auto t0 = braid::Instant::now();
            auto inner = braid::timeout(20ms, guarded_forever(ended));
            auto r1 = co_await braid::timeout(10ms, std::move(inner));  // the outer is shorter
            auto at1 = since(t0);
            t0 = braid::Instant::now();
            auto inner2 = braid::timeout(10ms, guarded_forever(ended));
            auto r2 = co_await braid::timeout(20ms, std::move(inner2));  // the inner is shorter
            auto at2 = since(t0);
            // r1: the outer elapsed (no value); r2: the outer has the inner's "elapsed"
            co_return std::make_tuple(!r1.has_value(), at1, r2.has_value() && !r2->has_value(), at2);
        }(ended));
    REQUIRE(outer_fired);
    REQUIRE(outer_at == 10ms);
    REQUIRE(inner_fired);
    REQUIRE(inner_at == 10ms);
    REQUIRE(ended->load() == 2);
}

TEST_CASE("task_idioms.a timeout around a JoinHandle does not abort the task: kept it is joined later and moved in it runs on") {
    long before = Tracked::live();
    auto finished = counter();
    {
        auto rt = braid_test::paused_runtime();
        auto [first, later, detached_done] =
            rt.block_on([](Counter finished) -> braid::Task<std::tuple<bool, int, int>> {
                auto work = [](Counter f, int v) -> braid::Task<Tracked> {
                    co_await braid::sleep(10ms);
                    f->fetch_add(1);
                    co_return Tracked(v);
                };
                auto h = braid::spawn(work(finished, 5));
                auto r = co_await braid::timeout(1ms, h);  // kept: stays joinable
                Tracked v = co_await h;
                auto h2 = braid::spawn(work(finished, 6));
                auto r2 = co_await braid::timeout(1ms, std::move(h2));  // moved in: dropped, so detached
                EXPECT(!r2);
                co_await braid::sleep(20ms);
                co_return std::make_tuple(!r.has_value(), v.value, finished->load());
            }(finished));
        REQUIRE(first);
        REQUIRE(later == 5);
        REQUIRE(detached_done == 2);
    }
    REQUIRE(Tracked::live() == before);
}

TEST_CASE("task_idioms.a timeout around a spawn_blocking handle leaves the job to run to its end") {
    auto rt = braid::Runtime::builder().worker_threads(1).max_blocking_threads(2).build();
    auto [elapsed, value, dropped_elapsed, dropped_ran] =
        rt.block_on([]() -> braid::Task<std::tuple<bool, int, bool, int>> {
            auto release = std::make_shared<std::promise<void>>();
            std::shared_future<void> go = release->get_future().share();
            auto h = braid::spawn_blocking([go] {
                go.wait();
                return 42;
            });
            auto r = co_await braid::timeout(5ms, h);  // real time: the job waits for `go`
            release->set_value();
            int v = co_await h;  // the job was not cancelled by the timeout
            // The handle moved into the timeout: the job still runs, and reports through a oneshot.
            auto release2 = std::make_shared<std::promise<void>>();
            std::shared_future<void> go2 = release2->get_future().share();
            auto [tx, rx] = braid::oneshot::channel<int>();
            auto job = [go2, t = std::make_shared<braid::oneshot::Sender<int>>(std::move(tx))] {
                go2.wait();
                EXPECT_ANYWHERE(!t->send(7));
                return 0;
            };
            auto h2 = braid::spawn_blocking(std::move(job));
            auto r2 = co_await braid::timeout(5ms, std::move(h2));
            release2->set_value();
            int ran = co_await std::move(rx);
            co_return std::make_tuple(!r.has_value(), v, !r2.has_value(), ran);
        }());
    REQUIRE(elapsed);
    REQUIRE(value == 42);
    REQUIRE(dropped_elapsed);
    REQUIRE(dropped_ran == 7);
}

// ---- JoinHandle outcomes, abort ----------------------------------------------------------------------------

TEST_CASE("task_idioms.a JoinHandle of a task that threw rethrows its exception and abort after the end changes nothing") {
    auto rt = braid_test::runtime(2);
    auto [what, finished, what_after_abort] =
        rt.block_on([]() -> braid::Task<std::tuple<std::string, bool, std::string>> {
            auto h = braid::spawn(throw_after(0ms, "task failed"));
            auto h2 = braid::spawn(throw_after(0ms, "task failed too"));
            std::string w;
            try {
                co_await h;
            } catch (const Boom& e) {  // the task's own exception type, not a wrapper
                w = e.what();
            }
            bool fin = h.is_finished();
            while (!h2.is_finished()) co_await braid::yield_now();
            h2.abort();  // finished: the exception stays its outcome, not TaskCancelled
            std::string w2;
            try {
                co_await h2;
            } catch (const Boom& e) {
                w2 = e.what();
            }
            co_return std::make_tuple(w, fin, w2);
        }());
    REQUIRE(what == "task failed");
    REQUIRE(finished);
    REQUIRE(what_after_abort == "task failed too");
}

TEST_CASE("task_idioms.a JoinHandle awaited again after it gave its outcome throws EINVAL instead of giving it twice") {
    long before = Tracked::live();
    {
        auto rt = braid_test::runtime(1);
        auto [first, second_code, failed_code, void_code] =
            rt.block_on([]() -> braid::Task<std::tuple<int, int, int, int>> {
                auto h = braid::spawn(tracked_after(0ms, 9));
                Tracked v = co_await h;
                int code = co_await join_code(h);
                auto hf = braid::spawn(throw_after(0ms, "once"));
                std::string w = co_await join_boom(hf);
                EXPECT(w == "once");
                int fcode = co_await join_code(hf);  // the exception was given already
                auto hv = braid::spawn([]() -> braid::Task<> { co_return; }());
                co_await hv;
                int vcode = co_await join_code(hv);
                co_return std::make_tuple(v.value, code, fcode, vcode);
            }());
        REQUIRE(first == 9);
        REQUIRE(second_code == BRAID_EINVAL);  // Tokio panics: "JoinHandle polled after completion"
        REQUIRE(failed_code == BRAID_EINVAL);
        REQUIRE(void_code == BRAID_EINVAL);
    }
    REQUIRE(Tracked::live() == before);
}

TEST_CASE("task_idioms.a task aborted while it awaits spawn_blocking is cancelled and the job runs to its end") {
    long before = Tracked::live();
    auto job_ended = counter();
    auto ended = counter();
    {
        auto rt = braid_test::runtime(2);
        auto [cancelled, job_done] =
            rt.block_on([](Counter job_ended, Counter ended) -> braid::Task<std::pair<bool, int>> {
                auto started = std::make_shared<std::latch>(1);
                auto release = std::make_shared<std::latch>(1);
                auto [tx, rx] = braid::oneshot::channel<int>();
                auto task = braid::spawn([](std::shared_ptr<std::latch> s, std::shared_ptr<std::latch> r, Counter je,
                                            Counter e, braid::oneshot::Sender<int> done) -> braid::Task<Tracked> {
                    Guard g(std::move(e));
                    auto job = [s, r, je, d = std::make_shared<braid::oneshot::Sender<int>>(std::move(done))] {
                        s->count_down();
                        r->wait();
                        je->fetch_add(1);
                        EXPECT_ANYWHERE(!d->send(1));
                        return Tracked(3);
                    };
                    auto h = braid::spawn_blocking(std::move(job));
                    Tracked v = co_await h;
                    co_return v;
                }(started, release, job_ended, ended, std::move(tx)));
                auto wait_started = [](std::shared_ptr<std::latch> s) { s->wait(); };
                auto w = braid::spawn_blocking([s = started, wait_started] { wait_started(s); });
                co_await w;  // the job is running
                task.abort();
                bool c = co_await cancelled_join(task);
                EXPECT(ended->load() == 1);  // the task's frame is gone while the job still runs
                EXPECT(job_ended->load() == 0);
                release->count_down();
                int d = co_await std::move(rx);
                co_return std::make_pair(c, d);
            }(job_ended, ended));
        REQUIRE(cancelled);
        REQUIRE(job_done == 1);
    }
    REQUIRE(job_ended->load() == 1);
    REQUIRE(Tracked::live() == before);  // the job's value was dropped with the detached job
}

TEST_CASE("task_idioms.abort from a plain thread cancels a task mid select and its guards run") {
    auto ended = counter();
    auto rt = braid_test::runtime(2);
    bool cancelled = rt.block_on([](Counter ended) -> braid::Task<bool> {
        auto [tx, rx] = braid::mpsc::channel<int>(1);
        auto started = std::make_shared<braid::Notify>();
        auto task = braid::spawn(
            [](braid::mpsc::Receiver<int> r, std::shared_ptr<braid::Notify> s, Counter e) -> braid::Task<int> {
                Guard g(e);
                s->notify_one();
                auto got = co_await braid::select(r.recv(), guarded_forever(e));
                co_return got.index() == 0 ? 1 : 2;
            }(std::move(rx), started, ended));
        co_await started->notified();
        auto ah = task.abort_handle();
        std::thread t([ah] { ah.abort(); });
        t.join();
        bool c = co_await cancelled_join(task);
        // the channel still works: the receiver went with the task
        auto back = co_await tx.send(1);
        EXPECT(back.has_value());
        co_return c;
    }(ended));
    REQUIRE(cancelled);
    REQUIRE(ended->load() == 2);  // the task's guard and the select branch's
}

TEST_CASE("task_idioms.tasks spawned and forgotten outlive their spawner and all run to their end") {
    constexpr int kChildren = 16;
    auto rt = braid_test::runtime(2);
    auto [spawner_done, received, closed] = rt.block_on([]() -> braid::Task<std::tuple<bool, int, bool>> {
        braid::CancellationToken go;
        auto [tx, rx] = braid::mpsc::channel<int>(kChildren);
        auto spawner = braid::spawn([](braid::CancellationToken g, braid::mpsc::Sender<int> t) -> braid::Task<> {
            for (int i = 0; i < kChildren; ++i) {
                auto child =
                    braid::spawn([](braid::CancellationToken g2, braid::mpsc::Sender<int> t2, int v) -> braid::Task<> {
                        co_await g2.cancelled();
                        auto back = co_await t2.send(v);
                        EXPECT(!back);
                    }(g, t, i));
                child.detach();
            }
            co_return;
        }(go, std::move(tx)));
        co_await spawner;  // the spawner ended; its children wait
        bool done = spawner.is_finished();
        go.cancel();
        int n = 0;
        for (;;) {
            auto m = co_await rx.recv();
            if (!m) break;  // every child ended and dropped its sender
            ++n;
        }
        co_return std::make_tuple(done, n, true);
    }());
    REQUIRE(spawner_done);
    REQUIRE(received == kChildren);
    REQUIRE(closed);
}

// ---- JoinSet ------------------------------------------------------------------------------------------------

TEST_CASE("task_idioms.a join_next loop that spawns into the set on every result joins every task once") {
    // A crawl: each result n > 0 spawns two tasks of n - 1 (a tree of 2^(d+1) - 1 tasks).
    constexpr int kDepth = 6;
    auto rt = braid_test::runtime(2);
    auto [joined, sum] = rt.block_on([]() -> braid::Task<std::pair<int, long>> {
        braid::JoinSet<int> set;
        auto visit = [](int n) -> braid::Task<int> {
            if (n % 2) co_await braid::yield_now();
            co_return n;
        };
        set.spawn(visit(kDepth));
        int joined = 0;
        long sum = 0;
        for (;;) {
            auto r = co_await set.join_next();
            if (!r) break;
            ++joined;
            sum += *r;
            if (*r > 0) {
                set.spawn(visit(*r - 1));
                set.spawn(visit(*r - 1));
            }
        }
        co_return std::make_pair(joined, sum);
    }());
    REQUIRE(joined == (1 << (kDepth + 1)) - 1);
    long expect = 0;
    for (int d = 0; d <= kDepth; ++d) expect += long(kDepth - d) << d;
    REQUIRE(sum == expect);
}

namespace {
struct Outcome {
    std::optional<int> value;
    std::string failure;
    bool cancelled = false;
    bool empty = false;
};
// One join_next, its failure caught (no try around a co_await in a loop: g++ 12).
braid::Task<Outcome> next_outcome(braid::JoinSet<int>& set) {
    Outcome o;
    try {
        auto r = co_await set.join_next();
        if (r)
            o.value = *r;
        else
            o.empty = true;
    } catch (const Boom& e) {
        o.failure = e.what();
    } catch (const braid::TaskCancelled&) {
        o.cancelled = true;
    }
    co_return o;
}
}  // namespace

TEST_CASE("task_idioms.a task that throws among many in a JoinSet fails its own join_next only") {
    constexpr int kTasks = 50;
    auto rt = braid_test::runtime(2);
    auto [ok, failed, what, cancelled] = rt.block_on([]() -> braid::Task<std::tuple<int, int, std::string, int>> {
        braid::JoinSet<int> set;
        std::vector<braid::AbortHandle> aborts;
        for (int i = 0; i < kTasks; ++i) {
            aborts.push_back(set.spawn([](int v) -> braid::Task<int> {
                co_await braid::yield_now();
                if (v == 17) throw Boom("task 17");
                if (v == 23) co_await braid_test::pending();
                co_return v;
            }(i)));
        }
        aborts[23].abort();
        int ok = 0, failed = 0, cancelled = 0;
        std::string what;
        for (;;) {
            Outcome o = co_await next_outcome(set);
            if (o.empty) break;
            if (o.value) ++ok;
            if (!o.failure.empty()) {
                ++failed;
                what = o.failure;
            }
            if (o.cancelled) ++cancelled;
        }
        co_return std::make_tuple(ok, failed, what, cancelled);
    }());
    REQUIRE(ok == kTasks - 2);
    REQUIRE(failed == 1);
    REQUIRE(what == "task 17");
    REQUIRE(cancelled == 1);
}

TEST_CASE("task_idioms.JoinSet shutdown with finished unjoined tasks and tasks mid await destroys everything before it returns") {
    constexpr int kRunning = 20;
    constexpr int kDone = 10;
    long before = Tracked::live();
    auto ended = counter();
    {
        auto rt = braid_test::runtime(2);
        auto [live_after, len_after, guards] =
            rt.block_on([](Counter ended, long before) -> braid::Task<std::tuple<long, std::size_t, int>> {
                braid::JoinSet<Tracked> set;
                auto started = std::make_shared<braid::Semaphore>(0);
                for (int i = 0; i < kRunning; ++i)
                    set.spawn([](Counter e, std::shared_ptr<braid::Semaphore> s) -> braid::Task<Tracked> {
                        Guard g(std::move(e));
                        Tracked held(1);
                        s->add_permits(1);
                        co_await braid_test::pending();
                        co_return held;
                    }(ended, started));
                for (int i = 0; i < kDone; ++i)
                    set.spawn([](std::shared_ptr<braid::Semaphore> s) -> braid::Task<Tracked> {
                        s->add_permits(1);
                        co_return Tracked(2);
                    }(started));
                auto all = co_await started->acquire_many(kRunning + kDone);
                all.forget();
                co_await set.shutdown();
                co_return std::make_tuple(Tracked::live() - before, set.len(), ended->load());
            }(ended, before));
        REQUIRE(live_after == 0);  // values of finished tasks and values held by running ones are gone
        REQUIRE(len_after == 0);
        REQUIRE(guards == kRunning);
    }
    REQUIRE(Tracked::live() == before);
}

// ---- spawn_blocking, block_in_place ---------------------------------------------------------------------------

TEST_CASE("task_idioms.many blocking jobs on two blocking threads return their values through their JoinHandles") {
    constexpr int kJobs = 40;
    auto rt = braid::Runtime::builder().worker_threads(1).max_blocking_threads(2).build();
    auto [sum, most] = rt.block_on([]() -> braid::Task<std::pair<long, int>> {
        auto running = std::make_shared<std::atomic<int>>(0);
        auto most = std::make_shared<std::atomic<int>>(0);
        std::vector<braid::JoinHandle<long>> handles;
        for (int i = 0; i < kJobs; ++i)
            handles.push_back(braid::spawn_blocking([i, running, most] {
                int now = running->fetch_add(1) + 1;
                int m = most->load();
                while (now > m && !most->compare_exchange_weak(m, now)) {
                }
                long x = 0;
                for (int k = 0; k < 10000; ++k) x += k % (i + 1);
                running->fetch_sub(1);
                return x + i;
            }));
        long sum = 0;
        for (auto& h : handles) sum += co_await h;
        co_return std::make_pair(sum, most->load());
    }());
    long expect = 0;
    for (int i = 0; i < kJobs; ++i) {
        long x = 0;
        for (int k = 0; k < 10000; ++k) x += k % (i + 1);
        expect += x + i;
    }
    REQUIRE(sum == expect);
    REQUIRE(most <= 2);
}

TEST_CASE("task_idioms.a blocking job that block_on's the runtime handle runs async work to completion") {
    auto rt = braid::Runtime::builder().worker_threads(2).max_blocking_threads(2).build();
    auto [result, echoed] = rt.block_on([]() -> braid::Task<std::pair<int, int>> {
        auto [tx, rx] = braid::mpsc::channel<int>(4);
        // An async echo service the blocking job talks to.
        auto service = braid::spawn([](braid::mpsc::Receiver<int> r) -> braid::Task<int> {
            int n = 0;
            for (;;) {
                auto m = co_await r.recv();
                if (!m) break;
                n += *m;
            }
            co_return n;
        }(std::move(rx)));
        auto job = [h = braid::Handle::current(), t = std::move(tx)]() mutable {
            auto work = [](braid::mpsc::Sender<int> s) -> braid::Task<int> {
                auto j = braid::join(value_after(1ms, 1), value_after(2ms, 2));
                auto [a, b] = co_await j;
                auto back = co_await s.send(a + b);
                EXPECT(!back);
                co_return a + b;
            };
            int r = h.block_on(work(std::move(t)));
            return r;
        };
        auto h = braid::spawn_blocking(std::move(job));
        int r = co_await h;
        int e = co_await service;  // the job dropped the sender: the service ended
        co_return std::make_pair(r, e);
    }());
    REQUIRE(result == 3);
    REQUIRE(echoed == 3);
}

TEST_CASE("task_idioms.block_in_place inside a timeout runs to its end and the timeout counts from the first pending poll") {
    auto rt = braid_test::runtime(2);
    auto [value, elapsed] = rt.block_on([]() -> braid::Task<std::pair<std::optional<int>, bool>> {
        // block_in_place inside the timed task: the task cannot be cancelled while it blocks, so
        // its value is there when the timeout looks next (it polls the future first).
        auto work = []() -> braid::Task<int> {
            int v = braid::task::block_in_place([] {
                std::this_thread::sleep_for(30ms);
                return 5;
            });
            co_return v;
        };
        auto r = co_await braid::timeout(5ms, work());
        // A task that awaits after blocking is cancelled at that await.
        auto work2 = []() -> braid::Task<int> {
            braid::task::block_in_place([] { std::this_thread::sleep_for(30ms); });
            co_await braid_test::pending();
            co_return 6;
        };
        auto r2 = co_await braid::timeout(5ms, work2());
        co_return std::make_pair(r, !r2.has_value());
    }());
    REQUIRE(value == std::optional<int>(5));
    REQUIRE(elapsed);
}

// ---- graceful shutdown ----------------------------------------------------------------------------------------

namespace {
struct ServerCounts {
    std::atomic<int> accepted{0};
    std::atomic<int> started{0};
    std::atomic<int> ended{0};
    std::atomic<int> served{0};
};

// A connection: serves requests from its own channel until it closes or the
// shutdown token fires (then it finishes the request in hand).
braid::Task<> connection(std::shared_ptr<ServerCounts> c, braid::mpsc::Receiver<int> requests,
                         braid::CancellationToken shutdown, std::shared_ptr<braid::Semaphore> up) {
    c->started.fetch_add(1);
    struct End {
        ServerCounts* c;
        ~End() { c->ended.fetch_add(1); }
    } end{c.get()};
    up->add_permits(1);
    for (;;) {
        auto r = co_await braid::select_biased(shutdown.cancelled(), requests.recv());
        if (r.index() == 0) break;
        auto req = std::move(std::get<1>(r));
        if (!req) break;
        co_await braid::yield_now();  // the request's work
        c->served.fetch_add(1);
    }
}

// The accept loop: each "connection" arrives as the receiving end of its
// request channel.  Every connection is tracked; with `own` it lives in the
// server's JoinSet, so dropping the server aborts it, else it is detached
// (mini-redis: it stops when told through `shutdown`).  The server never
// ends by itself.
braid::Task<> serve(std::shared_ptr<ServerCounts> c, braid::mpsc::Receiver<braid::mpsc::Receiver<int>> listener,
                    braid::CancellationToken shutdown, braid::TaskTracker tracker, std::shared_ptr<braid::Semaphore> up,
                    bool own) {
    braid::JoinSet<void> conns;
    for (;;) {
        auto conn = co_await listener.recv();
        if (!conn) break;
        c->accepted.fetch_add(1);
        auto task = connection(c, std::move(*conn), shutdown.child_token(), up);
        if (own) {
            conns.spawn(tracker.track_future(std::move(task)));
        } else {
            tracker.spawn(std::move(task)).detach();
        }
        while (conns.try_join_next()) {
        }
    }
    co_await braid_test::pending();
}
}  // namespace

TEST_CASE("task_idioms.graceful shutdown: a token wins a select over the server whose dropped JoinSet aborts every connection") {
    constexpr int kConns = 12;
    auto c = std::make_shared<ServerCounts>();
    auto rt = braid_test::runtime(2);
    auto [winner, tracked_left] =
        rt.block_on([](std::shared_ptr<ServerCounts> c) -> braid::Task<std::pair<std::size_t, std::size_t>> {
            braid::CancellationToken stop;
            braid::TaskTracker tracker;
            auto up = std::make_shared<braid::Semaphore>(0);
            auto [ltx, lrx] = braid::mpsc::channel<braid::mpsc::Receiver<int>>(kConns);
            std::vector<braid::mpsc::Sender<int>> clients;
            for (int i = 0; i < kConns; ++i) {
                auto [tx, rx] = braid::mpsc::channel<int>(4);
                EXPECT(!tx.try_send(1));
                clients.push_back(std::move(tx));
                EXPECT(!ltx.try_send(std::move(rx)));
            }
            // The ctrl-c stand-in: fires once every connection is up.
            auto trigger =
                braid::spawn([](std::shared_ptr<braid::Semaphore> u, braid::CancellationToken s) -> braid::Task<> {
                    auto all = co_await u->acquire_many(kConns);
                    all.forget();
                    s.cancel();
                }(up, stop));
            braid::CancellationToken unused;
            auto race = braid::select(serve(c, std::move(lrx), unused, tracker, up, true), stop.cancelled());
            auto r = co_await race;
            co_await trigger;
            tracker.close();
            co_await tracker.wait();  // the aborted connections' frames are all gone
            co_return std::make_pair(r.index(), tracker.len());
        }(c));
    REQUIRE(winner == 1);
    REQUIRE(tracked_left == 0);
    REQUIRE(c->accepted.load() == kConns);
    REQUIRE(c->started.load() == kConns);
    REQUIRE(c->ended.load() == kConns);
}

TEST_CASE("task_idioms.graceful shutdown on a signal: connections finish the request in hand and the tracker waits for all") {
    constexpr int kConns = 8;
    auto c = std::make_shared<ServerCounts>();
    auto rt = braid_test::runtime(2);
    auto [winner, tracked_left] =
        rt.block_on([](std::shared_ptr<ServerCounts> c) -> braid::Task<std::pair<std::size_t, std::size_t>> {
            braid::signal::Signal usr1(SIGUSR1);  // listening from here on
            braid::CancellationToken shutdown;
            braid::TaskTracker tracker;
            auto up = std::make_shared<braid::Semaphore>(0);
            auto [ltx, lrx] = braid::mpsc::channel<braid::mpsc::Receiver<int>>(kConns);
            std::vector<braid::mpsc::Sender<int>> clients;
            for (int i = 0; i < kConns; ++i) {
                auto [tx, rx] = braid::mpsc::channel<int>(4);
                for (int k = 0; k < 3; ++k) EXPECT(!tx.try_send(k));
                clients.push_back(std::move(tx));
                EXPECT(!ltx.try_send(std::move(rx)));
            }
            auto trigger = braid::spawn([](std::shared_ptr<braid::Semaphore> u) -> braid::Task<> {
                auto all = co_await u->acquire_many(kConns);
                all.forget();
                std::raise(SIGUSR1);
            }(up));
            trigger.detach();
            auto race = braid::select(serve(c, std::move(lrx), shutdown, tracker, up, false), usr1.recv());
            auto r = co_await race;
            // The server is gone; its connections run on until they are told, as in mini-redis.
            EXPECT(c->ended.load() == 0);
            shutdown.cancel();
            tracker.close();
            co_await tracker.wait();
            co_return std::make_pair(r.index(), tracker.len());
        }(c));
    REQUIRE(winner == 1);
    REQUIRE(tracked_left == 0);
    REQUIRE(c->started.load() == kConns);
    REQUIRE(c->ended.load() == kConns);
    REQUIRE(c->served.load() <= 3 * kConns);
}

}  // namespace test_task_idioms
