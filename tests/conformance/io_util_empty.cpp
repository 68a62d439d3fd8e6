// Conformance: tokio/tests/io_util_empty.rs (Tokio 1.24).
//
// Gaps:
//   empty_read_is_cooperative - tokio::io::empty() (a reader always at end
//     of file, whose reads take the task's cooperative budget): braid has no
//     empty reader.
//   empty_buf_reads_are_cooperative - the same empty(), read through
//     read_line (it is an AsyncBufRead in Tokio).
//
// Not applicable: none.
#include <catch2/catch.hpp>
