/* braid — join sets: many tasks, joined in the order they finish (Tokio's
 * JoinSet).  Part of the stable C ABI.
 *
 * A set takes over join handles (braid_task *) with a pointer of yours each;
 * braid_join_set_poll_next hands finished ones back, first finished first.
 * Freeing the set aborts the tasks still in it and releases their handles.
 * One thread at a time per set.
 */
#ifndef BRAID_JOIN_SET_H
#define BRAID_JOIN_SET_H

#include <stddef.h>

#include "error.h"
#include "export.h"
#include "task.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_join_set braid_join_set;

BRAID_API int braid_join_set_new(braid_join_set **out);
/* Aborts the tasks still in the set (they are cancelled at their next
 * suspension point; this does not wait) and frees it.  NULL ok. */
BRAID_API void braid_join_set_free(braid_join_set *set);

/* Takes over `task` (do not free it; it comes back from poll_next) with
 * `user_data`.  BRAID_EBUSY: the task has another joiner (the handle stays
 * yours).  BRAID_EINVAL for NULL. */
BRAID_API int braid_join_set_add(braid_join_set *set, braid_task *task, void *user_data);

/* 0 with a finished task in *out_task (its handle is yours again: read its
 * status with braid_task_try_join, then free it) and its user data;
 * BRAID_ECLOSED when the set is empty; BRAID_PENDING after registering the
 * waker (NULL waker: see docs/c-api.md; *out_task is then NULL). */
BRAID_API int braid_join_set_poll_next(braid_join_set *set, braid_wake_fn wake, void *wake_data,
                                       braid_task **out_task, void **out_user_data);
/* Without waiting: as braid_join_set_poll_next, BRAID_EAGAIN when no task
 * has finished yet (nothing registered or removed). */
BRAID_API int braid_join_set_try_next(braid_join_set *set, braid_task **out_task, void **out_user_data);
/* Removes the waker registered by poll_next. */
BRAID_API int braid_join_set_unregister(braid_join_set *set);
/* Callback form (docs/c-api.md, "Callback waits"): starts the wait on rt
 * and calls cb(user_data, status) exactly once on one of its workers:
 * BRAID_OK with a finished task in *out_task (its handle is the caller's
 * again) and its user data in *out_user_data (may be NULL), BRAID_ECLOSED
 * when the set is empty, or BRAID_ECANCELED when aborted through *out (may be
 * NULL) or shut down: no task was taken.  out_task and out_user_data must
 * stay valid until cb; one next at a time per set, and no other poll_next
 * meanwhile.  Returns BRAID_OK, BRAID_EINVAL (rt, set, out_task or cb
 * NULL), BRAID_ESHUTDOWN or BRAID_ENOMEM (cb never runs). */
BRAID_API int braid_join_set_next(braid_task **out, braid_runtime *rt, braid_join_set *set, braid_task **out_task,
                                  void **out_user_data, braid_callback cb, void *user_data);

/* Tasks in the set (running or finished and not yet taken). */
BRAID_API size_t braid_join_set_len(braid_join_set *set);
/* Aborts every task still running; they stay in the set and come back
 * (cancelled) from poll_next. */
BRAID_API int braid_join_set_abort_all(braid_join_set *set);
/* Empties the set without aborting: the tasks keep running, detached. */
BRAID_API int braid_join_set_detach_all(braid_join_set *set);

BRAID_EXTERN_C_END

#endif /* BRAID_JOIN_SET_H */
