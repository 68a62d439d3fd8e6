/* braid — runtimes, builders and handles.  Part of the stable C ABI.
 *
 * A runtime owns worker threads that run tasks, a blocking pool, and a
 * reactor thread that runs the libuv loop (timers and I/O readiness).
 *
 * Threads: every function here may be called from any thread unless stated.
 * Ownership: every *_new / *_build has a matching *_free that accepts NULL.
 */
#ifndef BRAID_RUNTIME_H
#define BRAID_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "error.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_runtime braid_runtime;
typedef struct braid_runtime_builder braid_runtime_builder;
typedef struct braid_handle braid_handle;
typedef struct braid_task braid_task;
typedef struct braid_enter_guard braid_enter_guard;

/* Called on each thread the runtime starts (workers, blocking threads, the
 * reactor thread), on that thread, before it does any work; and on each
 * thread before it exits. */
typedef void (*braid_thread_fn)(void *user_data);

/* The version of the loaded library, "MAJOR.MINOR.PATCH".  Static storage. */
BRAID_API const char *braid_version(void);
/* The version of the loaded library as BRAID_VERSION_NUMBER computes it. */
BRAID_API int braid_version_number(void);

/* ---- builder ------------------------------------------------------------ */

/* Creates a builder with the defaults: multi-thread flavor, one worker per
 * core (the environment variable BRAID_WORKER_THREADS overrides that default),
 * thread name "braid-worker", 512 blocking threads at most, blocking threads
 * kept alive 10 s when idle, real time.
 * Returns BRAID_OK, BRAID_EINVAL (out is NULL) or BRAID_ENOMEM. */
BRAID_API int braid_runtime_builder_new(braid_runtime_builder **out);
BRAID_API void braid_runtime_builder_free(braid_runtime_builder *b);

/* Multi-thread flavor with `n` workers (1..1024), else BRAID_EINVAL. */
BRAID_API int braid_runtime_builder_worker_threads(braid_runtime_builder *b, int n);
/* Current-thread flavor: tasks run only on the thread inside
 * braid_runtime_block_on.  Several threads may block_on at once: one runs
 * the scheduler (every task runs there) and the others wait, for their
 * task to finish there or for their turn.  Timers and I/O still wait on
 * the reactor thread. */
BRAID_API int braid_runtime_builder_current_thread(braid_runtime_builder *b);
/* Host-driven flavor: a current-thread runtime whose tasks run on the
 * host's own thread, driven by the host's event loop (asyncio, GLib, libuv,
 * Node, a plain poll() loop) instead of a braid thread: the host watches
 * braid_runtime_fd for reading and calls braid_runtime_turn whenever it is
 * readable.  I/O readiness is taken in the turns too (no reactor thread
 * between the socket and the task); timers, files, DNS and processes still
 * complete on braid's reactor and blocking threads and wake their tasks for
 * the next turn.  braid_runtime_block_on works as on the current-thread
 * flavor (between turns).  See "Driving a runtime from your event loop" in
 * docs/c-api.md. */
BRAID_API int braid_runtime_builder_host_driven(braid_runtime_builder *b);
/* Name given to the runtime's threads (at most 15 bytes are kept, as Linux
 * allows).  The string is copied. */
BRAID_API int braid_runtime_builder_thread_name(braid_runtime_builder *b, const char *name);
/* Upper bound on blocking-pool threads (1..65536). */
BRAID_API int braid_runtime_builder_max_blocking_threads(braid_runtime_builder *b, int n);
/* How long an idle blocking thread waits for work before it exits: 0 ..
 * 10^12 ms (about 31 years).  BRAID_EINVAL below 0, BRAID_ERANGE above. */
BRAID_API int braid_runtime_builder_blocking_keep_alive_ms(braid_runtime_builder *b, int64_t ms);
/* Hooks run on every runtime thread at start and at stop (see braid_thread_fn).
 * NULL removes the hook. */
BRAID_API int braid_runtime_builder_on_thread_start(braid_runtime_builder *b, braid_thread_fn fn,
                                                    void *user_data);
BRAID_API int braid_runtime_builder_on_thread_stop(braid_runtime_builder *b, braid_thread_fn fn,
                                                   void *user_data);
/* Paused time (for tests): the runtime's clock starts paused; it moves only
 * through braid_runtime_advance, or by itself (Tokio's start_paused
 * auto-advance): whenever every worker is idle, no blocking job runs and a
 * timer is pending, it jumps to the next deadline and fires what is due
 * there, again and again until something runs — a firing whose wakers
 * scheduled no task does not stop it.  It never jumps to the far future
 * (INT64_MAX, a deadline that is never due).  A current-thread runtime
 * runs (and jumps its clock) only inside braid_runtime_block_on.  `paused`
 * is 0 or 1. */
BRAID_API int braid_runtime_builder_start_paused(braid_runtime_builder *b, int paused);

/* Reports every task poll that keeps a worker longer than `ms` (a task that
 * blocks its worker, invariant 6 in docs/ARCHITECTURE.md): a line on stderr and a count in
 * braid_runtime_slow_polls.  0 turns the measurement off (the default in
 * release builds of the library; debug builds default to 100 ms).  At most
 * 10^12 ms (about 31 years): BRAID_EINVAL below 0, BRAID_ERANGE above. */
BRAID_API int braid_runtime_builder_slow_poll_ms(braid_runtime_builder *b, int64_t ms);

/* The live view (off by default): when the runtime is built it listens on a
 * Unix socket at `path` (copied; shorter than sun_path, 108 bytes on Linux),
 * made with mode 0600, and serves it on a thread of braid's (not a worker).
 * A client of the same user (checked with SO_PEERCRED; others are closed
 * unanswered) writes "snapshot\n" and reads one JSON document, ending in a
 * newline, with the runtime's metrics and task dump; the connection is then
 * closed.  tools/braid_top draws it.  The file is removed at shutdown.
 * docs/observability.md, "Live view", gives the document's keys.  NULL or
 * "" turns it off.  BRAID_OK, BRAID_EINVAL (b NULL), BRAID_ERANGE (path too
 * long for a Unix socket address), BRAID_ENOMEM.
 * braid_runtime_build then also returns: BRAID_EEXIST (a file that is not a
 * socket is at path: it is left alone), BRAID_EADDRINUSE (a socket at path
 * has a listener; a stale one is replaced), or the OS's refusal to bind
 * (BRAID_ENOENT: the directory does not exist, BRAID_ENOTDIR, BRAID_EACCES,
 * ...; braid_last_os_error has the errno). */
BRAID_API int braid_runtime_builder_live_view(braid_runtime_builder *b, const char *path);

/* Builds and starts a runtime.  The builder stays owned by the caller and can
 * be reused.  Returns BRAID_OK, BRAID_EINVAL, BRAID_ENOMEM or BRAID_ETHREAD
 * (and the live view's errors, above). */
BRAID_API int braid_runtime_build(braid_runtime **out, const braid_runtime_builder *b);

/* A runtime with the defaults (braid_runtime_build of a fresh builder). */
BRAID_API int braid_runtime_new(braid_runtime **out);

/* ---- life cycle ----------------------------------------------------------- */

/* Runs `task` to completion: on a multi-thread runtime the calling thread
 * waits while workers run it; on a current-thread runtime the calling thread
 * runs the scheduler until the task completes.  A task made with
 * braid_task_new and not started yet is started here first, as
 * braid_task_start would (as Tokio's block_on runs the future it is given);
 * it stays started if block_on then fails (BRAID_EBUSY: another joiner).
 * On a current-thread runtime a block_on running on another thread is
 * waited out, not refused (as Tokio's block_on from several threads): the
 * task may finish there, else this thread runs the scheduler once that
 * block_on returns.  Returns the task's final status (BRAID_OK, BRAID_ECANCELED,
 * BRAID_EPANIC, BRAID_ESHUTDOWN when the runtime refused to start it, ...),
 * or BRAID_EINVAL (NULL, or a task of another runtime), BRAID_EDEADLK
 * (called on a runtime's worker or on the thread running a current-thread
 * runtime, or from a callback that a shutdown runs: nothing is started),
 * BRAID_EBUSY (another joiner waits on the task).  The task handle stays
 * owned by the caller. */
BRAID_API int braid_runtime_block_on(braid_runtime *rt, braid_task *task);

/* braid_runtime_block_on through a handle, from any thread that is not a
 * runtime's worker or the thread running a current-thread runtime: a plain
 * thread, or a blocking job's (a job may run async code to completion
 * this way, as Tokio's spawn_blocking(move || handle.block_on(fut)) does;
 * the workers run it meanwhile).  Returns as braid_runtime_block_on. */
BRAID_API int braid_handle_block_on(braid_handle *h, braid_task *task);

/* ---- host-driven runtimes ----------------------------------------------- */

/* The file descriptor a host-driven runtime's host watches for reading:
 * readable while the runtime has work for a turn (a task queued or woken, an
 * I/O event, a wake-up from another thread).  Owned by the runtime: never
 * read, write or close it; it stays the same for the runtime's life and is
 * closed by braid_runtime_free (remove it from your loop first).  Returns the
 * fd (>= 0), BRAID_EINVAL (NULL), BRAID_ENOTSUP (another flavor) or
 * BRAID_ESHUTDOWN (shut down). */
BRAID_API int braid_runtime_fd(const braid_runtime *rt);

/* One turn of a host-driven runtime on the calling thread: takes the I/O
 * events, fires the due timers, then polls ready tasks until none is left
 * or `max_polls` polls ran (0: a default of 256), and returns.  Never
 * blocks.  Work left over (max_polls reached) keeps the fd readable, so the
 * host comes back after its own callbacks had their turn.  Any thread may
 * call it, one at a time; the tasks run on that thread, inside the call.
 * Returns the number of polls (>= 0), or BRAID_EINVAL (NULL, max_polls < 0),
 * BRAID_ENOTSUP (another flavor), BRAID_EBUSY (a turn or block_on is
 * running on another thread), BRAID_EDEADLK (called from inside the
 * runtime: a task, a thread entered into it, another runtime's thread, a
 * callback that a shutdown runs) or BRAID_ESHUTDOWN. */
BRAID_API int braid_runtime_turn(braid_runtime *rt, int max_polls);

/* Shuts the runtime down: refuses new tasks (BRAID_ESHUTDOWN), cancels every
 * task (futures are dropped, C callbacks complete with BRAID_ECANCELED, on
 * the calling thread), waits up to `timeout_ms` for running blocking jobs
 * (BRAID_WAIT_FOREVER: without limit; 0: not at all), joins every other thread and
 * closes the reactor.  Blocking jobs still running when the timeout expires
 * are left to finish on their own threads: they may still call back (a file
 * operation's callback runs on the job's thread), so what their user_data
 * points to must stay alive until braid_runtime_free has returned (or until
 * their callbacks ran).  Calling it again waits again, up to its timeout,
 * for those jobs.
 * Returns BRAID_OK (nothing of the runtime runs any more), BRAID_ETIMEDOUT
 * (blocking jobs are still running), BRAID_EINVAL, or BRAID_EDEADLK (called
 * on one of the runtime's own threads, or from a callback that this
 * shutdown runs: nothing is done). */
BRAID_API int braid_runtime_shutdown(braid_runtime *rt, int64_t timeout_ms);

/* Shuts down (waiting for blocking jobs without limit, also for those that
 * an earlier braid_runtime_shutdown gave up on) and frees the runtime.  When
 * it returns, no callback, job, hook or thread of the runtime runs any more
 * and none will: every user_data given to the runtime may be freed.  (libuv's
 * uv_loop_close refuses with UV_EBUSY while handles are active; Tokio's
 * shutdown_timeout leaves blocking threads running, which Rust's 'static
 * bounds make safe.  A C caller has no such bound, so freeing waits.)
 * NULL is accepted.  Returns BRAID_OK, or BRAID_EDEADLK when called on one
 * of the runtime's own threads or from a callback that its shutdown runs,
 * in which case nothing is freed.  Task and handle objects stay valid after
 * this and must still be freed by their owners. */
BRAID_API int braid_runtime_free(braid_runtime *rt);

/* Shuts down without waiting for blocking jobs (Tokio's
 * shutdown_background) and lets go of the runtime: as
 * braid_runtime_shutdown(rt, 0) followed by a free that does not wait.
 * Jobs still running finish on their own threads, which keep what they use
 * of the runtime alive until then; what their user_data points to must
 * outlive them.  `rt` is gone afterwards, whatever the result.  Returns
 * BRAID_OK, BRAID_ETIMEDOUT (blocking jobs were left running), BRAID_EINVAL
 * (NULL), or BRAID_EDEADLK (called on one of the runtime's own threads or
 * from a callback its shutdown runs: nothing is done, rt stays valid). */
BRAID_API int braid_runtime_shutdown_background(braid_runtime *rt);

/* Enters the runtime on the calling thread (Tokio's Runtime::enter): until
 * braid_runtime_exit, what looks for "the calling thread's runtime" finds
 * it (braid_runtime_current, braid_handle_current, spawns and timers given
 * a NULL runtime), while the thread stays a plain thread: it may block and
 * call braid_runtime_block_on.  The guard holds a reference to the runtime.
 * Guards nest; leave them in reverse order on the same thread.  BRAID_OK,
 * BRAID_EINVAL (NULL), BRAID_ENOMEM. */
BRAID_API int braid_runtime_enter(braid_enter_guard **out, braid_runtime *rt);
BRAID_API int braid_handle_enter(braid_enter_guard **out, const braid_handle *h);
/* Leaves the runtime entered with `g` and frees the guard.  NULL is
 * accepted (BRAID_OK).  BRAID_EINVAL when called on another thread than the
 * one that entered, or before the guards entered after it were left (the
 * guard is kept then: leave it correctly later). */
BRAID_API int braid_runtime_exit(braid_enter_guard *g);

/* The runtime whose worker (or blocking) thread is calling, or the one the
 * thread entered (braid_runtime_enter), or NULL.  Borrowed: valid while the
 * calling task runs (or the guard is held). */
BRAID_API braid_runtime *braid_runtime_current(void);

/* How many polls were reported as slow (see braid_runtime_builder_slow_poll_ms). */
BRAID_API uint64_t braid_runtime_slow_polls(const braid_runtime *rt);

/* Number of worker threads (1 for current-thread runtimes). */
BRAID_API int braid_runtime_worker_count(const braid_runtime *rt);

/* Advances a paused runtime's clock by `ns` (>= 0, saturating short of the
 * far future) and fires the timers that became due: their wakers have been
 * called when it returns (called from inside a waker, right after that
 * waker returns).  BRAID_EINVAL when the runtime is not paused or ns < 0. */
BRAID_API int braid_runtime_advance(braid_runtime *rt, int64_t ns);

/* Pauses the runtime's clock where it stands (Tokio's time::pause), as
 * braid_runtime_builder_start_paused does from the start: from now on it
 * moves only through braid_runtime_advance and auto-advance.  Either
 * flavour.  BRAID_EINVAL when rt is NULL or the clock is paused already. */
BRAID_API int braid_runtime_pause(braid_runtime *rt);
/* Lets a paused clock run again from where it stands (the time advanced
 * while paused is kept: the clock does not jump back).  BRAID_EINVAL when
 * rt is NULL or the clock is not paused. */
BRAID_API int braid_runtime_resume(braid_runtime *rt);

/* ---- handles --------------------------------------------------------------- */

/* A counted reference to a runtime that any thread can hold and use to
 * spawn.  It stays valid after the runtime is freed: spawning through it then
 * fails with BRAID_ESHUTDOWN. */
BRAID_API int braid_runtime_handle(braid_handle **out, braid_runtime *rt);
/* A handle to the runtime of the calling worker or blocking thread, or to
 * the runtime it entered (braid_runtime_enter); BRAID_EINVAL when the
 * caller is in no runtime. */
BRAID_API int braid_handle_current(braid_handle **out);
BRAID_API int braid_handle_clone(braid_handle **out, const braid_handle *h);
BRAID_API void braid_handle_free(braid_handle *h);

BRAID_EXTERN_C_END

#endif /* BRAID_RUNTIME_H */
