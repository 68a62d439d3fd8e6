// extern "C" shims: builders, runtimes, handles, version.
#include <cstring>
#include <string>

#include "io/io_driver.hpp"
#include "runtime/enter.hpp"
#include "shim.hpp"

struct braid_enter_guard {
    explicit braid_enter_guard(braid::detail::Core* c) : guard(c) {}
    braid::detail::EnterGuard guard;
};

using braid::capi::core_of;
using braid::capi::guarded;
using braid::capi::rt_of;
using braid::capi::task_of;
using braid::detail::Core;

namespace {
// The longest duration a builder takes (10^12 ms, about 31 years): in
// nanoseconds, added to a clock reading, it still fits an int64_t.
constexpr int64_t kMaxDurationMs = 1000000000000;
// braid_runtime_turn's default bound on the polls of one turn: long enough
// to amortise the host's trip through its loop, short enough that the
// host's own callbacks are not kept waiting behind a flood of tasks.
constexpr int kTurnPolls = 256;
}  // namespace

extern "C" {

BRAID_API const char* braid_version(void) { return BRAID_VERSION_STRING; }
BRAID_API int braid_version_number(void) { return BRAID_VERSION_NUMBER; }

BRAID_API int braid_runtime_builder_new(braid_runtime_builder** out) {
    if (!out) return BRAID_EINVAL;
    *out = new (std::nothrow) braid_runtime_builder();
    return *out ? BRAID_OK : BRAID_ENOMEM;
}

BRAID_API void braid_runtime_builder_free(braid_runtime_builder* b) { delete b; }

BRAID_API int braid_runtime_builder_worker_threads(braid_runtime_builder* b, int n) {
    if (!b || n < 1 || n > 1024) return BRAID_EINVAL;
    b->cfg.current_thread = false;
    b->cfg.host_driven = false;
    b->cfg.worker_threads = n;
    return BRAID_OK;
}

BRAID_API int braid_runtime_builder_current_thread(braid_runtime_builder* b) {
    if (!b) return BRAID_EINVAL;
    b->cfg.current_thread = true;
    b->cfg.host_driven = false;
    return BRAID_OK;
}

BRAID_API int braid_runtime_builder_host_driven(braid_runtime_builder* b) {
    if (!b) return BRAID_EINVAL;
    b->cfg.current_thread = true;
    b->cfg.host_driven = true;
    return BRAID_OK;
}

BRAID_API int braid_runtime_builder_thread_name(braid_runtime_builder* b, const char* name) {
    if (!b || !name || !*name) return BRAID_EINVAL;
    return guarded([&]() -> int {
        b->cfg.thread_name = std::string(name, strnlen(name, 15));
        return BRAID_OK;
    });
}

BRAID_API int braid_runtime_builder_max_blocking_threads(braid_runtime_builder* b, int n) {
    if (!b || n < 1 || n > 65536) return BRAID_EINVAL;
    b->cfg.max_blocking_threads = n;
    return BRAID_OK;
}

BRAID_API int braid_runtime_builder_blocking_keep_alive_ms(braid_runtime_builder* b, int64_t ms) {
    if (!b || ms < 0) return BRAID_EINVAL;
    if (ms > kMaxDurationMs) return BRAID_ERANGE;
    b->cfg.blocking_keep_alive_ms = ms;
    return BRAID_OK;
}

BRAID_API int braid_runtime_builder_on_thread_start(braid_runtime_builder* b, braid_thread_fn fn,
                                                    void* user_data) {
    if (!b) return BRAID_EINVAL;
    b->cfg.on_start = fn;
    b->cfg.on_start_data = user_data;
    return BRAID_OK;
}

BRAID_API int braid_runtime_builder_on_thread_stop(braid_runtime_builder* b, braid_thread_fn fn,
                                                   void* user_data) {
    if (!b) return BRAID_EINVAL;
    b->cfg.on_stop = fn;
    b->cfg.on_stop_data = user_data;
    return BRAID_OK;
}

BRAID_API int braid_runtime_builder_start_paused(braid_runtime_builder* b, int paused) {
    if (!b || (paused != 0 && paused != 1)) return BRAID_EINVAL;
    b->cfg.start_paused = paused == 1;
    return BRAID_OK;
}

BRAID_API int braid_runtime_builder_slow_poll_ms(braid_runtime_builder* b, int64_t ms) {
    if (!b || ms < 0) return BRAID_EINVAL;
    if (ms > kMaxDurationMs) return BRAID_ERANGE;
    b->cfg.slow_poll_ms = ms;
    return BRAID_OK;
}

BRAID_API int braid_runtime_build(braid_runtime** out, const braid_runtime_builder* b) {
    if (!out || !b) return BRAID_EINVAL;
    *out = nullptr;
    return guarded([&]() -> int {
        auto* core = new Core(b->cfg);
        int rc = core->start();
        if (rc != BRAID_OK) {
            core->unref();
            return rc;
        }
        *out = rt_of(core);
        return BRAID_OK;
    });
}

BRAID_API int braid_runtime_new(braid_runtime** out) {
    braid_runtime_builder b;
    return braid_runtime_build(out, &b);
}

namespace {
// braid_runtime_block_on and braid_handle_block_on.
int block_on(Core* core, braid_task* task) {
    auto* t = task_of(task);
    if (t->core != core) return BRAID_EINVAL;
    if (!Core::may_block_on()) return BRAID_EDEADLK;
    // A future made with braid_task_new and never started is started here
    // (Tokio's block_on runs the future it is given); refused: its status.
    if (int rc = t->start(braid::detail::TaskKind::Worker); rc != BRAID_OK && rc != BRAID_EBUSY) return rc;
    if (core->scheduler().current_thread()) {
        int st = core->scheduler().block_on(t);
        // Stopped by a shutdown on another thread before the task ended:
        // that shutdown cancels it next (it cancels every task it did not
        // refuse once the scheduler has stopped), so wait for its final
        // status, as a multi-thread runtime's block_on does, rather than
        // leave the caller a task that has not ended.
        if (st == BRAID_ESHUTDOWN && !t->is_complete()) st = braid_task_join_blocking(task, BRAID_WAIT_FOREVER);
        return st;
    }
    return braid_task_join_blocking(task, BRAID_WAIT_FOREVER);
}
}  // namespace

BRAID_API int braid_runtime_block_on(braid_runtime* rt, braid_task* task) {
    if (!rt || !task) return BRAID_EINVAL;
    return block_on(core_of(rt), task);
}

BRAID_API int braid_handle_block_on(braid_handle* h, braid_task* task) {
    if (!h || !task) return BRAID_EINVAL;
    return block_on(h->core, task);
}

BRAID_API int braid_runtime_fd(const braid_runtime* rt) {
    if (!rt) return BRAID_EINVAL;
    Core* c = const_cast<Core*>(core_of(rt));
    if (!c->scheduler().host_driven()) return BRAID_ENOTSUP;
    braid::detail::IoDriver* d = c->io_driver();
    return d ? d->epfd() : BRAID_ESHUTDOWN;
}

BRAID_API int braid_runtime_turn(braid_runtime* rt, int max_polls) {
    if (!rt || max_polls < 0) return BRAID_EINVAL;
    if (braid::detail::current_core() != nullptr || Core::in_shutdown_callbacks()) return BRAID_EDEADLK;
    return core_of(rt)->scheduler().turn(max_polls == 0 ? kTurnPolls : max_polls);
}

BRAID_API int braid_runtime_shutdown(braid_runtime* rt, int64_t timeout_ms) {
    if (!rt) return BRAID_EINVAL;
    return core_of(rt)->shutdown(timeout_ms);
}

BRAID_API int braid_runtime_free(braid_runtime* rt) {
    if (!rt) return BRAID_OK;
    Core* core = core_of(rt);
    int rc = core->shutdown(-1);
    if (rc == BRAID_EDEADLK) return rc;
    core->unref();
    return BRAID_OK;
}

BRAID_API int braid_runtime_shutdown_background(braid_runtime* rt) {
    if (!rt) return BRAID_EINVAL;
    Core* core = core_of(rt);
    int rc = core->shutdown(0);
    if (rc == BRAID_EDEADLK) return rc;
    core->unref();  // blocking threads still running hold references of their own
    return rc;
}

BRAID_API int braid_runtime_enter(braid_enter_guard** out, braid_runtime* rt) {
    if (!out || !rt) return BRAID_EINVAL;
    *out = new (std::nothrow) braid_enter_guard(core_of(rt));
    return *out ? BRAID_OK : BRAID_ENOMEM;
}

BRAID_API int braid_handle_enter(braid_enter_guard** out, const braid_handle* h) {
    if (!out || !h) return BRAID_EINVAL;
    return braid_runtime_enter(out, rt_of(h->core));
}

BRAID_API int braid_runtime_exit(braid_enter_guard* g) {
    if (!g) return BRAID_OK;
    int rc = g->guard.exit();
    if (rc == BRAID_OK) delete g;
    return rc;
}

BRAID_API int braid_block_in_place(braid_task_fn fn, void* arg) {
    if (!fn) return BRAID_EINVAL;
    Core* c = braid::detail::current_core();
    if (!c || !c->scheduler().current_worker()) {
        fn(arg);  // not on a worker: blocking is allowed here already
        return BRAID_OK;
    }
    if (c->scheduler().current_thread()) return BRAID_ENOTSUP;
    return c->scheduler().block_in_place(fn, arg);
}

BRAID_API braid_runtime* braid_runtime_current(void) { return rt_of(braid::detail::context_core()); }

BRAID_API int braid_runtime_worker_count(const braid_runtime* rt) {
    if (!rt) return BRAID_EINVAL;
    return const_cast<Core*>(core_of(rt))->scheduler().worker_count();
}

BRAID_API uint64_t braid_runtime_slow_polls(const braid_runtime* rt) {
    return rt ? core_of(rt)->slow_polls() : 0;
}

BRAID_API int braid_runtime_advance(braid_runtime* rt, int64_t ns) {
    if (!rt) return BRAID_EINVAL;
    return core_of(rt)->advance(ns);
}

BRAID_API int braid_runtime_pause(braid_runtime* rt) {
    if (!rt) return BRAID_EINVAL;
    return core_of(rt)->pause();
}

BRAID_API int braid_runtime_resume(braid_runtime* rt) {
    if (!rt) return BRAID_EINVAL;
    return core_of(rt)->resume();
}

BRAID_API int braid_runtime_handle(braid_handle** out, braid_runtime* rt) {
    if (!out || !rt) return BRAID_EINVAL;
    auto* h = new (std::nothrow) braid_handle{core_of(rt)};
    if (!h) return BRAID_ENOMEM;
    h->core->ref();
    *out = h;
    return BRAID_OK;
}

BRAID_API int braid_handle_current(braid_handle** out) {
    if (!out) return BRAID_EINVAL;
    Core* c = braid::detail::context_core();
    if (!c) return BRAID_EINVAL;
    return braid_runtime_handle(out, rt_of(c));
}

BRAID_API int braid_handle_clone(braid_handle** out, const braid_handle* h) {
    if (!out || !h) return BRAID_EINVAL;
    return braid_runtime_handle(out, rt_of(h->core));
}

BRAID_API void braid_handle_free(braid_handle* h) {
    if (!h) return;
    h->core->unref();
    delete h;
}

}  // extern "C"
