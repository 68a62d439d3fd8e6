// extern "C" shims: waiting for all or the first of several tasks, and
// deadlines on any task (src/task/task_group.*).
#include "shim.hpp"
#include "task/task_group.hpp"

using braid::capi::core_of;
using braid::capi::guarded;
using braid::capi::task_of;

namespace {

bool tasks_ok(braid_task* const* tasks, size_t n) {
    if (!tasks || n == 0) return false;
    for (size_t i = 0; i < n; ++i)
        if (!tasks[i]) return false;
    return true;
}

}  // namespace

extern "C" {

BRAID_API int braid_task_join_all(braid_task** out, braid_runtime* rt, braid_task* const* tasks, size_t n,
                                  braid_callback cb, void* user_data) {
    if (out) *out = nullptr;
    if (!rt || !cb || !tasks_ok(tasks, n)) return BRAID_EINVAL;
    return guarded([&] { return braid::detail::join_all(out, core_of(rt), tasks, n, cb, user_data); });
}

BRAID_API int braid_task_join_any(braid_task** out, braid_runtime* rt, braid_task* const* tasks, size_t n,
                                  braid_index_callback cb, void* user_data) {
    if (out) *out = nullptr;
    if (!rt || !cb || !tasks_ok(tasks, n)) return BRAID_EINVAL;
    return guarded([&] { return braid::detail::join_any(out, core_of(rt), tasks, n, cb, user_data); });
}

BRAID_API int braid_task_set_deadline(braid_task* task, int64_t deadline_ns) {
    if (!task) return BRAID_EINVAL;
    return braid::detail::set_deadline(task_of(task), deadline_ns);
}

BRAID_API int braid_task_set_timeout(braid_task* task, int64_t ms) {
    if (!task || ms < 0) return BRAID_EINVAL;
    return braid::detail::set_timeout(task_of(task), ms);
}

}  // extern "C"
