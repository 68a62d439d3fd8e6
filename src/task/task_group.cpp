#include "task/task_group.hpp"

#include <braid/error.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "runtime/core.hpp"
#include "task/spawn.hpp"
#include "time/timer_driver.hpp"
#include "task/callback.hpp"

namespace braid::detail {

namespace {

// Joins the tasks it claimed; Any reports the first, All waits for every one.
// The join slots are given back before the callback runs (as braid_task_join
// does), so the callback, and whoever it signals, can join the tasks again
// (after join_any: the ones still running).  The references stay until the
// operation's memory goes: the handles may be freed in the callback.
template <bool Any>
struct GroupJoinOp {
    std::vector<Task*> tasks;
    Callback<braid_callback> all_cb;
    Callback<braid_index_callback> any_cb;
    void* ud;
    bool owns_slots = true;

    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<GroupJoinOp*>(self);
        int first_failure = BRAID_OK;
        bool all_done = true;
        for (std::size_t i = 0; i < s->tasks.size(); ++i) {
            int rc = s->tasks[i]->poll_join(&braid_task_wake_fn, me);
            if (rc == BRAID_PENDING) {
                all_done = false;
                continue;
            }
            if constexpr (Any) {
                s->give_back_slots();
                s->any_cb(s->ud, i, rc);
                return BRAID_OK;
            }
            if (first_failure == BRAID_OK) first_failure = rc;
        }
        if (!all_done) return BRAID_PENDING;
        s->give_back_slots();
        s->all_cb(s->ud, first_failure);
        return BRAID_OK;
    }
    // Removes this operation's join wakers and releases the slots, once.
    void give_back_slots() {
        if (!std::exchange(owns_slots, false)) return;
        for (Task* t : tasks) {
            t->unregister_join();
            t->release_join();
        }
    }
    static void cancel(void* self) {
        auto* s = static_cast<GroupJoinOp*>(self);
        s->give_back_slots();
        int why = current_cancel_status();
        if constexpr (Any) s->any_cb(s->ud, std::size_t(-1), why);
        else s->all_cb(s->ud, why);
    }
    // Gives back the slots (if still held) and the references.
    void drop() {
        give_back_slots();
        for (Task* t : tasks) t->unref();
        tasks.clear();
    }
    GroupJoinOp() = default;
    GroupJoinOp(GroupJoinOp&& o) noexcept
        : tasks(std::move(o.tasks)), all_cb(std::move(o.all_cb)), any_cb(std::move(o.any_cb)), ud(o.ud),
          owns_slots(std::exchange(o.owns_slots, false)) {}
    ~GroupJoinOp() { drop(); }  // slots still held: never polled nor cancelled (refused at start)
};

template <bool Any, class Cb>
int group_join(braid_task** out, Core* core, braid_task* const* tasks, std::size_t n, Cb cb, void* ud) {
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    GroupJoinOp<Any> op;
    op.ud = ud;
    if constexpr (Any) op.any_cb = cb;
    else op.all_cb = cb;
    op.tasks.reserve(n);  // the one allocation that may throw: nothing is claimed yet
    for (std::size_t i = 0; i < n; ++i) {
        Task* t = reinterpret_cast<Task*>(tasks[i]);
        if (!t->claim_join()) return BRAID_EBUSY;  // op's destructor gives back the claims so far
        t->ref();
        op.tasks.push_back(t);
    }
    // Moved into the operation's task, op keeps nothing; if the task could
    // not be made, op's destructor gives the claims back.
    return spawn_op<GroupJoinOp<Any>>(out, core, TaskKind::Worker, std::move(op));
}

// set_deadline's operation: aborts its target at the deadline; ends early
// (woken as the target's watcher) when the target finishes first.
struct DeadlineOp {
    TimerEntry entry;
    Task* target;
    DeadlineOp(Core* c, int64_t when, Task* t) : entry{&c->timers(), when}, target(t) { target->ref(); }
    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<DeadlineOp*>(self);
        if (s->target->is_complete()) {
            s->entry.driver->remove(&s->entry);
            return BRAID_OK;
        }
        if (s->entry.driver->poll(&s->entry, &braid_task_wake_fn, me) == BRAID_PENDING) return BRAID_PENDING;
        s->target->abort(BRAID_ETIMEDOUT);
        return BRAID_OK;
    }
    static void cancel(void* self) {
        auto* s = static_cast<DeadlineOp*>(self);
        s->entry.driver->remove(&s->entry);
    }
    ~DeadlineOp() { target->unref(); }
};

}  // namespace

int join_all(braid_task** out, Core* core, braid_task* const* tasks, std::size_t n, braid_callback cb, void* ud) {
    return group_join<false>(out, core, tasks, n, cb, ud);
}

int join_any(braid_task** out, Core* core, braid_task* const* tasks, std::size_t n, braid_index_callback cb,
             void* ud) {
    return group_join<true>(out, core, tasks, n, cb, ud);
}

int set_deadline(Task* t, int64_t deadline_ns) {
    if (t->is_complete()) return BRAID_OK;
    Core* core = t->core;
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    // Built without starting it, so it can be installed as the watcher first.
    Task* d = Task::create(core, sizeof(DeadlineOp), &task_vtable<DeadlineOp>, 2 /* alive + the target's watcher slot */);
    if (!d) return BRAID_ENOMEM;
    new (d->state_ptr()) DeadlineOp(core, deadline_ns, t);
    if (!t->set_watcher(d)) {
        // Finished meanwhile, or it has a deadline already.
        bool done = t->is_complete();
        d->complete(BRAID_ECANCELED);  // never started: no cancel
        d->unref();                    // the watcher reference nobody took
        return done ? BRAID_OK : BRAID_EBUSY;
    }
    d->launch(nullptr);  // refused (shutdown) is fine: the target is being cancelled anyway
    return BRAID_OK;
}

int set_timeout(Task* t, int64_t ms) {
    if (t->is_complete()) return BRAID_OK;  // (may have no runtime)
    int64_t now = t->core->clock().now();
    int64_t ns = ms > (INT64_MAX - now) / 1000000 ? INT64_MAX : now + ms * 1000000;
    return set_deadline(t, ns);
}

}  // namespace braid::detail
