#include "task/join.hpp"

#include <braid/error.h>

#include <utility>

#include "runtime/core.hpp"
#include "task/spawn.hpp"
#include "util/block_until.hpp"
#include "task/callback.hpp"

namespace braid::detail {

namespace {

// braid_task_join's operation: waits for a task, then calls back on a worker.
struct JoinOp {
    Task* target;
    Callback<braid_callback> cb;
    void* ud;
    JoinOp(Task* t, braid_callback c, void* u) : target(t), cb(c), ud(u) { target->ref(); }
    bool owns_slot = true;
    // The slot is given back before the callback runs, so the callback (and
    // whoever it signals) can join the task again.
    void give_back_slot() {
        if (std::exchange(owns_slot, false)) target->release_join();
    }
    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<JoinOp*>(self);
        int rc = s->target->poll_join(&braid_task_wake_fn, me);
        if (rc == BRAID_PENDING) return BRAID_PENDING;
        s->give_back_slot();
        s->cb(s->ud, rc);
        return BRAID_OK;
    }
    static void cancel(void* self) {
        auto* s = static_cast<JoinOp*>(self);
        s->target->unregister_join();
        int rc = s->target->poll_join(nullptr, nullptr);
        s->give_back_slot();
        s->cb(s->ud, rc == BRAID_PENDING ? current_cancel_status() : rc);
    }
    ~JoinOp() {
        target->unregister_join();
        give_back_slot();
        target->unref();
    }
};

}  // namespace

int join_with_callback(Task* t, braid_callback cb, void* ud) {
    if (!t->core || t->core->shutting_down()) return BRAID_ESHUTDOWN;  // no runtime to call back on
    if (!t->claim_join()) return BRAID_EBUSY;
    int rc = spawn_op<JoinOp>(nullptr, t->core, TaskKind::Worker, t, cb, ud);
    // A refused operation was released already (and gave the slot back);
    // only an allocation failure before it existed leaves the claim here.
    if (rc == BRAID_ENOMEM) t->release_join();
    return rc;
}

int join_blocking(Task* t, int64_t timeout_ms) {
    if (!t->claim_join()) {
        // Finished tasks have nothing to wait for; otherwise someone else waits.
        int st = t->poll_join(nullptr, nullptr);
        return st == BRAID_PENDING ? BRAID_EBUSY : st;
    }
    int rc = block_until([t](braid_wake_fn w, void* d) { return t->poll_join(w, d); },
                         [t] { t->unregister_join(); }, timeout_ms);
    t->release_join();
    return rc;
}

}  // namespace braid::detail
