// Helpers of the tests that drive the C ABI directly: a runtime built
// through the builder, the results of the callback operations (recorded with
// atomics: the callbacks run on worker threads), a C task that counts down,
// and a join that waits for an operation's task and frees its handle.
#pragma once

#include <catch2/catch.hpp>
#include <braid/braid.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <cstddef>

namespace capi_test {

// A multi-thread runtime with `workers` workers, its clock paused if asked
// (braid_runtime_builder_start_paused); freed (and checked) at the end of
// scope unless free() was called.
struct Rt {
    braid_runtime* rt = nullptr;
    explicit Rt(int workers = 2, bool paused = false) {
        braid_runtime_builder* b = nullptr;
        REQUIRE(braid_runtime_builder_new(&b) == BRAID_OK);
        REQUIRE(braid_runtime_builder_worker_threads(b, workers) == BRAID_OK);
        if (paused) REQUIRE(braid_runtime_builder_start_paused(b, 1) == BRAID_OK);
        REQUIRE(braid_runtime_build(&rt, b) == BRAID_OK);
        braid_runtime_builder_free(b);
    }
    Rt(const Rt&) = delete;
    Rt& operator=(const Rt&) = delete;
    ~Rt() {
        if (rt) REQUIRE(braid_runtime_free(rt) == BRAID_OK);
    }
    void free() {
        REQUIRE(braid_runtime_free(rt) == BRAID_OK);
        rt = nullptr;
    }
};

// What a braid_io_callback saw (the last call) and how often it was called.
struct IoResult {
    std::atomic<int> calls{0};
    std::atomic<int> status{1000};
    std::atomic<size_t> n{0};
    std::atomic<int> os_error{0};
    static void cb(void* p, int st, size_t n) {
        auto* r = static_cast<IoResult*>(p);
        r->status.store(st);
        r->n.store(n);
        r->os_error.store(braid_last_os_error());
        r->calls.fetch_add(1);
    }
};

// What a callback handing over a new stream (accept, connect) saw:
// S is braid_tcp_stream or braid_unix_stream.
template <class S>
struct StreamResultOf {
    std::atomic<int> calls{0};
    std::atomic<int> status{1000};
    std::atomic<S*> stream{nullptr};
    static void cb(void* p, int st, S* s) {
        auto* r = static_cast<StreamResultOf*>(p);
        r->status.store(st);
        r->stream.store(s);
        r->calls.fetch_add(1);
    }
};
using StreamResult = StreamResultOf<braid_tcp_stream>;
using UnixStreamResult = StreamResultOf<braid_unix_stream>;

// Polls a C poll_ready function (poll(wake, data, &bits)) until it reports
// readiness: after a BRAID_PENDING poll, waits for the waker it registered
// (bounded at 10 s: a hang fails instead), then polls again.  Returns the
// last poll's result; the registration is gone afterwards.
template <class Poll>
int wait_ready(Poll poll, int* bits) {
    struct Waker {
        std::atomic<bool> woken{false};
        static void wake(void* p) { static_cast<Waker*>(p)->woken.store(true); }
    } w;
    for (int round = 0; round < 1000; ++round) {
        w.woken.store(false);
        int rc = poll(&Waker::wake, &w, bits);
        if (rc != BRAID_PENDING) return rc;
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!w.woken.load() && std::chrono::steady_clock::now() < until) std::this_thread::yield();
        poll(nullptr, &w, bits);  // removes the registration
        if (!w.woken.load()) return BRAID_ETIMEDOUT;
    }
    return BRAID_ETIMEDOUT;
}

// What a braid_callback (and a braid_fd_callback: `ready`) saw last, how
// often it was called, and whether on a worker of a runtime.
struct Counter {
    std::atomic<int> calls{0};
    std::atomic<int> last{1000};
    std::atomic<bool> on_worker{false};
    std::atomic<int> ready{-1};
    static void cb(void* p, int status) {
        auto* c = static_cast<Counter*>(p);
        c->last.store(status);
        c->on_worker.store(braid_runtime_current() != nullptr);
        c->calls.fetch_add(1);
    }
    static void fd_cb(void* p, int status, int ready) {
        static_cast<Counter*>(p)->ready.store(ready);
        cb(p, status);
    }
};

// A C task's poll function (braid_spawn_fn) that is pending `left` times,
// waking itself each time, then done; counts its polls.
struct Countdown {
    int left;
    int polls;
    static int poll(void* s, braid_task* self) {
        auto* c = static_cast<Countdown*>(s);
        ++c->polls;
        if (c->left-- == 0) return BRAID_OK;
        braid_task_wake(self);
        return BRAID_PENDING;
    }
};

// Waits for a callback operation through its task handle, then frees it.
inline int join(braid_task* t) {
    int st = braid_task_join_blocking(t, BRAID_WAIT_FOREVER);
    braid_task_free(t);
    return st;
}

}  // namespace capi_test
