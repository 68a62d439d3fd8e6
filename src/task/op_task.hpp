// A callback operation as a future-style task whose state is a C++ object
// with static poll/cancel/release functions: how every C callback operation
// of the engine (I/O, waits) runs.
#pragma once

#include <braid/task.h>

#include <utility>

#include "runtime/core.hpp"
#include "task/task.hpp"

namespace braid::detail {

// Inside a cancel function: the status the operation was cancelled with
// (BRAID_ECANCELED, or BRAID_ETIMEDOUT when a deadline ran out).
inline int cancel_status() {
    Task* t = current_task();
    return t ? t->cancel_status.load(std::memory_order_relaxed) : BRAID_ECANCELED;
}

// Whether an abort was requested for `me` (the task running the poll): a
// poll that loops without suspending returns BRAID_PENDING then, and the
// runtime cancels it.
inline bool abort_requested(braid_task* me) {
    return reinterpret_cast<Task*>(me)->state.load(std::memory_order_acquire) & st::CANCELLED;
}

// Spawns a task whose state is a T constructed from args, on core (worker or
// blocking kind).  `made(Task*)` runs after the state is constructed and
// before the task can run (to publish it somewhere a stop can find it).
template <class T, class Made, class... Args>
int spawn_op_with(braid_task** out, Core* core, TaskKind kind, Made&& made, Args&&... args) {
    Task* t = Task::create(core, sizeof(T), &T::poll, &T::cancel, &T::release, out ? 2 : 1);
    if (!t) return BRAID_ENOMEM;
    t->kind = kind;
    new (t->state_ptr()) T(static_cast<Args&&>(args)...);
    made(t);
    t->state.fetch_or(st::STARTED | st::NOTIFIED, std::memory_order_release);
    if (out) *out = reinterpret_cast<braid_task*>(t);
    int rc = core->start_task(t);
    if (rc != BRAID_OK && out) {
        *out = nullptr;
        t->unref();
    }
    return rc;
}

template <class T, class... Args>
int spawn_op(braid_task** out, Core* core, TaskKind kind, Args&&... args) {
    return spawn_op_with<T>(out, core, kind, [](Task*) {}, static_cast<Args&&>(args)...);
}

}  // namespace braid::detail
