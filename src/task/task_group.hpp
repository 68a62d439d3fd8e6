// Waiting for all or the first of several tasks (braid_task_join_all,
// braid_task_join_any) as callback operations, and deadlines on any task
// (braid_task_set_deadline, braid_task_set_timeout).
#pragma once

#include <braid/task.h>

#include <cstddef>
#include <cstdint>

#include "task/task.hpp"

namespace braid::detail {

// Claims the join slot of every task (BRAID_EBUSY, nothing claimed, when
// one has another joiner) and calls back on a worker of core once all of
// them finished (cb(ud, first failure or BRAID_OK)), or the first one did
// (cb(ud, its index, its status)); when the operation is aborted or its
// runtime shuts down first, with the cancel status (join_any: index
// SIZE_MAX).  The slots are given back before the callback runs; the
// references taken on the tasks stay until the operation's memory goes, so
// the callback may free the handles.  The caller checked the arguments (no
// NULL task, n > 0).  BRAID_OK, BRAID_EBUSY, BRAID_ESHUTDOWN, BRAID_ENOMEM
// (std::bad_alloc may escape too).
int join_all(braid_task** out, Core* core, braid_task* const* tasks, std::size_t n, braid_callback cb, void* ud);
int join_any(braid_task** out, Core* core, braid_task* const* tasks, std::size_t n, braid_index_callback cb,
             void* ud);

// Aborts t with BRAID_ETIMEDOUT at deadline_ns (its runtime's clock) unless
// it finished first; one deadline per task.  BRAID_OK (also when t finished
// already), BRAID_EBUSY (it has a deadline), BRAID_ESHUTDOWN, BRAID_ENOMEM.
int set_deadline(Task* t, int64_t deadline_ns);
// set_deadline at now + ms (saturating).
int set_timeout(Task* t, int64_t ms);

}  // namespace braid::detail
