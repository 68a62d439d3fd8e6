// extern "C" shims: spawning, join handles, wakers, memory.
#include <utility>

#include "shim.hpp"
#include "task/coop.hpp"
#include "util/alloc.hpp"
#include "util/block_until.hpp"

using braid::capi::c_task;
using braid::capi::core_of;
using braid::capi::core_or_current;
using braid::capi::spawn_state;
using braid::capi::task_of;
using braid::detail::Core;
using braid::detail::Task;
using braid::detail::TaskKind;
namespace st = braid::detail::st;

namespace {

// braid_spawn's task: fn(arg), once.
struct FnTask {
    braid_task_fn fn;
    void* arg;
    FnTask(braid_task_fn f, void* a) : fn(f), arg(a) {}
    static int poll(void* self, braid_task*) {
        auto* s = static_cast<FnTask*>(self);
        s->fn(s->arg);
        return BRAID_OK;
    }
    static void cancel(void*) {}
    static void release(void*) {}
};

// braid_task_join's operation: waits for a task, then calls back on a worker.
struct JoinOp {
    Task* target;
    braid_callback cb;
    void* ud;
    JoinOp(Task* t, braid_callback c, void* u) : target(t), cb(c), ud(u) { target->ref(); }
    bool owns_slot = true;
    // The slot is given back before the callback runs, so the callback (and
    // whoever it signals) can join the task again.
    void give_back_slot() {
        if (std::exchange(owns_slot, false)) target->release_join();
    }
    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<JoinOp*>(self);
        int rc = s->target->poll_join(&braid_task_wake_fn, me);
        if (rc == BRAID_PENDING) return BRAID_PENDING;
        s->give_back_slot();
        s->cb(s->ud, rc);
        return BRAID_OK;
    }
    static void cancel(void* self) {
        auto* s = static_cast<JoinOp*>(self);
        s->target->unregister_join();
        int rc = s->target->poll_join(nullptr, nullptr);
        s->give_back_slot();
        s->cb(s->ud, rc == BRAID_PENDING ? braid::capi::cancel_status() : rc);
    }
    static void release(void* self) {
        auto* s = static_cast<JoinOp*>(self);
        s->target->unregister_join();
        s->give_back_slot();
        s->target->unref();
    }
};

int spawn_fn(braid_task** out, Core* core, TaskKind kind, braid_task_fn fn, void* arg) {
    if (out) *out = nullptr;
    if (!core || !fn) return BRAID_EINVAL;
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return spawn_state<FnTask>(out, core, kind, fn, arg);
}

int start(braid_task* task, TaskKind kind) {
    if (!task) return BRAID_EINVAL;
    Task* t = task_of(task);
    if (!t->mark_started()) return BRAID_EBUSY;
    t->kind = kind;
    return t->core->start_task(t);
}

}  // namespace

extern "C" {

BRAID_API int braid_spawn(braid_task** out, braid_runtime* rt, braid_task_fn fn, void* arg) {
    return spawn_fn(out, rt ? core_of(rt) : nullptr, TaskKind::Worker, fn, arg);
}

BRAID_API int braid_handle_spawn(braid_task** out, braid_handle* h, braid_task_fn fn, void* arg) {
    return spawn_fn(out, h ? h->core : nullptr, TaskKind::Worker, fn, arg);
}

BRAID_API int braid_spawn_blocking(braid_task** out, braid_runtime* rt, braid_task_fn fn, void* arg) {
    return spawn_fn(out, rt ? core_of(rt) : nullptr, TaskKind::Blocking, fn, arg);
}

BRAID_API int braid_handle_spawn_blocking(braid_task** out, braid_handle* h, braid_task_fn fn,
                                          void* arg) {
    return spawn_fn(out, h ? h->core : nullptr, TaskKind::Blocking, fn, arg);
}

namespace {
int task_new(braid_task** out, void** out_state, Core* core, size_t state_size, braid_poll_fn poll,
             braid_state_fn cancel, braid_state_fn release) {
    if (!out || !out_state) return BRAID_EINVAL;
    *out = nullptr;
    *out_state = nullptr;
    if (!core || !poll || state_size > (size_t(1) << 30)) return BRAID_EINVAL;
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    Task* t = Task::create(core, state_size, poll, cancel, release, 2);
    if (!t) return BRAID_ENOMEM;
    *out = c_task(t);
    *out_state = t->state_ptr();
    return BRAID_OK;
}
}  // namespace

BRAID_API int braid_task_new(braid_task** out, void** out_state, braid_runtime* rt, size_t state_size,
                             braid_poll_fn poll, braid_state_fn cancel, braid_state_fn release) {
    return task_new(out, out_state, core_or_current(rt), state_size, poll, cancel, release);
}

BRAID_API int braid_handle_task_new(braid_task** out, void** out_state, braid_handle* h,
                                    size_t state_size, braid_poll_fn poll, braid_state_fn cancel,
                                    braid_state_fn release) {
    return task_new(out, out_state, h ? h->core : nullptr, state_size, poll, cancel, release);
}

BRAID_API int braid_task_new_cancelled(braid_task** out) {
    if (!out) return BRAID_EINVAL;
    *out = c_task(Task::create_finished(BRAID_ECANCELED));
    return *out ? BRAID_OK : BRAID_ENOMEM;
}

BRAID_API int braid_task_start(braid_task* task) { return start(task, TaskKind::Worker); }
BRAID_API int braid_task_start_blocking(braid_task* task) { return start(task, TaskKind::Blocking); }

BRAID_API int braid_task_abort_handle(braid_abort_handle** out, braid_task* task) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!task) return BRAID_EINVAL;
    task_of(task)->ref();
    *out = reinterpret_cast<braid_abort_handle*>(task);
    return BRAID_OK;
}

BRAID_API int braid_abort_handle_clone(braid_abort_handle** out, const braid_abort_handle* h) {
    return braid_task_abort_handle(out, reinterpret_cast<braid_task*>(const_cast<braid_abort_handle*>(h)));
}

BRAID_API int braid_abort_handle_abort(braid_abort_handle* h) {
    if (!h) return BRAID_EINVAL;
    reinterpret_cast<Task*>(h)->abort();
    return BRAID_OK;
}

BRAID_API int braid_abort_handle_is_finished(const braid_abort_handle* h) {
    return braid_task_is_finished(reinterpret_cast<const braid_task*>(h));
}

BRAID_API void braid_abort_handle_free(braid_abort_handle* h) {
    if (h) reinterpret_cast<Task*>(h)->unref();
}

BRAID_API void braid_task_free(braid_task* task) {
    if (!task) return;
    Task* t = task_of(task);
    // A join operation that owns the slot (braid_task_join, a join set, a
    // group join) keeps its registration: it holds its own reference.
    if (!(t->state.load(std::memory_order_acquire) & st::JOIN_OWNED)) t->unregister_join();
    if (!(t->state.load(std::memory_order_acquire) & st::STARTED)) t->complete(BRAID_ECANCELED);
    t->unref();
}

BRAID_API int braid_task_abort(braid_task* task) {
    if (!task) return BRAID_EINVAL;
    task_of(task)->abort();
    return BRAID_OK;
}

BRAID_API int braid_task_is_finished(const braid_task* task) {
    if (!task) return BRAID_EINVAL;
    return (task_of(task)->state.load(std::memory_order_acquire) & st::COMPLETE) ? 1 : 0;
}

BRAID_API int braid_task_poll_join(braid_task* task, braid_wake_fn wake, void* wake_data) {
    if (!task) return BRAID_EINVAL;
    Task* t = task_of(task);
    if (t->state.load(std::memory_order_acquire) & st::JOIN_OWNED) return BRAID_EBUSY;
    if (!wake) return braid::capi::withdrawn([t] { t->unregister_join(); });
    return t->poll_join(wake, wake_data);
}

BRAID_API int braid_task_try_join(braid_task* task) {
    if (!task) return BRAID_EINVAL;
    Task* t = task_of(task);
    if (t->state.load(std::memory_order_acquire) & st::JOIN_OWNED) return BRAID_EBUSY;
    return t->poll_join(nullptr, nullptr);
}

BRAID_API int braid_task_join(braid_task* task, braid_callback cb, void* user_data) {
    if (!task || !cb) return BRAID_EINVAL;
    Task* t = task_of(task);
    if (!t->core || t->core->shutting_down()) return BRAID_ESHUTDOWN;  // no runtime to call back on
    if (!t->claim_join()) return BRAID_EBUSY;
    int rc = braid::capi::guarded([&] {
        return spawn_state<JoinOp>(nullptr, t->core, TaskKind::Worker, t, cb, user_data);
    });
    // A refused operation was released already (and gave the slot back);
    // only an allocation failure before it existed leaves the claim here.
    if (rc == BRAID_ENOMEM) t->release_join();
    return rc;
}

BRAID_API int braid_task_join_blocking(braid_task* task, int64_t timeout_ms) {
    if (!task) return BRAID_EINVAL;
    if (braid::capi::on_worker_thread()) return BRAID_EDEADLK;
    Task* t = task_of(task);
    if (!t->claim_join()) {
        // Finished tasks have nothing to wait for; otherwise someone else waits.
        int st = t->poll_join(nullptr, nullptr);
        return st == BRAID_PENDING ? BRAID_EBUSY : st;
    }
    int rc = braid::detail::block_until([t](braid_wake_fn w, void* d) { return t->poll_join(w, d); },
                                        [t] { t->unregister_join(); }, timeout_ms);
    t->release_join();
    return rc;
}

BRAID_API uint64_t braid_task_id(const braid_task* task) { return task ? task_of(task)->id : 0; }

BRAID_API braid_task* braid_task_current(void) { return c_task(braid::detail::current_task()); }

BRAID_API uint64_t braid_task_current_id(void) {
    if (uint64_t releasing = braid::detail::releasing_task_id()) return releasing;
    Task* t = braid::detail::current_task();
    return t ? t->id : 0;
}

BRAID_API void braid_task_wake(braid_task* task) {
    if (!task) return;
    Task* t = task_of(task);
    if (t->transition_to_notified()) t->core->scheduler().schedule(t);
}

BRAID_API void braid_task_wake_fn(void* task) { braid_task_wake(static_cast<braid_task*>(task)); }

BRAID_API int braid_coop_take(void) { return braid::detail::coop::proceed(nullptr, nullptr) ? 1 : 0; }

BRAID_API int* braid_coop_counter(void) { return &braid::detail::coop::budget(); }
BRAID_API int braid_coop_has_budget(void) { return braid::detail::coop::budget() != 0 ? 1 : 0; }

BRAID_API void* braid_alloc(size_t size) { return braid::detail::alloc(size); }
BRAID_API void braid_free(void* ptr, size_t size) { braid::detail::dealloc(ptr, size); }

}  // extern "C"
