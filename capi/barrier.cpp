// extern "C" shims: Barrier.
#include <braid/barrier.h>

#include "shim.hpp"
#include "wait_op.hpp"
#include "sync/barrier.hpp"

using braid::detail::Barrier;
using braid::detail::waiter_slot;

namespace {
Barrier* of(braid_barrier* b) { return reinterpret_cast<Barrier*>(b); }
static_assert(Barrier::kLeader == BRAID_BARRIER_LEADER);
}  // namespace

extern "C" {

BRAID_API int braid_barrier_new(braid_barrier** out, size_t n) {
    if (!out) return BRAID_EINVAL;
    Barrier* b = Barrier::create(n);
    *out = reinterpret_cast<braid_barrier*>(b);
    return b ? BRAID_OK : BRAID_ENOMEM;
}

BRAID_API void braid_barrier_free(braid_barrier* b) { Barrier::destroy(of(b)); }

BRAID_API int braid_barrier_poll_wait(braid_barrier* b, braid_waiter** w, braid_wake_fn wake, void* wake_data) {
    if (!b || !w) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { braid_barrier_unregister_wait(b, w); });
    return of(b)->poll_wait(waiter_slot(w), wake, wake_data);
}

BRAID_API void braid_barrier_cancel_wait(braid_barrier* b, braid_waiter** w) {
    if (b && w) of(b)->cancel(waiter_slot(w));
}

BRAID_API void braid_barrier_unregister_wait(braid_barrier* b, braid_waiter** w) {
    if (b && w) of(b)->unregister(waiter_slot(w));
}

BRAID_API int braid_barrier_wait_blocking(braid_barrier* b, int64_t timeout_ms) {
    if (!b) return BRAID_EINVAL;
    if (braid::capi::on_worker_thread()) return BRAID_EDEADLK;
    return of(b)->wait_blocking(timeout_ms);
}

BRAID_API int braid_barrier_wait(braid_task** out, braid_runtime* rt, braid_barrier* b, braid_callback cb,
                                 void* user_data) {
    return braid::capi::start_wait(out, rt, b != nullptr, cb, user_data,
        [b](braid_waiter** w, braid_wake_fn f, void* d) { return braid_barrier_poll_wait(b, w, f, d); },
        [b](braid_waiter** w) { braid_barrier_cancel_wait(b, w); });
}

}  // extern "C"
