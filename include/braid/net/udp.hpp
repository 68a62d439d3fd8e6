// braid::net::UdpSocket: UDP over IPv4 and IPv6 on the C ABI (braid/udp.h).
//
//   auto sock = braid::net::UdpSocket::bind("127.0.0.1:0");
//   co_await sock.send_to(data, peer);
//   auto [n, from] = co_await sock.recv_from(buf);     // cancel-safe
//   sock.connect(peer);  co_await sock.send(data);  std::size_t m = co_await sock.recv(buf);
//
// Errors throw braid::IoError.
#pragma once

#include <braid/detail/context.hpp>
#include <braid/detail/io_awaiter.hpp>
#include <braid/detail/std_fd.hpp>
#include <braid/io/buffer.hpp>
#include <braid/io/error.hpp>
#include <braid/net/addr.hpp>
#include <braid/net/recv_buf.hpp>
#include <braid/io/ready.hpp>
#include <braid/udp.h>

#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace braid::net {

class UdpSocket : public detail::RecvBuf<UdpSocket> {
public:
    // Sends one datagram (to `to`, or the connected peer).  Cancel-safe: a
    // pending send sent nothing.
    class [[nodiscard]] SendAwaiter : public braid::detail::LeafAwaiter<SendAwaiter> {
    public:
        SendAwaiter(braid_udp_socket* s, io::ConstBuffer b, std::optional<SocketAddr> to)
            : s_(s), b_(b), to_(std::move(to)) {}
        SendAwaiter(SendAwaiter&& o) noexcept : s_(std::exchange(o.s_, nullptr)), b_(o.b_), to_(o.to_) {}
        ~SendAwaiter() {
            unregister();
        }
        // Drops the waker; nothing was sent.
        void unregister() noexcept {
            if (registered_) drop_waker();
            registered_ = nullptr;
        }
        bool ready_now() const { return false; }
        int poll(braid_wake_fn w, void* d) {
            int rc = braid_udp_poll_send_to(s_, b_.data, b_.size, to_ ? to_->as_sockaddr() : nullptr,
                                            to_ ? to_->size() : 0, w, d, &n_);
            if (registered_ && (rc != BRAID_PENDING || registered_ != d)) drop_waker();
            registered_ = rc == BRAID_PENDING ? d : nullptr;
            if (rc < 0) os_ = braid::detail::os_error_of(rc);
            return rc;
        }
        std::size_t finish(int st) {
            if (st < 0) braid::detail::throw_io(st, os_, "UdpSocket::send");
            return n_;
        }

    private:
        void drop_waker() noexcept {
            std::size_t n;
            braid_udp_poll_send_to(s_, nullptr, 0, nullptr, 0, nullptr, registered_, &n);
        }
        braid_udp_socket* s_;
        io::ConstBuffer b_;
        std::optional<SocketAddr> to_;
        std::size_t n_ = 0;
        int os_ = 0;
        void* registered_ = nullptr;  // the wake_data of our registration
    };

    // Receives one datagram and its sender.  Cancel-safe.
    class [[nodiscard]] RecvAwaiter : public braid::detail::LeafAwaiter<RecvAwaiter> {
    public:
        RecvAwaiter(braid_udp_socket* s, io::MutableBuffer b, bool peek) : s_(s), b_(b), peek_(peek) {}
        RecvAwaiter(RecvAwaiter&& o) noexcept : s_(std::exchange(o.s_, nullptr)), b_(o.b_), peek_(o.peek_) {}
        ~RecvAwaiter() {
            unregister();
        }
        // Drops the waker; nothing was received.
        void unregister() noexcept {
            if (registered_) drop_waker();
            registered_ = nullptr;
        }
        bool ready_now() const { return false; }
        int poll(braid_wake_fn w, void* d) {
            auto fn = peek_ ? &braid_udp_poll_peek_from : &braid_udp_poll_recv_from;
            int rc = fn(s_, b_.data, b_.size, from_.storage(), from_.size_ptr(), w, d, &n_);
            if (registered_ && (rc != BRAID_PENDING || registered_ != d)) drop_waker();
            registered_ = rc == BRAID_PENDING ? d : nullptr;
            if (rc < 0) os_ = braid::detail::os_error_of(rc);
            return rc;
        }
        std::pair<std::size_t, SocketAddr> finish(int st) {
            if (st < 0) braid::detail::throw_io(st, os_, "UdpSocket::recv");
            return {n_, from_};
        }

    private:
        void drop_waker() noexcept {
            std::size_t n;
            braid_udp_poll_recv_from(s_, nullptr, 0, nullptr, nullptr, nullptr, registered_, &n);
        }
        braid_udp_socket* s_;
        io::MutableBuffer b_;
        bool peek_;
        SocketAddr from_;
        std::size_t n_ = 0;
        int os_ = 0;
        void* registered_ = nullptr;  // the wake_data of our registration
    };

    // recv(): the size alone.
    using RecvSize = braid::detail::FirstOf<RecvAwaiter>;

    UdpSocket() = default;
    explicit UdpSocket(braid_udp_socket* s) noexcept : s_(s) {}
    UdpSocket(UdpSocket&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    UdpSocket& operator=(UdpSocket&& o) noexcept {
        if (this != &o) {
            braid_udp_free(s_);
            s_ = std::exchange(o.s_, nullptr);
        }
        return *this;
    }
    UdpSocket(const UdpSocket&) = delete;
    ~UdpSocket() { braid_udp_free(s_); }

    // Binds (port 0: any free port) on the calling thread's runtime.
    static UdpSocket bind(const SocketAddr& addr) {
        braid_udp_socket* s = nullptr;
        braid::detail::check_io(braid_udp_bind(&s, nullptr, addr.as_sockaddr(), addr.size()), "UdpSocket::bind");
        return UdpSocket(s);
    }
    static UdpSocket bind(std::string_view addr) { return bind(SocketAddr::parse(addr)); }

    // Sets the default peer (send/recv) and filters what is received.
    void connect(const SocketAddr& peer) {
        braid::detail::check_io(braid_udp_connect(native(), peer.as_sockaddr(), peer.size()), "UdpSocket::connect");
    }

    SendAwaiter send_to(io::ConstBuffer b, const SocketAddr& to) { return SendAwaiter(native(), b, to); }
    SendAwaiter send(io::ConstBuffer b) { return SendAwaiter(native(), b, std::nullopt); }
    RecvAwaiter recv_from(io::MutableBuffer b) { return RecvAwaiter(native(), b, false); }
    RecvAwaiter peek_from(io::MutableBuffer b) { return RecvAwaiter(native(), b, true); }
    RecvSize recv(io::MutableBuffer b) { return RecvSize{RecvAwaiter(native(), b, false)}; }

    // Readiness (braid/io/ready.hpp): Readable, Writable or both.  Cancel-safe.
    using ReadyAwaiter = braid::detail::ReadyAwaiter<braid_udp_socket, &braid_udp_poll_ready>;
    ReadyAwaiter ready(int interest) { return ReadyAwaiter(native(), interest, "UdpSocket::ready"); }
    ReadyAwaiter readable() { return ready(braid::Readable); }
    ReadyAwaiter writable() { return ready(braid::Writable); }
    // Attempts that never wait: nullopt when the socket is not ready (that
    // readiness is forgotten); IoError for failures.
    std::optional<std::size_t> try_send_to(io::ConstBuffer b, const SocketAddr& to) {
        std::size_t n = 0;
        int rc = braid_udp_try_send_to(native(), b.data, b.size, to.as_sockaddr(), to.size(), &n);
        return braid::detail::attempt(rc, n, "UdpSocket::try_send_to");
    }
    std::optional<std::size_t> try_send(io::ConstBuffer b) {
        std::size_t n = 0;
        return braid::detail::attempt(braid_udp_try_send_to(native(), b.data, b.size, nullptr, 0, &n), n,
                                      "UdpSocket::try_send");
    }
    std::optional<std::pair<std::size_t, SocketAddr>> try_recv_from(io::MutableBuffer b) {
        return try_take(b, &braid_udp_try_recv_from, "UdpSocket::try_recv_from");
    }
    std::optional<std::pair<std::size_t, SocketAddr>> try_peek_from(io::MutableBuffer b) {
        return try_take(b, &braid_udp_try_peek_from, "UdpSocket::try_peek_from");
    }
    std::optional<std::size_t> try_recv(io::MutableBuffer b) {
        auto r = try_take(b, &braid_udp_try_recv_from, "UdpSocket::try_recv");
        if (!r) return std::nullopt;
        return r->first;
    }
    // try_recv_buf(out), try_recv_buf_from(out): net::detail::RecvBuf
    // (braid/net/recv_buf.hpp).

    SocketAddr local_addr() const {
        SocketAddr a;
        braid::detail::check_io(braid_udp_local_addr(native(), a.storage(), a.size_ptr()), "local_addr");
        return a;
    }
    SocketAddr peer_addr() const {
        SocketAddr a;
        braid::detail::check_io(braid_udp_peer_addr(native(), a.storage(), a.size_ptr()), "peer_addr");
        return a;
    }
    void set_broadcast(bool on) { braid::detail::check_io(braid_udp_set_broadcast(native(), on), "set_broadcast"); }
    bool broadcast() const { return braid::detail::check_io(braid_udp_broadcast(native()), "broadcast") != 0; }
    // Multicast group membership (`group`'s port is ignored; ifindex 0: the
    // system's choice of interface).
    void join_multicast(const SocketAddr& group, unsigned ifindex = 0) {
        braid::detail::check_io(braid_udp_join_multicast(native(), group.as_sockaddr(), group.size(), ifindex),
                                "join_multicast");
    }
    void leave_multicast(const SocketAddr& group, unsigned ifindex = 0) {
        braid::detail::check_io(braid_udp_leave_multicast(native(), group.as_sockaddr(), group.size(), ifindex),
                                "leave_multicast");
    }
    void set_multicast_loop(bool on) {
        braid::detail::check_io(braid_udp_set_multicast_loop(native(), on), "set_multicast_loop");
    }
    void set_multicast_ttl(int ttl) {
        braid::detail::check_io(braid_udp_set_multicast_ttl(native(), ttl), "set_multicast_ttl");
    }
    void set_ttl(int ttl) { braid::detail::check_io(braid_udp_set_ttl(native(), ttl), "set_ttl"); }

    void close() {
        if (s_) braid_udp_close(s_);
    }
    int fd() const { return braid_udp_fd(native()); }
    braid_udp_socket* native_handle() const noexcept { return s_; }

    // Tokio's from_std: takes ownership of a UDP socket (AF_INET or AF_INET6;
    // bound or not) (made non-blocking here) on the calling thread's runtime.
    // Throws IoError (BRAID_EBADF: not an open socket; BRAID_EINVAL: another
    // kind of socket, or no runtime on this thread); then the fd is still the
    // caller's.
    static UdpSocket from_std(int fd) {
        return braid::detail::adopt_std_fd<UdpSocket>(&braid_udp_from_fd, fd, "UdpSocket::from_std");
    }
    // Tokio's into_std: the socket as a plain fd (still non-blocking; the
    // caller's to close); this is left empty.
    int into_std() { return braid::detail::release_std_fd(s_, &braid_udp_into_fd, "UdpSocket::into_std"); }

private:
    using TakeFn = int (*)(braid_udp_socket*, void*, size_t, sockaddr_storage*, size_t*, size_t*);
    std::optional<std::pair<std::size_t, SocketAddr>> try_take(io::MutableBuffer b, TakeFn fn, const char* what) {
        SocketAddr from;
        std::size_t n = 0;
        auto got = braid::detail::attempt(fn(native(), b.data, b.size, from.storage(), from.size_ptr(), &n), n, what);
        if (!got) return std::nullopt;
        return std::make_pair(n, from);
    }
    braid_udp_socket* native() const {
        if (!s_) throw IoError(BRAID_ECLOSED, 0, "UdpSocket: empty or moved-from");
        return s_;
    }
    braid_udp_socket* s_ = nullptr;
};

}  // namespace braid::net
