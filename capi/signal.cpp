// extern "C" shims: Unix signals.
#include <braid/signal.h>

#include "io/signal.hpp"
#include "shim.hpp"

using braid::capi::core_of;
using braid::capi::core_or_current;
using braid::detail::Core;
using braid::detail::SignalListener;

struct braid_signal {
    Core* core;
    SignalListener* listener;
};

extern "C" {

BRAID_API int braid_signal_new(braid_signal** out, braid_runtime* rt, int signum) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    Core* core = core_or_current(rt);
    if (!core) return BRAID_EINVAL;
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return braid::capi::guarded([&]() -> int {
        SignalListener* l = nullptr;
        int rc = SignalListener::create(&l, core, signum);
        if (rc != BRAID_OK) return rc;
        auto* s = new (std::nothrow) braid_signal{core, l};
        if (!s) {
            l->release();
            return BRAID_ENOMEM;
        }
        core->ref();
        *out = s;
        return BRAID_OK;
    });
}

BRAID_API int braid_signal_poll_recv(braid_signal* s, braid_wake_fn wake, void* wake_data) {
    if (!s) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { braid_signal_unregister(s); });
    return s->listener->poll_recv(wake, wake_data);
}

BRAID_API int braid_signal_unregister(braid_signal* s) {
    if (!s) return BRAID_EINVAL;
    s->listener->unregister();
    return BRAID_OK;
}

BRAID_API void braid_signal_free(braid_signal* s) {
    if (!s) return;
    Core* core = s->core;
    s->listener->release();
    delete s;
    core->unref();
}

BRAID_API int braid_signal_wait(braid_task** out, braid_runtime* rt, int signum, braid_callback cb,
                                void* user_data) {
    if (out) *out = nullptr;
    if (!rt || !cb) return BRAID_EINVAL;
    return braid::capi::guarded([&] { return braid::detail::wait_signal(out, core_of(rt), signum, cb, user_data); });
}

}  // extern "C"
