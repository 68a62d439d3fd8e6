// The callback form of every wait on a shared primitive (a lock, a channel,
// Notify, a barrier, a OnceCell, a join set): the argument checks in front
// of src/task/callback_wait.hpp, which turns the primitive's poll function
// into a callback operation, as braid_sleep is one for a timer.
#pragma once

#include <utility>

#include "shim.hpp"
#include "task/callback_wait.hpp"

namespace braid::capi {

// Starts the callback operation of one wait.  args_ok: the primitive and the
// wait's own arguments were checked by the caller.  BRAID_OK (cb will run
// exactly once), BRAID_EINVAL (rt, cb NULL or !args_ok), BRAID_ESHUTDOWN,
// BRAID_ENOMEM (cb never runs).
template <class Poll, class Cancel>
int start_wait(braid_task** out, braid_runtime* rt, bool args_ok, braid_callback cb, void* ud, Poll poll,
               Cancel cancel) {
    if (out) *out = nullptr;
    if (!rt || !cb || !args_ok) return BRAID_EINVAL;
    return guarded([&]() -> int {
        return detail::spawn_callback_wait(out, core_of(rt), cb, ud, std::move(poll), std::move(cancel));
    });
}

}  // namespace braid::capi
