// extern "C" shims: runtime metrics and their export (braid/metrics.h).
#include "shim.hpp"

#include "runtime/metrics.hpp"
#include "runtime/metrics_export.hpp"

using braid::capi::core_of;
using braid::capi::guarded;
using braid::detail::Core;

namespace {
Core* core_of_handle(const braid_handle* h) { return h ? h->core : nullptr; }
Core* mutable_core(const braid_runtime* rt) { return rt ? const_cast<Core*>(core_of(rt)) : nullptr; }

int metrics(Core* c, braid_metrics* out, size_t out_size) {
    if (!c || !out) return BRAID_EINVAL;
    return guarded([&] { return braid::detail::read_metrics(*c, out, out_size); });
}
int worker_metrics(Core* c, int index, braid_worker_metrics* out, size_t out_size) {
    if (!c || !out) return BRAID_EINVAL;
    return guarded([&] { return braid::detail::read_worker_metrics(*c, index, out, out_size); });
}
int format(Core* c, int fmt, char* buf, size_t cap, size_t* needed) {
    if (!c) return BRAID_EINVAL;
    return guarded([&] { return braid::detail::format_metrics(*c, fmt, buf, cap, needed); });
}
}  // namespace

extern "C" {

BRAID_API int braid_runtime_metrics(const braid_runtime* rt, braid_metrics* out, size_t out_size) {
    return metrics(mutable_core(rt), out, out_size);
}

BRAID_API int braid_runtime_worker_metrics(const braid_runtime* rt, int index, braid_worker_metrics* out,
                                           size_t out_size) {
    return worker_metrics(mutable_core(rt), index, out, out_size);
}

BRAID_API int braid_runtime_metrics_format(const braid_runtime* rt, int fmt, char* buf, size_t cap, size_t* needed) {
    return format(mutable_core(rt), fmt, buf, cap, needed);
}

BRAID_API int braid_handle_metrics(const braid_handle* h, braid_metrics* out, size_t out_size) {
    return metrics(core_of_handle(h), out, out_size);
}

BRAID_API int braid_handle_worker_metrics(const braid_handle* h, int index, braid_worker_metrics* out,
                                          size_t out_size) {
    return worker_metrics(core_of_handle(h), index, out, out_size);
}

BRAID_API int braid_handle_metrics_format(const braid_handle* h, int fmt, char* buf, size_t cap, size_t* needed) {
    return format(core_of_handle(h), fmt, buf, cap, needed);
}

}  // extern "C"
