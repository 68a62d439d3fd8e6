// Tokio 1.24, tests/join_handle_panic.rs.
//
// Not applicable:
//   test_panics_do_not_propagate_when_dropping_join_handle — the output's
//     destructor panics; a C++ destructor is noexcept, and one that throws
//     terminates the process (there is no unwinding out of a destructor for
//     the JoinHandle to contain)
#include <catch2/catch.hpp>
