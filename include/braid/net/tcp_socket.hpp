// braid::net::TcpSocket: a TCP socket set up before it connects or listens
// (Tokio's TcpSocket), on the C ABI (braid/tcp.h, braid_tcp_socket_*).
//
//   auto sock = braid::net::TcpSocket::new_v4();
//   sock.set_reuseaddr(true);
//   sock.bind(SocketAddr::parse("127.0.0.1:0"));
//   TcpListener l = std::move(sock).listen(1024);
//
//   auto c = braid::net::TcpSocket::new_v4();
//   c.set_send_buffer_size(1 << 16);
//   TcpStream s = co_await std::move(c).connect(addr);
//
// Errors throw braid::IoError.  listen and connect consume the socket (it is
// empty afterwards).
#pragma once

#include <braid/io/error.hpp>
#include <braid/net/addr.hpp>
#include <braid/net/tcp.hpp>
#include <braid/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <utility>

namespace braid::net {

class TcpSocket {
public:
    TcpSocket() = default;
    explicit TcpSocket(braid_tcp_socket* s) noexcept : s_(s) {}
    TcpSocket(TcpSocket&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    TcpSocket& operator=(TcpSocket&& o) noexcept {
        if (this != &o) {
            braid_tcp_socket_free(s_);
            s_ = std::exchange(o.s_, nullptr);
        }
        return *this;
    }
    TcpSocket(const TcpSocket&) = delete;
    ~TcpSocket() { braid_tcp_socket_free(s_); }

    // A new IPv4 (IPv6) socket on the calling thread's runtime.
    static TcpSocket new_v4() { return make(AF_INET, "TcpSocket::new_v4"); }
    static TcpSocket new_v6() { return make(AF_INET6, "TcpSocket::new_v6"); }
    // Takes ownership of a TCP socket that neither listens nor is connected.
    static TcpSocket from_std(int fd) {
        braid_tcp_socket* s = nullptr;
        braid::detail::check_io(braid_tcp_socket_from_fd(&s, nullptr, fd), "TcpSocket::from_std");
        return TcpSocket(s);
    }

    void set_reuseaddr(bool on) { check(braid_tcp_socket_set_reuseaddr(native(), on), "set_reuseaddr"); }
    bool reuseaddr() const { return check(braid_tcp_socket_reuseaddr(native()), "reuseaddr") != 0; }
    void set_reuseport(bool on) { check(braid_tcp_socket_set_reuseport(native(), on), "set_reuseport"); }
    bool reuseport() const { return check(braid_tcp_socket_reuseport(native()), "reuseport") != 0; }
    // SO_SNDBUF / SO_RCVBUF; the getters report what the kernel made of it
    // (Linux doubles the value it is given).
    void set_send_buffer_size(uint32_t size) {
        check(braid_tcp_socket_set_send_buffer_size(native(), int(size)), "set_send_buffer_size");
    }
    uint32_t send_buffer_size() const {
        return uint32_t(check(braid_tcp_socket_send_buffer_size(native()), "send_buffer_size"));
    }
    void set_recv_buffer_size(uint32_t size) {
        check(braid_tcp_socket_set_recv_buffer_size(native(), int(size)), "set_recv_buffer_size");
    }
    uint32_t recv_buffer_size() const {
        return uint32_t(check(braid_tcp_socket_recv_buffer_size(native()), "recv_buffer_size"));
    }
    void set_nodelay(bool on) { check(braid_tcp_socket_set_nodelay(native(), on), "set_nodelay"); }
    bool nodelay() const { return check(braid_tcp_socket_nodelay(native()), "nodelay") != 0; }
    void set_keepalive(bool on) { check(braid_tcp_socket_set_keepalive(native(), on), "set_keepalive"); }
    bool keepalive() const { return check(braid_tcp_socket_keepalive(native()), "keepalive") != 0; }
    // SO_LINGER, as TcpStream::set_linger.
    void set_linger(std::optional<std::chrono::seconds> d) {
        check(braid_tcp_socket_set_linger(native(), d ? int(d->count()) : -1), "set_linger");
    }
    std::optional<std::chrono::seconds> linger() const {
        int v = -1;
        check(braid_tcp_socket_linger(native(), &v), "linger");
        if (v < 0) return std::nullopt;
        return std::chrono::seconds(v);
    }

    void bind(const SocketAddr& addr) {
        check(braid_tcp_socket_bind(native(), addr.as_sockaddr(), addr.size()), "TcpSocket::bind");
    }
    SocketAddr local_addr() const {
        SocketAddr a;
        check(braid_tcp_socket_local_addr(native(), a.storage(), a.size_ptr()), "local_addr");
        return a;
    }

    // Listens; the socket becomes the listener.
    TcpListener listen(int backlog = 1024) {
        braid_tcp_listener* l = nullptr;
        check(braid_tcp_socket_listen(native(), backlog, &l), "TcpSocket::listen");
        s_ = nullptr;
        return TcpListener(l);
    }
    // Connects; the socket becomes the stream (cancelling the connect
    // closes it).
    TcpStream::ConnectAwaiter connect(const SocketAddr& addr) {
        native();  // throws when empty
        return TcpStream::ConnectAwaiter(std::exchange(s_, nullptr), addr);
    }

    int fd() const { return braid_tcp_socket_fd(native()); }
    braid_tcp_socket* native_handle() const noexcept { return s_; }

private:
    static TcpSocket make(int family, const char* what) {
        braid_tcp_socket* s = nullptr;
        braid::detail::check_io(braid_tcp_socket_new(&s, nullptr, family), what);
        return TcpSocket(s);
    }
    static int check(int rc, const char* what) { return braid::detail::check_io(rc, what); }
    braid_tcp_socket* native() const {
        if (!s_) throw IoError(BRAID_ECLOSED, 0, "TcpSocket: empty, moved-from, or consumed");
        return s_;
    }
    braid_tcp_socket* s_ = nullptr;
};

}  // namespace braid::net
