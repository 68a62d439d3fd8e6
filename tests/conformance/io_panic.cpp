// Conformance: tokio/tests/io_panic.rs (Tokio 1.24).  Every case checks that
// a Rust panic is reported at the caller's source location
// (#[track_caller]); braid reports misuse with exceptions and error codes,
// which carry no caller location.
//
// Gaps: none.
//
// Not applicable:
//   read_buf_initialize_unfilled_to_panic_caller, read_buf_advance_panic_caller,
//   read_buf_set_filled_panic_caller, read_buf_put_slice_panic_caller - the
//     panic location of Rust's ReadBuf methods (braid has no ReadBuf).
//   unsplit_panic_caller - the panic location of ReadHalf::unsplit (braid's
//     unsplit throws braid::Error(BRAID_EINVAL); io_split.cpp's unsplit_err1
//     and unsplit_err2 check it).
//   async_fd_new_panic_caller, async_fd_with_interest_panic_caller - the
//     panic location of AsyncFd::new on a runtime built without I/O; braid's
//     runtimes always have their I/O driver, and AsyncFd outside a runtime
//     throws braid::Error(BRAID_EINVAL).
#include <catch2/catch.hpp>
