// What a task records for the task dump and the stall reports: the wait
// its poll registered with (a poll function notes it when it returns
// BRAID_PENDING on behalf of the task running on this thread), its name and
// spawn location.  The wait is one relaxed store pair per suspension.
#pragma once

#include <braid/task_dump.h>

#include <cstdint>

#include "task/task.hpp"

namespace braid::detail {

// The running task (if any) waits on `object` in the way `kind` says
// (BRAID_WAIT_*).  Returns rc, so a poll shim can end with
//   return note_wait(poll(...), BRAID_WAIT_RECV, address);
inline int note_wait(int rc, int kind, uint64_t object) {
    if (rc == BRAID_PENDING) {
        if (Task* t = current_task()) {
            t->wait_arg.store(object, std::memory_order_relaxed);
            t->wait_kind.store(uint8_t(kind), std::memory_order_relaxed);
        }
    }
    return rc;
}
inline int note_wait(int rc, int kind, const void* object) {
    return note_wait(rc, kind, uint64_t(reinterpret_cast<uintptr_t>(object)));
}

// braid_task_set_name: copies at most BRAID_TASK_NAME_MAX bytes, once.
int set_task_name(Task* t, const char* name);

}  // namespace braid::detail
