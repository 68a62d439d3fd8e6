// Tokio 1.24, tests/task_builder.rs (tokio_unstable + tracing): task::Builder
// spawns tasks with a name (for tracing).  braid has no task builder yet.
//
// Gaps:
//   spawn_with_name — no task::Builder (task names)
//   spawn_blocking_with_name — no task::Builder (task names)
//   spawn_local_with_name — no task::Builder; no LocalSet / spawn_local
//   spawn_without_name — no task::Builder
//   spawn_blocking_without_name — no task::Builder
//   spawn_local_without_name — no task::Builder; no LocalSet / spawn_local
#include <catch2/catch.hpp>
