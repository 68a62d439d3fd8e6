// extern "C" shims: readiness of foreign file descriptors.
#include "io/fd_watch.hpp"
#include "shim.hpp"
#include "task/task_info.hpp"

using braid::capi::core_of;
using braid::capi::core_or_current;
using braid::detail::Core;
using braid::detail::FdWatch;
using braid::detail::note_wait;

struct braid_fd {
    Core* core;
    FdWatch* watch;
};

namespace {

bool valid_interest(int i) { return i > 0 && (i & ~(BRAID_READABLE | BRAID_WRITABLE)) == 0; }

}  // namespace

extern "C" {

BRAID_API int braid_fd_new(braid_fd** out, braid_runtime* rt, int fd) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    Core* core = core_or_current(rt);
    if (!core) return BRAID_EINVAL;
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    FdWatch* w = nullptr;
    int rc = FdWatch::create(&w, core, fd);
    if (rc != BRAID_OK) return rc;
    auto* f = new (std::nothrow) braid_fd{core, w};
    if (!f) {
        w->release();
        return BRAID_ENOMEM;
    }
    core->ref();
    *out = f;
    return BRAID_OK;
}

BRAID_API int braid_fd_poll_ready(braid_fd* f, int interest, braid_wake_fn wake, void* wake_data,
                                  int* out_ready) {
    if (!f || !valid_interest(interest)) return BRAID_EINVAL;
    int ready = 0;
    if (out_ready) *out_ready = 0;
    if (!wake) return braid::capi::withdrawn([&] { f->watch->poll_ready(interest, nullptr, wake_data, &ready); });
    int rc = braid::capi::guarded([&] { return f->watch->poll_ready(interest, wake, wake_data, &ready); });
    if (out_ready) *out_ready = ready;
    return note_wait(rc, (interest & BRAID_READABLE) ? BRAID_WAIT_FD_READ : BRAID_WAIT_FD_WRITE, uint64_t(f->watch->fd()));
}

BRAID_API int braid_fd_clear_ready(braid_fd* f, int interest) {
    if (!f || !valid_interest(interest)) return BRAID_EINVAL;
    f->watch->clear_ready(interest);
    return BRAID_OK;
}

BRAID_API int braid_fd_get(const braid_fd* f) { return f ? f->watch->fd() : BRAID_EINVAL; }

BRAID_API void braid_fd_free(braid_fd* f) {
    if (!f) return;
    Core* core = f->core;
    f->watch->release();
    delete f;
    core->unref();
}

BRAID_API int braid_fd_wait(braid_task** out, braid_runtime* rt, int fd, int interest,
                            braid_fd_ready_callback cb, void* user_data) {
    if (out) *out = nullptr;
    if (!rt || !cb || !valid_interest(interest)) return BRAID_EINVAL;
    Core* core = core_of(rt);
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return braid::capi::guarded([&] { return braid::detail::spawn_fd_wait(out, core, fd, interest, cb, user_data); });
}

}  // extern "C"
