// What a C callback may call (docs/c-api.md, "What a callback may do"):
// free its own braid_task*, spawn, start the next operation on the same
// handle; not block and not free its runtime (BRAID_EDEADLK, nothing done).
// Callbacks that a shutdown runs (operations it cancels) run on the thread
// that frees the runtime and may free their handles there.  A C++ exception
// thrown by a task body or a callback ends its task with BRAID_EPANIC; one
// thrown by braid_watch_send_modify's function is mapped to a code.
#include <catch2/catch.hpp>
#include <braid/braid.h>
#include <braid/error.hpp>

#include <atomic>
#include <new>
#include <stdexcept>
#include <thread>

#include "capi_support.hpp"
#include "support.hpp"

namespace test_capi_callback_rules {

using capi_test::Rt;

namespace {

// Waits for a count that callbacks raise (the primitive's own state).
void wait_for(const std::atomic<int>& n, int want) {
    while (n.load() < want) std::this_thread::yield();
}

}  // namespace

TEST_CASE("capi_callback_rules.a callback may free the braid_task* of its own operation") {
    Rt r;
    struct Ctx {
        braid_task* self = nullptr;  // written by braid_sleep before the operation can run
        std::atomic<int> calls{0};
        static void cb(void* p, int st) {
            auto* c = static_cast<Ctx*>(p);
            EXPECT_ANYWHERE(st == BRAID_OK);
            EXPECT_ANYWHERE(braid_task_is_finished(c->self) == 0);  // still inside it
            braid_task_free(c->self);
            c->calls.fetch_add(1);
        }
    } ctx;
    REQUIRE(braid_sleep(&ctx.self, r.rt, 1, &Ctx::cb, &ctx) == BRAID_OK);
    wait_for(ctx.calls, 1);
    // A join callback may free the handle of the task it joined.
    struct JoinCtx {
        braid_task* target = nullptr;
        std::atomic<int> calls{0};
        static void cb(void* p, int st) {
            auto* c = static_cast<JoinCtx*>(p);
            EXPECT_ANYWHERE(st == BRAID_OK);
            braid_task_free(c->target);
            c->calls.fetch_add(1);
        }
    } join;
    REQUIRE(braid_spawn(&join.target, r.rt, [](void*) {}, nullptr) == BRAID_OK);
    REQUIRE(braid_task_join(join.target, &JoinCtx::cb, &join) == BRAID_OK);
    wait_for(join.calls, 1);
    REQUIRE(braid_test::worker_failures() == 0);
}

TEST_CASE("capi_callback_rules.a callback may spawn, and the spawned task runs") {
    Rt r;
    struct Ctx {
        braid_runtime* rt;
        std::atomic<int> spawned_rc{1000};
        std::atomic<int> ran{0};
        static void body(void* p) { static_cast<Ctx*>(p)->ran.fetch_add(1); }
        static void cb(void* p, int) {
            auto* c = static_cast<Ctx*>(p);
            c->spawned_rc.store(braid_spawn(nullptr, c->rt, &Ctx::body, c));
            // Also through the runtime of the calling worker.
            braid_handle* h = nullptr;
            EXPECT_ANYWHERE(braid_handle_current(&h) == BRAID_OK);
            EXPECT_ANYWHERE(braid_handle_spawn_blocking(nullptr, h, &Ctx::body, c) == BRAID_OK);
            braid_handle_free(h);
        }
    } ctx{r.rt};
    braid_task* t = nullptr;
    REQUIRE(braid_sleep(&t, r.rt, 1, &Ctx::cb, &ctx) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_task_free(t);
    REQUIRE(ctx.spawned_rc.load() == BRAID_OK);
    wait_for(ctx.ran, 2);
    REQUIRE(braid_test::worker_failures() == 0);
}

TEST_CASE("capi_callback_rules.a callback may start the next operation on the same socket") {
    Rt r;
    braid_unix_stream* a = nullptr;
    braid_unix_stream* b = nullptr;
    REQUIRE(braid_unix_stream_pair(&a, &b, r.rt) == BRAID_OK);
    struct Reader {
        braid_unix_stream* s;
        char buf[1] = {};
        std::string got{};
        std::atomic<int> next_rc{BRAID_OK};
        std::atomic<int> reads{0};
        static void cb(void* p, int st, size_t n) {
            auto* rd = static_cast<Reader*>(p);
            EXPECT_ANYWHERE(st == BRAID_OK && n == 1);
            rd->got.push_back(rd->buf[0]);
            if (rd->got.size() < 3) {
                // The read side was given back before this callback: not EBUSY.
                int rc = braid_byte_stream_read(nullptr, braid_unix_stream_as_byte_stream(rd->s), rd->buf, 1, &Reader::cb, rd);
                if (rc != BRAID_OK) rd->next_rc.store(rc);
            }
            rd->reads.fetch_add(1);
        }
    } reader{a};
    REQUIRE(braid_byte_stream_read(nullptr, braid_unix_stream_as_byte_stream(a), reader.buf, 1, &Reader::cb, &reader) == BRAID_OK);
    braid_task* w = nullptr;
    REQUIRE(braid_byte_stream_write_all(&w, braid_unix_stream_as_byte_stream(b), "xyz", 3, [](void*, int, size_t) {}, nullptr) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(w, BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_task_free(w);
    wait_for(reader.reads, 3);
    REQUIRE(reader.next_rc.load() == BRAID_OK);
    REQUIRE(reader.got == "xyz");
    braid_unix_stream_free(a);
    braid_unix_stream_free(b);
    REQUIRE(braid_test::worker_failures() == 0);
}

TEST_CASE("capi_callback_rules.a timer callback may start the next timer") {
    Rt r(1, true);
    struct Chain {
        braid_runtime* rt;
        std::atomic<int> fired{0};
        std::atomic<int> next_rc{BRAID_OK};
        static void cb(void* p, int st) {
            auto* c = static_cast<Chain*>(p);
            EXPECT_ANYWHERE(st == BRAID_OK);
            if (c->fired.fetch_add(1) + 1 < 3) {
                int rc = braid_sleep(nullptr, c->rt, 10, &Chain::cb, c);
                if (rc != BRAID_OK) c->next_rc.store(rc);
            }
        }
    } chain{r.rt};
    int64_t t0 = braid_now(r.rt);
    REQUIRE(braid_sleep(nullptr, r.rt, 10, &Chain::cb, &chain) == BRAID_OK);
    wait_for(chain.fired, 3);  // paused time jumps to each deadline by itself
    REQUIRE(chain.next_rc.load() == BRAID_OK);
    REQUIRE(braid_now(r.rt) - t0 == 30 * 1000000LL);
    REQUIRE(braid_test::worker_failures() == 0);
}

TEST_CASE("capi_callback_rules.a callback on a worker may not free, shut down or block on its runtime: BRAID_EDEADLK") {
    Rt r;
    struct Ctx {
        braid_runtime* rt;
        braid_task* other;
        std::atomic<int> free_rc{1000}, shutdown_rc{1000}, block_on_rc{1000}, join_rc{1000};
        static void cb(void* p, int) {
            auto* c = static_cast<Ctx*>(p);
            c->free_rc.store(braid_runtime_free(c->rt));
            c->shutdown_rc.store(braid_runtime_shutdown(c->rt, -1));
            c->block_on_rc.store(braid_runtime_block_on(c->rt, c->other));
            c->join_rc.store(braid_task_join_blocking(c->other, BRAID_WAIT_FOREVER));
        }
    } ctx{r.rt, nullptr};
    REQUIRE(braid_sleep(&ctx.other, r.rt, 1000000, [](void*, int) {}, nullptr) == BRAID_OK);
    braid_task* t = nullptr;
    REQUIRE(braid_sleep(&t, r.rt, 1, &Ctx::cb, &ctx) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_task_free(t);
    REQUIRE(ctx.free_rc.load() == BRAID_EDEADLK);
    REQUIRE(ctx.shutdown_rc.load() == BRAID_EDEADLK);
    REQUIRE(ctx.block_on_rc.load() == BRAID_EDEADLK);
    REQUIRE(ctx.join_rc.load() == BRAID_EDEADLK);
    // Nothing was freed or shut down: the runtime still runs tasks.
    REQUIRE(braid_spawn(&t, r.rt, [](void*) {}, nullptr) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_task_free(t);
    braid_task_abort(ctx.other);
    REQUIRE(braid_task_join_blocking(ctx.other, BRAID_WAIT_FOREVER) == BRAID_ECANCELED);
    braid_task_free(ctx.other);
}

namespace {
// Pending operations that braid_runtime_free cancels: their callbacks run
// on the freeing thread and free their own handles there.
struct AtShutdown {
    std::thread::id freeing_thread;
    braid_runtime* rt = nullptr;
    braid_unix_stream* a = nullptr;
    braid_unix_stream* b = nullptr;
    braid_task* read_op = nullptr;
    braid_task* sleep_op = nullptr;
    braid_task* other = nullptr;  // a third pending operation, its handle the test's
    char buf[8] = {};
    std::atomic<int> calls{0};
    std::atomic<int> on_freeing_thread{0};
    std::atomic<int> nested_free_rc{1000}, nested_shutdown_rc{1000}, join_rc{1000}, spawn_rc{1000};

    void common(int st) {
        EXPECT_ANYWHERE(st == BRAID_ECANCELED);
        if (std::this_thread::get_id() == freeing_thread) on_freeing_thread.fetch_add(1);
    }
    static void on_read(void* p, int st, size_t) {
        auto* s = static_cast<AtShutdown*>(p);
        s->common(st);
        // Free the handles this operation used, and its own task.
        braid_unix_stream_free(s->a);
        braid_unix_stream_free(s->b);
        braid_task_free(s->read_op);
        s->calls.fetch_add(1);
    }
    static void on_sleep(void* p, int st) {
        auto* s = static_cast<AtShutdown*>(p);
        s->common(st);
        // The runtime being freed cannot be freed (or shut down) again from
        // here, nor waited on, nor given work.
        s->nested_free_rc.store(braid_runtime_free(s->rt));
        s->nested_shutdown_rc.store(braid_runtime_shutdown(s->rt, 0));
        s->join_rc.store(braid_task_join_blocking(s->other, BRAID_WAIT_FOREVER));
        s->spawn_rc.store(braid_spawn(nullptr, s->rt, [](void*) {}, nullptr));
        braid_task_free(s->sleep_op);
        s->calls.fetch_add(1);
    }
};
}  // namespace

TEST_CASE("capi_callback_rules.callbacks that braid_runtime_free runs: on the freeing thread, may free their handles, not the runtime") {
    for (int sleep_first = 0; sleep_first < 2; ++sleep_first) {
        AtShutdown s;
        REQUIRE(braid_runtime_new(&s.rt) == BRAID_OK);
        REQUIRE(braid_unix_stream_pair(&s.a, &s.b, s.rt) == BRAID_OK);
        auto start_read = [&] {
            REQUIRE(braid_byte_stream_read(&s.read_op, braid_unix_stream_as_byte_stream(s.a), s.buf, sizeof s.buf, &AtShutdown::on_read, &s) == BRAID_OK);
        };
        auto start_sleep = [&] {
            REQUIRE(braid_sleep(&s.sleep_op, s.rt, 3600 * 1000, &AtShutdown::on_sleep, &s) == BRAID_OK);
        };
        if (sleep_first) {
            start_sleep();
            start_read();
        } else {
            start_read();
            start_sleep();
        }
        REQUIRE(braid_sleep(&s.other, s.rt, 3600 * 1000, [](void*, int) {}, nullptr) == BRAID_OK);
        s.freeing_thread = std::this_thread::get_id();
        REQUIRE(braid_runtime_free(s.rt) == BRAID_OK);
        REQUIRE(s.calls.load() == 2);
        REQUIRE(s.on_freeing_thread.load() == 2);
        REQUIRE(s.nested_free_rc.load() == BRAID_EDEADLK);
        REQUIRE(s.nested_shutdown_rc.load() == BRAID_EDEADLK);
        REQUIRE(s.join_rc.load() == BRAID_EDEADLK);
        REQUIRE(s.spawn_rc.load() == BRAID_ESHUTDOWN);
        REQUIRE(braid_task_join_blocking(s.other, BRAID_WAIT_FOREVER) == BRAID_ECANCELED);
        braid_task_free(s.other);
    }
    REQUIRE(braid_test::worker_failures() == 0);
}

// ---- exceptions from C++ code given to the C ABI ----------------------------------

TEST_CASE("capi_callback_rules.a C++ exception thrown by braid_spawn's function ends the task with BRAID_EPANIC") {
    Rt r(1);
    braid_task* t = nullptr;
    REQUIRE(braid_spawn(&t, r.rt, [](void*) { throw std::runtime_error("boom"); }, nullptr) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_EPANIC);
    braid_task_free(t);
    // The same on the blocking pool, and for a braid::Error or bad_alloc:
    // a task body that throws is a panic, whatever it throws.
    REQUIRE(braid_spawn_blocking(&t, r.rt, [](void*) { throw braid::Error(BRAID_ETIMEDOUT); }, nullptr) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_EPANIC);
    braid_task_free(t);
    REQUIRE(braid_spawn(&t, r.rt, [](void*) { throw std::bad_alloc(); }, nullptr) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_EPANIC);
    braid_task_free(t);
    // The worker survived it.
    REQUIRE(braid_spawn(&t, r.rt, [](void*) {}, nullptr) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_task_free(t);
}

namespace {
std::atomic<int> g_cancels{0};
std::atomic<int> g_releases{0};
int pending_forever(void*, braid_task*) { return BRAID_PENDING; }
int throwing_poll(void*, braid_task*) { throw std::logic_error("poll threw"); }
void throwing_cancel(void*) {
    g_cancels.fetch_add(1);
    throw std::logic_error("cancel threw");
}
void counting_release(void*) { g_releases.fetch_add(1); }
}  // namespace

TEST_CASE("capi_callback_rules.a future whose poll or cancel throws ends with BRAID_EPANIC, and is released") {
    Rt r(1);
    int released_before = g_releases.load();
    braid_task* t = nullptr;
    void* state = nullptr;
    REQUIRE(braid_task_new(&t, &state, r.rt, 8, &throwing_poll, &throwing_cancel, &counting_release) == BRAID_OK);
    REQUIRE(braid_task_start(t) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_EPANIC);
    REQUIRE(g_cancels.load() == 0);  // poll ended it: no cancel
    braid_task_free(t);
    REQUIRE(g_releases.load() == released_before + 1);

    // Aborted: dropping the future throws; Tokio reports a panic in drop as a panic.
    REQUIRE(braid_task_new(&t, &state, r.rt, 8, &pending_forever, &throwing_cancel, &counting_release) == BRAID_OK);
    REQUIRE(braid_task_start(t) == BRAID_OK);
    REQUIRE(braid_task_abort(t) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_EPANIC);
    REQUIRE(g_cancels.load() == 1);
    braid_task_free(t);
    REQUIRE(g_releases.load() == released_before + 2);
}

TEST_CASE("capi_callback_rules.an operation's callback that throws ends the operation with BRAID_EPANIC") {
    Rt r(1);
    braid_task* t = nullptr;
    REQUIRE(braid_sleep(&t, r.rt, 1, [](void*, int) { throw std::runtime_error("callback threw"); }, nullptr) ==
            BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_EPANIC);
    braid_task_free(t);
    std::atomic<int> calls{0};
    REQUIRE(braid_sleep(&t, r.rt, 1, [](void* p, int) { static_cast<std::atomic<int>*>(p)->fetch_add(1); }, &calls) ==
            BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_task_free(t);
    REQUIRE(calls.load() == 1);
}

TEST_CASE("capi_callback_rules.an exception from braid_watch_send_modify's function is mapped to a code, and the lock is released") {
    braid_watch_tx* tx = nullptr;
    braid_watch_rx* rx = nullptr;
    int init = 1;
    REQUIRE(braid_watch_new(&tx, &rx, &init, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    int modified = -1;
    // Unknown exceptions are panics, bad_alloc is out of memory, a braid::Error keeps its code.
    REQUIRE(braid_watch_send_modify(
                tx, [](void*, void*) -> int { throw std::runtime_error("modify threw"); }, nullptr, &modified) ==
            BRAID_EPANIC);
    REQUIRE(modified == 0);
    REQUIRE(braid_watch_send_modify(tx, [](void*, void*) -> int { throw std::bad_alloc(); }, nullptr, &modified) ==
            BRAID_ENOMEM);
    REQUIRE(braid_watch_send_modify(
                tx, [](void*, void*) -> int { throw braid::Error(BRAID_ERANGE); }, nullptr, &modified) == BRAID_ERANGE);
    REQUIRE(braid_watch_send_modify(tx, [](void*, void*) -> int { throw 42; }, nullptr, &modified) == BRAID_EPANIC);
    // Nothing was announced, and the value's lock is free: sends and borrows go on.
    REQUIRE(braid_watch_rx_has_changed(rx) == 0);
    int v = 2;
    REQUIRE(braid_watch_send(tx, &v, sizeof v) == BRAID_OK);
    const void* p = nullptr;
    REQUIRE(braid_watch_rx_borrow(rx, 1, &p, nullptr) == BRAID_OK);
    REQUIRE(*static_cast<const int*>(p) == 2);
    REQUIRE(braid_watch_rx_borrow_end(rx) == BRAID_OK);
    braid_watch_tx_free(tx);
    braid_watch_rx_free(rx);
}

}  // namespace test_capi_callback_rules
