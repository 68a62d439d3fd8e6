// Tokio 1.24, tests/rt_metrics.rs (tokio_unstable): the runtime's metrics.
// braid counts its workers (Runtime::worker_count) and the slow polls it
// reported (Runtime::slow_polls), nothing else yet.
//
// Gaps:
//   num_blocking_threads — no metrics: blocking-pool thread count
//   num_idle_blocking_threads — no metrics: idle blocking threads
//   blocking_queue_depth — no metrics: blocking queue depth
//   remote_schedule_count — no metrics: tasks scheduled from outside the workers
//   worker_park_count — no metrics: per-worker park count
//   worker_noop_count — no metrics: per-worker no-op wake-ups
//   worker_steal_count — no metrics: per-worker steal count
//   worker_poll_count — no metrics: per-worker poll count
//   worker_total_busy_duration — no metrics: per-worker busy time
//   worker_local_schedule_count — no metrics: per-worker local schedule count
//   worker_overflow_count — no metrics: per-worker local-queue overflow count
//   injection_queue_depth — no metrics: inject queue depth
//   worker_local_queue_depth — no metrics: per-worker local queue depth
//   io_driver_fd_count — no metrics: registered fd count
//   io_driver_ready_count — no metrics: readiness event count
#include <catch2/catch.hpp>

#include "support.hpp"

namespace {

braid::Runtime current_thread() { return braid::Runtime::builder().current_thread().build(); }

braid::Runtime threaded() { return braid::Runtime::builder().worker_threads(2).build(); }

}  // namespace

TEST_CASE("num_workers") {
    auto rt = current_thread();
    REQUIRE(rt.worker_count() == 1);

    auto rt2 = threaded();
    REQUIRE(rt2.worker_count() == 2);
}
