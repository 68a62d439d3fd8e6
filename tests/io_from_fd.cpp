// Adopting an existing socket through a _from_fd function: each one checks
// that the fd is the kind of socket its handle is (family, type, protocol,
// listening or not) and refuses anything else without touching the fd
// (it stays the caller's, still blocking); what it accepts works.
#include <catch2/catch.hpp>
#include <braid/braid.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <string>

#include "capi_support.hpp"
#include "io_support.hpp"
#include "support.hpp"

namespace test_io_from_fd {

using capi_test::IoResult;
using capi_test::join;

namespace {

struct Rt {
    braid_runtime* rt = nullptr;
    Rt() { REQUIRE(braid_runtime_new(&rt) == BRAID_OK); }
    ~Rt() { REQUIRE(braid_runtime_free(rt) == BRAID_OK); }
};

int tcp_socket() { return ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); }

// A TCP listener on 127.0.0.1 (port chosen by the system); *addr gets it.
int tcp_listening(sockaddr_in* addr) {
    int fd = tcp_socket();
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 8) == 0);
    socklen_t l = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &l) == 0);
    if (addr) *addr = a;
    return fd;
}

int udp_socket() {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    return fd;
}

int unix_listening(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 8) == 0);
    return fd;
}

void socket_pair(int type, int fds[2]) { REQUIRE(::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) == 0); }

// The fd is still open and was left as it was (blocking).
bool untouched(int fd) {
    int fl = ::fcntl(fd, F_GETFL);
    return fl >= 0 && !(fl & O_NONBLOCK);
}

}  // namespace

TEST_CASE("io_from_fd.tcp_stream_from_fd takes a TCP stream socket and refuses every other kind") {
    braid_test::warm_up_process_fds();
    int before = braid_test::open_fds();
    auto r = std::make_unique<Rt>();
    int unix_pair[2], dgram_pair[2];
    socket_pair(SOCK_STREAM, unix_pair);
    socket_pair(SOCK_DGRAM, dgram_pair);
    int udp = udp_socket();
    int listening = tcp_listening(nullptr);
    int pipe_fds[2];
    REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
    braid_tcp_stream* s = nullptr;
    for (int fd : {unix_pair[0], dgram_pair[0], udp, listening}) {
        INFO("fd " << fd);
        REQUIRE(braid_tcp_stream_from_fd(&s, r->rt, fd) == BRAID_EINVAL);
        REQUIRE(s == nullptr);
        REQUIRE(untouched(fd));
    }
    REQUIRE(braid_tcp_stream_from_fd(&s, r->rt, pipe_fds[0]) == BRAID_EBADF);  // not a socket
    REQUIRE(untouched(pipe_fds[0]));
    REQUIRE(braid_tcp_stream_from_fd(&s, r->rt, -1) == BRAID_EBADF);
    REQUIRE(braid_tcp_stream_from_fd(nullptr, r->rt, unix_pair[0]) == BRAID_EINVAL);

    // A connected TCP socket is taken, and works.
    sockaddr_in addr{};
    ::close(listening);
    listening = tcp_listening(&addr);
    int client = tcp_socket();
    REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    int server = ::accept4(listening, nullptr, nullptr, SOCK_CLOEXEC);
    REQUIRE(server >= 0);
    REQUIRE(braid_tcp_stream_from_fd(&s, r->rt, client) == BRAID_OK);
    IoResult w;
    braid_task* t = nullptr;
    REQUIRE(braid_byte_stream_write_all(&t, braid_tcp_stream_as_byte_stream(s), "hello", 5, &IoResult::cb, &w) == BRAID_OK);
    REQUIRE(join(t) == BRAID_OK);
    char buf[5];
    REQUIRE(::recv(server, buf, 5, MSG_WAITALL) == 5);
    REQUIRE(std::string(buf, 5) == "hello");
    braid_tcp_stream_free(s);  // closes client
    for (int fd : {unix_pair[0], unix_pair[1], dgram_pair[0], dgram_pair[1], udp, listening, pipe_fds[0], pipe_fds[1],
                   server})
        ::close(fd);
    r.reset();  // sockets are closed by the reactor: count once it is gone
    REQUIRE(braid_test::open_fds() == before);
}

TEST_CASE("io_from_fd.tcp_listener_from_fd takes a listening TCP socket only") {
    Rt r;
    int unbound = tcp_socket();  // a TCP socket that does not listen
    braid_test::TempDir dir;
    int unix_listener = unix_listening(dir / "l.sock");
    int udp = udp_socket();
    braid_tcp_listener* l = nullptr;
    for (int fd : {unbound, unix_listener, udp}) {
        INFO("fd " << fd);
        REQUIRE(braid_tcp_listener_from_fd(&l, r.rt, fd) == BRAID_EINVAL);
        REQUIRE(l == nullptr);
        REQUIRE(untouched(fd));
    }
    sockaddr_in addr{};
    int listening = tcp_listening(&addr);
    REQUIRE(braid_tcp_listener_from_fd(&l, r.rt, listening) == BRAID_OK);
    struct Accepted {
        std::atomic<int> calls{0};
        std::atomic<int> status{1000};
        braid_tcp_stream* s = nullptr;
        static void cb(void* p, int st, braid_tcp_stream* s) {
            auto* a = static_cast<Accepted*>(p);
            a->s = s;
            a->status.store(st);
            a->calls.fetch_add(1);
        }
    } acc;
    braid_task* t = nullptr;
    REQUIRE(braid_tcp_listener_accept(&t, l, &Accepted::cb, &acc) == BRAID_OK);
    int client = tcp_socket();
    REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(join(t) == BRAID_OK);
    REQUIRE(acc.status.load() == BRAID_OK);
    braid_tcp_stream_free(acc.s);
    braid_tcp_listener_free(l);
    for (int fd : {unbound, unix_listener, udp, client}) ::close(fd);
}

TEST_CASE("io_from_fd.udp_from_fd takes a UDP socket only") {
    Rt r;
    int tcp = tcp_socket();
    int dgram_pair[2];
    socket_pair(SOCK_DGRAM, dgram_pair);
    braid_udp_socket* u = nullptr;
    for (int fd : {tcp, dgram_pair[0]}) {
        INFO("fd " << fd);
        REQUIRE(braid_udp_from_fd(&u, r.rt, fd) == BRAID_EINVAL);
        REQUIRE(u == nullptr);
        REQUIRE(untouched(fd));
    }
    int a = udp_socket();
    int b = udp_socket();
    sockaddr_in b_addr{};
    socklen_t l = sizeof b_addr;
    REQUIRE(::getsockname(b, reinterpret_cast<sockaddr*>(&b_addr), &l) == 0);
    REQUIRE(braid_udp_from_fd(&u, r.rt, a) == BRAID_OK);
    IoResult sent;
    braid_task* t = nullptr;
    REQUIRE(braid_udp_send_to(&t, u, "dgram", 5, reinterpret_cast<sockaddr*>(&b_addr), sizeof b_addr, &IoResult::cb,
                              &sent) == BRAID_OK);
    REQUIRE(join(t) == BRAID_OK);
    REQUIRE(sent.n.load() == 5);
    char buf[16];
    REQUIRE(::recv(b, buf, sizeof buf, 0) == 5);
    braid_udp_free(u);
    for (int fd : {tcp, dgram_pair[0], dgram_pair[1], b}) ::close(fd);
}

TEST_CASE("io_from_fd.unix from_fd functions take their own kind of Unix socket only") {
    Rt r;
    braid_test::TempDir dir;
    int stream_pair[2], dgram_pair[2], seq_pair[2];
    socket_pair(SOCK_STREAM, stream_pair);
    socket_pair(SOCK_DGRAM, dgram_pair);
    socket_pair(SOCK_SEQPACKET, seq_pair);
    int listening = unix_listening(dir / "a.sock");
    int tcp = tcp_socket();
    int tcp_listener = tcp_listening(nullptr);
    int udp = udp_socket();

    braid_unix_stream* s = nullptr;
    for (int fd : {dgram_pair[0], seq_pair[0], listening, tcp}) {
        INFO("stream, fd " << fd);
        REQUIRE(braid_unix_stream_from_fd(&s, r.rt, fd) == BRAID_EINVAL);
        REQUIRE(s == nullptr);
        REQUIRE(untouched(fd));
    }
    braid_unix_listener* l = nullptr;
    for (int fd : {stream_pair[0], dgram_pair[0], seq_pair[0], tcp_listener}) {
        INFO("listener, fd " << fd);
        REQUIRE(braid_unix_listener_from_fd(&l, r.rt, fd) == BRAID_EINVAL);
        REQUIRE(l == nullptr);
        REQUIRE(untouched(fd));
    }
    braid_unix_datagram* d = nullptr;
    for (int fd : {stream_pair[0], seq_pair[0], udp, listening}) {
        INFO("datagram, fd " << fd);
        REQUIRE(braid_unix_datagram_from_fd(&d, r.rt, fd) == BRAID_EINVAL);
        REQUIRE(d == nullptr);
        REQUIRE(untouched(fd));
    }
    int pipe_fds[2];
    REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
    REQUIRE(braid_unix_stream_from_fd(&s, r.rt, pipe_fds[0]) == BRAID_EBADF);
    REQUIRE(braid_unix_listener_from_fd(&l, r.rt, pipe_fds[0]) == BRAID_EBADF);
    REQUIRE(braid_unix_datagram_from_fd(&d, r.rt, pipe_fds[0]) == BRAID_EBADF);

    // Each takes its own kind, and it works.
    REQUIRE(braid_unix_stream_from_fd(&s, r.rt, stream_pair[0]) == BRAID_OK);
    IoResult w;
    braid_task* t = nullptr;
    REQUIRE(braid_byte_stream_write_all(&t, braid_unix_stream_as_byte_stream(s), "abc", 3, &IoResult::cb, &w) == BRAID_OK);
    REQUIRE(join(t) == BRAID_OK);
    char buf[8];
    REQUIRE(::recv(stream_pair[1], buf, 3, MSG_WAITALL) == 3);
    braid_unix_stream_free(s);

    REQUIRE(braid_unix_datagram_from_fd(&d, r.rt, dgram_pair[0]) == BRAID_OK);
    REQUIRE(::send(dgram_pair[1], "xy", 2, 0) == 2);
    IoResult got;
    sockaddr_storage from{};
    size_t from_len = sizeof from;
    REQUIRE(braid_unix_datagram_recv_from(&t, d, buf, sizeof buf, &from, &from_len, &IoResult::cb, &got) == BRAID_OK);
    REQUIRE(join(t) == BRAID_OK);
    REQUIRE(got.n.load() == 2);
    braid_unix_datagram_free(d);

    REQUIRE(braid_unix_listener_from_fd(&l, r.rt, listening) == BRAID_OK);
    braid_unix_listener_free(l);

    for (int fd : {stream_pair[1], dgram_pair[1], seq_pair[0], seq_pair[1], tcp, tcp_listener, udp, pipe_fds[0],
                   pipe_fds[1]})
        ::close(fd);
}

TEST_CASE("io_from_fd.into_fd gives UDP and Unix sockets back as plain fds, bad and closed handles") {
    Rt r;
    braid_test::TempDir dir;

    // UDP: the fd given back still receives what is sent to its address.
    int a = udp_socket();
    int b = udp_socket();
    sockaddr_in a_addr{};
    socklen_t l = sizeof a_addr;
    REQUIRE(::getsockname(a, reinterpret_cast<sockaddr*>(&a_addr), &l) == 0);
    braid_udp_socket* u = nullptr;
    REQUIRE(braid_udp_from_fd(&u, r.rt, a) == BRAID_OK);
    int ua = braid_udp_into_fd(u);  // u is freed
    REQUIRE(ua >= 0);
    REQUIRE((::fcntl(ua, F_GETFD) & FD_CLOEXEC) != 0);
    REQUIRE(::sendto(b, "u", 1, 0, reinterpret_cast<sockaddr*>(&a_addr), sizeof a_addr) == 1);
    char c = 0;
    REQUIRE(::recv(ua, &c, 1, 0) == 1);  // blocking would wait; the datagram is already queued
    REQUIRE(c == 'u');

    // Unix stream and datagram pairs: bytes still flow through the plain fds.
    int sp[2], dp[2];
    socket_pair(SOCK_STREAM, sp);
    socket_pair(SOCK_DGRAM, dp);
    braid_unix_stream* s = nullptr;
    braid_unix_datagram* d = nullptr;
    REQUIRE(braid_unix_stream_from_fd(&s, r.rt, sp[0]) == BRAID_OK);
    REQUIRE(braid_unix_datagram_from_fd(&d, r.rt, dp[0]) == BRAID_OK);
    int sfd = braid_unix_stream_into_fd(s);
    int dfd = braid_unix_datagram_into_fd(d);
    REQUIRE(sfd >= 0);
    REQUIRE(dfd >= 0);
    REQUIRE(::send(sp[1], "s", 1, 0) == 1);
    REQUIRE(::recv(sfd, &c, 1, 0) == 1);
    REQUIRE(c == 's');
    REQUIRE(::send(dp[1], "d", 1, 0) == 1);
    REQUIRE(::recv(dfd, &c, 1, 0) == 1);
    REQUIRE(c == 'd');

    // A Unix listener: the fd given back still listens.
    std::string path = dir / "l.sock";
    braid_unix_listener* ul = nullptr;
    REQUIRE(braid_unix_listener_from_fd(&ul, r.rt, unix_listening(path)) == BRAID_OK);
    int lfd = braid_unix_listener_into_fd(ul);
    REQUIRE(lfd >= 0);
    int cl = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un ua_addr{};
    ua_addr.sun_family = AF_UNIX;
    std::strncpy(ua_addr.sun_path, path.c_str(), sizeof ua_addr.sun_path - 1);
    REQUIRE(::connect(cl, reinterpret_cast<sockaddr*>(&ua_addr), sizeof ua_addr) == 0);
    int acc = -1;
    for (int i = 0; i < 1000 && acc < 0; ++i) acc = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    REQUIRE(acc >= 0);

    // NULL: BRAID_EINVAL.  Closed: BRAID_ECLOSED, and the handle is freed.
    REQUIRE(braid_udp_into_fd(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_unix_stream_into_fd(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_unix_listener_into_fd(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_unix_datagram_into_fd(nullptr) == BRAID_EINVAL);
    braid_unix_stream *s1 = nullptr, *s2 = nullptr;
    REQUIRE(braid_unix_stream_pair(&s1, &s2, r.rt) == BRAID_OK);
    REQUIRE(braid_unix_stream_close(s1) == BRAID_OK);
    REQUIRE(braid_unix_stream_into_fd(s1) == BRAID_ECLOSED);
    braid_unix_stream_free(s2);
    braid_unix_datagram *d1 = nullptr, *d2 = nullptr;
    REQUIRE(braid_unix_datagram_pair(&d1, &d2, r.rt) == BRAID_OK);
    REQUIRE(braid_unix_datagram_close(d1) == BRAID_OK);
    REQUIRE(braid_unix_datagram_into_fd(d1) == BRAID_ECLOSED);
    braid_unix_datagram_free(d2);

    for (int fd : {ua, b, sfd, sp[1], dfd, dp[1], lfd, cl, acc}) ::close(fd);
}

TEST_CASE("io_from_fd.from_std and into_std in C++: UdpSocket, UnixStream, UnixListener, UnixDatagram") {
    auto rt = braid_test::runtime(2);
    rt.block_on([]() -> braid::Task<> {
        braid_test::TempDir dir;
        int pipe_fds[2];
        EXPECT(::pipe2(pipe_fds, O_CLOEXEC) == 0);
        int tcp = tcp_socket();
        // A bad fd throws (BRAID_EBADF: not an open socket; BRAID_EINVAL:
        // another kind) and leaves the fd as it was.
        auto code = [](auto from_std) { return braid_test::error_code_of(from_std); };
        EXPECT(code([] { braid::net::UdpSocket::from_std(-1); }) == BRAID_EBADF);
        EXPECT(code([&] { braid::net::UdpSocket::from_std(pipe_fds[0]); }) == BRAID_EBADF);
        EXPECT(code([&] { braid::net::UdpSocket::from_std(tcp); }) == BRAID_EINVAL);
        EXPECT(code([] { braid::net::UnixStream::from_std(-1); }) == BRAID_EBADF);
        EXPECT(code([&] { braid::net::UnixStream::from_std(tcp); }) == BRAID_EINVAL);
        EXPECT(code([] { braid::net::UnixListener::from_std(-1); }) == BRAID_EBADF);
        EXPECT(code([&] { braid::net::UnixListener::from_std(tcp); }) == BRAID_EINVAL);
        EXPECT(code([] { braid::net::UnixDatagram::from_std(-1); }) == BRAID_EBADF);
        EXPECT(code([&] { braid::net::UnixDatagram::from_std(pipe_fds[0]); }) == BRAID_EBADF);
        EXPECT(untouched(tcp));
        EXPECT(untouched(pipe_fds[0]));

        // A plain stream pair adopted: it reads and writes, then goes back.
        int sp[2];
        EXPECT(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
        auto s = braid::net::UnixStream::from_std(sp[0]);
        EXPECT(::send(sp[1], "ab", 2, 0) == 2);
        char buf[2];
        co_await s.read_exact(buf);
        EXPECT(std::string(buf, 2) == "ab");
        int back = s.into_std();
        EXPECT(back >= 0);
        EXPECT(braid_test::error_code_of([&] { s.into_std(); }) == BRAID_ECLOSED);  // left empty
        // A closed one: BRAID_ECLOSED, and it is left empty (the C call freed
        // the handle; nothing is freed twice).
        auto [p, q] = braid::net::UnixStream::pair();
        p.close();
        EXPECT(braid_test::error_code_of([&] { p.into_std(); }) == BRAID_ECLOSED);
        EXPECT(p.native_handle() == nullptr);
        auto closed_udp = braid::net::UdpSocket::bind("127.0.0.1:0");
        closed_udp.close();
        EXPECT(braid_test::error_code_of([&] { closed_udp.into_std(); }) == BRAID_ECLOSED);
        EXPECT(closed_udp.native_handle() == nullptr);
        // A datagram pair and a UDP socket: the same round trip.
        int dp[2];
        EXPECT(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, dp) == 0);
        auto d = braid::net::UnixDatagram::from_std(dp[0]);
        EXPECT(::send(dp[1], "x", 1, 0) == 1);
        std::size_t n = co_await d.recv(buf);
        EXPECT(n == 1);
        int dback = d.into_std();
        EXPECT(dback >= 0);
        auto u = braid::net::UdpSocket::from_std(udp_socket());
        auto peer = braid::net::UdpSocket::bind("127.0.0.1:0");
        co_await peer.send_to(braid::io::ConstBuffer("u", 1), u.local_addr());
        auto [got, from] = co_await u.recv_from(buf);
        EXPECT(got == 1);
        EXPECT(from == peer.local_addr());
        int uback = u.into_std();
        EXPECT(uback >= 0);
        // A Unix listener accepts, then goes back still listening.
        auto l = braid::net::UnixListener::from_std(unix_listening(dir / "cpp.sock"));
        auto client = co_await braid::net::UnixStream::connect(dir / "cpp.sock");
        auto [conn, addr] = co_await l.accept();
        co_await client.write_all(braid::io::ConstBuffer("c", 1));
        co_await conn.read_exact(braid::io::MutableBuffer(buf, 1));
        EXPECT(buf[0] == 'c');
        int lback = l.into_std();
        EXPECT(lback >= 0);
        for (int fd : {pipe_fds[0], pipe_fds[1], tcp, back, sp[1], dback, dp[1], uback, lback}) ::close(fd);
    }());
}

}  // namespace test_io_from_fd
