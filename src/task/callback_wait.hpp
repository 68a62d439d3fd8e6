// The callback form of a wait on a shared primitive (a lock, a channel,
// Notify, a barrier, a OnceCell, a join set): one template that turns a
// poll function into a callback operation.
//
// The operation is a future-style task (spawn_op) whose state holds the
// wait: `poll(&w, wake, wake_data)` is the primitive's poll function (the
// braid_waiter protocol of braid/unstable/waiter.h, or a single receiver's
// poll, which ignores w), `cancel(&w)` gives the wait up so that the
// primitive is left as if it never happened (the waiter protocol's cancel
// gives back what had been granted; a single receiver's unregister consumes
// nothing).  The callback runs exactly once: with the poll's result on a
// worker, or with the cancel status (BRAID_ECANCELED, BRAID_ETIMEDOUT) when
// the task is aborted or its runtime shuts down.
#pragma once

#include <braid/task.h>
#include <braid/unstable/waiter.h>

#include <utility>

#include "runtime/core.hpp"
#include "task/spawn.hpp"
#include "task/callback.hpp"

namespace braid::detail {

template <class Poll, class Cancel>
struct CallbackWait {
    Poll poll_fn;
    Cancel cancel_fn;
    Callback<braid_callback> cb;
    void* ud;
    braid_waiter* w = nullptr;

    CallbackWait(Poll p, Cancel c, braid_callback f, void* u)
        : poll_fn(std::move(p)), cancel_fn(std::move(c)), cb(f), ud(u) {}

    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<CallbackWait*>(self);
        int rc = s->poll_fn(&s->w, &braid_task_wake_fn, me);
        if (rc == BRAID_PENDING) return BRAID_PENDING;
        // Completed: the waiter is gone (the protocol freed it); the
        // primitive is not touched again, so cb may free it.
        s->w = nullptr;
        s->cb(s->ud, rc);
        return BRAID_OK;
    }
    static void cancel(void* self) {
        auto* s = static_cast<CallbackWait*>(self);
        s->cancel_fn(&s->w);
        s->w = nullptr;
        s->cb(s->ud, current_cancel_status());
    }
};

// Spawns the callback operation of one wait on core.  BRAID_OK (cb will
// run exactly once), BRAID_ESHUTDOWN, BRAID_ENOMEM (cb never runs); an
// exception of Poll's or Cancel's move goes on.
template <class Poll, class Cancel>
int spawn_callback_wait(braid_task** out, Core* core, braid_callback cb, void* ud, Poll poll, Cancel cancel) {
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return spawn_op<CallbackWait<Poll, Cancel>>(out, core, TaskKind::Worker, std::move(poll), std::move(cancel), cb,
                                                ud);
}

}  // namespace braid::detail
