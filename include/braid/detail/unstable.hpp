// The unstable tier of the C ABI (braid/unstable/): the plumbing the C++
// layer is built on (the braid_waiter protocol, the small-object allocator,
// the cooperative budget).  The C++ headers are shipped with the library and
// move with it, so they may use what C programs are not promised
// (docs/c-api.md, "ABI stability"); this header opts in for them.
#pragma once

#ifndef BRAID_UNSTABLE_API
#define BRAID_UNSTABLE_API 1
#endif

#include <braid/unstable/alloc.h>
#include <braid/unstable/coop.h>
#include <braid/unstable/task_block.h>
#include <braid/unstable/task_trace.h>
#include <braid/unstable/waiter.h>
