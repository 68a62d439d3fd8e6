// Joining one task from outside it through its join slot: as a callback
// operation (braid_task_join) or by blocking the calling thread
// (braid_task_join_blocking).  Both claim the slot (Task::claim_join) for
// their whole wait, so a second joiner is refused with BRAID_EBUSY.
#pragma once

#include <braid/task.h>

#include <cstdint>

#include "task/task.hpp"

namespace braid::detail {

// Calls cb(ud, status) on a worker of t's runtime once t finishes; when the
// operation itself is aborted or its runtime shuts down first, with the
// cancel status.  The slot is given back before cb runs.  BRAID_OK (cb runs
// once), BRAID_ESHUTDOWN (no runtime to call back on), BRAID_EBUSY (another
// joiner), BRAID_ENOMEM.
int join_with_callback(Task* t, braid_callback cb, void* ud);

// Blocks the calling thread (not a worker: the caller checks) until t
// finishes: its status, BRAID_ETIMEDOUT after timeout_ms (0: no limit), or
// BRAID_EBUSY (another joiner; a finished task gives its status).
int join_blocking(Task* t, int64_t timeout_ms);

}  // namespace braid::detail
