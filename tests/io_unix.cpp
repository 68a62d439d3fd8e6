// Unix domain sockets: stream listener and stream (path and abstract
// names), socket pairs, datagram sockets, errors (no such socket, address in
// use, embedded NUL, too long a path), fd leaks, and the C side.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "capi_support.hpp"
#include "io_support.hpp"
#include "support.hpp"

namespace test_io_unix {

using namespace std::chrono_literals;
using braid::net::UnixDatagram;
using braid::net::UnixListener;
using braid::net::UnixStream;

using braid_test::code_of;
using braid_test::TempDir;

namespace {

braid::Task<std::string> echo_once(UnixListener& l) {
    auto [s, peer] = co_await l.accept();
    std::string all = co_await braid::io::read_to_string(s);
    co_await s.write_all(all);
    co_return all;
}

}  // namespace

TEST_CASE("io_unix.Unix streams: listener and stream on a path and on an abstract name") {
    TempDir dir;
    auto rt = braid_test::runtime(2);
    std::vector<std::string> paths{dir / "echo.sock", "@braid-test-" + std::to_string(getpid())};
    for (const auto& path : paths) {
        auto [sent, back, local] = rt.block_on([](std::string path) -> braid::Task<std::tuple<std::string, std::string, std::string>> {
            auto l = UnixListener::bind(path);
            std::string local = l.local_addr().to_string();
            auto server = braid::spawn([](UnixListener l) -> braid::Task<std::string> {
                co_return co_await echo_once(l);
            }(std::move(l)));
            auto c = co_await UnixStream::connect(path);
            co_await c.write_all("over a unix socket");
            c.shutdown_write();
            std::string reply = co_await braid::io::read_to_string(c);
            std::string seen = co_await server;
            co_return std::make_tuple(seen, reply, local);
        }(path));
        REQUIRE(sent == "over a unix socket");
        REQUIRE(back == sent);
        REQUIRE(local == path);
    }
}

TEST_CASE("io_unix.Unix streams: a pair, split halves, EOF") {
    auto rt = braid_test::runtime(2);
    auto got = rt.block_on([]() -> braid::Task<std::string> {
        auto [a, b] = UnixStream::pair();
        auto [rd, wr] = braid::io::into_split(std::move(a));
        auto writer = braid::spawn([](braid::io::OwnedWriteHalf<UnixStream> w) -> braid::Task<> {
            for (int i = 0; i < 100; ++i) co_await w.write_all(std::to_string(i) + ",");
        }(std::move(wr)));
        std::string all = co_await braid::io::read_to_string(b);  // EOF when the write half is dropped
        co_await writer;
        (void)rd;
        co_return all;
    }());
    std::string want;
    for (int i = 0; i < 100; ++i) want += std::to_string(i) + ",";
    REQUIRE(got == want);
}

TEST_CASE("io_unix.Unix datagrams: bound sockets, pairs, connect") {
    TempDir dir;
    auto rt = braid_test::runtime(2);
    auto [first, from, second, third] = rt.block_on([](std::string a_path, std::string b_path)
                                                        -> braid::Task<std::tuple<std::string, std::string, std::string, std::string>> {
        auto a = UnixDatagram::bind(a_path);
        auto b = UnixDatagram::bind(b_path);
        co_await a.send_to("one", b_path);
        char buf[32];
        auto [n, sender] = co_await b.recv_from(buf);
        std::string one(buf, n);
        b.connect(a_path);
        co_await b.send("two");
        auto [m, s2] = co_await a.recv_from(buf);
        std::string two(buf, m);
        auto [p, q] = UnixDatagram::pair();
        co_await p.send("three");
        auto [k, s3] = co_await q.recv_from(buf);
        co_return std::make_tuple(one, sender.to_string(), two, std::string(buf, k));
    }(dir / "a.sock", dir / "b.sock"));
    REQUIRE(first == "one");
    REQUIRE(from == dir / "a.sock");
    REQUIRE(second == "two");
    REQUIRE(third == "three");
}

TEST_CASE("io_unix.Unix sockets: errors are clear and leak no fd") {
    TempDir dir;
    auto rt = braid_test::runtime(1);
    rt.block_on([]() -> braid::Task<> {
        auto [a, b] = UnixStream::pair();  // the driver's fds exist from here on
        co_return;
    }());
    int before = braid_test::open_fds();
    auto codes = rt.block_on([](std::string sock, std::string missing) -> braid::Task<std::vector<int>> {
        std::vector<int> out;
        out.push_back(co_await code_of(UnixStream::connect(missing)));                                   // no such file
        auto l = UnixListener::bind(sock);
        out.push_back(braid_test::error_code_of([&] { UnixListener::bind(sock); }));                      // in use
        out.push_back(braid_test::error_code_of([&] { UnixListener::bind(std::string_view("a\0b", 3)); }));  // NUL
        out.push_back(braid_test::error_code_of([&] { UnixListener::bind(std::string(200, 'x')); }));     // too long
        out.push_back(braid_test::error_code_of([&] { UnixListener::bind(""); }));
        out.push_back(braid_test::error_code_of([] { (void)UnixStream::connect(std::string_view("/tmp/x\0y", 8)); }));
        l.close();
        out.push_back(co_await code_of(l.accept()));
        // A listener that is gone: refused.
        UnixListener moved = std::move(l);
        { UnixListener drop = std::move(moved); }
        out.push_back(co_await code_of(UnixStream::connect(sock)));
        co_return out;
    }(dir / "s.sock", dir / "missing.sock"));
    REQUIRE(codes == std::vector<int>{BRAID_ENOENT, BRAID_EADDRINUSE, BRAID_EINVAL, BRAID_EINVAL, BRAID_EINVAL,
                                      BRAID_EINVAL, BRAID_ECLOSED, BRAID_ECONNREFUSED});
    REQUIRE(braid_test::open_fds() == before);
}

using capi_test::IoResult;
using capi_test::Rt;
using capi_test::UnixStreamResult;

TEST_CASE("io_unix.Unix sockets from C: accept, connect, write_all, read_exact") {
    TempDir dir;
    std::string path = dir / "c.sock";
    braid_runtime* rt = nullptr;
    REQUIRE(braid_runtime_new(&rt) == BRAID_OK);
    braid_unix_listener* l = nullptr;
    REQUIRE(braid_unix_listener_bind(&l, rt, path.c_str(), 0) == BRAID_OK);
    UnixStreamResult acc, con;
    braid_task *ta = nullptr, *tc = nullptr;
    REQUIRE(braid_unix_listener_accept(&ta, l, &UnixStreamResult::cb, &acc) == BRAID_OK);
    REQUIRE(braid_unix_connect(&tc, rt, path.c_str(), &UnixStreamResult::cb, &con) == BRAID_OK);
    braid_task_join_blocking(ta, BRAID_WAIT_FOREVER);
    braid_task_join_blocking(tc, BRAID_WAIT_FOREVER);
    braid_task_free(ta);
    braid_task_free(tc);
    REQUIRE(acc.status == BRAID_OK);
    REQUIRE(con.status == BRAID_OK);
    char buf[8] = {};
    IoResult w, r;
    braid_task *tw = nullptr, *tr = nullptr;
    REQUIRE(braid_byte_stream_read_exact(&tr, braid_unix_stream_as_byte_stream(acc.stream), buf, 5, &IoResult::cb, &r) == BRAID_OK);
    REQUIRE(braid_byte_stream_write_all(&tw, braid_unix_stream_as_byte_stream(con.stream), "hello", 5, &IoResult::cb, &w) == BRAID_OK);
    braid_task_join_blocking(tw, BRAID_WAIT_FOREVER);
    braid_task_join_blocking(tr, BRAID_WAIT_FOREVER);
    braid_task_free(tw);
    braid_task_free(tr);
    REQUIRE(r.status == BRAID_OK);
    REQUIRE(std::string(buf, 5) == "hello");
    UnixStreamResult missing;
    REQUIRE(braid_unix_connect(nullptr, rt, nullptr, &UnixStreamResult::cb, &missing) == BRAID_EINVAL);
    REQUIRE(braid_unix_connect(nullptr, rt, "", &UnixStreamResult::cb, &missing) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_read(nullptr, braid_unix_stream_as_byte_stream(acc.stream), buf, 0, &IoResult::cb, &r) == BRAID_EINVAL);
    braid_unix_stream_free(acc.stream);
    braid_unix_stream_free(con.stream);
    braid_unix_listener_free(l);
    REQUIRE(braid_runtime_free(rt) == BRAID_OK);
}

TEST_CASE("io_unix.Unix streams: file descriptors travel with bytes (SCM_RIGHTS), in C++") {
    auto rt = braid_test::runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [a, b] = UnixStream::pair();
        int p[2];
        EXPECT(::pipe2(p, O_CLOEXEC) == 0);
        int send_fds[2] = {p[0], p[1]};
        std::size_t n = co_await a.send_with_fds("x", send_fds);
        EXPECT(n == 1);
        ::close(p[0]);
        ::close(p[1]);  // the copies that travelled keep the pipe alive

        char buf[4];
        int got[4] = {-1, -1, -1, -1};
        auto [bytes, nfds] = co_await b.recv_with_fds(buf, got);
        EXPECT(bytes == 1);
        EXPECT(buf[0] == 'x');
        EXPECT(nfds == 2);
        EXPECT((::fcntl(got[0], F_GETFD) & FD_CLOEXEC) != 0);
        // The received ends are the pipe: what goes in one comes out the other.
        EXPECT(::write(got[1], "ok", 2) == 2);
        char two[2];
        EXPECT(::read(got[0], two, 2) == 2);
        EXPECT(std::memcmp(two, "ok", 2) == 0);
        ::close(got[0]);
        ::close(got[1]);

        // More descriptors than room: those that do not fit are closed, the
        // bytes still arrive.
        int q[2];
        EXPECT(::pipe2(q, O_CLOEXEC) == 0);
        int both[2] = {q[0], q[1]};
        co_await a.send_with_fds("y", both);
        ::close(q[1]);
        int one[1] = {-1};
        auto [bytes2, nfds2] = co_await b.recv_with_fds(buf, one);
        EXPECT(bytes2 == 1);
        EXPECT(nfds2 == 1);
        EXPECT(one[0] >= 0);
        ::close(one[0]);
        char c;
        EXPECT(::read(q[0], &c, 1) == 0);  // every write end is closed: the dropped copy too
        ::close(q[0]);

        // Plain writes and reads go on around them.
        co_await a.write_all("plain");
        char five[5];
        co_await b.read_exact(five);
        EXPECT(std::memcmp(five, "plain", 5) == 0);

        // The peer's credentials.
        UnixStream::UCred cred = b.peer_cred();
        EXPECT(cred.pid == ::getpid());
        EXPECT(cred.uid == ::geteuid());
    }());
}

TEST_CASE("io_unix.Unix sockets from C: peer_cred, passing fds, datagram readiness and attempts") {
    Rt r;
    braid_unix_stream *a = nullptr, *b = nullptr;
    REQUIRE(braid_unix_stream_pair(&a, &b, r.rt) == BRAID_OK);
    int pid = 0;
    unsigned uid = 1, gid = 1;
    REQUIRE(braid_unix_stream_peer_cred(a, &pid, &uid, &gid) == BRAID_OK);
    REQUIRE(pid == ::getpid());
    REQUIRE(uid == ::geteuid());
    REQUIRE(gid == ::getegid());
    REQUIRE(braid_unix_stream_peer_cred(a, nullptr, nullptr, nullptr) == BRAID_OK);

    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    size_t n = 0;
    auto send = [&](braid_wake_fn w, void* d, int*) {
        return braid_unix_stream_poll_send_fds(a, "z", 1, p, 1, w, d, &n);
    };
    int unused = 0;
    REQUIRE(capi_test::wait_ready(send, &unused) == BRAID_OK);
    REQUIRE(n == 1);
    char buf[2];
    int fds[2] = {-1, -1};
    size_t nfds = 0;
    auto recv = [&](braid_wake_fn w, void* d, int*) {
        return braid_unix_stream_poll_recv_fds(b, buf, sizeof buf, fds, 2, &nfds, w, d, &n);
    };
    REQUIRE(capi_test::wait_ready(recv, &unused) == BRAID_OK);
    REQUIRE(n == 1);
    REQUIRE(nfds == 1);
    REQUIRE(fds[0] >= 0);
    ::close(fds[0]);
    ::close(p[0]);
    ::close(p[1]);

    // Bad arguments.
    int bad_fd = 1 << 20;
    REQUIRE(braid_unix_stream_peer_cred(nullptr, &pid, &uid, &gid) == BRAID_EINVAL);
    REQUIRE(braid_unix_stream_poll_send_fds(nullptr, "z", 1, p, 1, &braid_task_wake_fn, nullptr, &n) == BRAID_EINVAL);
    REQUIRE(braid_unix_stream_poll_send_fds(a, "z", 0, p, 1, &braid_task_wake_fn, nullptr, &n) == BRAID_EINVAL);
    REQUIRE(braid_unix_stream_poll_send_fds(a, "z", 1, nullptr, 1, &braid_task_wake_fn, nullptr, &n) == BRAID_EINVAL);
    REQUIRE(braid_unix_stream_poll_send_fds(a, "z", 1, p, 254, &braid_task_wake_fn, nullptr, &n) == BRAID_EINVAL);
    REQUIRE(braid_unix_stream_poll_send_fds(a, "z", 1, &bad_fd, 1, &braid_task_wake_fn, nullptr, &n) == BRAID_EBADF);
    REQUIRE(braid_unix_stream_poll_recv_fds(nullptr, buf, 1, fds, 2, &nfds, &braid_task_wake_fn, nullptr, &n) == BRAID_EINVAL);
    REQUIRE(braid_unix_stream_poll_recv_fds(b, buf, 1, nullptr, 2, &nfds, &braid_task_wake_fn, nullptr, &n) == BRAID_EINVAL);
    REQUIRE(braid_unix_stream_poll_recv_fds(b, buf, 1, fds, 2, nullptr, &braid_task_wake_fn, nullptr, &n) == BRAID_EINVAL);
    REQUIRE(braid_unix_stream_poll_recv_fds(b, buf, 0, fds, 2, &nfds, &braid_task_wake_fn, nullptr, &n) == BRAID_EINVAL);
    braid_unix_stream_free(a);
    braid_unix_stream_free(b);

    // Datagrams: try_send_to / try_recv_from and readiness.
    braid_unix_datagram *x = nullptr, *y = nullptr;
    REQUIRE(braid_unix_datagram_pair(&x, &y, r.rt) == BRAID_OK);
    REQUIRE(braid_unix_datagram_try_recv_from(y, buf, sizeof buf, nullptr, nullptr, &n) == BRAID_EAGAIN);
    REQUIRE(braid_unix_datagram_try_send_to(x, "d", 1, nullptr, &n) == BRAID_OK);
    REQUIRE(n == 1);
    int bits = 0;
    auto readable = [&](braid_wake_fn w, void* d, int* bp) {
        return braid_unix_datagram_poll_ready(y, BRAID_IO_READABLE, w, d, bp);
    };
    REQUIRE(capi_test::wait_ready(readable, &bits) == 0);
    REQUIRE((bits & BRAID_IO_READABLE) != 0);
    sockaddr_storage from{};
    size_t from_len = 0;
    REQUIRE(braid_unix_datagram_try_recv_from(y, buf, sizeof buf, &from, &from_len, &n) == BRAID_OK);
    REQUIRE(n == 1);
    REQUIRE(buf[0] == 'd');
    REQUIRE(braid_unix_datagram_poll_ready(y, 3, nullptr, &bits, &bits) == BRAID_PENDING);
    REQUIRE(braid_unix_datagram_poll_ready(nullptr, 1, &braid_task_wake_fn, nullptr, &bits) == BRAID_EINVAL);
    REQUIRE(braid_unix_datagram_poll_ready(y, 8, &braid_task_wake_fn, nullptr, &bits) == BRAID_EINVAL);
    REQUIRE(braid_unix_datagram_try_send_to(nullptr, "d", 1, nullptr, &n) == BRAID_EINVAL);
    REQUIRE(braid_unix_datagram_try_send_to(x, "d", 1, "", &n) == BRAID_EINVAL);
    REQUIRE(braid_unix_datagram_try_recv_from(nullptr, buf, 1, nullptr, nullptr, &n) == BRAID_EINVAL);
    REQUIRE(braid_unix_datagram_try_recv_from(y, buf, 1, nullptr, nullptr, nullptr) == BRAID_EINVAL);
    braid_unix_datagram_free(x);
    braid_unix_datagram_free(y);
}

TEST_CASE("io_unix.Unix sockets: try_read_buf, try_read_vectored and try_recv_buf(_from) append to a growable buffer") {
    auto rt = braid_test::runtime(2);
    rt.block_on([]() -> braid::Task<> {
        auto [a, b] = UnixStream::pair();
        std::string out = "ab";
        out.shrink_to_fit();
        // Nothing there: nullopt, and the size is as it was.
        braid_test::settle_readable(b);
        EXPECT(!b.try_read_buf(out).has_value());
        EXPECT(out == "ab");
        co_await a.write_all(std::string("hello"));
        std::optional<std::size_t> n;
        while (!(n = b.try_read_buf(out))) co_await b.readable();
        EXPECT(*n == 5);
        EXPECT(out == "abhello");  // appended after what was there

        // A full container grows first (to twice its size, at least 64).
        std::vector<char> full(3, 'x');
        full.shrink_to_fit();
        co_await a.write_all(std::string("0123456789"));
        while (!(n = b.try_read_buf(full))) co_await b.readable();
        EXPECT(*n == 10);
        EXPECT(full.size() == 13);
        EXPECT(full.capacity() >= 64);

        // try_read_vectored: the buffers in order.
        co_await a.write_all(std::string("vectored"));
        char x[3], y[8];
        std::vector<braid::io::MutableBuffer> bufs{braid::io::MutableBuffer(x, 3), braid::io::MutableBuffer(y, 8)};
        std::string got;
        while (got.size() < 8) {
            co_await b.readable();
            if (auto m = b.try_read_vectored(bufs)) {
                got.append(x, std::min<std::size_t>(*m, 3));
                if (*m > 3) got.append(y, *m - 3);
            }
        }
        EXPECT(got == "vectored");
        // No room: BRAID_EINVAL, as try_read of 0 bytes.
        std::vector<braid::io::MutableBuffer> none{braid::io::MutableBuffer(x, 0)};
        EXPECT(braid_test::error_code_of([&] { (void)b.try_read_vectored(none); }) == BRAID_EINVAL);

        // Datagrams: one appended, cut to the room there is.
        auto [d1, d2] = UnixDatagram::pair();
        std::vector<char> dg;
        dg.reserve(4);
        EXPECT(!d2.try_recv_buf(dg).has_value());
        EXPECT(dg.empty());
        co_await d1.send(std::string("datagram"));
        std::optional<std::size_t> m;
        while (!(m = d2.try_recv_buf(dg))) co_await d2.readable();
        EXPECT(*m == dg.capacity());  // what fitted; the rest is gone
        EXPECT(std::string(dg.begin(), dg.end()) == std::string("datagram").substr(0, dg.size()));
        std::string from_buf;
        co_await d1.send(std::string("next"));
        std::optional<std::pair<std::size_t, braid::net::SocketAddr>> f;
        while (!(f = d2.try_recv_buf_from(from_buf))) co_await d2.readable();
        EXPECT(f->first == 4);
        EXPECT(from_buf == "next");  // an empty string grew to 64 first
    }());
}

}  // namespace test_io_unix
