// Conformance: tokio/tests/io_async_read.rs (Tokio 1.24).
//
// Gaps:
//   assert_obj_safe - a reader usable through a type-erased owner (Rust's
//     Box<dyn AsyncRead>): braid's AsyncRead is a concept (braid/io/traits.hpp)
//     and there is no type-erased reader to hold any of them.
//
// Not applicable: none.
#include <catch2/catch.hpp>
