/* braid — the task dump: every live task of a runtime, what it is doing
 * and what it waits on (Go's SIGQUIT goroutine dump, Tokio's task dumps).
 * Part of the stable C ABI.  docs/observability.md, "Task dump", describes
 * the fields and the text form.
 *
 * The dump lists every live task of the runtime: its worker tasks, the
 * blocking pool's jobs (queued: scheduled; on a thread: running) and the
 * tasks of local sets made on the runtime (braid/local_set.h), each with
 * its kind.  A task that is idle (suspended, waiting to be woken) is held
 * by the dump while it is looked at: a wake-up meanwhile queues it (on the
 * runtime, or on its local set) once the dump lets go.  A running or
 * queued task is listed without its wait.
 */
#ifndef BRAID_TASK_DUMP_H
#define BRAID_TASK_DUMP_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "error.h"
#include "runtime.h"

BRAID_EXTERN_C_BEGIN

/* braid_task_info.state */
#define BRAID_TASK_IDLE 0      /* suspended: waits to be woken */
#define BRAID_TASK_SCHEDULED 1 /* woken (or new): queued to run */
#define BRAID_TASK_RUNNING 2   /* a worker is polling it */
#define BRAID_TASK_NOTIFIED 3  /* running, and woken meanwhile: runs again after this poll */
#define BRAID_TASK_COMPLETE 4  /* finished (seen only while it leaves the list) */

/* braid_task_info.kind */
#define BRAID_TASK_KIND_WORKER 0   /* spawned on the runtime: polled by its workers */
#define BRAID_TASK_KIND_BLOCKING 1 /* a blocking pool job (spawn_blocking): never idle */
#define BRAID_TASK_KIND_LOCAL 2    /* a task of a local set: polled by the set's driver */

/* braid_task_info.wait_kind: what an idle task's last poll registered its
 * waker with (the last one, when it registered several: a select). */
#define BRAID_WAIT_UNKNOWN 0    /* not idle, or a waker braid does not know (yield, a caller's own) */
#define BRAID_WAIT_SLEEP 1      /* a timer; wait_object: its deadline (braid_now's clock, ns) */
#define BRAID_WAIT_RECV 2       /* a channel's receive (mpsc, oneshot, broadcast, watch); object: the channel */
#define BRAID_WAIT_SEND 3       /* room in a bounded mpsc channel; object: the channel */
#define BRAID_WAIT_LOCK 4       /* a mutex; object: the mutex */
#define BRAID_WAIT_READ_LOCK 5  /* an rwlock, shared; object: the rwlock */
#define BRAID_WAIT_WRITE_LOCK 6 /* an rwlock, exclusive; object: the rwlock */
#define BRAID_WAIT_SEMAPHORE 7  /* permits of a semaphore; object: the semaphore */
#define BRAID_WAIT_NOTIFY 8     /* a notify; object: the notify */
#define BRAID_WAIT_FD_READ 9    /* a file descriptor readable; object: the fd */
#define BRAID_WAIT_FD_WRITE 10  /* a file descriptor writable; object: the fd */
#define BRAID_WAIT_JOIN 11      /* another task's end; object: its id */

/* One coroutine of a task's awaiting chain: where it is suspended. */
typedef struct braid_trace_frame {
    const char *file;
    uint32_t line;
    const char *function; /* may be NULL */
} braid_trace_frame;

/* One task.  `size` is the struct's size as the library fills it: a later
 * version appends fields, so read a field only when offsetof(field) + its
 * size <= size.  Every pointer is valid during the callback only. */
typedef struct braid_task_info {
    size_t size;
    uint64_t id;
    const char *name;      /* braid_task_set_name's, or NULL */
    const char *file;      /* spawn location (braid_task_set_location), or NULL */
    uint32_t line;
    const char *function;  /* may be NULL */
    int state;             /* BRAID_TASK_* */
    int wait_kind;         /* BRAID_WAIT_*; BRAID_WAIT_UNKNOWN unless idle */
    uint64_t wait_object;  /* the deadline, the fd, the task id, or the object's address */
    const char *wait;      /* the wait in words ("recv on channel 0x55d0...", "sleep until +12.000 ms"); "" if unknown */
    int64_t age_ns;        /* since it was spawned (the runtime's clock: paused time counts as it moves) */
    uint64_t polls;        /* polls so far */
    uint64_t poll_ns;      /* time spent in them, measured while slow-poll detection is on (else 0) */
    size_t frame_count;    /* the awaiting chain (C++ coroutines), innermost first; 0 unless idle */
    const braid_trace_frame *frames;
    int kind;              /* BRAID_TASK_KIND_* */
} braid_task_info;

/* Called once per task; a non-zero return stops the dump. */
typedef int (*braid_task_dump_fn)(void *user_data, const braid_task_info *task);

/* Calls fn once per live task of `rt` (every kind), on the calling thread,
 * in no particular order (tasks spawned or finished meanwhile may or may
 * not be listed).  fn must not block on the runtime's tasks (the idle task it is
 * shown is held until fn returns).  BRAID_OK; BRAID_EINVAL (rt or fn NULL);
 * BRAID_ESHUTDOWN (the runtime is shutting down); BRAID_ENOMEM. */
BRAID_API int braid_runtime_task_dump(braid_runtime *rt, braid_task_dump_fn fn, void *user_data);

/* The whole dump as text (the form docs/observability.md shows: a header
 * line, then each task and its chain) into buf: at most `cap` bytes, always
 * NUL-terminated when cap > 0, never more.  *needed (if not NULL) gets the
 * size the whole text needs, its NUL included.  BRAID_OK when it fit;
 * BRAID_ERANGE when it did not (buf holds a cut prefix; call again with
 * *needed bytes, allowing for tasks spawned meanwhile); BRAID_EINVAL (rt
 * NULL, or buf NULL with cap > 0); BRAID_ESHUTDOWN; BRAID_ENOMEM. */
BRAID_API int braid_runtime_task_dump_text(braid_runtime *rt, char *buf, size_t cap, size_t *needed);

/* One task of the dump as text (the lines braid_runtime_task_dump_text
 * writes for it), with the same buffer rules.  A struct whose size ends
 * before `kind` (filled by an older library) is shown as a worker task.
 * BRAID_OK, BRAID_ERANGE, BRAID_EINVAL (task NULL or a size that ends
 * before `frames`, buf NULL with cap > 0). */
BRAID_API int braid_task_info_format(const braid_task_info *task, char *buf, size_t cap, size_t *needed);

/* Prints the task dump to stderr whenever the process receives `signo`
 * (e.g. SIGQUIT, as Go does): the handler only wakes a thread of braid's,
 * which writes the dump.  0 turns it off (the default).  The handler is
 * installed when the runtime is built and stays installed (shared by the
 * runtimes that ask for the same signal; it replaces whatever handler the
 * signal had).  BRAID_OK, BRAID_EINVAL (b NULL, or signo not 0 and not a
 * signal that can be caught: SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE,
 * SIGILL and out-of-range numbers are refused). */
BRAID_API int braid_runtime_builder_dump_signal(braid_runtime_builder *b, int signo);

BRAID_EXTERN_C_END

#endif /* BRAID_TASK_DUMP_H */
