// Conformance: tokio/tests/udp.rs (Tokio 1.24), ported from what each case
// asserts.  #[tokio::test]: a current-thread runtime.  The *_poll cases call
// Tokio's poll_send / poll_recv / poll_send_to / poll_recv_from /
// poll_peek_from through poll_fn: here the C ABI's poll functions
// (braid_udp_poll_send_to with no address for poll_send,
// braid_udp_poll_recv_from, braid_udp_poll_peek_from) driven by
// braid_test::c_poll; ReadBuf::filled() is the bytes the poll reported.
// Tokio's Arc<UdpSocket> shared by two tasks is a std::shared_ptr.
//
// Tokio's try_* give WouldBlock where braid's give std::nullopt; the readiness
// waits are readable()/writable(), and poll_send_ready / poll_recv_ready are
// the C ABI's braid_udp_poll_ready driven by c_poll.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_udp {

using braid::net::SocketAddr;
using braid::net::UdpSocket;
using braid_test::c_poll;

namespace {

constexpr std::string_view MSG = "hello";
constexpr std::size_t MSG_LEN = MSG.size();
braid::io::ConstBuffer msg() { return braid::io::ConstBuffer(MSG.data(), MSG.size()); }

// poll_fn(|cx| socket.poll_send_to(cx, buf, to)): to == nullptr is poll_send.
braid::Task<std::size_t> poll_send_to(UdpSocket& s, std::string_view buf, const SocketAddr* to) {
    std::size_t n = 0;
    auto poll = [&](braid_wake_fn w, void* d) {
        return braid_udp_poll_send_to(s.native_handle(), buf.data(), buf.size(), to ? to->as_sockaddr() : nullptr,
                                      to ? to->size() : 0, w, d, &n);
    };
    co_await c_poll(std::ref(poll));
    co_return n;
}

// poll_fn(|cx| socket.poll_recv_from(cx, &mut read_buf)) (peek: poll_peek_from):
// what ReadBuf::filled() holds, and the sender.
braid::Task<std::pair<std::string, SocketAddr>> poll_recv_from(UdpSocket& s, bool peek) {
    char buf[32];
    std::size_t n = 0;
    SocketAddr from;
    auto poll = [&](braid_wake_fn w, void* d) {
        auto fn = peek ? &braid_udp_poll_peek_from : &braid_udp_poll_recv_from;
        return fn(s.native_handle(), buf, sizeof buf, from.storage(), from.size_ptr(), w, d, &n);
    };
    co_await c_poll(std::ref(poll));
    co_return std::make_pair(std::string(buf, n), from);
}

constexpr auto& run = braid_test::run_current_thread;

}  // namespace

TEST_CASE("udp.send_recv") {
    run([]() -> braid::Task<> {
        UdpSocket sender = UdpSocket::bind("127.0.0.1:0");
        UdpSocket receiver = UdpSocket::bind("127.0.0.1:0");

        sender.connect(receiver.local_addr());
        receiver.connect(sender.local_addr());

        co_await sender.send(msg());

        char recv_buf[32];
        std::size_t len = co_await receiver.recv(recv_buf);
        EXPECT(std::string_view(recv_buf, len) == MSG);
    }());
}

TEST_CASE("udp.send_recv_poll") {
    run([]() -> braid::Task<> {
        UdpSocket sender = UdpSocket::bind("127.0.0.1:0");
        UdpSocket receiver = UdpSocket::bind("127.0.0.1:0");

        sender.connect(receiver.local_addr());
        receiver.connect(sender.local_addr());

        EXPECT(co_await poll_send_to(sender, MSG, nullptr) == MSG_LEN);

        auto [filled, from] = co_await poll_recv_from(receiver, false);
        EXPECT(filled == MSG);
    }());
}

TEST_CASE("udp.send_to_recv_from") {
    run([]() -> braid::Task<> {
        UdpSocket sender = UdpSocket::bind("127.0.0.1:0");
        UdpSocket receiver = UdpSocket::bind("127.0.0.1:0");

        SocketAddr receiver_addr = receiver.local_addr();
        co_await sender.send_to(msg(), receiver_addr);

        char recv_buf[32];
        auto [len, addr] = co_await receiver.recv_from(recv_buf);
        EXPECT(std::string_view(recv_buf, len) == MSG);
        EXPECT(addr == sender.local_addr());
    }());
}

TEST_CASE("udp.send_to_recv_from_poll") {
    run([]() -> braid::Task<> {
        UdpSocket sender = UdpSocket::bind("127.0.0.1:0");
        UdpSocket receiver = UdpSocket::bind("127.0.0.1:0");

        SocketAddr receiver_addr = receiver.local_addr();
        co_await poll_send_to(sender, MSG, &receiver_addr);

        auto [filled, addr] = co_await poll_recv_from(receiver, false);
        EXPECT(filled == MSG);
        EXPECT(addr == sender.local_addr());
    }());
}

TEST_CASE("udp.send_to_peek_from") {
    run([]() -> braid::Task<> {
        UdpSocket sender = UdpSocket::bind("127.0.0.1:0");
        UdpSocket receiver = UdpSocket::bind("127.0.0.1:0");

        SocketAddr receiver_addr = receiver.local_addr();
        co_await poll_send_to(sender, MSG, &receiver_addr);

        // peek, twice: the datagram stays
        for (int i = 0; i < 2; ++i) {
            char recv_buf[32];
            auto [n, addr] = co_await receiver.peek_from(recv_buf);
            EXPECT(std::string_view(recv_buf, n) == MSG);
            EXPECT(addr == sender.local_addr());
        }

        char recv_buf[32];
        auto [n, addr] = co_await receiver.recv_from(recv_buf);
        EXPECT(std::string_view(recv_buf, n) == MSG);
        EXPECT(addr == sender.local_addr());
    }());
}

TEST_CASE("udp.send_to_peek_from_poll") {
    run([]() -> braid::Task<> {
        UdpSocket sender = UdpSocket::bind("127.0.0.1:0");
        UdpSocket receiver = UdpSocket::bind("127.0.0.1:0");

        SocketAddr receiver_addr = receiver.local_addr();
        co_await poll_send_to(sender, MSG, &receiver_addr);

        auto [filled, addr] = co_await poll_recv_from(receiver, true);
        EXPECT(filled == MSG);
        EXPECT(addr == sender.local_addr());

        auto [filled2, addr2] = co_await poll_recv_from(receiver, true);
        EXPECT(filled2 == MSG);

        auto [filled3, addr3] = co_await poll_recv_from(receiver, false);
        EXPECT(filled3 == MSG);
    }());
}

TEST_CASE("udp.split") {
    run([]() -> braid::Task<> {
        auto s = std::make_shared<UdpSocket>(UdpSocket::bind("127.0.0.1:0"));
        auto r = s;

        SocketAddr addr = s->local_addr();
        auto sender = braid::spawn([](std::shared_ptr<UdpSocket> s, SocketAddr addr) -> braid::Task<> {
            co_await s->send_to(msg(), addr);
        }, std::move(s), addr);

        char recv_buf[32];
        auto [len, from] = co_await r->recv_from(recv_buf);
        EXPECT(std::string_view(recv_buf, len) == MSG);
        co_await sender;
    }());
}

namespace {

using Datagram = std::pair<std::string, SocketAddr>;

// split_chan / split_chan_poll: a socket that echoes every datagram, its
// receiving task and its sending task joined by a channel.
void split_chan(bool poll) {
    run([](bool poll) -> braid::Task<> {
        auto s = std::make_shared<UdpSocket>(UdpSocket::bind("127.0.0.1:0"));
        SocketAddr addr = s->local_addr();
        auto r = s;

        auto [tx, rx] = braid::mpsc::channel<Datagram>(1000);
        auto echo_send = braid::spawn([](std::shared_ptr<UdpSocket> s, braid::mpsc::Receiver<Datagram> rx,
                                         bool poll) -> braid::Task<> {
            while (auto d = co_await rx.recv()) {
                if (poll) co_await poll_send_to(*s, d->first, &d->second);
                else co_await s->send_to(braid::io::ConstBuffer(d->first.data(), d->first.size()), d->second);
            }
        }, std::move(s), std::move(rx), poll);

        auto echo_recv = braid::spawn([](std::shared_ptr<UdpSocket> r, braid::mpsc::Sender<Datagram> tx,
                                         bool poll) -> braid::Task<> {
            for (;;) {
                Datagram d;
                if (poll) {
                    d = co_await poll_recv_from(*r, false);
                } else {
                    char buf[32];
                    auto [len, from] = co_await r->recv_from(buf);
                    d = Datagram(std::string(buf, len), from);
                }
                EXPECT(!(co_await tx.send(std::move(d))).has_value());
            }
        }, std::move(r), std::move(tx), poll);

        // a datagram sent comes back
        UdpSocket sender = UdpSocket::bind("127.0.0.1:0");
        if (poll) {
            co_await poll_send_to(sender, MSG, &addr);
            auto [filled, from] = co_await poll_recv_from(sender, false);
            EXPECT(filled == MSG);
        } else {
            co_await sender.send_to(msg(), addr);
            char recv_buf[32];
            auto [len, from] = co_await sender.recv_from(recv_buf);
            EXPECT(std::string_view(recv_buf, len) == MSG);
        }
        echo_recv.abort();
        echo_send.abort();
    }(poll));
}

}  // namespace

TEST_CASE("udp.split_chan") {
    split_chan(false);
}

TEST_CASE("udp.split_chan_poll") {
    split_chan(true);
}

namespace {
constexpr std::string_view HELLO = "hello world";

// loop { writable().await; match try_send / try_send_to { Ok(n) => break, WouldBlock => continue } }
braid::Task<> send_when_ready(UdpSocket& client, const SocketAddr* to) {
    for (;;) {
        co_await client.writable();
        auto n = to ? client.try_send_to(braid::io::ConstBuffer(HELLO.data(), HELLO.size()), *to)
                    : client.try_send(braid::io::ConstBuffer(HELLO.data(), HELLO.size()));
        if (!n) continue;
        EXPECT(*n == HELLO.size());
        co_return;
    }
}

// try_recv_from / try_recv (from NULL) into a buffer of 512 bytes, or
// (into_vector) their _buf forms into an empty vector's spare capacity of
// 512, which grows by the datagram.
std::optional<std::pair<std::size_t, SocketAddr>> try_recv_hello(UdpSocket& server, const SocketAddr* from,
                                                                 std::vector<char>& buf, bool into_vector) {
    if (into_vector) {
        buf.reserve(512);
        if (from) return server.try_recv_buf_from(buf);
        if (auto n = server.try_recv_buf(buf)) return std::make_pair(*n, SocketAddr());
        return std::nullopt;
    }
    buf.resize(512);
    if (from) return server.try_recv_from(buf);
    if (auto n = server.try_recv(buf)) return std::make_pair(*n, SocketAddr());
    return std::nullopt;
}

// loop { readable().await; match try_recv_from (or try_recv, or their _buf
// forms) { Ok => check, WouldBlock => continue } }
braid::Task<> recv_when_ready(UdpSocket& server, const SocketAddr* from, bool into_vector) {
    for (;;) {
        co_await server.readable();
        std::vector<char> buf;
        auto got = try_recv_hello(server, from, buf, into_vector);
        if (!got) {
            EXPECT(buf.empty());
            continue;
        }
        if (into_vector) EXPECT(buf.size() == got->first);
        EXPECT(got->first == HELLO.size());
        EXPECT(std::string_view(buf.data(), HELLO.size()) == HELLO);
        if (from) EXPECT(got->second == *from);
        co_return;
    }
}
// Five rounds of send_when_ready / recv_when_ready between two sockets,
// connected to each other (no addresses) or not.
braid::Task<> rounds(bool connected, bool into_vector) {
    UdpSocket server = UdpSocket::bind("127.0.0.1:0");
    SocketAddr saddr = server.local_addr();
    UdpSocket client = UdpSocket::bind("127.0.0.1:0");
    SocketAddr caddr = client.local_addr();
    if (connected) {
        client.connect(saddr);
        server.connect(caddr);
    }
    for (int i = 0; i < 5; ++i) {
        co_await send_when_ready(client, connected ? nullptr : &saddr);
        co_await recv_when_ready(server, connected ? nullptr : &caddr, into_vector);
    }
}
}  // namespace

TEST_CASE("udp.try_send_spawn") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        constexpr std::string_view MSG2 = "world!";
        UdpSocket sender = UdpSocket::bind("127.0.0.1:0");
        UdpSocket receiver = UdpSocket::bind("127.0.0.1:0");
        receiver.connect(sender.local_addr());

        co_await sender.writable();
        EXPECT(sender.try_send_to(msg(), receiver.local_addr()) == std::optional<std::size_t>(MSG_LEN));
        char buf[32];
        std::size_t bytes_received = co_await receiver.recv(buf);

        sender.connect(receiver.local_addr());
        EXPECT(sender.try_send(braid::io::ConstBuffer(MSG2.data(), MSG2.size())) ==
               std::optional<std::size_t>(MSG2.size()));
        bytes_received += co_await receiver.recv(buf);

        // From another thread, outside the runtime.
        std::thread([&] {
            EXPECT_ANYWHERE(sender.try_send(msg()) == std::optional<std::size_t>(MSG_LEN));
        }).join();
        bytes_received += co_await receiver.recv(buf);

        EXPECT(bytes_received == MSG_LEN * 2 + MSG2.size());
    }());
}

TEST_CASE("udp.try_send_recv") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on(rounds(true, false));
}

TEST_CASE("udp.try_send_to_recv_from") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on(rounds(false, false));
}

TEST_CASE("udp.try_recv_buf") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on(rounds(true, true));
}

TEST_CASE("udp.try_recv_buf_from") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on(rounds(false, true));
}

TEST_CASE("udp.poll_ready") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        UdpSocket server = UdpSocket::bind("127.0.0.1:0");
        SocketAddr saddr = server.local_addr();
        UdpSocket client = UdpSocket::bind("127.0.0.1:0");
        SocketAddr caddr = client.local_addr();
        // poll_fn(|cx| s.poll_send_ready(cx)) / poll_recv_ready.
        auto ready = [](UdpSocket& s, int interest) {
            return c_poll([&s, interest](braid_wake_fn w, void* d) {
                int bits = 0;
                return braid_udp_poll_ready(s.native_handle(), interest, w, d, &bits);
            });
        };
        for (int i = 0; i < 5; ++i) {
            for (;;) {
                co_await ready(client, BRAID_IO_WRITABLE);
                auto n = client.try_send_to(braid::io::ConstBuffer(HELLO.data(), HELLO.size()), saddr);
                if (!n) continue;
                EXPECT(*n == HELLO.size());
                break;
            }
            for (;;) {
                co_await ready(server, BRAID_IO_READABLE);
                std::vector<char> buf;
                buf.reserve(512);
                auto got = server.try_recv_buf_from(buf);
                if (!got) continue;
                EXPECT(buf.size() == HELLO.size());
                EXPECT(got->first == HELLO.size());
                EXPECT(got->second == caddr);
                EXPECT(std::string_view(buf.data(), HELLO.size()) == HELLO);
                break;
            }
        }
    }());
}

}  // namespace conformance_udp
