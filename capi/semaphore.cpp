// extern "C" shims: async semaphores (a detail::Semaphore).
#include <braid/semaphore.h>

#include "shim.hpp"
#include "task/task_info.hpp"
#include "wait_op.hpp"
#include "sync/semaphore.hpp"

using braid::detail::Semaphore;
using braid::detail::waiter_slot;
using braid::detail::note_wait;

namespace {
Semaphore* of(braid_semaphore* s) { return reinterpret_cast<Semaphore*>(s); }
static_assert(Semaphore::kMaxPermits == BRAID_SEMAPHORE_MAX_PERMITS);

int blocking(Semaphore* s, uint64_t n, int64_t timeout_ms) {
    if (braid::capi::on_worker_thread()) return BRAID_EDEADLK;
    return s->acquire_blocking(n, timeout_ms);
}
}  // namespace

extern "C" {

BRAID_API int braid_semaphore_new(braid_semaphore** out, size_t permits) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (uint64_t(permits) > Semaphore::kMaxPermits) return BRAID_ERANGE;
    Semaphore* s = Semaphore::create(permits, Semaphore::kMaxPermits);
    if (!s) return BRAID_ENOMEM;
    *out = reinterpret_cast<braid_semaphore*>(s);
    return BRAID_OK;
}

BRAID_API void braid_semaphore_free(braid_semaphore* sem) { Semaphore::destroy(of(sem)); }

BRAID_API int braid_semaphore_try_acquire(braid_semaphore* sem, size_t n) {
    if (!sem) return BRAID_EINVAL;
    if (uint64_t(n) > Semaphore::kMaxPermits) return BRAID_ERANGE;
    return of(sem)->try_acquire(n);
}

BRAID_API int braid_semaphore_poll_acquire(braid_semaphore* sem, size_t n, braid_waiter** w, braid_wake_fn wake,
                                           void* wake_data) {
    if (!sem || !w) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { braid_semaphore_unregister_acquire(sem, w); });
    if (uint64_t(n) > Semaphore::kMaxPermits) return BRAID_ERANGE;
    return note_wait(of(sem)->poll_acquire(n, waiter_slot(w), wake, wake_data), BRAID_WAIT_SEMAPHORE, of(sem));
}

BRAID_API void braid_semaphore_cancel_acquire(braid_semaphore* sem, braid_waiter** w) {
    if (sem && w) of(sem)->cancel(waiter_slot(w));
}

BRAID_API void braid_semaphore_unregister_acquire(braid_semaphore* sem, braid_waiter** w) {
    if (sem && w) of(sem)->unregister(waiter_slot(w));
}

BRAID_API int braid_semaphore_acquire_blocking(braid_semaphore* sem, size_t n, int64_t timeout_ms) {
    if (!sem) return BRAID_EINVAL;
    if (uint64_t(n) > Semaphore::kMaxPermits) return BRAID_ERANGE;
    return blocking(of(sem), n, timeout_ms);
}

BRAID_API int braid_semaphore_release(braid_semaphore* sem, size_t n) {
    if (!sem) return BRAID_EINVAL;
    if (uint64_t(n) > Semaphore::kMaxPermits) return BRAID_ERANGE;
    return of(sem)->release(n);
}

BRAID_API size_t braid_semaphore_forget_permits(braid_semaphore* sem, size_t n) {
    return sem ? size_t(of(sem)->forget(n)) : 0;
}

BRAID_API size_t braid_semaphore_available_permits(braid_semaphore* sem) {
    return sem ? size_t(of(sem)->available()) : 0;
}

BRAID_API void braid_semaphore_close(braid_semaphore* sem) {
    if (sem) of(sem)->close();
}

BRAID_API int braid_semaphore_is_closed(braid_semaphore* sem) {
    if (!sem) return BRAID_EINVAL;
    return of(sem)->closed() ? 1 : 0;
}

BRAID_API int braid_semaphore_acquire(braid_task** out, braid_runtime* rt, braid_semaphore* sem, size_t n,
                                      braid_callback cb, void* user_data) {
    if (sem && rt && cb && uint64_t(n) > Semaphore::kMaxPermits) {
        if (out) *out = nullptr;
        return BRAID_ERANGE;
    }
    return braid::capi::start_wait(out, rt, sem != nullptr, cb, user_data,
        [sem, n](braid_waiter** w, braid_wake_fn f, void* d) { return braid_semaphore_poll_acquire(sem, n, w, f, d); },
        [sem](braid_waiter** w) { braid_semaphore_cancel_acquire(sem, w); });
}

}  // extern "C"
