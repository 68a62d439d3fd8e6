// The C side: callback operations (sleep, interval, fd wait, join), poll-style
// futures through braid_task_new, and the callback contract.
#include <catch2/catch.hpp>
#include <braid/braid.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

#include "capi_support.hpp"

namespace test_capi_callbacks {

using capi_test::Countdown;
using capi_test::Counter;
using capi_test::Rt;

TEST_CASE("capi_callbacks.C: braid_sleep calls back once, on a worker, with BRAID_OK") {
    Rt r;
    Counter c;
    braid_task* t = nullptr;
    REQUIRE(braid_sleep(&t, r.rt, 2, &Counter::cb, &c) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_task_free(t);
    REQUIRE(c.calls.load() == 1);
    REQUIRE(c.last.load() == BRAID_OK);
    REQUIRE(c.on_worker.load());
}

TEST_CASE("capi_callbacks.C: an aborted sleep calls back once with BRAID_ECANCELED") {
    Rt r;
    Counter c;
    braid_task* t = nullptr;
    REQUIRE(braid_sleep(&t, r.rt, 1000000, &Counter::cb, &c) == BRAID_OK);
    REQUIRE(braid_task_abort(t) == BRAID_OK);
    REQUIRE(braid_task_abort(t) == BRAID_OK);  // twice is harmless
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_ECANCELED);
    braid_task_free(t);
    REQUIRE(c.calls.load() == 1);
    REQUIRE(c.last.load() == BRAID_ECANCELED);
}

TEST_CASE("capi_callbacks.C: callbacks pending at shutdown complete once with BRAID_ECANCELED") {
    Counter c;
    {
        Rt r;
        for (int i = 0; i < 100; ++i) REQUIRE(braid_sleep(nullptr, r.rt, 1000000, &Counter::cb, &c) == BRAID_OK);
    }
    REQUIRE(c.calls.load() == 100);
    REQUIRE(c.last.load() == BRAID_ECANCELED);
}

TEST_CASE("capi_callbacks.C: a call that fails never calls back") {
    Rt r;
    Counter c;
    braid_task* t = reinterpret_cast<braid_task*>(0x1);
    REQUIRE(braid_sleep(&t, r.rt, -1, &Counter::cb, &c) == BRAID_EINVAL);
    REQUIRE(t == nullptr);
    REQUIRE(braid_sleep(nullptr, nullptr, 1, &Counter::cb, &c) == BRAID_EINVAL);
    REQUIRE(braid_fd_wait(nullptr, r.rt, 999999, BRAID_READABLE, &Counter::fd_cb, &c) == BRAID_EBADF);
    REQUIRE(braid_fd_wait(nullptr, r.rt, 0, 0, &Counter::fd_cb, &c) == BRAID_EINVAL);
    REQUIRE(braid_runtime_shutdown(r.rt, -1) == BRAID_OK);
    REQUIRE(braid_sleep(nullptr, r.rt, 1, &Counter::cb, &c) == BRAID_ESHUTDOWN);
    REQUIRE(c.calls.load() == 0);
}

TEST_CASE("capi_callbacks.C: paused clock, braid_now and braid_runtime_advance") {
    Rt r(1, true);
    int64_t t0 = braid_now(r.rt);
    Counter c;
    braid_task* t = nullptr;
    REQUIRE(braid_sleep(&t, r.rt, 1000, &Counter::cb, &c) == BRAID_OK);
    // all workers idle: the paused clock jumps to the deadline by itself
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_task_free(t);
    REQUIRE(braid_now(r.rt) - t0 == 1000 * 1000000LL);
    REQUIRE(braid_runtime_advance(r.rt, 5) == BRAID_OK);
    REQUIRE(braid_now(r.rt) - t0 == 1000 * 1000000LL + 5);
    REQUIRE(braid_runtime_advance(r.rt, -5) == BRAID_EINVAL);
}

TEST_CASE("capi_callbacks.C: braid_interval_start ticks until aborted, then reports ECANCELED last") {
    Rt r(1, true);
    struct Ticks {
        std::atomic<int> ok{0}, cancelled{0}, after_cancel{0};
        static void cb(void* p, int st) {
            auto* t = static_cast<Ticks*>(p);
            if (t->cancelled.load()) t->after_cancel.fetch_add(1);
            if (st == BRAID_OK) t->ok.fetch_add(1);
            else if (st == BRAID_ECANCELED) t->cancelled.fetch_add(1);
        }
    } ticks;
    braid_task* t = nullptr;
    REQUIRE(braid_interval_start(&t, r.rt, 10, BRAID_MISSED_TICK_BURST, &Ticks::cb, &ticks) == BRAID_OK);
    while (ticks.ok.load() < 5) std::this_thread::yield();
    REQUIRE(braid_task_abort(t) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_ECANCELED);
    braid_task_free(t);
    REQUIRE(ticks.cancelled.load() == 1);
    REQUIRE(ticks.after_cancel.load() == 0);
}

TEST_CASE("capi_callbacks.C: braid_fd_wait reports readiness of a pipe") {
    Rt r;
    int fds[2];
    REQUIRE(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
    Counter c;
    braid_task* t = nullptr;
    REQUIRE(braid_fd_wait(&t, r.rt, fds[0], BRAID_READABLE, &Counter::fd_cb, &c) == BRAID_OK);
    REQUIRE(braid_task_is_finished(t) == 0);
    REQUIRE(write(fds[1], "x", 1) == 1);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_task_free(t);
    REQUIRE(c.calls.load() == 1);
    REQUIRE(c.last.load() == BRAID_OK);  // the status, apart from the bits: BRAID_READABLE == BRAID_PENDING
    REQUIRE(c.ready.load() == BRAID_READABLE);
    close(fds[0]);
    close(fds[1]);
}

TEST_CASE("capi_callbacks.C: braid_task_join calls back on a worker with the task's status") {
    Rt r;
    Counter c;
    braid_task* t = nullptr;
    std::atomic<bool> go{false};
    REQUIRE(braid_spawn(&t, r.rt, [](void* g) { while (!static_cast<std::atomic<bool>*>(g)->load()) std::this_thread::yield(); }, &go) == BRAID_OK);
    REQUIRE(braid_task_join(t, &Counter::cb, &c) == BRAID_OK);
    // one joiner at a time: the callback join owns the slot until it ran
    REQUIRE(braid_task_join(t, &Counter::cb, &c) == BRAID_EBUSY);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_EBUSY);
    REQUIRE(braid_task_try_join(t) == BRAID_EBUSY);
    go.store(true);
    while (c.calls.load() == 0) std::this_thread::yield();
    while (braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_EBUSY) std::this_thread::yield();  // the op lets go after its callback
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_OK);
    REQUIRE(c.calls.load() == 1);
    REQUIRE(c.last.load() == BRAID_OK);
    REQUIRE(c.on_worker.load());
    braid_task_free(t);
}

TEST_CASE("capi_callbacks.C: braid_task_join_blocking with a timeout gives BRAID_ETIMEDOUT") {
    Rt r;
    braid_task* t = nullptr;
    REQUIRE(braid_sleep(&t, r.rt, 1000000, [](void*, int) {}, nullptr) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, 5) == BRAID_ETIMEDOUT);
    REQUIRE(braid_task_join_blocking(t, 0) == BRAID_ETIMEDOUT);  // one attempt, no wait
    braid_task_abort(t);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_ECANCELED);
    braid_task_free(t);
}

namespace {
// A C-style future: counts down, waking itself each time.
std::atomic<int> g_released{0};
}  // namespace

TEST_CASE("capi_callbacks.C: a poll-style future made with braid_task_new runs until it is ready") {
    Rt r;
    braid_task* t = nullptr;
    void* state = nullptr;
    REQUIRE(braid_task_new(&t, &state, r.rt, sizeof(Countdown), &Countdown::poll, nullptr,
                           [](void*) { g_released.fetch_add(1); }) == BRAID_OK);
    auto* cd = static_cast<Countdown*>(state);
    cd->left = 100;
    cd->polls = 0;
    REQUIRE(braid_task_start(t) == BRAID_OK);
    REQUIRE(braid_task_start(t) == BRAID_EBUSY);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_OK);
    REQUIRE(cd->polls == 101);
    int before = g_released.load();
    braid_task_free(t);
    REQUIRE(g_released.load() == before + 1);
}

TEST_CASE("capi_callbacks.C: a future that is never started is released by braid_task_free") {
    Rt r;
    braid_task* t = nullptr;
    void* state = nullptr;
    int before = g_released.load();
    REQUIRE(braid_task_new(&t, &state, r.rt, 8, &Countdown::poll, nullptr, [](void*) { g_released.fetch_add(1); }) ==
            BRAID_OK);
    braid_task_free(t);
    REQUIRE(g_released.load() == before + 1);
}

TEST_CASE("capi_callbacks.C: a future's state is refused above 1 GiB, before any allocation") {
    Rt r;
    braid_task* t = nullptr;
    void* state = nullptr;
    for (size_t size : {(size_t(1) << 30) + 1, SIZE_MAX / 2, SIZE_MAX - 15, SIZE_MAX}) {
        REQUIRE(braid_task_new(&t, &state, r.rt, size, &Countdown::poll, nullptr, nullptr) == BRAID_EINVAL);
        REQUIRE(t == nullptr);
        REQUIRE(state == nullptr);
    }
}

TEST_CASE("capi_callbacks.C: braid_alloc returns NULL for sizes no allocator can give") {
    for (size_t size : {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 15, SIZE_MAX - 16, SIZE_MAX / 2 + 1}) {
        INFO(size);
        REQUIRE(braid_alloc(size) == nullptr);
    }
    for (size_t size : {size_t(0), size_t(1), size_t(16), size_t(17), size_t(512), size_t(513), size_t(1) << 20}) {
        INFO(size);
        auto* p = static_cast<unsigned char*>(braid_alloc(size));
        REQUIRE(p != nullptr);
        REQUIRE(reinterpret_cast<uintptr_t>(p) % 16 == 0);
        if (size) {
            p[0] = 1;
            p[size - 1] = 2;
        }
        braid_free(p, size);
    }
    braid_free(nullptr, SIZE_MAX);
}

TEST_CASE("capi_callbacks.C: braid_alloc gives a block above 128 bytes whole cache lines that no other block shares") {
    for (size_t size : {size_t(129), size_t(200), size_t(392), size_t(448), size_t(500), size_t(512), size_t(513),
                        size_t(4000)}) {
        INFO(size);
        std::vector<unsigned char*> blocks(64);
        for (auto& b : blocks) {
            b = static_cast<unsigned char*>(braid_alloc(size));
            REQUIRE(b != nullptr);
            REQUIRE(reinterpret_cast<uintptr_t>(b) % 64 == 0);  // starts on a line
            std::memset(b, 0xab, size);
        }
        // No line holds bytes of two blocks.
        std::vector<std::pair<uintptr_t, uintptr_t>> lines;  // [first, last] line of each block
        for (auto* b : blocks) {
            auto a = reinterpret_cast<uintptr_t>(b);
            lines.emplace_back(a / 64, (a + size - 1) / 64);
        }
        std::sort(lines.begin(), lines.end());
        for (size_t i = 1; i < lines.size(); ++i) REQUIRE(lines[i - 1].second < lines[i].first);
        for (auto* b : blocks) braid_free(b, size);
    }
    // Smaller blocks stay 16-byte granules.
    for (size_t size : {size_t(16), size_t(64), size_t(100), size_t(128)}) {
        void* p = braid_alloc(size);
        REQUIRE(p != nullptr);
        REQUIRE(reinterpret_cast<uintptr_t>(p) % 16 == 0);
        braid_free(p, size);
    }
}

TEST_CASE("capi_callbacks.C: error names and strings come from one table") {
#define CHECK_ENTRY(name, value, text)                             \
    REQUIRE(std::string(braid_err_name(value)) == #name);          \
    REQUIRE(std::string(braid_strerror(value)) == std::string(text));
    BRAID_ERROR_TABLE(CHECK_ENTRY)
#undef CHECK_ENTRY
    REQUIRE(std::string(braid_err_name(-9999)) == "UNKNOWN");
    REQUIRE(std::string(braid_strerror(-9999)) == "unknown error");
    REQUIRE(std::string(braid_version()) == BRAID_VERSION_STRING);
    REQUIRE(braid_version_number() == BRAID_VERSION_NUMBER);
}

}  // namespace test_capi_callbacks
