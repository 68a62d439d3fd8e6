// Conformance: tokio/tests/net_named_pipe.rs (Tokio 1.24).  The whole file
// is #[cfg(windows)]: Windows named pipes (tokio::net::windows::named_pipe,
// ServerOptions / ClientOptions, pipe modes and access rights) have no
// counterpart on the platforms braid runs on (Linux), so it has no case.
//
// Gaps: none.
//
// Not applicable (all Windows named pipes):
//   test_named_pipe_client_drop
//   test_named_pipe_single_client
//   test_named_pipe_multi_client
//   test_named_pipe_multi_client_ready
//   test_named_pipe_mode_message
//   test_named_pipe_access
