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
// Not applicable:
//   server_options_max_instances_panic_caller - Windows named pipes.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <string>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_net_panic {

using braid::net::SocketAddr;
using braid_test::PlainSocket;

namespace {

// T::from_std(fd) where no runtime runs: BRAID_EINVAL at the call, and the
// fd is still the caller's (open, its socket untouched).
template <class T>
void from_std_outside_runtime(const PlainSocket& sock) {
    int fl = ::fcntl(sock.get(), F_GETFL);
    int code = braid_test::error_code_of([&] { T::from_std(sock.get()); });
    REQUIRE(code == BRAID_EINVAL);
    REQUIRE(::fcntl(sock.get(), F_GETFD) >= 0);
    REQUIRE(::fcntl(sock.get(), F_GETFL) == fl);  // not even made non-blocking
}

// std::os::unix::net::UnixDatagram::bind.
PlainSocket plain_unix_datagram(const std::string& path) {
    SocketAddr a = SocketAddr::unix_path(path);
    PlainSocket s(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    REQUIRE(s.get() >= 0);
    REQUIRE(::bind(s.get(), a.as_sockaddr(), socklen_t(a.size())) == 0);
    return s;
}

}  // namespace

TEST_CASE("net_panic.tcp_stream_from_std_panic_caller") {
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

TEST_CASE("net_panic.unix_listener_bind_panic_caller") {
    braid_test::TempDir dir;
    std::string sock_path = dir / "socket";

    auto bind = [&sock_path] { braid::net::UnixListener::bind(sock_path.c_str()); };
    int code = braid_test::error_code_of(bind);
    REQUIRE(code == BRAID_EINVAL);
    struct stat st;
    REQUIRE(::stat(sock_path.c_str(), &st) != 0);  // nothing was bound there
}

TEST_CASE("net_panic.udp_socket_from_std_panic_caller") {
    SocketAddr a = SocketAddr::parse("127.0.0.1:0");
    PlainSocket std_sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    REQUIRE(::bind(std_sock.get(), a.as_sockaddr(), socklen_t(a.size())) == 0);
    from_std_outside_runtime<braid::net::UdpSocket>(std_sock);
}

TEST_CASE("net_panic.tcp_listener_from_std_panic_caller") {
    PlainSocket std_listener = PlainSocket::listen(SocketAddr::parse("127.0.0.1:0"));
    from_std_outside_runtime<braid::net::TcpListener>(std_listener);
    // still listening: a connection is accepted on the plain socket
    PlainSocket client = PlainSocket::connect(std_listener.local_addr());
    PlainSocket server = std_listener.accept();
    REQUIRE(server.get() >= 0);
}

TEST_CASE("net_panic.unix_listener_from_std_panic_caller") {
    braid_test::TempDir dir;
    std::string sock_path = dir / "socket";
    PlainSocket std_listener = PlainSocket::listen(SocketAddr::unix_path(sock_path));
    from_std_outside_runtime<braid::net::UnixListener>(std_listener);
}

TEST_CASE("net_panic.unix_stream_from_std_panic_caller") {
    braid_test::TempDir dir;
    std::string sock_path = dir / "socket";
    PlainSocket std_listener = PlainSocket::listen(SocketAddr::unix_path(sock_path));
    PlainSocket std_stream = PlainSocket::connect(SocketAddr::unix_path(sock_path));
    from_std_outside_runtime<braid::net::UnixStream>(std_stream);
    // the connection still works
    PlainSocket peer = std_listener.accept();
    REQUIRE(peer.write_all("x", 1));
    char c = 0;
    REQUIRE(std_stream.read(&c, 1) == 1);
    REQUIRE(c == 'x');
}

TEST_CASE("net_panic.unix_datagram_from_std_panic_caller") {
    braid_test::TempDir dir;
    std::string sock_path = dir / "socket";
    PlainSocket std_socket = plain_unix_datagram(sock_path);
    from_std_outside_runtime<braid::net::UnixDatagram>(std_socket);
}

}  // namespace conformance_net_panic
