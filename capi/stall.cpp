// extern "C" shims: stall detection (src/runtime/stall_watchdog.hpp).
#include <braid/stall.h>

#include "shim.hpp"

using braid::capi::core_of;

extern "C" {

BRAID_API int braid_runtime_builder_on_stall(braid_runtime_builder* b, braid_stall_fn fn, void* user_data) {
    if (!b) return BRAID_EINVAL;
    b->cfg.on_stall = fn;
    b->cfg.on_stall_data = fn ? user_data : nullptr;
    return BRAID_OK;
}

BRAID_API uint64_t braid_runtime_stalls(const braid_runtime* rt) { return rt ? core_of(rt)->stalls() : 0; }

}  // extern "C"
