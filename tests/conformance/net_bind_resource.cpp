// Conformance: tokio/tests/net_bind_resource.rs (Tokio 1.24), ported from
// what the case asserts.  Tokio's #[should_panic] case makes a listener
// that needs a runtime where there is none; braid reports that misuse by
// throwing braid::Error, so the case is ported as "throws".
//
// Gaps: none.
//
// Not applicable: none.
#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_net_bind_resource {

TEST_CASE("net_bind_resource.no_runtime_panics_binding_net_tcp_listener") {
    int fds = braid_test::open_fds();
    // A listener made without braid (Tokio's std::net::TcpListener)...
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    // ...taken over outside any runtime: refused, the fd left to its owner.
    int code = braid_test::error_code_of([&] { braid::net::TcpListener::from_std(fd); });
    REQUIRE(code == BRAID_EINVAL);
    REQUIRE(::fcntl(fd, F_GETFD) != -1);
    ::close(fd);
    // bind outside a runtime: the same misuse, the same error.
    code = braid_test::error_code_of([] { braid::net::TcpListener::bind("127.0.0.1:0"); });
    REQUIRE(code == BRAID_EINVAL);
    REQUIRE(braid_test::open_fds() == fds);  // no socket was left behind
}

}  // namespace conformance_net_bind_resource
