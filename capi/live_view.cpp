// extern "C" shim: the live view's builder option (src/runtime/live_view.hpp).
#include <braid/runtime.h>
#include <sys/un.h>

#include <cstring>
#include <string>

#include "shim.hpp"

using braid::capi::guarded;

extern "C" {

BRAID_API int braid_runtime_builder_live_view(braid_runtime_builder* b, const char* path) {
    if (!b) return BRAID_EINVAL;
    if (path && strnlen(path, sizeof(sockaddr_un::sun_path)) >= sizeof(sockaddr_un::sun_path)) return BRAID_ERANGE;
    return guarded([&]() -> int {
        b->cfg.live_view_path = path ? path : "";
        return BRAID_OK;
    });
}

}  // extern "C"
