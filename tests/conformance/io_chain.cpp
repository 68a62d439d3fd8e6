// Conformance: tokio/tests/io_chain.rs (Tokio 1.24).
//
// Gaps:
//   chain - AsyncReadExt::chain (a reader that reads one reader to its end,
//     then another): braid has no chain for byte readers (braid::stream's
//     chain is for streams of items).
//
// Not applicable: none.
#include <catch2/catch.hpp>
