// TCP: listener and stream on loopback (IPv4 and IPv6), the failures a
// network produces (refused, reset, EOF inside read_exact, address in use),
// partial writes of large buffers, 1,000 concurrent echo connections,
// cancel safety of read, connect timeouts, split halves, bad input and fd
// leaks.
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "io_support.hpp"
#include "support.hpp"

namespace test_io_tcp {

using namespace std::chrono_literals;
using braid::net::SocketAddr;
using braid::net::TcpListener;
using braid::net::TcpStream;

namespace {

using braid_test::code_of;

// Echoes one connection until EOF; returns the bytes echoed.
braid::Task<uint64_t> echo(TcpStream s) {
    std::vector<char> buf(4096);
    uint64_t total = 0;
    for (;;) {
        std::size_t n = co_await s.read(buf);
        if (n == 0) co_return total;
        co_await s.write_all(braid::io::ConstBuffer(buf.data(), n));
        total += n;
    }
}

// Accepts `n` connections and echoes each on its own task.
braid::Task<uint64_t> echo_server(TcpListener l, int n) {
    std::vector<braid::JoinHandle<uint64_t>> conns;
    for (int i = 0; i < n; ++i) {
        auto [s, peer] = co_await l.accept();
        conns.push_back(braid::spawn(echo(std::move(s))));
    }
    uint64_t total = 0;
    for (auto& c : conns) total += co_await c;
    co_return total;
}

std::vector<char> pattern(std::size_t n, unsigned seed) {
    std::vector<char> v(n);
    uint32_t x = seed * 2654435761u + 1;
    for (auto& c : v) {
        x = x * 1664525u + 1013904223u;
        c = char(x >> 24);
    }
    return v;
}

}  // namespace

TEST_CASE("io_tcp.TCP: echo round trip over IPv4 and IPv6 loopback, with addresses") {
    auto rt = braid_test::runtime(2);
    std::vector<std::string> binds{"127.0.0.1:0"};
    if (braid_test::have_ipv6_loopback()) binds.push_back("[::1]:0");
    for (const auto& bind : binds) {
        auto r = rt.block_on([](std::string where) -> braid::Task<std::string> {
            auto l = TcpListener::bind(where);
            SocketAddr addr = l.local_addr();
            EXPECT(addr.port() != 0);
            auto server = braid::spawn(echo_server(std::move(l), 1));
            auto s = co_await TcpStream::connect(addr);
            EXPECT(s.peer_addr() == addr);
            EXPECT(s.local_addr().family() == addr.family());
            std::string msg = "hello over " + where;
            co_await s.write_all(msg);
            std::string back(msg.size(), '\0');
            co_await s.read_exact(back);
            s.shutdown_write();
            char c;
            std::size_t eof = co_await s.read(braid::io::MutableBuffer(&c, 1));
            EXPECT(eof == 0);  // the server saw EOF and closed
            uint64_t echoed = co_await server;
            EXPECT(echoed == msg.size());
            co_return back;
        }(bind));
        REQUIRE(r == "hello over " + bind);
    }
}

TEST_CASE("io_tcp.TCP: connection refused") {
    auto rt = braid_test::runtime(2);
    auto [code, os] = rt.block_on([]() -> braid::Task<std::pair<int, int>> {
        SocketAddr addr;
        {
            auto l = TcpListener::bind("127.0.0.1:0");
            addr = l.local_addr();
        }  // closed: nothing listens there now
        try {
            co_await TcpStream::connect(addr);
        } catch (const braid::IoError& e) {
            co_return std::make_pair(e.code(), e.os_error());
        }
        co_return std::make_pair(0, 0);
    }());
    REQUIRE(code == BRAID_ECONNREFUSED);
    REQUIRE(os == ECONNREFUSED);
}

TEST_CASE("io_tcp.TCP: reset by peer") {
    auto rt = braid_test::runtime(2);
    int code = rt.block_on([]() -> braid::Task<int> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto client = co_await TcpStream::connect(l.local_addr());
        {
            auto [s, peer] = co_await l.accept();
            linger lg{1, 0};  // close sends RST
            EXPECT(setsockopt(s.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
        }
        char buf[16];
        co_return co_await code_of(client.read(buf));
    }());
    REQUIRE(code == BRAID_ECONNRESET);
}

TEST_CASE("io_tcp.TCP: EOF in the middle of read_exact") {
    auto rt = braid_test::runtime(2);
    int code = rt.block_on([]() -> braid::Task<int> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto client = co_await TcpStream::connect(l.local_addr());
        {
            auto [s, peer] = co_await l.accept();
            co_await s.write_all("0123456789");
        }  // closed after 10 bytes
        char buf[20];
        co_return co_await code_of(client.read_exact(buf));
    }());
    REQUIRE(code == BRAID_EEOF);
}

TEST_CASE("io_tcp.TCP: address in use") {
    auto rt = braid_test::runtime(1);
    int code = rt.block_on([]() -> braid::Task<int> {
        auto l = TcpListener::bind("127.0.0.1:0");
        co_return braid_test::error_code_of([&] { TcpListener::bind(l.local_addr()); });
    }());
    REQUIRE(code == BRAID_EADDRINUSE);
}

constexpr std::size_t kBig = 8u << 20;

TEST_CASE("io_tcp.TCP: partial writes of 8 MiB buffers arrive whole") {
    auto rt = braid_test::runtime(2);
    const auto a = pattern(kBig, 1), b = pattern(kBig, 2);
    std::vector<char> want = a;
    want.insert(want.end(), b.begin(), b.end());
    auto [partial, got] = rt.block_on([](const std::vector<char>& a, const std::vector<char>& b)
                                          -> braid::Task<std::pair<std::size_t, std::vector<char>>> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto client = co_await TcpStream::connect(l.local_addr());
        auto [server, peer] = co_await l.accept();
        // Nobody reads yet: one write takes only what the socket buffers hold.
        std::size_t first = co_await client.write(a);
        EXPECT(first > 0);
        EXPECT(first < kBig);
        auto reader = braid::spawn([](TcpStream s) -> braid::Task<std::vector<char>> {
            std::vector<char> all;
            co_await braid::io::read_to_end(s, all);
            co_return all;
        }(std::move(server)));
        co_await client.write_all(braid::io::ConstBuffer(a.data() + first, kBig - first));
        co_await client.write_all(b);
        client.shutdown_write();
        std::vector<char> got = co_await reader;
        co_return std::make_pair(first, std::move(got));
    }(a, b));
    REQUIRE(partial < kBig);
    REQUIRE(got.size() == 2 * kBig);
    REQUIRE(got == want);
}

constexpr int kConns = 1000;

TEST_CASE("io_tcp.TCP: 1,000 concurrent connections echo and count bytes") {
    const int rounds = braid_test::kStressDivisor == 1 ? 20 : 4;
    REQUIRE(braid_test::raise_fd_limit(2 * kConns + 256) >= 2 * kConns + 64);
    braid_test::warm_up_process_fds();
    int fds_before = braid_test::open_fds();
    auto [sent, echoed, received] = braid_test::runtime(2).block_on([](int rounds) -> braid::Task<std::tuple<uint64_t, uint64_t, uint64_t>> {
        auto l = TcpListener::bind("127.0.0.1:0", kConns);
        SocketAddr addr = l.local_addr();
        auto server = braid::spawn(echo_server(std::move(l), kConns));
        std::vector<braid::JoinHandle<std::pair<uint64_t, uint64_t>>> clients;
        for (int i = 0; i < kConns; ++i) {
            clients.push_back(braid::spawn([](SocketAddr a, int id, int rounds) -> braid::Task<std::pair<uint64_t, uint64_t>> {
                auto s = co_await TcpStream::connect(a);
                uint64_t out = 0, in = 0;
                for (int r = 0; r < rounds; ++r) {
                    auto msg = pattern(std::size_t(1 + (id * 7 + r * 13) % 300), unsigned(id * 1000 + r));
                    co_await s.write_all(msg);
                    std::vector<char> back(msg.size());
                    co_await s.read_exact(back);
                    EXPECT(back == msg);
                    out += msg.size();
                    in += back.size();
                }
                s.shutdown_write();
                char c;
                std::size_t eof = co_await s.read(braid::io::MutableBuffer(&c, 1));
                EXPECT(eof == 0);
                co_return std::make_pair(out, in);
            }(addr, i, rounds)));
        }
        uint64_t out = 0, in = 0;
        for (auto& c : clients) {
            auto [o, i] = co_await c;
            out += o;
            in += i;
        }
        uint64_t echoed = co_await server;
        co_return std::make_tuple(out, echoed, in);
    }(rounds));
    uint64_t want = 0;
    for (int i = 0; i < kConns; ++i)
        for (int r = 0; r < rounds; ++r) want += uint64_t(1 + (i * 7 + r * 13) % 300);
    REQUIRE(sent == want);
    REQUIRE(echoed == want);
    REQUIRE(received == want);
    REQUIRE(braid_test::open_fds() <= fds_before);
}

TEST_CASE("io_tcp.TCP: a read cancelled in select leaves the bytes readable") {
    auto rt = braid_test::runtime(2);
    std::string got = rt.block_on([]() -> braid::Task<std::string> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto client = co_await TcpStream::connect(l.local_addr());
        auto [server, peer] = co_await l.accept();
        // A read that is pending when the other branch wins is cancelled.
        char buf[64];
        auto r = co_await braid::select(server.read(buf), braid::sleep(5ms));
        EXPECT(r.index() == 1);
        co_await client.write_all("abc");
        // Data is there now; a timer that is already due wins a biased select
        // before the read is even polled: nothing may be consumed either way.
        auto r2 = co_await braid::select_biased(braid::sleep(0ms), server.read(buf));
        EXPECT(r2.index() == 0);
        // Race many reads against short timers while a writer streams: every
        // byte must arrive exactly once.
        auto writer = braid::spawn([](TcpStream& c) -> braid::Task<> {
            for (int i = 0; i < 200; ++i) {
                char b = char('a' + i % 26);
                co_await c.write_all(braid::io::ConstBuffer(&b, 1));
                if (i % 7 == 0) co_await braid::sleep(1ms);
            }
            c.shutdown_write();
        }(client));
        std::string all;
        for (;;) {
            auto rr = co_await braid::select(server.read(buf), braid::sleep(300us));
            if (rr.index() == 1) continue;  // the read was cancelled
            std::size_t n = std::get<0>(rr);
            if (n == 0) break;
            all.append(buf, n);
        }
        co_await writer;
        co_return all;
    }());
    std::string want = "abc";
    for (int i = 0; i < 200; ++i) want += char('a' + i % 26);
    REQUIRE(got == want);
}

TEST_CASE("io_tcp.TCP: connect with a timeout gives up on a listener whose backlog is full") {
    braid_test::warm_up_process_fds();
    int fds_before = braid_test::open_fds();
    bool timed_out = braid_test::runtime(2).block_on([]() -> braid::Task<bool> {
        auto l = TcpListener::bind(SocketAddr::parse("127.0.0.1:0"), 1);
        std::vector<TcpStream> queued;  // never accepted: the queue fills up
        for (int i = 0; i < 16; ++i) {
            auto s = co_await braid::timeout(150ms, TcpStream::connect(l.local_addr()));
            if (!s) co_return true;
            queued.push_back(std::move(*s));
        }
        co_return false;
    }());
    REQUIRE(timed_out);
    REQUIRE(braid_test::open_fds() <= fds_before);  // the runtime is gone too
}

constexpr std::size_t kBytes = 1u << 20;

TEST_CASE("io_tcp.TCP: split halves used by two tasks at once") {
    auto rt = braid_test::runtime(2);
    bool ok = rt.block_on([]() -> braid::Task<bool> {
        auto l = TcpListener::bind("127.0.0.1:0");
        SocketAddr addr = l.local_addr();
        auto server = braid::spawn(echo_server(std::move(l), 1));
        auto [rd, wr] = braid::io::into_split(co_await TcpStream::connect(addr));
        auto data = pattern(kBytes, 9);
        auto writer = braid::spawn([](braid::io::OwnedWriteHalf<TcpStream> w, std::vector<char> d) -> braid::Task<> {
            for (std::size_t off = 0; off < d.size(); off += 10000)
                co_await w.write_all(braid::io::ConstBuffer(d.data() + off, std::min<std::size_t>(10000, d.size() - off)));
        }(std::move(wr), data));  // dropping the write half shuts the write side
        auto reader = braid::spawn([](braid::io::OwnedReadHalf<TcpStream> r) -> braid::Task<std::vector<char>> {
            std::vector<char> all;
            co_await braid::io::read_to_end(r, all);
            co_return all;
        }(std::move(rd)));
        co_await writer;
        auto got = co_await reader;
        co_await server;
        co_return got == data;
    }());
    REQUIRE(ok);
}

TEST_CASE("io_tcp.TCP: peek, nodelay, keepalive, shutdown of the write side, read_to_end") {
    auto rt = braid_test::runtime(2);
    auto text = rt.block_on([]() -> braid::Task<std::string> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto client = co_await TcpStream::connect(l.local_addr());
        auto [server, peer] = co_await l.accept();
        EXPECT(peer == client.local_addr());
        client.set_nodelay(true);
        EXPECT(client.nodelay());
        client.set_nodelay(false);
        EXPECT(!client.nodelay());
        client.set_keepalive(true);
        EXPECT(client.keepalive());
        co_await client.write_all("peekaboo");
        client.shutdown_write();
        char p[4];
        std::size_t n = co_await server.peek(p);
        EXPECT(n >= 1);
        EXPECT(std::string(p, n) == std::string("peek").substr(0, n));
        std::string all = co_await braid::io::read_to_string(server);  // peeked bytes are still there
        // The write side of the client is shut: writing back still works.
        co_await server.write_all("ok");
        std::string back(2, '\0');
        co_await client.read_exact(back);
        EXPECT(back == "ok");
        co_return all;
    }());
    REQUIRE(text == "peekaboo");
}

TEST_CASE("io_tcp.TCP: bad input gives clear errors and leaks no fd") {
    braid_test::warm_up_process_fds();
    int fds_before = braid_test::open_fds();
    using braid_test::error_code_of;
    REQUIRE(error_code_of([] { SocketAddr::parse("1.2.3.4"); }) == BRAID_EINVAL);         // no port
    REQUIRE(error_code_of([] { SocketAddr::parse("300.1.1.1:80"); }) == BRAID_EINVAL);    // bad host
    REQUIRE(error_code_of([] { SocketAddr::parse("::1:80"); }) == BRAID_EINVAL);          // v6 without []
    REQUIRE(error_code_of([] { SocketAddr::parse("127.0.0.1:65536"); }) == BRAID_ERANGE);  // port out of range
    REQUIRE(error_code_of([] { SocketAddr::parse("127.0.0.1:-1"); }) == BRAID_EINVAL);
    REQUIRE(error_code_of([] { SocketAddr::parse("127.0.0.1:"); }) == BRAID_EINVAL);
    REQUIRE(error_code_of([] { SocketAddr::parse(""); }) == BRAID_EINVAL);
    REQUIRE(error_code_of([] { SocketAddr("1.2.3", 80); }) == BRAID_EINVAL);
    REQUIRE(SocketAddr::parse("[::1]:65535").port() == 65535);
    REQUIRE(SocketAddr::parse("10.1.2.3:8080").to_string() == "10.1.2.3:8080");
    REQUIRE(SocketAddr("::1", 7).to_string() == "[::1]:7");
    auto codes = braid_test::runtime(2).block_on([]() -> braid::Task<std::vector<int>> {
        std::vector<int> out;
        auto l = TcpListener::bind("127.0.0.1:0");
        auto client = co_await TcpStream::connect(l.local_addr());
        auto [server, peer] = co_await l.accept();
        char buf[8];
        out.push_back(co_await code_of(client.read(braid::io::MutableBuffer(buf, 0))));  // zero-length read
        client.close();
        out.push_back(co_await code_of(client.read(buf)));        // closed socket used again
        out.push_back(co_await code_of(client.write_all("x")));
        out.push_back(braid_test::error_code_of([&] { client.set_nodelay(true); }));
        TcpStream moved = std::move(server);
        out.push_back(braid_test::error_code_of([&] { (void)server.read(buf); }));  // moved-from
        l.close();
        out.push_back(co_await code_of(l.accept()));                // closed listener
        // The peer of the closed client sees end of file.
        out.push_back(int(co_await moved.read(buf)));
        // Connecting to port 0 fails cleanly.
        out.push_back(co_await code_of(TcpStream::connect("127.0.0.1:0")));
        co_return out;
    }());
    REQUIRE(codes[0] == BRAID_EINVAL);
    REQUIRE(codes[1] == BRAID_ECLOSED);
    REQUIRE(codes[2] == BRAID_ECLOSED);
    REQUIRE(codes[3] == BRAID_ECLOSED);
    REQUIRE(codes[4] == BRAID_ECLOSED);
    REQUIRE(codes[5] == BRAID_ECLOSED);
    REQUIRE(codes[6] == 0);
    REQUIRE(codes[7] != 0);
    REQUIRE(braid_test::open_fds() <= fds_before);
}

TEST_CASE("io_tcp.TCP: error paths leak no fd") {
    auto rt = braid_test::runtime(2);
    // Warm up the runtime's own fds (the I/O driver's epoll) before counting.
    rt.block_on([]() -> braid::Task<> {
        auto l = TcpListener::bind("127.0.0.1:0");
        co_return;
    }());
    int before = braid_test::open_fds();
    int failures = rt.block_on([]() -> braid::Task<int> {
        int n = 0;
        auto l = TcpListener::bind("127.0.0.1:0");
        SocketAddr taken = l.local_addr();
        SocketAddr refused;
        {
            auto tmp = TcpListener::bind("127.0.0.1:0");
            refused = tmp.local_addr();
        }
        for (int i = 0; i < 50; ++i) {
            if (braid_test::error_code_of([&] { TcpListener::bind(taken); }) == BRAID_EADDRINUSE) ++n;
            if (co_await code_of(TcpStream::connect(refused)) == BRAID_ECONNREFUSED) ++n;
            auto c = co_await TcpStream::connect(taken);
            auto [s, peer] = co_await l.accept();
            {
                TcpStream gone = std::move(s);
            }
            char b[4];
            if (co_await code_of(c.read_exact(b)) == BRAID_EEOF) ++n;
        }
        co_return n;
    }());
    REQUIRE(failures == 150);
    REQUIRE(braid_test::open_fds() == before);
}

TEST_CASE("io_tcp.TCP: shutting the runtime down with tasks blocked in accept, connect and read") {
    braid_test::warm_up_process_fds();
    int before = braid_test::open_fds();
    {
        auto rt = braid_test::runtime(2);
        rt.block_on([]() -> braid::Task<> {
            auto l = TcpListener::bind("127.0.0.1:0");
            SocketAddr addr = l.local_addr();
            auto c = co_await TcpStream::connect(addr);
            auto [s, peer] = co_await l.accept();
            braid::spawn([](TcpStream s) -> braid::Task<> {
                char b[8];
                co_await s.read(b);  // never gets data
            }(std::move(s))).detach();
            braid::spawn([](TcpListener l) -> braid::Task<> { co_await l.accept(); }(std::move(l))).detach();
            braid::spawn([](TcpStream c) -> braid::Task<> {
                char b[8];
                co_await c.read(b);
            }(std::move(c))).detach();
            co_await braid::sleep(5ms);
        }());
    }  // shutdown cancels the three tasks: their sockets close
    REQUIRE(braid_test::open_fds() <= before);
}

TEST_CASE("io_tcp.TCP: incoming() is a stream of connections") {
    auto rt = braid_test::runtime(2);
    int served = rt.block_on([]() -> braid::Task<int> {
        auto l = TcpListener::bind("127.0.0.1:0");
        SocketAddr addr = l.local_addr();
        auto clients = braid::spawn([](SocketAddr a) -> braid::Task<> {
            for (int i = 0; i < 3; ++i) {
                auto c = co_await TcpStream::connect(a);
                co_await c.write_all("x");
            }
        }(addr));
        int n = 0;
        auto conns = l.incoming();
        while (n < 3) {
            auto c = co_await conns.next();
            EXPECT(c.has_value());
            char b;
            co_await c->read_exact(braid::io::MutableBuffer(&b, 1));
            ++n;
        }
        co_await clients;
        co_return n;
    }());
    REQUIRE(served == 3);
}

TEST_CASE("io_tcp.TCP: bind_host resolves a name and binds its first address, from_std and into_std for listeners") {
    auto rt = braid_test::runtime();
    rt.block_on([]() -> braid::Task<> {
        TcpListener l = co_await TcpListener::bind_host("localhost:0");
        SocketAddr addr = l.local_addr();
        EXPECT(addr.port() != 0);
        TcpListener numeric = co_await TcpListener::bind_host("127.0.0.1", 0);
        EXPECT(numeric.local_addr().port() != 0);
        int code = 0;
        try {
            co_await TcpListener::bind_host("no-such-host.invalid:0");
        } catch (const braid::Error& e) {
            code = e.code();
        }
        EXPECT(code == BRAID_ENOTFOUND);

        // The listener leaves braid as a plain fd, and comes back.
        int fd = l.into_std();
        EXPECT(!l.native_handle());
        TcpListener back = TcpListener::from_std(fd);
        EXPECT(back.local_addr() == addr);
        TcpStream c = co_await TcpStream::connect(addr);
        auto [s, peer] = co_await back.accept();
        EXPECT(peer == c.local_addr());
        s.set_linger(std::chrono::seconds(1));
        EXPECT(s.linger() == std::optional<std::chrono::seconds>(std::chrono::seconds(1)));
        s.set_ttl(17);
        EXPECT(s.ttl() == 17);
    }());
}

TEST_CASE("io_tcp.TCP: a TcpSocket whose connect is refused leaks no fd, options set before connecting stay") {
    auto rt = braid_test::runtime();
    rt.block_on([]() -> braid::Task<> {
        SocketAddr closed;
        {
            TcpListener l = TcpListener::bind("127.0.0.1:0");
            closed = l.local_addr();
        }  // nothing listens there now
        int before = braid_test::open_fds();
        int code = 0;
        {
            braid::net::TcpSocket sock = braid::net::TcpSocket::new_v4();
            sock.set_nodelay(true);
            try {
                co_await sock.connect(closed);
            } catch (const braid::Error& e) {
                code = e.code();
            }
            EXPECT(!sock.native_handle());  // consumed by connect
        }
        EXPECT(code == BRAID_ECONNREFUSED);
        EXPECT(braid_test::open_fds() == before);

        TcpListener l = TcpListener::bind("127.0.0.1:0");
        braid::net::TcpSocket sock = braid::net::TcpSocket::new_v4();
        sock.set_nodelay(true);
        sock.set_keepalive(true);
        TcpStream s = co_await sock.connect(l.local_addr());
        EXPECT(s.nodelay());
        EXPECT(s.keepalive());
        // An empty (consumed) socket throws BRAID_ECLOSED.
        EXPECT(braid_test::error_code_of([&] { sock.set_nodelay(true); }) == BRAID_ECLOSED);
    }());
}

}  // namespace test_io_tcp
