// Conformance: tokio/tests/io_take.rs (Tokio 1.24).
//
// Gaps:
//   take - AsyncReadExt::take (a reader limited to n bytes): braid has none.
//   issue_4435 - the same take, read into a buffer that already holds bytes
//     (Rust's ReadBuf with a filled prefix): needs take.
//   bad_reader_fails - the same take over a reader that swaps Rust's ReadBuf
//     for another one, which must panic: needs take (and read_buf); braid's
//     MutableBuffer is a pointer and a size, which a reader cannot replace.
//
// Not applicable: none.
#include <catch2/catch.hpp>
