// extern "C" shims: mpsc channels.  Every handle is the channel itself.
#include <braid/mpsc.h>

#include "shim.hpp"
#include "task/task_info.hpp"
#include "wait_op.hpp"
#include "sync/mpsc.hpp"

using braid::detail::ElemOps;
using braid::detail::Mpsc;
using braid::detail::Semaphore;
using braid::detail::waiter_slot;
using braid::detail::note_wait;

namespace {
Mpsc* of(braid_mpsc_tx* h) { return reinterpret_cast<Mpsc*>(h); }
Mpsc* of(braid_mpsc_weak_tx* h) { return reinterpret_cast<Mpsc*>(h); }
Mpsc* of(braid_mpsc_rx* h) { return reinterpret_cast<Mpsc*>(h); }

// A value argument: non-NULL (unless zero-sized) and exactly one element.
template <class H>
bool value_ok(H* h, const void* v, size_t size) {
    return h && (v || !size) && size == of(h)->ops().size;
}

int make(braid_mpsc_tx** out_tx, braid_mpsc_rx** out_rx, size_t capacity, size_t elem_size, size_t elem_align,
         braid_relocate_fn relocate, braid_drop_fn drop) {
    if (!out_tx || !out_rx) return BRAID_EINVAL;
    *out_tx = nullptr;
    *out_rx = nullptr;
    if (!ElemOps::valid(elem_size, elem_align) || uint64_t(capacity) > Semaphore::kMaxPermits) return BRAID_EINVAL;
    Mpsc* c = Mpsc::create(ElemOps{elem_size, elem_align, relocate, drop}, capacity);
    if (!c) return BRAID_ENOMEM;
    *out_tx = reinterpret_cast<braid_mpsc_tx*>(c);
    *out_rx = reinterpret_cast<braid_mpsc_rx*>(c);
    return BRAID_OK;
}
}  // namespace

extern "C" {

BRAID_API int braid_mpsc_new(braid_mpsc_tx** out_tx, braid_mpsc_rx** out_rx, size_t capacity,
                             size_t elem_size, size_t elem_align, braid_relocate_fn relocate,
                             braid_drop_fn drop) {
    if (capacity == 0) {
        if (out_tx) *out_tx = nullptr;
        if (out_rx) *out_rx = nullptr;
        return BRAID_EINVAL;
    }
    return make(out_tx, out_rx, capacity, elem_size, elem_align, relocate, drop);
}

BRAID_API int braid_mpsc_new_unbounded(braid_mpsc_tx** out_tx, braid_mpsc_rx** out_rx, size_t elem_size,
                                       size_t elem_align, braid_relocate_fn relocate, braid_drop_fn drop) {
    return make(out_tx, out_rx, 0, elem_size, elem_align, relocate, drop);
}

// ---- senders -------------------------------------------------------------------

BRAID_API int braid_mpsc_tx_clone(braid_mpsc_tx** out, braid_mpsc_tx* tx) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!tx) return BRAID_EINVAL;
    of(tx)->add_sender();
    *out = tx;
    return BRAID_OK;
}

BRAID_API void braid_mpsc_tx_free(braid_mpsc_tx* tx) {
    if (tx) of(tx)->drop_sender();
}

BRAID_API int braid_mpsc_tx_downgrade(braid_mpsc_weak_tx** out, braid_mpsc_tx* tx) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!tx) return BRAID_EINVAL;
    of(tx)->add_weak();
    *out = reinterpret_cast<braid_mpsc_weak_tx*>(tx);
    return BRAID_OK;
}

BRAID_API int braid_mpsc_weak_tx_upgrade(braid_mpsc_tx** out, braid_mpsc_weak_tx* weak) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!weak) return BRAID_EINVAL;
    if (!of(weak)->upgrade()) return BRAID_ECLOSED;
    *out = reinterpret_cast<braid_mpsc_tx*>(weak);
    return BRAID_OK;
}

BRAID_API int braid_mpsc_weak_tx_clone(braid_mpsc_weak_tx** out, braid_mpsc_weak_tx* weak) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!weak) return BRAID_EINVAL;
    of(weak)->add_weak();
    *out = weak;
    return BRAID_OK;
}

BRAID_API void braid_mpsc_weak_tx_free(braid_mpsc_weak_tx* weak) {
    if (weak) of(weak)->drop_weak();
}

BRAID_API int braid_mpsc_try_send(braid_mpsc_tx* tx, void* value, size_t value_size) {
    if (!value_ok(tx, value, value_size)) return BRAID_EINVAL;
    braid::detail::Waiter* w = nullptr;
    int rc = of(tx)->poll_send(value, &w, nullptr, nullptr);
    return rc == BRAID_PENDING ? BRAID_EAGAIN : rc;
}

BRAID_API int braid_mpsc_poll_send(braid_mpsc_tx* tx, void* value, size_t value_size, braid_waiter** w,
                                   braid_wake_fn wake, void* wake_data) {
    if (!tx || !w) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { braid_mpsc_unregister_send(tx, w); });
    if (!value_ok(tx, value, value_size)) return BRAID_EINVAL;
    return note_wait(of(tx)->poll_send(value, waiter_slot(w), wake, wake_data), BRAID_WAIT_SEND, of(tx));
}

BRAID_API void braid_mpsc_cancel_send(braid_mpsc_tx* tx, braid_waiter** w) {
    if (tx && w) of(tx)->cancel_send(waiter_slot(w));
}

BRAID_API void braid_mpsc_unregister_send(braid_mpsc_tx* tx, braid_waiter** w) {
    if (tx && w) of(tx)->unregister_send(waiter_slot(w));
}

BRAID_API int braid_mpsc_send_blocking(braid_mpsc_tx* tx, void* value, size_t value_size, int64_t timeout_ms) {
    if (!value_ok(tx, value, value_size)) return BRAID_EINVAL;
    if (braid::capi::on_worker_thread()) return BRAID_EDEADLK;
    return of(tx)->send_blocking(value, timeout_ms);
}

BRAID_API int braid_mpsc_try_reserve(braid_mpsc_tx* tx, size_t n) {
    if (!tx) return BRAID_EINVAL;
    if (!of(tx)->bounded()) return BRAID_ENOTSUP;
    if (n > of(tx)->max_capacity()) return BRAID_ERANGE;
    braid::detail::Waiter* w = nullptr;
    int rc = of(tx)->poll_reserve(n, &w, nullptr, nullptr);
    return rc == BRAID_PENDING ? BRAID_EAGAIN : rc;
}

BRAID_API int braid_mpsc_poll_reserve(braid_mpsc_tx* tx, size_t n, braid_waiter** w, braid_wake_fn wake,
                                      void* wake_data) {
    if (!tx || !w) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { braid_mpsc_unregister_reserve(tx, w); });
    if (!of(tx)->bounded()) return BRAID_ENOTSUP;
    if (n > of(tx)->max_capacity()) return BRAID_ERANGE;
    return note_wait(of(tx)->poll_reserve(n, waiter_slot(w), wake, wake_data), BRAID_WAIT_SEND, of(tx));
}

BRAID_API void braid_mpsc_cancel_reserve(braid_mpsc_tx* tx, braid_waiter** w) {
    if (tx && w) of(tx)->cancel_send(waiter_slot(w));
}

BRAID_API void braid_mpsc_unregister_reserve(braid_mpsc_tx* tx, braid_waiter** w) {
    if (tx && w) of(tx)->unregister_send(waiter_slot(w));
}

BRAID_API int braid_mpsc_send_reserved(braid_mpsc_tx* tx, void* value, size_t value_size) {
    if (!value_ok(tx, value, value_size)) return BRAID_EINVAL;
    if (!of(tx)->bounded()) return BRAID_ENOTSUP;
    return of(tx)->send_reserved(value);
}

BRAID_API int braid_mpsc_release_reserved(braid_mpsc_tx* tx, size_t n) {
    if (!tx) return BRAID_EINVAL;
    if (!of(tx)->bounded()) return BRAID_ENOTSUP;
    return of(tx)->release_reserved(n);
}

BRAID_API int braid_mpsc_tx_poll_closed(braid_mpsc_tx* tx, braid_waiter** w, braid_wake_fn wake,
                                        void* wake_data) {
    if (!tx || !w) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { braid_mpsc_tx_unregister_closed(tx, w); });
    return of(tx)->poll_closed(waiter_slot(w), wake, wake_data);
}

BRAID_API void braid_mpsc_tx_cancel_closed(braid_mpsc_tx* tx, braid_waiter** w) {
    if (tx && w) of(tx)->cancel_closed(waiter_slot(w));
}

BRAID_API void braid_mpsc_tx_unregister_closed(braid_mpsc_tx* tx, braid_waiter** w) {
    if (tx && w) of(tx)->unregister_closed(waiter_slot(w));
}

BRAID_API int braid_mpsc_tx_is_closed(braid_mpsc_tx* tx) {
    if (!tx) return BRAID_EINVAL;
    return of(tx)->rx_closed() ? 1 : 0;
}

BRAID_API size_t braid_mpsc_tx_capacity(braid_mpsc_tx* tx) { return tx ? of(tx)->room() : 0; }

BRAID_API size_t braid_mpsc_tx_max_capacity(braid_mpsc_tx* tx) { return tx ? of(tx)->max_capacity() : 0; }

BRAID_API size_t braid_mpsc_tx_strong_count(braid_mpsc_tx* tx) { return tx ? of(tx)->sender_count() : 0; }

BRAID_API size_t braid_mpsc_tx_weak_count(braid_mpsc_tx* tx) { return tx ? of(tx)->weak_count() : 0; }

// ---- the receiver ----------------------------------------------------------------

BRAID_API int braid_mpsc_poll_recv(braid_mpsc_rx* rx, void* out, size_t out_size, braid_wake_fn wake,
                                   void* wake_data) {
    if (!rx) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { braid_mpsc_recv_unregister(rx); });
    if (!value_ok(rx, out, out_size)) return BRAID_EINVAL;
    return note_wait(of(rx)->poll_recv(out, wake, wake_data), BRAID_WAIT_RECV, of(rx));
}

BRAID_API int braid_mpsc_try_recv(braid_mpsc_rx* rx, void* out, size_t out_size) {
    if (!value_ok(rx, out, out_size)) return BRAID_EINVAL;
    int rc = of(rx)->poll_recv(out, nullptr, nullptr);
    return rc == BRAID_PENDING ? BRAID_EAGAIN : rc;
}

BRAID_API int braid_mpsc_poll_recv_many(braid_mpsc_rx* rx, void* out, size_t elem_size, size_t limit,
                                        size_t* out_count, braid_wake_fn wake, void* wake_data) {
    if (out_count) *out_count = 0;
    if (!rx) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { braid_mpsc_recv_unregister(rx); });
    if (!value_ok(rx, out, elem_size) || !out_count || limit == 0) return BRAID_EINVAL;
    return note_wait(of(rx)->poll_recv_many(out, limit, out_count, wake, wake_data), BRAID_WAIT_RECV, of(rx));
}

BRAID_API int braid_mpsc_try_recv_many(braid_mpsc_rx* rx, void* out, size_t elem_size, size_t limit,
                                       size_t* out_count) {
    if (out_count) *out_count = 0;
    if (!value_ok(rx, out, elem_size) || !out_count || limit == 0) return BRAID_EINVAL;
    int rc = of(rx)->poll_recv_many(out, limit, out_count, nullptr, nullptr);
    return rc == BRAID_PENDING ? BRAID_EAGAIN : rc;
}

BRAID_API int braid_mpsc_recv_unregister(braid_mpsc_rx* rx) {
    if (!rx) return BRAID_EINVAL;
    of(rx)->unregister_recv();
    return BRAID_OK;
}

BRAID_API int braid_mpsc_recv_blocking(braid_mpsc_rx* rx, void* out, size_t out_size, int64_t timeout_ms) {
    if (!value_ok(rx, out, out_size)) return BRAID_EINVAL;
    if (braid::capi::on_worker_thread()) return BRAID_EDEADLK;
    return of(rx)->recv_blocking(out, timeout_ms);
}

BRAID_API void braid_mpsc_rx_close(braid_mpsc_rx* rx) {
    if (rx) of(rx)->close();
}

BRAID_API void braid_mpsc_rx_free(braid_mpsc_rx* rx) {
    if (rx) of(rx)->drop_receiver();
}

BRAID_API size_t braid_mpsc_rx_len(braid_mpsc_rx* rx) { return rx ? of(rx)->len() : 0; }

BRAID_API int braid_mpsc_rx_is_closed(braid_mpsc_rx* rx) {
    if (!rx) return BRAID_EINVAL;
    return of(rx)->is_closed_for_rx() ? 1 : 0;
}

BRAID_API int braid_mpsc_send(braid_task** out, braid_runtime* rt, braid_mpsc_tx* tx, void* value, size_t value_size,
                              braid_callback cb, void* user_data) {
    return braid::capi::start_wait(out, rt, value_ok(tx, value, value_size), cb, user_data,
        [tx, value, value_size](braid_waiter** w, braid_wake_fn f, void* d) { return braid_mpsc_poll_send(tx, value, value_size, w, f, d); },
        [tx](braid_waiter** w) { braid_mpsc_cancel_send(tx, w); });
}

BRAID_API int braid_mpsc_recv(braid_task** out, braid_runtime* rt, braid_mpsc_rx* rx, void* buf, size_t buf_size,
                              braid_callback cb, void* user_data) {
    return braid::capi::start_wait(out, rt, value_ok(rx, buf, buf_size), cb, user_data,
        [rx, buf, buf_size](braid_waiter**, braid_wake_fn f, void* d) { return braid_mpsc_poll_recv(rx, buf, buf_size, f, d); },
        [rx](braid_waiter**) { braid_mpsc_recv_unregister(rx); });
}

}  // extern "C"
