// Tokio 1.24, tests/task_local_set.rs: LocalSet, a set of !Send tasks run on
// one thread (spawn_local, run_until, block_on).  braid has no LocalSet yet.
//
// Gaps:
//   local_current_thread_scheduler — no LocalSet / spawn_local
//   local_threadpool — no LocalSet / spawn_local
//   localset_future_threadpool — no LocalSet / spawn_local
//   localset_future_timers — no LocalSet / spawn_local
//   localset_future_drives_all_local_futs — no LocalSet / spawn_local
//   local_threadpool_timer — no LocalSet / spawn_local
//   enter_guard_spawn — no LocalSet / spawn_local (LocalSet::enter)
//   local_threadpool_blocking_in_place — no LocalSet; no task::block_in_place
//   local_threadpool_blocking_run — no LocalSet / spawn_local
//   all_spawns_are_local — no LocalSet / spawn_local
//   nested_spawn_is_local — no LocalSet / spawn_local
//   join_local_future_elsewhere — no LocalSet / spawn_local
//   localset_in_thread_local — no LocalSet / spawn_local
//   drop_cancels_tasks — no LocalSet / spawn_local
//   drop_cancels_remote_tasks — no LocalSet / spawn_local
//   local_tasks_wake_join_all — no LocalSet / spawn_local
//   local_tasks_are_polled_after_tick — no LocalSet / spawn_local
//   acquire_mutex_in_drop — no LocalSet / spawn_local
//   spawn_wakes_localset — no LocalSet / spawn_local
//   store_local_set_in_thread_local_with_runtime — no LocalSet / spawn_local
//   shutdown_on_panic — no LocalSet; no unhandled_panic(ShutdownRuntime)
//   run_until_does_not_get_own_budget — no LocalSet; no task::consume_budget in C++ (braid_coop_take in C)
#include <catch2/catch.hpp>
