// The C side of streams (braid/stream.h): a C producer consumed by callbacks,
// by polling and blocking; a C++ pipeline consumed from C; round trips with
// exceptions; errors for bad input; freeing a stream with an operation
// pending; shutdown.
#include <catch2/catch.hpp>
#include <braid/stream.h>
#include <braid/stream.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_stream_capi {

using namespace std::chrono_literals;
using braid_test::Tracked;
namespace bs = braid::stream;

namespace {

// A C producer: the numbers from..to-1 (int64_t), optionally one pending
// poll (with a wake from another thread) before every third item.
struct Counter {
    int64_t next, end;
    bool slow = false;    // pending before every third item; a new thread wakes it
    bool manual = false;  // pending before every third item until release()
    int polls = 0;
    std::atomic<int> unregisters{0};
    std::atomic<bool> freed{false};
    braid_wake_fn wake = nullptr;
    void* wake_data = nullptr;
    bool ready = false;
    std::mutex mu;
    std::vector<std::thread> wakers;  // joined before the counter goes

    Counter(int64_t from, int64_t to) : next(from), end(to) {}
    ~Counter() {
        for (auto& t : wakers) t.join();
    }

    static int poll(void* p, void* out, braid_wake_fn wake, void* data) {
        auto* c = static_cast<Counter*>(p);
        std::lock_guard<std::mutex> g(c->mu);
        if (!wake) {
            c->wake = nullptr;
            c->unregisters++;
            return BRAID_PENDING;
        }
        ++c->polls;
        if (c->next == c->end) return BRAID_ECLOSED;
        if (c->manual && c->next % 3 == 0 && !c->ready) {
            c->wake = wake;
            c->wake_data = data;
            return BRAID_PENDING;
        }
        if (c->slow && c->next % 3 == 0 && !c->ready) {
            c->wake = wake;
            c->wake_data = data;
            c->wakers.emplace_back([c] {
                std::lock_guard<std::mutex> g(c->mu);
                c->ready = true;
                if (c->wake) c->wake(c->wake_data);
                c->wake = nullptr;
            });
            return BRAID_PENDING;
        }
        c->ready = false;
        *static_cast<int64_t*>(out) = c->next++;
        return BRAID_OK;
    }
    static void free_state(void* p) {
        auto* c = static_cast<Counter*>(p);
        c->freed = true;
        c->freed.notify_all();
    }
    // manual mode: the item is there now (wakes a registered consumer)
    void release() {
        std::lock_guard<std::mutex> g(mu);
        ready = true;
        if (wake) wake(wake_data);
        wake = nullptr;
    }
};

// The state is freed by whoever drops the last reference: the owner, or an
// operation finishing on a worker just after its last callback.
bool wait_freed(Counter& c) {
    c.freed.wait(false);
    return c.freed;
}

braid_stream* counter_stream(Counter* c) {
    braid_stream* s = nullptr;
    REQUIRE(braid_stream_new(&s, sizeof(int64_t), alignof(int64_t), nullptr, nullptr, &Counter::poll,
                             &Counter::free_state, c) == BRAID_OK);
    return s;
}

// What callbacks saw, for the main thread to check.
struct Seen {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<int64_t> items;
    std::vector<int> finals;
    int bad_status = 0;  // an item with a status other than BRAID_OK
    void item(int64_t v, int status = BRAID_OK) {
        std::lock_guard<std::mutex> g(mu);
        items.push_back(v);
        bad_status += status != BRAID_OK;
    }
    void final_status(int st) {
        std::lock_guard<std::mutex> g(mu);
        finals.push_back(st);
        cv.notify_all();
    }
    void wait_finals(std::size_t n) {
        std::unique_lock<std::mutex> g(mu);
        REQUIRE(cv.wait_for(g, 10s, [&] { return finals.size() >= n; }));
    }
};

void on_each(void* ud, int status, void* item) {
    auto* s = static_cast<Seen*>(ud);
    if (item) {
        s->item(*static_cast<int64_t*>(item), status);
    } else {
        s->final_status(status);
    }
}

}  // namespace

TEST_CASE("stream_capi.C: a C producer consumed with braid_stream_for_each") {
    auto rt = braid_test::runtime(2);
    Counter c(0, 100);
    c.slow = true;
    braid_stream* s = counter_stream(&c);
    Seen seen;
    REQUIRE(braid_stream_for_each(nullptr, rt.native_handle(), s, &on_each, &seen) == BRAID_OK);
    seen.wait_finals(1);
    REQUIRE(seen.finals == std::vector<int>{BRAID_ECLOSED});
    REQUIRE(seen.items.size() == 100);
    REQUIRE(seen.bad_status == 0);
    for (int i = 0; i < 100; ++i) REQUIRE(seen.items[size_t(i)] == i);
    braid_stream_free(s);
    REQUIRE(wait_freed(c));
}

namespace {
// braid_stream_next in a chain: each callback asks for the next item.
struct Chain {
    braid_runtime* rt;
    braid_stream* s;
    Seen* seen;
    static void on_next(void* ud, int status, void* item) {
        auto* ch = static_cast<Chain*>(ud);
        if (status != BRAID_OK) {
            ch->seen->final_status(status);
            return;
        }
        ch->seen->item(*static_cast<int64_t*>(item));
        int rc = braid_stream_next(nullptr, ch->rt, ch->s, &Chain::on_next, ch);
        if (rc != BRAID_OK) ch->seen->final_status(rc);
    }
};
}  // namespace

TEST_CASE("stream_capi.C: braid_stream_next, one item per callback, the next one started from the callback") {
    auto rt = braid_test::runtime(2);
    Counter c(5, 25);
    c.slow = true;
    braid_stream* s = counter_stream(&c);
    Seen seen;
    Chain ch{rt.native_handle(), s, &seen};
    REQUIRE(braid_stream_next(nullptr, rt.native_handle(), s, &Chain::on_next, &ch) == BRAID_OK);
    seen.wait_finals(1);
    REQUIRE(seen.finals == std::vector<int>{BRAID_ECLOSED});
    REQUIRE(seen.items.size() == 20);
    REQUIRE(seen.items.front() == 5);
    REQUIRE(seen.items.back() == 24);
    braid_stream_free(s);
    REQUIRE(wait_freed(c));
}

TEST_CASE("stream_capi.C: one operation at a time (EBUSY), bad input (EINVAL)") {
    auto rt = braid_test::runtime(1);
    Counter c(0, 10);
    braid_stream* s = counter_stream(&c);
    int64_t v = 0;
    REQUIRE(braid_stream_poll_next(s, &v, sizeof(int32_t), &braid_task_wake_fn, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_stream_poll_next(nullptr, &v, sizeof v, &braid_task_wake_fn, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_stream_next(nullptr, rt.native_handle(), s, nullptr, nullptr) == BRAID_EINVAL);
    braid_stream* bad = nullptr;
    REQUIRE(braid_stream_new(&bad, 8, 3, nullptr, nullptr, &Counter::poll, nullptr, &c) == BRAID_EINVAL);
    REQUIRE(braid_stream_new(&bad, 8, 8, nullptr, nullptr, nullptr, nullptr, &c) == BRAID_EINVAL);
    REQUIRE(bad == nullptr);
    REQUIRE(braid_stream_elem_size(s) == sizeof(int64_t));
    REQUIRE(braid_stream_elem_size(nullptr) == 0);
    braid_stream_free(nullptr);

    // an operation that waits forever holds the stream: the others are EBUSY
    Counter stuck(0, 10);
    stuck.slow = true;
    stuck.next = 3;  // pending at once; its wake comes, but we look before that
    braid_stream* s2 = counter_stream(&stuck);
    Seen seen;
    braid_task* op = nullptr;
    REQUIRE(braid_stream_next(&op, rt.native_handle(), s2, &on_each, &seen) == BRAID_OK);
    REQUIRE(braid_stream_next(nullptr, rt.native_handle(), s2, &on_each, &seen) == BRAID_EBUSY);
    REQUIRE(braid_stream_for_each(nullptr, rt.native_handle(), s2, &on_each, &seen) == BRAID_EBUSY);
    REQUIRE(braid_stream_poll_next(s2, &v, sizeof v, &braid_task_wake_fn, nullptr) == BRAID_EBUSY);
    REQUIRE(braid_task_join_blocking(op, BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_task_free(op);
    braid_stream_free(s2);
    braid_stream_free(s);
}

TEST_CASE("stream_capi.C: braid_stream_next_blocking from a plain thread, timeout consumes nothing") {
    Counter c(0, 3);
    braid_stream* s = counter_stream(&c);
    std::vector<int64_t> got;
    int64_t v;
    int rc;
    while ((rc = braid_stream_next_blocking(s, &v, sizeof v, BRAID_WAIT_FOREVER)) == BRAID_OK) got.push_back(v);
    REQUIRE(rc == BRAID_ECLOSED);
    REQUIRE(got == std::vector<int64_t>{0, 1, 2});
    REQUIRE(braid_stream_next_blocking(s, &v, sizeof v, BRAID_WAIT_FOREVER) == BRAID_ECLOSED);
    braid_stream_free(s);

    // never ready: times out, and the registration is removed
    auto never = [](void*, void*, braid_wake_fn, void*) -> int { return BRAID_PENDING; };
    braid_stream* n = nullptr;
    REQUIRE(braid_stream_new(&n, 1, 1, nullptr, nullptr, never, nullptr, nullptr) == BRAID_OK);
    char ch;
    REQUIRE(braid_stream_next_blocking(n, &ch, 1, 20) == BRAID_ETIMEDOUT);
    braid_stream_free(n);
}

TEST_CASE("stream_capi.C: blocking next refuses to run on a worker") {
    auto rt = braid_test::runtime(1);
    Counter c(0, 3);
    braid_stream* s = counter_stream(&c);
    int rc = rt.block_on([](braid_stream* s) -> braid::Task<int> {
        int64_t v;
        co_return braid_stream_next_blocking(s, &v, sizeof v, BRAID_WAIT_FOREVER);
    }(s));
    REQUIRE(rc == BRAID_EDEADLK);
    braid_stream_free(s);
}

TEST_CASE("stream_capi.C: freeing a stream aborts its pending operation (callback once, ECANCELED)") {
    auto rt = braid_test::runtime(2);
    struct Never {
        std::atomic<int> unregistered{0};
        std::atomic<bool> polled{false};
    };
    auto never = [](void* st, void*, braid_wake_fn w, void*) -> int {
        auto* n = static_cast<Never*>(st);
        if (!w) {
            n->unregistered.fetch_add(1);
        } else {
            n->polled = true;
            n->polled.notify_all();
        }
        return BRAID_PENDING;
    };
    Never state;
    braid_stream* s = nullptr;
    REQUIRE(braid_stream_new(&s, 1, 1, nullptr, nullptr, never, nullptr, &state) == BRAID_OK);
    Seen seen;
    REQUIRE(braid_stream_for_each(nullptr, rt.native_handle(), s, &on_each, &seen) == BRAID_OK);
    state.polled.wait(false);  // the operation is pending on the producer
    braid_stream_free(s);
    seen.wait_finals(1);
    REQUIRE(seen.finals == std::vector<int>{BRAID_ECANCELED});
    REQUIRE(seen.items.empty());
}

TEST_CASE("stream_capi.C: an operation aborted through its handle, and one cut by shutdown") {
    auto never = [](void*, void*, braid_wake_fn, void*) -> int { return BRAID_PENDING; };
    Seen seen;
    braid_stream* n = nullptr;
    REQUIRE(braid_stream_new(&n, 1, 1, nullptr, nullptr, never, nullptr, nullptr) == BRAID_OK);
    {
        auto rt = braid_test::runtime(1);
        braid_task* op = nullptr;
        REQUIRE(braid_stream_next(&op, rt.native_handle(), n, &on_each, &seen) == BRAID_OK);
        REQUIRE(braid_task_abort(op) == BRAID_OK);
        REQUIRE(braid_task_join_blocking(op, BRAID_WAIT_FOREVER) == BRAID_ECANCELED);
        braid_task_free(op);
        seen.wait_finals(1);
        // another one, left pending when the runtime shuts down
        REQUIRE(braid_stream_for_each(nullptr, rt.native_handle(), n, &on_each, &seen) == BRAID_OK);
    }
    seen.wait_finals(2);
    REQUIRE(seen.finals == std::vector<int>{BRAID_ECANCELED, BRAID_ECANCELED});
    braid_stream_free(n);  // after its runtime: still fine
}

TEST_CASE("stream_capi.C: a C++ pipeline exported with into_c, consumed by C callbacks") {
    auto rt = braid_test::runtime(2);
    Seen seen;
    // made on a runtime thread (its generator will sleep on the runtime's timers)
    braid_stream* s = rt.block_on([]() -> braid::Task<braid_stream*> {
        auto gen = []() -> braid::Stream<int64_t> {
            for (int64_t i = 0; i < 30; ++i) {
                if (i % 10 == 0) co_await braid::sleep(1ms);
                co_yield i;
            }
        };
        co_return bs::into_c(gen() | bs::map([](int64_t x) { return x * x; }));
    }());
    REQUIRE(braid_stream_elem_size(s) == sizeof(int64_t));
    REQUIRE(braid_stream_for_each(nullptr, rt.native_handle(), s, &on_each, &seen) == BRAID_OK);
    seen.wait_finals(1);
    REQUIRE(seen.finals == std::vector<int>{BRAID_ECLOSED});
    REQUIRE(seen.items.size() == 30);
    for (int64_t i = 0; i < 30; ++i) REQUIRE(seen.items[size_t(i)] == i * i);
    braid_stream_free(s);
}

TEST_CASE("stream_capi.C: a C++ stream that throws reports BRAID_EPANIC to C, once, then ends") {
    auto rt = braid_test::runtime(1);
    Seen seen;
    braid_stream* s = rt.block_on([]() -> braid::Task<braid_stream*> {
        co_return bs::into_c([]() -> braid::Stream<int64_t> {
            co_yield 1;
            throw std::runtime_error("boom");
        }());
    }());
    REQUIRE(braid_stream_for_each(nullptr, rt.native_handle(), s, &on_each, &seen) == BRAID_OK);
    seen.wait_finals(1);
    REQUIRE(seen.items == std::vector<int64_t>{1});
    REQUIRE(seen.finals == std::vector<int>{BRAID_EPANIC});
    int64_t v;
    REQUIRE(braid_stream_next_blocking(s, &v, sizeof v, BRAID_WAIT_FOREVER) == BRAID_ECLOSED);
    braid_stream_free(s);
}

TEST_CASE("stream_capi.C++ <-> C round trip: values, back-pressure, exceptions, destruction") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    {
        auto rt = braid_test::runtime(2);
        auto [values, what] = rt.block_on([]() -> braid::Task<std::pair<std::vector<int>, std::string>> {
            auto gen = []() -> braid::Stream<Tracked> {
                for (int i = 0; i < 5; ++i) {
                    co_await braid::yield_now();
                    co_yield Tracked(i);
                }
                throw std::invalid_argument("generator failed");
            };
            auto back = bs::from_c<Tracked>(bs::into_c(gen() | bs::filter([](const Tracked& t) { return t.value != 2; })));
            std::vector<int> values;
            std::string what;
            try {
                while (auto t = co_await back.next()) values.push_back(t->value);
            } catch (const std::invalid_argument& e) {
                what = e.what();
            }
            co_return std::make_pair(values, what);
        }());
        REQUIRE(values == std::vector<int>{0, 1, 3, 4});
        REQUIRE(what == "generator failed");
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("stream_capi.C++ <-> C: a C-produced stream in select, cancelled and resumed") {
    // Every third item is not there at first: the select's other branch (a
    // yield) wins, the stream's next() is cancelled (the producer is told to
    // drop the waker), the item is released, and the next next() gets it.
    auto rt = braid_test::runtime(2);
    Counter c(0, 60);
    c.manual = true;
    auto [v, cancelled] = rt.block_on([](Counter* c) -> braid::Task<std::pair<std::vector<int64_t>, int>> {
        auto s = bs::from_c<int64_t>(counter_stream(c));
        std::vector<int64_t> out;
        int cancelled = 0;
        for (;;) {
            auto r = co_await braid::select_biased(s.next(), braid::yield_now());
            if (r.index() == 1) {
                ++cancelled;
                c->release();
                continue;
            }
            if (!std::get<0>(r)) break;
            out.push_back(*std::get<0>(r));
        }
        co_return std::make_pair(out, cancelled);
    }(&c));
    REQUIRE(v.size() == 60);
    for (int i = 0; i < 60; ++i) REQUIRE(v[size_t(i)] == i);
    REQUIRE(cancelled == 20);
    REQUIRE(c.unregisters == 20);
    REQUIRE(c.freed);
}

TEST_CASE("stream_capi.C++: from_c refuses a stream of another element size") {
    Counter c(0, 1);
    braid_stream* s = counter_stream(&c);
    REQUIRE_THROWS_AS(bs::from_c<int32_t>(s), braid::Error);  // and frees it
    REQUIRE(c.freed);
}

namespace {
struct FreeAfter {
    braid_stream* s;
    Seen* seen;
    int n = 0;
    static void on(void* ud, int status, void* item) {
        auto* f = static_cast<FreeAfter*>(ud);
        if (!item) {
            f->seen->final_status(status);
            return;
        }
        f->seen->item(*static_cast<int64_t*>(item), status);
        if (++f->n == 3) braid_stream_free(f->s);  // from inside the callback
    }
};
}  // namespace

TEST_CASE("stream_capi.C: freeing the stream from a for_each callback ends it there (ECANCELED)") {
    auto rt = braid_test::runtime(1);
    Counter c(0, 1000000);
    braid_stream* s = counter_stream(&c);
    Seen seen;
    FreeAfter f{s, &seen};
    REQUIRE(braid_stream_for_each(nullptr, rt.native_handle(), s, &FreeAfter::on, &f) == BRAID_OK);
    seen.wait_finals(1);
    REQUIRE(seen.items == std::vector<int64_t>{0, 1, 2});
    REQUIRE(seen.finals == std::vector<int>{BRAID_ECANCELED});
    REQUIRE(wait_freed(c));
}

namespace {
// co_await a C task's completion through braid_task_poll_join (the way a C
// future would), giving its status.
class JoinPoll : public braid::detail::LeafAwaiter<JoinPoll> {
public:
    explicit JoinPoll(braid_task* t) : t_(t) {}
    JoinPoll(JoinPoll&& o) noexcept : t_(o.t_) {}
    ~JoinPoll() {
        if (status_ == BRAID_PENDING) braid_task_poll_join(t_, nullptr, nullptr);
    }
    bool ready_now() const { return false; }
    int poll(braid_wake_fn w, void* d) {
        int rc = braid_task_poll_join(t_, w, d);
        if (rc == BRAID_PENDING) return rc;
        final_ = rc;
        return 0;
    }
    int finish(int) const { return final_; }

private:
    braid_task* t_;
    int final_ = 0;
};
}  // namespace

TEST_CASE("stream_capi.C: a joiner polling the operation's handle is woken when it completes") {
    auto rt = braid_test::runtime(2);
    Counter c(0, 10);
    c.manual = true;
    braid_stream* s = counter_stream(&c);
    Seen seen;
    braid_task* op = nullptr;
    REQUIRE(braid_stream_next(&op, rt.native_handle(), s, &on_each, &seen) == BRAID_OK);
    auto r = rt.block_on([](braid_task* op, Counter* c) -> braid::Task<int> {
        // the join waker is registered first (biased), then the item is released
        auto res = co_await braid::timeout(
            10s, braid::select_biased(JoinPoll(op), [](Counter* c) -> braid::Task<> {
                co_await braid::yield_now();
                c->release();
                co_await braid::sleep(1h);
            }(c)));
        if (!res) co_return -100;  // the joiner was never woken
        co_return res->index() == 0 ? std::get<0>(*res) : -200;
    }(op, &c));
    REQUIRE(r == BRAID_OK);
    REQUIRE(seen.items == std::vector<int64_t>{0});
    braid_task_free(op);
    braid_stream_free(s);
    REQUIRE(wait_freed(c));
}

TEST_CASE("stream_capi.budget: a C producer that is always ready, drained from C++, yields to other tasks") {
    // braid_stream_poll_next takes a unit of the task's budget per ready poll.
    auto rt = braid::Runtime::builder().worker_threads(1).build();
    Counter c(0, INT64_MAX);
    braid_stream* s = counter_stream(&c);
    long n = rt.block_on([](braid_stream* s) -> braid::Task<long> {
        constexpr long kCap = 5'000'000 / braid_test::kStressDivisor;  // a drain that never yields ends here
        std::atomic<bool> stop{false};
        auto setter = braid::spawn([](std::atomic<bool>* f) -> braid::Task<> {
            f->store(true);
            co_return;
        }(&stop));
        auto cs = bs::from_c<int64_t>(s);
        long n = 0;
        while (!stop.load() && n < kCap) {
            EXPECT(*co_await cs.next() == n);
            ++n;
        }
        co_await setter;
        EXPECT(stop.load());
        co_return n;
    }(s));
    REQUIRE(n <= 256);
    REQUIRE(c.freed);
}

}  // namespace test_stream_capi
