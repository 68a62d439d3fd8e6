// The work-stealing scheduler: workers with bounded local queues that steal
// half from each other, a LIFO slot for the task just woken, a global inject
// queue checked every kInjectInterval ticks, and idle workers parked without
// spinning: one of them in the I/O driver's epoll_wait, the others on their
// condition variables.  The current-thread flavor is the same machinery with
// one worker that runs on the thread inside block_on; the host-driven flavor
// is the current-thread one whose worker also runs inside turn(), called by
// a host's event loop when the I/O driver's fd is readable.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/idle.hpp"
#include "runtime/inject_queue.hpp"
#include "runtime/local_queue.hpp"
#include "runtime/metrics.hpp"
#include "runtime/parker.hpp"
#include "runtime/stall_watchdog.hpp"
#include "task/task.hpp"

namespace braid::detail {

class Core;
class Scheduler;
class TimerDriver;

struct Worker {
    Scheduler* sched = nullptr;
    int index = 0;
    LocalQueue queue;
    Task* lifo = nullptr;
    int lifo_polls = 0;
    bool searching = false;
    // Taking I/O events or firing timers between tasks: the tasks woken go
    // to this worker's LIFO slot and queue, and it shares them afterwards.
    bool in_driver = false;
    uint32_t tick = 0;
    uint32_t inject_tick = 0;  // tick of the last look at the inject queue
    // block_in_place: the thread that lent this worker to a stand-in wants
    // it back (the stand-in's loop ends).
    std::atomic<bool> reclaim{false};
    uint64_t rng = 0;
    Parker parker;
    std::thread thread;
    WorkerCounters counters;  // runtime/metrics.hpp
    PollWatch watch;  // stall detection (runtime/stall_watchdog.hpp)
};

class Scheduler {
public:
    static constexpr uint32_t kInjectInterval = 61;
    // Consecutive polls from the LIFO slot before its task goes to the back
    // of the queue.  Two tasks passing messages run back to back this long
    // with their data in the L1 cache: at 3 (the limit of later Tokio
    // releases) ping_pong's thousand pairs took turns and every turn
    // reloaded a pair's frames and channels (16x the L1 misses of 32 under
    // cachegrind); Tokio 1.24, the peer of bench/, bounds the run by its
    // 128-unit budget instead.  32 polls still leave the queue its turn
    // within a bounded time.
    static constexpr int kMaxLifoPolls = 32;
    // A busy worker takes the ready I/O events (without blocking) every
    // kEventInterval tasks, as Tokio's event_interval.
    static constexpr uint32_t kEventInterval = 61;

    Scheduler(Core& core, int workers, bool current_thread);
    ~Scheduler();

    int worker_count() const { return int(workers_.size()); }
    bool current_thread() const { return current_thread_; }
    bool host_driven() const { return host_driven_; }

    // Starts the worker threads (multi-thread flavor).  False if a thread
    // could not be started (the ones started are stopped again).
    bool start();

    // A task that was woken (or aborted while idle): on a worker of this
    // scheduler it goes to the LIFO slot, to run next.
    void schedule(Task* t);
    // A new task: behind the tasks already queued (spawn order is kept).
    void schedule_new(Task* t);
    // Runs `target` to completion on the calling thread (current-thread
    // flavor).  Returns the status or BRAID_ESHUTDOWN.  A block_on (or a
    // host's turn) running on another thread is waited out: the target may
    // finish there, else this thread takes its turn when that one returns.
    int block_on(Task* target);
    // The host-driven flavor: one turn on the calling thread.  Takes the
    // ready I/O events (and the driver's wake-up), fires the due timers,
    // then polls queued tasks until none is left or `max_polls` ran.
    // Between turns, work for the worker (a task woken or spawned from
    // another thread, an I/O event, a timer) makes the driver's fd
    // readable; work left by a turn that stopped at max_polls, too.
    // Returns the polls run, BRAID_ENOTSUP (another flavor), BRAID_EBUSY (a
    // turn or block_on runs: this call comes from inside one, or races
    // with one on another thread) or BRAID_ESHUTDOWN.
    int turn(int max_polls);

    // Runs fn(arg) on the calling worker's thread after lending the worker
    // (its LIFO slot, local queue and place among the workers) to a stand-in
    // thread, which runs the other tasks meanwhile; takes the worker back
    // afterwards (once the stand-in's current poll returned).  The calling
    // thread is meanwhile entered into the runtime as a plain thread: it
    // may block, block_on, and spawn.  The cooperative budget is unlimited
    // inside fn.  Called on a worker of this multi-thread scheduler.
    // BRAID_OK, or BRAID_ETHREAD (no stand-in thread: fn did not run).
    int block_in_place(void (*fn)(void*), void* arg);
    // Whether the calling thread lent one of this scheduler's workers.
    bool in_place_on_this_thread() const;

    // Shutdown: stops the workers (and waits for a running block_on to
    // return), joins the threads and forgets queued tasks.
    void stop();

    // Worker i's side of stall detection.
    PollWatch& poll_watch(int i) { return workers_[std::size_t(i)]->watch; }

    // The worker of this scheduler running on the calling thread, or null.
    Worker* current_worker() const;
    // Whether the calling thread runs some scheduler's worker loop now (a
    // worker, a current-thread runtime's block_on, a host's turn).
    static bool on_any_worker();

    // Wakes one parked worker if nobody is searching (there is new work).
    void notify_parked();
    // Runs `work` (taking I/O events, firing due timers) as one driver
    // batch of worker `w` (this thread's worker, or null): the tasks it
    // wakes run in the order woken, the first next (schedule), and a parked
    // worker is woken for the rest.  Off a worker, or inside a batch
    // already, `work` just runs.
    template <class F>
    void as_driver(Worker* w, F&& work) {
        if (!w || w->in_driver) {
            work();
            return;
        }
        w->in_driver = true;
        work();
        w->in_driver = false;
        if (!w->queue.empty()) notify_parked();
    }
    // Fires the timers due at `now` (time::advance) as the driver does: on
    // a worker, their tasks run in deadline order, the first next.
    void fire_due_as_driver(TimerDriver& timers, int64_t now);

    // Paused time: no worker is awake, no task is queued and the scheduler
    // is not stopping (the clock may jump to the next timer).
    bool all_idle() const;

    // The I/O driver was made: a worker asleep on its condition variable
    // comes to sleep in it.
    void driver_ready();
    // Whether a worker can take I/O events: always on the multi-thread
    // flavor, while a block_on runs on the current-thread one.
    bool workers_take_io();

    // Metrics (runtime/metrics.cpp reads them from any thread).
    const WorkerCounters& worker_counters(int i) const { return workers_[std::size_t(i)]->counters; }
    uint64_t local_queue_depth(int i) const { return workers_[std::size_t(i)]->queue.len(); }
    uint64_t inject_depth() const { return inject_.len(); }

private:
    void worker_main(Worker& w);
    template <class Stop>
    void run_worker(Worker& w, Stop stop);
    Task* next_task(Worker& w);
    Task* search(Worker& w);
    // What enqueue counts (metrics): nothing (a task schedule() counted
    // already), a local or remote schedule, or that and a spawn.
    enum class Count : uint8_t { No, Schedule, Spawn };
    // The queueing of schedule and schedule_new: on this worker's queue, or
    // the inject queue from another thread.
    void enqueue(Task* t, Count count);
    Task* pop_inject(Worker& w);
    void run_task(Worker& w, Task* t);
    // run_task's poll when slow polls are reported: timed, and watched by
    // the stall watchdog.  Whether to queue the task again.
    [[gnu::noinline]] bool run_timed(Worker& w, Task* t);
    void push_local(Worker& w, Task* t);
    template <class Stop>
    bool park(Worker& w, Stop stop);
    // Sleeps until unparked (or, in the driver, until an event or a timer).
    // kListed: still in the sleeper list as far as this call knows;
    // kLeftSelf: the driver's events or timers woke it, and it left the list
    // before dispatching them; kSearcher: a notifier took it off the list
    // meanwhile (it counts as searching).
    enum Woke { kListed, kLeftSelf, kSearcher };
    Woke sleep(Worker& w);
    void poll_driver(Worker& w);
    // The driver's wait timeout: until the next timer deadline (*next), or
    // -1 with paused time or no timer.
    int timer_timeout_ms(int64_t* next);
    // The current-thread flavor's block_on began or ended (block_on_mu_ held).
    void io_owner_changed();
    // The worker stops searching where no other worker needs waking for it
    // (a worker's loop, a block_on or a turn ending).
    void stop_searching(Worker& w);
    // The host-driven flavor: the worker (parked, off this thread) leaves
    // for the host's loop; work already queued makes the fd readable.
    void hand_to_host(Worker& w);
    // The calling thread runs worker w (block_on, turn) for its lifetime.
    struct OnThisThread;
    bool work_visible() const;

    Core& core_;
    const bool current_thread_;
    const bool host_driven_;
    const int64_t slow_poll_ns_;
    std::vector<std::unique_ptr<Worker>> workers_;
    InjectQueue inject_;
    Idle idle_;
    std::atomic<bool> stopping_{false};
    std::atomic<int> in_place_{0};  // block_in_place functions running (paused time waits for them)
    // current-thread flavor: who is inside block_on
    std::mutex block_on_mu_;
    std::condition_variable block_on_cv_;
    bool block_on_active_ = false;
};

}  // namespace braid::detail
