// The callback forms of time (braid_sleep, braid_sleep_until,
// braid_interval_start): a sleep and an interval as tasks that call back.
#pragma once

#include <braid/task.h>

#include <cstdint>

#include "runtime/core.hpp"

namespace braid::detail {

// A task that calls cb(ud, status) once `deadline` (runtime clock, ns) is
// reached (BRAID_OK), or when it is cancelled (the cancel status).
// BRAID_OK, BRAID_ENOMEM, BRAID_ESHUTDOWN.
int spawn_sleep(braid_task** out, Core* core, int64_t deadline, braid_callback cb, void* ud);

// A task that calls cb(ud, BRAID_OK) per tick of a `period_ns` interval
// starting one period from now (missed ticks per `behavior`), until it is
// cancelled (one last call with the cancel status) or the timer driver
// fails (that code).
int spawn_interval(braid_task** out, Core* core, int64_t period_ns, int behavior, braid_callback cb, void* ud);

}  // namespace braid::detail
