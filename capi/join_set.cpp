// extern "C" shims: join sets.
#include <braid/join_set.h>

#include "shim.hpp"
#include "wait_op.hpp"
#include "task/join_set.hpp"

using braid::capi::c_task;
using braid::capi::task_of;
using braid::detail::JoinSet;
using braid::detail::Task;

namespace {
JoinSet* of(braid_join_set* s) { return reinterpret_cast<JoinSet*>(s); }
}  // namespace

extern "C" {

BRAID_API int braid_join_set_new(braid_join_set** out) {
    if (!out) return BRAID_EINVAL;
    *out = reinterpret_cast<braid_join_set*>(new (std::nothrow) JoinSet());
    return *out ? BRAID_OK : BRAID_ENOMEM;
}

BRAID_API void braid_join_set_free(braid_join_set* set) { delete of(set); }

BRAID_API int braid_join_set_add(braid_join_set* set, braid_task* task, void* user_data) {
    if (!set || !task) return BRAID_EINVAL;
    return of(set)->add(task_of(task), user_data);
}

BRAID_API int braid_join_set_poll_next(braid_join_set* set, braid_wake_fn wake, void* wake_data,
                                       braid_task** out_task, void** out_user_data) {
    if (!set) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] {
        if (out_task) *out_task = nullptr;
        if (out_user_data) *out_user_data = nullptr;
        braid_join_set_unregister(set);
    });
    if (!out_task) return BRAID_EINVAL;
    Task* t = nullptr;
    void* user = nullptr;
    int rc = of(set)->poll_next(wake, wake_data, &t, &user);
    *out_task = rc == BRAID_OK ? c_task(t) : nullptr;
    if (out_user_data) *out_user_data = rc == BRAID_OK ? user : nullptr;
    return rc;
}

BRAID_API int braid_join_set_try_next(braid_join_set* set, braid_task** out_task, void** out_user_data) {
    if (!set || !out_task) return BRAID_EINVAL;
    Task* t = nullptr;
    void* user = nullptr;
    int rc = of(set)->poll_next(nullptr, nullptr, &t, &user);
    *out_task = rc == BRAID_OK ? c_task(t) : nullptr;
    if (out_user_data) *out_user_data = rc == BRAID_OK ? user : nullptr;
    return rc == BRAID_PENDING ? BRAID_EAGAIN : rc;
}

BRAID_API int braid_join_set_unregister(braid_join_set* set) {
    if (!set) return BRAID_EINVAL;
    of(set)->unregister();
    return BRAID_OK;
}

BRAID_API size_t braid_join_set_len(braid_join_set* set) { return set ? of(set)->size() : 0; }

BRAID_API int braid_join_set_abort_all(braid_join_set* set) {
    if (!set) return BRAID_EINVAL;
    of(set)->abort_all();
    return BRAID_OK;
}

BRAID_API int braid_join_set_detach_all(braid_join_set* set) {
    if (!set) return BRAID_EINVAL;
    of(set)->detach_all();
    return BRAID_OK;
}

BRAID_API int braid_join_set_next(braid_task** out, braid_runtime* rt, braid_join_set* set, braid_task** out_task,
                                  void** out_user_data, braid_callback cb, void* user_data) {
    return braid::capi::start_wait(out, rt, set && out_task, cb, user_data,
        [set, out_task, out_user_data](braid_waiter**, braid_wake_fn f, void* d) {
            return braid_join_set_poll_next(set, f, d, out_task, out_user_data);
        },
        [set](braid_waiter**) { braid_join_set_unregister(set); });
}

}  // extern "C"
