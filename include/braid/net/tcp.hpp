// braid::net::TcpListener and TcpStream: TCP over IPv4 and IPv6, on the C ABI
// (braid/tcp.h).  Readiness-based: each operation makes the non-blocking
// syscall at once and waits for the reactor only when it would block.
//
//   auto listener = braid::net::TcpListener::bind("127.0.0.1:0");
//   auto [conn, peer] = co_await listener.accept();
//   auto s = co_await braid::net::TcpStream::connect(listener.local_addr());
//   auto s2 = co_await braid::timeout(1s, braid::net::TcpStream::connect(addr));   // nullopt: timed out
//   std::size_t n = co_await s.read(buf);       // 0: end of file; cancel-safe
//   co_await s.write_all(data);                 // not cancel-safe (see docs/cancellation.md)
//
// Errors throw braid::IoError (a braid::Error with the errno): for example
// BRAID_ECONNREFUSED, BRAID_EADDRINUSE, BRAID_ECONNRESET, BRAID_EEOF (end of
// file inside read_exact), BRAID_ECLOSED (used after close()).
#pragma once

#include <braid/detail/context.hpp>
#include <braid/detail/io_awaiter.hpp>
#include <braid/detail/std_fd.hpp>
#include <braid/io/buffer.hpp>
#include <braid/io/byte_stream.hpp>
#include <braid/io/error.hpp>
#include <braid/io/split.hpp>
#include <braid/net/addr.hpp>
#include <braid/net/dns.hpp>
#include <braid/stream/generator.hpp>
#include <braid/task.hpp>
#include <braid/tcp.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>
#include <string_view>
#include <utility>

namespace braid::net {

class TcpStream : public io::ByteReader<TcpStream>, public io::ByteWriter<TcpStream>, public io::ByteReadiness<TcpStream> {
public:
    using PeekAwaiter = braid::detail::XferAwaiter<braid_tcp_stream, &braid_tcp_stream_poll_peek, false>;

    // Completes with the connected stream.  Cancelling it (a timeout, a
    // select) closes the half-open socket.  Kept and raced again after it
    // completed (a select loop passing it by lvalue), the address form
    // connects anew; the TcpSocket form fails with BRAID_EINVAL (its socket
    // became the first stream).
    class [[nodiscard]] ConnectAwaiter : public braid::detail::LeafAwaiter<ConnectAwaiter> {
    public:
        explicit ConnectAwaiter(SocketAddr a) : addr_(a) {}
        // From a socket set up beforehand (TcpSocket::connect): the
        // awaiter owns it until the connect starts.
        ConnectAwaiter(braid_tcp_socket* sock, SocketAddr a) : addr_(a), sock_(sock), from_socket_(true) {}
        ConnectAwaiter(ConnectAwaiter&& o) noexcept
            : addr_(o.addr_), s_(std::exchange(o.s_, nullptr)), sock_(std::exchange(o.sock_, nullptr)),
              started_(o.started_), from_socket_(o.from_socket_) {}
        ConnectAwaiter(const ConnectAwaiter&) = delete;
        ~ConnectAwaiter() {
            unregister();
            braid_tcp_stream_free(s_);
            braid_tcp_socket_free(sock_);
        }
        // Drops the waker; the connect goes on.
        void unregister() noexcept {
            if (s_ && registered_) braid_tcp_stream_poll_connect(s_, nullptr, registered_);
            registered_ = nullptr;
        }
        bool ready_now() const { return false; }
        int poll(braid_wake_fn w, void* d) {
            if (!started_) {
                started_ = true;
                int rc = sock_ ? braid_tcp_socket_connect_start(sock_, addr_.as_sockaddr(), addr_.size(), &s_)
                               : braid_tcp_stream_connect_start(&s_, nullptr, addr_.as_sockaddr(), addr_.size());
                if (sock_ && rc >= 0) sock_ = nullptr;  // the stream's now
                if (rc < 0) return fail(rc);
            }
            int rc = braid_tcp_stream_poll_connect(s_, w, d);
            if (registered_ && (rc != BRAID_PENDING || registered_ != d)) braid_tcp_stream_poll_connect(s_, nullptr, registered_);
            registered_ = rc == BRAID_PENDING ? d : nullptr;
            return rc < 0 ? fail(rc) : rc;
        }
        TcpStream finish(int st) {
            if (!from_socket_) started_ = false;  // raced again: a new connect
            if (st < 0) {
                braid_tcp_stream_free(std::exchange(s_, nullptr));
                braid_tcp_socket_free(std::exchange(sock_, nullptr));  // a socket whose connect never started
                braid::detail::throw_io(st, os_error_, "TcpStream::connect");
            }
            return TcpStream(std::exchange(s_, nullptr));
        }

    private:
        int fail(int rc) {
            os_error_ = braid::detail::os_error_of(rc);
            return rc;
        }
        SocketAddr addr_;
        braid_tcp_stream* s_ = nullptr;
        braid_tcp_socket* sock_ = nullptr;
        bool started_ = false;
        bool from_socket_ = false;
        void* registered_ = nullptr;  // the wake_data of our registration
        int os_error_ = 0;
    };

    TcpStream() = default;
    explicit TcpStream(braid_tcp_stream* s) noexcept : s_(s) {}
    TcpStream(TcpStream&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    TcpStream& operator=(TcpStream&& o) noexcept {
        if (this != &o) {
            braid_tcp_stream_free(s_);
            s_ = std::exchange(o.s_, nullptr);
        }
        return *this;
    }
    TcpStream(const TcpStream&) = delete;
    ~TcpStream() { braid_tcp_stream_free(s_); }

    // Connects to `addr` (IPv4 or IPv6).  With a time limit:
    // co_await braid::timeout(d, TcpStream::connect(addr)).
    static ConnectAwaiter connect(const SocketAddr& addr) { return ConnectAwaiter(addr); }
    // "1.2.3.4:80", "[::1]:80" or "localhost:8080": a name is resolved
    // (lookup_host) and its addresses are tried in order; the last failure
    // is thrown when none connects.
    static Task<TcpStream> connect(std::string host_port);
    static Task<TcpStream> connect(std::string host, uint16_t port);

    // read, read_exact, write, write_all, flush, shutdown, shutdown_write:
    // io::ByteReader and io::ByteWriter (braid/io/byte_stream.hpp).
    // Like read, but the bytes stay in the socket.  Cancel-safe.
    PeekAwaiter peek(io::MutableBuffer b) { return PeekAwaiter(native(), b.data, b.size, "TcpStream::peek"); }

    void set_nodelay(bool on) { braid::detail::check_io(braid_tcp_stream_set_nodelay(native(), on), "set_nodelay"); }
    bool nodelay() const { return braid::detail::check_io(braid_tcp_stream_nodelay(native()), "nodelay") != 0; }
    void set_keepalive(bool on) {
        braid::detail::check_io(braid_tcp_stream_set_keepalive(native(), on), "set_keepalive");
    }
    bool keepalive() const { return braid::detail::check_io(braid_tcp_stream_keepalive(native()), "keepalive") != 0; }
    // SO_LINGER: a duration (whole seconds) turns it on (zero: closing
    // resets the connection), nullopt turns it off.
    void set_linger(std::optional<std::chrono::seconds> d) {
        braid::detail::check_io(braid_tcp_stream_set_linger(native(), d ? int(d->count()) : -1), "set_linger");
    }
    std::optional<std::chrono::seconds> linger() const {
        int v = -1;
        braid::detail::check_io(braid_tcp_stream_linger(native(), &v), "linger");
        if (v < 0) return std::nullopt;
        return std::chrono::seconds(v);
    }
    // The IP time-to-live (IPv6: the hop limit), 1..255.
    void set_ttl(int ttl) { braid::detail::check_io(braid_tcp_stream_set_ttl(native(), ttl), "set_ttl"); }
    int ttl() const { return braid::detail::check_io(braid_tcp_stream_ttl(native()), "ttl"); }
    SocketAddr local_addr() const {
        SocketAddr a;
        braid::detail::check_io(braid_tcp_stream_local_addr(native(), a.storage(), a.size_ptr()), "local_addr");
        return a;
    }
    SocketAddr peer_addr() const {
        SocketAddr a;
        braid::detail::check_io(braid_tcp_stream_peer_addr(native(), a.storage(), a.size_ptr()), "peer_addr");
        return a;
    }

    // Closes the connection; later operations throw IoError(BRAID_ECLOSED).
    void close() {
        if (s_) braid_tcp_stream_close(s_);
    }
    bool valid() const noexcept { return s_ != nullptr; }
    int fd() const { return braid_tcp_stream_fd(native()); }
    braid_tcp_stream* native_handle() const noexcept { return s_; }

    // Tokio's from_std: takes ownership of a connected TCP socket (made
    // non-blocking here) on the calling thread's runtime.  Throws IoError
    // (BRAID_EBADF, BRAID_EINVAL for another kind of socket); then the fd
    // is still the caller's.
    static TcpStream from_std(int fd) {
        return braid::detail::adopt_std_fd<TcpStream>(&braid_tcp_stream_from_fd, fd, "TcpStream::from_std");
    }
    // Tokio's into_std: the socket as a plain fd (still non-blocking; the
    // caller's to close); the stream is left empty.
    int into_std() { return braid::detail::release_std_fd(s_, &braid_tcp_stream_into_fd, "TcpStream::into_std"); }

private:
    friend class io::ByteReader<TcpStream>;
    friend class io::ByteWriter<TcpStream>;
    friend class io::ByteReadiness<TcpStream>;
    static constexpr io::StreamNames names{"TcpStream::read", "TcpStream::read_exact", "TcpStream::write",
                                           "TcpStream::write_all", "TcpStream::shutdown"};
    braid_tcp_stream* native() const {
        if (!s_) throw IoError(BRAID_ECLOSED, 0, "TcpStream: empty or moved-from");
        return s_;
    }
    braid_byte_stream* byte_stream() const { return braid_tcp_stream_as_byte_stream(native()); }
    braid_tcp_stream* s_ = nullptr;
};

namespace detail {
// One connect attempt whose failure is a value (no co_await inside a try in
// the caller's loop: g++ 12 mishandles that shape).
inline Task<std::pair<TcpStream, int>> try_connect(SocketAddr a) {
    try {
        co_return std::make_pair(co_await TcpStream::connect(a), 0);
    } catch (const braid::Error& e) {
        co_return std::make_pair(TcpStream(), e.code());
    }
}
inline Task<TcpStream> connect_any(std::vector<SocketAddr> addrs, std::string what) {
    int last = BRAID_ENOTFOUND;
    for (const SocketAddr& a : addrs) {
        auto [s, code] = co_await try_connect(a);
        if (code == 0) co_return std::move(s);
        last = code;
    }
    throw IoError(last, 0, "TcpStream::connect(" + what + ")");
}
}  // namespace detail

inline Task<TcpStream> TcpStream::connect(std::string host, uint16_t port) {
    std::vector<SocketAddr> addrs = co_await lookup_host(host, port);
    co_return co_await detail::connect_any(std::move(addrs), host + ":" + std::to_string(port));
}

namespace detail {
// "1.2.3.4:80" as itself, "name:port" through lookup_host.
inline Task<std::vector<SocketAddr>> resolve_text(std::string text) {
    SocketAddr numeric;
    if (braid_addr_parse(numeric.storage(), numeric.size_ptr(), text.c_str()) == BRAID_OK)
        co_return std::vector<SocketAddr>{numeric};
    auto [host, port] = split_host_port(text);
    co_return co_await lookup_host(host, port);
}
}  // namespace detail

inline Task<TcpStream> TcpStream::connect(std::string text) {
    std::vector<SocketAddr> addrs = co_await detail::resolve_text(text);
    co_return co_await detail::connect_any(std::move(addrs), text);
}

class TcpListener {
public:
    // Completes with the next connection and its peer's address.
    class [[nodiscard]] AcceptAwaiter : public braid::detail::LeafAwaiter<AcceptAwaiter> {
    public:
        explicit AcceptAwaiter(braid_tcp_listener* l) : l_(l) {}
        AcceptAwaiter(AcceptAwaiter&& o) noexcept : l_(std::exchange(o.l_, nullptr)), s_(std::exchange(o.s_, nullptr)) {}
        AcceptAwaiter(const AcceptAwaiter&) = delete;
        ~AcceptAwaiter() {
            unregister();
            braid_tcp_stream_free(s_);
        }
        // Drops the waker; a connection not taken stays in the backlog.
        void unregister() noexcept {
            if (registered_) braid_tcp_listener_poll_accept(l_, nullptr, nullptr, nullptr, nullptr, registered_);
            registered_ = nullptr;
        }
        bool ready_now() const { return false; }
        int poll(braid_wake_fn w, void* d) {
            int rc = braid_tcp_listener_poll_accept(l_, &s_, peer_.storage(), peer_.size_ptr(), w, d);
            if (registered_ && (rc != BRAID_PENDING || registered_ != d))
                braid_tcp_listener_poll_accept(l_, nullptr, nullptr, nullptr, nullptr, registered_);
            registered_ = rc == BRAID_PENDING ? d : nullptr;
            if (rc < 0) os_error_ = braid::detail::os_error_of(rc);
            return rc;
        }
        std::pair<TcpStream, SocketAddr> finish(int st) {
            if (st < 0) braid::detail::throw_io(st, os_error_, "TcpListener::accept");
            return {TcpStream(std::exchange(s_, nullptr)), peer_};
        }

    private:
        braid_tcp_listener* l_;
        braid_tcp_stream* s_ = nullptr;
        SocketAddr peer_;
        void* registered_ = nullptr;  // the wake_data of our registration
        int os_error_ = 0;
    };

    TcpListener() = default;
    explicit TcpListener(braid_tcp_listener* l) noexcept : l_(l) {}
    TcpListener(TcpListener&& o) noexcept : l_(std::exchange(o.l_, nullptr)) {}
    TcpListener& operator=(TcpListener&& o) noexcept {
        if (this != &o) {
            braid_tcp_listener_free(l_);
            l_ = std::exchange(o.l_, nullptr);
        }
        return *this;
    }
    TcpListener(const TcpListener&) = delete;
    ~TcpListener() { braid_tcp_listener_free(l_); }

    // Binds and listens (SO_REUSEADDR on) on the calling thread's runtime.
    // Throws IoError: BRAID_EADDRINUSE, BRAID_EADDRNOTAVAIL, BRAID_EACCES, ...
    static TcpListener bind(const SocketAddr& addr, int backlog = 1024) {
        braid_tcp_listener* l = nullptr;
        braid::detail::check_io(braid_tcp_listener_bind(&l, nullptr, addr.as_sockaddr(), addr.size(), backlog),
                                "TcpListener::bind");
        return TcpListener(l);
    }
    // "127.0.0.1:0", "[::1]:8080".
    static TcpListener bind(std::string_view addr, int backlog = 1024) { return bind(SocketAddr::parse(addr), backlog); }

    // The next connection.  Cancel-safe: a connection not yet taken stays
    // in the backlog.  Several tasks may accept at once (each connection
    // goes to one).  A connection that failed before it was accepted
    // (ECONNABORTED, ...) is skipped, not thrown.  Throws IoError:
    // BRAID_EMFILE (out of file descriptors: transient, the connection stays
    // queued; sleep briefly and accept again), BRAID_ENOMEM (transient too),
    // BRAID_ECLOSED (closed: stop), BRAID_ESHUTDOWN (the runtime stops).
    // docs/io.md shows an accept loop that survives them.
    AcceptAwaiter accept() { return AcceptAwaiter(native()); }
    // The connections as a stream (Tokio's TcpListenerStream); an accept
    // error (BRAID_EMFILE too) ends it by throwing from next(): a server
    // that must survive running out of fds loops on accept() instead.  The
    // listener must outlive it.
    braid::Stream<TcpStream> incoming() {
        return [](TcpListener& l) -> braid::Stream<TcpStream> {
            for (;;) {
                auto [s, peer] = co_await l.accept();
                co_yield std::move(s);
            }
        }(*this);
    }
    SocketAddr local_addr() const {
        SocketAddr a;
        braid::detail::check_io(braid_tcp_listener_local_addr(native(), a.storage(), a.size_ptr()), "local_addr");
        return a;
    }
    // Stops listening; accept then throws IoError(BRAID_ECLOSED).
    void close() {
        if (l_) braid_tcp_listener_close(l_);
    }
    int fd() const { return braid_tcp_listener_fd(native()); }
    braid_tcp_listener* native_handle() const noexcept { return l_; }

    // Tokio's from_std: takes ownership of a listening TCP socket.
    static TcpListener from_std(int fd) {
        return braid::detail::adopt_std_fd<TcpListener>(&braid_tcp_listener_from_fd, fd, "TcpListener::from_std");
    }
    // Tokio's into_std: the listening socket as a plain fd (still
    // non-blocking; the caller's to close); the listener is left empty.
    int into_std() {
        return braid::detail::release_std_fd(l_, &braid_tcp_listener_into_fd, "TcpListener::into_std");
    }

    // Tokio's TcpListener::bind((host, port)): "localhost:8080" or a numeric
    // address; a name is resolved (lookup_host) and the first of its
    // addresses that binds is taken.  Throws the last failure when none
    // does (BRAID_ENOTFOUND: no such name).  The backlog is 1024 (the
    // host and port form takes another).
    static Task<TcpListener> bind_host(std::string host_port);
    static Task<TcpListener> bind_host(std::string host, uint16_t port, int backlog = 1024);

private:
    braid_tcp_listener* native() const {
        if (!l_) throw IoError(BRAID_ECLOSED, 0, "TcpListener: empty or moved-from");
        return l_;
    }
    braid_tcp_listener* l_ = nullptr;
};

namespace detail {
// The first address of addrs that binds, or the last failure.
inline TcpListener bind_any(const std::vector<SocketAddr>& addrs, int backlog, const std::string& what) {
    int last = BRAID_ENOTFOUND;
    int os = 0;
    for (const SocketAddr& a : addrs) {
        braid_tcp_listener* l = nullptr;
        int rc = braid_tcp_listener_bind(&l, nullptr, a.as_sockaddr(), a.size(), backlog);
        if (rc == BRAID_OK) return TcpListener(l);
        last = rc;
        os = braid::detail::os_error_of(rc);
    }
    throw IoError(last, os, "TcpListener::bind(" + what + ")");
}
}  // namespace detail

inline Task<TcpListener> TcpListener::bind_host(std::string host, uint16_t port, int backlog) {
    std::vector<SocketAddr> addrs = co_await lookup_host(host, port);
    co_return detail::bind_any(addrs, backlog, host + ":" + std::to_string(port));
}

inline Task<TcpListener> TcpListener::bind_host(std::string text) {
    std::vector<SocketAddr> addrs = co_await detail::resolve_text(text);
    co_return detail::bind_any(addrs, 1024, text);
}

}  // namespace braid::net
