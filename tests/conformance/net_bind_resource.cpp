// Conformance: tokio/tests/net_bind_resource.rs (Tokio 1.24), ported from
// what the case asserts.  Tokio's #[should_panic] case makes a listener
// that needs a runtime where there is none; braid reports that misuse by
// throwing braid::Error, so the case is ported as "throws".
//
// Gaps:
//   no_runtime_panics_binding_net_tcp_listener (in part) - braid has no
//     TcpListener made from a std listener (from_std / try_from): the case
//     makes its listener with TcpListener::bind outside any runtime
//     instead, the same misuse.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include "io_support.hpp"
#include "support.hpp"

TEST_CASE("no_runtime_panics_binding_net_tcp_listener") {
    int fds = braid_test::open_fds();
    int code = braid_test::error_code_of([] { braid::net::TcpListener::bind("127.0.0.1:0"); });
    REQUIRE(code == BRAID_EINVAL);
    REQUIRE(braid_test::open_fds() == fds);  // no socket was left behind
}
