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
#include "runtime.h"

#include <stddef.h>

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

/* ---- taking completions as records ----------------------------------------
 *
 * For hosts to which a call from C is dear (ctypes, cffi in ABI mode, a JNI
 * upcall): instead of braid calling back once per completion
 * (braid_completion_queue_run), the host takes a batch of completions out
 * of the queue as plain records, in one call, and dispatches them itself.
 *
 * A record is the callback the operation was given and the arguments braid
 * would have called it with.  `kind` says which fields hold arguments and
 * so how the callback would be called:
 *
 *   BRAID_COMPLETION_STATUS  callback(user_data, status)
 *                            (braid_callback: sleeps, joins, waits, ...)
 *   BRAID_COMPLETION_SIZE    callback(user_data, status, size)
 *                            (braid_io_callback: reads, writes)
 *   BRAID_COMPLETION_HANDLE  callback(user_data, status, handle)
 *                            (a new TCP or Unix stream, a listener, a file,
 *                            metadata, a directory listing, a DNS result)
 *   BRAID_COMPLETION_BYTES   callback(user_data, status, data, size)
 *                            (braid_read_callback, braid_bytes_callback)
 *
 * Completions of other callback types (braid_fd_ready_callback,
 * braid_index_callback, braid_exit_callback, braid_output_callback) are not
 * taken as records: braid_completion_queue_take runs them itself, on the
 * calling thread, as braid_completion_queue_run would, when they reach the
 * head of the queue.  Posting order is kept: a batch stops before such a
 * completion, and the next call runs it before it takes more records.
 *
 * Layout: fixed for this version of the ABI.  Later versions may add fields
 * at the end only; callers pass the size of the record they were compiled
 * with, sizeof(braid_completion), which is the stride of their array. */
typedef struct braid_completion {
    void (*callback)(void); /* as the operation was given it: cast back to its type to call it */
    void *user_data;
    int status;
    int kind;         /* BRAID_COMPLETION_* */
    size_t size;      /* SIZE: the byte count; BYTES: the length of data */
    void *handle;     /* HANDLE: the pointer argument (NULL when status < 0) */
    const void *data; /* BYTES: the bytes (NULL when the callback would get NULL) */
} braid_completion;

#define BRAID_COMPLETION_STATUS 1
#define BRAID_COMPLETION_SIZE 2
#define BRAID_COMPLETION_HANDLE 3
#define BRAID_COMPLETION_BYTES 4

/* Moves up to `max` (> 0) queued completions into out[0..n), in the order
 * they were posted, calling none of their callbacks, and returns n (0 when
 * none was queued).  The fd stays readable while more are queued.  First,
 * completions at the head of the queue that are not of a record kind are
 * run (see above); a batch ends before the next one.
 *
 * Lifetime: what the records point to (BYTES data, and pointers into the
 * operation's state) stays valid until the next braid_completion_queue_take
 * on q, from any thread, or braid_completion_queue_free(q).  Dispatch a
 * batch before taking the next; a handle in a record is the host's, as it
 * would be the callback's.  The records themselves are the caller's memory.
 *
 * record_size: sizeof(braid_completion) as the caller knows it (the stride
 * of out); smaller than this version's record: BRAID_EINVAL.
 * BRAID_EINVAL for NULL q or out, or max <= 0; BRAID_EPANIC when a (C++)
 * callback that it ran threw (no record is taken then: they stay queued). */
BRAID_API int braid_completion_queue_take(braid_completion_queue *q, braid_completion *out, int max,
                                          size_t record_size);

/* braid_completion_queue_take, and the bytes of the BYTES records copied
 * into the caller's `bytes` (`cap` bytes), one after another, each record's
 * data pointing at its copy: for a host to which reading C memory costs a
 * call per read (ctypes' string_at), one buffer of its own to slice instead.
 * A batch ends before a BYTES record whose bytes no longer fit in what is
 * left of `bytes`; only when the first record of a batch is larger than all
 * of `cap` does its data point at braid's copy, as braid_completion_queue_take
 * gives it (so check that data lies inside `bytes`).  bytes may be NULL
 * with cap 0 (then it is braid_completion_queue_take).  BRAID_EINVAL as
 * braid_completion_queue_take, and for NULL bytes with cap > 0. */
BRAID_API int braid_completion_queue_take_bytes(braid_completion_queue *q, braid_completion *out, int max,
                                                size_t record_size, void *bytes, size_t cap);

/* One turn of a host-driven runtime on the calling thread
 * (braid_runtime_turn(rt, max_polls)), then braid_completion_queue_take_bytes
 * on q, in one call: for a host that drives the runtime and drains its
 * queue from the same callback of its loop, and to which every call from C
 * is dear.  The completions the turn's tasks post to q from this thread
 * leave q's fd alone (no eventfd write and read for them): they are taken
 * here.  What is left in q afterwards (more than `max` records, or bytes
 * beyond `cap`) keeps q's fd readable, as after any take.  Returns the
 * number of records taken (>= 0), the errors of braid_runtime_turn (then
 * nothing is taken) or those of braid_completion_queue_take_bytes; also
 * BRAID_EINVAL for NULL rt. */
BRAID_API int braid_runtime_turn_take(braid_runtime *rt, int max_polls, braid_completion_queue *q,
                                      braid_completion *out, int max, size_t record_size, void *bytes, size_t cap);

/* Completions queued and not run yet (>= 0), BRAID_EINVAL for NULL. */
BRAID_API int braid_completion_queue_pending(const braid_completion_queue *q);

/* Frees q (NULL: BRAID_OK, nothing done).  Refused with BRAID_EBUSY while
 * completions are queued (run them first) or while q is the current queue of
 * another thread; the calling thread's own current queue is unset first.
 * Operations still running that were bound to q finish normally, but their
 * callbacks are dropped without running (a handle such a callback would
 * have received, a stream or a file, is never freed).  What the records of
 * the last braid_completion_queue_take point to is freed with q.
 * So the usual teardown is: shut the runtime down (every operation is
 * cancelled and posts its callback), run the queue, free it. */
BRAID_API int braid_completion_queue_free(braid_completion_queue *q);

BRAID_EXTERN_C_END

#endif /* BRAID_COMPLETION_QUEUE_H */
