// The callback form of every wait on a shared primitive (a lock, a channel,
// Notify, a barrier, a OnceCell, a join set): one template that turns a poll
// function into a callback operation, as braid_sleep is one for a timer.
//
// The operation is a future-style task (spawn_state) whose state holds the
// wait: `poll(&w, wake, wake_data)` is the primitive's poll function (the
// braid_waiter protocol of braid/unstable/waiter.h, or a single receiver's
// poll, which ignores w), `cancel(&w)` gives the wait up so that the
// primitive is left as if it never happened (the waiter protocol's cancel
// gives back what had been granted; a single receiver's unregister consumes
// nothing).  The callback runs exactly once: with the poll's result on a
// worker, or with BRAID_ECANCELED when the task is aborted or its runtime
// shuts down.
#pragma once

#include <utility>

#include "shim.hpp"

namespace braid::capi {

template <class Poll, class Cancel>
struct WaitOp {
    Poll poll_fn;
    Cancel cancel_fn;
    braid_callback cb;
    void* ud;
    braid_waiter* w = nullptr;

    WaitOp(Poll p, Cancel c, braid_callback f, void* u)
        : poll_fn(std::move(p)), cancel_fn(std::move(c)), cb(f), ud(u) {}

    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<WaitOp*>(self);
        int rc = s->poll_fn(&s->w, &braid_task_wake_fn, me);
        if (rc == BRAID_PENDING) return BRAID_PENDING;
        // Completed: the waiter is gone (the protocol freed it); the
        // primitive is not touched again, so cb may free it.
        s->w = nullptr;
        s->cb(s->ud, rc);
        return BRAID_OK;
    }
    static void cancel(void* self) {
        auto* s = static_cast<WaitOp*>(self);
        s->cancel_fn(&s->w);
        s->w = nullptr;
        s->cb(s->ud, cancel_status());
    }
    static void release(void* self) { static_cast<WaitOp*>(self)->~WaitOp(); }
};

// Starts the callback operation of one wait.  args_ok: the primitive and the
// wait's own arguments were checked by the caller.  BRAID_OK (cb will run
// exactly once), BRAID_EINVAL (rt, cb NULL or !args_ok), BRAID_ESHUTDOWN,
// BRAID_ENOMEM (cb never runs).
template <class Poll, class Cancel>
int start_wait(braid_task** out, braid_runtime* rt, bool args_ok, braid_callback cb, void* ud, Poll poll,
               Cancel cancel) {
    if (out) *out = nullptr;
    if (!rt || !cb || !args_ok) return BRAID_EINVAL;
    detail::Core* core = core_of(rt);
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return guarded([&]() -> int {
        return spawn_state<WaitOp<Poll, Cancel>>(out, core, detail::TaskKind::Worker, std::move(poll),
                                                 std::move(cancel), cb, ud);
    });
}

}  // namespace braid::capi
