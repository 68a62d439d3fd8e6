// Conformance: tokio/tests/io_write_all_buf.rs (Tokio 1.24).
//
// Gaps:
//   write_all_buf - AsyncWriteExt::write_all_buf (writing a bytes::Buf,
//     here two chained buffers, advancing it as bytes are taken): braid has
//     no Buf abstraction and no write_all_buf; write_all takes one
//     contiguous ConstBuffer.
//   write_buf_err - the same write_all_buf: after an error the Buf is left
//     advanced past what was written.
//
// Not applicable: none.
#include <catch2/catch.hpp>
