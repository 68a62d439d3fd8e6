// Conformance: tokio/tests/process_arg0.rs (Tokio 1.24).  Its one case sets
// the child's argv[0], which braid's Command cannot do yet.
//
// Gaps:
//   arg0 - no Command::arg0() (braid_command has no way to set argv[0]
//     apart from the program).
//
// Not applicable: none.
