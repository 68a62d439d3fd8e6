// extern "C" shims: watch channels.  A sender is the channel; a receiver is
// its own small object (the version it has seen).
#include <braid/watch.h>

#include "shim.hpp"
#include "task/task_info.hpp"
#include "wait_op.hpp"
#include "sync/watch.hpp"

using braid::detail::ElemOps;
using braid::detail::Watch;
using braid::detail::waiter_slot;
using braid::detail::note_wait;

namespace {
Watch* of(braid_watch_tx* tx) { return reinterpret_cast<Watch*>(tx); }
Watch::Rx* of(braid_watch_rx* rx) { return reinterpret_cast<Watch::Rx*>(rx); }
braid_watch_rx* c_rx(Watch::Rx* rx) { return reinterpret_cast<braid_watch_rx*>(rx); }

bool value_ok(braid_watch_tx* tx, void* v, size_t size) {
    return tx && (v || !size) && size == of(tx)->ops().size;
}
}  // namespace

extern "C" {

BRAID_API int braid_watch_new(braid_watch_tx** out_tx, braid_watch_rx** out_rx, void* initial, size_t elem_size,
                              size_t elem_align, braid_relocate_fn relocate, braid_drop_fn drop) {
    if (!out_tx || !out_rx) return BRAID_EINVAL;
    *out_tx = nullptr;
    *out_rx = nullptr;
    if (!ElemOps::valid(elem_size, elem_align) || (!initial && elem_size)) return BRAID_EINVAL;
    Watch::Rx* rx = nullptr;
    Watch* w = Watch::create(ElemOps{elem_size, elem_align, relocate, drop}, initial, &rx);
    if (!w) return BRAID_ENOMEM;
    *out_tx = reinterpret_cast<braid_watch_tx*>(w);
    *out_rx = c_rx(rx);
    return BRAID_OK;
}

// ---- senders -------------------------------------------------------------------

BRAID_API int braid_watch_tx_clone(braid_watch_tx** out, braid_watch_tx* tx) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!tx) return BRAID_EINVAL;
    of(tx)->add_sender();
    *out = tx;
    return BRAID_OK;
}

BRAID_API void braid_watch_tx_free(braid_watch_tx* tx) {
    if (tx) of(tx)->drop_sender();
}

BRAID_API int braid_watch_send(braid_watch_tx* tx, void* value, size_t value_size) {
    if (!value_ok(tx, value, value_size)) return BRAID_EINVAL;
    return of(tx)->send(value);
}

BRAID_API int braid_watch_send_replace(braid_watch_tx* tx, void* value, size_t value_size) {
    if (!value_ok(tx, value, value_size)) return BRAID_EINVAL;
    return of(tx)->send_replace(value);
}

BRAID_API int braid_watch_send_modify(braid_watch_tx* tx, braid_watch_modify_fn modify, void* user_data,
                                      int* out_modified) {
    if (out_modified) *out_modified = 0;
    if (!tx || !modify) return BRAID_EINVAL;
    int m = 0;
    int rc = braid::capi::guarded([&] {
        m = of(tx)->send_modify(modify, user_data);
        return int(BRAID_OK);
    });
    if (out_modified) *out_modified = m;
    return rc;
}

BRAID_API int braid_watch_tx_borrow(braid_watch_tx* tx, const void** out_value) {
    if (!out_value) return BRAID_EINVAL;
    *out_value = nullptr;
    if (!tx) return BRAID_EINVAL;
    *out_value = of(tx)->borrow();
    return BRAID_OK;
}

BRAID_API int braid_watch_tx_borrow_end(braid_watch_tx* tx) {
    if (!tx) return BRAID_EINVAL;
    return of(tx)->tx_borrow_end() ? BRAID_OK : BRAID_EINVAL;
}

BRAID_API size_t braid_watch_receiver_count(braid_watch_tx* tx) { return tx ? of(tx)->receiver_count() : 0; }

BRAID_API int braid_watch_tx_is_closed(braid_watch_tx* tx) {
    if (!tx) return BRAID_EINVAL;
    return of(tx)->receiver_count() == 0 ? 1 : 0;
}

BRAID_API int braid_watch_tx_poll_closed(braid_watch_tx* tx, braid_waiter** w, braid_wake_fn wake,
                                         void* wake_data) {
    if (!tx || !w) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { braid_watch_tx_unregister_closed(tx, w); });
    return of(tx)->poll_closed(waiter_slot(w), wake, wake_data);
}

BRAID_API void braid_watch_tx_cancel_closed(braid_watch_tx* tx, braid_waiter** w) {
    if (tx && w) of(tx)->cancel_closed(waiter_slot(w));
}

BRAID_API void braid_watch_tx_unregister_closed(braid_watch_tx* tx, braid_waiter** w) {
    if (tx && w) of(tx)->unregister_closed(waiter_slot(w));
}

BRAID_API int braid_watch_subscribe(braid_watch_rx** out, braid_watch_tx* tx) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!tx) return BRAID_EINVAL;
    Watch::Rx* rx = of(tx)->subscribe();
    if (!rx) return BRAID_ENOMEM;
    *out = c_rx(rx);
    return BRAID_OK;
}

// ---- receivers -----------------------------------------------------------------

BRAID_API int braid_watch_rx_clone(braid_watch_rx** out, braid_watch_rx* rx) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!rx) return BRAID_EINVAL;
    Watch::Rx* r = of(rx)->ch->clone_rx(of(rx));
    if (!r) return BRAID_ENOMEM;
    *out = c_rx(r);
    return BRAID_OK;
}

BRAID_API void braid_watch_rx_free(braid_watch_rx* rx) {
    if (rx) Watch::drop_receiver(of(rx));
}

BRAID_API int braid_watch_rx_borrow(braid_watch_rx* rx, int mark_seen, const void** out_value, int* out_changed) {
    if (out_changed) *out_changed = 0;
    if (!out_value) return BRAID_EINVAL;
    *out_value = nullptr;
    if (!rx) return BRAID_EINVAL;
    bool changed = false;
    *out_value = of(rx)->ch->borrow(of(rx), mark_seen != 0, &changed);
    if (out_changed) *out_changed = changed ? 1 : 0;
    return BRAID_OK;
}

BRAID_API int braid_watch_rx_borrow_end(braid_watch_rx* rx) {
    if (!rx) return BRAID_EINVAL;
    return of(rx)->ch->rx_borrow_end(of(rx)) ? BRAID_OK : BRAID_EINVAL;
}

BRAID_API int braid_watch_rx_has_changed(braid_watch_rx* rx) {
    if (!rx) return BRAID_EINVAL;
    return of(rx)->ch->has_changed(of(rx));
}

BRAID_API int braid_watch_rx_poll_changed(braid_watch_rx* rx, braid_waiter** w, braid_wake_fn wake,
                                          void* wake_data) {
    if (!rx || !w) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { braid_watch_rx_unregister_changed(rx, w); });
    return note_wait(of(rx)->ch->poll_changed(of(rx), waiter_slot(w), wake, wake_data), BRAID_WAIT_RECV, of(rx)->ch);
}

BRAID_API void braid_watch_rx_cancel_changed(braid_watch_rx* rx, braid_waiter** w) {
    if (rx && w) of(rx)->ch->cancel_changed(waiter_slot(w));
}

BRAID_API void braid_watch_rx_unregister_changed(braid_watch_rx* rx, braid_waiter** w) {
    if (rx && w) of(rx)->ch->unregister_changed(waiter_slot(w));
}

BRAID_API int braid_watch_rx_changed_blocking(braid_watch_rx* rx, int64_t timeout_ms) {
    if (!rx) return BRAID_EINVAL;
    if (braid::capi::on_worker_thread()) return BRAID_EDEADLK;
    return of(rx)->ch->changed_blocking(of(rx), timeout_ms);
}

BRAID_API int braid_watch_rx_changed(braid_task** out, braid_runtime* rt, braid_watch_rx* rx, braid_callback cb,
                                     void* user_data) {
    return braid::capi::start_wait(out, rt, rx != nullptr, cb, user_data,
        [rx](braid_waiter** w, braid_wake_fn f, void* d) { return braid_watch_rx_poll_changed(rx, w, f, d); },
        [rx](braid_waiter** w) { braid_watch_rx_cancel_changed(rx, w); });
}

}  // extern "C"
