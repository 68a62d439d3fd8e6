// Runtime metrics: the counters the engine keeps (per worker, on the
// worker's own cache lines, written by that worker only: a relaxed load and
// store, no locked instruction and no line shared with another thread on the
// hot path) and the snapshot that braid_runtime_metrics takes of them.
// docs/observability.md documents every field.
#pragma once

#include <braid/metrics.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace braid::detail {

class Core;

// Whether the counters count.  A build with -DBRAID_METRICS=OFF (CMake)
// compiles every count below to nothing, to measure what the metrics cost
// (bench/README.md, "Cost of the metrics"); braid_runtime_metrics and the
// other snapshot calls then return BRAID_ENOTSUP.
#ifdef BRAID_NO_METRICS
inline constexpr bool kMetricsOn = false;
#else
inline constexpr bool kMetricsOn = true;
#endif

// A counter that one thread writes (its owner) and any thread reads.
class OwnerCounter {
public:
    void add(uint64_t n = 1) {
        if constexpr (kMetricsOn) v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    uint64_t get() const { return v_.load(std::memory_order_relaxed); }

private:
    std::atomic<uint64_t> v_{0};
};

// What happens to a worker task, counted where it happens.
enum TaskEvent { kTaskSpawned, kTaskCompleted, kTaskAborted, kTaskEvents };

class RuntimeCounters;

// One worker's counters.  Written by the thread running the worker (the
// current-thread flavor's worker: the thread inside block_on, one at a time).
struct alignas(64) WorkerCounters {
    const RuntimeCounters* owner = nullptr;
    // local_schedules: those of woken tasks (a local spawn counts in
    // tasks[kTaskSpawned] only; the snapshot adds the two).
    OwnerCounter polls, steals, parks, lifo_hits, budget_forced_yields, busy_ns, local_schedules, overflows;
    OwnerCounter tasks[kTaskEvents];
    std::atomic<int64_t> busy_since{0};  // monotonic ns the current busy stretch began; 0 while parked
    uint64_t forced_at_poll = 0;         // the poll whose budget yield was counted (owner only)

    void busy_begin(int64_t now) {
        if constexpr (kMetricsOn) busy_since.store(now, std::memory_order_relaxed);
    }
    void busy_end(int64_t now) {
        if constexpr (!kMetricsOn) return;
        int64_t since = busy_since.load(std::memory_order_relaxed);
        if (since) busy_ns.add(uint64_t(now - since));
        busy_since.store(0, std::memory_order_relaxed);
    }
    // Busy time up to `now`, the stretch in progress included.
    uint64_t busy_total(int64_t now) const {
        int64_t since = busy_since.load(std::memory_order_relaxed);
        return busy_ns.get() + (since && now > since ? uint64_t(now - since) : 0);
    }
};

// The worker counters of the calling thread (set while it runs a worker).
extern constinit thread_local WorkerCounters* tl_worker_counters [[gnu::tls_model("initial-exec")]];

// A runtime's task counters: on its workers, each worker counts what happens
// on it; other threads (a spawn from outside, a shutdown's cancellations)
// count on the runtime's own line, with an atomic add.
class RuntimeCounters {
public:
    void task_event(TaskEvent e) {
        if constexpr (!kMetricsOn) return;
        WorkerCounters* w = tl_worker_counters;
        if (w && w->owner == this) w->tasks[e].add();
        else external_[e].fetch_add(1, std::memory_order_relaxed);
    }
    // An event of a thread that runs none of this runtime's workers.
    void external_event(TaskEvent e) {
        if constexpr (kMetricsOn) external_[e].fetch_add(1, std::memory_order_relaxed);
    }
    uint64_t external(TaskEvent e) const { return external_[e].load(std::memory_order_relaxed); }

    // The I/O driver: events delivered (a batch at a time, by the thread
    // dispatching them) and wake-ups of a worker sleeping in it (each one
    // an eventfd write already).
    void io_events(uint64_t n) {
        if constexpr (kMetricsOn) io_events_.fetch_add(n, std::memory_order_relaxed);
    }
    void io_wakeup() {
        if constexpr (kMetricsOn) io_wakeups_.fetch_add(1, std::memory_order_relaxed);
    }
    uint64_t io_events() const { return io_events_.load(std::memory_order_relaxed); }
    uint64_t io_wakeups() const { return io_wakeups_.load(std::memory_order_relaxed); }

    // A task scheduled by a thread that runs no worker (a wake from another
    // thread; a spawn through a handle is counted once, as an external
    // spawn, and the snapshot adds those): one more push to the inject
    // queue, whose lock it takes anyway.
    void remote_schedule() {
        if constexpr (kMetricsOn) remote_schedules_.fetch_add(1, std::memory_order_relaxed);
    }
    uint64_t remote_schedules() const { return remote_schedules_.load(std::memory_order_relaxed); }

private:
    alignas(64) std::atomic<uint64_t> external_[kTaskEvents]{};
    alignas(64) std::atomic<uint64_t> io_events_{0};
    std::atomic<uint64_t> io_wakeups_{0};
    alignas(64) std::atomic<uint64_t> remote_schedules_{0};
};

// A task's poll was refused by its cooperative budget (task/coop.hpp):
// counted once per poll on the worker running it.
void count_budget_yield();

// A consistent-as-possible snapshot of every counter (exact when nothing
// runs meanwhile: see docs/observability.md).
struct MetricsSnapshot {
    braid_metrics rt{};
    std::vector<braid_worker_metrics> workers;
};
void take_metrics(Core& core, MetricsSnapshot& out);

// The C ABI's calls (braid/metrics.h): a snapshot copied into the caller's
// struct of out_size bytes (BRAID_EINVAL, nothing written, when too small
// or the index is out of range).
int read_metrics(Core& core, braid_metrics* out, std::size_t out_size);
int read_worker_metrics(Core& core, int index, braid_worker_metrics* out, std::size_t out_size);

}  // namespace braid::detail
