// extern "C" shims: async mutexes (a detail::Semaphore of one permit).
#include <braid/mutex.h>

#include "shim.hpp"
#include "task/task_info.hpp"
#include "wait_op.hpp"
#include "sync/semaphore.hpp"

using braid::detail::Semaphore;
using braid::detail::waiter_slot;
using braid::detail::note_wait;

namespace {
Semaphore* of(braid_mutex* s) { return reinterpret_cast<Semaphore*>(s); }

int blocking(Semaphore* s, uint64_t n, int64_t timeout_ms) {
    if (braid::capi::on_worker_thread()) return BRAID_EDEADLK;
    return s->acquire_blocking(n, timeout_ms);
}
}  // namespace

extern "C" {

BRAID_API int braid_mutex_new(braid_mutex** out) {
    if (!out) return BRAID_EINVAL;
    Semaphore* s = Semaphore::create(1, 1);
    *out = reinterpret_cast<braid_mutex*>(s);
    return s ? BRAID_OK : BRAID_ENOMEM;
}

BRAID_API void braid_mutex_free(braid_mutex* m) { Semaphore::destroy(of(m)); }

BRAID_API int braid_mutex_try_lock(braid_mutex* m) {
    if (!m) return BRAID_EINVAL;
    return of(m)->try_acquire(1);
}

BRAID_API int braid_mutex_poll_lock(braid_mutex* m, braid_waiter** w, braid_wake_fn wake, void* wake_data) {
    if (!m || !w) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { braid_mutex_unregister_lock(m, w); });
    return note_wait(of(m)->poll_acquire(1, waiter_slot(w), wake, wake_data), BRAID_WAIT_LOCK, of(m));
}

BRAID_API void braid_mutex_cancel_lock(braid_mutex* m, braid_waiter** w) {
    if (m && w) of(m)->cancel(waiter_slot(w));
}

BRAID_API void braid_mutex_unregister_lock(braid_mutex* m, braid_waiter** w) {
    if (m && w) of(m)->unregister(waiter_slot(w));
}

BRAID_API int braid_mutex_lock_blocking(braid_mutex* m, int64_t timeout_ms) {
    if (!m) return BRAID_EINVAL;
    return blocking(of(m), 1, timeout_ms);
}

BRAID_API int braid_mutex_unlock(braid_mutex* m) {
    if (!m) return BRAID_EINVAL;
    return of(m)->release(1) == BRAID_OK ? BRAID_OK : BRAID_EINVAL;
}

BRAID_API int braid_mutex_lock(braid_task** out, braid_runtime* rt, braid_mutex* m, braid_callback cb,
                               void* user_data) {
    return braid::capi::start_wait(out, rt, m != nullptr, cb, user_data,
        [m](braid_waiter** w, braid_wake_fn f, void* d) { return braid_mutex_poll_lock(m, w, f, d); },
        [m](braid_waiter** w) { braid_mutex_cancel_lock(m, w); });
}

}  // extern "C"
