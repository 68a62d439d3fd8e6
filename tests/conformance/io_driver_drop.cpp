// Conformance: tokio/tests/io_driver_drop.rs (Tokio 1.24), ported from what
// each case asserts.  The listener is bound on the runtime from outside its
// tasks (the C ABI takes the runtime), and the accept future is polled by
// hand with a counting waker (braid_tcp_listener_poll_accept; Tokio:
// tokio_test's task::spawn) after the runtime is dropped.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <braid/tcp.h>

#include <optional>

#include "support.hpp"

namespace conformance_io_driver_drop {

using braid_test::CountingWaker;

namespace {
braid::net::TcpListener bind_on(braid::Runtime& rt) {
    auto addr = braid::net::SocketAddr::parse("127.0.0.1:0");
    braid_tcp_listener* l = nullptr;
    REQUIRE(braid_tcp_listener_bind(&l, rt.native_handle(), addr.as_sockaddr(), addr.size(), 0) == BRAID_OK);
    return braid::net::TcpListener(l);
}

int poll_accept(braid::net::TcpListener& l, CountingWaker& w) {
    braid_tcp_stream* s = nullptr;
    int rc = braid_tcp_listener_poll_accept(l.native_handle(), &s, nullptr, nullptr, &CountingWaker::wake, &w);
    braid_tcp_stream_free(s);
    return rc;
}
}  // namespace

TEST_CASE("io_driver_drop.tcp_doesnt_block") {
    std::optional<braid::Runtime> rt(braid_test::current_thread_runtime());
    braid::net::TcpListener listener = bind_on(*rt);

    rt.reset();

    // The accept fails at once instead of waiting for ever
    CountingWaker task;
    int rc = poll_accept(listener, task);
    REQUIRE(rc != BRAID_PENDING);
    REQUIRE(rc < 0);
}

TEST_CASE("io_driver_drop.drop_wakes") {
    std::optional<braid::Runtime> rt(braid_test::current_thread_runtime());
    braid::net::TcpListener listener = bind_on(*rt);

    CountingWaker task;
    REQUIRE(poll_accept(listener, task) == BRAID_PENDING);

    rt.reset();

    REQUIRE(task.woken());
    int rc = poll_accept(listener, task);
    REQUIRE(rc != BRAID_PENDING);
    REQUIRE(rc < 0);
}

}  // namespace conformance_io_driver_drop
