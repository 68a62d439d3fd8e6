// Conformance: tokio/tests/io_write_int.rs (Tokio 1.24).
//
// Gaps:
//   write_int_should_err_if_write_count_0 - AsyncWriteExt::write_i8 /
//     write_i32 (and the other integer writers and readers: read_u32,
//     write_u16_le, ...): braid has none.  (What the case checks, that a
//     writer taking 0 bytes is an error, holds for braid's write_all:
//     IoError(BRAID_EPIPE); io_write_all.cpp and codec_length_delimited.cpp
//     write_zero cover it.)
//
// Not applicable: none.
#include <catch2/catch.hpp>
