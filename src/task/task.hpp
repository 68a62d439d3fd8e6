// The task cell: header + caller state in one allocation, the state word,
// and the transitions every task goes through (spawn, run, yield, wake,
// abort, complete, join, release).  See docs/ARCHITECTURE.md, "Task life
// cycle" (the header and the block it heads).
#pragma once

#include <braid/task.h>
#include <braid/unstable/task_block.h>
#include <braid/unstable/task_trace.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "util/perturb.hpp"

namespace braid::detail {

class Core;
class LocalSet;
struct WorkerCounters;

// State word: flags in the low byte, reference count above.
namespace st {
constexpr uint64_t RUNNING = 1;        // a thread is inside poll
constexpr uint64_t NOTIFIED = 2;       // queued, or to be re-queued after the poll
constexpr uint64_t COMPLETE = 4;       // final status written; the future is gone
constexpr uint64_t CANCELLED = 8;      // abort requested
constexpr uint64_t JOIN_WAKER = 16;    // join_wake/join_data are set and owned by the completer
constexpr uint64_t STARTED = 32;       // braid_task_start* was called
constexpr uint64_t JOIN_OWNED = 64;    // braid_task_join's operation owns the join slot
constexpr uint64_t CLAIMED = 128;      // held by a task dump (with RUNNING): see Task::claim
constexpr uint64_t REF_ONE = 256;
constexpr uint64_t FLAGS = REF_ONE - 1;
}  // namespace st

// Worker: scheduled on the runtime's workers; Blocking: run once on the
// blocking pool; Local: a task of a local set (task/local_set.hpp), run
// only by that set's driver.
enum class TaskKind : uint8_t { Worker, Blocking, Local };

// The functions of a task whose state is a T: its static poll and cancel,
// and, as release, T's destructor, which gives back whatever the state
// holds (references, claims, a callback's completion queue).  A state that
// holds a resource releases it in its destructor, never in a function of
// its own, so nothing it owns can be forgotten when the task's memory goes.
template <class T>
void destroy_state(void* p) {
    static_cast<T*>(p)->~T();
}
template <class T>
inline constexpr braid_task_vtable task_vtable{&T::poll, &T::cancel,
                                               std::is_trivially_destructible_v<T> ? nullptr : &destroy_state<T>,
                                               nullptr, nullptr};

// What a task carries only when it is asked to: a name, a location or a
// trace set on it through the C ABI.  Made on the first such call (a C++
// spawn keeps its location and trace in its state and its vtable).
// Also the time its polls took, while slow-poll detection is on (the
// detection pays for the record, not every task's header).
struct TaskExtra {
    std::atomic<char*> name{nullptr};  // owned copy, set once
    const char* file = nullptr;        // spawn location: static strings (not owned), set before the start
    const char* function = nullptr;
    uint32_t line = 0;
    braid_task_trace_fn trace = nullptr;  // set before the start
    std::atomic<uint64_t> poll_ns{0};     // written by the thread that polls
};

// The header at the front of every task's block (BRAID_TASK_HEADER_SIZE
// bytes: the state follows it).  The functions are one pointer to a shared vtable: a static
// one per state type, or, for a task made through braid_task_new, a copy at
// the end of its own block.
struct Task {
    perturb::Atomic<uint64_t> state;
    Task* queue_next = nullptr;       // inject queue / blocking queue link
    union {
        Task* owned_prev = nullptr;   // owned-tasks list links (Worker)
        LocalSet* local_set;          // the set it belongs to (Local: a counted reference)
    };
    Task* owned_next = nullptr;
    Core* core;                       // runtime (a counted reference: a handle may outlive braid_runtime_free)
    const braid_task_vtable* vt;      // poll, cancel, release
    uint64_t id;
    braid_wake_fn join_wake = nullptr;
    void* join_data = nullptr;
    perturb::Atomic<Task*> watcher{nullptr};  // woken (and released) when this task completes
    uint32_t alloc_size;              // of the whole block
    std::atomic<int32_t> cancel_status{BRAID_ECANCELED};  // the status an abort completes with
    int32_t status = BRAID_PENDING;
    TaskKind kind = TaskKind::Worker;
    uint8_t owned_shard = 0;
    bool in_owned = false;
    std::atomic<uint8_t> wait_kind{0};  // a WaitKind (task/task_info.hpp): what the last poll registered with
    // What the task dump and the stall reports show (task/task_info.hpp);
    // the spawn location and awaiting chain come from the vtable or extra.
    // The counters are written by the thread that polls.
    std::atomic<TaskExtra*> extra{nullptr};  // freed with the task
    int64_t spawned_at = 0;               // the runtime's clock (coarse when not paused)
    std::atomic<uint64_t> polls{0};
    std::atomic<uint64_t> wait_arg{0};    // the wait's object: a deadline, an fd, a task id, an address

    static constexpr std::size_t kStateOffset = BRAID_TASK_HEADER_SIZE;

    // The extra record, made when missing: null when out of memory.
    TaskExtra* extra_or_make();
    // The name, or null.
    const char* name() const {
        TaskExtra* e = extra.load(std::memory_order_acquire);
        return e ? e->name.load(std::memory_order_acquire) : nullptr;
    }
    // The spawn location (file null: none).  Reads only: safe in a signal
    // handler (the stall report).
    struct Site {
        const char* file = nullptr;
        uint32_t line = 0;
        const char* function = nullptr;
    };
    Site site() {
        Site s;
        TaskExtra* e = extra.load(std::memory_order_acquire);
        if (e && e->file) s = Site{e->file, e->line, e->function};
        else if (vt->location) vt->location(state_ptr(), &s.file, &s.line, &s.function);
        return s;
    }
    // The state's awaiting chain, or null.
    braid_task_trace_fn trace() const {
        TaskExtra* e = extra.load(std::memory_order_acquire);
        if (e && e->trace) return e->trace;
        return vt->trace;
    }
    void* state_ptr() { return reinterpret_cast<char*>(this) + kStateOffset; }

    // Creates a task with `refs` references (one for each owner), its state
    // (state_size bytes) zeroed.
    static Task* create(Core* core, std::size_t state_size, const braid_task_vtable* vt, uint64_t refs);
    // The same with the functions copied into the block (braid_task_new:
    // the caller's functions need no vtable of their own).
    static Task* create(Core* core, std::size_t state_size, braid_poll_fn poll, braid_state_fn cancel,
                        braid_state_fn release, uint64_t refs);
    // Makes a task in `block` (braid_task_new_in: from alloc(block_size),
    // its state, after the header, left as it is); the task frees the block.
    static Task* create_in(Core* core, void* block, std::size_t block_size, const braid_task_vtable* vt,
                           uint64_t refs);
    // A vtable for a task whose state was never made (nothing to release).
    static const braid_task_vtable kNoState;
    // A task that never ran and is finished with `status`, bound to no
    // runtime (core is null), with one reference: its join handle.
    static Task* create_finished(int status);

    void ref() { state.fetch_add(st::REF_ONE, std::memory_order_relaxed); }
    void unref();

    bool is_complete() const { return state.load(std::memory_order_acquire) & st::COMPLETE; }
    // Whether an abort was requested (CANCELLED set).
    bool abort_requested() const { return state.load(std::memory_order_acquire) & st::CANCELLED; }
    // A join operation (braid_task_join, a join set, a group join) owns the
    // join slot.
    bool join_owned() const { return state.load(std::memory_order_acquire) & st::JOIN_OWNED; }

    // braid_task_start*: marks a new task started and notified (the caller
    // then hands it to Core::start_task).  False when it was started already.
    bool mark_started();
    // Starts a task made by create() and never started, as `k`: BRAID_EBUSY
    // when it was started already, else Core::start_task's result.
    int start(TaskKind k);
    // Hands a task made by create() (with its state constructed) to its
    // runtime: marks it started and notified and queues it.  `out`, when
    // given, receives the join handle before the task can run (a callback
    // of the task may read it); on refusal (BRAID_ESHUTDOWN: the task is
    // complete) it is nulled again and the handle's reference dropped.
    int launch(braid_task** out);
    // The owner of a join handle lets go of it (braid_task_free): a joiner
    // registered through the handle is unregistered (not one that owns the
    // slot: it holds a reference of its own), a task never started
    // completes with BRAID_ECANCELED, and the handle's reference goes.
    void drop_handle();
    // A waker's wake: queues the task unless it is queued, running (then
    // it is re-queued after its poll) or complete.
    void wake();
    // Queues a task that was just notified: on its runtime's scheduler, or
    // on its local set.
    void schedule_notified();

    // Scheduling: called by wakers.  Returns true when the caller must queue it.
    bool transition_to_notified();
    // Worker side.  Returns false when the task must not be polled (cancelled:
    // already finished by this call).
    bool transition_to_running();
    enum class Idle { Done, Requeue, Cancel };
    // `woken`: the poll woke the task itself (tl_self_woken): NOTIFIED is
    // set in the same CAS.
    Idle transition_to_idle(bool woken);

    // Runs one poll on the calling thread (a worker or a blocking thread).
    // Returns true when the task must be queued again (woken while running).
    // `counters`: the worker's running it, which count its completion (a
    // worker task's; null for the other kinds).
    bool run(WorkerCounters* counters = nullptr, struct PollTiming* timing = nullptr);
    // Completes with `status`: drops the future if cancelled, wakes the joiner,
    // releases the running reference.
    void complete(int status);
    void cancel_and_complete(int status);

    // Join side.
    int poll_join(braid_wake_fn wake, void* data);
    // braid_task_poll_join through the handle: BRAID_EBUSY while a join
    // operation owns the slot; a NULL waker withdraws (unregisters the
    // handle's waker, looks at nothing, BRAID_PENDING).
    int poll_join_handle(braid_wake_fn wake, void* data);
    // braid_task_try_join: the status if finished, else BRAID_PENDING
    // (BRAID_EBUSY while a join operation owns the slot); registers nothing.
    int try_join_handle();
    // Reserves the join slot for one joiner that is not re-polling through
    // poll_join (a callback join, a blocking join): false when a waker is
    // registered or the slot is owned already.
    bool claim_join();
    void release_join() { state.fetch_and(~st::JOIN_OWNED, std::memory_order_acq_rel); }
    void unregister_join();   // removes the join waker, waits out a waker being called
    // Requests cancellation; the task completes with `reason` (BRAID_ECANCELED,
    // or BRAID_ETIMEDOUT from a deadline) unless it finishes first.
    void abort(int reason = BRAID_ECANCELED);
    // The task dump looks at an idle task's state: claim() marks it running
    // and claimed (false unless it is started, idle and not cancelled), so
    // nothing polls it meanwhile; unclaim() gives it back, queueing it (on
    // its runtime or its local set) when it was woken or aborted in between.
    bool claim();
    void unclaim();
    // A local set's close, before it drops the task's future on its own
    // thread: marks the task cancelled, first waiting while a task dump
    // holds it (the dump reads the future's awaiting chain), so no dump
    // claims it afterwards.  False when it has completed already.
    bool seize_for_close();
    // Makes `w` (holding a reference given to us) be woken when this task
    // completes.  False when this task completed already or has a watcher
    // (the reference is not taken then).
    bool set_watcher(Task* w);
};

// Task::run's timing of a poll (slow-poll detection): the start, given;
// the duration, returned.  The task's poll time (its extra record's poll_ns) grows by it.
struct PollTiming {
    int64_t start = 0;
    int64_t took = 0;
};

static_assert(sizeof(Task) <= Task::kStateOffset, "task header grew past its state offset");
static_assert(Task::kStateOffset % 16 == 0, "the state is aligned as the allocator's blocks are");

// The task running on this thread (initial-exec TLS: see current_core).
extern constinit thread_local Task* tl_current_task [[gnu::tls_model("initial-exec")]];
inline Task*& current_task() { return tl_current_task; }
// The task whose poll runs on this thread (Task::run's, innermost), and
// whether it woke itself during that poll (yield_now, a used-up budget):
// such a wake is a plain store here, not a CAS on the state word, and
// the poll's end sets NOTIFIED with the CAS that clears RUNNING.
extern constinit thread_local Task* tl_polled_task [[gnu::tls_model("initial-exec")]];
extern constinit thread_local bool tl_self_woken [[gnu::tls_model("initial-exec")]];
// Inside a cancel function: the status the operation's task was cancelled
// with (BRAID_ECANCELED, or BRAID_ETIMEDOUT when a deadline ran out).
int current_cancel_status();
// While a task's release function runs on this thread: that task's id (0
// otherwise).  braid_task_current_id reports it before current_task's.
uint64_t& releasing_task_id();

}  // namespace braid::detail
