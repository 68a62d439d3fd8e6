// extern "C" shims: async read-write locks (a detail::RwLock: a semaphore of
// kMaxReads permits, a read takes one, a write all, and a writer flag).
#include <braid/rwlock.h>

#include "shim.hpp"
#include "task/task_info.hpp"
#include "wait_op.hpp"
#include "sync/rwlock.hpp"

using braid::detail::RwLock;
using braid::detail::Semaphore;
using braid::detail::waiter_slot;
using braid::detail::note_wait;

namespace {
RwLock* lock_of(braid_rwlock* l) { return reinterpret_cast<RwLock*>(l); }
Semaphore* of(braid_rwlock* l) { return &lock_of(l)->sem(); }
static_assert(RwLock::kMaxReads == BRAID_RWLOCK_MAX_READERS);

int blocking(Semaphore* s, uint64_t n, int64_t timeout_ms) {
    if (braid::capi::on_worker_thread()) return BRAID_EDEADLK;
    return s->acquire_blocking(n, timeout_ms);
}
}  // namespace

extern "C" {

BRAID_API int braid_rwlock_new(braid_rwlock** out) {
    if (!out) return BRAID_EINVAL;
    RwLock* l = RwLock::create();
    *out = reinterpret_cast<braid_rwlock*>(l);
    return l ? BRAID_OK : BRAID_ENOMEM;
}

BRAID_API int braid_rwlock_new_with_max_readers(braid_rwlock** out, uint32_t max_readers) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (max_readers == 0 || max_readers > BRAID_RWLOCK_MAX_READERS) return BRAID_EINVAL;
    RwLock* l = RwLock::create(max_readers);
    *out = reinterpret_cast<braid_rwlock*>(l);
    return l ? BRAID_OK : BRAID_ENOMEM;
}

BRAID_API void braid_rwlock_free(braid_rwlock* rw) { RwLock::destroy(lock_of(rw)); }

BRAID_API int braid_rwlock_try_read(braid_rwlock* rw) {
    if (!rw) return BRAID_EINVAL;
    return of(rw)->try_acquire(1);
}

BRAID_API int braid_rwlock_try_write(braid_rwlock* rw) {
    if (!rw) return BRAID_EINVAL;
    return lock_of(rw)->write_acquired(of(rw)->try_acquire(lock_of(rw)->reads()));
}

BRAID_API int braid_rwlock_poll_read(braid_rwlock* rw, braid_waiter** w, braid_wake_fn wake, void* wake_data) {
    if (!rw || !w) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { braid_rwlock_unregister_read(rw, w); });
    return note_wait(of(rw)->poll_acquire(1, waiter_slot(w), wake, wake_data), BRAID_WAIT_READ_LOCK, of(rw));
}

BRAID_API int braid_rwlock_poll_write(braid_rwlock* rw, braid_waiter** w, braid_wake_fn wake, void* wake_data) {
    if (!rw || !w) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { braid_rwlock_unregister_write(rw, w); });
    return note_wait(lock_of(rw)->write_acquired(of(rw)->poll_acquire(lock_of(rw)->reads(), waiter_slot(w), wake, wake_data)),
                     BRAID_WAIT_WRITE_LOCK, of(rw));
}

BRAID_API void braid_rwlock_cancel_read(braid_rwlock* rw, braid_waiter** w) {
    if (rw && w) of(rw)->cancel(waiter_slot(w));
}

BRAID_API void braid_rwlock_unregister_read(braid_rwlock* rw, braid_waiter** w) {
    if (rw && w) of(rw)->unregister(waiter_slot(w));
}

BRAID_API void braid_rwlock_cancel_write(braid_rwlock* rw, braid_waiter** w) {
    if (rw && w) of(rw)->cancel(waiter_slot(w));
}

BRAID_API void braid_rwlock_unregister_write(braid_rwlock* rw, braid_waiter** w) {
    if (rw && w) of(rw)->unregister(waiter_slot(w));
}

BRAID_API int braid_rwlock_read_blocking(braid_rwlock* rw, int64_t timeout_ms) {
    if (!rw) return BRAID_EINVAL;
    return blocking(of(rw), 1, timeout_ms);
}

BRAID_API int braid_rwlock_write_blocking(braid_rwlock* rw, int64_t timeout_ms) {
    if (!rw) return BRAID_EINVAL;
    return lock_of(rw)->write_acquired(blocking(of(rw), lock_of(rw)->reads(), timeout_ms));
}

BRAID_API int braid_rwlock_read_unlock(braid_rwlock* rw) {
    if (!rw) return BRAID_EINVAL;
    return lock_of(rw)->read_unlock();
}

BRAID_API int braid_rwlock_write_unlock(braid_rwlock* rw) {
    if (!rw) return BRAID_EINVAL;
    return lock_of(rw)->write_unlock();
}

BRAID_API int braid_rwlock_downgrade(braid_rwlock* rw) {
    if (!rw) return BRAID_EINVAL;
    return lock_of(rw)->downgrade();
}

BRAID_API int braid_rwlock_read(braid_task** out, braid_runtime* rt, braid_rwlock* rw, braid_callback cb,
                                void* user_data) {
    return braid::capi::start_wait(out, rt, rw != nullptr, cb, user_data,
        [rw](braid_waiter** w, braid_wake_fn f, void* d) { return braid_rwlock_poll_read(rw, w, f, d); },
        [rw](braid_waiter** w) { braid_rwlock_cancel_read(rw, w); });
}

BRAID_API int braid_rwlock_write(braid_task** out, braid_runtime* rt, braid_rwlock* rw, braid_callback cb,
                                 void* user_data) {
    return braid::capi::start_wait(out, rt, rw != nullptr, cb, user_data,
        [rw](braid_waiter** w, braid_wake_fn f, void* d) { return braid_rwlock_poll_write(rw, w, f, d); },
        [rw](braid_waiter** w) { braid_rwlock_cancel_write(rw, w); });
}

}  // extern "C"
