// extern "C" shims: streams.
#include <braid/stream.h>

#include "shim.hpp"
#include "stream/stream.hpp"
#include "util/block_until.hpp"

using braid::detail::CStream;
using braid::detail::ElemOps;

namespace {
CStream* of(braid_stream* s) { return reinterpret_cast<CStream*>(s); }
const CStream* of(const braid_stream* s) { return reinterpret_cast<const CStream*>(s); }

int start(braid_task** out, braid_runtime* rt, braid_stream* s, bool each, braid_stream_item_fn cb, void* ud) {
    if (out) *out = nullptr;
    if (!s || !cb) return BRAID_EINVAL;
    braid::detail::Core* core = braid::capi::core_or_current(rt);
    if (!core) return BRAID_EINVAL;
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return braid::capi::guarded([&] { return of(s)->start_op(out, core, each, cb, ud); });
}
}  // namespace

extern "C" {

BRAID_API int braid_stream_new(braid_stream** out, size_t elem_size, size_t elem_align, braid_relocate_fn relocate,
                               braid_drop_fn drop, braid_stream_poll_fn poll, braid_state_fn free_state,
                               void* state) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!poll || !ElemOps::valid(elem_size, elem_align)) return BRAID_EINVAL;
    CStream* s = CStream::create(ElemOps{elem_size, elem_align, relocate, drop}, poll, free_state, state);
    if (!s) return BRAID_ENOMEM;
    *out = reinterpret_cast<braid_stream*>(s);
    return BRAID_OK;
}

BRAID_API void braid_stream_free(braid_stream* s) {
    if (s) of(s)->release_owner();
}

BRAID_API size_t braid_stream_elem_size(const braid_stream* s) { return s ? of(s)->ops().size : 0; }

BRAID_API int braid_stream_poll_next(braid_stream* s, void* out_item, size_t item_size, braid_wake_fn wake,
                                     void* wake_data) {
    if (!s) return BRAID_EINVAL;
    if (wake && (item_size != of(s)->ops().size || (!out_item && item_size))) return BRAID_EINVAL;
    return of(s)->poll_next(out_item, wake, wake_data);
}

BRAID_API int braid_stream_next(braid_task** out, braid_runtime* rt, braid_stream* s, braid_stream_item_fn cb,
                                void* user_data) {
    return start(out, rt, s, false, cb, user_data);
}

BRAID_API int braid_stream_for_each(braid_task** out, braid_runtime* rt, braid_stream* s,
                                    braid_stream_item_fn cb, void* user_data) {
    return start(out, rt, s, true, cb, user_data);
}

BRAID_API int braid_stream_next_blocking(braid_stream* s, void* out_item, size_t item_size, int64_t timeout_ms) {
    if (!s || item_size != of(s)->ops().size || (!out_item && item_size)) return BRAID_EINVAL;
    if (braid::capi::on_worker_thread()) return BRAID_EDEADLK;
    CStream* c = of(s);
    int busy = c->poll_next(nullptr, nullptr, nullptr);  // also tells whether an operation is pending
    if (busy == BRAID_EBUSY) return BRAID_EBUSY;
    return braid::detail::block_until([c, out_item](braid_wake_fn w, void* d) { return c->poll_next(out_item, w, d); },
                                      [c] { c->unregister(); }, timeout_ms);
}

}  // extern "C"
