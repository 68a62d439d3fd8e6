#include "task/task.hpp"

#include <braid/error.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>
#include <utility>

#include "runtime/core.hpp"
#include "task/coop.hpp"
#include "task/task_info.hpp"
#include "task/local_set.hpp"
#include "task/poll_end.hpp"
#include "util/alloc.hpp"

namespace braid::detail {
namespace {
std::atomic<uint64_t> g_next_task_id{1};
}

constinit thread_local Task* tl_current_task [[gnu::tls_model("initial-exec")]] = nullptr;
constinit thread_local Task* tl_polled_task [[gnu::tls_model("initial-exec")]] = nullptr;
constinit thread_local bool tl_self_woken [[gnu::tls_model("initial-exec")]] = false;

int current_cancel_status() {
    Task* t = current_task();
    return t ? t->cancel_status.load(std::memory_order_relaxed) : BRAID_ECANCELED;
}

namespace {
// initial-exec: read on every task's release, where a general-dynamic TLS
// access would call __tls_get_addr.
constinit thread_local uint64_t tl_releasing_id [[gnu::tls_model("initial-exec")]] = 0;
}  // namespace

uint64_t& releasing_task_id() { return tl_releasing_id; }

constinit thread_local int coop::tl_budget [[gnu::tls_model("initial-exec")]] = -1;

namespace {
Task* const kCompleted = reinterpret_cast<Task*>(alignof(Task));  // watcher slot closed
int never_polled(void*, braid_task*) { return BRAID_EINVAL; }
std::size_t state_bytes(std::size_t state_size) { return (state_size + 15) & ~std::size_t(15); }
}  // namespace

const braid_task_vtable Task::kNoState{&never_polled, nullptr, nullptr, nullptr, nullptr};

Task* Task::create_in(Core* core, void* block, std::size_t block_size, const braid_task_vtable* vt,
                      uint64_t refs) {
    Task* t = new (block) Task;
    t->state.store(refs * st::REF_ONE, std::memory_order_relaxed);
    t->core = core;
    if (core) core->ref();  // a handle may outlive braid_runtime_free
    t->vt = vt;
    t->id = g_next_task_id.fetch_add(1, std::memory_order_relaxed);
    t->alloc_size = uint32_t(block_size);
    if (core) t->spawned_at = core->clock().coarse_now();
    return t;
}

Task* Task::create(Core* core, std::size_t state_size, const braid_task_vtable* vt, uint64_t refs) {
    std::size_t size = kStateOffset + state_bytes(state_size);
    void* mem = alloc(size);
    if (!mem) return nullptr;
    std::memset(static_cast<char*>(mem) + kStateOffset, 0, size - kStateOffset);
    return create_in(core, mem, size, vt, refs);
}

Task* Task::create(Core* core, std::size_t state_size, braid_poll_fn poll, braid_state_fn cancel,
                   braid_state_fn release, uint64_t refs) {
    std::size_t at = kStateOffset + state_bytes(state_size);
    std::size_t size = at + sizeof(braid_task_vtable);
    void* mem = alloc(size);
    if (!mem) return nullptr;
    std::memset(static_cast<char*>(mem) + kStateOffset, 0, at - kStateOffset);
    auto* vt = new (static_cast<char*>(mem) + at) braid_task_vtable{poll, cancel, release, nullptr, nullptr};
    return create_in(core, mem, size, vt, refs);
}

Task* Task::create_finished(int st_) {
    Task* t = create(nullptr, 0, &kNoState, 1);
    if (!t) return nullptr;
    t->status = st_;
    t->watcher.store(kCompleted, std::memory_order_relaxed);
    t->state.fetch_or(st::STARTED | st::COMPLETE, std::memory_order_release);
    return t;
}

void Task::unref() {
    uint64_t prev = state.fetch_sub(st::REF_ONE, std::memory_order_acq_rel);
    if ((prev & ~st::FLAGS) == st::REF_ONE) {
        if (braid_state_fn release = vt->release) {
            // What the state still holds (an output nobody took, a future
            // that never ran) is destroyed under this task's id, wherever
            // the last reference goes: a joiner dropping its handle, the
            // task completing after its handle was dropped.
            uint64_t& rid = releasing_task_id();
            uint64_t outer = std::exchange(rid, id);
            release(state_ptr());
            rid = outer;
        }
        std::size_t size = alloc_size;
        Core* c = core;
        if (TaskExtra* e = extra.load(std::memory_order_acquire)) {
            std::free(e->name.load(std::memory_order_relaxed));
            delete e;
        }
        LocalSet* ls = kind == TaskKind::Local ? local_set : nullptr;
        this->~Task();
        dealloc(this, size);
        if (ls) ls->unref();
        if (c) c->unref();  // may free a runtime whose owner let go already
    }
}

bool Task::mark_started() {
    uint64_t s = state.load(std::memory_order_acquire);
    do {
        if (s & st::STARTED) return false;
    } while (!state.compare_exchange_weak(s, s | st::STARTED | st::NOTIFIED, std::memory_order_acq_rel));
    return true;
}

int Task::start(TaskKind k) {
    if (!mark_started()) return BRAID_EBUSY;
    kind = k;
    return core->start_task(this);
}

int Task::launch(braid_task** out) {
    state.fetch_or(st::STARTED | st::NOTIFIED, std::memory_order_release);
    if (out) *out = reinterpret_cast<braid_task*>(this);
    int rc = core->start_task(this);
    if (rc != BRAID_OK && out) {
        *out = nullptr;
        unref();
    }
    return rc;
}

void Task::drop_handle() {
    if (!join_owned()) unregister_join();
    if (!(state.load(std::memory_order_acquire) & st::STARTED)) complete(BRAID_ECANCELED);
    unref();
}

void Task::wake() {
    if (tl_polled_task == this) {  // running here: re-queued when the poll returns
        tl_self_woken = true;
        return;
    }
    if (transition_to_notified()) schedule_notified();
}

void Task::schedule_notified() {
    if (kind == TaskKind::Local) local_set->schedule(this);
    else core->scheduler().schedule(this);
}

bool Task::transition_to_notified() {
    uint64_t s = state.load(std::memory_order_acquire);
    for (;;) {
        if (s & (st::COMPLETE | st::NOTIFIED)) return false;
        if (!(s & st::STARTED)) return false;
        bool running = s & st::RUNNING;
        if (state.compare_exchange_weak(s, s | st::NOTIFIED, std::memory_order_acq_rel))
            return !running;
    }
}

bool Task::transition_to_running() {
    uint64_t s = state.load(std::memory_order_acquire);
    for (;;) {
        uint64_t ns = (s | st::RUNNING) & ~st::NOTIFIED;
        if (state.compare_exchange_weak(s, ns, std::memory_order_acq_rel)) {
            if (ns & st::CANCELLED) {
                cancel_and_complete(cancel_status.load(std::memory_order_relaxed));
                return false;
            }
            return true;
        }
    }
}

Task::Idle Task::transition_to_idle(bool woken) {
    uint64_t s = state.load(std::memory_order_acquire);
    for (;;) {
        if (s & st::CANCELLED) return Idle::Cancel;
        uint64_t ns = (s & ~st::RUNNING) | (woken ? st::NOTIFIED : 0);
        if (state.compare_exchange_weak(s, ns, std::memory_order_acq_rel))
            return (ns & st::NOTIFIED) ? Idle::Requeue : Idle::Done;
    }
}

bool Task::run(WorkerCounters* counters, PollTiming* timing) {
    if (!transition_to_running()) return false;
    // This thread owns the counters while the task runs (relaxed: the dump
    // reads them from elsewhere).
    wait_kind.store(BRAID_WAIT_UNKNOWN, std::memory_order_relaxed);
    polls.store(polls.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    Task*& cur = current_task();
    Task* prev = cur;
    cur = this;
    // A poll may run another's (a local set's tasks inside run_until): a
    // wake the outer task gave itself goes into its state word first (it
    // is RUNNING: nothing is queued), so the flag is only ever the
    // innermost poll's and a dump from inside sees the outer one notified.
    Task* prev_polled = tl_polled_task;
    if (prev_polled && tl_self_woken) {
        tl_self_woken = false;
        prev_polled->transition_to_notified();
    }
    tl_polled_task = this;
    int r;
    {
        coop::Scope budget;
        poll_end::Scope deferred;  // work the poll deferred runs before the state changes below
        try {
            r = vt->poll(state_ptr(), reinterpret_cast<braid_task*>(this));
        } catch (...) {
            // A C++ body (a poll function, braid_spawn's function, an
            // operation's callback) threw: the task ends as a panic, as
            // Tokio's JoinError::Panic, and the worker goes on.
            r = BRAID_EPANIC;
        }
    }
    cur = prev;
    bool woken = std::exchange(tl_self_woken, false);
    tl_polled_task = prev_polled;
    if (timing) {
        timing->took = monotonic_ns() - timing->start;
        if (TaskExtra* e = extra_or_make())  // out of memory: this poll's time is not added
            e->poll_ns.store(e->poll_ns.load(std::memory_order_relaxed) + uint64_t(timing->took),
                             std::memory_order_relaxed);
    }
    if (r != BRAID_PENDING) {
        if (counters) counters->tasks[kTaskCompleted].add();
        complete(r);
        return false;
    }
    if (kind == TaskKind::Blocking) {
        cancel_and_complete(BRAID_EINVAL);  // blocking polls must finish in one go
        return false;
    }
    switch (transition_to_idle(woken)) {
        case Idle::Done: return false;
        case Idle::Requeue: return true;
        case Idle::Cancel: cancel_and_complete(cancel_status.load(std::memory_order_relaxed)); return false;
    }
    return false;
}

void Task::cancel_and_complete(int st_) {
    if (kind == TaskKind::Worker) core->counters().task_event(kTaskAborted);
    if (braid_state_fn cancel = vt->cancel) {
        Task*& cur = current_task();
        Task* prev = cur;
        cur = this;
        try {
            cancel(state_ptr());
        } catch (...) {
            st_ = BRAID_EPANIC;  // dropping the future threw (Tokio: a panic in drop)
        }
        cur = prev;
    }
    complete(st_);
}

bool Task::claim() {
    uint64_t s = state.load(std::memory_order_acquire);
    for (;;) {
        if (!(s & st::STARTED) || (s & (st::RUNNING | st::NOTIFIED | st::COMPLETE | st::CANCELLED))) return false;
        if (state.compare_exchange_weak(s, s | st::RUNNING | st::CLAIMED, std::memory_order_acq_rel)) return true;
    }
}

void Task::unclaim() {
    uint64_t s = state.load(std::memory_order_acquire);
    uint64_t ns;
    do {
        // Woken or aborted while held: it was not queued (it looked
        // running); queue it now, as a worker does after a poll.
        ns = s & ~(st::RUNNING | st::CLAIMED);
        if (s & st::CANCELLED) ns |= st::NOTIFIED;
    } while (!state.compare_exchange_weak(s, ns, std::memory_order_acq_rel));
    if (ns & st::NOTIFIED) schedule_notified();  // a local set's task goes back to its set
}

bool Task::seize_for_close() {
    uint64_t s = state.load(std::memory_order_acquire);
    for (;;) {
        if (s & st::COMPLETE) return false;
        if (s & st::CLAIMED) {  // a dump reads it: held for a few copies
            std::this_thread::yield();
            s = state.load(std::memory_order_acquire);
            continue;
        }
        if (state.compare_exchange_weak(s, s | st::CANCELLED, std::memory_order_acq_rel)) return true;
    }
}

TaskExtra* Task::extra_or_make() {
    TaskExtra* e = extra.load(std::memory_order_acquire);
    if (e) return e;
    auto* made = new (std::nothrow) TaskExtra;
    if (!made) return nullptr;
    if (extra.compare_exchange_strong(e, made, std::memory_order_acq_rel)) return made;
    delete made;  // another thread's is there (e)
    return e;
}

int set_task_name(Task* t, const char* name) {
    TaskExtra* e = t->extra_or_make();
    if (!e) return BRAID_ENOMEM;
    std::size_t n = std::strlen(name);
    if (n > BRAID_TASK_NAME_MAX) n = BRAID_TASK_NAME_MAX;
    auto* copy = static_cast<char*>(std::malloc(n + 1));
    if (!copy) return BRAID_ENOMEM;
    std::memcpy(copy, name, n);
    copy[n] = '\0';
    char* expected = nullptr;
    if (!e->name.compare_exchange_strong(expected, copy, std::memory_order_acq_rel)) {
        std::free(copy);
        return BRAID_EBUSY;
    }
    return BRAID_OK;
}

bool Task::set_watcher(Task* w) {
    Task* expected = nullptr;
    return watcher.compare_exchange_strong(expected, w, std::memory_order_acq_rel);
}

void Task::complete(int st_) {
    status = st_;
    if (kind == TaskKind::Worker && (state.load(std::memory_order_relaxed) & st::STARTED))
        core->owned().remove(this);
    else if (kind == TaskKind::Local)
        local_set->forget(this);
    else if (kind == TaskKind::Blocking)
        core->blocking().job_ending(this);  // the dump no longer finds it running
    uint64_t s = state.load(std::memory_order_relaxed);
    while (!state.compare_exchange_weak(s, (s | st::COMPLETE) & ~(st::RUNNING | st::NOTIFIED),
                                        std::memory_order_acq_rel)) {
    }
    if (s & st::JOIN_WAKER) {
        join_wake(join_data);
        state.fetch_and(~st::JOIN_WAKER, std::memory_order_release);
    }
    Task* w = watcher.exchange(kCompleted, std::memory_order_acq_rel);
    if (w && w != kCompleted) {
        w->wake();
        w->unref();
    }
    unref();  // the reference the task held while alive
}

int Task::poll_join(braid_wake_fn wake, void* data) {
    uint64_t s = state.load(std::memory_order_acquire);
    if (s & st::COMPLETE) return (!wake || coop::proceed(wake, data)) ? status : BRAID_PENDING;
    if (!wake) return BRAID_PENDING;
    if (s & st::JOIN_WAKER) {
        if (join_wake == wake && join_data == data) return BRAID_PENDING;
        for (;;) {
            if (s & st::COMPLETE) return status;
            if (state.compare_exchange_weak(s, s & ~st::JOIN_WAKER, std::memory_order_acq_rel)) break;
        }
    }
    join_wake = wake;
    join_data = data;
    s = state.load(std::memory_order_acquire);
    for (;;) {
        if (s & st::COMPLETE) return status;
        if (state.compare_exchange_weak(s, s | st::JOIN_WAKER, std::memory_order_acq_rel))
            return BRAID_PENDING;
    }
}

int Task::poll_join_handle(braid_wake_fn wake, void* data) {
    if (join_owned()) return BRAID_EBUSY;
    if (!wake) {  // withdraws (the C ABI's NULL-waker rule): no attempt
        unregister_join();
        return BRAID_PENDING;
    }
    return poll_join(wake, data);
}

int Task::try_join_handle() {
    if (join_owned()) return BRAID_EBUSY;
    return poll_join(nullptr, nullptr);
}

bool Task::claim_join() {
    uint64_t s = state.load(std::memory_order_acquire);
    for (;;) {
        if (s & (st::JOIN_OWNED | st::JOIN_WAKER)) return false;
        if (state.compare_exchange_weak(s, s | st::JOIN_OWNED, std::memory_order_acq_rel)) return true;
    }
}

void Task::unregister_join() {
    uint64_t s = state.load(std::memory_order_acquire);
    for (;;) {
        if (!(s & st::JOIN_WAKER)) return;
        if (s & st::COMPLETE) {
            // The completer is calling the waker right now: wait it out.
            std::this_thread::yield();
            s = state.load(std::memory_order_acquire);
            continue;
        }
        if (state.compare_exchange_weak(s, s & ~st::JOIN_WAKER, std::memory_order_acq_rel)) return;
    }
}

void Task::abort(int reason) {
    uint64_t s = state.load(std::memory_order_acquire);
    if (s & (st::COMPLETE | st::CANCELLED)) return;
    cancel_status.store(reason, std::memory_order_relaxed);  // published by the CAS below
    for (;;) {
        if (s & (st::COMPLETE | st::CANCELLED)) return;
        bool idle = (s & st::STARTED) && !(s & (st::RUNNING | st::NOTIFIED));
        uint64_t ns = s | st::CANCELLED | (idle ? st::NOTIFIED : 0);
        if (state.compare_exchange_weak(s, ns, std::memory_order_acq_rel)) {
            // Only worker tasks are ever idle after starting: a blocking task
            // is queued or running until it completes.
            if (idle) schedule_notified();
            return;
        }
    }
}

}  // namespace braid::detail
