// Conformance: tokio/tests/net_panic.rs (Tokio 1.24), ported from what each
// case asserts.  Tokio's cases make an I/O object on a runtime built
// without an I/O driver and check that the panic names the caller's file
// (#[track_caller]).  A braid runtime always has its I/O driver, and braid
// reports a misuse by throwing braid::Error (or, in C, returning an error
// code) rather than panicking: the nearest misuse is making the object
// where no runtime is running at all, and the ported cases check that it
// fails at the call, with BRAID_EINVAL, leaving nothing behind (the fd given
// stays the caller's and usable; no socket file is created).  The panic's
// location is Rust's alone.
//
// Gaps:
//   udp_socket_from_std_panic_caller - no UdpSocket from a std socket
//     (from_std; the C ABI has no braid_udp_from_fd either).
//   tcp_listener_from_std_panic_caller - no TcpListener from a std listener
//     (from_std / braid_tcp_listener_from_fd).
//   unix_listener_from_std_panic_caller - no UnixListener::from_std.
//   unix_stream_from_std_panic_caller - no UnixStream::from_std.
//   unix_datagram_from_std_panic_caller - no UnixDatagram::from_std.
//
// Not applicable:
//   server_options_max_instances_panic_caller - Windows named pipes.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include "io_support.hpp"
#include "support.hpp"

using braid::net::SocketAddr;
using braid_test::PlainSocket;

TEST_CASE("tcp_stream_from_std_panic_caller") {
    PlainSocket std_listener = PlainSocket::listen(SocketAddr::parse("127.0.0.1:0"));
    PlainSocket std_stream = PlainSocket::connect(std_listener.local_addr());
    int fl = ::fcntl(std_stream.get(), F_GETFL);
    REQUIRE(::fcntl(std_stream.get(), F_SETFL, fl | O_NONBLOCK) == 0);

    // TcpStream::from_std outside a runtime: braid_tcp_stream_from_fd
    braid_tcp_stream* s = nullptr;
    REQUIRE(braid_tcp_stream_from_fd(&s, nullptr, std_stream.get()) == BRAID_EINVAL);
    REQUIRE(s == nullptr);
    // the socket is still the caller's
    REQUIRE(::fcntl(std_stream.get(), F_GETFD) >= 0);
    PlainSocket peer = std_listener.accept();
    REQUIRE(peer.write_all("x", 1));
    char c = 0;
    REQUIRE(::fcntl(std_stream.get(), F_SETFL, fl) == 0);
    REQUIRE(std_stream.read(&c, 1) == 1);
    REQUIRE(c == 'x');
}

TEST_CASE("unix_listener_bind_panic_caller") {
    braid_test::TempDir dir;
    std::string sock_path = dir / "socket";

    auto bind = [&sock_path] { braid::net::UnixListener::bind(sock_path.c_str()); };
    int code = braid_test::error_code_of(bind);
    REQUIRE(code == BRAID_EINVAL);
    struct stat st;
    REQUIRE(::stat(sock_path.c_str(), &st) != 0);  // nothing was bound there
}
