// Conformance: tokio/tests/io_read_buf.rs (Tokio 1.24).
//
// Gaps:
//   read_buf - AsyncReadExt::read_buf (one read appended to the spare
//     capacity of a growable buffer, which then grows): braid has no
//     read_buf; read() fills a MutableBuffer the caller sized.
//
// Not applicable: none.
#include <catch2/catch.hpp>
