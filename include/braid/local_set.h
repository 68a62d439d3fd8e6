/* braid — local sets: tasks that stay on one thread (Tokio's LocalSet), for
 * state that is not thread-safe.  Part of the stable C ABI.
 *
 * A set's tasks are ordinary tasks (join handles, aborts, join sets and
 * groups work on them) that only the set's driver polls, always on the
 * same thread: the first thread that drives the set (braid_local_set_block_on,
 * braid_local_set_poll_run) is its thread from then on, and driving it from
 * another thread is refused (BRAID_EINVAL).  A task of a set is made with
 * braid_task_new / braid_task_new_in as usual (it needs a runtime: its
 * timers and I/O are that runtime's) and started with
 * braid_local_set_start instead of braid_task_start.
 *
 * While the set is driven, its tasks may spawn onto the runtime (those run
 * on the workers) and into the set (braid_local_set_current).  A set that
 * is not driven runs nothing: its tasks wait.  Freeing the set cancels the
 * tasks that have not finished, on the calling thread.
 */
#ifndef BRAID_LOCAL_SET_H
#define BRAID_LOCAL_SET_H

#include "error.h"
#include "export.h"
#include "runtime.h"
#include "task.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_local_set braid_local_set;

/* BRAID_OK, BRAID_EINVAL (out NULL), BRAID_ENOMEM. */
BRAID_API int braid_local_set_new(braid_local_set **out);
/* Cancels the set's tasks that have not finished (their futures are dropped
 * here; their handles report BRAID_ECANCELED), refuses new ones, and frees
 * the set.  NULL ok (BRAID_OK).  BRAID_EINVAL when called on another thread
 * than the set's (nothing is done: free it on its thread). */
BRAID_API int braid_local_set_free(braid_local_set *set);

/* Starts `task` (made by braid_task_new*, not started yet) as a task of the
 * set: it runs when the set is driven.  BRAID_OK, BRAID_EINVAL (NULL),
 * BRAID_EBUSY (started already), BRAID_ECLOSED (the set is being freed: the
 * task finishes as cancelled without running). */
BRAID_API int braid_local_set_start(braid_local_set *set, braid_task *task);

/* Drives the set on the calling thread until `main` (a task of the set)
 * has finished, and returns main's final status.  On a multi-thread runtime
 * the calling thread runs the set's tasks and waits between them, entered
 * into main's runtime (braid_runtime_enter); on a current-thread runtime it
 * also runs the runtime's scheduler, as braid_runtime_block_on does.
 * BRAID_EINVAL (NULL, main not of this set, another thread's set),
 * BRAID_EDEADLK (called on a runtime's thread), BRAID_EBUSY (a
 * current-thread runtime's block_on runs on another thread), BRAID_ESHUTDOWN. */
BRAID_API int braid_local_set_block_on(braid_local_set *set, braid_task *main);

/* For a future that drives the set (Tokio's run_until): runs the set's
 * ready tasks on the calling thread (a bounded number, then it yields),
 * and registers wake(wake_data) for when a task of the set is woken
 * (called at once when tasks are still ready).  Withdraw the registration
 * before the waker's target goes (NULL waker: see docs/c-api.md).  Always
 * BRAID_PENDING, or BRAID_EINVAL (NULL set, another thread's set) or
 * BRAID_ENOTSUP (called on a worker of a multi-thread runtime, where the
 * calling task may move to another thread: use braid_local_set_block_on). */
BRAID_API int braid_local_set_poll_run(braid_local_set *set, braid_wake_fn wake, void *wake_data);

/* Enters the set on the calling thread (Tokio's LocalSet::enter): until
 * braid_local_set_exit, braid_local_set_current gives it, so spawning into
 * the current set (the C++ spawn_local) adds tasks to it there, outside its
 * driver; they run when it is driven.  Binds the set to the calling thread
 * as a first drive does, and holds it (freeing it meanwhile closes it:
 * later starts are refused with BRAID_ECLOSED).  *prev receives the set
 * that was current before (or NULL): give it back to braid_local_set_exit.
 * Enters nest; leave them in reverse order.  BRAID_OK, BRAID_EINVAL (NULL,
 * another thread's set). */
BRAID_API int braid_local_set_enter(braid_local_set *set, braid_local_set **prev);
/* Leaves `set`, entered last on this thread by braid_local_set_enter, and
 * makes `prev` (what that call gave) current again.  BRAID_OK, BRAID_EINVAL
 * (NULL set, or set is not the current set of the calling thread). */
BRAID_API int braid_local_set_exit(braid_local_set *set, braid_local_set *prev);

/* The set whose task is running on the calling thread (or that the thread
 * entered), or NULL.  Borrowed. */
BRAID_API braid_local_set *braid_local_set_current(void);

BRAID_EXTERN_C_END

#endif /* BRAID_LOCAL_SET_H */
