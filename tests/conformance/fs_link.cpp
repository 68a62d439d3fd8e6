// Conformance: tokio/tests/fs_link.rs (Tokio 1.24).  Both cases make links,
// which braid's fs cannot do yet.
//
// Gaps:
//   test_hard_link - no fs::hard_link().
//   test_symlink - no fs::symlink() nor fs::read_link() (the case's last
//     check, symlink_metadata() of the link, braid has).
//
// Not applicable: none.
