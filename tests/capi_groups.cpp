// The C side of concurrency patterns: join-all / first-of over tasks and
// operations, deadlines on any operation, join sets, abort handles.
#include <catch2/catch.hpp>
#include <braid/braid.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "capi_support.hpp"
#include "support.hpp"

namespace test_capi_groups {

using capi_test::Rt;

namespace {

struct Result {
    std::atomic<int> calls{0};
    std::atomic<int> status{1000};
    std::atomic<size_t> index{size_t(-2)};
    static void cb(void* p, int st) {
        auto* r = static_cast<Result*>(p);
        r->status.store(st);
        r->calls.fetch_add(1);
    }
    static void fd_cb(void* p, int st, int) { cb(p, st); }
    static void index_cb(void* p, size_t i, int st) {
        auto* r = static_cast<Result*>(p);
        r->index.store(i);
        r->status.store(st);
        r->calls.fetch_add(1);
    }
};

void noop(void*, int) {}

}  // namespace

TEST_CASE("capi_groups.C: join_all waits for every task, join_any reports the first") {
    Rt r;
    braid_task* sleeps[3] = {};
    REQUIRE(braid_sleep(&sleeps[0], r.rt, 30, noop, nullptr) == BRAID_OK);
    REQUIRE(braid_sleep(&sleeps[1], r.rt, 1, noop, nullptr) == BRAID_OK);
    REQUIRE(braid_sleep(&sleeps[2], r.rt, 1000000, noop, nullptr) == BRAID_OK);
    Result any;
    braid_task* op = nullptr;
    REQUIRE(braid_task_join_any(&op, r.rt, sleeps, 3, &Result::index_cb, &any) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(op, BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_task_free(op);
    REQUIRE(any.calls.load() == 1);
    REQUIRE(any.index.load() == 1);
    REQUIRE(any.status.load() == BRAID_OK);

    braid_task_abort(sleeps[2]);
    Result all;
    REQUIRE(braid_task_join_all(&op, r.rt, sleeps, 3, &Result::cb, &all) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(op, BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_task_free(op);
    REQUIRE(all.calls.load() == 1);
    REQUIRE(all.status.load() == BRAID_ECANCELED);  // the first failure in array order
    for (auto* t : sleeps) {
        REQUIRE(braid_task_is_finished(t) == 1);
        braid_task_free(t);
    }
}

TEST_CASE("capi_groups.C: group joins refuse empty sets, NULL handles and busy tasks") {
    Rt r;
    braid_task* t = nullptr;
    REQUIRE(braid_sleep(&t, r.rt, 1000000, noop, nullptr) == BRAID_OK);
    Result res;
    REQUIRE(braid_task_join_all(nullptr, r.rt, &t, 0, &Result::cb, &res) == BRAID_EINVAL);
    REQUIRE(braid_task_join_all(nullptr, r.rt, nullptr, 1, &Result::cb, &res) == BRAID_EINVAL);
    braid_task* with_null[2] = {t, nullptr};
    REQUIRE(braid_task_join_any(nullptr, r.rt, with_null, 2, &Result::index_cb, &res) == BRAID_EINVAL);
    braid_task* op = nullptr;
    REQUIRE(braid_task_join_all(&op, r.rt, &t, 1, &Result::cb, &res) == BRAID_OK);
    REQUIRE(braid_task_join_any(nullptr, r.rt, &t, 1, &Result::index_cb, &res) == BRAID_EBUSY);
    // aborting the group wait reports cancellation and leaves the task running
    REQUIRE(braid_task_abort(op) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(op, BRAID_WAIT_FOREVER) == BRAID_ECANCELED);
    braid_task_free(op);
    REQUIRE(res.calls.load() == 1);
    REQUIRE(res.status.load() == BRAID_ECANCELED);
    REQUIRE(braid_task_is_finished(t) == 0);
    braid_task_abort(t);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_ECANCELED);
    braid_task_free(t);
}

TEST_CASE("capi_groups.C: a deadline aborts an operation with BRAID_ETIMEDOUT, in its callback too") {
    Rt r;
    int fds[2];
    REQUIRE(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
    Result res;
    braid_task* wait = nullptr;
    REQUIRE(braid_fd_wait(&wait, r.rt, fds[0], BRAID_READABLE, &Result::fd_cb, &res) == BRAID_OK);
    REQUIRE(braid_task_set_timeout(wait, 5) == BRAID_OK);
    REQUIRE(braid_task_set_timeout(wait, 5) == BRAID_EBUSY);  // one deadline per task
    REQUIRE(braid_task_join_blocking(wait, BRAID_WAIT_FOREVER) == BRAID_ETIMEDOUT);
    REQUIRE(res.calls.load() == 1);
    REQUIRE(res.status.load() == BRAID_ETIMEDOUT);
    braid_task_free(wait);
    close(fds[0]);
    close(fds[1]);
}

TEST_CASE("capi_groups.C: a deadline on an operation that finishes first changes nothing") {
    Rt r;
    Result res;
    braid_task* s = nullptr;
    REQUIRE(braid_sleep(&s, r.rt, 1, &Result::cb, &res) == BRAID_OK);
    REQUIRE(braid_task_set_timeout(s, 60000) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(s, BRAID_WAIT_FOREVER) == BRAID_OK);
    REQUIRE(res.status.load() == BRAID_OK);
    REQUIRE(braid_task_set_timeout(s, 1) == BRAID_OK);  // finished: nothing to do
    REQUIRE(braid_task_set_timeout(s, -1) == BRAID_EINVAL);
    REQUIRE(braid_task_set_deadline(nullptr, 0) == BRAID_EINVAL);
    braid_task_free(s);
}

TEST_CASE("capi_groups.C: join sets give tasks back in completion order") {
    Rt r;
    braid_join_set* set = nullptr;
    REQUIRE(braid_join_set_new(&set) == BRAID_OK);
    int tags[3] = {0, 1, 2};
    int64_t ms[3] = {20, 1, 10};
    for (int i = 0; i < 3; ++i) {
        braid_task* t = nullptr;
        REQUIRE(braid_sleep(&t, r.rt, ms[i], noop, nullptr) == BRAID_OK);
        REQUIRE(braid_join_set_add(set, t, &tags[i]) == BRAID_OK);
    }
    REQUIRE(braid_join_set_len(set) == 3);
    int order[3];
    for (int k = 0; k < 3; ++k) {
        braid_task* t = nullptr;
        void* user = nullptr;
        int rc;
        while ((rc = braid_join_set_try_next(set, &t, &user)) == BRAID_EAGAIN) std::this_thread::yield();
        REQUIRE(rc == BRAID_OK);
        REQUIRE(braid_task_try_join(t) == BRAID_OK);
        order[k] = *static_cast<int*>(user);
        braid_task_free(t);
    }
    REQUIRE(order[0] == 1);
    REQUIRE(order[1] == 2);
    REQUIRE(order[2] == 0);
    braid_task* t = nullptr;
    REQUIRE(braid_join_set_try_next(set, &t, nullptr) == BRAID_ECLOSED);
    REQUIRE(braid_join_set_add(nullptr, nullptr, nullptr) == BRAID_EINVAL);
    braid_join_set_free(set);
    braid_join_set_free(nullptr);
}

TEST_CASE("capi_groups.C: freeing a join set aborts its tasks") {
    Rt r;
    Result res;
    braid_join_set* set = nullptr;
    REQUIRE(braid_join_set_new(&set) == BRAID_OK);
    braid_task* t = nullptr;
    REQUIRE(braid_sleep(&t, r.rt, 1000000, &Result::cb, &res) == BRAID_OK);
    braid_abort_handle* ah = nullptr;
    REQUIRE(braid_task_abort_handle(&ah, t) == BRAID_OK);
    REQUIRE(braid_join_set_add(set, t, nullptr) == BRAID_OK);
    braid_join_set_free(set);
    while (braid_abort_handle_is_finished(ah) != 1) std::this_thread::yield();
    REQUIRE(res.calls.load() == 1);
    REQUIRE(res.status.load() == BRAID_ECANCELED);
    braid_abort_handle_free(ah);
}

TEST_CASE("capi_groups.C: join_any gives the join slots back when it calls back: the others can be joined at once") {
    Rt r;
    braid_task* tasks[3] = {};
    REQUIRE(braid_sleep(&tasks[0], r.rt, 1000000, noop, nullptr) == BRAID_OK);
    REQUIRE(braid_sleep(&tasks[1], r.rt, 1, noop, nullptr) == BRAID_OK);
    REQUIRE(braid_sleep(&tasks[2], r.rt, 1000000, noop, nullptr) == BRAID_OK);
    // The callback joins the two still running (the slot must be free there).
    struct Ctx {
        braid_task** tasks;
        Result joined{};
        std::atomic<int> join_rc[3] = {1000, 1000, 1000};
        std::atomic<size_t> first{size_t(-2)};
        std::atomic<int> calls{0};
        static void cb(void* p, size_t index, int st) {
            auto* c = static_cast<Ctx*>(p);
            c->first.store(index);
            (void)st;
            for (size_t i = 0; i < 3; ++i)
                if (i != index) c->join_rc[i].store(braid_task_join(c->tasks[i], &Result::cb, &c->joined));
            c->calls.fetch_add(1);
        }
    } ctx{tasks};
    braid_task* op = nullptr;
    REQUIRE(braid_task_join_any(&op, r.rt, tasks, 3, &Ctx::cb, &ctx) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(op, BRAID_WAIT_FOREVER) == BRAID_OK);
    REQUIRE(ctx.calls.load() == 1);
    REQUIRE(ctx.first.load() == 1);
    REQUIRE(ctx.join_rc[0].load() == BRAID_OK);
    REQUIRE(ctx.join_rc[2].load() == BRAID_OK);
    // With the operation's handle still held, the reported task is free to
    // join too.
    REQUIRE(braid_task_join_blocking(tasks[1], BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_task_abort(tasks[0]);
    braid_task_abort(tasks[2]);
    while (ctx.joined.calls.load() < 2) std::this_thread::yield();
    REQUIRE(ctx.joined.status.load() == BRAID_ECANCELED);
    braid_task_free(op);
    for (auto* t : tasks) braid_task_free(t);
}

TEST_CASE("capi_groups.C: join_all and an aborted group wait give the slots back before they call back") {
    Rt r;
    braid_task* tasks[2] = {};
    REQUIRE(braid_sleep(&tasks[0], r.rt, 1, noop, nullptr) == BRAID_OK);
    REQUIRE(braid_sleep(&tasks[1], r.rt, 2, noop, nullptr) == BRAID_OK);
    struct Ctx {
        braid_task** tasks;
        std::atomic<int> poll_rc[2] = {1000, 1000};
        static void cb(void* p, int st) {
            auto* c = static_cast<Ctx*>(p);
            (void)st;
            // Finished and no longer owned by the group: poll_join reports the status.
            for (int i = 0; i < 2; ++i) c->poll_rc[i].store(braid_task_try_join(c->tasks[i]));
        }
    } all{tasks};
    braid_task* op = nullptr;
    REQUIRE(braid_task_join_all(&op, r.rt, tasks, 2, &Ctx::cb, &all) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(op, BRAID_WAIT_FOREVER) == BRAID_OK);
    REQUIRE(all.poll_rc[0].load() == BRAID_OK);
    REQUIRE(all.poll_rc[1].load() == BRAID_OK);
    braid_task_free(op);
    for (auto* t : tasks) braid_task_free(t);

    // Aborted: the tasks keep running and are free to join from the callback on.
    REQUIRE(braid_sleep(&tasks[0], r.rt, 1000000, noop, nullptr) == BRAID_OK);
    REQUIRE(braid_sleep(&tasks[1], r.rt, 1000000, noop, nullptr) == BRAID_OK);
    struct Aborted {
        braid_task** tasks;
        std::atomic<int> poll_rc{1000};
        static void cb(void* p, int st) {
            auto* c = static_cast<Aborted*>(p);
            EXPECT_ANYWHERE(st == BRAID_ECANCELED);
            c->poll_rc.store(braid_task_try_join(c->tasks[0]));
        }
    } aborted{tasks};
    REQUIRE(braid_task_join_all(&op, r.rt, tasks, 2, &Aborted::cb, &aborted) == BRAID_OK);
    REQUIRE(braid_task_abort(op) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(op, BRAID_WAIT_FOREVER) == BRAID_ECANCELED);
    REQUIRE(aborted.poll_rc.load() == BRAID_PENDING);  // not EBUSY: nobody owns the slot
    for (auto* t : tasks) {
        braid_task_abort(t);
        REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_ECANCELED);  // while op's handle is still held
    }
    braid_task_free(op);
    for (auto* t : tasks) braid_task_free(t);
}

}  // namespace test_capi_groups
