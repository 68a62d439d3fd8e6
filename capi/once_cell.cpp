// extern "C" shims: OnceCell.
#include <braid/once_cell.h>

#include "shim.hpp"
#include "wait_op.hpp"
#include "sync/once_cell.hpp"

using braid::detail::ElemOps;
using braid::detail::OnceCell;
using braid::detail::waiter_slot;

namespace {
OnceCell* of(braid_once_cell* c) { return reinterpret_cast<OnceCell*>(c); }
static_assert(OnceCell::kInit == BRAID_ONCE_CELL_INIT);
bool value_ok(braid_once_cell* c, void* value, size_t size) {
    return c && (value || !size) && size == of(c)->ops().size;
}
}  // namespace

extern "C" {

BRAID_API int braid_once_cell_new(braid_once_cell** out, size_t elem_size, size_t elem_align,
                                  braid_relocate_fn relocate, braid_drop_fn drop) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!ElemOps::valid(elem_size, elem_align)) return BRAID_EINVAL;
    OnceCell* c = OnceCell::create(ElemOps{elem_size, elem_align, relocate, drop});
    if (!c) return BRAID_ENOMEM;
    *out = reinterpret_cast<braid_once_cell*>(c);
    return BRAID_OK;
}

BRAID_API void braid_once_cell_free(braid_once_cell* cell) { OnceCell::destroy(of(cell)); }

BRAID_API int braid_once_cell_get(braid_once_cell* cell, void** out_value) {
    if (!cell || !out_value) return BRAID_EINVAL;
    *out_value = of(cell)->get();
    return *out_value ? BRAID_OK : BRAID_EAGAIN;
}

BRAID_API int braid_once_cell_set(braid_once_cell* cell, void* value, size_t value_size) {
    if (!value_ok(cell, value, value_size)) return BRAID_EINVAL;
    return of(cell)->set(value);
}

BRAID_API int braid_once_cell_take(braid_once_cell* cell, void* out, size_t out_size) {
    if (!value_ok(cell, out, out_size)) return BRAID_EINVAL;
    return of(cell)->take(out);
}

BRAID_API int braid_once_cell_poll_init(braid_once_cell* cell, braid_waiter** w, braid_wake_fn wake,
                                        void* wake_data) {
    if (!cell || !w) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { braid_once_cell_unregister_init(cell, w); });
    return of(cell)->poll_init(waiter_slot(w), wake, wake_data);
}

BRAID_API void braid_once_cell_cancel_init(braid_once_cell* cell, braid_waiter** w) {
    if (cell && w) of(cell)->cancel(waiter_slot(w));
}

BRAID_API void braid_once_cell_unregister_init(braid_once_cell* cell, braid_waiter** w) {
    if (cell && w) of(cell)->unregister(waiter_slot(w));
}

BRAID_API int braid_once_cell_complete_init(braid_once_cell* cell, void* value, size_t value_size) {
    if (!value_ok(cell, value, value_size)) return BRAID_EINVAL;
    return of(cell)->complete_init(value);
}

BRAID_API int braid_once_cell_abort_init(braid_once_cell* cell) {
    if (!cell) return BRAID_EINVAL;
    return of(cell)->abort_init();
}

BRAID_API int braid_once_cell_init_blocking(braid_once_cell* cell, int64_t timeout_ms) {
    if (!cell) return BRAID_EINVAL;
    if (braid::capi::on_worker_thread()) return BRAID_EDEADLK;
    return of(cell)->init_blocking(timeout_ms);
}

BRAID_API int braid_once_cell_init(braid_task** out, braid_runtime* rt, braid_once_cell* cell, braid_callback cb,
                                   void* user_data) {
    return braid::capi::start_wait(out, rt, cell != nullptr, cb, user_data,
        [cell](braid_waiter** w, braid_wake_fn f, void* d) { return braid_once_cell_poll_init(cell, w, f, d); },
        [cell](braid_waiter** w) { braid_once_cell_cancel_init(cell, w); });
}

}  // extern "C"
