// What every extern "C" shim shares: the handle structs behind the opaque
// C types and the rule that no exception crosses the boundary.
#pragma once

#include <braid/braid.h>
#include <braid/error.hpp>
#include <braid/unstable/alloc.h>
#include <braid/unstable/coop.h>
#include <braid/unstable/task_block.h>
#include <braid/unstable/task_trace.h>
#include <braid/unstable/waiter.h>

#include <exception>
#include <new>

#include "runtime/core.hpp"
#include "task/spawn.hpp"
#include "task/task.hpp"

// The opaque C types are the engine's objects.
struct braid_runtime_builder {
    braid::detail::Config cfg;
};
struct braid_handle {
    braid::detail::Core* core;
};

namespace braid::capi {

inline detail::Core* core_of(braid_runtime* rt) { return reinterpret_cast<detail::Core*>(rt); }
inline const detail::Core* core_of(const braid_runtime* rt) { return reinterpret_cast<const detail::Core*>(rt); }
inline braid_runtime* rt_of(detail::Core* c) { return reinterpret_cast<braid_runtime*>(c); }
inline detail::Task* task_of(braid_task* t) { return reinterpret_cast<detail::Task*>(t); }
inline const detail::Task* task_of(const braid_task* t) { return reinterpret_cast<const detail::Task*>(t); }
inline braid_task* c_task(detail::Task* t) { return reinterpret_cast<braid_task*>(t); }

// rt, or the calling thread's runtime when rt is NULL.
inline detail::Core* core_or_current(braid_runtime* rt) {
    return rt ? core_of(rt) : detail::context_core();
}

// Whether the calling thread must not block, so that blocking calls are
// refused there with BRAID_EDEADLK: a worker of some runtime, or a thread
// running the callbacks of a runtime's shutdown (operations it cancels call
// back on the thread that shuts down, and a wait there could need a task the
// same shutdown has yet to cancel).
inline bool on_worker_thread() {
    detail::Core* c = detail::current_core();
    return (c && c->scheduler().current_worker() != nullptr) || detail::Core::in_shutdown_callbacks();
}

// Inside a cancel function: the status the operation was cancelled with
// (BRAID_ECANCELED, or BRAID_ETIMEDOUT when a deadline ran out).
inline int cancel_status() { return detail::current_cancel_status(); }

// The code of the exception being handled (call it inside a catch block):
// std::bad_alloc -> BRAID_ENOMEM, braid::Error -> its code, anything else
// (a library bug, or a C++ callback of the caller that threw) ->
// BRAID_EPANIC.  The one mapping for every exception that would otherwise
// cross the C ABI.
inline int exception_code() noexcept {
    try {
        throw;
    } catch (const std::bad_alloc&) {
        return BRAID_ENOMEM;
    } catch (const braid::Error& e) {
        return e.code() < 0 ? e.code() : BRAID_EPANIC;
    } catch (...) {
        return BRAID_EPANIC;
    }
}

// What a poll function does when called with a NULL waker (docs/c-api.md,
// "NULL waker"): `unregister()` removes the registration an earlier call of
// the same operation made, no attempt is made, and BRAID_PENDING is returned.
template <class F>
int withdrawn(F&& unregister) {
    unregister();
    return BRAID_PENDING;
}

// Runs body; turns any exception into an error code (exception_code).
template <class F>
int guarded(F&& body) noexcept {
    try {
        return body();
    } catch (...) {
        return exception_code();
    }
}

// Spawns a future-style task whose state is a T constructed from args, on
// core (worker or blocking kind): detail::spawn_op under the name every
// shim uses.
template <class T, class... Args>
int spawn_state(braid_task** out, detail::Core* core, detail::TaskKind kind, Args&&... args) {
    return detail::spawn_op<T>(out, core, kind, static_cast<Args&&>(args)...);
}

}  // namespace braid::capi
