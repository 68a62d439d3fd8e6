/* braid — completion queues: callbacks delivered to the host's own thread.
 * Part of the stable C ABI.
 *
 * By default a callback operation (braid_sleep, braid_task_join, a read, a
 * connect, a wait on a lock or a channel, a file operation, ...) calls its
 * callback on one of braid's threads.  A host with an event loop of its own
 * (an interpreter with a global lock, a VM, a GUI toolkit) wants them on
 * its thread instead.  It makes a completion queue, makes it the current
 * queue of its loop thread, and watches the queue's file descriptor in its
 * loop (epoll, poll, asyncio's add_reader, a GLib source, ...).  Every
 * callback operation that thread starts afterwards posts its callback, with
 * its arguments, to the queue instead of calling it; the fd becomes
 * readable; the host calls braid_completion_queue_run on its thread, which
 * runs the posted callbacks there.  braid's threads never call into the
 * host: posting only appends to the queue and writes the eventfd.
 *
 * The rules of docs/c-api.md ("Completion queues") in short:
 *  - the queue is captured when an operation starts: braid_completion_queue_set_current
 *    changes where later operations deliver, not earlier ones;
 *  - callbacks keep their meaning (exactly once, or once per item for the
 *    repeating operations, the same arguments), but run later, on the thread
 *    that calls braid_completion_queue_run.  The operation's task ends as
 *    its callback is posted: by the time the callback runs it may have
 *    finished or be finishing (a join of it returns at once or very soon);
 *  - pointer arguments stay valid until the callback returns, as before:
 *    bytes of a read loop's buffer are copied into the completion;
 *  - braid_stream_next and braid_stream_for_each are the exception: their
 *    item lives only while braid calls back, so they always call back on
 *    braid's thread;
 *  - the task's poll and cancel functions, the function of braid_spawn and
 *    the job of braid_spawn_blocking still run on braid's threads: only the
 *    callbacks of operations move.
 */
#ifndef BRAID_COMPLETION_QUEUE_H
#define BRAID_COMPLETION_QUEUE_H

#include "export.h"
#include "error.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_completion_queue braid_completion_queue;

/* A new, empty queue with its eventfd (non-blocking, close-on-exec).
 * BRAID_OK, BRAID_EINVAL (NULL out), BRAID_ENOMEM, BRAID_EMFILE (no eventfd). */
BRAID_API int braid_completion_queue_new(braid_completion_queue **out);

/* The file descriptor to watch for reading: readable while completions are
 * queued.  It belongs to the queue (do not close it, read it or write it).
 * BRAID_EINVAL for NULL. */
BRAID_API int braid_completion_queue_fd(const braid_completion_queue *q);

/* Makes q the calling thread's current queue (NULL: none, callbacks run on
 * braid's threads again).  Callback operations that this thread starts from
 * now on deliver to q.  The thread keeps q alive while it is current.
 * BRAID_OK. */
BRAID_API int braid_completion_queue_set_current(braid_completion_queue *q);
/* The calling thread's current queue, or NULL. */
BRAID_API braid_completion_queue *braid_completion_queue_current(void);

/* Runs up to `max` queued completions (max <= 0: all those queued when it is
 * called) on the calling thread, in the order they were posted, and returns
 * how many ran (0 when none was queued).  The fd stays readable while more
 * are queued.  A callback may start operations, free handles and call this
 * function again.  BRAID_EINVAL for NULL; BRAID_EPANIC when a (C++) callback
 * threw (the others still ran). */
BRAID_API int braid_completion_queue_run(braid_completion_queue *q, int max);

/* Completions queued and not run yet (>= 0), BRAID_EINVAL for NULL. */
BRAID_API int braid_completion_queue_pending(const braid_completion_queue *q);

/* Frees q (NULL: BRAID_OK, nothing done).  Refused with BRAID_EBUSY while
 * completions are queued (run them first) or while q is the current queue of
 * another thread; the calling thread's own current queue is unset first.
 * Operations still running that were bound to q finish normally, but their
 * callbacks are dropped without running (a handle such a callback would
 * have received, a stream or a file, is never freed).
 * So the usual teardown is: shut the runtime down (every operation is
 * cancelled and posts its callback), run the queue, free it. */
BRAID_API int braid_completion_queue_free(braid_completion_queue *q);

BRAID_EXTERN_C_END

#endif /* BRAID_COMPLETION_QUEUE_H */
