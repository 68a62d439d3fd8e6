#include "task/spawn.hpp"

#include "runtime/core.hpp"

namespace braid::detail {

namespace {

// braid_spawn's task: fn(arg), once.
struct FnTask {
    braid_task_fn fn;
    void* arg;
    FnTask(braid_task_fn f, void* a) : fn(f), arg(a) {}
    static int poll(void* self, braid_task*) {
        auto* s = static_cast<FnTask*>(self);
        s->fn(s->arg);
        return BRAID_OK;
    }
    static void cancel(void*) {}
};

}  // namespace

int spawn_fn(braid_task** out, Core* core, TaskKind kind, braid_task_fn fn, void* arg) {
    if (out) *out = nullptr;
    if (!core || !fn) return BRAID_EINVAL;
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return spawn_op<FnTask>(out, core, kind, fn, arg);
}

}  // namespace braid::detail
