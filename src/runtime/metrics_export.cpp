#include "runtime/metrics_export.hpp"

#include <braid/error.h>
#include <fmt/format.h>

#include <cstring>
#include <iterator>

namespace braid::detail {
namespace {

enum Kind { kCounter, kGauge };

struct RuntimeMetric {
    const char* key;   // the JSON key: the braid_metrics field's name
    const char* name;  // the Prometheus name (braid_ prefixed)
    Kind kind;
    const char* help;
    uint64_t braid_metrics::*field;
};

struct WorkerMetric {
    const char* key;
    const char* name;
    Kind kind;
    const char* help;
    uint64_t braid_worker_metrics::*field;
    bool ns_as_seconds;  // Prometheus wants seconds: rendered exactly, as s.nnnnnnnnn
};

// The runtime-wide metrics (the worker sums are given per worker only).
constexpr RuntimeMetric kRuntime[] = {
    {"workers", "braid_workers", kGauge, "Number of worker threads.", &braid_metrics::workers},
    {"tasks_spawned", "braid_tasks_spawned_total", kCounter, "Tasks started (blocking jobs not included).",
     &braid_metrics::tasks_spawned},
    {"tasks_alive", "braid_tasks_alive", kGauge, "Tasks spawned and not yet completed or aborted.",
     &braid_metrics::tasks_alive},
    {"tasks_completed", "braid_tasks_completed_total", kCounter, "Tasks that finished by returning or throwing.",
     &braid_metrics::tasks_completed},
    {"tasks_aborted", "braid_tasks_aborted_total", kCounter, "Tasks that finished by cancellation.",
     &braid_metrics::tasks_aborted},
    {"inject_queue_depth", "braid_inject_queue_depth", kGauge, "Tasks in the global inject queue.",
     &braid_metrics::inject_queue_depth},
    {"blocking_threads", "braid_blocking_threads", kGauge, "Threads of the blocking pool.",
     &braid_metrics::blocking_threads},
    {"blocking_idle", "braid_blocking_idle_threads", kGauge, "Blocking-pool threads not running a job.",
     &braid_metrics::blocking_idle},
    {"blocking_queued", "braid_blocking_queue_depth", kGauge, "Blocking jobs waiting for a thread.",
     &braid_metrics::blocking_queued},
    {"io_events", "braid_io_events_total", kCounter, "Readiness events the I/O driver delivered.",
     &braid_metrics::io_events},
    {"io_wakeups", "braid_io_wakeups_total", kCounter, "Wake-ups sent to a worker sleeping in the I/O driver.",
     &braid_metrics::io_wakeups},
    {"timers_pending", "braid_timers_pending", kGauge, "Timers registered and not fired.",
     &braid_metrics::timers_pending},
    {"slow_polls", "braid_slow_polls_total", kCounter, "Polls that kept their worker longer than the slow-poll limit.",
     &braid_metrics::slow_polls},
    {"remote_schedules", "braid_remote_schedules_total", kCounter,
     "Tasks scheduled from outside the workers, into the inject queue.", &braid_metrics::remote_schedules},
};

constexpr WorkerMetric kWorker[] = {
    {"polls", "braid_worker_polls_total", kCounter, "Tasks run by the worker.", &braid_worker_metrics::polls, false},
    {"steals", "braid_worker_steals_total", kCounter, "Steals from another worker's queue that took tasks.",
     &braid_worker_metrics::steals, false},
    {"parks", "braid_worker_parks_total", kCounter, "Times the worker ran out of work and parked.",
     &braid_worker_metrics::parks, false},
    {"busy_ns", "braid_worker_busy_seconds_total", kCounter, "Time the worker was not parked.",
     &braid_worker_metrics::busy_ns, true},
    {"local_queue_depth", "braid_worker_local_queue_depth", kGauge, "Tasks in the worker's local queue.",
     &braid_worker_metrics::local_queue_depth, false},
    {"lifo_slot_hits", "braid_worker_lifo_slot_hits_total", kCounter, "Tasks run from the worker's LIFO slot.",
     &braid_worker_metrics::lifo_slot_hits, false},
    {"budget_forced_yields", "braid_worker_budget_forced_yields_total", kCounter,
     "Polls that used up their cooperative budget and yielded.", &braid_worker_metrics::budget_forced_yields, false},
    {"local_schedules", "braid_worker_local_schedules_total", kCounter,
     "Tasks the worker scheduled onto its own LIFO slot or local queue.", &braid_worker_metrics::local_schedules,
     false},
    {"overflows", "braid_worker_overflows_total", kCounter,
     "Times the worker's local queue was full and half of it moved to the inject queue.",
     &braid_worker_metrics::overflows, false},
};

void header(std::string& out, const char* name, Kind kind, const char* help) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name,
                   kind == kCounter ? "counter" : "gauge");
}

void prometheus(const MetricsSnapshot& s, std::string& out) {
    auto it = std::back_inserter(out);
    for (const RuntimeMetric& m : kRuntime) {
        header(out, m.name, m.kind, m.help);
        fmt::format_to(it, "{} {}\n", m.name, s.rt.*m.field);
    }
    for (const WorkerMetric& m : kWorker) {
        header(out, m.name, m.kind, m.help);
        for (std::size_t i = 0; i < s.workers.size(); ++i) {
            uint64_t v = s.workers[i].*m.field;
            if (m.ns_as_seconds)
                fmt::format_to(it, "{}{{worker=\"{}\"}} {}.{:09}\n", m.name, i, v / 1000000000, v % 1000000000);
            else
                fmt::format_to(it, "{}{{worker=\"{}\"}} {}\n", m.name, i, v);
        }
    }
}

void json(const MetricsSnapshot& s, std::string& out) {
    auto it = std::back_inserter(out);
    out += '{';
    for (const RuntimeMetric& m : kRuntime) fmt::format_to(it, "\"{}\":{},", m.key, s.rt.*m.field);
    out += "\"per_worker\":[";
    for (std::size_t i = 0; i < s.workers.size(); ++i) {
        fmt::format_to(it, "{}{{\"worker\":{}", i ? "," : "", i);
        for (const WorkerMetric& m : kWorker) fmt::format_to(it, ",\"{}\":{}", m.key, s.workers[i].*m.field);
        out += '}';
    }
    out += "]}\n";
}

}  // namespace

bool render_metrics(const MetricsSnapshot& s, int format, std::string& out) {
    switch (format) {
    case BRAID_METRICS_PROMETHEUS: prometheus(s, out); return true;
    case BRAID_METRICS_JSON: json(s, out); return true;
    default: return false;
    }
}

int format_metrics(Core& core, int format, char* buf, std::size_t cap, std::size_t* needed) {
    if constexpr (!kMetricsOn) return BRAID_ENOTSUP;
    if (!buf && cap > 0) return BRAID_EINVAL;
    MetricsSnapshot s;
    take_metrics(core, s);
    std::string text;
    if (!render_metrics(s, format, text)) return BRAID_EINVAL;
    std::size_t n = text.size() + 1;
    if (needed) *needed = n;
    if (cap < n) return BRAID_ERANGE;
    std::memcpy(buf, text.c_str(), n);
    return BRAID_OK;
}

}  // namespace braid::detail
