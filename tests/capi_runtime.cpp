// The C runtime's life cycle contracts: braid_runtime_block_on runs a future
// made with braid_task_new that was never started (as Tokio's block_on runs
// the future it is given), and braid_runtime_free waits for the blocking
// jobs that a timed-out braid_runtime_shutdown left running, so that no
// callback reaches a user_data freed after braid_runtime_free returned.
#include <catch2/catch.hpp>
#include <braid/braid.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "capi_support.hpp"
#include "support.hpp"

namespace test_capi_runtime {

using capi_test::Countdown;

namespace {

braid_runtime* make_runtime(bool current_thread) {
    braid_runtime_builder* b = nullptr;
    REQUIRE(braid_runtime_builder_new(&b) == BRAID_OK);
    if (current_thread) REQUIRE(braid_runtime_builder_current_thread(b) == BRAID_OK);
    else REQUIRE(braid_runtime_builder_worker_threads(b, 2) == BRAID_OK);
    braid_runtime* rt = nullptr;
    REQUIRE(braid_runtime_build(&rt, b) == BRAID_OK);
    braid_runtime_builder_free(b);
    return rt;
}

// A future that counts down, waking itself each time.
}  // namespace

TEST_CASE("capi_runtime.block_on starts a future that was never started and runs it to completion") {
    for (bool current_thread : {false, true}) {
        INFO("current_thread: " << current_thread);
        braid_runtime* rt = make_runtime(current_thread);
        braid_task* t = nullptr;
        void* state = nullptr;
        REQUIRE(braid_task_new(&t, &state, rt, sizeof(Countdown), &Countdown::poll, nullptr, nullptr) == BRAID_OK);
        auto* cd = static_cast<Countdown*>(state);
        cd->left = 10;
        cd->polls = 0;
        REQUIRE(braid_runtime_block_on(rt, t) == BRAID_OK);
        REQUIRE(cd->polls == 11);
        REQUIRE(braid_task_is_finished(t) == 1);
        REQUIRE(braid_task_start(t) == BRAID_EBUSY);  // block_on started it
        REQUIRE(braid_runtime_block_on(rt, t) == BRAID_OK);  // finished: its status again
        braid_task_free(t);
        REQUIRE(braid_runtime_free(rt) == BRAID_OK);
    }
}

TEST_CASE("capi_runtime.block_on of a future the runtime refuses to start returns BRAID_ESHUTDOWN") {
    braid_runtime* rt = make_runtime(false);
    braid_task* t = nullptr;
    void* state = nullptr;
    static std::atomic<int> released{0};
    REQUIRE(braid_task_new(&t, &state, rt, sizeof(Countdown), &Countdown::poll, nullptr,
                           [](void*) { released.fetch_add(1); }) == BRAID_OK);
    REQUIRE(braid_runtime_shutdown(rt, -1) == BRAID_OK);
    REQUIRE(braid_runtime_block_on(rt, t) == BRAID_ESHUTDOWN);
    REQUIRE(braid_task_is_finished(t) == 1);
    braid_task_free(t);
    REQUIRE(released.load() == 1);
    REQUIRE(braid_runtime_free(rt) == BRAID_OK);
}

TEST_CASE("capi_runtime.block_on refused on a runtime thread starts nothing") {
    braid_runtime* rt = make_runtime(false);
    braid_task* fut = nullptr;
    void* state = nullptr;
    REQUIRE(braid_task_new(&fut, &state, rt, sizeof(Countdown), &Countdown::poll, nullptr, nullptr) == BRAID_OK);
    static_cast<Countdown*>(state)->left = 0;
    struct Ctx {
        braid_runtime* rt;
        braid_task* fut;
        std::atomic<int> rc{1000};
    } ctx{rt, fut};
    braid_task* t = nullptr;
    REQUIRE(braid_spawn(&t, rt, [](void* p) {
        auto* c = static_cast<Ctx*>(p);
        c->rc.store(braid_runtime_block_on(c->rt, c->fut));
    }, &ctx) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_task_free(t);
    REQUIRE(ctx.rc.load() == BRAID_EDEADLK);
    REQUIRE(braid_task_start(fut) == BRAID_OK);  // still new
    REQUIRE(braid_task_join_blocking(fut, BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_task_free(fut);
    REQUIRE(braid_runtime_free(rt) == BRAID_OK);
}

namespace {
// A blocking job that runs until released, then writes into its user_data.
struct Job {
    std::mutex mu;
    std::condition_variable cv;
    bool started = false;
    bool released = false;
    std::atomic<bool> done{false};
    long written = 0;  // what a late callback would scribble on
    static void run(void* p) {
        auto* j = static_cast<Job*>(p);
        std::unique_lock<std::mutex> lk(j->mu);
        j->started = true;
        j->cv.notify_all();
        j->cv.wait(lk, [&] { return j->released; });
        j->written = 42;
        j->done.store(true);
    }
};
}  // namespace

TEST_CASE("capi_runtime.braid_runtime_free waits for a blocking job that a timed-out shutdown left running") {
    braid_runtime* rt = make_runtime(false);
    auto job = std::make_unique<Job>();
    REQUIRE(braid_spawn_blocking(nullptr, rt, &Job::run, job.get()) == BRAID_OK);
    {
        std::unique_lock<std::mutex> lk(job->mu);
        job->cv.wait(lk, [&] { return job->started; });
    }
    REQUIRE(braid_runtime_shutdown(rt, 1) == BRAID_ETIMEDOUT);
    REQUIRE(braid_runtime_shutdown(rt, 1) == BRAID_ETIMEDOUT);  // waits again, still running

    std::atomic<bool> free_returned{false};
    std::atomic<int> free_rc{1000};
    std::thread freer([&] {
        free_rc.store(braid_runtime_free(rt));
        {
            std::lock_guard<std::mutex> g(job->mu);
            free_returned.store(true);
        }
        job->cv.notify_all();
    });
    // However long free is given, it cannot return while the job runs.  (The
    // bounded wait only gives a free that does not wait the chance to show
    // it: the assertion holds for any length of it.)
    {
        std::unique_lock<std::mutex> lk(job->mu);
        job->cv.wait_for(lk, std::chrono::milliseconds(200), [&] { return free_returned.load(); });
        REQUIRE_FALSE(free_returned.load());
        REQUIRE_FALSE(job->done.load());
        job->released = true;
        job->cv.notify_all();
    }
    freer.join();
    REQUIRE(free_returned.load());
    REQUIRE(free_rc.load() == BRAID_OK);
    // Everything the job did happened before free returned: its user_data
    // may go now (ASan would catch a late write).
    REQUIRE(job->done.load());
    REQUIRE(job->written == 42);
    job.reset();
}

TEST_CASE("capi_runtime.a second shutdown returns BRAID_OK once the jobs left running have ended") {
    braid_runtime* rt = make_runtime(false);
    Job job;
    REQUIRE(braid_spawn_blocking(nullptr, rt, &Job::run, &job) == BRAID_OK);
    {
        std::unique_lock<std::mutex> lk(job.mu);
        job.cv.wait(lk, [&] { return job.started; });
    }
    REQUIRE(braid_runtime_shutdown(rt, 0) == BRAID_ETIMEDOUT);
    {
        std::lock_guard<std::mutex> g(job.mu);
        job.released = true;
        job.cv.notify_all();
    }
    REQUIRE(braid_runtime_shutdown(rt, -1) == BRAID_OK);  // waits for it without limit
    REQUIRE(job.done.load());
    REQUIRE(braid_runtime_shutdown(rt, 0) == BRAID_OK);
    REQUIRE(braid_runtime_free(rt) == BRAID_OK);
}

TEST_CASE("capi_runtime.a task handle stays usable after its runtime was freed") {
    for (bool current_thread : {false, true}) {
        INFO("current_thread: " << current_thread);
        braid_runtime* rt = make_runtime(current_thread);
        braid_task* done = nullptr;
        void* state = nullptr;
        REQUIRE(braid_task_new(&done, &state, rt, sizeof(Countdown), &Countdown::poll, nullptr, nullptr) == BRAID_OK);
        static_cast<Countdown*>(state)->left = 3;
        REQUIRE(braid_runtime_block_on(rt, done) == BRAID_OK);
        braid_task* never_started = nullptr;
        REQUIRE(braid_task_new(&never_started, &state, rt, sizeof(Countdown), &Countdown::poll, nullptr, nullptr) ==
                BRAID_OK);
        REQUIRE(braid_runtime_free(rt) == BRAID_OK);

        // The runtime is gone; its tasks' handles are not.
        REQUIRE(braid_task_is_finished(done) == 1);
        REQUIRE(braid_task_join_blocking(done, BRAID_WAIT_FOREVER) == BRAID_OK);
        REQUIRE(braid_task_set_timeout(done, 10) == BRAID_OK);  // finished: nothing to do
        REQUIRE(braid_task_join(done, [](void*, int) {}, nullptr) == BRAID_ESHUTDOWN);
        REQUIRE(braid_task_set_timeout(never_started, 10) == BRAID_ESHUTDOWN);
        REQUIRE(braid_task_join(never_started, [](void*, int) {}, nullptr) == BRAID_ESHUTDOWN);
        REQUIRE(braid_task_start(never_started) == BRAID_ESHUTDOWN);  // refused: it ends with that status
        REQUIRE(braid_task_join_blocking(never_started, BRAID_WAIT_FOREVER) == BRAID_ESHUTDOWN);
        braid_task_free(never_started);
        braid_task_free(done);  // the last reference to the runtime's memory goes here
    }
}

TEST_CASE("capi_runtime.braid_handle_block_on runs a future through a handle") {
    for (bool current_thread : {false, true}) {
        INFO("current_thread: " << current_thread);
        braid_runtime* rt = make_runtime(current_thread);
        braid_handle* h = nullptr;
        REQUIRE(braid_runtime_handle(&h, rt) == BRAID_OK);
        braid_task* t = nullptr;
        void* state = nullptr;
        REQUIRE(braid_handle_task_new(&t, &state, h, sizeof(Countdown), &Countdown::poll, nullptr, nullptr) == BRAID_OK);
        static_cast<Countdown*>(state)->left = 3;
        REQUIRE(braid_handle_block_on(h, t) == BRAID_OK);
        REQUIRE(braid_handle_block_on(nullptr, t) == BRAID_EINVAL);
        REQUIRE(braid_handle_block_on(h, nullptr) == BRAID_EINVAL);
        braid_task_free(t);
        braid_handle_free(h);
        REQUIRE(braid_runtime_free(rt) == BRAID_OK);
    }
}

TEST_CASE("capi_runtime.braid_runtime_enter makes the runtime current on a plain thread until braid_runtime_exit") {
    braid_runtime* a = make_runtime(false);
    braid_runtime* b = make_runtime(true);
    REQUIRE(braid_runtime_current() == nullptr);
    braid_enter_guard* ga = nullptr;
    braid_enter_guard* gb = nullptr;
    REQUIRE(braid_runtime_enter(&ga, a) == BRAID_OK);
    REQUIRE(braid_runtime_current() == a);
    braid_handle* hb = nullptr;
    REQUIRE(braid_runtime_handle(&hb, b) == BRAID_OK);
    REQUIRE(braid_handle_enter(&gb, hb) == BRAID_OK);
    REQUIRE(braid_runtime_current() == b);
    braid_handle* cur = nullptr;
    REQUIRE(braid_handle_current(&cur) == BRAID_OK);
    braid_handle_free(cur);
    // Out of order, or on another thread: refused, the guard kept.
    REQUIRE(braid_runtime_exit(ga) == BRAID_EINVAL);
    int other = 0;
    std::thread([&] { other = braid_runtime_exit(gb); }).join();
    REQUIRE(other == BRAID_EINVAL);
    REQUIRE(braid_runtime_exit(gb) == BRAID_OK);
    REQUIRE(braid_runtime_current() == a);
    // A spawn with no runtime named reaches the entered one.
    braid_task* t = nullptr;
    void* state = nullptr;
    REQUIRE(braid_task_new(&t, &state, nullptr, sizeof(Countdown), &Countdown::poll, nullptr, nullptr) == BRAID_OK);
    REQUIRE(braid_runtime_block_on(a, t) == BRAID_OK);  // entered: still a plain thread
    braid_task_free(t);
    REQUIRE(braid_runtime_exit(ga) == BRAID_OK);
    REQUIRE(braid_runtime_current() == nullptr);
    REQUIRE(braid_runtime_exit(nullptr) == BRAID_OK);
    REQUIRE(braid_runtime_enter(nullptr, a) == BRAID_EINVAL);
    REQUIRE(braid_runtime_enter(&ga, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_handle_enter(&ga, nullptr) == BRAID_EINVAL);
    braid_handle_free(hb);
    REQUIRE(braid_runtime_free(b) == BRAID_OK);
    REQUIRE(braid_runtime_free(a) == BRAID_OK);
}

namespace {
void increment(void* p) { ++*static_cast<int*>(p); }

struct InPlace {
    int rc = 1;
    int ran = 0;
    static void body(void* p) {
        auto* s = static_cast<InPlace*>(p);
        s->rc = braid_block_in_place(&increment, &s->ran);
    }
};
}  // namespace

TEST_CASE("capi_runtime.braid_block_in_place: runs in place on a multi-thread worker, refused on a current-thread one") {
    int ran = 0;
    REQUIRE(braid_block_in_place(&increment, &ran) == BRAID_OK);  // plain thread: just runs
    REQUIRE(ran == 1);
    REQUIRE(braid_block_in_place(nullptr, nullptr) == BRAID_EINVAL);
    for (bool current_thread : {false, true}) {
        INFO("current_thread: " << current_thread);
        braid_runtime* rt = make_runtime(current_thread);
        InPlace s;
        braid_task* t = nullptr;
        REQUIRE(braid_spawn(&t, rt, &InPlace::body, &s) == BRAID_OK);
        REQUIRE(braid_runtime_block_on(rt, t) == BRAID_OK);
        braid_task_free(t);
        REQUIRE(s.rc == (current_thread ? BRAID_ENOTSUP : BRAID_OK));
        REQUIRE(s.ran == (current_thread ? 0 : 1));
        REQUIRE(braid_runtime_free(rt) == BRAID_OK);
    }
}

TEST_CASE("capi_runtime.braid_runtime_pause and braid_runtime_resume") {
    braid_runtime* rt = make_runtime(false);
    REQUIRE(braid_runtime_resume(rt) == BRAID_EINVAL);  // not paused
    REQUIRE(braid_runtime_advance(rt, 1) == BRAID_EINVAL);
    REQUIRE(braid_runtime_pause(rt) == BRAID_OK);
    REQUIRE(braid_runtime_pause(rt) == BRAID_EINVAL);  // paused already
    int64_t t0 = braid_now(rt);
    REQUIRE(braid_now(rt) == t0);  // frozen
    REQUIRE(braid_runtime_advance(rt, 1000000000) == BRAID_OK);
    REQUIRE(braid_now(rt) == t0 + 1000000000);
    REQUIRE(braid_runtime_resume(rt) == BRAID_OK);
    REQUIRE(braid_now(rt) >= t0 + 1000000000);  // the advanced time is kept
    REQUIRE(braid_runtime_pause(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_runtime_resume(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_runtime_free(rt) == BRAID_OK);
}

TEST_CASE("capi_runtime.braid_runtime_shutdown_background lets go without waiting for blocking jobs") {
    REQUIRE(braid_runtime_shutdown_background(nullptr) == BRAID_EINVAL);
    braid_runtime* rt = make_runtime(false);
    struct Gate {
        std::mutex mu;
        std::condition_variable cv;
        bool started = false, open = false, finished = false;
        static void job(void* p) {
            auto* g = static_cast<Gate*>(p);
            std::unique_lock<std::mutex> lk(g->mu);
            g->started = true;
            g->cv.notify_all();
            g->cv.wait(lk, [&] { return g->open; });
            g->finished = true;
            g->cv.notify_all();
        }
    };
    auto g = std::make_shared<Gate>();
    REQUIRE(braid_spawn_blocking(nullptr, rt, &Gate::job, g.get()) == BRAID_OK);
    {
        std::unique_lock<std::mutex> lk(g->mu);
        g->cv.wait(lk, [&] { return g->started; });
    }
    REQUIRE(braid_runtime_shutdown_background(rt) == BRAID_ETIMEDOUT);  // returned while the job runs
    std::unique_lock<std::mutex> lk(g->mu);
    REQUIRE_FALSE(g->finished);
    g->open = true;
    g->cv.notify_all();
    g->cv.wait(lk, [&] { return g->finished; });
}

}  // namespace test_capi_runtime
