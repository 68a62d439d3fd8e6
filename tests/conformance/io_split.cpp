// Conformance: tokio/tests/io_split.rs (Tokio 1.24).  braid's split(s) and
// into_split(s) (braid/io/split.hpp) give a read half and a write half of a
// duplex stream; they have no way to tell whether two halves belong together
// or to join them again.
//
// Gaps:
//   split_stream_id - ReadHalf::is_pair_of: braid has none.
//   unsplit_ok - ReadHalf::unsplit (the stream back from its two halves):
//     braid has none.
//   unsplit_err1, unsplit_err2 - unsplit of halves of different streams must
//     fail (a panic in Tokio): needs unsplit.
//
// Not applicable:
//   is_send_and_sync - Rust's Send and Sync bounds on the halves; C++ has no
//     such compile-time thread-safety markers.
#include <catch2/catch.hpp>
