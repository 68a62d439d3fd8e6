// Conformance: tokio/tests/uds_cred.rs (Tokio 1.24), ported from what its
// case asserts: UnixStream::peer_cred (SO_PEERCRED).
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>
#include <unistd.h>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_uds_cred {

using braid::net::UnixStream;

TEST_CASE("uds_cred.test_socket_pair") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [a, b] = UnixStream::pair();
        UnixStream::UCred cred_a = a.peer_cred();
        UnixStream::UCred cred_b = b.peer_cred();
        EXPECT(cred_a.pid == cred_b.pid);
        EXPECT(cred_a.uid == cred_b.uid);
        EXPECT(cred_a.gid == cred_b.gid);
        EXPECT(cred_a.uid == ::geteuid());
        EXPECT(cred_a.gid == ::getegid());
        EXPECT(cred_a.pid == ::getpid());  // both ends were made by this process
        co_return;
    }());
}

}  // namespace conformance_uds_cred
