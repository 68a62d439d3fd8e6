// Conformance: tokio/tests/io_driver.rs (Tokio 1.24), ported from what the
// case asserts.  The accept future is polled by hand outside the runtime's
// tasks (Tokio: a future in a fake executor whose waker does nothing) with
// braid_tcp_listener_poll_accept and a counting waker.
//
// test_drop_on_notify guards against the reactor deadlocking when a
// notification makes the notified task drop its socket.  In Tokio the
// reactor holds a clone of the task's waker (a reference to the task), so
// dropping the task's last other reference makes the reactor's wake drop
// the task and its listener from inside the notification.  A braid waker is
// a function and a pointer that must not block (task.h), and removing a
// registration guarantees that its waker is never called afterwards
// (io.h).  So the port drops the future (its registration) and then the
// listener around a connection arriving, while the reactor may be
// dispatching its event, and checks that the dropped future's waker is
// never called and that the runtime still turns.
//
// Gaps: none.
//
// Not applicable:
//   panics_when_io_disabled - a runtime built without enable_io; braid's
//     runtimes always have their I/O driver, there is no way to build one
//     without it.
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <braid/tcp.h>

#include "support.hpp"

namespace conformance_io_driver {

using braid_test::CountingWaker;

TEST_CASE("io_driver.test_drop_on_notify") {
    auto rt = braid_test::current_thread_runtime();

    // Create a listener (on the runtime, from outside its tasks)
    auto addr = braid::net::SocketAddr::parse("127.0.0.1:0");
    braid_tcp_listener* l = nullptr;
    REQUIRE(braid_tcp_listener_bind(&l, rt.native_handle(), addr.as_sockaddr(), addr.size(), 0) == BRAID_OK);
    braid::net::TcpListener listener(l);
    auto local = listener.local_addr();

    // A task that drains the listener, polled once: it waits for a connection
    CountingWaker waker;
    braid_tcp_stream* accepted = nullptr;
    REQUIRE(braid_tcp_listener_poll_accept(l, &accepted, nullptr, nullptr, &CountingWaker::wake, &waker) ==
            BRAID_PENDING);

    // The task is dropped: its registration goes
    REQUIRE(braid_tcp_listener_poll_accept(l, nullptr, nullptr, nullptr, nullptr, &waker) == BRAID_PENDING);

    // Establish a connection to the acceptor (a plain blocking socket), and
    // drop the listener while its event may be dispatched
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(s >= 0);
    REQUIRE(::connect(s, local.as_sockaddr(), socklen_t(local.size())) == 0);
    { braid::net::TcpListener gone = std::move(listener); }

    // Force the reactor to turn
    rt.block_on([]() -> braid::Task<> { co_return; }());

    REQUIRE_FALSE(waker.woken());
    REQUIRE(accepted == nullptr);
    ::close(s);
}

}  // namespace conformance_io_driver
