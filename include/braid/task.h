/* braid — tasks, join handles, wakers and the blocking pool.  Part of the
 * stable C ABI.
 *
 * A task is a unit of work that a runtime schedules on its workers.  C code
 * spawns a function (braid_spawn) or a future: a state machine that the
 * runtime polls until it is done (braid_task_new + braid_task_start).  The
 * C++ layer (braid/task.hpp) runs coroutines through the same future calls.
 *
 * A braid_task* returned to the caller is a join handle: it keeps the task's
 * memory alive (not the task itself running).  braid_task_free releases the
 * handle and detaches the task, which keeps running.
 *
 * Final status of a task: BRAID_OK, BRAID_ECANCELED (aborted, or cancelled by
 * shutdown), BRAID_ESHUTDOWN (the runtime refused to start it), BRAID_EPANIC
 * (a C++ body threw: a poll or cancel function, braid_spawn's function, an
 * operation's callback - whatever it threw; the worker goes on), or any
 * negative code a future's poll returned.
 *
 * What a callback may call (free its own braid_task*, spawn, start the next
 * operation; not free its runtime nor block: BRAID_EDEADLK) is listed in
 * docs/c-api.md, "What a callback may do".
 */
#ifndef BRAID_TASK_H
#define BRAID_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "error.h"
#include "runtime.h"

BRAID_EXTERN_C_BEGIN

/* A task body for braid_spawn / braid_spawn_blocking: runs once. */
typedef void (*braid_task_fn)(void *arg);

/* Completion callback: `status` is BRAID_OK or a negative code
 * (BRAID_ECANCELED when the operation was cancelled). */
typedef void (*braid_callback)(void *user_data, int status);

/* A waker: called (at most once per registration, from any thread) when the
 * thing polled becomes ready.  It must be quick and must not block: the usual
 * body is braid_task_wake(task).  A registration is replaced by the next poll
 * of the same object and removed when the object is freed; after the free
 * returns the waker is not running and will not be called. */
typedef void (*braid_wake_fn)(void *wake_data);

/* Future functions, all called on the thread that runs the task:
 * poll:    advance the future.  Return BRAID_PENDING after arranging for
 *          braid_task_wake(task) to be called, or the final status (<= 0).
 * cancel:  the task was aborted (or the runtime shut down) after it started
 *          and before poll finished: drop the future (destructors, callbacks
 *          with BRAID_ECANCELED).  Never called after poll returned a final
 *          status, nor for a task the runtime refused to start.  May be NULL.
 * release: the task's memory is about to be freed (every handle is gone):
 *          destroy whatever the state still holds (an output, or a future
 *          that never started).  May be NULL. */
typedef int (*braid_poll_fn)(void *state, braid_task *task);
typedef void (*braid_state_fn)(void *state);

/* ---- spawning ------------------------------------------------------------- */

/* Spawns fn(arg) on a worker.  `out` may be NULL (detached).  Returns
 * BRAID_OK, BRAID_EINVAL (rt or fn NULL), BRAID_ENOMEM, BRAID_ESHUTDOWN.
 * If the task is cancelled before it runs, fn is never called. */
BRAID_API int braid_spawn(braid_task **out, braid_runtime *rt, braid_task_fn fn, void *arg);
/* The same through a handle, from any thread. */
BRAID_API int braid_handle_spawn(braid_task **out, braid_handle *h, braid_task_fn fn, void *arg);

/* Spawns fn(arg) on the runtime's blocking pool (threads of its own, up to
 * max_blocking_threads; never libuv's pool).  Blocking work may sleep, do
 * file I/O or compute for long.  Aborting it before it starts cancels it; a
 * job that has started runs to completion. */
BRAID_API int braid_spawn_blocking(braid_task **out, braid_runtime *rt, braid_task_fn fn,
                                   void *arg);
BRAID_API int braid_handle_spawn_blocking(braid_task **out, braid_handle *h, braid_task_fn fn,
                                          void *arg);

/* Creates a future task with `state_size` bytes of state (aligned to 16),
 * zero-filled, stored with the task in one allocation.  *out_state receives
 * the state; initialise it, then braid_task_start it.  The caller owns the
 * returned handle.  `out` and `out_state` must not be NULL; poll must not be
 * NULL.  A task that is never started is released by braid_task_free (its
 * release function runs, cancel does not).  `rt` may be NULL: the runtime of
 * the calling thread is used (BRAID_EINVAL when there is none).
 * BRAID_OK, BRAID_EINVAL (NULL arguments, no runtime, or state_size above
 * 1 GiB: refused before anything is allocated), BRAID_ENOMEM,
 * BRAID_ESHUTDOWN. */
BRAID_API int braid_task_new(braid_task **out, void **out_state, braid_runtime *rt,
                             size_t state_size, braid_poll_fn poll, braid_state_fn cancel,
                             braid_state_fn release);
/* braid_task_new through a handle (any thread). */
BRAID_API int braid_handle_task_new(braid_task **out, void **out_state, braid_handle *h,
                                    size_t state_size, braid_poll_fn poll, braid_state_fn cancel,
                                    braid_state_fn release);
/* A join handle on a task that never ran: finished with status
 * BRAID_ECANCELED and bound to no runtime (braid_task_start gives
 * BRAID_EBUSY, braid_task_join BRAID_ESHUTDOWN; polling, waiting, aborting,
 * join sets and groups work as for any finished task).  It is what the C++
 * layer's spawn returns when the runtime refuses a task because it is
 * shutting down: the task is dropped and its handle reports it cancelled,
 * as Tokio's does.  BRAID_EINVAL (out NULL), BRAID_ENOMEM. */
BRAID_API int braid_task_new_cancelled(braid_task **out);
/* Schedules a new task on the workers.  BRAID_ESHUTDOWN: the runtime refuses
 * it; the task is then finished with status BRAID_ESHUTDOWN (cancel does not
 * run; release will).  BRAID_EBUSY: already started (braid_runtime_block_on
 * starts a new task it is given, as this does). */
BRAID_API int braid_task_start(braid_task *task);
/* Runs a new task on the blocking pool: poll is called once and must return
 * a final status (BRAID_PENDING counts as BRAID_EINVAL). */
BRAID_API int braid_task_start_blocking(braid_task *task);

/* ---- join handles ------------------------------------------------------------ */

/* Releases the handle.  The task is detached: it keeps running.  NULL ok. */
BRAID_API void braid_task_free(braid_task *task);

/* Requests cancellation.  A task that has not started never starts; a running
 * task is cancelled at its next suspension (when its poll returns
 * BRAID_PENDING); a finished task is unaffected.  Returns BRAID_OK or
 * BRAID_EINVAL.  Safe from any thread, any number of times. */
BRAID_API int braid_task_abort(braid_task *task);

/* An abort handle: aborts the task from any thread, and nothing else (it
 * does not join; freeing it does not detach or unregister anything).  It
 * keeps the task's memory alive, not the task. */
typedef struct braid_abort_handle braid_abort_handle;
BRAID_API int braid_task_abort_handle(braid_abort_handle **out, braid_task *task);
BRAID_API int braid_abort_handle_clone(braid_abort_handle **out, const braid_abort_handle *h);
BRAID_API int braid_abort_handle_abort(braid_abort_handle *h);
BRAID_API int braid_abort_handle_is_finished(const braid_abort_handle *h);
BRAID_API void braid_abort_handle_free(braid_abort_handle *h);

/* 1 once the task has finished (any status), 0 before, BRAID_EINVAL for NULL. */
BRAID_API int braid_task_is_finished(const braid_task *task);

/* The final status once finished, BRAID_PENDING before.  If `wake` is not
 * NULL and the task has not finished, wake(wake_data) is registered to be
 * called once when it finishes, replacing an earlier registration made
 * through this handle (NULL waker: see docs/c-api.md); braid_task_free
 * removes it too.  BRAID_EBUSY while a braid_task_join or a blocking join
 * owns the task's join slot. */
BRAID_API int braid_task_poll_join(braid_task *task, braid_wake_fn wake, void *wake_data);
/* Without waiting: the final status once finished (it stays readable),
 * BRAID_PENDING before (a status can be any code, so not BRAID_EAGAIN);
 * registers and removes nothing.  BRAID_EBUSY, BRAID_EINVAL as
 * braid_task_poll_join. */
BRAID_API int braid_task_try_join(braid_task *task);

/* Calls cb(user_data, status) on a worker once the task has finished (at
 * once, on a worker, if it already has).  It takes the task's join slot
 * until then (one joiner per task: BRAID_EBUSY if another joiner waits).  If the task's
 * runtime shuts down first the callback still runs, with the task's status
 * (BRAID_ECANCELED).  The slot is given back just before the callback runs
 * (the callback may join the task again, or free its handle).  Returns
 * BRAID_OK (the callback will run exactly once) or an error (it will not
 * run). */
BRAID_API int braid_task_join(braid_task *task, braid_callback cb, void *user_data);

/* Waits on the calling thread until the task finishes and returns its final
 * status.  `timeout_ms` BRAID_WAIT_FOREVER waits without limit; 0 makes one
 * attempt; > 0 gives up after that long; BRAID_ETIMEDOUT when it gave up
 * (the task runs on).  BRAID_EDEADLK when called on a
 * runtime worker thread (it would block the worker); BRAID_EBUSY when another
 * joiner waits on the task. */
BRAID_API int braid_task_join_blocking(braid_task *task, int64_t timeout_ms);

/* ---- groups and deadlines (any task or callback operation) -------------------- */

/* Called once with the index of the first task to finish and its status, or
 * with index (size_t)-1 and BRAID_ECANCELED when the operation is aborted. */
typedef void (*braid_index_callback)(void *user_data, size_t index, int status);

/* Calls cb(user_data, status) on a worker once every one of the `n` tasks has
 * finished: BRAID_OK, or the first failing status in array order.  Each task's
 * join slot is taken until then (BRAID_EBUSY if one has another joiner: none
 * is taken) and given back just before cb runs, also when the wait is
 * aborted: cb (and whoever it signals) may join the tasks again.  The
 * handles stay the caller's and must outlive the operation; cb may free
 * them.
 * BRAID_EINVAL for n == 0 or a NULL task.  `out` (may be NULL) aborts the
 * wait (cb gets BRAID_ECANCELED; the tasks are not aborted). */
BRAID_API int braid_task_join_all(braid_task **out, braid_runtime *rt, braid_task *const *tasks, size_t n,
                                  braid_callback cb, void *user_data);
/* Calls cb(user_data, index, status) once the first of the `n` tasks has
 * finished (the others keep running, and are free to be joined from cb on:
 * every slot is given back before cb runs).  Same rules as
 * braid_task_join_all. */
BRAID_API int braid_task_join_any(braid_task **out, braid_runtime *rt, braid_task *const *tasks, size_t n,
                                  braid_index_callback cb, void *user_data);

/* Gives any task or callback operation a deadline (braid_now's clock): if it
 * has not finished by then it is aborted with status BRAID_ETIMEDOUT, and a
 * C operation's callback receives BRAID_ETIMEDOUT instead of
 * BRAID_ECANCELED.  One deadline per task (BRAID_EBUSY for a second one);
 * BRAID_OK also when the task finished already (nothing to do). */
BRAID_API int braid_task_set_deadline(braid_task *task, int64_t deadline_ns);
/* The same, `ms` milliseconds from now (>= 0). */
BRAID_API int braid_task_set_timeout(braid_task *task, int64_t ms);

/* The task's id: unique within the process, never 0. */
BRAID_API uint64_t braid_task_id(const braid_task *task);

/* Names the task (Tokio's task::Builder::name): the name shows in the task
 * dump and in stall reports (braid/task_dump.h, braid/stall.h).  Copied,
 * at most BRAID_TASK_NAME_MAX bytes kept (cut at a byte boundary).  Once
 * per task, at any time (also from inside the task: braid_task_current).
 * BRAID_OK, BRAID_EINVAL (NULL task or name), BRAID_EBUSY (named already),
 * BRAID_ENOMEM. */
#define BRAID_TASK_NAME_MAX 63
BRAID_API int braid_task_set_name(braid_task *task, const char *name);
/* The task's name (braid_task_set_name's copy), or NULL when it has none
 * (or task is NULL).  Borrowed: valid while the caller holds the task (a
 * handle, or from inside it: braid_task_current).  Blocking jobs
 * (braid_task_start_blocking) and local sets' tasks carry names too, and
 * the task dump shows them with their kind. */
BRAID_API const char *braid_task_name(const braid_task *task);
/* Records where the task was spawned, for the task dump and stall reports:
 * a file, a line and a function (may be NULL), e.g. __FILE__, __LINE__,
 * __func__.  Not copied: the strings must outlive the task (string
 * literals).  Before the task is started (braid_task_new, then this, then
 * braid_task_start): BRAID_OK, BRAID_EINVAL (NULL task or file), BRAID_EBUSY
 * (started already), BRAID_ENOMEM (the task's record of it could not be
 * made: a task keeps a location, a name or a trace in a small record made
 * on the first such call).  The C++ spawn functions keep their caller's
 * std::source_location in the task's own block instead. */
BRAID_API int braid_task_set_location(braid_task *task, const char *file, uint32_t line, const char *function);

/* ---- inside a task ---------------------------------------------------------- */

/* The task running on the calling thread, or NULL.  Borrowed. */
BRAID_API braid_task *braid_task_current(void);
/* The id of the task running on the calling thread, or 0.  A task's cancel
 * and release functions (the destructors of its future and of an output
 * nobody took) see that task's id, wherever they run: release runs where
 * the last handle goes, which may be another task or a plain thread. */
BRAID_API uint64_t braid_task_current_id(void);

/* Schedules the task to be polled (again).  Safe from any thread, at any
 * time while the task's memory is alive (a registered waker guarantees that);
 * waking a finished task does nothing.  A task woken while it runs is polled
 * again after its poll returns, behind the tasks already queued (this is how
 * yield_now works).  A wake is cheap and never runs the task inline. */
BRAID_API void braid_task_wake(braid_task *task);

/* A braid_wake_fn that wakes the task passed as wake_data. */
BRAID_API void braid_task_wake_fn(void *task);

/* Runs fn(arg) on the calling thread, where blocking is allowed (Tokio's
 * block_in_place).  Called from a task on a worker of a multi-thread
 * runtime, the worker (its queued tasks, the task it was to run next, its
 * place among the workers) is first handed to a stand-in thread that runs
 * the other tasks meanwhile; it is taken back when fn returns, and the
 * calling task goes on where it was.  Inside fn the thread counts as
 * entered (braid_runtime_enter): it may block, braid_runtime_block_on
 * (another runtime, or this one through a handle) and spawn; the
 * cooperative budget does not apply there; paused time does not advance
 * by itself while fn runs.  On any other thread (a blocking job, a plain
 * thread, inside another fn) fn simply runs.  Returns BRAID_OK (fn ran),
 * BRAID_EINVAL (fn NULL), BRAID_ENOTSUP (on a current-thread runtime: there
 * is no other thread to hand the work to; fn did not run) or BRAID_ETHREAD
 * (no stand-in thread could be started; fn did not run). */
BRAID_API int braid_block_in_place(braid_task_fn fn, void *arg);

/* Cooperative budget: each poll of a task may complete 128 operations that
 * were ready at once; after that, braid's poll functions wake the task and
 * report BRAID_PENDING so it yields (one busy task cannot starve the others).
 * (braid_coop_take, for operations completed without a poll function, is in
 * the unstable tier: braid/unstable/coop.h.) */

BRAID_EXTERN_C_END

#endif /* BRAID_TASK_H */
