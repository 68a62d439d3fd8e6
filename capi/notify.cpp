// extern "C" shims: Notify.
#include <braid/notify.h>

#include "shim.hpp"
#include "task/task_info.hpp"
#include "wait_op.hpp"
#include "sync/notify.hpp"

using braid::detail::Notify;
using braid::detail::waiter_slot;
using braid::detail::note_wait;

namespace {
Notify* of(braid_notify* n) { return reinterpret_cast<Notify*>(n); }
}  // namespace

extern "C" {

BRAID_API int braid_notify_new(braid_notify** out) {
    if (!out) return BRAID_EINVAL;
    Notify* n = Notify::create();
    *out = reinterpret_cast<braid_notify*>(n);
    return n ? BRAID_OK : BRAID_ENOMEM;
}

BRAID_API void braid_notify_free(braid_notify* n) { Notify::destroy(of(n)); }

BRAID_API int braid_notify_try_notified(braid_notify* n) {
    if (!n) return BRAID_EINVAL;
    braid::detail::Waiter* w = nullptr;
    int rc = of(n)->poll_notified(&w, nullptr, nullptr);
    return rc == BRAID_PENDING ? BRAID_EAGAIN : rc;
}

BRAID_API int braid_notify_poll_notified(braid_notify* n, braid_waiter** w, braid_wake_fn wake, void* wake_data) {
    if (!n || !w) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { braid_notify_unregister_notified(n, w); });
    return note_wait(of(n)->poll_notified(waiter_slot(w), wake, wake_data), BRAID_WAIT_NOTIFY, of(n));
}

BRAID_API int braid_notify_enable_notified(braid_notify* n, braid_waiter** w) {
    if (!n || !w) return BRAID_EINVAL;
    return of(n)->enable(waiter_slot(w));
}

BRAID_API uint64_t braid_notify_waiters_epoch(const braid_notify* n) {
    return n ? reinterpret_cast<const Notify*>(n)->waiters_epoch() : 0;
}

BRAID_API int braid_notify_poll_notified_since(braid_notify* n, uint64_t epoch, braid_waiter** w, braid_wake_fn wake,
                                               void* wake_data) {
    if (!n || !w) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { braid_notify_unregister_notified(n, w); });
    return note_wait(of(n)->poll_notified(waiter_slot(w), wake, wake_data, epoch), BRAID_WAIT_NOTIFY, of(n));
}

BRAID_API int braid_notify_enable_notified_since(braid_notify* n, uint64_t epoch, braid_waiter** w) {
    if (!n || !w) return BRAID_EINVAL;
    return of(n)->enable(waiter_slot(w), epoch);
}

BRAID_API void braid_notify_cancel_notified(braid_notify* n, braid_waiter** w) {
    if (n && w) of(n)->cancel(waiter_slot(w));
}

BRAID_API void braid_notify_unregister_notified(braid_notify* n, braid_waiter** w) {
    if (n && w) of(n)->unregister(waiter_slot(w));
}

BRAID_API int braid_notify_notified_blocking(braid_notify* n, int64_t timeout_ms) {
    if (!n) return BRAID_EINVAL;
    if (braid::capi::on_worker_thread()) return BRAID_EDEADLK;
    return of(n)->notified_blocking(timeout_ms);
}

BRAID_API void braid_notify_notify_one(braid_notify* n) {
    if (n) of(n)->notify_one();
}

BRAID_API void braid_notify_notify_last(braid_notify* n) {
    if (n) of(n)->notify_last();
}

BRAID_API void braid_notify_notify_waiters(braid_notify* n) {
    if (n) of(n)->notify_waiters();
}

BRAID_API int braid_notify_notified(braid_task** out, braid_runtime* rt, braid_notify* n, braid_callback cb,
                                    void* user_data) {
    // The wait starts on a worker later; a notify_waiters from now on is
    // still this wait's (as for a Notified created now).
    uint64_t epoch = braid_notify_waiters_epoch(n);
    return braid::capi::start_wait(out, rt, n != nullptr, cb, user_data,
        [n, epoch](braid_waiter** w, braid_wake_fn f, void* d) {
            return braid_notify_poll_notified_since(n, epoch, w, f, d);
        },
        [n](braid_waiter** w) { braid_notify_cancel_notified(n, w); });
}

}  // extern "C"
