// The runtime core: what braid_runtime and braid_handle point to.  It owns
// the scheduler, the blocking pool, the timers and the reactor, and is
// reference-counted so handles (and blocking threads left running after a
// shutdown timeout) can outlive the owner.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>

#include "io/reactor.hpp"
#include "io/signal.hpp"
#include "runtime/blocking_pool.hpp"
#include "runtime/config.hpp"
#include "runtime/live_view.hpp"
#include "runtime/metrics.hpp"
#include "runtime/owned_tasks.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/stall_watchdog.hpp"
#include "time/clock.hpp"
#include "time/timer_driver.hpp"

namespace braid::detail {

class IoDriver;

class Core {
public:
    explicit Core(const Config& cfg);
    ~Core();

    // Starts threads (and opens the live view's socket, when asked: its
    // errors, runtime/live_view.hpp).  Returns BRAID_OK or BRAID_ETHREAD.
    int start();

    // References to the Core's memory (the owner's, and one per task: a
    // task handle may outlive braid_runtime_free).  The runtime's own
    // threads keep a batch of references in a thread-local cache, so a task
    // made on one worker and freed on another costs no atomic on this
    // shared counter (it would bounce between the workers' caches on every
    // spawn); the counter includes the cached ones.
    void ref();
    void unref();

    // Spawning.  Returns BRAID_OK or BRAID_ESHUTDOWN (the task is then
    // finished as refused).
    int start_task(Task* t);
    bool shutting_down() const { return shutting_down_.load(std::memory_order_acquire); }

    // BRAID_OK, BRAID_ETIMEDOUT, BRAID_EDEADLK (called on one of this
    // runtime's threads, or by a callback that this runtime's shutdown is
    // running on the calling thread).  Once shut down, a later call waits
    // again (up to timeout_ms) for blocking jobs a timed-out shutdown left
    // running, and returns BRAID_OK once none is left.
    int shutdown(int64_t timeout_ms);
    // Whether the calling thread is one of this runtime's threads.
    bool is_own_thread() const;
    // Whether the calling thread is running callbacks of some runtime's
    // shutdown (cancelled operations call back on the thread that shuts
    // down): blocking calls are refused there as on a worker.
    static bool in_shutdown_callbacks();
    // Whether the calling thread may wait in a runtime's block_on: not on a
    // worker or the thread driving a current-thread runtime (it would wait
    // for work only it can do), nor in a shutdown's callbacks.  A blocking
    // job's thread may, as a plain thread may: a job that runs async code
    // to completion (Tokio's spawn_blocking(move || handle.block_on(fut)))
    // leaves the workers free to run it.
    static bool may_block_on();

    // Paused time.
    int advance(int64_t ns);
    // Freezes the clock (BRAID_EINVAL when paused already) / lets it run
    // again from where it stands (BRAID_EINVAL when not paused).
    int pause();
    int resume();
    // Called by the last worker to go idle: while every worker is idle, no
    // blocking job runs and a timer is pending, jumps the paused clock to the
    // next deadline and fires what is due there.  Returns true when it fired
    // something.
    bool auto_advance();

    // A poll kept its worker for `ns` (over the configured limit).
    void report_slow_poll(uint64_t task_id, int64_t ns);
    uint64_t slow_polls() const { return slow_polls_.load(std::memory_order_relaxed); }
    // Polls reported while stuck (runtime/stall_watchdog.hpp).
    uint64_t stalls() const { return watchdog_.stalls(); }
    // Held by a task dump (runtime/task_dump.hpp) while it holds tasks; the
    // shutdown takes it before it cancels them.
    std::mutex& dump_mutex() { return dump_mu_; }

    // Thread hooks and naming for every thread the runtime starts.
    void thread_started(const char* role);
    void thread_stopping();

    const Config& config() const { return cfg_; }
    Clock& clock() { return clock_; }
    TimerDriver& timers() { return timers_; }
    Reactor& reactor() { return reactor_; }
    Scheduler& scheduler() { return sched_; }
    RuntimeCounters& counters() { return counters_; }
    BlockingPool& blocking() { return pool_; }
    OwnedTasks& owned() { return owned_; }
    SignalRegistry& signals() { return signals_; }
    // The I/O driver (io/io_driver.hpp) once one is made, until the reactor
    // stops: what idle workers sleep in.
    IoDriver* io_driver() const { return io_driver_.load(std::memory_order_acquire); }
    // Publishes the driver just made, taking a reference to it: its memory
    // (and eventfd) stays until the Core goes, so an unpark that read a
    // worker's "asleep in the driver" state just before the reactor stopped
    // may still write its eventfd.
    void set_io_driver(IoDriver* d);
    // The reactor stopped: the workers no longer sleep in the driver.
    void clear_io_driver() { io_driver_.store(nullptr, std::memory_order_seq_cst); }

private:
    static void rearm_timers(void* self);
    // Drops k references; the last one frees the Core.
    void release_refs(uint64_t k);

    Config cfg_;
    std::atomic<uint64_t> refs_{1};
    std::atomic<bool> shutting_down_{false};
    std::atomic<uint64_t> slow_polls_{0};
    std::atomic<IoDriver*> io_driver_{nullptr};
    IoDriver* io_kept_ = nullptr;  // the reference set_io_driver took (set once)
    std::mutex shutdown_mu_;
    std::atomic<std::thread::id> shutdown_owner_{};  // the thread inside shutdown(), if any
    std::mutex auto_advance_mu_;
    std::mutex dump_mu_;
    std::mutex pause_mu_;
    bool shut_down_ = false;
    int shutdown_result_ = 0;
    RuntimeCounters counters_;
    Clock clock_;
    TimerDriver timers_;
    OwnedTasks owned_;
    Reactor reactor_;
    SignalRegistry signals_;  // loop-thread state of the reactor
    Scheduler sched_;
    BlockingPool pool_;
    StallWatchdog watchdog_{*this};  // after the scheduler: stopped (destroyed) before it
    LiveView live_view_{*this};      // last: stopped (destroyed) first
};

// References to one Core that the calling thread holds for its tasks (see
// Core::ref): set while a runtime thread runs.
struct CoreRefCache {
    Core* core = nullptr;
    uint64_t n = 0;
};
extern constinit thread_local CoreRefCache tl_core_refs [[gnu::tls_model("initial-exec")]];
inline constexpr uint64_t kCoreRefBatch = 64;

inline void Core::ref() {
    CoreRefCache& c = tl_core_refs;
    if (c.core != this) {
        refs_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    if (c.n == 0) {
        refs_.fetch_add(kCoreRefBatch, std::memory_order_relaxed);
        c.n = kCoreRefBatch;
    }
    --c.n;
}

inline void Core::unref() {
    CoreRefCache& c = tl_core_refs;
    if (c.core != this) return release_refs(1);
    if (++c.n <= 2 * kCoreRefBatch) return;
    c.n -= kCoreRefBatch;
    release_refs(kCoreRefBatch);  // never the last: the cache still counts
}

// The runtime of the calling thread (worker, blocking thread, reactor, or a
// thread inside block_on), or null.  Initial-exec TLS, as the budget's
// (task/coop.hpp): read on every clock read and spawn, one %fs-relative load
// instead of a call into the dynamic loader.
extern constinit thread_local Core* tl_current_core [[gnu::tls_model("initial-exec")]];
inline Core*& current_core() { return tl_current_core; }

// The runtime a plain thread entered (braid_runtime_enter, or a worker's
// thread while it runs block_in_place's function), or null: it is the
// thread's runtime for spawning, timers and Handle::current, but the thread
// is none of the runtime's own (it may block, and block_on there works).
extern constinit thread_local Core* tl_entered_core [[gnu::tls_model("initial-exec")]];
// The runtime whose tasks, spawns and timers the calling thread reaches
// when it names none: its own runtime, else the one it entered.
inline Core* context_core() {
    Core* c = tl_current_core;
    return c ? c : tl_entered_core;
}

}  // namespace braid::detail
