// Conformance: tokio/tests/uds_datagram.rs (Tokio 1.24), ported from what
// each case asserts.  #[tokio::test]: a current-thread runtime; tempfile's
// directories are braid_test::TempDir.  The *_poll cases call Tokio's
// poll_send / poll_send_to / poll_recv / poll_recv_from through poll_fn:
// here the C ABI's braid_unix_datagram_poll_send_to (no path for
// poll_send) and braid_unix_datagram_poll_recv_from driven by
// braid_test::c_poll.  SocketAddr::as_pathname() is the address's path
// when it has one (SocketAddr::to_string() of a pathname address).  Tokio's
// Arc<UnixDatagram> shared by two futures is one socket both use.
//
// Tokio's try_* give WouldBlock where braid's give std::nullopt;
// poll_send_ready / poll_recv_ready are the C ABI's
// braid_unix_datagram_poll_ready driven by c_poll.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <cerrno>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_uds_datagram {

using braid::net::SocketAddr;
using braid::net::UnixDatagram;
using braid_test::c_poll;
using braid_test::TempDir;

namespace {

// Rust's SocketAddr::as_pathname().
std::optional<std::string> as_pathname(const SocketAddr& a) {
    if (!a.is_unix()) return std::nullopt;
    std::string s = a.to_string();
    if (s.empty() || s == "(unnamed)" || s[0] == '@') return std::nullopt;
    return s;
}

// Echoes every datagram back to a sender that has a path.
braid::Task<> echo_server(UnixDatagram socket) {
    char recv_buf[1024];
    for (;;) {
        auto [len, peer_addr] = co_await socket.recv_from(recv_buf);
        if (auto path = as_pathname(peer_addr)) co_await socket.send_to(braid::io::ConstBuffer(recv_buf, len), *path);
    }
}

// poll_fn(|cx| socket.poll_send_to(cx, buf, path)): no path is poll_send.
braid::Task<std::size_t> poll_send_to(UnixDatagram& s, std::string_view buf, const std::string* path) {
    std::size_t n = 0;
    auto poll = [&](braid_wake_fn w, void* d) {
        return braid_unix_datagram_poll_send_to(s.native_handle(), buf.data(), buf.size(), path ? path->c_str() : nullptr,
                                                w, d, &n);
    };
    co_await c_poll(std::ref(poll));
    co_return n;
}

// poll_fn(|cx| socket.poll_recv_from(cx, &mut read)): what ReadBuf::filled()
// holds, and the sender.
braid::Task<std::pair<std::string, SocketAddr>> poll_recv_from(UnixDatagram& s) {
    char buf[32];
    std::size_t n = 0;
    SocketAddr from;
    auto poll = [&](braid_wake_fn w, void* d) {
        return braid_unix_datagram_poll_recv_from(s.native_handle(), buf, sizeof buf, from.storage(), from.size_ptr(),
                                                  w, d, &n);
    };
    co_await c_poll(std::ref(poll));
    co_return std::make_pair(std::string(buf, n), from);
}

constexpr auto& run = braid_test::run_current_thread;

}  // namespace

TEST_CASE("uds_datagram.echo") {
    TempDir dir;
    run([](std::string server_path, std::string client_path) -> braid::Task<> {
        UnixDatagram server_socket = UnixDatagram::bind(server_path);
        auto server = braid::spawn(echo_server(std::move(server_socket)));

        {
            UnixDatagram socket = UnixDatagram::bind(client_path);
            socket.connect(server_path);
            co_await socket.send("ECHO");
            char recv_buf[16];
            std::size_t len = co_await socket.recv(recv_buf);
            EXPECT(std::string_view(recv_buf, len) == "ECHO");
        }
        server.abort();
    }(dir / "server.sock", dir / "client.sock"));
}

TEST_CASE("uds_datagram.echo_from") {
    TempDir dir;
    run([](std::string server_path, std::string client_path) -> braid::Task<> {
        UnixDatagram server_socket = UnixDatagram::bind(server_path);
        auto server = braid::spawn(echo_server(std::move(server_socket)));

        {
            UnixDatagram socket = UnixDatagram::bind(client_path);
            socket.connect(server_path);
            co_await socket.send("ECHO");
            char recv_buf[16];
            auto [len, addr] = co_await socket.recv_from(recv_buf);
            EXPECT(std::string_view(recv_buf, len) == "ECHO");
            EXPECT(as_pathname(addr) == server_path);
        }
        server.abort();
    }(dir / "server.sock", dir / "client.sock"));
}

TEST_CASE("uds_datagram.split") {
    TempDir dir;
    run([](std::string path) -> braid::Task<> {
        UnixDatagram socket = UnixDatagram::bind(path);
        UnixDatagram& s = socket;
        UnixDatagram& r = socket;

        auto send = [](UnixDatagram& s, std::string path) -> braid::Task<> { co_await s.send_to("hello", path); };
        auto recv = [](UnixDatagram& r) -> braid::Task<> {
            char recv_buf[32];
            auto [len, from] = co_await r.recv_from(recv_buf);
            EXPECT(std::string_view(recv_buf, len) == "hello");
        };
        co_await braid::try_join(send(s, path), recv(r));
    }(dir / "split.sock"));
}

TEST_CASE("uds_datagram.send_to_recv_from_poll") {
    TempDir dir;
    run([](std::string sender_path, std::string receiver_path) -> braid::Task<> {
        UnixDatagram sender = UnixDatagram::bind(sender_path);
        UnixDatagram receiver = UnixDatagram::bind(receiver_path);

        EXPECT(co_await poll_send_to(sender, "hello", &receiver_path) == 5);

        auto [filled, addr] = co_await poll_recv_from(receiver);
        EXPECT(filled == "hello");
        EXPECT(as_pathname(addr) == sender_path);
    }(dir / "sender.sock", dir / "receiver.sock"));
}

TEST_CASE("uds_datagram.send_recv_poll") {
    TempDir dir;
    run([](std::string sender_path, std::string receiver_path) -> braid::Task<> {
        UnixDatagram sender = UnixDatagram::bind(sender_path);
        UnixDatagram receiver = UnixDatagram::bind(receiver_path);

        sender.connect(receiver_path);
        receiver.connect(sender_path);

        EXPECT(co_await poll_send_to(sender, "hello", nullptr) == 5);

        auto [filled, addr] = co_await poll_recv_from(receiver);
        EXPECT(filled == "hello");
    }(dir / "sender.sock", dir / "receiver.sock"));
}

namespace {
constexpr std::string_view HELLO = "hello world";

// loop { ready-for-writing; try_send_to { Ok(n) => break, WouldBlock => continue } },
// then the same for receiving with try_recv_from into 512 bytes, or (buf_form)
// try_recv_buf_from into an empty vector's spare capacity of 512: the Tokio
// cases' rounds.
template <class SendReady, class RecvReady>
braid::Task<> try_rounds(UnixDatagram& server, UnixDatagram& client, std::string server_path, std::string client_path,
                         SendReady send_ready, RecvReady recv_ready, bool buf_form) {
    for (int i = 0; i < 5; ++i) {
        for (;;) {
            co_await send_ready(client);
            auto n = client.try_send_to(braid::io::ConstBuffer(HELLO.data(), HELLO.size()), server_path);
            if (!n) continue;
            EXPECT(*n == HELLO.size());
            break;
        }
        for (;;) {
            co_await recv_ready(server);
            std::vector<char> buf;
            buf.reserve(512);
            std::optional<std::pair<std::size_t, braid::net::SocketAddr>> got;
            if (buf_form) {
                got = server.try_recv_buf_from(buf);  // grows buf by the datagram
            } else {
                buf.resize(512);
                got = server.try_recv_from(buf);
                if (got) buf.resize(got->first);
            }
            if (!got) continue;
            EXPECT(buf.size() == got->first);
            EXPECT(got->first == HELLO.size());
            EXPECT(as_pathname(got->second) == std::optional<std::string>(client_path));
            EXPECT(std::string_view(buf.data(), buf.size()) == HELLO);
            break;
        }
    }
}

braid::Task<> writable(UnixDatagram& s) { co_await s.writable(); }
braid::Task<> readable(UnixDatagram& s) { co_await s.readable(); }

// poll_fn(|cx| s.poll_send_ready(cx)) / poll_recv_ready.
braid::Task<> poll_ready(UnixDatagram& s, int interest) {
    co_await c_poll([&s, interest](braid_wake_fn w, void* d) {
        int bits = 0;
        return braid_unix_datagram_poll_ready(s.native_handle(), interest, w, d, &bits);
    });
}

// Sends until the queue is full (WouldBlock, or ENOBUFS): the count sent.
braid::Task<int> fill(UnixDatagram& dgram1, std::string_view payload) {
    int count = 0;
    for (;;) {
        co_await dgram1.writable();
        std::optional<std::size_t> n;
        int os = 0;
        try {
            n = dgram1.try_send(braid::io::ConstBuffer(payload.data(), payload.size()));
        } catch (const braid::IoError& e) {
            os = e.os_error();
        }
        if (os) {
            EXPECT(os == ENOBUFS);
            co_return count;
        }
        if (!n) co_return count;
        EXPECT(*n == payload.size());
        ++count;
    }
}

// Reads back `count` datagrams (with try_recv_buf into a vector's spare
// capacity of 16 when buf_form, else try_recv into 16 bytes), then finds
// nothing more.
braid::Task<> read_back(UnixDatagram& dgram2, std::string_view payload, int count, bool buf_form) {
    while (count > 0) {
        co_await dgram2.readable();
        std::vector<char> recv_buf;
        recv_buf.reserve(16);
        std::optional<std::size_t> len;
        if (buf_form) {
            len = dgram2.try_recv_buf(recv_buf);
            EXPECT(recv_buf.size() == len.value_or(0));
        } else {
            recv_buf.resize(16);
            len = dgram2.try_recv(recv_buf);
        }
        if (!len) continue;
        EXPECT(*len == payload.size());
        EXPECT(std::string_view(recv_buf.data(), *len) == payload);
        --count;
    }
    std::vector<char> recv_buf;
    recv_buf.reserve(16);
    if (buf_form) {
        EXPECT(!dgram2.try_recv_buf(recv_buf).has_value());
        EXPECT(recv_buf.empty());
    } else {
        recv_buf.resize(16);
        EXPECT(!dgram2.try_recv(recv_buf).has_value());
    }
}
}  // namespace

namespace {
braid::Task<> awaited_rounds(std::string server_path, std::string client_path, bool buf_form) {
    UnixDatagram server = UnixDatagram::bind(server_path);
    UnixDatagram client = UnixDatagram::bind(client_path);
    co_await try_rounds(server, client, server_path, client_path, &writable, &readable, buf_form);
}
}  // namespace

TEST_CASE("uds_datagram.try_send_to_recv_from") {
    TempDir dir;
    run(awaited_rounds(dir / "server.sock", dir / "client.sock", false));
}

TEST_CASE("uds_datagram.try_recv_buf_from") {
    TempDir dir;
    run(awaited_rounds(dir / "server.sock", dir / "client.sock", true));
}

TEST_CASE("uds_datagram.poll_ready") {
    TempDir dir;
    run([](std::string server_path, std::string client_path) -> braid::Task<> {
        UnixDatagram server = UnixDatagram::bind(server_path);
        UnixDatagram client = UnixDatagram::bind(client_path);
        co_await try_rounds(
            server, client, server_path, client_path, [](UnixDatagram& s) { return poll_ready(s, BRAID_IO_WRITABLE); },
            [](UnixDatagram& s) { return poll_ready(s, BRAID_IO_READABLE); }, true);
    }(dir / "server.sock", dir / "client.sock"));
}

namespace {
braid::Task<> never_block(bool buf_form) {
    constexpr std::string_view payload = "PAYLOAD";
    auto [dgram1, dgram2] = UnixDatagram::pair();
    // Send until the OS queue (net.unix.max_dgram_qlen) is full.
    int count = co_await fill(dgram1, payload);
    EXPECT(count > 0);
    // Read every datagram sent.
    co_await read_back(dgram2, payload, count, buf_form);
}
}  // namespace

TEST_CASE("uds_datagram.try_send_recv_never_block") { run(never_block(false)); }

TEST_CASE("uds_datagram.try_recv_buf_never_block") { run(never_block(true)); }

}  // namespace conformance_uds_datagram
