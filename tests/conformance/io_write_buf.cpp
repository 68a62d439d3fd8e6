// Conformance: tokio/tests/io_write_buf.rs (Tokio 1.24).
//
// Gaps:
//   write_all - (the case's name; it tests write_buf) AsyncWriteExt::write_buf:
//     one write from a bytes::Buf (a Cursor), which advances the Buf by what
//     was taken: braid has no Buf abstraction and no write_buf.
//
// Not applicable: none.
#include <catch2/catch.hpp>
