// extern "C" shims: oneshot channels.
#include <braid/oneshot.h>

#include "shim.hpp"
#include "task/task_info.hpp"
#include "wait_op.hpp"
#include "sync/oneshot.hpp"
#include "util/block_until.hpp"

using braid::detail::ElemOps;
using braid::detail::Oneshot;
using braid::detail::note_wait;

namespace {
Oneshot* of(braid_oneshot_tx* tx) { return reinterpret_cast<Oneshot*>(tx); }
Oneshot* of(braid_oneshot_rx* rx) { return reinterpret_cast<Oneshot*>(rx); }
}  // namespace

extern "C" {

BRAID_API int braid_oneshot_new(braid_oneshot_tx** out_tx, braid_oneshot_rx** out_rx, size_t elem_size,
                                size_t elem_align, braid_relocate_fn relocate, braid_drop_fn drop) {
    if (!out_tx || !out_rx) return BRAID_EINVAL;
    *out_tx = nullptr;
    *out_rx = nullptr;
    if (!ElemOps::valid(elem_size, elem_align)) return BRAID_EINVAL;
    Oneshot* o = Oneshot::create(ElemOps{elem_size, elem_align, relocate, drop});
    if (!o) return BRAID_ENOMEM;
    *out_tx = reinterpret_cast<braid_oneshot_tx*>(o);
    *out_rx = reinterpret_cast<braid_oneshot_rx*>(o);
    return BRAID_OK;
}

BRAID_API int braid_oneshot_send(braid_oneshot_tx* tx, void* value, size_t value_size) {
    if (!tx || (!value && value_size) || value_size != of(tx)->ops().size) return BRAID_EINVAL;
    return of(tx)->send(value);
}

BRAID_API void braid_oneshot_tx_free(braid_oneshot_tx* tx) {
    if (tx) of(tx)->drop_sender();
}

BRAID_API int braid_oneshot_tx_poll_closed(braid_oneshot_tx* tx, braid_wake_fn wake, void* wake_data) {
    if (!tx) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { of(tx)->poll_closed(nullptr, nullptr); });
    return of(tx)->poll_closed(wake, wake_data);
}

BRAID_API int braid_oneshot_tx_is_closed(braid_oneshot_tx* tx) {
    if (!tx) return BRAID_EINVAL;
    return of(tx)->is_closed() ? 1 : 0;
}

BRAID_API int braid_oneshot_poll_recv(braid_oneshot_rx* rx, braid_wake_fn wake, void* wake_data, void* out,
                                      size_t out_size) {
    if (!rx) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { braid_oneshot_recv_unregister(rx); });
    if ((!out && out_size) || out_size != of(rx)->ops().size) return BRAID_EINVAL;
    return note_wait(of(rx)->poll_recv(wake, wake_data, out), BRAID_WAIT_RECV, of(rx));
}

BRAID_API int braid_oneshot_try_recv(braid_oneshot_rx* rx, void* out, size_t out_size) {
    if (!rx || (!out && out_size) || out_size != of(rx)->ops().size) return BRAID_EINVAL;
    int rc = of(rx)->poll_recv(nullptr, nullptr, out);
    return rc == BRAID_PENDING ? BRAID_EAGAIN : rc;
}

BRAID_API int braid_oneshot_recv_unregister(braid_oneshot_rx* rx) {
    if (!rx) return BRAID_EINVAL;
    of(rx)->unregister_recv();
    return BRAID_OK;
}

BRAID_API int braid_oneshot_recv_blocking(braid_oneshot_rx* rx, void* out, size_t out_size, int64_t timeout_ms) {
    if (!rx || (!out && out_size) || out_size != of(rx)->ops().size) return BRAID_EINVAL;
    if (braid::capi::on_worker_thread()) return BRAID_EDEADLK;
    Oneshot* o = of(rx);
    return braid::detail::block_until([o, out](braid_wake_fn w, void* d) { return o->poll_recv(w, d, out); },
                                      [o] { o->unregister_recv(); }, timeout_ms);
}

BRAID_API int braid_oneshot_rx_close(braid_oneshot_rx* rx) {
    if (!rx) return BRAID_EINVAL;
    of(rx)->close_receiver();
    return BRAID_OK;
}

BRAID_API void braid_oneshot_rx_free(braid_oneshot_rx* rx) {
    if (rx) of(rx)->drop_receiver();
}

BRAID_API int braid_oneshot_recv(braid_task** out, braid_runtime* rt, braid_oneshot_rx* rx, void* buf,
                                 size_t buf_size, braid_callback cb, void* user_data) {
    bool ok = rx && (buf || !buf_size) && buf_size == of(rx)->ops().size;
    return braid::capi::start_wait(out, rt, ok, cb, user_data,
        [rx, buf, buf_size](braid_waiter**, braid_wake_fn f, void* d) { return braid_oneshot_poll_recv(rx, f, d, buf, buf_size); },
        [rx](braid_waiter**) { braid_oneshot_recv_unregister(rx); });
}

}  // extern "C"
