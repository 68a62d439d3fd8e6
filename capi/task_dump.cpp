// extern "C" shims: the task dump (src/runtime/task_dump.hpp) and its signal
// (src/runtime/dump_signal.hpp).
#include <braid/task_dump.h>

#include <cstddef>
#include <string>

#include "shim.hpp"
#include "runtime/dump_signal.hpp"
#include "runtime/task_dump.hpp"

using braid::capi::core_of;
using braid::capi::guarded;

extern "C" {

BRAID_API int braid_runtime_task_dump(braid_runtime* rt, braid_task_dump_fn fn, void* user_data) {
    if (!rt || !fn) return BRAID_EINVAL;
    return guarded([&] { return braid::detail::task_dump(*core_of(rt), fn, user_data); });
}

BRAID_API int braid_runtime_task_dump_text(braid_runtime* rt, char* buf, size_t cap, size_t* needed) {
    if (needed) *needed = 0;
    if (!rt || (!buf && cap > 0)) return BRAID_EINVAL;
    return guarded([&] {
        std::string text;
        int rc = braid::detail::task_dump_text(*core_of(rt), text);
        return rc == BRAID_OK ? braid::detail::copy_text(text, buf, cap, needed) : rc;
    });
}

BRAID_API int braid_task_info_format(const braid_task_info* task, char* buf, size_t cap, size_t* needed) {
    if (needed) *needed = 0;
    // `kind` is the one field a struct may lack (format_task reads it by size).
    if (!task || task->size < offsetof(braid_task_info, kind) || (!buf && cap > 0)) return BRAID_EINVAL;
    return guarded([&] {
        std::string text;
        braid::detail::format_task(*task, text);
        return braid::detail::copy_text(text, buf, cap, needed);
    });
}

BRAID_API int braid_runtime_builder_dump_signal(braid_runtime_builder* b, int signo) {
    if (!b || (signo != 0 && !braid::detail::dump_signal_ok(signo))) return BRAID_EINVAL;
    b->cfg.dump_signal = signo;
    return BRAID_OK;
}

}  // extern "C"
