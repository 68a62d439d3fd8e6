#include "runtime/metrics.hpp"

#include <braid/error.h>

#include <algorithm>
#include <cstring>

#include "runtime/core.hpp"
#include "time/clock.hpp"

namespace braid::detail {

constinit thread_local WorkerCounters* tl_worker_counters [[gnu::tls_model("initial-exec")]] = nullptr;

void count_budget_yield() {
    if constexpr (!kMetricsOn) return;
    WorkerCounters* w = tl_worker_counters;
    if (!w) return;  // a blocking job's poll
    // Once per poll, however many operations the exhausted budget refuses.
    uint64_t poll = w->polls.get();
    if (w->forced_at_poll == poll) return;
    w->forced_at_poll = poll;
    w->budget_forced_yields.add();
}

void take_metrics(Core& core, MetricsSnapshot& out) {
    int64_t now = monotonic_ns();
    Scheduler& sched = core.scheduler();
    braid_metrics& m = out.rt;
    m = braid_metrics{};
    m.size = sizeof(braid_metrics);
    m.workers = uint64_t(sched.worker_count());
    uint64_t tasks[kTaskEvents];
    for (int e = 0; e < kTaskEvents; ++e) tasks[e] = core.counters().external(TaskEvent(e));
    // The spawns from outside are remote schedules too (counted once, as
    // spawns): one reading for both figures.
    uint64_t external_spawns = tasks[kTaskSpawned];
    out.workers.assign(std::size_t(sched.worker_count()), braid_worker_metrics{});
    for (int i = 0; i < sched.worker_count(); ++i) {
        braid_worker_metrics& w = out.workers[std::size_t(i)];
        const WorkerCounters& c = sched.worker_counters(i);
        w.size = sizeof(braid_worker_metrics);
        w.polls = c.polls.get();
        w.steals = c.steals.get();
        w.parks = c.parks.get();
        w.busy_ns = c.busy_total(now);
        w.local_queue_depth = sched.local_queue_depth(i);
        w.lifo_slot_hits = c.lifo_hits.get();
        w.budget_forced_yields = c.budget_forced_yields.get();
        // The local spawns are local schedules too (counted once, as spawns).
        w.local_schedules = c.local_schedules.get() + c.tasks[kTaskSpawned].get();
        w.overflows = c.overflows.get();
        for (int e = 0; e < kTaskEvents; ++e) tasks[e] += c.tasks[e].get();
        m.polls += w.polls;
        m.steals += w.steals;
        m.parks += w.parks;
        m.busy_ns += w.busy_ns;
        m.local_queue_depth += w.local_queue_depth;
        m.lifo_slot_hits += w.lifo_slot_hits;
        m.budget_forced_yields += w.budget_forced_yields;
        m.local_schedules += w.local_schedules;
        m.overflows += w.overflows;
    }
    m.tasks_spawned = tasks[kTaskSpawned];
    m.tasks_completed = tasks[kTaskCompleted];
    m.tasks_aborted = tasks[kTaskAborted];
    uint64_t finished = m.tasks_completed + m.tasks_aborted;
    // Counted on different threads, read one after another: a task that
    // finished between two reads can look finished before it was spawned.
    m.tasks_alive = m.tasks_spawned > finished ? m.tasks_spawned - finished : 0;
    m.inject_queue_depth = sched.inject_depth();
    BlockingPool::Stats b = core.blocking().stats();
    m.blocking_threads = b.threads;
    m.blocking_idle = b.idle;
    m.blocking_queued = b.queued;
    m.io_events = core.counters().io_events();
    m.io_wakeups = core.counters().io_wakeups();
    m.remote_schedules = core.counters().remote_schedules() + external_spawns;
    m.timers_pending = core.timers().pending();
    m.slow_polls = core.slow_polls();
}

namespace {
// Copies what both sides know of a struct that begins with its size, zeroes
// the rest of the caller's, and records in its size field how much was
// filled (see braid/metrics.h, "Stability").
void copy_sized(void* out, std::size_t out_size, const void* src, std::size_t src_size) {
    std::size_t n = std::min(out_size, src_size);
    std::memcpy(out, src, n);
    std::memset(static_cast<char*>(out) + n, 0, out_size - n);
    std::memcpy(out, &n, sizeof n);
}
}  // namespace

int read_metrics(Core& core, braid_metrics* out, std::size_t out_size) {
    if constexpr (!kMetricsOn) return BRAID_ENOTSUP;
    if (out_size < BRAID_METRICS_MIN_SIZE) return BRAID_EINVAL;
    MetricsSnapshot s;
    take_metrics(core, s);
    copy_sized(out, out_size, &s.rt, sizeof s.rt);
    return BRAID_OK;
}

int read_worker_metrics(Core& core, int index, braid_worker_metrics* out, std::size_t out_size) {
    if constexpr (!kMetricsOn) return BRAID_ENOTSUP;
    if (out_size < BRAID_WORKER_METRICS_MIN_SIZE || index < 0 || index >= core.scheduler().worker_count())
        return BRAID_EINVAL;
    MetricsSnapshot s;
    take_metrics(core, s);
    copy_sized(out, out_size, &s.workers[std::size_t(index)], sizeof(braid_worker_metrics));
    return BRAID_OK;
}

}  // namespace braid::detail
