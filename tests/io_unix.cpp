// Unix domain sockets: stream listener and stream (path and abstract
// names), socket pairs, datagram sockets, errors (no such socket, address in
// use, embedded NUL, too long a path), fd leaks, and the C side.
#include <catch2/catch.hpp>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "capi_support.hpp"
#include "io_support.hpp"
#include "support.hpp"

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

TEST_CASE("Unix streams: listener and stream on a path and on an abstract name") {
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

TEST_CASE("Unix streams: a pair, split halves, EOF") {
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

TEST_CASE("Unix datagrams: bound sockets, pairs, connect") {
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

TEST_CASE("Unix sockets: errors are clear and leak no fd") {
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
using capi_test::UnixStreamResult;

TEST_CASE("Unix sockets from C: accept, connect, write_all, read_exact") {
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
