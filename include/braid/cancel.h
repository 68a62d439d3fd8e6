/* braid — cancellation tokens.  Part of the stable C ABI.
 *
 * A token is cancelled once and for ever.  Cancelling it wakes every waiter
 * and cancels its children (and theirs); cancelling a child leaves the
 * parent alone.  Tokens are reference-counted: braid_token_clone gives
 * another reference to the same token, braid_token_free drops one.  Any
 * thread.  Waiting follows the braid_waiter protocol of braid/waiter.h.
 */
#ifndef BRAID_CANCEL_H
#define BRAID_CANCEL_H

#include "error.h"
#include "export.h"
#include "runtime.h"
#include "task.h"
#include "waiter.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_token braid_token;

BRAID_API int braid_token_new(braid_token **out);
/* A child token: cancelled when `parent` is (at once if it already is). */
BRAID_API int braid_token_child(braid_token **out, braid_token *parent);
BRAID_API int braid_token_clone(braid_token **out, braid_token *token);
BRAID_API void braid_token_free(braid_token *token);

/* Cancels the token and its children.  Cancelling twice is harmless. */
BRAID_API int braid_token_cancel(braid_token *token);
/* 1 when cancelled, 0 when not, BRAID_EINVAL for NULL. */
BRAID_API int braid_token_is_cancelled(const braid_token *token);

/* 0 once cancelled; BRAID_PENDING after queueing the waiter (braid/waiter.h). */
BRAID_API int braid_token_poll_cancelled(braid_token *token, braid_waiter **w, braid_wake_fn wake,
                                         void *wake_data);
BRAID_API void braid_token_cancel_wait(braid_token *token, braid_waiter **w);
/* Removes the waker and keeps the wait in its place (braid/waiter.h).  NULL ok. */
BRAID_API void braid_token_unregister_wait(braid_token *token, braid_waiter **w);

/* Calls cb(user_data, BRAID_OK) on a worker of `rt` once the token is
 * cancelled, or cb(user_data, BRAID_ECANCELED) if the operation is aborted
 * through `out` (which may be NULL) or the runtime shuts down first.
 * Exactly once; errors returned here mean it never runs. */
BRAID_API int braid_token_on_cancel(braid_task **out, braid_runtime *rt, braid_token *token, braid_callback cb,
                                    void *user_data);

BRAID_EXTERN_C_END

#endif /* BRAID_CANCEL_H */
