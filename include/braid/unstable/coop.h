/* braid — the cooperative budget of a task.  UNSTABLE: outside the C ABI's
 * stability promise (docs/c-api.md, "ABI stability"); define
 * BRAID_UNSTABLE_API before including it (the C++ headers do).  The symbols
 * carry the version BRAID_UNSTABLE_0.1.
 *
 * Each poll of a task may complete 128 operations that were ready at once;
 * after that, braid's poll functions wake the task and report BRAID_PENDING
 * so it yields (one busy task cannot starve the others).
 */
#ifndef BRAID_UNSTABLE_COOP_H
#define BRAID_UNSTABLE_COOP_H

#ifndef BRAID_UNSTABLE_API
#error "braid/unstable/coop.h is outside braid's ABI stability promise: #define BRAID_UNSTABLE_API before including it"
#endif

#include "../export.h"

BRAID_EXTERN_C_BEGIN

/* Takes one unit of the running task's budget for an operation completed
 * without a poll function: 1 when it may complete (or outside a task), 0
 * when the budget is used up (yield: wake the task and return
 * BRAID_PENDING). */
BRAID_API int braid_coop_take(void);
/* The calling thread's budget counter, for code that takes units inline
 * without a call per operation (the C++ layer's stream sources): > 0 units
 * left in the running poll (take one by decrementing it), 0 used up (wake the
 * task and return BRAID_PENDING), < 0 not inside a task poll (unlimited).
 * The address is the calling thread's for as long as the thread lives; read
 * it inside the poll that takes the units (the next poll starts afresh).
 * A future that combines others reads it before and after polling an inner
 * one to tell whether that one used the budget up (a timeout does: see
 * braid_timer_poll_unconstrained in braid/time.h). */
BRAID_API int *braid_coop_counter(void);

BRAID_EXTERN_C_END

#endif /* BRAID_UNSTABLE_COOP_H */
