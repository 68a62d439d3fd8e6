// Spawning future-style tasks whose state is a C++ object: every callback
// operation of the C ABI (a sleep, a join, a read, a wait on a lock) is a
// task whose state T has static poll, cancel and release functions, and
// braid_spawn's task is one whose poll calls a C function once.
#pragma once

#include <braid/error.h>
#include <braid/task.h>

#include <new>

#include "task/task.hpp"

namespace braid::detail {

// Spawns a task whose state is a T constructed from args, on core, as a
// worker or blocking task.  `out` (optional) receives the join handle
// before the task can run (Task::launch).  BRAID_OK, BRAID_ENOMEM,
// BRAID_ESHUTDOWN (refused: T's release ran, its poll and cancel never
// will).  T's constructor may throw: the task is freed and the exception
// goes on.
// `made(Task*)` runs after the state is constructed and before the task can
// run (to publish it where a stop can find it: a repeating operation).
template <class T, class Made, class... Args>
int spawn_op_with(braid_task** out, Core* core, TaskKind kind, Made&& made, Args&&... args) {
    Task* t = Task::create(core, sizeof(T), &task_vtable<T>, out ? 2 : 1);
    if (!t) return BRAID_ENOMEM;
    t->kind = kind;
    try {
        new (t->state_ptr()) T(static_cast<Args&&>(args)...);
    } catch (...) {
        t->vt = &Task::kNoState;  // no state to release
        if (out) t->unref();
        t->unref();
        throw;
    }
    made(t);
    return t->launch(out);
}

template <class T, class... Args>
int spawn_op(braid_task** out, Core* core, TaskKind kind, Args&&... args) {
    return spawn_op_with<T>(out, core, kind, [](Task*) {}, static_cast<Args&&>(args)...);
}

// A job on the blocking pool: Body::run() does the work and calls back;
// Body::cancelled(status) calls back when the job is dropped before it ran.
template <class Body>
struct BlockingJob {
    Body body;
    template <class... A>
    explicit BlockingJob(A&&... a) : body{static_cast<A&&>(a)...} {}
    static int poll(void* self, braid_task*) {
        static_cast<BlockingJob*>(self)->body.run();
        return BRAID_OK;
    }
    static void cancel(void* self) { static_cast<BlockingJob*>(self)->body.cancelled(current_cancel_status()); }
};

template <class Body, class... A>
int spawn_blocking_job(braid_task** out, Core* core, A&&... a) {
    return spawn_op<BlockingJob<Body>>(out, core, TaskKind::Blocking, static_cast<A&&>(a)...);
}

// Whether an abort was requested for `me` (the task running the poll): a
// poll that loops without suspending returns BRAID_PENDING then, and the
// runtime cancels it.
inline bool abort_requested(braid_task* me) { return reinterpret_cast<Task*>(me)->abort_requested(); }

// braid_spawn / braid_spawn_blocking: a task that calls fn(arg) once.
// BRAID_EINVAL (no core or fn), BRAID_ESHUTDOWN, BRAID_ENOMEM.
int spawn_fn(braid_task** out, Core* core, TaskKind kind, braid_task_fn fn, void* arg);

}  // namespace braid::detail
