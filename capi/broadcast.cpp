// extern "C" shims: broadcast channels.  A sender is the channel; a receiver
// is its own small object (its position).
#include <braid/broadcast.h>

#include "shim.hpp"
#include "task/task_info.hpp"
#include "wait_op.hpp"
#include "sync/broadcast.hpp"

using braid::detail::Broadcast;
using braid::detail::ElemOps;
using braid::detail::waiter_slot;
using braid::detail::note_wait;

namespace {
Broadcast* of(braid_broadcast_tx* tx) { return reinterpret_cast<Broadcast*>(tx); }
Broadcast::Rx* of(braid_broadcast_rx* rx) { return reinterpret_cast<Broadcast::Rx*>(rx); }
braid_broadcast_rx* c_rx(Broadcast::Rx* rx) { return reinterpret_cast<braid_broadcast_rx*>(rx); }
static_assert(Broadcast::kLagged == BRAID_BROADCAST_LAGGED);

bool out_ok(braid_broadcast_rx* rx, void* out, size_t size) {
    return rx && (out || !size) && size == of(rx)->ch->ops().size;
}
}  // namespace

extern "C" {

BRAID_API int braid_broadcast_new(braid_broadcast_tx** out, size_t capacity, size_t elem_size, size_t elem_align,
                                  braid_relocate_fn relocate, braid_clone_fn clone, braid_drop_fn drop) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (capacity == 0 || !ElemOps::valid(elem_size, elem_align)) return BRAID_EINVAL;
    Broadcast* b = Broadcast::create(ElemOps{elem_size, elem_align, relocate, drop}, clone, capacity);
    if (!b) return BRAID_ENOMEM;
    *out = reinterpret_cast<braid_broadcast_tx*>(b);
    return BRAID_OK;
}

BRAID_API int braid_broadcast_tx_clone(braid_broadcast_tx** out, braid_broadcast_tx* tx) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!tx) return BRAID_EINVAL;
    of(tx)->add_sender();
    *out = tx;
    return BRAID_OK;
}

BRAID_API void braid_broadcast_tx_free(braid_broadcast_tx* tx) {
    if (tx) of(tx)->drop_sender();
}

BRAID_API int braid_broadcast_send(braid_broadcast_tx* tx, void* value, size_t value_size, size_t* out_receivers) {
    if (out_receivers) *out_receivers = 0;
    if (!tx || (!value && value_size) || value_size != of(tx)->ops().size) return BRAID_EINVAL;
    return of(tx)->send(value, out_receivers);
}

BRAID_API size_t braid_broadcast_receiver_count(braid_broadcast_tx* tx) { return tx ? of(tx)->receiver_count() : 0; }

BRAID_API size_t braid_broadcast_tx_len(braid_broadcast_tx* tx) { return tx ? of(tx)->queued() : 0; }

BRAID_API int braid_broadcast_subscribe(braid_broadcast_rx** out, braid_broadcast_tx* tx) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!tx) return BRAID_EINVAL;
    Broadcast::Rx* rx = of(tx)->subscribe();
    if (!rx) return BRAID_ENOMEM;
    *out = c_rx(rx);
    return BRAID_OK;
}

BRAID_API int braid_broadcast_rx_resubscribe(braid_broadcast_rx** out, braid_broadcast_rx* rx) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!rx) return BRAID_EINVAL;
    Broadcast::Rx* r = of(rx)->ch->subscribe();
    if (!r) return BRAID_ENOMEM;
    *out = c_rx(r);
    return BRAID_OK;
}

BRAID_API void braid_broadcast_rx_free(braid_broadcast_rx* rx) {
    if (rx) Broadcast::drop_receiver(of(rx));
}

BRAID_API int braid_broadcast_poll_recv(braid_broadcast_rx* rx, void* out, size_t out_size, uint64_t* out_lagged,
                                        braid_waiter** w, braid_wake_fn wake, void* wake_data) {
    if (out_lagged) *out_lagged = 0;
    if (!rx || !w) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { braid_broadcast_unregister_recv(rx, w); });
    if (!out_ok(rx, out, out_size)) return BRAID_EINVAL;
    uint64_t lagged = 0;
    int rc = of(rx)->ch->poll_recv(of(rx), out, &lagged, waiter_slot(w), wake, wake_data);
    if (out_lagged) *out_lagged = lagged;
    return note_wait(rc, BRAID_WAIT_RECV, of(rx)->ch);
}

BRAID_API void braid_broadcast_cancel_recv(braid_broadcast_rx* rx, braid_waiter** w) {
    if (rx && w) of(rx)->ch->cancel_recv(waiter_slot(w));
}

BRAID_API void braid_broadcast_unregister_recv(braid_broadcast_rx* rx, braid_waiter** w) {
    if (rx && w) of(rx)->ch->unregister_recv(waiter_slot(w));
}

BRAID_API int braid_broadcast_try_recv(braid_broadcast_rx* rx, void* out, size_t out_size, uint64_t* out_lagged) {
    if (!out_ok(rx, out, out_size)) return BRAID_EINVAL;
    uint64_t lagged = 0;
    braid::detail::Waiter* w = nullptr;
    int rc = of(rx)->ch->poll_recv(of(rx), out, &lagged, &w, nullptr, nullptr);
    if (out_lagged) *out_lagged = lagged;
    return rc == BRAID_PENDING ? BRAID_EAGAIN : rc;
}

BRAID_API int braid_broadcast_recv_blocking(braid_broadcast_rx* rx, void* out, size_t out_size,
                                            uint64_t* out_lagged, int64_t timeout_ms) {
    if (!out_ok(rx, out, out_size)) return BRAID_EINVAL;
    if (braid::capi::on_worker_thread()) return BRAID_EDEADLK;
    uint64_t lagged = 0;
    int rc = of(rx)->ch->recv_blocking(of(rx), out, &lagged, timeout_ms);
    if (out_lagged) *out_lagged = lagged;
    return rc;
}

BRAID_API size_t braid_broadcast_rx_len(braid_broadcast_rx* rx) { return rx ? of(rx)->ch->len(of(rx)) : 0; }

BRAID_API int braid_broadcast_recv(braid_task** out, braid_runtime* rt, braid_broadcast_rx* rx, void* buf,
                                   size_t buf_size, uint64_t* out_lagged, braid_callback cb, void* user_data) {
    return braid::capi::start_wait(out, rt, out_ok(rx, buf, buf_size), cb, user_data,
        [rx, buf, buf_size, out_lagged](braid_waiter** w, braid_wake_fn f, void* d) {
            return braid_broadcast_poll_recv(rx, buf, buf_size, out_lagged, w, f, d);
        },
        [rx](braid_waiter** w) { braid_broadcast_cancel_recv(rx, w); });
}

}  // extern "C"
