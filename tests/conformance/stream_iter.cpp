// tokio-stream 0.1.9, tests/stream_iter.rs: `iter(range)`.
//
// Gaps:
//   coop: an endless iter() polled in a task must, within the task's
//         cooperative budget, report pending and wake the task (so a stream
//         that is always ready cannot hold its worker) — braid's iter() does
//         not take the cooperative budget yet
#include <catch2/catch.hpp>
#include <braid/stream.hpp>
