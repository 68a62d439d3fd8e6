// TCP from C: callback operations (accept, connect, read_exact, write_all),
// their cancellation (BRAID_ECANCELED) and closing under them
// (BRAID_ECLOSED), poll functions in a C future, and bad input.
#include <catch2/catch.hpp>
#include <braid/braid.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>
#include <utility>

#include "capi_support.hpp"
#include "io_support.hpp"

namespace test_io_tcp_capi {

using capi_test::IoResult;
using capi_test::join;
using capi_test::Rt;
using capi_test::StreamResult;

namespace {

sockaddr_storage loopback(size_t* len) {
    sockaddr_storage ss{};
    REQUIRE(braid_addr_parse(&ss, len, "127.0.0.1:0") == BRAID_OK);
    return ss;
}

// A connected pair on r: {client, server}.
std::pair<braid_tcp_stream*, braid_tcp_stream*> connected_pair(Rt& r) {
    size_t len = 0;
    sockaddr_storage any = loopback(&len);
    braid_tcp_listener* l = nullptr;
    REQUIRE(braid_tcp_listener_bind(&l, r.rt, reinterpret_cast<sockaddr*>(&any), len, 0) == BRAID_OK);
    sockaddr_storage addr{};
    size_t alen = 0;
    REQUIRE(braid_tcp_listener_local_addr(l, &addr, &alen) == BRAID_OK);
    StreamResult accepted, connected;
    braid_task *ta = nullptr, *tc = nullptr;
    REQUIRE(braid_tcp_listener_accept(&ta, l, &StreamResult::cb, &accepted) == BRAID_OK);
    REQUIRE(braid_tcp_connect(&tc, r.rt, reinterpret_cast<sockaddr*>(&addr), alen, &StreamResult::cb, &connected) ==
            BRAID_OK);
    REQUIRE(join(ta) == BRAID_OK);
    REQUIRE(join(tc) == BRAID_OK);
    braid_tcp_listener_free(l);
    return {connected.stream.load(), accepted.stream.load()};
}

}  // namespace

TEST_CASE("io_tcp_capi.C TCP: accept, connect, write_all and read_exact by callbacks") {
    Rt r;
    size_t len = 0;
    sockaddr_storage any = loopback(&len);
    braid_tcp_listener* l = nullptr;
    REQUIRE(braid_tcp_listener_bind(&l, r.rt, reinterpret_cast<sockaddr*>(&any), len, 0) == BRAID_OK);
    sockaddr_storage addr{};
    size_t alen = 0;
    REQUIRE(braid_tcp_listener_local_addr(l, &addr, &alen) == BRAID_OK);
    char text[BRAID_ADDRSTRLEN];
    REQUIRE(braid_addr_format(text, sizeof text, reinterpret_cast<sockaddr*>(&addr), alen) > 0);
    REQUIRE(std::string(text).rfind("127.0.0.1:", 0) == 0);

    StreamResult accepted, connected;
    braid_task *ta = nullptr, *tc = nullptr;
    REQUIRE(braid_tcp_listener_accept(&ta, l, &StreamResult::cb, &accepted) == BRAID_OK);
    REQUIRE(braid_tcp_listener_accept(nullptr, l, &StreamResult::cb, &accepted) == BRAID_EBUSY);  // one at a time
    REQUIRE(braid_tcp_connect(&tc, r.rt, reinterpret_cast<sockaddr*>(&addr), alen, &StreamResult::cb, &connected) ==
            BRAID_OK);
    REQUIRE(join(ta) == BRAID_OK);
    REQUIRE(join(tc) == BRAID_OK);
    REQUIRE(accepted.calls == 1);
    REQUIRE(connected.calls == 1);
    REQUIRE(accepted.status == BRAID_OK);
    REQUIRE(connected.status == BRAID_OK);
    braid_tcp_stream* server = accepted.stream;
    braid_tcp_stream* client = connected.stream;
    REQUIRE(braid_tcp_stream_set_nodelay(client, 1) == BRAID_OK);
    REQUIRE(braid_tcp_stream_nodelay(client) == 1);

    static const char msg[] = "hello from C";
    char back[sizeof msg] = {};
    IoResult w, rd;
    braid_task *tw = nullptr, *tr = nullptr;
    REQUIRE(braid_byte_stream_read_exact(&tr, braid_tcp_stream_as_byte_stream(server), back, sizeof msg, &IoResult::cb, &rd) == BRAID_OK);
    REQUIRE(braid_byte_stream_read(nullptr, braid_tcp_stream_as_byte_stream(server), back, 1, &IoResult::cb, &rd) == BRAID_EBUSY);
    REQUIRE(braid_byte_stream_write_all(&tw, braid_tcp_stream_as_byte_stream(client), msg, sizeof msg, &IoResult::cb, &w) == BRAID_OK);
    REQUIRE(join(tw) == BRAID_OK);
    REQUIRE(join(tr) == BRAID_OK);
    REQUIRE(w.status == BRAID_OK);
    REQUIRE(w.n == sizeof msg);
    REQUIRE(rd.status == BRAID_OK);
    REQUIRE(rd.n == sizeof msg);
    REQUIRE(std::memcmp(back, msg, sizeof msg) == 0);

    // EOF inside read_exact: BRAID_EEOF with the count read.
    IoResult eof;
    REQUIRE(braid_byte_stream_write_all(&tw, braid_tcp_stream_as_byte_stream(client), "abc", 3, &IoResult::cb, &w) == BRAID_OK);
    REQUIRE(join(tw) == BRAID_OK);
    REQUIRE(braid_byte_stream_read_exact(&tr, braid_tcp_stream_as_byte_stream(server), back, 10, &IoResult::cb, &eof) == BRAID_OK);
    braid_tcp_stream_free(client);
    REQUIRE(join(tr) == BRAID_OK);
    REQUIRE(eof.status == BRAID_EEOF);
    REQUIRE(eof.n == 3);
    braid_tcp_stream_free(server);
    braid_tcp_listener_free(l);
}

TEST_CASE("io_tcp_capi.C TCP: a pending read is cancelled by abort and completed by free") {
    Rt r;
    auto [client, server] = connected_pair(r);

    char buf[16];
    IoResult aborted;
    braid_task* t = nullptr;
    REQUIRE(braid_byte_stream_read(&t, braid_tcp_stream_as_byte_stream(client), buf, sizeof buf, &IoResult::cb, &aborted) == BRAID_OK);
    REQUIRE(braid_task_abort(t) == BRAID_OK);
    REQUIRE(join(t) == BRAID_ECANCELED);
    REQUIRE(aborted.calls == 1);
    REQUIRE(aborted.status == BRAID_ECANCELED);

    // The aborted read consumed nothing: the next one gets the bytes.
    IoResult w, got;
    REQUIRE(braid_byte_stream_write_all(nullptr, braid_tcp_stream_as_byte_stream(server), "xyz", 3, &IoResult::cb, &w) == BRAID_OK);
    REQUIRE(braid_byte_stream_read_exact(&t, braid_tcp_stream_as_byte_stream(client), buf, 3, &IoResult::cb, &got) == BRAID_OK);
    REQUIRE(join(t) == BRAID_OK);
    REQUIRE(got.status == BRAID_OK);
    REQUIRE(std::string(buf, 3) == "xyz");

    // A deadline on an operation: BRAID_ETIMEDOUT.
    IoResult timed;
    REQUIRE(braid_byte_stream_read(&t, braid_tcp_stream_as_byte_stream(client), buf, sizeof buf, &IoResult::cb, &timed) == BRAID_OK);
    REQUIRE(braid_task_set_timeout(t, 5) == BRAID_OK);
    join(t);
    REQUIRE(timed.status == BRAID_ETIMEDOUT);

    // Freeing the stream under a pending read completes it with BRAID_ECLOSED.
    IoResult closed;
    REQUIRE(braid_byte_stream_read(&t, braid_tcp_stream_as_byte_stream(client), buf, sizeof buf, &IoResult::cb, &closed) == BRAID_OK);
    braid_tcp_stream_free(client);
    REQUIRE(join(t) == BRAID_OK);
    REQUIRE(closed.calls == 1);
    REQUIRE(closed.status == BRAID_ECLOSED);
    braid_tcp_stream_free(server);
}

TEST_CASE("io_tcp_capi.C TCP: refused connect, address in use, bad input, no fd leaks") {
    int before = -1;
    {
        Rt r;
        size_t len = 0;
        sockaddr_storage any = loopback(&len);
        braid_tcp_listener* warm = nullptr;  // the runtime's driver fds exist from here on
        REQUIRE(braid_tcp_listener_bind(&warm, r.rt, reinterpret_cast<sockaddr*>(&any), len, 0) == BRAID_OK);
        before = braid_test::open_fds();
        sockaddr_storage addr{};
        size_t alen = 0;
        REQUIRE(braid_tcp_listener_local_addr(warm, &addr, &alen) == BRAID_OK);
        braid_tcp_listener* dup = reinterpret_cast<braid_tcp_listener*>(0x1);
        REQUIRE(braid_tcp_listener_bind(&dup, r.rt, reinterpret_cast<sockaddr*>(&addr), alen, 0) == BRAID_EADDRINUSE);
        REQUIRE(dup == nullptr);
        REQUIRE(braid_last_os_error() == EADDRINUSE);
        braid_tcp_listener_free(warm);

        StreamResult refused;
        braid_task* t = nullptr;
        REQUIRE(braid_tcp_connect(&t, r.rt, reinterpret_cast<sockaddr*>(&addr), alen, &StreamResult::cb, &refused) ==
                BRAID_OK);
        REQUIRE(join(t) == BRAID_OK);
        REQUIRE(refused.status == BRAID_ECONNREFUSED);
        REQUIRE(refused.stream == nullptr);

        // Bad input: never a callback, never a crash.
        StreamResult never;
        REQUIRE(braid_tcp_connect(&t, r.rt, nullptr, 0, &StreamResult::cb, &never) == BRAID_EINVAL);
        REQUIRE(t == nullptr);
        sockaddr_storage junk{};
        junk.ss_family = AF_INET;
        REQUIRE(braid_tcp_connect(&t, r.rt, reinterpret_cast<sockaddr*>(&junk), 3, &StreamResult::cb, &never) ==
                BRAID_EINVAL);
        junk.ss_family = 12345;
        REQUIRE(braid_tcp_listener_bind(&dup, r.rt, reinterpret_cast<sockaddr*>(&junk), sizeof junk, 0) ==
                BRAID_EINVAL);
        REQUIRE(braid_tcp_connect(&t, r.rt, reinterpret_cast<sockaddr*>(&addr), alen, nullptr, nullptr) ==
                BRAID_EINVAL);
        REQUIRE(never.calls == 0);
        sockaddr_storage ss{};
        size_t sl = 0;
        REQUIRE(braid_addr_parse(&ss, &sl, "127.0.0.1") == BRAID_EINVAL);
        REQUIRE(braid_addr_parse(&ss, &sl, "127.0.0.1:99999") == BRAID_ERANGE);
        REQUIRE(braid_addr_parse(&ss, &sl, "[::1]") == BRAID_EINVAL);
        REQUIRE(braid_addr_parse(&ss, &sl, nullptr) == BRAID_EINVAL);
        char small[4];
        REQUIRE(braid_addr_parse(&ss, &sl, "[::1]:80") == BRAID_OK);
        REQUIRE(braid_addr_format(small, sizeof small, reinterpret_cast<sockaddr*>(&ss), sl) == BRAID_ERANGE);
        IoResult io;
        REQUIRE(braid_byte_stream_read(nullptr, braid_tcp_stream_as_byte_stream(nullptr), small, 1, &IoResult::cb, &io) == BRAID_EINVAL);
        REQUIRE(braid_byte_stream_poll_read(braid_tcp_stream_as_byte_stream(nullptr), small, 1, nullptr, nullptr, nullptr) == BRAID_EINVAL);
        REQUIRE(braid_tcp_stream_fd(nullptr) == BRAID_EINVAL);
        REQUIRE(braid_tcp_stream_close(nullptr) == BRAID_EINVAL);
        braid_tcp_stream_free(nullptr);
        braid_tcp_listener_free(nullptr);
        REQUIRE(io.calls == 0);

        // A stream used after close: BRAID_ECLOSED; a zero-length read: BRAID_EINVAL.
        braid_tcp_stream* s = nullptr;
        REQUIRE(braid_tcp_stream_connect_start(&s, r.rt, reinterpret_cast<sockaddr*>(&addr), alen) == BRAID_OK);
        REQUIRE(braid_byte_stream_read(nullptr, braid_tcp_stream_as_byte_stream(s), small, 0, &IoResult::cb, &io) == BRAID_EINVAL);
        REQUIRE(braid_tcp_stream_close(s) == BRAID_OK);
        REQUIRE(braid_byte_stream_read(nullptr, braid_tcp_stream_as_byte_stream(s), small, 1, &IoResult::cb, &io) == BRAID_ECLOSED);
        size_t n = 0;
        REQUIRE(braid_byte_stream_poll_write(braid_tcp_stream_as_byte_stream(s), "x", 1, &braid_task_wake_fn, nullptr, &n) == BRAID_ECLOSED);
        REQUIRE(braid_tcp_stream_set_nodelay(s, 1) == BRAID_ECLOSED);
        REQUIRE(io.calls == 0);
        braid_tcp_stream_free(s);
        REQUIRE(braid_test::open_fds() == before - 1);  // the listener is gone too
    }
}

TEST_CASE("io_tcp_capi.C TCP: readiness and attempts that never wait (try_read, try_write)") {
    Rt r;
    auto [client, server] = connected_pair(r);
    braid_byte_stream* c = braid_tcp_stream_as_byte_stream(client);
    braid_byte_stream* sv = braid_tcp_stream_as_byte_stream(server);
    char buf[16];
    size_t n = 99;

    // Nothing to read: BRAID_EAGAIN, nothing registered, n untouched.
    REQUIRE(braid_byte_stream_try_read(sv, buf, sizeof buf, &n) == BRAID_EAGAIN);
    // A fresh stream is writable.
    int bits = 0;
    REQUIRE(braid_byte_stream_poll_ready(c, BRAID_IO_WRITABLE, [](void*) {}, &bits, &bits) == 0);
    REQUIRE(bits == BRAID_IO_WRITABLE);
    REQUIRE(braid_byte_stream_poll_ready(c, BRAID_IO_WRITABLE, nullptr, &bits, &bits) == BRAID_PENDING);
    REQUIRE(braid_byte_stream_try_write(c, "hello", 5, &n) == BRAID_OK);
    REQUIRE(n == 5);
    braid_io_slice two[2] = {{" wor", 4}, {"ld", 2}};
    REQUIRE(braid_byte_stream_try_write_vectored(c, two, 2, &n) == BRAID_OK);
    REQUIRE(n == 6);

    // The server becomes readable; the bytes are there.
    auto readable = [&](braid_wake_fn w, void* d, int* b) { return braid_byte_stream_poll_ready(sv, BRAID_IO_READABLE, w, d, b); };
    REQUIRE(capi_test::wait_ready(readable, &bits) == 0);
    REQUIRE((bits & BRAID_IO_READABLE) != 0);
    std::string got;
    while (got.size() < 11) {
        int rc = braid_byte_stream_try_read(sv, buf, sizeof buf, &n);
        if (rc == BRAID_EAGAIN) {
            REQUIRE(capi_test::wait_ready(readable, &bits) == 0);
            continue;
        }
        REQUIRE(rc == BRAID_OK);
        got.append(buf, n);
    }
    REQUIRE(got == "hello world");
    REQUIRE(braid_byte_stream_try_read(sv, buf, sizeof buf, &n) == BRAID_EAGAIN);

    // The peer goes: read-closed, and the read gives end of file.
    braid_tcp_stream_free(client);
    REQUIRE(capi_test::wait_ready(readable, &bits) == 0);
    REQUIRE((bits & BRAID_IO_READ_CLOSED) != 0);
    REQUIRE(braid_byte_stream_try_read(sv, buf, sizeof buf, &n) == BRAID_OK);
    REQUIRE(n == 0);

    // Bad arguments and a closed stream.
    REQUIRE(braid_byte_stream_poll_ready(sv, 0, [](void*) {}, &bits, &bits) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_poll_ready(sv, 4, [](void*) {}, &bits, &bits) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_poll_ready(sv, BRAID_IO_READABLE, [](void*) {}, &bits, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_poll_ready(nullptr, BRAID_IO_READABLE, [](void*) {}, &bits, &bits) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_try_read(nullptr, buf, 1, &n) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_try_read(sv, buf, 0, &n) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_try_read(sv, buf, 1, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_try_write(nullptr, "x", 1, &n) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_try_write(sv, nullptr, 1, &n) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_try_write_vectored(sv, nullptr, 1, &n) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_try_write_vectored(nullptr, two, 1, &n) == BRAID_EINVAL);
    REQUIRE(braid_tcp_stream_close(server) == BRAID_OK);
    REQUIRE(braid_byte_stream_try_read(sv, buf, 1, &n) == BRAID_ECLOSED);
    REQUIRE(braid_byte_stream_try_write(sv, "x", 1, &n) == BRAID_ECLOSED);
    REQUIRE(braid_byte_stream_poll_ready(sv, BRAID_IO_READABLE, [](void*) {}, &bits, &bits) == BRAID_ECLOSED);
    braid_tcp_stream_free(server);
}

TEST_CASE("io_tcp_capi.C TCP: try_read_vectored fills the slices in order, bad input") {
    Rt r;
    auto [client, server] = connected_pair(r);
    braid_byte_stream* c = braid_tcp_stream_as_byte_stream(client);
    braid_byte_stream* sv = braid_tcp_stream_as_byte_stream(server);
    char a[3], b[16];
    braid_io_mut_slice slices[3] = {{a, sizeof a}, {nullptr, 0}, {b, sizeof b}};
    size_t n = 99;

    // Nothing to read: BRAID_EAGAIN, n untouched.
    REQUIRE(braid_byte_stream_try_read_vectored(sv, slices, 3, &n) == BRAID_EAGAIN);
    REQUIRE(n == 99);
    REQUIRE(braid_byte_stream_try_write(c, "hello world", 11, &n) == BRAID_OK);
    REQUIRE(n == 11);

    auto readable = [&](braid_wake_fn w, void* d, int* bits) {
        return braid_byte_stream_poll_ready(sv, BRAID_IO_READABLE, w, d, bits);
    };
    int bits = 0;
    std::string got;
    while (got.size() < 11) {
        REQUIRE(capi_test::wait_ready(readable, &bits) == 0);
        int rc = braid_byte_stream_try_read_vectored(sv, slices, 3, &n);
        if (rc == BRAID_EAGAIN) continue;
        REQUIRE(rc == BRAID_OK);
        REQUIRE(n > 0);
        // The first slice first, then (past the empty one) the third.
        got.append(a, std::min<size_t>(n, sizeof a));
        if (n > sizeof a) got.append(b, n - sizeof a);
    }
    REQUIRE(got == "hello world");
    REQUIRE(braid_byte_stream_try_read_vectored(sv, slices, 3, &n) == BRAID_EAGAIN);

    // Bad arguments: no room at all (a read of 0 would mean end of file),
    // NULL slices, a slice with no data but a length, NULL out_n or stream.
    braid_io_mut_slice empty[2] = {{a, 0}, {nullptr, 0}};
    braid_io_mut_slice bad[2] = {{a, 1}, {nullptr, 4}};
    REQUIRE(braid_byte_stream_try_read_vectored(sv, empty, 2, &n) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_try_read_vectored(sv, slices, 0, &n) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_try_read_vectored(sv, nullptr, 0, &n) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_try_read_vectored(sv, nullptr, 2, &n) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_try_read_vectored(sv, bad, 2, &n) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_try_read_vectored(sv, slices, 3, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_try_read_vectored(nullptr, slices, 3, &n) == BRAID_EINVAL);

    // The peer goes: end of file (0 bytes).
    braid_tcp_stream_free(client);
    REQUIRE(capi_test::wait_ready(readable, &bits) == 0);
    REQUIRE(braid_byte_stream_try_read_vectored(sv, slices, 3, &n) == BRAID_OK);
    REQUIRE(n == 0);
    // Closed: BRAID_ECLOSED.
    REQUIRE(braid_tcp_stream_close(server) == BRAID_OK);
    REQUIRE(braid_byte_stream_try_read_vectored(sv, slices, 3, &n) == BRAID_ECLOSED);
    braid_tcp_stream_free(server);
}

TEST_CASE("io_tcp_capi.C TCP: a socket set up before it listens or connects, linger, ttl, into_fd") {
    Rt r;
    size_t len = 0;
    sockaddr_storage any = loopback(&len);
    braid_tcp_socket* srv = nullptr;
    REQUIRE(braid_tcp_socket_new(&srv, r.rt, AF_INET) == BRAID_OK);
    REQUIRE(braid_tcp_socket_set_reuseaddr(srv, 1) == BRAID_OK);
    REQUIRE(braid_tcp_socket_reuseaddr(srv) == 1);
    REQUIRE(braid_tcp_socket_set_reuseport(srv, 1) == BRAID_OK);
    REQUIRE(braid_tcp_socket_reuseport(srv) == 1);
    REQUIRE(braid_tcp_socket_set_recv_buffer_size(srv, 65536) == BRAID_OK);
    REQUIRE(braid_tcp_socket_recv_buffer_size(srv) >= 65536);
    REQUIRE(braid_tcp_socket_bind(srv, reinterpret_cast<sockaddr*>(&any), len) == BRAID_OK);
    sockaddr_storage addr{};
    size_t alen = 0;
    REQUIRE(braid_tcp_socket_local_addr(srv, &addr, &alen) == BRAID_OK);
    braid_tcp_listener* l = nullptr;
    REQUIRE(braid_tcp_socket_listen(srv, 16, &l) == BRAID_OK);  // srv is gone now

    braid_tcp_socket* cli = nullptr;
    REQUIRE(braid_tcp_socket_new(&cli, r.rt, AF_INET) == BRAID_OK);
    REQUIRE(braid_tcp_socket_set_send_buffer_size(cli, 32768) == BRAID_OK);
    REQUIRE(braid_tcp_socket_send_buffer_size(cli) >= 32768);
    REQUIRE(braid_tcp_socket_set_nodelay(cli, 1) == BRAID_OK);
    REQUIRE(braid_tcp_socket_nodelay(cli) == 1);
    REQUIRE(braid_tcp_socket_set_keepalive(cli, 1) == BRAID_OK);
    REQUIRE(braid_tcp_socket_keepalive(cli) == 1);
    int secs = 7;
    REQUIRE(braid_tcp_socket_linger(cli, &secs) == BRAID_OK);
    REQUIRE(secs == -1);
    REQUIRE(braid_tcp_socket_set_linger(cli, 3) == BRAID_OK);
    REQUIRE(braid_tcp_socket_linger(cli, &secs) == BRAID_OK);
    REQUIRE(secs == 3);
    braid_tcp_stream* s = nullptr;
    int rc = braid_tcp_socket_connect_start(cli, reinterpret_cast<sockaddr*>(&addr), alen, &s);
    REQUIRE((rc == BRAID_OK || rc == BRAID_PENDING));  // cli is gone now
    auto connect = [&](braid_wake_fn w, void* d, int*) { return braid_tcp_stream_poll_connect(s, w, d); };
    int unused = 0;
    REQUIRE(capi_test::wait_ready(connect, &unused) == BRAID_OK);
    REQUIRE(braid_tcp_stream_nodelay(s) == 1);  // the options set before connecting stay
    REQUIRE(braid_tcp_stream_linger(s, &secs) == BRAID_OK);
    REQUIRE(secs == 3);
    REQUIRE(braid_tcp_stream_set_linger(s, -1) == BRAID_OK);
    REQUIRE(braid_tcp_stream_linger(s, &secs) == BRAID_OK);
    REQUIRE(secs == -1);
    REQUIRE(braid_tcp_stream_set_ttl(s, 42) == BRAID_OK);
    REQUIRE(braid_tcp_stream_ttl(s) == 42);

    // into_fd: the listener's socket comes back as a plain fd that still listens.
    int lfd = braid_tcp_listener_into_fd(l);
    REQUIRE(lfd >= 0);
    int acc = ::accept(lfd, nullptr, nullptr);  // the connection queued above
    REQUIRE(acc >= 0);
    ::close(acc);
    ::close(lfd);
    int sfd = braid_tcp_stream_into_fd(s);
    REQUIRE(sfd >= 0);
    REQUIRE(::close(sfd) == 0);

    // Bad arguments: codes, no crash; a failed listen or connect leaves the socket the caller's.
    braid_tcp_socket* bad = reinterpret_cast<braid_tcp_socket*>(0x1);
    REQUIRE(braid_tcp_socket_new(&bad, r.rt, AF_UNIX) == BRAID_EINVAL);
    REQUIRE(bad == nullptr);
    REQUIRE(braid_tcp_socket_new(nullptr, r.rt, AF_INET) == BRAID_EINVAL);
    REQUIRE(braid_tcp_socket_set_reuseaddr(nullptr, 1) == BRAID_EINVAL);
    REQUIRE(braid_tcp_socket_reuseport(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_tcp_socket_linger(nullptr, &secs) == BRAID_EINVAL);
    REQUIRE(braid_tcp_socket_bind(nullptr, reinterpret_cast<sockaddr*>(&any), len) == BRAID_EINVAL);
    REQUIRE(braid_tcp_socket_listen(nullptr, 1, &l) == BRAID_EINVAL);
    REQUIRE(braid_tcp_socket_connect_start(nullptr, reinterpret_cast<sockaddr*>(&addr), alen, &s) == BRAID_EINVAL);
    REQUIRE(braid_tcp_socket_fd(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_tcp_socket_from_fd(&bad, r.rt, -1) == BRAID_EBADF);
    braid_tcp_socket_free(nullptr);
    REQUIRE(braid_tcp_socket_new(&bad, r.rt, AF_INET) == BRAID_OK);
    REQUIRE(braid_tcp_socket_set_send_buffer_size(bad, 0) == BRAID_EINVAL);
    REQUIRE(braid_tcp_socket_set_linger(bad, -2) == BRAID_EINVAL);
    REQUIRE(braid_tcp_socket_linger(bad, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_tcp_socket_listen(bad, 1, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_tcp_socket_connect_start(bad, nullptr, 0, &s) == BRAID_EINVAL);
    REQUIRE(braid_tcp_socket_bind(bad, reinterpret_cast<sockaddr*>(&any), len) == BRAID_OK);
    REQUIRE(braid_tcp_socket_local_addr(bad, &addr, &alen) == BRAID_OK);
    braid_tcp_listener* taken = nullptr;
    REQUIRE(braid_tcp_socket_listen(bad, 1, &taken) == BRAID_OK);
    braid_tcp_socket* other = nullptr;
    REQUIRE(braid_tcp_socket_new(&other, r.rt, AF_INET) == BRAID_OK);
    REQUIRE(braid_tcp_socket_bind(other, reinterpret_cast<sockaddr*>(&addr), alen) == BRAID_EADDRINUSE);
    REQUIRE(braid_tcp_socket_fd(other) >= 0);  // still the caller's
    braid_tcp_socket_free(other);
    braid_tcp_listener_free(taken);
    REQUIRE(braid_tcp_stream_set_linger(nullptr, 1) == BRAID_EINVAL);
    REQUIRE(braid_tcp_stream_linger(nullptr, &secs) == BRAID_EINVAL);
    REQUIRE(braid_tcp_stream_set_ttl(nullptr, 1) == BRAID_EINVAL);
    REQUIRE(braid_tcp_stream_ttl(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_tcp_stream_into_fd(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_tcp_listener_into_fd(nullptr) == BRAID_EINVAL);
    auto [c2, s2] = connected_pair(r);
    REQUIRE(braid_tcp_stream_set_ttl(c2, 0) == BRAID_ERANGE);
    REQUIRE(braid_tcp_stream_set_ttl(c2, 256) == BRAID_ERANGE);
    REQUIRE(braid_tcp_stream_set_linger(c2, -2) == BRAID_EINVAL);
    REQUIRE(braid_tcp_stream_linger(c2, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_tcp_stream_close(c2) == BRAID_OK);
    REQUIRE(braid_tcp_stream_into_fd(c2) == BRAID_ECLOSED);  // and c2 is freed
    braid_tcp_stream_free(s2);
}

}  // namespace test_io_tcp_capi
