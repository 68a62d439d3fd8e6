// Export of a metrics snapshot: Prometheus' text exposition format (0.0.4)
// and JSON, from one table of the metrics (names, types, help texts).
#pragma once

#include <cstddef>
#include <string>

#include "runtime/metrics.hpp"

namespace braid::detail {

// Appends the snapshot in `format` (BRAID_METRICS_PROMETHEUS or
// BRAID_METRICS_JSON) to out.  False for an unknown format.
bool render_metrics(const MetricsSnapshot& s, int format, std::string& out);

// braid_runtime_metrics_format: a fresh snapshot rendered into the caller's
// buffer, whole or not at all.
int format_metrics(Core& core, int format, char* buf, std::size_t cap, std::size_t* needed);

}  // namespace braid::detail
