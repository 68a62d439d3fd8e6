// extern "C" shims: local sets.
#include <braid/local_set.h>

#include "shim.hpp"
#include "task/local_set.hpp"

using braid::capi::core_of;
using braid::capi::task_of;
using braid::detail::LocalSet;

namespace {
LocalSet* set_of(braid_local_set* s) { return reinterpret_cast<LocalSet*>(s); }
}  // namespace

extern "C" {

BRAID_API int braid_local_set_new(braid_local_set** out) {
    if (!out) return BRAID_EINVAL;
    *out = reinterpret_cast<braid_local_set*>(new (std::nothrow) LocalSet());
    return *out ? BRAID_OK : BRAID_ENOMEM;
}

BRAID_API int braid_local_set_free(braid_local_set* set) {
    if (!set) return BRAID_OK;
    int rc = set_of(set)->close();
    if (rc == BRAID_OK) set_of(set)->unref();
    return rc;
}

BRAID_API int braid_local_set_start(braid_local_set* set, braid_task* task) {
    if (!set || !task) return BRAID_EINVAL;
    return set_of(set)->start(task_of(task));
}

BRAID_API int braid_local_set_block_on(braid_local_set* set, braid_task* main) {
    if (!set || !main) return BRAID_EINVAL;
    auto* t = task_of(main);
    return set_of(set)->block_on(t->core, t);
}

BRAID_API int braid_local_set_poll_run(braid_local_set* set, braid_wake_fn wake, void* wake_data) {
    if (!set) return BRAID_EINVAL;
    braid::detail::Core* c = braid::detail::current_core();
    if (c && c->scheduler().current_worker() && !c->scheduler().current_thread()) return BRAID_ENOTSUP;
    return set_of(set)->poll(wake, wake_data);
}

BRAID_API int braid_local_set_enter(braid_local_set* set, braid_local_set** prev) {
    if (!set || !prev) return BRAID_EINVAL;
    LocalSet* before = nullptr;
    int rc = set_of(set)->enter(&before);
    *prev = reinterpret_cast<braid_local_set*>(before);
    return rc;
}

BRAID_API int braid_local_set_exit(braid_local_set* set, braid_local_set* prev) {
    if (!set) return BRAID_EINVAL;
    return set_of(set)->exit(set_of(prev));
}

BRAID_API braid_local_set* braid_local_set_current(void) {
    return reinterpret_cast<braid_local_set*>(LocalSet::current());
}

}  // extern "C"
