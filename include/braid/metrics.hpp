// braid::RuntimeMetrics: a snapshot of a runtime's metrics (braid/metrics.h),
// and the same rendered as Prometheus text or JSON.  Reached through
// Runtime::metrics() / Handle::metrics() and Runtime::metrics_text() /
// Handle::metrics_text().  docs/observability.md documents every field.
#pragma once

#include <braid/error.hpp>
#include <braid/metrics.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace braid {

enum class MetricsFormat { Prometheus = BRAID_METRICS_PROMETHEUS, Json = BRAID_METRICS_JSON };

// The runtime-wide fields of braid_metrics (m.tasks_spawned, m.polls: the
// sums over the workers, ...) and each worker's braid_worker_metrics.
struct RuntimeMetrics : braid_metrics {
    std::vector<braid_worker_metrics> worker;

    std::chrono::nanoseconds busy() const { return std::chrono::nanoseconds(busy_ns); }

    // Source: braid_runtime or braid_handle (their C calls have the same shape).
    template <class Source>
    static RuntimeMetrics take(const Source* src) {
        RuntimeMetrics m;
        detail::check(call(src, static_cast<braid_metrics*>(&m)), "RuntimeMetrics");
        m.worker.resize(std::size_t(m.workers));
        for (std::size_t i = 0; i < m.worker.size(); ++i)
            detail::check(call(src, int(i), &m.worker[i]), "RuntimeMetrics (worker)");
        return m;
    }

    template <class Source>
    static std::string text(const Source* src, MetricsFormat f) {
        std::string out(4096, '\0');
        for (;;) {
            std::size_t needed = 0;
            int rc = call(src, int(f), out.data(), out.size(), &needed);
            if (rc == BRAID_OK) {
                out.resize(needed - 1);
                return out;
            }
            if (rc != BRAID_ERANGE) detail::check(rc, "metrics_text");
            out.resize(needed + needed / 4);  // room for a few more digits next time
        }
    }

private:
    static int call(const braid_runtime* rt, braid_metrics* m) { return braid_runtime_metrics(rt, m, sizeof *m); }
    static int call(const braid_handle* h, braid_metrics* m) { return braid_handle_metrics(h, m, sizeof *m); }
    static int call(const braid_runtime* rt, int i, braid_worker_metrics* w) {
        return braid_runtime_worker_metrics(rt, i, w, sizeof *w);
    }
    static int call(const braid_handle* h, int i, braid_worker_metrics* w) {
        return braid_handle_worker_metrics(h, i, w, sizeof *w);
    }
    static int call(const braid_runtime* rt, int f, char* buf, std::size_t cap, std::size_t* needed) {
        return braid_runtime_metrics_format(rt, f, buf, cap, needed);
    }
    static int call(const braid_handle* h, int f, char* buf, std::size_t cap, std::size_t* needed) {
        return braid_handle_metrics_format(h, f, buf, cap, needed);
    }
};

}  // namespace braid
