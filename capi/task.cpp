// extern "C" shims: spawning, join handles, wakers, memory (src/task/).
#include "shim.hpp"
#include "task/coop.hpp"
#include "task/join.hpp"
#include "task/spawn.hpp"
#include "task/task_info.hpp"
#include "util/alloc.hpp"

using braid::capi::c_task;
using braid::capi::core_of;
using braid::capi::core_or_current;
using braid::capi::task_of;
using braid::detail::Core;
using braid::detail::Task;
using braid::detail::TaskKind;
using braid::detail::spawn_fn;
using braid::detail::note_wait;

namespace {

int start(braid_task* task, TaskKind kind) { return task ? task_of(task)->start(kind) : BRAID_EINVAL; }

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
int task_new_in(braid_task** out, Core* core, void* block, size_t block_size, const braid_task_vtable* vt) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!core || !block || !vt || !vt->poll || block_size <= Task::kStateOffset || block_size > (size_t(1) << 30))
        return BRAID_EINVAL;
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    *out = c_task(Task::create_in(core, block, block_size, vt, 2));
    return BRAID_OK;
}
}  // namespace

BRAID_API int braid_task_new_in(braid_task** out, braid_runtime* rt, void* block, size_t block_size,
                                const braid_task_vtable* vt) {
    return task_new_in(out, core_or_current(rt), block, block_size, vt);
}

BRAID_API int braid_handle_task_new_in(braid_task** out, braid_handle* h, void* block, size_t block_size,
                                       const braid_task_vtable* vt) {
    return task_new_in(out, h ? h->core : nullptr, block, block_size, vt);
}

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
    task_of(task)->drop_handle();
}

BRAID_API int braid_task_abort(braid_task* task) {
    if (!task) return BRAID_EINVAL;
    task_of(task)->abort();
    return BRAID_OK;
}

BRAID_API int braid_task_is_finished(const braid_task* task) {
    if (!task) return BRAID_EINVAL;
    return task_of(task)->is_complete() ? 1 : 0;
}

BRAID_API int braid_task_poll_join(braid_task* task, braid_wake_fn wake, void* wake_data) {
    if (!task) return BRAID_EINVAL;
    return note_wait(task_of(task)->poll_join_handle(wake, wake_data), BRAID_WAIT_JOIN, task_of(task)->id);
}

BRAID_API int braid_task_try_join(braid_task* task) {
    if (!task) return BRAID_EINVAL;
    return task_of(task)->try_join_handle();
}

BRAID_API int braid_task_join(braid_task* task, braid_callback cb, void* user_data) {
    if (!task || !cb) return BRAID_EINVAL;
    return braid::capi::guarded([&] { return braid::detail::join_with_callback(task_of(task), cb, user_data); });
}

BRAID_API int braid_task_join_blocking(braid_task* task, int64_t timeout_ms) {
    if (!task) return BRAID_EINVAL;
    if (braid::capi::on_worker_thread()) return BRAID_EDEADLK;
    return braid::detail::join_blocking(task_of(task), timeout_ms);
}

BRAID_API uint64_t braid_task_id(const braid_task* task) { return task ? task_of(task)->id : 0; }

BRAID_API braid_task* braid_task_current(void) { return c_task(braid::detail::current_task()); }

BRAID_API uint64_t braid_task_current_id(void) {
    if (uint64_t releasing = braid::detail::releasing_task_id()) return releasing;
    Task* t = braid::detail::current_task();
    return t ? t->id : 0;
}

BRAID_API void braid_task_wake(braid_task* task) {
    if (task) task_of(task)->wake();
}

BRAID_API void braid_task_wake_fn(void* task) { braid_task_wake(static_cast<braid_task*>(task)); }

BRAID_API int braid_coop_take(void) { return braid::detail::coop::proceed(nullptr, nullptr) ? 1 : 0; }

BRAID_API int* braid_coop_counter(void) { return &braid::detail::coop::budget(); }

BRAID_API void* braid_alloc(size_t size) { return braid::detail::alloc(size); }
BRAID_API void braid_free(void* ptr, size_t size) { braid::detail::dealloc(ptr, size); }
BRAID_API size_t braid_alloc_slab_bytes(void) { return braid::detail::slab_bytes(); }

}  // extern "C"

// ---- what the task dump shows (src/task/task_info.hpp) -------------------------

extern "C" {

BRAID_API int braid_task_set_name(braid_task* task, const char* name) {
    if (!task || !name) return BRAID_EINVAL;
    return braid::detail::set_task_name(task_of(task), name);
}

BRAID_API const char* braid_task_name(const braid_task* task) {
    return task ? task_of(task)->name() : nullptr;
}

BRAID_API int braid_task_set_location(braid_task* task, const char* file, uint32_t line, const char* function) {
    if (!task || !file) return BRAID_EINVAL;
    Task* t = task_of(task);
    if (t->state.load(std::memory_order_acquire) & braid::detail::st::STARTED) return BRAID_EBUSY;
    braid::detail::TaskExtra* e = t->extra_or_make();
    if (!e) return BRAID_ENOMEM;
    e->file = file;
    e->line = line;
    e->function = function;
    return BRAID_OK;
}

BRAID_API int braid_task_set_trace(braid_task* task, braid_task_trace_fn trace) {
    if (!task) return BRAID_EINVAL;
    Task* t = task_of(task);
    if (t->state.load(std::memory_order_acquire) & braid::detail::st::STARTED) return BRAID_EBUSY;
    braid::detail::TaskExtra* e = t->extra_or_make();
    if (!e) return BRAID_ENOMEM;
    e->trace = trace;
    return BRAID_OK;
}

}  // extern "C"
