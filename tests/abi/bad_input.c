/* abi.bad_input — the C ABI rules of braid, checked from plain C11.
 *
 *  - every function given a NULL handle returns BRAID_EINVAL, or is a no-op
 *    (the *_free functions and the void functions), and never crashes;
 *  - negative durations are BRAID_EINVAL (a negative timeout_ms waits
 *    without limit: BRAID_WAIT_FOREVER);
 *  - braid_strerror / braid_err_name cover BRAID_ERROR_TABLE and unknown codes;
 *  - a runtime that was shut down refuses new work with BRAID_ESHUTDOWN;
 *  - blocking calls made on a worker give BRAID_EDEADLK (join_blocking,
 *    block_on, shutdown, free) and leave the runtime usable;
 *  - the callback contract: a call that returns an error never invokes its
 *    callback; a call that succeeds invokes it exactly once (also when the
 *    operation is aborted, or pending when the runtime is shut down/freed);
 *  - one joiner per task: while a braid_task_join waits, another
 *    braid_task_join, braid_task_join_blocking or braid_task_poll_join is
 *    BRAID_EBUSY; one registration per fd per runtime: a second braid_fd_new /
 *    braid_fd_wait is BRAID_EBUSY;
 *  - handles and poll-style objects outlive their runtime (used and freed
 *    after braid_runtime_free; abi.bad_input_memcheck and the sanitizer
 *    builds catch a use after free);
 *  - misuse is refused and changes nothing: unlocks that do not match how a
 *    lock is held, send_reserved without a reservation, borrow_end without
 *    a borrow, a socket of the wrong kind given to a _from_fd function, a
 *    callback run by braid_runtime_free freeing the runtime again; a future
 *    never started is started by block_on.
 *
 * No framework: each failed check prints what failed and where; the program
 * goes on with the next check and exits 1 if any failed.  A watchdog turns a
 * hang into a failure that names the section it hung in.
 *
 * No sleep-and-hope: a callback is counted only after a barrier that rules
 * out any further call --
 *  - braid_task_join_blocking on the operation's handle: its callback runs
 *    inside the operation's poll (or its cancel) before the task completes,
 *    and a completed task is neither polled nor cancelled again;
 *  - braid_runtime_shutdown / braid_runtime_free: they join every thread of
 *    the runtime, so nothing of it runs afterwards (used for detached
 *    operations, braid_task_join's operation and calls that were refused).
 * Waiting for an expected callback (wait_calls) spins with a generous bound.
 * Operations that should still be pending are kept pending by a gate (a pipe
 * nobody wrote to, or a 60 s sleep), never by a short timer.
 *
 * The unstable tier (braid/unstable/) is held to the same NULL rules: its
 * headers are included too.
 */
#include <braid/braid.h>

#define BRAID_UNSTABLE_API 1
#include <braid/unstable/alloc.h>
#include <braid/unstable/coop.h>
#include <braid/unstable/task_block.h>
#include <braid/unstable/waiter.h>

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- tiny harness ------------------------------------------------------------ */

static atomic_int g_failures;
static atomic_int g_checks;
static const char *volatile g_section = "start";

static void fail_at(const char *file, int line, const char *what) {
    atomic_fetch_add(&g_failures, 1);
    fprintf(stderr, "FAIL [%s] %s:%d: %s\n", g_section, file, line, what);
    fflush(stderr);
}

#define CHECK(cond, what)                                    \
    do {                                                     \
        atomic_fetch_add(&g_checks, 1);                      \
        if (!(cond)) fail_at(__FILE__, __LINE__, (what));    \
    } while (0)

/* expr must return `want`; prints both codes by name otherwise. */
#define CHECK_RC(expr, want)                                                              \
    do {                                                                                  \
        int rc_ = (expr);                                                                 \
        int want_ = (want);                                                               \
        atomic_fetch_add(&g_checks, 1);                                                   \
        if (rc_ != want_) {                                                               \
            char msg_[512];                                                               \
            snprintf(msg_, sizeof msg_, "%s returned %d (%s), expected %d (%s)", #expr, rc_, \
                     braid_err_name(rc_), want_, braid_err_name(want_));                  \
            fail_at(__FILE__, __LINE__, msg_);                                            \
        }                                                                                 \
    } while (0)

static void section(const char *name) {
    g_section = name;
    printf("-- %s\n", name);
    fflush(stdout);
}

static void on_alarm(int sig) {
    (void)sig;
    static const char head[] = "FAIL watchdog: hung in section [";
    const char *s = g_section;
    ssize_t ignored = write(2, head, sizeof head - 1);
    ignored = write(2, s, strlen(s));
    ignored = write(2, "]\n", 2);
    (void)ignored;
    _exit(3);
}

/* ---- callback counting ----------------------------------------------------------- */

typedef struct counter {
    atomic_int calls;       /* every invocation */
    atomic_int status;      /* status of the last invocation */
    atomic_int cancels;     /* invocations with BRAID_ECANCELED */
    atomic_int after_cancel; /* invocations that came after one with BRAID_ECANCELED */
    atomic_int on_worker;   /* invocations on a thread of the runtime below */
    atomic_int ready;       /* the ready bits of the last braid_fd_wait callback */
    braid_runtime *rt;      /* for on_worker; may be NULL */
} counter;

static void counter_init(counter *c, braid_runtime *rt) {
    atomic_init(&c->calls, 0);
    atomic_init(&c->status, 12345);
    atomic_init(&c->cancels, 0);
    atomic_init(&c->after_cancel, 0);
    atomic_init(&c->on_worker, 0);
    atomic_init(&c->ready, -1);
    c->rt = rt;
}

static void count_cb(void *user_data, int status) {
    counter *c = (counter *)user_data;
    if (atomic_load(&c->cancels) > 0) atomic_fetch_add(&c->after_cancel, 1);
    if (status == BRAID_ECANCELED) atomic_fetch_add(&c->cancels, 1);
    if (c->rt && braid_runtime_current() == c->rt) atomic_fetch_add(&c->on_worker, 1);
    atomic_store(&c->status, status);
    atomic_fetch_add(&c->calls, 1);
}

/* braid_fd_wait's callback: the status as count_cb, the bits apart. */
static void fd_count_cb(void *user_data, int status, int ready) {
    atomic_store(&((counter *)user_data)->ready, ready);
    count_cb(user_data, status);
}

/* Waits (spinning) until c->calls >= n or timeout_ms passes; returns calls.
 * Only for callbacks that must come; the bound is generous on purpose.  It
 * is no barrier: count exactly only after one (see the top of the file). */
static int wait_calls(counter *c, int n, long timeout_ms) {
    const int64_t t0 = braid_now(NULL);
    while (atomic_load(&c->calls) < n && braid_now(NULL) - t0 < (int64_t)timeout_ms * 1000000) sched_yield();
    return atomic_load(&c->calls);
}

static void noop_fn(void *arg) { (void)arg; }
static void noop_wake(void *arg) { (void)arg; }

/* A fence on a ONE-worker runtime: tasks spawned from outside run in spawn
 * order there, so every operation spawned before the fence has been polled
 * (and is waiting) when this returns.  Only coverage depends on that (the
 * pending path rather than the not-yet-polled one); no check does. */
static void fence(braid_runtime *rt) {
    braid_task *f = NULL;
    CHECK_RC(braid_spawn(&f, rt, noop_fn, NULL), BRAID_OK);
    if (f) CHECK_RC(braid_task_join_blocking(f, 10000), BRAID_OK);
    braid_task_free(f);
}

/* A pipe whose read end is the gate of an operation: it stays pending until
 * gate_open writes to it. */
typedef struct gate {
    int fd[2];
} gate;
static void gate_init(gate *g) {
    if (pipe(g->fd) != 0) {
        perror("FATAL: pipe");
        exit(2);
    }
    fcntl(g->fd[0], F_SETFL, O_NONBLOCK);
}
static void gate_open(gate *g) { CHECK(write(g->fd[1], "x", 1) == 1, "write to a gate pipe"); }
static void gate_close(gate *g) {
    close(g->fd[0]);
    close(g->fd[1]);
}

static braid_runtime *make_runtime(int workers) {
    braid_runtime_builder *b = NULL;
    braid_runtime *rt = NULL;
    int rc = braid_runtime_builder_new(&b);
    if (rc != BRAID_OK) {
        fprintf(stderr, "FATAL: braid_runtime_builder_new: %s\n", braid_err_name(rc));
        exit(2);
    }
    rc = braid_runtime_builder_worker_threads(b, workers);
    if (rc == BRAID_OK) rc = braid_runtime_build(&rt, b);
    braid_runtime_builder_free(b);
    if (rc != BRAID_OK || !rt) {
        fprintf(stderr, "FATAL: cannot build a runtime: %s\n", braid_err_name(rc));
        exit(2);
    }
    return rt;
}

/* ---- 1. error codes ---------------------------------------------------------------- */

static int in_table(int code) {
#define IN_TABLE_(name, value, text) if (code == (value)) return 1;
    BRAID_ERROR_TABLE(IN_TABLE_)
#undef IN_TABLE_
    return 0;
}

static void check_code(const char *name, int value, const char *text) {
    char msg[256];
    const char *n = braid_err_name(value);
    const char *s = braid_strerror(value);
    snprintf(msg, sizeof msg, "braid_err_name(%d) is \"%s\", expected \"%s\"", value, n ? n : "(null)", name);
    CHECK(n != NULL && strcmp(n, name) == 0, msg);
    snprintf(msg, sizeof msg, "braid_strerror(%d) is \"%s\", expected \"%s\"", value, s ? s : "(null)", text);
    CHECK(s != NULL && strcmp(s, text) == 0, msg);
}

static void test_error_codes(void) {
    section("error codes: braid_strerror / braid_err_name");
    int rows = 0;
#define ROW_(name, value, text) check_code(#name, value, text); ++rows;
    BRAID_ERROR_TABLE(ROW_)
#undef ROW_
    CHECK(rows >= 16, "BRAID_ERROR_TABLE has fewer rows than expected");

    /* values are unique and OK is the only non-negative one */
    int values[] = {
#define VAL_(name, value, text) value,
        BRAID_ERROR_TABLE(VAL_)
#undef VAL_
    };
    int nvalues = (int)(sizeof values / sizeof values[0]);
    for (int i = 0; i < nvalues; ++i) {
        CHECK(values[i] <= 0, "an error code in BRAID_ERROR_TABLE is positive");
        for (int j = i + 1; j < nvalues; ++j) CHECK(values[i] != values[j], "two table rows share a value");
    }
    CHECK(BRAID_OK == 0, "BRAID_OK is not 0");

    const char *p = braid_err_name(BRAID_PENDING);
    CHECK(p != NULL && strcmp(p, "PENDING") == 0, "braid_err_name(BRAID_PENDING) is not \"PENDING\"");
    CHECK(braid_strerror(BRAID_PENDING) != NULL, "braid_strerror(BRAID_PENDING) is NULL");

    int unknown[] = {-16, -17, -99, -1000, -65536, 2, 3, 100, 4096, INT_MIN, INT_MIN + 1, INT_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; ++i) {
        int code = unknown[i];
        if (in_table(code) || code == BRAID_PENDING) continue;
        char msg[160];
        const char *n = braid_err_name(code);
        const char *s = braid_strerror(code);
        snprintf(msg, sizeof msg, "braid_err_name(%d) is \"%s\", expected \"UNKNOWN\"", code, n ? n : "(null)");
        CHECK(n != NULL && strcmp(n, "UNKNOWN") == 0, msg);
        snprintf(msg, sizeof msg, "braid_strerror(%d) is \"%s\", expected \"unknown error\"", code,
                 s ? s : "(null)");
        CHECK(s != NULL && strcmp(s, "unknown error") == 0, msg);
    }

    const char *v = braid_version();
    CHECK(v != NULL && strcmp(v, BRAID_VERSION_STRING) == 0, "braid_version() != BRAID_VERSION_STRING");
    CHECK(braid_version_number() == BRAID_VERSION_NUMBER, "braid_version_number() != BRAID_VERSION_NUMBER");
}

/* Callbacks of calls that returned an error (NULL handles, bad arguments,
 * negative durations) on the shared runtime of main: never called; counted
 * after that runtime was freed. */
static counter g_refused;

/* ---- 2. NULL handles ---------------------------------------------------------------- */

static int poll_pending(void *state, braid_task *task) {
    (void)state;
    (void)task;
    return BRAID_PENDING;
}

typedef struct lifecycle {
    atomic_int polls, cancels, releases;
} lifecycle;

static int lc_poll_done(void *state, braid_task *task) {
    (void)task;
    lifecycle **lc = (lifecycle **)state;
    atomic_fetch_add(&(*lc)->polls, 1);
    return BRAID_OK;
}
static int lc_poll_pending(void *state, braid_task *task) {
    (void)task;
    lifecycle **lc = (lifecycle **)state;
    atomic_fetch_add(&(*lc)->polls, 1);
    return BRAID_PENDING;
}
static void lc_cancel(void *state) { atomic_fetch_add(&(*(lifecycle **)state)->cancels, 1); }
static void lc_release(void *state) { atomic_fetch_add(&(*(lifecycle **)state)->releases, 1); }

/* Waits (spinning, generous bound) until lc->releases >= n: a task's release
 * runs where its last reference goes, which after a join may still be the
 * worker that completed it, a moment after the joiner woke. */
static int wait_releases(lifecycle *lc, int n, long timeout_ms) {
    const int64_t t0 = braid_now(NULL);
    while (atomic_load(&lc->releases) < n && braid_now(NULL) - t0 < (int64_t)timeout_ms * 1000000) sched_yield();
    return atomic_load(&lc->releases);
}

static void test_null_handles(braid_runtime *rt) {
    section("NULL handles and invalid arguments");
    counter *const c = &g_refused;
    braid_task *t = NULL;
    braid_handle *h = NULL;
    braid_runtime *r = NULL;
    braid_runtime_builder *b = NULL;
    void *state = NULL;

    /* builder */
    CHECK_RC(braid_runtime_builder_new(NULL), BRAID_EINVAL);
    braid_runtime_builder_free(NULL);
    CHECK_RC(braid_runtime_builder_worker_threads(NULL, 2), BRAID_EINVAL);
    CHECK_RC(braid_runtime_builder_current_thread(NULL), BRAID_EINVAL);
    CHECK_RC(braid_runtime_builder_host_driven(NULL), BRAID_EINVAL);
    CHECK_RC(braid_runtime_builder_thread_name(NULL, "x"), BRAID_EINVAL);
    CHECK_RC(braid_runtime_builder_max_blocking_threads(NULL, 4), BRAID_EINVAL);
    CHECK_RC(braid_runtime_builder_blocking_keep_alive_ms(NULL, 10), BRAID_EINVAL);
    CHECK_RC(braid_runtime_builder_on_thread_start(NULL, noop_fn, NULL), BRAID_EINVAL);
    CHECK_RC(braid_runtime_builder_on_thread_stop(NULL, noop_fn, NULL), BRAID_EINVAL);
    CHECK_RC(braid_runtime_builder_start_paused(NULL, 0), BRAID_EINVAL);
    CHECK_RC(braid_runtime_builder_dump_signal(NULL, 0), BRAID_EINVAL);
    CHECK_RC(braid_runtime_builder_on_stall(NULL, NULL, NULL), BRAID_EINVAL);
    CHECK_RC(braid_runtime_build(NULL, NULL), BRAID_EINVAL);
    CHECK_RC(braid_runtime_build(&r, NULL), BRAID_EINVAL);
    CHECK(r == NULL, "braid_runtime_build(&r, NULL) set r");
    CHECK_RC(braid_runtime_new(NULL), BRAID_EINVAL);

    /* builder: out-of-range values */
    CHECK_RC(braid_runtime_builder_new(&b), BRAID_OK);
    CHECK_RC(braid_runtime_build(NULL, b), BRAID_EINVAL);
    CHECK_RC(braid_runtime_builder_worker_threads(b, 0), BRAID_EINVAL);
    CHECK_RC(braid_runtime_builder_worker_threads(b, -1), BRAID_EINVAL);
    CHECK_RC(braid_runtime_builder_worker_threads(b, 1025), BRAID_EINVAL);
    CHECK_RC(braid_runtime_builder_thread_name(b, NULL), BRAID_EINVAL);
    CHECK_RC(braid_runtime_builder_max_blocking_threads(b, 0), BRAID_EINVAL);
    CHECK_RC(braid_runtime_builder_max_blocking_threads(b, 65537), BRAID_EINVAL);
    CHECK_RC(braid_runtime_builder_start_paused(b, 2), BRAID_EINVAL);
    CHECK_RC(braid_runtime_builder_on_thread_start(b, NULL, NULL), BRAID_OK); /* NULL removes */
    braid_runtime_builder_free(b);

    /* runtime */
    CHECK_RC(braid_runtime_block_on(NULL, NULL), BRAID_EINVAL);
    CHECK_RC(braid_runtime_block_on(rt, NULL), BRAID_EINVAL);
    CHECK_RC(braid_runtime_shutdown(NULL, 0), BRAID_EINVAL);
    CHECK_RC(braid_runtime_shutdown(NULL, -1), BRAID_EINVAL);
    CHECK_RC(braid_runtime_free(NULL), BRAID_OK);
    CHECK(braid_runtime_current() == NULL, "braid_runtime_current() is not NULL on the main thread");
    CHECK_RC(braid_runtime_worker_count(NULL), BRAID_EINVAL);
    CHECK_RC(braid_runtime_worker_count(rt), 2);
    CHECK_RC(braid_runtime_fd(NULL), BRAID_EINVAL);
    CHECK_RC(braid_runtime_fd(rt), BRAID_ENOTSUP); /* not host-driven */
    CHECK_RC(braid_runtime_turn(NULL, 0), BRAID_EINVAL);
    CHECK_RC(braid_runtime_turn(rt, -1), BRAID_EINVAL);
    CHECK_RC(braid_runtime_turn(rt, 0), BRAID_ENOTSUP);
    CHECK_RC(braid_runtime_advance(NULL, 0), BRAID_EINVAL);
    CHECK_RC(braid_runtime_advance(rt, 0), BRAID_EINVAL); /* not paused */

    /* handles */
    CHECK_RC(braid_runtime_handle(NULL, rt), BRAID_EINVAL);
    CHECK_RC(braid_runtime_handle(&h, NULL), BRAID_EINVAL);
    CHECK_RC(braid_handle_current(NULL), BRAID_EINVAL);
    CHECK_RC(braid_handle_current(&h), BRAID_EINVAL); /* main is not a runtime thread */
    CHECK_RC(braid_handle_clone(NULL, NULL), BRAID_EINVAL);
    CHECK_RC(braid_handle_clone(&h, NULL), BRAID_EINVAL);
    braid_handle_free(NULL);

    /* metrics: NULL, a size below the first version's, an index or a
     * format out of range, a buffer too small: refused, nothing written */
    {
        braid_metrics m, m0;
        braid_worker_metrics w, w0;
        char buf[4] = "abc";
        size_t needed = 0;
        memset(&m, 0x5a, sizeof m);
        memset(&w, 0x5a, sizeof w);
        m0 = m;
        w0 = w;
        CHECK_RC(braid_runtime_metrics(NULL, &m, sizeof m), BRAID_EINVAL);
        CHECK_RC(braid_runtime_metrics(rt, NULL, sizeof m), BRAID_EINVAL);
        CHECK_RC(braid_runtime_metrics(rt, &m, BRAID_METRICS_MIN_SIZE - 1), BRAID_EINVAL);
        CHECK_RC(braid_handle_metrics(NULL, &m, sizeof m), BRAID_EINVAL);
        CHECK(memcmp(&m, &m0, sizeof m) == 0, "a refused braid_runtime_metrics wrote to its struct");
        CHECK_RC(braid_runtime_worker_metrics(NULL, 0, &w, sizeof w), BRAID_EINVAL);
        CHECK_RC(braid_runtime_worker_metrics(rt, 0, NULL, sizeof w), BRAID_EINVAL);
        CHECK_RC(braid_runtime_worker_metrics(rt, -1, &w, sizeof w), BRAID_EINVAL);
        CHECK_RC(braid_runtime_worker_metrics(rt, 2, &w, sizeof w), BRAID_EINVAL);
        CHECK_RC(braid_runtime_worker_metrics(rt, 0, &w, BRAID_WORKER_METRICS_MIN_SIZE - 1), BRAID_EINVAL);
        CHECK_RC(braid_handle_worker_metrics(NULL, 0, &w, sizeof w), BRAID_EINVAL);
        CHECK(memcmp(&w, &w0, sizeof w) == 0, "a refused braid_runtime_worker_metrics wrote to its struct");
        CHECK_RC(braid_runtime_metrics_format(NULL, BRAID_METRICS_JSON, buf, sizeof buf, &needed), BRAID_EINVAL);
        CHECK_RC(braid_runtime_metrics_format(rt, 0, buf, sizeof buf, &needed), BRAID_EINVAL);
        CHECK_RC(braid_runtime_metrics_format(rt, BRAID_METRICS_JSON, NULL, 1, &needed), BRAID_EINVAL);
        CHECK_RC(braid_handle_metrics_format(NULL, BRAID_METRICS_JSON, buf, sizeof buf, &needed), BRAID_EINVAL);
        CHECK_RC(braid_runtime_metrics_format(rt, BRAID_METRICS_PROMETHEUS, buf, sizeof buf, &needed), BRAID_ERANGE);
        CHECK(needed > sizeof buf, "braid_runtime_metrics_format did not report the size it needs");
        CHECK(memcmp(buf, "abc", 4) == 0, "a braid_runtime_metrics_format too small for its text wrote to buf");
        CHECK_RC(braid_runtime_metrics(rt, &m, sizeof m), BRAID_OK);
        CHECK(m.size == sizeof m && m.workers == 2, "braid_runtime_metrics: size and workers");
    }

    /* spawning */
    CHECK_RC(braid_spawn(&t, NULL, noop_fn, NULL), BRAID_EINVAL);
    CHECK_RC(braid_spawn(&t, rt, NULL, NULL), BRAID_EINVAL);
    CHECK_RC(braid_spawn(NULL, NULL, noop_fn, NULL), BRAID_EINVAL);
    CHECK_RC(braid_handle_spawn(&t, NULL, noop_fn, NULL), BRAID_EINVAL);
    CHECK_RC(braid_spawn_blocking(&t, NULL, noop_fn, NULL), BRAID_EINVAL);
    CHECK_RC(braid_spawn_blocking(&t, rt, NULL, NULL), BRAID_EINVAL);
    CHECK_RC(braid_handle_spawn_blocking(&t, NULL, noop_fn, NULL), BRAID_EINVAL);
    CHECK_RC(braid_task_new(NULL, &state, rt, 16, poll_pending, NULL, NULL), BRAID_EINVAL);
    CHECK_RC(braid_task_new(&t, NULL, rt, 16, poll_pending, NULL, NULL), BRAID_EINVAL);
    CHECK_RC(braid_task_new(&t, &state, rt, 16, NULL, NULL, NULL), BRAID_EINVAL);
    CHECK_RC(braid_task_new(&t, &state, NULL, 16, poll_pending, NULL, NULL), BRAID_EINVAL); /* no current rt */
    CHECK_RC(braid_handle_task_new(&t, &state, NULL, 16, poll_pending, NULL, NULL), BRAID_EINVAL);
    CHECK_RC(braid_task_start(NULL), BRAID_EINVAL);
    CHECK_RC(braid_task_start_blocking(NULL), BRAID_EINVAL);
    CHECK_RC(braid_task_new_cancelled(NULL), BRAID_EINVAL);

    /* join handles */
    braid_task_free(NULL);
    CHECK_RC(braid_task_abort(NULL), BRAID_EINVAL);
    CHECK_RC(braid_task_is_finished(NULL), BRAID_EINVAL);
    CHECK_RC(braid_task_try_join(NULL), BRAID_EINVAL);
    CHECK_RC(braid_task_poll_join(NULL, noop_wake, NULL), BRAID_EINVAL);
    CHECK_RC(braid_task_join(NULL, count_cb, c), BRAID_EINVAL);
    CHECK_RC(braid_task_join_blocking(NULL, BRAID_WAIT_FOREVER), BRAID_EINVAL);
    CHECK_RC(braid_task_join_blocking(NULL, 10), BRAID_EINVAL);
    CHECK(braid_task_id(NULL) == 0, "braid_task_id(NULL) is not 0");
    CHECK_RC(braid_task_set_name(NULL, "x"), BRAID_EINVAL);
    CHECK(braid_task_name(NULL) == NULL, "braid_task_name(NULL) is not NULL");
    {
        braid_local_set* prev = NULL;
        CHECK_RC(braid_local_set_enter(NULL, &prev), BRAID_EINVAL);
        CHECK_RC(braid_local_set_exit(NULL, NULL), BRAID_EINVAL);
    }
    CHECK_RC(braid_task_set_location(NULL, "f.c", 1, NULL), BRAID_EINVAL);
    CHECK_RC(braid_runtime_task_dump(NULL, NULL, NULL), BRAID_EINVAL);
    CHECK_RC(braid_runtime_task_dump_text(NULL, NULL, 0, NULL), BRAID_EINVAL);
    CHECK_RC(braid_task_info_format(NULL, NULL, 0, NULL), BRAID_EINVAL);
    CHECK(braid_runtime_stalls(NULL) == 0, "braid_runtime_stalls(NULL) is not 0");
    CHECK(braid_task_current() == NULL, "braid_task_current() is not NULL on the main thread");
    CHECK(braid_task_current_id() == 0, "braid_task_current_id() is not 0 on the main thread");
    CHECK(*braid_coop_counter() < 0, "the budget is limited outside a task");
    CHECK_RC(braid_coop_take(), 1);
    braid_task_wake(NULL);
    braid_task_wake_fn(NULL);
    braid_free(NULL, 0);
    braid_free(NULL, 64);

    /* the unstable tier: NULL handles and NULL waiter slots, outside any task */
    {
        braid_waiter *w = NULL;
        uint64_t lagged = 0;
        int v = 0;
        void *p = braid_alloc(24);
        CHECK(p != NULL, "braid_alloc(24) returned NULL");
        braid_free(p, 24);
        CHECK(braid_coop_take() == 1, "braid_coop_take() outside a task is not 1");
        {
            /* a task in a caller's block: refusals leave the block to the caller */
            static const braid_task_vtable vt = {poll_pending, NULL, NULL, NULL, NULL};
            static const braid_task_vtable no_poll = {NULL, NULL, NULL, NULL, NULL};
            const size_t size = BRAID_TASK_HEADER_SIZE + 16;
            braid_task *nt = NULL;
            void *blk = braid_alloc(size);
            CHECK(blk != NULL, "braid_alloc returned NULL");
            CHECK_RC(braid_task_new_in(NULL, rt, blk, size, &vt), BRAID_EINVAL);
            CHECK_RC(braid_task_new_in(&nt, rt, NULL, size, &vt), BRAID_EINVAL);
            CHECK_RC(braid_task_new_in(&nt, rt, blk, BRAID_TASK_HEADER_SIZE, &vt), BRAID_EINVAL); /* no state */
            CHECK_RC(braid_task_new_in(&nt, rt, blk, size, NULL), BRAID_EINVAL);
            CHECK_RC(braid_task_new_in(&nt, rt, blk, size, &no_poll), BRAID_EINVAL);
            CHECK_RC(braid_task_new_in(&nt, NULL, blk, size, &vt), BRAID_EINVAL); /* no current rt */
            CHECK_RC(braid_handle_task_new_in(&nt, NULL, blk, size, &vt), BRAID_EINVAL);
            CHECK(nt == NULL, "a refused braid_task_new_in stored a task");
            braid_free(blk, size);
        }
        CHECK_RC(braid_mpsc_poll_send(NULL, &v, sizeof v, &w, noop_wake, NULL), BRAID_EINVAL);
        CHECK_RC(braid_mpsc_poll_reserve(NULL, 1, &w, noop_wake, NULL), BRAID_EINVAL);
        CHECK_RC(braid_mpsc_tx_poll_closed(NULL, &w, noop_wake, NULL), BRAID_EINVAL);
        CHECK_RC(braid_broadcast_poll_recv(NULL, &v, sizeof v, &lagged, &w, noop_wake, NULL), BRAID_EINVAL);
        CHECK_RC(braid_watch_tx_poll_closed(NULL, &w, noop_wake, NULL), BRAID_EINVAL);
        CHECK_RC(braid_watch_rx_poll_changed(NULL, &w, noop_wake, NULL), BRAID_EINVAL);
        CHECK_RC(braid_semaphore_poll_acquire(NULL, 1, &w, noop_wake, NULL), BRAID_EINVAL);
        CHECK_RC(braid_mutex_poll_lock(NULL, &w, noop_wake, NULL), BRAID_EINVAL);
        CHECK_RC(braid_rwlock_poll_read(NULL, &w, noop_wake, NULL), BRAID_EINVAL);
        CHECK_RC(braid_rwlock_poll_write(NULL, &w, noop_wake, NULL), BRAID_EINVAL);
        CHECK_RC(braid_notify_poll_notified(NULL, &w, noop_wake, NULL), BRAID_EINVAL);
        CHECK_RC(braid_notify_poll_notified_since(NULL, 0, &w, noop_wake, NULL), BRAID_EINVAL);
        CHECK_RC(braid_notify_enable_notified(NULL, &w), BRAID_EINVAL);
        CHECK_RC(braid_notify_enable_notified_since(NULL, 0, &w), BRAID_EINVAL);
        CHECK(braid_notify_waiters_epoch(NULL) == 0, "the epoch of a NULL notify is 0");
        CHECK_RC(braid_barrier_poll_wait(NULL, &w, noop_wake, NULL), BRAID_EINVAL);
        CHECK_RC(braid_once_cell_poll_init(NULL, &w, noop_wake, NULL), BRAID_EINVAL);
        CHECK_RC(braid_token_poll_cancelled(NULL, &w, noop_wake, NULL), BRAID_EINVAL);
        CHECK(w == NULL, "a refused poll stored a waiter");
        /* cancels: NULL handle, NULL slot, empty slot -- all no-ops */
        braid_mpsc_cancel_send(NULL, &w);
        braid_mpsc_cancel_send(NULL, NULL);
        braid_mpsc_cancel_reserve(NULL, &w);
        braid_mpsc_tx_cancel_closed(NULL, &w);
        braid_broadcast_cancel_recv(NULL, &w);
        braid_watch_tx_cancel_closed(NULL, &w);
        braid_watch_rx_cancel_changed(NULL, &w);
        braid_semaphore_cancel_acquire(NULL, &w);
        braid_mutex_cancel_lock(NULL, &w);
        braid_rwlock_cancel_read(NULL, &w);
        braid_rwlock_cancel_write(NULL, NULL);
        braid_notify_cancel_notified(NULL, &w);
        braid_barrier_cancel_wait(NULL, &w);
        braid_once_cell_cancel_init(NULL, &w);
        braid_token_cancel_wait(NULL, &w);
        {
            braid_mutex *m = NULL;
            CHECK_RC(braid_mutex_new(&m), BRAID_OK);
            CHECK_RC(braid_mutex_poll_lock(m, NULL, noop_wake, NULL), BRAID_EINVAL);
            braid_mutex_cancel_lock(m, NULL);
            braid_mutex_cancel_lock(m, &w); /* *w == NULL: nothing to cancel */
            CHECK_RC(braid_mutex_try_lock(m), BRAID_OK);
            CHECK_RC(braid_mutex_unlock(m), BRAID_OK);
            braid_mutex_free(m);
        }
    }

    /* time */
    CHECK(braid_now(NULL) > 0, "braid_now(NULL) on a foreign thread is not the monotonic clock");
    CHECK_RC(braid_sleep(&t, NULL, 1, count_cb, c), BRAID_EINVAL);
    CHECK_RC(braid_sleep(&t, rt, 1, NULL, c), BRAID_EINVAL);
    CHECK_RC(braid_sleep(NULL, NULL, 1, count_cb, c), BRAID_EINVAL);
    CHECK_RC(braid_sleep_until(&t, NULL, 0, count_cb, c), BRAID_EINVAL);
    CHECK_RC(braid_sleep_until(&t, rt, 0, NULL, c), BRAID_EINVAL);
    {
        /* the callback waits on shared primitives: a NULL runtime, primitive,
         * buffer or callback, or a wrong element size, is BRAID_EINVAL, sets
         * *out to NULL and never calls back (c is checked below) */
        int v = 0;
        uint64_t lagged = 0;
        braid_task *jt = NULL;
        braid_mutex *m = NULL;
        braid_semaphore *sem = NULL;
        braid_mpsc_tx *mtx = NULL;
        braid_mpsc_rx *mrx = NULL;
        CHECK_RC(braid_mutex_new(&m), BRAID_OK);
        CHECK_RC(braid_semaphore_new(&sem, 1), BRAID_OK);
        CHECK_RC(braid_mpsc_new(&mtx, &mrx, 1, sizeof(int), _Alignof(int), NULL, NULL), BRAID_OK);
        t = (braid_task *)&v;
        CHECK_RC(braid_mutex_lock(&t, rt, NULL, count_cb, c), BRAID_EINVAL);
        CHECK(t == NULL, "braid_mutex_lock refused left *out set");
        CHECK_RC(braid_mutex_lock(&t, NULL, m, count_cb, c), BRAID_EINVAL);
        CHECK_RC(braid_mutex_lock(&t, rt, m, NULL, c), BRAID_EINVAL);
        CHECK_RC(braid_mutex_lock(NULL, NULL, NULL, NULL, NULL), BRAID_EINVAL);
        CHECK_RC(braid_rwlock_read(&t, rt, NULL, count_cb, c), BRAID_EINVAL);
        CHECK_RC(braid_rwlock_read(NULL, NULL, NULL, NULL, NULL), BRAID_EINVAL);
        CHECK_RC(braid_rwlock_write(&t, rt, NULL, count_cb, c), BRAID_EINVAL);
        CHECK_RC(braid_rwlock_write(NULL, NULL, NULL, NULL, NULL), BRAID_EINVAL);
        CHECK_RC(braid_semaphore_acquire(&t, rt, NULL, 1, count_cb, c), BRAID_EINVAL);
        CHECK_RC(braid_semaphore_acquire(&t, NULL, sem, 1, count_cb, c), BRAID_EINVAL);
        CHECK_RC(braid_semaphore_acquire(&t, rt, sem, 1, NULL, c), BRAID_EINVAL);
        CHECK_RC(braid_semaphore_acquire(&t, rt, sem, (size_t)BRAID_SEMAPHORE_MAX_PERMITS + 1, count_cb, c),
                 BRAID_ERANGE);
        CHECK(t == NULL, "braid_semaphore_acquire refused left *out set");
        CHECK_RC(braid_notify_notified(&t, rt, NULL, count_cb, c), BRAID_EINVAL);
        CHECK_RC(braid_notify_notified(NULL, NULL, NULL, NULL, NULL), BRAID_EINVAL);
        CHECK_RC(braid_barrier_wait(&t, rt, NULL, count_cb, c), BRAID_EINVAL);
        CHECK_RC(braid_barrier_wait(NULL, NULL, NULL, NULL, NULL), BRAID_EINVAL);
        CHECK_RC(braid_once_cell_init(&t, rt, NULL, count_cb, c), BRAID_EINVAL);
        CHECK_RC(braid_once_cell_init(NULL, NULL, NULL, NULL, NULL), BRAID_EINVAL);
        CHECK_RC(braid_mpsc_send(&t, rt, NULL, &v, sizeof v, count_cb, c), BRAID_EINVAL);
        CHECK_RC(braid_mpsc_send(&t, rt, mtx, NULL, sizeof v, count_cb, c), BRAID_EINVAL);
        CHECK_RC(braid_mpsc_send(&t, rt, mtx, &v, sizeof v + 1, count_cb, c), BRAID_EINVAL);
        CHECK_RC(braid_mpsc_send(&t, NULL, mtx, &v, sizeof v, count_cb, c), BRAID_EINVAL);
        CHECK_RC(braid_mpsc_send(&t, rt, mtx, &v, sizeof v, NULL, c), BRAID_EINVAL);
        CHECK_RC(braid_mpsc_recv(&t, rt, NULL, &v, sizeof v, count_cb, c), BRAID_EINVAL);
        CHECK_RC(braid_mpsc_recv(&t, rt, mrx, NULL, sizeof v, count_cb, c), BRAID_EINVAL);
        CHECK_RC(braid_mpsc_recv(&t, rt, mrx, &v, 1, count_cb, c), BRAID_EINVAL);
        CHECK_RC(braid_mpsc_recv(&t, NULL, mrx, &v, sizeof v, count_cb, c), BRAID_EINVAL);
        CHECK_RC(braid_mpsc_recv(&t, rt, mrx, &v, sizeof v, NULL, c), BRAID_EINVAL);
        CHECK_RC(braid_broadcast_recv(&t, rt, NULL, &v, sizeof v, &lagged, count_cb, c), BRAID_EINVAL);
        CHECK_RC(braid_broadcast_recv(NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL), BRAID_EINVAL);
        CHECK_RC(braid_watch_rx_changed(&t, rt, NULL, count_cb, c), BRAID_EINVAL);
        CHECK_RC(braid_watch_rx_changed(NULL, NULL, NULL, NULL, NULL), BRAID_EINVAL);
        CHECK_RC(braid_oneshot_recv(&t, rt, NULL, &v, sizeof v, count_cb, c), BRAID_EINVAL);
        CHECK_RC(braid_oneshot_recv(NULL, NULL, NULL, NULL, 0, NULL, NULL), BRAID_EINVAL);
        CHECK_RC(braid_join_set_next(&t, rt, NULL, &jt, NULL, count_cb, c), BRAID_EINVAL);
        CHECK_RC(braid_join_set_next(NULL, NULL, NULL, NULL, NULL, NULL, NULL), BRAID_EINVAL);
        {
            braid_join_set *js = NULL;
            CHECK_RC(braid_join_set_new(&js), BRAID_OK);
            CHECK_RC(braid_join_set_next(&t, rt, js, NULL, NULL, count_cb, c), BRAID_EINVAL);
            braid_join_set_free(js);
        }
        CHECK(t == NULL, "a refused callback wait left *out set");
        /* nothing was taken: the primitives are as they were */
        CHECK_RC(braid_mutex_try_lock(m), BRAID_OK);
        CHECK_RC(braid_mutex_unlock(m), BRAID_OK);
        CHECK_RC(braid_semaphore_try_acquire(sem, 1), BRAID_OK);
        CHECK_RC(braid_semaphore_release(sem, 1), BRAID_OK);
        CHECK_RC(braid_mpsc_try_recv(mrx, &v, sizeof v), BRAID_EAGAIN);
        braid_mpsc_tx_free(mtx);
        braid_mpsc_rx_free(mrx);
        braid_semaphore_free(sem);
        braid_mutex_free(m);
    }
    braid_timer *tm = NULL;
    CHECK_RC(braid_timer_new(NULL, rt, 0), BRAID_EINVAL);
    CHECK_RC(braid_timer_new(&tm, NULL, 0), BRAID_EINVAL); /* no current rt */
    CHECK_RC(braid_timer_poll_elapsed(NULL, noop_wake, NULL), BRAID_EINVAL);
    CHECK_RC(braid_timer_poll_elapsed(NULL, NULL, NULL), BRAID_EINVAL);
    CHECK_RC(braid_timer_poll_unconstrained(NULL, noop_wake, NULL), BRAID_EINVAL);
    {
        /* unregister (braid/waiter.h): a NULL handle, slot or waiter is a no-op */
        braid_waiter *w = NULL;
        braid_semaphore_unregister_acquire(NULL, &w);
        braid_mutex_unregister_lock(NULL, &w);
        braid_rwlock_unregister_read(NULL, &w);
        braid_rwlock_unregister_write(NULL, &w);
        braid_notify_unregister_notified(NULL, &w);
        braid_barrier_unregister_wait(NULL, &w);
        braid_once_cell_unregister_init(NULL, &w);
        braid_mpsc_unregister_send(NULL, &w);
        braid_mpsc_unregister_reserve(NULL, &w);
        braid_mpsc_tx_unregister_closed(NULL, &w);
        braid_watch_tx_unregister_closed(NULL, &w);
        braid_watch_rx_unregister_changed(NULL, &w);
        braid_broadcast_unregister_recv(NULL, &w);
        braid_token_unregister_wait(NULL, &w);
        braid_notify *n = NULL;
        if (braid_notify_new(&n) == BRAID_OK) {
            braid_notify_unregister_notified(n, NULL);
            braid_notify_unregister_notified(n, &w); /* *w == NULL */
            braid_notify_free(n);
        }
    }
    CHECK_RC(braid_timer_reset(NULL, 0), BRAID_EINVAL);
    (void)braid_timer_deadline(NULL); /* int64_t result: must not crash */
    braid_timer_free(NULL);
    braid_interval *iv = NULL;
    CHECK_RC(braid_interval_new(NULL, rt, 0, 1000000, BRAID_MISSED_TICK_BURST), BRAID_EINVAL);
    CHECK_RC(braid_interval_new(&iv, NULL, 0, 1000000, BRAID_MISSED_TICK_BURST), BRAID_EINVAL);
    CHECK_RC(braid_interval_new(&iv, rt, 0, 1000000, 7), BRAID_EINVAL);
    CHECK_RC(braid_interval_poll_tick(NULL, noop_wake, NULL, NULL), BRAID_EINVAL);
    CHECK_RC(braid_interval_set_missed_tick_behavior(NULL, BRAID_MISSED_TICK_SKIP), BRAID_EINVAL);
    CHECK_RC(braid_interval_reset(NULL), BRAID_EINVAL);
    (void)braid_interval_period(NULL); /* int64_t result: must not crash */
    braid_interval_free(NULL);
    CHECK_RC(braid_interval_start(NULL, rt, 1, BRAID_MISSED_TICK_BURST, count_cb, c), BRAID_EINVAL);
    CHECK_RC(braid_interval_start(&t, NULL, 1, BRAID_MISSED_TICK_BURST, count_cb, c), BRAID_EINVAL);
    CHECK_RC(braid_interval_start(&t, rt, 1, BRAID_MISSED_TICK_BURST, NULL, c), BRAID_EINVAL);
    CHECK_RC(braid_interval_start(&t, rt, 1, 9, count_cb, c), BRAID_EINVAL);

    /* fd */
    braid_fd *f = NULL;
    int ready = 0;
    CHECK_RC(braid_fd_new(NULL, rt, 0), BRAID_EINVAL);
    CHECK_RC(braid_fd_new(&f, NULL, 0), BRAID_EINVAL); /* no current rt */
    CHECK_RC(braid_fd_poll_ready(NULL, BRAID_READABLE, noop_wake, NULL, &ready), BRAID_EINVAL);
    CHECK_RC(braid_fd_poll_ready(NULL, BRAID_READABLE, NULL, NULL, NULL), BRAID_EINVAL);
    CHECK_RC(braid_fd_clear_ready(NULL, BRAID_READABLE), BRAID_EINVAL);
    CHECK_RC(braid_fd_get(NULL), BRAID_EINVAL);
    braid_fd_free(NULL);
    CHECK_RC(braid_fd_wait(&t, NULL, 0, BRAID_READABLE, fd_count_cb, c), BRAID_EINVAL);
    CHECK_RC(braid_fd_wait(&t, rt, 0, BRAID_READABLE, NULL, c), BRAID_EINVAL);
    CHECK_RC(braid_fd_wait(&t, rt, 0, 0, fd_count_cb, c), BRAID_EINVAL);
    CHECK_RC(braid_fd_wait(&t, rt, 0, 8, fd_count_cb, c), BRAID_EINVAL);
    {
        int rc = braid_fd_wait(&t, rt, -1, BRAID_READABLE, fd_count_cb, c);
        CHECK(rc == BRAID_EINVAL || rc == BRAID_EBADF, "braid_fd_wait(fd -1) is neither EINVAL nor EBADF");
        rc = braid_fd_new(&f, rt, -1);
        CHECK(rc == BRAID_EINVAL || rc == BRAID_EBADF, "braid_fd_new(fd -1) is neither EINVAL nor EBADF");
        if (rc == BRAID_OK) braid_fd_free(f);
    }
    {
        /* a regular file cannot be watched: EBADF, and no callback */
        char path[] = "/tmp/braid_abi_bad_input_XXXXXX";
        int fd = mkstemp(path);
        if (fd >= 0) {
            unlink(path);
            CHECK_RC(braid_fd_wait(&t, rt, fd, BRAID_READABLE, fd_count_cb, c), BRAID_EBADF);
            f = NULL;
            CHECK_RC(braid_fd_new(&f, rt, fd), BRAID_EBADF);
            if (f) braid_fd_free(f);
            close(fd);
        }
    }

    /* oneshot channels */
    {
        braid_oneshot_tx *tx = NULL;
        braid_oneshot_rx *rx = NULL;
        int v = 7;
        CHECK_RC(braid_oneshot_new(NULL, &rx, sizeof v, sizeof v, NULL, NULL), BRAID_EINVAL);
        CHECK_RC(braid_oneshot_new(&tx, NULL, sizeof v, sizeof v, NULL, NULL), BRAID_EINVAL);
        CHECK_RC(braid_oneshot_new(&tx, &rx, sizeof v, 3, NULL, NULL), BRAID_EINVAL); /* not a power of two */
        CHECK_RC(braid_oneshot_new(&tx, &rx, sizeof v, 8192, NULL, NULL), BRAID_EINVAL);
        CHECK_RC(braid_oneshot_new(&tx, &rx, ((size_t)1 << 20) + 1, 8, NULL, NULL), BRAID_EINVAL);
        CHECK_RC(braid_oneshot_send(NULL, &v, sizeof v), BRAID_EINVAL);
        braid_oneshot_tx_free(NULL);
        CHECK_RC(braid_oneshot_tx_poll_closed(NULL, noop_wake, NULL), BRAID_EINVAL);
        CHECK_RC(braid_oneshot_tx_poll_closed(NULL, NULL, NULL), BRAID_EINVAL);
        CHECK_RC(braid_oneshot_tx_is_closed(NULL), BRAID_EINVAL);
        CHECK_RC(braid_oneshot_poll_recv(NULL, noop_wake, NULL, &v, sizeof v), BRAID_EINVAL);
        CHECK_RC(braid_oneshot_poll_recv(NULL, NULL, NULL, &v, sizeof v), BRAID_EINVAL);
        CHECK_RC(braid_oneshot_recv_unregister(NULL), BRAID_EINVAL);
        CHECK_RC(braid_oneshot_recv_blocking(NULL, &v, sizeof v, BRAID_WAIT_FOREVER), BRAID_EINVAL);
        CHECK_RC(braid_oneshot_rx_close(NULL), BRAID_EINVAL);
        braid_oneshot_rx_free(NULL);

        tx = NULL;
        rx = NULL;
        CHECK_RC(braid_oneshot_new(&tx, &rx, sizeof v, sizeof v, NULL, NULL), BRAID_OK);
        if (tx && rx) {
            int got = 0;
            CHECK_RC(braid_oneshot_recv_blocking(rx, &got, sizeof got, 0), BRAID_ETIMEDOUT); /* one attempt */
            CHECK_RC(braid_oneshot_recv_blocking(rx, &got, sizeof got, 1), BRAID_ETIMEDOUT);
            CHECK_RC(braid_oneshot_recv_blocking(rx, NULL, sizeof got, 1), BRAID_EINVAL);
            CHECK_RC(braid_oneshot_poll_recv(rx, noop_wake, NULL, &got, sizeof got + 1), BRAID_EINVAL);
            CHECK_RC(braid_oneshot_try_recv(rx, &got, sizeof got + 1), BRAID_EINVAL);
            CHECK_RC(braid_oneshot_send(tx, &v, sizeof v + 1), BRAID_EINVAL); /* the sender is still ours */
            CHECK_RC(braid_oneshot_send(tx, NULL, sizeof v), BRAID_EINVAL);
            CHECK_RC(braid_oneshot_send(tx, &v, sizeof v), BRAID_OK);           /* consumes tx */
            CHECK_RC(braid_oneshot_recv_blocking(rx, &got, sizeof got, 1000), BRAID_OK);
            CHECK(got == 7, "braid_oneshot: the received value is not the one sent");
            CHECK_RC(braid_oneshot_try_recv(rx, &got, sizeof got), BRAID_ECLOSED);
            CHECK_RC(braid_oneshot_rx_close(rx), BRAID_OK); /* after the value: harmless */
            CHECK_RC(braid_oneshot_poll_recv(rx, NULL, NULL, NULL, 0), BRAID_PENDING); /* a NULL waker withdraws */
            braid_oneshot_rx_free(rx);
        }
    }

    /* g_refused is checked once the runtime is freed (main) */

    /* a future task that is never started: release runs, cancel does not */
    {
        lifecycle lc;
        atomic_init(&lc.polls, 0);
        atomic_init(&lc.cancels, 0);
        atomic_init(&lc.releases, 0);
        braid_task *nt = NULL;
        void *st = NULL;
        CHECK_RC(braid_task_new(&nt, &st, rt, sizeof(lifecycle *), lc_poll_done, lc_cancel, lc_release), BRAID_OK);
        if (nt) {
            *(lifecycle **)st = &lc;
            braid_task_free(nt);
            CHECK(atomic_load(&lc.polls) == 0, "a never-started task was polled");
            CHECK(atomic_load(&lc.cancels) == 0, "a never-started task's cancel ran");
            CHECK(atomic_load(&lc.releases) == 1, "a never-started task's release did not run exactly once");
        }
        /* made in a block of ours (braid_task_new_in): polled, released,
         * and the block freed by the runtime (ASan: no leak, no double free) */
        {
            static const braid_task_vtable lc_vt = {lc_poll_done, lc_cancel, lc_release, NULL, NULL};
            const size_t size = BRAID_TASK_HEADER_SIZE + sizeof(lifecycle *);
            void *blk = braid_alloc(size);
            CHECK(blk != NULL, "braid_alloc returned NULL");
            *(lifecycle **)((char *)blk + BRAID_TASK_HEADER_SIZE) = &lc;
            nt = NULL;
            CHECK_RC(braid_task_new_in(&nt, rt, blk, size, &lc_vt), BRAID_OK);
            if (nt) {
                CHECK_RC(braid_task_start(nt), BRAID_OK);
                CHECK_RC(braid_task_join_blocking(nt, 5000), BRAID_OK);
                braid_task_free(nt);
                CHECK(atomic_load(&lc.polls) == 1, "a task in a caller's block was not polled once");
                CHECK(wait_releases(&lc, 2, 5000) == 2, "a task in a caller's block was not released");
                atomic_store(&lc.polls, 0);
                atomic_store(&lc.releases, 1);
            }
        }
        /* started twice: EBUSY */
        nt = NULL;
        CHECK_RC(braid_task_new(&nt, &st, rt, sizeof(lifecycle *), lc_poll_done, lc_cancel, lc_release), BRAID_OK);
        if (nt) {
            *(lifecycle **)st = &lc;
            CHECK_RC(braid_task_start(nt), BRAID_OK);
            CHECK_RC(braid_task_start(nt), BRAID_EBUSY);
            CHECK_RC(braid_task_start_blocking(nt), BRAID_EBUSY);
            CHECK_RC(braid_task_join_blocking(nt, 5000), BRAID_OK);
            braid_task_free(nt);
            CHECK(atomic_load(&lc.polls) == 1, "a started task was not polled exactly once");
            CHECK(wait_releases(&lc, 2, 5000) == 2, "release did not run once per task");
        }
        /* a blocking poll that returns PENDING finishes with EINVAL */
        nt = NULL;
        CHECK_RC(braid_task_new(&nt, &st, rt, sizeof(lifecycle *), lc_poll_pending, lc_cancel, lc_release), BRAID_OK);
        if (nt) {
            *(lifecycle **)st = &lc;
            CHECK_RC(braid_task_start_blocking(nt), BRAID_OK);
            CHECK_RC(braid_task_join_blocking(nt, 5000), BRAID_EINVAL);
            braid_task_free(nt);
        }
    }
}

/* ---- 3. negative durations ---------------------------------------------------------- */

static void test_negative_durations(braid_runtime *rt) {
    section("negative durations");
    counter *const c = &g_refused;
    braid_task *t = NULL;

    CHECK_RC(braid_sleep(&t, rt, -1, count_cb, c), BRAID_EINVAL);
    CHECK_RC(braid_sleep(&t, rt, INT64_MIN, count_cb, c), BRAID_EINVAL);
    CHECK_RC(braid_sleep(NULL, rt, -1000, count_cb, c), BRAID_EINVAL);
    CHECK_RC(braid_interval_start(&t, rt, -1, BRAID_MISSED_TICK_BURST, count_cb, c), BRAID_EINVAL);
    CHECK_RC(braid_interval_start(&t, rt, 0, BRAID_MISSED_TICK_BURST, count_cb, c), BRAID_EINVAL);

    braid_interval *iv = NULL;
    CHECK_RC(braid_interval_new(&iv, rt, 0, -1, BRAID_MISSED_TICK_BURST), BRAID_EINVAL);
    CHECK_RC(braid_interval_new(&iv, rt, 0, 0, BRAID_MISSED_TICK_BURST), BRAID_EINVAL);

    braid_runtime_builder *b = NULL;
    CHECK_RC(braid_runtime_builder_new(&b), BRAID_OK);
    CHECK_RC(braid_runtime_builder_blocking_keep_alive_ms(b, -1), BRAID_EINVAL);
    CHECK_RC(braid_runtime_builder_blocking_keep_alive_ms(b, 0), BRAID_OK);

    /* advance: only on paused runtimes, only forward */
    CHECK_RC(braid_runtime_builder_worker_threads(b, 1), BRAID_OK);
    CHECK_RC(braid_runtime_builder_start_paused(b, 1), BRAID_OK);
    braid_runtime *paused = NULL;
    CHECK_RC(braid_runtime_build(&paused, b), BRAID_OK);
    braid_runtime_builder_free(b);
    if (paused) {
        CHECK_RC(braid_runtime_advance(paused, -1), BRAID_EINVAL);
        CHECK_RC(braid_runtime_advance(paused, INT64_MIN), BRAID_EINVAL);
        CHECK_RC(braid_runtime_advance(paused, 0), BRAID_OK);
        CHECK_RC(braid_runtime_free(paused), BRAID_OK);
    }

    /* join_blocking: any negative timeout waits without limit (BRAID_WAIT_FOREVER) */
    braid_task *s = NULL;
    counter ok;
    counter_init(&ok, rt);
    CHECK_RC(braid_sleep(&s, rt, 1, count_cb, &ok), BRAID_OK);
    if (s) {
        CHECK_RC(braid_task_join_blocking(s, INT64_MIN), BRAID_OK);
        braid_task_free(s);
    }

    /* joined: the callback has run, and no other can come */
    CHECK(atomic_load(&ok.calls) == 1, "a 1 ms sleep did not call back exactly once");
    CHECK_RC(atomic_load(&ok.status), BRAID_OK);
    /* g_refused is checked once the runtime is freed (main) */
}

/* ---- 4. shutdown refuses new work ---------------------------------------------------- */

static void test_shutdown_refuses(void) {
    section("spawning after braid_runtime_shutdown gives ESHUTDOWN");
    braid_runtime *rt = make_runtime(2);
    counter c;
    counter_init(&c, NULL);
    braid_handle *h = NULL;
    CHECK_RC(braid_runtime_handle(&h, rt), BRAID_OK);

    /* a task that finished before the shutdown */
    braid_task *done = NULL;
    CHECK_RC(braid_spawn(&done, rt, noop_fn, NULL), BRAID_OK);
    if (done) CHECK_RC(braid_task_join_blocking(done, 5000), BRAID_OK);
    /* a future task created before the shutdown, started after it */
    lifecycle lc;
    atomic_init(&lc.polls, 0);
    atomic_init(&lc.cancels, 0);
    atomic_init(&lc.releases, 0);
    braid_task *fresh = NULL;
    void *st = NULL;
    CHECK_RC(braid_task_new(&fresh, &st, rt, sizeof(lifecycle *), lc_poll_done, lc_cancel, lc_release), BRAID_OK);
    if (fresh) *(lifecycle **)st = &lc;

    CHECK_RC(braid_runtime_shutdown(rt, 5000), BRAID_OK);

    braid_task *t = (braid_task *)&c; /* garbage on purpose: must come back NULL or be ignored */
    void *state = NULL;
    int pipefd[2] = {-1, -1};
    CHECK(pipe(pipefd) == 0, "pipe()");
    CHECK_RC(braid_spawn(&t, rt, noop_fn, NULL), BRAID_ESHUTDOWN);
    CHECK_RC(braid_spawn(NULL, rt, noop_fn, NULL), BRAID_ESHUTDOWN);
    CHECK_RC(braid_spawn_blocking(&t, rt, noop_fn, NULL), BRAID_ESHUTDOWN);
    CHECK_RC(braid_handle_spawn(&t, h, noop_fn, NULL), BRAID_ESHUTDOWN);
    CHECK_RC(braid_handle_spawn_blocking(&t, h, noop_fn, NULL), BRAID_ESHUTDOWN);
    CHECK_RC(braid_task_new(&t, &state, rt, 16, poll_pending, NULL, NULL), BRAID_ESHUTDOWN);
    CHECK_RC(braid_handle_task_new(&t, &state, h, 16, poll_pending, NULL, NULL), BRAID_ESHUTDOWN);
    CHECK_RC(braid_sleep(&t, rt, 1, count_cb, &c), BRAID_ESHUTDOWN);
    CHECK_RC(braid_sleep(NULL, rt, 0, count_cb, &c), BRAID_ESHUTDOWN);
    CHECK_RC(braid_sleep_until(&t, rt, 0, count_cb, &c), BRAID_ESHUTDOWN);
    CHECK_RC(braid_interval_start(&t, rt, 1, BRAID_MISSED_TICK_BURST, count_cb, &c), BRAID_ESHUTDOWN);
    if (pipefd[0] >= 0) CHECK_RC(braid_fd_wait(&t, rt, pipefd[0], BRAID_READABLE, fd_count_cb, &c), BRAID_ESHUTDOWN);
    if (done) {
        CHECK_RC(braid_task_join(done, count_cb, &c), BRAID_ESHUTDOWN);
        CHECK_RC(braid_task_try_join(done), BRAID_OK); /* the final status stays readable */
        CHECK_RC(braid_task_is_finished(done), 1);
    }
    if (fresh) {
        CHECK_RC(braid_task_start(fresh), BRAID_ESHUTDOWN);
        CHECK_RC(braid_task_join_blocking(fresh, 1000), BRAID_ESHUTDOWN);
        braid_task_free(fresh);
        CHECK(atomic_load(&lc.polls) == 0, "a task refused at start was polled");
        CHECK(atomic_load(&lc.cancels) == 0, "a task refused at start had its cancel run");
        CHECK(atomic_load(&lc.releases) == 1, "a task refused at start was not released exactly once");
    }
    CHECK_RC(braid_runtime_shutdown(rt, 0), BRAID_OK); /* idempotent */
    CHECK_RC(braid_runtime_free(rt), BRAID_OK);
    /* the runtime's threads are joined: no callback can come any more */
    CHECK(atomic_load(&c.calls) == 0, "a call that returned ESHUTDOWN invoked its callback");

    /* a handle on a task that never ran: finished, cancelled, bound to no runtime */
    braid_task *cancelled = NULL;
    CHECK_RC(braid_task_new_cancelled(&cancelled), BRAID_OK);
    if (cancelled) {
        CHECK_RC(braid_task_is_finished(cancelled), 1);
        CHECK_RC(braid_task_try_join(cancelled), BRAID_ECANCELED);
        CHECK_RC(braid_task_poll_join(cancelled, noop_wake, NULL), BRAID_ECANCELED);
        CHECK_RC(braid_task_join_blocking(cancelled, 1000), BRAID_ECANCELED);
        CHECK_RC(braid_task_start(cancelled), BRAID_EBUSY);
        CHECK_RC(braid_task_start_blocking(cancelled), BRAID_EBUSY);
        CHECK_RC(braid_task_join(cancelled, count_cb, &c), BRAID_ESHUTDOWN);
        CHECK_RC(braid_task_abort(cancelled), BRAID_OK);
        CHECK_RC(braid_task_set_timeout(cancelled, 10), BRAID_OK);
        CHECK_RC(braid_task_set_deadline(cancelled, 0), BRAID_OK);
        CHECK(braid_task_id(cancelled) != 0, "a cancelled handle has no id");
        braid_task_free(cancelled);
    }

    /* the handle outlives the runtime */
    CHECK_RC(braid_handle_spawn(&t, h, noop_fn, NULL), BRAID_ESHUTDOWN);
    CHECK_RC(braid_handle_spawn_blocking(NULL, h, noop_fn, NULL), BRAID_ESHUTDOWN);
    braid_handle *h2 = NULL;
    CHECK_RC(braid_handle_clone(&h2, h), BRAID_OK);
    if (h2) CHECK_RC(braid_handle_spawn(NULL, h2, noop_fn, NULL), BRAID_ESHUTDOWN);
    braid_handle_free(h2);
    braid_handle_free(h);
    if (done) braid_task_free(done);
    if (pipefd[0] >= 0) {
        close(pipefd[0]);
        close(pipefd[1]);
    }
}

/* ---- 5. EDEADLK on the runtime's own threads ----------------------------------------- */

typedef struct deadlk_probe {
    braid_runtime *rt;
    braid_task *other;       /* a task still pending while the probe runs */
    atomic_int ran;
    atomic_int on_rt;        /* braid_runtime_current() == rt */
    braid_oneshot_rx *rx;    /* a channel with nothing in it */
    atomic_int joining;      /* the blocking probe is about to join `other` */
    atomic_int join0, join10, block_on, shutdown, free_rc, recv0, recv10;
} deadlk_probe;

static void probe_init(deadlk_probe *p, braid_runtime *rt, braid_task *other) {
    p->rt = rt;
    p->other = other;
    atomic_init(&p->ran, 0);
    atomic_init(&p->on_rt, 0);
    atomic_init(&p->joining, 0);
    atomic_init(&p->join0, 12345);
    atomic_init(&p->join10, 12345);
    atomic_init(&p->block_on, 12345);
    atomic_init(&p->shutdown, 12345);
    atomic_init(&p->free_rc, 12345);
    atomic_init(&p->recv0, 12345);
    atomic_init(&p->recv10, 12345);
    p->rx = NULL;
}

/* On a worker: every blocking call must refuse with EDEADLK. */
static void probe_worker(void *arg) {
    deadlk_probe *p = (deadlk_probe *)arg;
    atomic_store(&p->on_rt, braid_runtime_current() == p->rt);
    atomic_store(&p->join0, braid_task_join_blocking(p->other, BRAID_WAIT_FOREVER));
    atomic_store(&p->join10, braid_task_join_blocking(p->other, 10));
    atomic_store(&p->block_on, braid_runtime_block_on(p->rt, p->other));
    atomic_store(&p->shutdown, braid_runtime_shutdown(p->rt, 0));
    atomic_store(&p->free_rc, braid_runtime_free(p->rt));
    if (p->rx) {
        int v = 0;
        atomic_store(&p->recv0, braid_oneshot_recv_blocking(p->rx, &v, sizeof v, BRAID_WAIT_FOREVER));
        atomic_store(&p->recv10, braid_oneshot_recv_blocking(p->rx, &v, sizeof v, 10));
    }
    atomic_store(&p->ran, 1);
}

/* On a blocking thread: shutdown/free still refuse (own thread), but
 * join_blocking is allowed (blocking threads may block). */
static void probe_blocking(void *arg) {
    deadlk_probe *p = (deadlk_probe *)arg;
    atomic_store(&p->on_rt, braid_runtime_current() == p->rt);
    atomic_store(&p->shutdown, braid_runtime_shutdown(p->rt, 0));
    atomic_store(&p->free_rc, braid_runtime_free(p->rt));
    atomic_store(&p->block_on, braid_runtime_block_on(p->rt, p->other));
    atomic_store(&p->joining, 1);
    atomic_store(&p->join0, braid_task_join_blocking(p->other, BRAID_WAIT_FOREVER));
    atomic_store(&p->ran, 1);
}

/* In a completion callback (it runs on a worker). */
typedef struct cb_probe {
    braid_runtime *rt;
    atomic_int calls, status, free_rc, shutdown;
} cb_probe;
static void probe_cb(void *user_data, int status) {
    cb_probe *p = (cb_probe *)user_data;
    atomic_store(&p->free_rc, braid_runtime_free(p->rt));
    atomic_store(&p->shutdown, braid_runtime_shutdown(p->rt, 0));
    atomic_store(&p->status, status);
    atomic_fetch_add(&p->calls, 1);
}

static void test_deadlk(void) {
    section("EDEADLK: blocking calls on the runtime's own threads");
    braid_runtime *rt = make_runtime(2);
    counter pending, quick;
    counter_init(&pending, rt);
    counter_init(&quick, rt);
    /* `other` stays pending until its gate opens (in the blocking-pool part) */
    gate g;
    gate_init(&g);
    braid_task *other = NULL;
    CHECK_RC(braid_fd_wait(&other, rt, g.fd[0], BRAID_READABLE, fd_count_cb, &pending), BRAID_OK);
    if (!other) {
        braid_runtime_free(rt);
        gate_close(&g);
        return;
    }

    deadlk_probe w;
    probe_init(&w, rt, other);
    braid_oneshot_tx *tx = NULL;
    CHECK_RC(braid_oneshot_new(&tx, &w.rx, sizeof(int), sizeof(int), NULL, NULL), BRAID_OK);
    braid_task *a = NULL;
    CHECK_RC(braid_spawn(&a, rt, probe_worker, &w), BRAID_OK);
    if (a) {
        CHECK_RC(braid_task_join_blocking(a, 10000), BRAID_OK);
        braid_task_free(a);
    }
    CHECK(atomic_load(&w.ran) == 1, "the worker probe did not run");
    CHECK_RC(braid_task_is_finished(other), 0); /* it was pending all along */
    CHECK(atomic_load(&w.on_rt) == 1, "braid_runtime_current() on a worker is not the runtime");
    CHECK_RC(atomic_load(&w.join0), BRAID_EDEADLK);
    CHECK_RC(atomic_load(&w.join10), BRAID_EDEADLK);
    CHECK_RC(atomic_load(&w.block_on), BRAID_EDEADLK);
    CHECK_RC(atomic_load(&w.shutdown), BRAID_EDEADLK);
    CHECK_RC(atomic_load(&w.free_rc), BRAID_EDEADLK);
    if (w.rx) {
        CHECK_RC(atomic_load(&w.recv0), BRAID_EDEADLK);
        CHECK_RC(atomic_load(&w.recv10), BRAID_EDEADLK);
        int v = 5, got = 0; /* the channel is intact */
        if (tx) CHECK_RC(braid_oneshot_send(tx, &v, sizeof v), BRAID_OK);
        CHECK_RC(braid_oneshot_recv_blocking(w.rx, &got, sizeof got, 1000), BRAID_OK);
        CHECK(got == 5, "oneshot after a refused recv_blocking: wrong value");
        braid_oneshot_rx_free(w.rx);
    }

    /* the runtime is still usable */
    section("EDEADLK: the runtime is usable after a refused free");
    braid_task *b = NULL;
    CHECK_RC(braid_spawn(&b, rt, noop_fn, NULL), BRAID_OK);
    if (b) {
        CHECK_RC(braid_task_join_blocking(b, 10000), BRAID_OK);
        braid_task_free(b);
    }
    CHECK_RC(braid_sleep(NULL, rt, 1, count_cb, &quick), BRAID_OK); /* detached: counted after the free */
    CHECK(wait_calls(&quick, 1, 10000) >= 1, "a sleep after the refused free did not call back");
    CHECK_RC(atomic_load(&quick.status), BRAID_OK);

    section("EDEADLK: blocking-pool thread");
    deadlk_probe bp;
    probe_init(&bp, rt, other);
    braid_task *bt = NULL;
    CHECK_RC(braid_spawn_blocking(&bt, rt, probe_blocking, &bp), BRAID_OK);
    if (bt) {
        /* let `other` finish once the probe is (about to be) blocked on it */
        const int64_t t0 = braid_now(NULL);
        while (!atomic_load(&bp.joining) && braid_now(NULL) - t0 < 10000000000LL) sched_yield();
        CHECK_RC(braid_task_is_finished(other), 0);
        gate_open(&g);
        CHECK_RC(braid_task_join_blocking(bt, 10000), BRAID_OK);
        braid_task_free(bt);
    } else {
        gate_open(&g);
    }
    CHECK(atomic_load(&bp.ran) == 1, "the blocking probe did not run");
    CHECK(atomic_load(&bp.on_rt) == 1, "braid_runtime_current() on a blocking thread is not the runtime");
    CHECK_RC(atomic_load(&bp.shutdown), BRAID_EDEADLK);
    CHECK_RC(atomic_load(&bp.free_rc), BRAID_EDEADLK);
    CHECK_RC(atomic_load(&bp.join0), BRAID_OK); /* a blocking thread may block (until the gate opened) */
    {
        int rc = atomic_load(&bp.block_on);
        /* block_on documents EDEADLK for "a runtime worker thread"; a blocking
         * thread may either wait (OK: `other` finished) or refuse. */
        CHECK(rc == BRAID_OK || rc == BRAID_EDEADLK, "braid_runtime_block_on on a blocking thread");
    }

    section("EDEADLK: inside a completion callback");
    cb_probe cp;
    cp.rt = rt;
    atomic_init(&cp.calls, 0);
    atomic_init(&cp.status, 12345);
    atomic_init(&cp.free_rc, 12345);
    atomic_init(&cp.shutdown, 12345);
    braid_task *s = NULL;
    CHECK_RC(braid_sleep(&s, rt, 1, probe_cb, &cp), BRAID_OK);
    if (s) {
        CHECK_RC(braid_task_join_blocking(s, 10000), BRAID_OK);
        braid_task_free(s);
    }
    CHECK(atomic_load(&cp.calls) == 1, "the sleep callback did not run exactly once");
    CHECK_RC(atomic_load(&cp.free_rc), BRAID_EDEADLK);
    CHECK_RC(atomic_load(&cp.shutdown), BRAID_EDEADLK);

    /* usable again, then freed from main */
    CHECK_RC(braid_task_join_blocking(other, 10000), BRAID_OK);
    braid_task_free(other);
    CHECK(atomic_load(&pending.calls) == 1, "the pending fd_wait did not call back exactly once");
    CHECK_RC(atomic_load(&pending.status), BRAID_OK);
    CHECK_RC(atomic_load(&pending.ready), BRAID_READABLE);
    CHECK(atomic_load(&pending.on_worker) == 1, "the fd_wait callback did not run on a runtime thread");
    CHECK_RC(braid_runtime_free(rt), BRAID_OK);
    CHECK(atomic_load(&quick.calls) == 1, "the detached sleep did not call back exactly once");
    gate_close(&g);
}

/* ---- 6. the callback contract ---------------------------------------------------------- */

/* Counters of the detached operations (and refused ones) below: counted
 * exactly once the runtime is freed; static, so that a late, wrong callback
 * cannot write into a dead stack frame. */
static counter cc_sleep[4], cc_detached, cc_fd_refused;

/* A runtime with ONE worker, so that fence() works (see there). */
static void test_callback_contract(void) {
    char msg[300];
    braid_runtime *rt = make_runtime(1);

    section("callback contract: successful sleeps call back once, with OK, on a worker");
    {
        for (int i = 0; i < 4; ++i) counter_init(&cc_sleep[i], rt);
        braid_task *h = NULL;
        int64_t t0 = braid_now(rt);
        CHECK_RC(braid_sleep(&h, rt, 5, count_cb, &cc_sleep[0]), BRAID_OK);
        CHECK_RC(braid_sleep(NULL, rt, 1, count_cb, &cc_sleep[1]), BRAID_OK);
        CHECK_RC(braid_sleep(NULL, rt, 0, count_cb, &cc_sleep[2]), BRAID_OK);
        CHECK_RC(braid_sleep_until(NULL, rt, 0, count_cb, &cc_sleep[3]), BRAID_OK); /* in the past: due at once */
        if (h) {
            CHECK_RC(braid_task_join_blocking(h, 10000), BRAID_OK);
            CHECK(braid_now(rt) - t0 >= 5000000, "a 5 ms sleep finished early");
            CHECK(atomic_load(&cc_sleep[0].calls) == 1, "the callback had not run (once) when the sleep's task finished");
            braid_task_free(h);
        }
        for (int i = 1; i < 4; ++i) wait_calls(&cc_sleep[i], 1, 10000);
        /* #1 was joined: final; #2..#4 are detached: counted again after the free */
        for (int i = 0; i < 4; ++i) {
            snprintf(msg, sizeof msg, "sleep #%d: %d callback(s) within 10 s, expected 1", i + 1,
                     atomic_load(&cc_sleep[i].calls));
            CHECK(atomic_load(&cc_sleep[i].calls) == 1, msg);
            CHECK_RC(atomic_load(&cc_sleep[i].status), BRAID_OK);
            snprintf(msg, sizeof msg, "sleep #%d: the callback did not run on a runtime thread", i + 1);
            CHECK(atomic_load(&cc_sleep[i].on_worker) == atomic_load(&cc_sleep[i].calls), msg);
        }
    }

    section("callback contract: braid_sleep aborted at once");
    {
        counter c;
        counter_init(&c, rt);
        braid_task *h = NULL;
        CHECK_RC(braid_sleep(&h, rt, 60000, count_cb, &c), BRAID_OK);
        if (h) {
            CHECK_RC(braid_task_abort(h), BRAID_OK);
            CHECK_RC(braid_task_abort(h), BRAID_OK); /* any number of times */
            CHECK_RC(braid_task_join_blocking(h, 10000), BRAID_ECANCELED);
            braid_task_free(h);
        }
        /* joined: the callback ran in the task's poll or cancel, and no other can come */
        snprintf(msg, sizeof msg, "aborted sleep: %d callback(s), expected 1", atomic_load(&c.calls));
        CHECK(atomic_load(&c.calls) == 1, msg);
        CHECK_RC(atomic_load(&c.status), BRAID_ECANCELED);
    }

    section("callback contract: braid_sleep aborted while pending");
    {
        counter c;
        counter_init(&c, rt);
        braid_task *h = NULL;
        CHECK_RC(braid_sleep(&h, rt, 60000, count_cb, &c), BRAID_OK);
        if (h) {
            fence(rt); /* polled by now: the timer is registered */
            CHECK_RC(braid_task_is_finished(h), 0);
            CHECK_RC(braid_task_try_join(h), BRAID_PENDING);
            CHECK(atomic_load(&c.calls) == 0, "a pending 60 s sleep called back");
            CHECK_RC(braid_task_abort(h), BRAID_OK);
            CHECK_RC(braid_task_join_blocking(h, 10000), BRAID_ECANCELED);
            CHECK_RC(braid_task_abort(h), BRAID_OK); /* finished: no effect */
            braid_task_free(h);
        }
        snprintf(msg, sizeof msg, "aborted pending sleep: %d callback(s), expected 1", atomic_load(&c.calls));
        CHECK(atomic_load(&c.calls) == 1, msg);
        CHECK_RC(atomic_load(&c.status), BRAID_ECANCELED);
    }

    section("callback contract: abort after the sleep finished changes nothing");
    {
        counter c;
        counter_init(&c, rt);
        braid_task *h = NULL;
        CHECK_RC(braid_sleep(&h, rt, 1, count_cb, &c), BRAID_OK);
        if (h) {
            CHECK_RC(braid_task_join_blocking(h, 10000), BRAID_OK);
            CHECK_RC(braid_task_abort(h), BRAID_OK);
            CHECK_RC(braid_task_try_join(h), BRAID_OK);
            CHECK_RC(braid_task_join_blocking(h, 10000), BRAID_OK);
            braid_task_free(h);
        }
        CHECK(atomic_load(&c.calls) == 1, "finished-then-aborted sleep: not exactly one callback");
        CHECK_RC(atomic_load(&c.status), BRAID_OK);
    }

    section("callback contract: braid_sleep handle freed (detached) still calls back once");
    {
        counter_init(&cc_detached, rt);
        braid_task *h = NULL;
        CHECK_RC(braid_sleep(&h, rt, 5, count_cb, &cc_detached), BRAID_OK);
        braid_task_free(h); /* does not cancel */
        CHECK(wait_calls(&cc_detached, 1, 10000) >= 1, "detached sleep: no callback within 10 s");
        CHECK_RC(atomic_load(&cc_detached.status), BRAID_OK); /* counted after the free */
    }

    section("callback contract: braid_interval_start, then abort");
    {
        counter c;
        counter_init(&c, rt);
        braid_task *h = NULL;
        CHECK_RC(braid_interval_start(&h, rt, 2, BRAID_MISSED_TICK_SKIP, count_cb, &c), BRAID_OK);
        if (h) {
            CHECK(wait_calls(&c, 3, 10000) >= 3, "interval: fewer than 3 ticks within 10 s");
            CHECK_RC(braid_task_abort(h), BRAID_OK);
            CHECK_RC(braid_task_join_blocking(h, 10000), BRAID_ECANCELED);
            braid_task_free(h);
        }
        /* joined: the ECANCELED callback ran in the task's cancel, no tick can follow */
        CHECK(atomic_load(&c.calls) >= 4, "interval: fewer than 3 ticks + the cancel");
        CHECK(atomic_load(&c.cancels) == 1, "interval: not exactly one ECANCELED callback");
        CHECK(atomic_load(&c.after_cancel) == 0, "interval: a callback came after ECANCELED");
        CHECK_RC(atomic_load(&c.status), BRAID_ECANCELED);
    }

    section("callback contract: braid_fd_wait");
    {
        gate p, q;
        gate_init(&p);
        gate_init(&q);
        counter ready, aborted;
        counter_init(&ready, rt);
        counter_init(&aborted, rt);
        braid_task *h = NULL, *h2 = NULL;
        CHECK_RC(braid_fd_wait(&h, rt, p.fd[0], BRAID_READABLE, fd_count_cb, &ready), BRAID_OK);
        CHECK_RC(braid_fd_wait(&h2, rt, q.fd[0], BRAID_READABLE, fd_count_cb, &aborted), BRAID_OK);
        fence(rt); /* both polled: waiting for readiness */
        if (h2) {
            CHECK_RC(braid_task_abort(h2), BRAID_OK);
            CHECK_RC(braid_task_join_blocking(h2, 10000), BRAID_ECANCELED);
            braid_task_free(h2);
        }
        CHECK(atomic_load(&ready.calls) == 0, "fd_wait called back before the fd was readable");
        if (h) CHECK_RC(braid_task_is_finished(h), 0);
        gate_open(&p);
        if (h) {
            CHECK_RC(braid_task_join_blocking(h, 10000), BRAID_OK);
            braid_task_free(h);
        }
        /* both joined: their callbacks ran, no other can come */
        CHECK(atomic_load(&ready.calls) == 1, "fd_wait: not exactly one callback once readable");
        snprintf(msg, sizeof msg, "fd_wait: the callback's status is %d and its bits %d, not BRAID_OK and readable",
                 atomic_load(&ready.status), atomic_load(&ready.ready));
        CHECK(atomic_load(&ready.status) == BRAID_OK && atomic_load(&ready.ready) == BRAID_READABLE, msg);
        CHECK(atomic_load(&aborted.calls) == 1, "aborted fd_wait: not exactly one callback");
        snprintf(msg, sizeof msg, "aborted fd_wait: the callback's status is %d, expected ECANCELED",
                 atomic_load(&aborted.status));
        CHECK(atomic_load(&aborted.status) == BRAID_ECANCELED, msg);
        CHECK(atomic_load(&aborted.ready) == 0, "aborted fd_wait: ready bits with a cancellation");
        gate_close(&p);
        gate_close(&q);
    }

    /* fd.h: "BRAID_EBUSY when the fd is registered with this runtime already
     * (one braid_fd per fd per runtime ...; a braid_fd_wait in progress
     * counts)".  The registration is checked when the call is made, so no
     * waiting is needed for the EBUSY; it is given back before the
     * operation's callback runs (braid_fd_wait) or when braid_fd_free returns. */
    section("braid_fd_wait / braid_fd_new: one registration per fd per runtime (EBUSY)");
    {
        gate p;
        gate_init(&p);
        counter first, again;
        counter_init(&first, rt);
        counter_init(&again, rt);
        counter_init(&cc_fd_refused, rt);
        braid_task *h1 = NULL, *h2 = (braid_task *)&first, *h3 = NULL;
        braid_fd *f = NULL, *f2 = (braid_fd *)&first;
        CHECK_RC(braid_fd_wait(&h1, rt, p.fd[0], BRAID_READABLE, fd_count_cb, &first), BRAID_OK);
        CHECK_RC(braid_fd_wait(&h2, rt, p.fd[0], BRAID_READABLE, fd_count_cb, &cc_fd_refused), BRAID_EBUSY);
        CHECK(h2 == NULL, "a refused braid_fd_wait left *out set");
        CHECK_RC(braid_fd_wait(&h3, rt, p.fd[0], BRAID_WRITABLE, fd_count_cb, &cc_fd_refused), BRAID_EBUSY);
        CHECK_RC(braid_fd_new(&f2, rt, p.fd[0]), BRAID_EBUSY);
        CHECK(f2 == NULL, "a refused braid_fd_new left *out set");
        fence(rt);
        snprintf(msg, sizeof msg,
                 "nothing was written to the pipe, yet the first fd_wait has %d callback(s) (status %d) after the "
                 "refused second registration",
                 atomic_load(&first.calls), atomic_load(&first.status));
        CHECK(atomic_load(&first.calls) == 0, msg);
        if (h1) {
            CHECK_RC(braid_task_abort(h1), BRAID_OK);
            CHECK_RC(braid_task_join_blocking(h1, 10000), BRAID_ECANCELED);
            braid_task_free(h1);
        }
        CHECK(atomic_load(&first.calls) == 1, "first fd_wait: not exactly one callback in all");
        CHECK_RC(atomic_load(&first.status), BRAID_ECANCELED);

        /* the wait finished (joined): the fd is free again */
        CHECK_RC(braid_fd_new(&f, rt, p.fd[0]), BRAID_OK);
        if (f) {
            CHECK_RC(braid_fd_new(&f2, rt, p.fd[0]), BRAID_EBUSY);
            CHECK_RC(braid_fd_wait(&h2, rt, p.fd[0], BRAID_READABLE, fd_count_cb, &cc_fd_refused), BRAID_EBUSY);
            /* "per runtime": another runtime may watch the same fd */
            braid_runtime *rt2 = make_runtime(1);
            braid_fd *g = NULL;
            CHECK_RC(braid_fd_new(&g, rt2, p.fd[0]), BRAID_OK);
            braid_fd_free(g);
            CHECK_RC(braid_runtime_free(rt2), BRAID_OK);
            braid_fd_free(f); /* gives the fd back when it returns */
        }
        CHECK_RC(braid_fd_wait(&h3, rt, p.fd[0], BRAID_READABLE, fd_count_cb, &again), BRAID_OK);
        gate_open(&p);
        if (h3) {
            CHECK_RC(braid_task_join_blocking(h3, 10000), BRAID_OK);
            braid_task_free(h3);
        }
        CHECK(atomic_load(&again.calls) == 1, "fd_wait after braid_fd_free: not exactly one callback");
        CHECK_RC(atomic_load(&again.status), BRAID_OK);
        CHECK_RC(atomic_load(&again.ready), BRAID_READABLE);
        gate_close(&p);
    }

    section("callback contract: braid_runtime_free of a runtime that is still usable");
    CHECK_RC(braid_runtime_free(rt), BRAID_OK);
    /* every thread of the runtime is joined: the counts are final */
    for (int i = 0; i < 4; ++i) {
        snprintf(msg, sizeof msg, "sleep #%d: %d callback(s) in all, expected 1", i + 1,
                 atomic_load(&cc_sleep[i].calls));
        CHECK(atomic_load(&cc_sleep[i].calls) == 1, msg);
    }
    CHECK(atomic_load(&cc_detached.calls) == 1, "detached sleep: not exactly one callback in all");
    snprintf(msg, sizeof msg, "refused braid_fd_wait calls (EBUSY): %d callback(s) in all, expected none",
             atomic_load(&cc_fd_refused.calls));
    CHECK(atomic_load(&cc_fd_refused.calls) == 0, msg);
}

/* braid_task_join: "Calls cb(user_data, status) on a worker once the task has
 * finished ...  It takes the task's join slot until then (one joiner per
 * task: BRAID_EBUSY if another joiner waits)"; braid_task_join_blocking and
 * braid_task_poll_join give BRAID_EBUSY while it owns the slot.  Each joined
 * task is a braid_fd_wait on a gate, so it is pending, for certain, until the
 * gate opens.  The join operation is detached (no handle to join): its
 * callback is waited for, and counted exactly after braid_runtime_free.  The
 * counters are static: a late, wrong callback must not write into a dead
 * stack frame. */
#define JT_CASES 4
static counter jt_target[JT_CASES], jt_a[JT_CASES], jt_b[JT_CASES], jt_now, jt_now_target;

static void test_task_join(void) {
    char msg[300];
    braid_runtime *rt = make_runtime(1); /* one worker: for fence() */
    counter_init(&jt_now, rt);
    counter_init(&jt_now_target, rt);
    for (int i = 0; i < JT_CASES; ++i) {
        counter_init(&jt_target[i], rt);
        counter_init(&jt_a[i], rt);
        counter_init(&jt_b[i], rt);
    }
    braid_task *h[JT_CASES] = {NULL};
    gate g[JT_CASES];
    for (int i = 0; i < JT_CASES; ++i) {
        gate_init(&g[i]);
        CHECK_RC(braid_fd_wait(&h[i], rt, g[i].fd[0], BRAID_READABLE, fd_count_cb, &jt_target[i]), BRAID_OK);
    }
    /* which cases registered a second joiner that was accepted (none should) */
    int rc_b[JT_CASES] = {BRAID_EBUSY, BRAID_EBUSY, BRAID_EBUSY, BRAID_EBUSY};

    section("callback contract: braid_task_join, one waiter");
    if (h[0]) {
        CHECK_RC(braid_task_join(h[0], NULL, &jt_a[0]), BRAID_EINVAL);
        CHECK_RC(braid_task_join(h[0], count_cb, &jt_a[0]), BRAID_OK);
        CHECK(atomic_load(&jt_a[0].calls) == 0, "braid_task_join called back before the task finished");
        gate_open(&g[0]);
        CHECK(wait_calls(&jt_a[0], 1, 10000) >= 1, "braid_task_join: no callback within 10 s of the task finishing");
        CHECK_RC(braid_task_is_finished(h[0]), 1);
        CHECK(atomic_load(&jt_target[0].calls) == 1, "the joined fd_wait did not call back before its join did");
        CHECK_RC(atomic_load(&jt_a[0].status), BRAID_OK);
        CHECK(atomic_load(&jt_a[0].on_worker) == atomic_load(&jt_a[0].calls), "braid_task_join: callback not on a worker");
        /* the task finished: braid_task_join_blocking returns its status at once */
        CHECK_RC(braid_task_join_blocking(h[0], 10000), BRAID_OK);
    }

    section("callback contract: braid_task_join on a finished task calls back at once, on a worker");
    {
        braid_task *s = NULL;
        CHECK_RC(braid_sleep(&s, rt, 0, count_cb, &jt_now_target), BRAID_OK);
        if (s) {
            /* joined by braid_task_join_blocking, which gave the slot back when it returned */
            CHECK_RC(braid_task_join_blocking(s, 10000), BRAID_OK);
            CHECK_RC(braid_task_join(s, count_cb, &jt_now), BRAID_OK);
            CHECK(wait_calls(&jt_now, 1, 10000) >= 1, "braid_task_join on a finished task: no callback within 10 s");
            CHECK_RC(atomic_load(&jt_now.status), BRAID_OK);
            CHECK(atomic_load(&jt_now.on_worker) == atomic_load(&jt_now.calls),
                  "braid_task_join on a finished task: callback not on a worker");
            braid_task_free(s);
        }
    }

    section("callback contract: braid_task_join, a second braid_task_join is EBUSY");
    if (h[1]) {
        CHECK_RC(braid_task_join(h[1], count_cb, &jt_a[1]), BRAID_OK);
        rc_b[1] = braid_task_join(h[1], count_cb, &jt_b[1]); /* at once: the slot is claimed by the call */
        CHECK_RC(rc_b[1], BRAID_EBUSY);
        fence(rt); /* coverage only: the first join operation has (most likely) registered its waker */
        CHECK_RC(braid_task_join(h[1], count_cb, &jt_b[1]), BRAID_EBUSY);
        CHECK_RC(braid_task_is_finished(h[1]), 0);
        gate_open(&g[1]);
        CHECK(wait_calls(&jt_a[1], 1, 10000) >= 1, "braid_task_join: no callback within 10 s of the task finishing");
        CHECK_RC(atomic_load(&jt_a[1].status), BRAID_OK);
    }

    section("callback contract: braid_task_join, then braid_task_poll_join on the same handle is EBUSY");
    if (h[2]) {
        CHECK_RC(braid_task_join(h[2], count_cb, &jt_a[2]), BRAID_OK);
        /* with wake NULL it would otherwise remove the join operation's waker */
        CHECK_RC(braid_task_try_join(h[2]), BRAID_EBUSY);
        CHECK_RC(braid_task_poll_join(h[2], noop_wake, NULL), BRAID_EBUSY);
        fence(rt);
        CHECK_RC(braid_task_try_join(h[2]), BRAID_EBUSY);
        CHECK_RC(braid_task_poll_join(h[2], noop_wake, NULL), BRAID_EBUSY);
        CHECK_RC(braid_task_is_finished(h[2]), 0);
        gate_open(&g[2]);
        snprintf(msg, sizeof msg,
                 "braid_task_join after refused braid_task_poll_join calls: %d callback(s) within 10 s of the task "
                 "finishing, expected 1",
                 wait_calls(&jt_a[2], 1, 10000));
        CHECK(atomic_load(&jt_a[2].calls) >= 1, msg);
        CHECK_RC(atomic_load(&jt_a[2].status), BRAID_OK);
    }

    section("callback contract: braid_task_join, then braid_task_join_blocking on the same handle is EBUSY");
    if (h[3]) {
        CHECK_RC(braid_task_join(h[3], count_cb, &jt_a[3]), BRAID_OK);
        /* EBUSY at once; a join_blocking that waited would give ETIMEDOUT (the
         * gate is closed), so bounded timeouts: 0 would wait without limit */
        CHECK_RC(braid_task_join_blocking(h[3], 1), BRAID_EBUSY);
        fence(rt);
        CHECK_RC(braid_task_join_blocking(h[3], 1000), BRAID_EBUSY);
        CHECK_RC(braid_task_is_finished(h[3]), 0);
        gate_open(&g[3]);
        snprintf(msg, sizeof msg,
                 "braid_task_join after refused braid_task_join_blocking calls: %d callback(s) within 10 s of the "
                 "task finishing, expected 1",
                 wait_calls(&jt_a[3], 1, 10000));
        CHECK(atomic_load(&jt_a[3].calls) >= 1, msg);
        CHECK_RC(atomic_load(&jt_a[3].status), BRAID_OK);
    }

    section("callback contract: braid_task_join callbacks counted after braid_runtime_free");
    CHECK_RC(braid_runtime_free(rt), BRAID_OK);
    /* every thread of the runtime is joined: the counts are final */
    for (int i = 0; i < JT_CASES; ++i) {
        snprintf(msg, sizeof msg, "case %d: the braid_task_join callback ran %d time(s) in all, expected 1", i,
                 atomic_load(&jt_a[i].calls));
        CHECK(atomic_load(&jt_a[i].calls) == 1, msg);
        snprintf(msg, sizeof msg, "case %d: a refused braid_task_join (EBUSY) called back %d time(s)", i,
                 atomic_load(&jt_b[i].calls));
        CHECK(atomic_load(&jt_b[i].calls) == (rc_b[i] == BRAID_OK), msg);
        CHECK(atomic_load(&jt_target[i].calls) == 1, "a joined fd_wait did not call back exactly once");
    }
    CHECK(atomic_load(&jt_now.calls) == 1, "braid_task_join on a finished task: not exactly one callback in all");
    CHECK(atomic_load(&jt_now_target.calls) == 1, "a joined sleep did not call back exactly once");
    /* every join operation is gone with the runtime: the slots are free, the
     * final status is readable through each handle */
    for (int i = 0; i < JT_CASES; ++i) {
        if (!h[i]) continue;
        CHECK_RC(braid_task_try_join(h[i]), BRAID_OK);
        CHECK_RC(braid_task_join_blocking(h[i], 1000), BRAID_OK);
    }
    for (int i = 0; i < JT_CASES; ++i) {
        braid_task_free(h[i]);
        gate_close(&g[i]);
    }
}

/* Pending operations when the runtime is shut down or freed: each callback
 * runs exactly once, with ECANCELED, before shutdown/free returns.  Then the
 * handles (and poll-style objects) outlive the runtime: they are used and
 * freed after it (abi.bad_input_memcheck and the sanitizer builds watch this
 * for use after free). */
static void test_cancel_on_shutdown(int use_free) {
    char msg[200];
    section(use_free ? "callback contract: operations pending at braid_runtime_free"
                     : "callback contract: operations pending at braid_runtime_shutdown");
    braid_runtime *rt = make_runtime(1); /* one worker: for fence() */
    counter fresh, polled, detached, fdw, join, target, ticks;
    counter_init(&fresh, rt);
    counter_init(&polled, rt);
    counter_init(&detached, rt);
    counter_init(&fdw, rt);
    counter_init(&join, rt);
    counter_init(&target, rt);
    counter_init(&ticks, rt);
    braid_task *h_polled = NULL, *h_fresh = NULL, *h_fd = NULL, *h_target = NULL, *h_iv = NULL;
    int p[2] = {-1, -1};
    CHECK(pipe(p) == 0, "pipe()");
    gate fg;
    gate_init(&fg);

    /* poll-style objects, registered with the runtime's timers and reactor */
    braid_timer *tm = NULL;
    braid_interval *iv = NULL;
    braid_fd *f = NULL;
    CHECK_RC(braid_timer_new(&tm, rt, braid_now(rt) + 60000000000LL), BRAID_OK);
    if (tm) CHECK_RC(braid_timer_poll_elapsed(tm, noop_wake, NULL), BRAID_PENDING);
    CHECK_RC(braid_interval_new(&iv, rt, braid_now(rt) + 60000000000LL, 1000000, BRAID_MISSED_TICK_BURST), BRAID_OK);
    if (iv) CHECK_RC(braid_interval_poll_tick(iv, noop_wake, NULL, NULL), BRAID_PENDING);
    CHECK_RC(braid_fd_new(&f, rt, fg.fd[0]), BRAID_OK);
    if (f) CHECK_RC(braid_fd_poll_ready(f, BRAID_READABLE, noop_wake, NULL, NULL), BRAID_PENDING);

    CHECK_RC(braid_sleep(&h_polled, rt, 60000, count_cb, &polled), BRAID_OK);
    CHECK_RC(braid_sleep(NULL, rt, 60000, count_cb, &detached), BRAID_OK);
    CHECK_RC(braid_fd_wait(&h_fd, rt, p[0], BRAID_READABLE, fd_count_cb, &fdw), BRAID_OK);
    CHECK_RC(braid_sleep(&h_target, rt, 60000, count_cb, &target), BRAID_OK);
    if (h_target) CHECK_RC(braid_task_join(h_target, count_cb, &join), BRAID_OK);
    CHECK_RC(braid_interval_start(&h_iv, rt, 60000, BRAID_MISSED_TICK_BURST, count_cb, &ticks), BRAID_OK);
    fence(rt); /* all of them polled and waiting */
    CHECK_RC(braid_sleep(&h_fresh, rt, 60000, count_cb, &fresh), BRAID_OK); /* maybe not polled yet */

    if (use_free) CHECK_RC(braid_runtime_free(rt), BRAID_OK);
    else CHECK_RC(braid_runtime_shutdown(rt, 5000), BRAID_OK);

    /* synchronous: the callbacks have run when shutdown/free returns */
    struct {
        const char *name;
        counter *c;
    } ops[] = {{"braid_sleep (polled)", &polled},   {"braid_sleep (just spawned)", &fresh},
               {"braid_sleep (detached)", &detached}, {"braid_fd_wait", &fdw},
               {"braid_sleep (joined)", &target},     {"braid_task_join", &join},
               {"braid_interval_start", &ticks}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; ++i) {
        snprintf(msg, sizeof msg, "%s: %d callback(s) when %s returned, expected 1 (ECANCELED)", ops[i].name,
                 atomic_load(&ops[i].c->calls), use_free ? "braid_runtime_free" : "braid_runtime_shutdown");
        CHECK(atomic_load(&ops[i].c->calls) == 1, msg);
        snprintf(msg, sizeof msg, "%s: callback status %s, expected ECANCELED", ops[i].name,
                 braid_err_name(atomic_load(&ops[i].c->status)));
        CHECK(atomic_load(&ops[i].c->status) == BRAID_ECANCELED, msg);
    }

    /* the task handles stay valid after the runtime is gone */
    braid_task *hs[] = {h_polled, h_fresh, h_fd, h_target, h_iv};
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; ++i) {
        if (!hs[i]) continue;
        CHECK_RC(braid_task_is_finished(hs[i]), 1);
        CHECK_RC(braid_task_try_join(hs[i]), BRAID_ECANCELED); /* join slot free again */
        CHECK_RC(braid_task_join_blocking(hs[i], 1000), BRAID_ECANCELED);
        CHECK_RC(braid_task_abort(hs[i]), BRAID_OK);
    }
    if (!use_free) CHECK_RC(braid_runtime_free(rt), BRAID_OK);
    /* the poll-style objects too: used, then freed after the runtime */
    if (tm) {
        CHECK_RC(braid_timer_poll_elapsed(tm, noop_wake, NULL), BRAID_ECANCELED);
        CHECK_RC(braid_timer_reset(tm, 0), BRAID_OK);
        braid_timer_free(tm);
    }
    if (iv) {
        int rc = braid_interval_poll_tick(iv, noop_wake, NULL, NULL);
        CHECK(rc == BRAID_ECANCELED || rc == BRAID_PENDING,
              "braid_interval_poll_tick after braid_runtime_free: neither ECANCELED nor PENDING");
        CHECK_RC(braid_interval_reset(iv), BRAID_OK);
        braid_interval_free(iv);
    }
    if (f) {
        CHECK_RC(braid_fd_poll_ready(f, BRAID_READABLE, noop_wake, NULL, NULL), BRAID_ECANCELED);
        braid_fd_free(f);
    }
    gate_close(&fg);
    /* runtime.h: "Task and handle objects stay valid after this and must still
     * be freed by their owners" -- so the handles are freed after the runtime.
     * (abi.bad_input_memcheck watches this for use-after-free.) */
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; ++i) braid_task_free(hs[i]);

    /* the runtime's threads were joined by shutdown/free: no callback can come */
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; ++i) {
        snprintf(msg, sizeof msg, "%s: %d callback(s) in all, expected 1", ops[i].name, atomic_load(&ops[i].c->calls));
        CHECK(atomic_load(&ops[i].c->calls) == 1, msg);
    }
    close(p[0]);
    close(p[1]);
}

/* ---- 7. contracts that hold: misuse refused, nothing changed ---------------------------- */

typedef struct nested_free {
    braid_runtime *rt;
    atomic_int free_rc, join_rc, calls;
    braid_task *other;
} nested_free;

static void nested_free_cb(void *user_data, int status) {
    nested_free *n = (nested_free *)user_data;
    (void)status;
    atomic_store(&n->free_rc, braid_runtime_free(n->rt));
    atomic_store(&n->join_rc, braid_task_join_blocking(n->other, BRAID_WAIT_FOREVER));
    atomic_fetch_add(&n->calls, 1);
}

static void test_contracts(void) {
    section("contracts: lock unlocks that do not match how the lock is held");
    {
        braid_rwlock *rw = NULL;
        braid_mutex *m = NULL;
        CHECK_RC(braid_rwlock_new(&rw), BRAID_OK);
        CHECK_RC(braid_rwlock_try_write(rw), BRAID_OK);
        CHECK_RC(braid_rwlock_read_unlock(rw), BRAID_EINVAL);
        CHECK_RC(braid_rwlock_try_read(rw), BRAID_EAGAIN);
        CHECK_RC(braid_rwlock_write_unlock(rw), BRAID_OK);
        CHECK_RC(braid_rwlock_write_unlock(rw), BRAID_EINVAL);
        CHECK_RC(braid_rwlock_try_read(rw), BRAID_OK);
        CHECK_RC(braid_rwlock_write_unlock(rw), BRAID_EINVAL);
        CHECK_RC(braid_rwlock_downgrade(rw), BRAID_EINVAL);
        CHECK_RC(braid_rwlock_read_unlock(rw), BRAID_OK);
        CHECK_RC(braid_rwlock_read_unlock(rw), BRAID_EINVAL);
        braid_rwlock_free(rw);
        CHECK_RC(braid_mutex_new(&m), BRAID_OK);
        CHECK_RC(braid_mutex_unlock(m), BRAID_EINVAL);
        CHECK_RC(braid_mutex_try_lock(m), BRAID_OK);
        CHECK_RC(braid_mutex_unlock(m), BRAID_OK);
        CHECK_RC(braid_mutex_unlock(m), BRAID_EINVAL);
        braid_mutex_free(m);
    }

    section("contracts: mpsc send_reserved without a reservation");
    {
        braid_mpsc_tx *tx = NULL;
        braid_mpsc_rx *rx = NULL;
        int v = 1, out = 0;
        CHECK_RC(braid_mpsc_new(&tx, &rx, 1, sizeof(int), _Alignof(int), NULL, NULL), BRAID_OK);
        CHECK_RC(braid_mpsc_send_reserved(tx, &v, sizeof v), BRAID_EINVAL);
        CHECK(braid_mpsc_rx_len(rx) == 0, "a refused send_reserved queued nothing");
        CHECK_RC(braid_mpsc_try_reserve(tx, 1), BRAID_OK);
        CHECK_RC(braid_mpsc_send_reserved(tx, &v, sizeof v), BRAID_OK);
        CHECK_RC(braid_mpsc_send_reserved(tx, &v, sizeof v), BRAID_EINVAL);
        CHECK_RC(braid_mpsc_try_recv(rx, &out, sizeof out), BRAID_OK);
        CHECK_RC(braid_mpsc_try_recv(rx, &out, sizeof out), BRAID_EAGAIN);
        braid_mpsc_tx_free(tx);
        braid_mpsc_rx_free(rx);
    }

    section("contracts: watch borrow_end without a borrow");
    {
        braid_watch_tx *tx = NULL;
        braid_watch_rx *rx = NULL;
        const void *p = NULL;
        int v = 1;
        CHECK_RC(braid_watch_new(&tx, &rx, &v, sizeof v, _Alignof(int), NULL, NULL), BRAID_OK);
        CHECK_RC(braid_watch_rx_borrow_end(rx), BRAID_EINVAL);
        CHECK_RC(braid_watch_tx_borrow_end(tx), BRAID_EINVAL);
        CHECK_RC(braid_watch_rx_borrow_end(NULL), BRAID_EINVAL);
        CHECK_RC(braid_watch_tx_borrow_end(NULL), BRAID_EINVAL);
        CHECK_RC(braid_watch_rx_borrow(rx, 1, &p, NULL), BRAID_OK);
        CHECK_RC(braid_watch_rx_borrow_end(rx), BRAID_OK);
        v = 2;
        CHECK_RC(braid_watch_send(tx, &v, sizeof v), BRAID_OK); /* hung on a broken lock before */
        braid_watch_tx_free(tx);
        braid_watch_rx_free(rx);
    }

    section("contracts: from_fd checks the socket's kind");
    {
        braid_runtime *rt = make_runtime(1);
        int sv[2];
        braid_tcp_stream *ts = NULL;
        braid_udp_socket *us = NULL;
        braid_unix_listener *ul = NULL;
        CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
        CHECK_RC(braid_tcp_stream_from_fd(&ts, rt, sv[0]), BRAID_EINVAL);
        CHECK_RC(braid_udp_from_fd(&us, rt, sv[0]), BRAID_EINVAL);
        CHECK_RC(braid_unix_listener_from_fd(&ul, rt, sv[0]), BRAID_EINVAL);
        CHECK(ts == NULL && us == NULL && ul == NULL, "nothing made from a refused fd");
        CHECK(fcntl(sv[0], F_GETFD) >= 0, "a refused fd stays open");
        braid_unix_stream *uss = NULL;
        braid_unix_datagram *ud = NULL;
        CHECK_RC(braid_unix_datagram_from_fd(&ud, rt, sv[0]), BRAID_EINVAL);
        CHECK_RC(braid_unix_stream_from_fd(&uss, rt, -1), BRAID_EBADF);
        CHECK_RC(braid_udp_from_fd(&us, rt, -1), BRAID_EBADF);
        CHECK(ud == NULL && uss == NULL && us == NULL, "nothing made from a bad fd");
        CHECK_RC(braid_udp_into_fd(NULL), BRAID_EINVAL);
        CHECK_RC(braid_unix_stream_into_fd(NULL), BRAID_EINVAL);
        CHECK_RC(braid_unix_listener_into_fd(NULL), BRAID_EINVAL);
        CHECK_RC(braid_unix_datagram_into_fd(NULL), BRAID_EINVAL);
        {
            size_t n = 0;
            char b[4];
            braid_io_mut_slice sl = {b, sizeof b};
            CHECK_RC(braid_byte_stream_try_read_vectored(NULL, &sl, 1, &n), BRAID_EINVAL);
        }
        CHECK_RC(braid_tcp_listener_bind_host(NULL, rt, NULL, 0, 0, NULL, NULL), BRAID_EINVAL);
        close(sv[0]);
        close(sv[1]);
        CHECK_RC(braid_runtime_free(rt), BRAID_OK);
    }

    section("contracts: block_on starts a future that was never started");
    {
        braid_runtime *rt = make_runtime(1);
        braid_task *t = NULL;
        void *state = NULL;
        lifecycle lc;
        atomic_init(&lc.polls, 0);
        atomic_init(&lc.cancels, 0);
        atomic_init(&lc.releases, 0);
        CHECK_RC(braid_task_new(&t, &state, rt, sizeof(lifecycle *), lc_poll_done, lc_cancel, lc_release), BRAID_OK);
        if (t) {
            *(lifecycle **)state = &lc;
            CHECK_RC(braid_runtime_block_on(rt, t), BRAID_OK);
            CHECK(atomic_load(&lc.polls) == 1, "block_on polled the new future once");
            braid_task_free(t);
        }
        CHECK(atomic_load(&lc.releases) == 1, "the future was released");
        CHECK_RC(braid_runtime_free(rt), BRAID_OK);
    }

    section("contracts: a callback that braid_runtime_free runs cannot free it again");
    {
        nested_free n;
        counter other;
        n.rt = make_runtime(1);
        counter_init(&other, NULL);
        n.other = NULL;
        atomic_init(&n.free_rc, 12345);
        atomic_init(&n.join_rc, 12345);
        atomic_init(&n.calls, 0);
        CHECK_RC(braid_sleep(&n.other, n.rt, 60000, count_cb, &other), BRAID_OK);
        CHECK_RC(braid_sleep(NULL, n.rt, 60000, nested_free_cb, &n), BRAID_OK);
        CHECK_RC(braid_runtime_free(n.rt), BRAID_OK); /* deadlocked before (watchdog) */
        CHECK(atomic_load(&n.calls) == 1, "the pending sleep was cancelled through its callback");
        CHECK_RC(atomic_load(&n.free_rc), BRAID_EDEADLK);
        CHECK_RC(atomic_load(&n.join_rc), BRAID_EDEADLK);
        CHECK(atomic_load(&other.calls) == 1 && atomic_load(&other.status) == BRAID_ECANCELED,
              "the other sleep was cancelled once");
        braid_task_free(n.other);
    }
}

/* Completion queues from C: bad arguments, and a plain poll() loop on the
 * queue's fd that runs the callbacks of a sleep and of an aborted sleep on
 * this thread. */
static void test_completion_queue(void) {
    section("completion queue");
    braid_completion_queue *q = NULL;
    CHECK_RC(braid_completion_queue_new(NULL), BRAID_EINVAL);
    CHECK_RC(braid_completion_queue_fd(NULL), BRAID_EINVAL);
    CHECK_RC(braid_completion_queue_run(NULL, 0), BRAID_EINVAL);
    CHECK_RC(braid_completion_queue_pending(NULL), BRAID_EINVAL);
    CHECK_RC(braid_completion_queue_free(NULL), BRAID_OK);
    braid_completion recs[2];
    CHECK_RC(braid_completion_queue_take(NULL, recs, 2, sizeof recs[0]), BRAID_EINVAL);
    char bytes[8];
    CHECK_RC(braid_completion_queue_take_bytes(NULL, recs, 2, sizeof recs[0], bytes, sizeof bytes), BRAID_EINVAL);
    CHECK_RC(braid_completion_queue_new(&q), BRAID_OK);
    if (!q) return;
    CHECK_RC(braid_completion_queue_take_bytes(q, NULL, 2, sizeof recs[0], bytes, sizeof bytes), BRAID_EINVAL);
    CHECK_RC(braid_completion_queue_take_bytes(q, recs, 2, sizeof recs[0], NULL, 1), BRAID_EINVAL);
    CHECK_RC(braid_completion_queue_take_bytes(q, recs, 0, sizeof recs[0], bytes, sizeof bytes), BRAID_EINVAL);
    CHECK_RC(braid_completion_queue_take_bytes(q, recs, 2, sizeof recs[0], NULL, 0), 0);
    CHECK_RC(braid_completion_queue_take(q, NULL, 2, sizeof recs[0]), BRAID_EINVAL);
    CHECK_RC(braid_completion_queue_take(q, recs, 0, sizeof recs[0]), BRAID_EINVAL);
    CHECK_RC(braid_completion_queue_take(q, recs, 2, 0), BRAID_EINVAL);
    CHECK_RC(braid_completion_queue_take(q, recs, 2, sizeof recs[0]), 0);
    CHECK_RC(braid_completion_queue_set_current(q), BRAID_OK);
    CHECK(braid_completion_queue_current() == q, "the current queue is the one set");

    braid_runtime *rt = make_runtime(2);
    CHECK_RC(braid_runtime_turn_take(NULL, 0, q, recs, 2, sizeof recs[0], NULL, 0), BRAID_EINVAL);
    CHECK_RC(braid_runtime_turn_take(rt, 0, NULL, recs, 2, sizeof recs[0], NULL, 0), BRAID_EINVAL);
    CHECK_RC(braid_runtime_turn_take(rt, 0, q, recs, 2, sizeof recs[0], NULL, 0), BRAID_ENOTSUP); /* not host-driven */
    counter done, aborted;
    counter_init(&done, rt);
    counter_init(&aborted, rt);
    braid_task *t = NULL;
    CHECK_RC(braid_sleep(NULL, rt, 1, count_cb, &done), BRAID_OK);
    CHECK_RC(braid_sleep(&t, rt, 3600000, count_cb, &aborted), BRAID_OK);
    CHECK_RC(braid_task_abort(t), BRAID_OK);
    int fd = braid_completion_queue_fd(q);
    CHECK(fd >= 0, "the queue has an fd");
    while (atomic_load(&done.calls) + atomic_load(&aborted.calls) < 2) {
        struct pollfd p = {fd, POLLIN, 0};
        int n = poll(&p, 1, 10000);
        CHECK(n == 1, "the queue's fd became readable");
        if (n != 1) break;
        CHECK(braid_completion_queue_run(q, 0) >= 1, "run ran a completion");
    }
    CHECK(atomic_load(&done.status) == BRAID_OK, "the sleep completed");
    CHECK(atomic_load(&aborted.status) == BRAID_ECANCELED, "the aborted sleep was cancelled");
    CHECK(atomic_load(&done.on_worker) == 0 && atomic_load(&aborted.on_worker) == 0,
          "the callbacks ran on this thread, not on a worker");
    braid_task_free(t);

    /* refused while a completion is queued; run it, then it goes */
    CHECK_RC(braid_sleep(&t, rt, 0, count_cb, &done), BRAID_OK);
    CHECK_RC(braid_task_join_blocking(t, 10000), BRAID_OK);
    braid_task_free(t);
    CHECK_RC(braid_completion_queue_free(q), BRAID_EBUSY);
    CHECK(braid_completion_queue_current() == NULL, "free unset the calling thread's current queue");
    CHECK_RC(braid_completion_queue_run(q, 0), 1);
    CHECK_RC(braid_completion_queue_free(q), BRAID_OK);
    CHECK_RC(braid_runtime_free(rt), BRAID_OK);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGALRM, on_alarm);
    signal(SIGPIPE, SIG_IGN);
    alarm(100);

    printf("braid %s (header %s)\n", braid_version(), BRAID_VERSION_STRING);
    test_error_codes();

    braid_runtime *rt = make_runtime(2);
    counter_init(&g_refused, rt);
    test_null_handles(rt);
    test_negative_durations(rt);
    section("free the shared runtime");
    CHECK_RC(braid_runtime_free(rt), BRAID_OK);
    {
        /* its threads are joined: a refused call's callback cannot come any more */
        char msg[128];
        snprintf(msg, sizeof msg, "a call that returned an error invoked its callback %d time(s)",
                 atomic_load(&g_refused.calls));
        CHECK(atomic_load(&g_refused.calls) == 0, msg);
    }

    test_shutdown_refuses();
    test_deadlk();
    test_callback_contract();
    test_task_join();
    test_cancel_on_shutdown(0);
    test_cancel_on_shutdown(1);
    test_contracts();
    test_completion_queue();

    section("done");
    int failures = atomic_load(&g_failures);
    printf("%d checks, %d failed\n", atomic_load(&g_checks), failures);
    return failures ? 1 : 0;
}
