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
// Gaps:
//   echo (in part) - the C++ UnixDatagram has no recv() (only recv_from):
//     the client's receive is recv_from, its address unused.
//   try_send_recv_never_block - no writable()/readable(), try_send(),
//     try_recv() on UnixDatagram.
//   try_send_to_recv_from - no writable()/readable(), try_send_to(),
//     try_recv_from().
//   try_recv_buf_from - no writable()/readable(), try_send_to(),
//     try_recv_buf_from().
//   try_recv_buf_never_block - no writable()/readable(), try_send(),
//     try_recv_buf(), try_recv_from().
//   poll_ready - no poll_send_ready()/poll_recv_ready(), try_send_to(),
//     try_recv_buf_from().
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "io_support.hpp"
#include "support.hpp"

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

void run(braid::Task<> body) {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on(std::move(body));
}

}  // namespace

TEST_CASE("echo") {
    TempDir dir;
    run([](std::string server_path, std::string client_path) -> braid::Task<> {
        UnixDatagram server_socket = UnixDatagram::bind(server_path);
        auto server = braid::spawn(echo_server(std::move(server_socket)));

        {
            UnixDatagram socket = UnixDatagram::bind(client_path);
            socket.connect(server_path);
            co_await socket.send("ECHO");
            char recv_buf[16];
            auto [len, from] = co_await socket.recv_from(recv_buf);
            EXPECT(std::string_view(recv_buf, len) == "ECHO");
        }
        server.abort();
    }(dir / "server.sock", dir / "client.sock"));
}

TEST_CASE("echo_from") {
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

TEST_CASE("split") {
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

TEST_CASE("send_to_recv_from_poll") {
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

TEST_CASE("send_recv_poll") {
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
