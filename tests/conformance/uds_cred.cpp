// Conformance: tokio/tests/uds_cred.rs (Tokio 1.24).  Its one case needs
// the peer's credentials, which braid's UnixStream does not expose.
//
// Gaps:
//   test_socket_pair - no UnixStream::peer_cred() (SO_PEERCRED: the peer's
//     uid, gid and pid).
//
// Not applicable: none.
