// braid::net::UnixListener, UnixStream and UnixDatagram: Unix domain sockets
// on the C ABI (braid/unix_socket.h).  Paths starting with '@' are in the
// abstract namespace.  A path with an embedded NUL throws
// braid::Error(BRAID_EINVAL).
//
//   auto l = braid::net::UnixListener::bind("/tmp/app.sock");
//   auto c = co_await braid::net::UnixStream::connect("/tmp/app.sock");
//   auto [s, _] = co_await l.accept();
//   auto [a, b] = braid::net::UnixStream::pair();
#pragma once

#include <braid/detail/context.hpp>
#include <braid/detail/io_awaiter.hpp>
#include <braid/detail/std_fd.hpp>
#include <braid/io/buffer.hpp>
#include <braid/io/byte_stream.hpp>
#include <braid/io/error.hpp>
#include <braid/io/ready.hpp>
#include <braid/net/addr.hpp>
#include <braid/net/recv_buf.hpp>
#include <braid/stream/generator.hpp>
#include <braid/unix_socket.h>

#include <coroutine>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace braid::net {

namespace detail {
// A NUL-terminated copy of path; BRAID_EINVAL for an embedded NUL.
inline std::string c_path(std::string_view p) {
    if (p.find('\0') != std::string_view::npos) throw IoError(BRAID_EINVAL, 0, "path with an embedded NUL");
    return std::string(p);
}
}  // namespace detail

class UnixStream : public io::ByteReader<UnixStream>, public io::ByteWriter<UnixStream>, public io::ByteReadiness<UnixStream> {
public:
    // Completes with the connected stream; kept and raced again after it
    // completed (a select loop passing it by lvalue), it connects anew.
    class [[nodiscard]] ConnectAwaiter : public braid::detail::LeafAwaiter<ConnectAwaiter> {
    public:
        explicit ConnectAwaiter(std::string path) : path_(std::move(path)) {}
        ConnectAwaiter(ConnectAwaiter&& o) noexcept
            : path_(std::move(o.path_)), s_(std::exchange(o.s_, nullptr)), started_(o.started_) {}
        ~ConnectAwaiter() {
            unregister();
            braid_unix_stream_free(s_);
        }
        // Drops the waker; the connect goes on.
        void unregister() noexcept {
            if (s_ && registered_) braid_unix_stream_poll_connect(s_, nullptr, registered_);
            registered_ = nullptr;
        }
        bool ready_now() const { return false; }
        int poll(braid_wake_fn w, void* d) {
            if (!started_) {
                started_ = true;
                int rc = braid_unix_stream_connect_start(&s_, nullptr, path_.c_str());
                if (rc < 0) return fail(rc);
            }
            int rc = braid_unix_stream_poll_connect(s_, w, d);
            if (registered_ && (rc != BRAID_PENDING || registered_ != d)) braid_unix_stream_poll_connect(s_, nullptr, registered_);
            registered_ = rc == BRAID_PENDING ? d : nullptr;
            return rc < 0 ? fail(rc) : rc;
        }
        UnixStream finish(int st) {
            started_ = false;  // raced again: a new connect
            if (st < 0) {
                braid_unix_stream_free(std::exchange(s_, nullptr));
                braid::detail::throw_io(st, os_, ("UnixStream::connect(" + path_ + ")").c_str());
            }
            return UnixStream(std::exchange(s_, nullptr));
        }

    private:
        int fail(int rc) {
            os_ = braid::detail::os_error_of(rc);
            return rc;
        }
        std::string path_;
        braid_unix_stream* s_ = nullptr;
        bool started_ = false;
        void* registered_ = nullptr;  // the wake_data of our registration
        int os_ = 0;
    };

    UnixStream() = default;
    explicit UnixStream(braid_unix_stream* s) noexcept : s_(s) {}
    UnixStream(UnixStream&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    UnixStream& operator=(UnixStream&& o) noexcept {
        if (this != &o) {
            braid_unix_stream_free(s_);
            s_ = std::exchange(o.s_, nullptr);
        }
        return *this;
    }
    UnixStream(const UnixStream&) = delete;
    ~UnixStream() { braid_unix_stream_free(s_); }

    static ConnectAwaiter connect(std::string_view path) { return ConnectAwaiter(detail::c_path(path)); }
    // A connected pair (socketpair) on the calling thread's runtime.
    static std::pair<UnixStream, UnixStream> pair() {
        braid_unix_stream *a = nullptr, *b = nullptr;
        braid::detail::check_io(braid_unix_stream_pair(&a, &b, nullptr), "UnixStream::pair");
        return {UnixStream(a), UnixStream(b)};
    }

    // read, read_exact, write, write_all, flush, shutdown, shutdown_write:
    // io::ByteReader and io::ByteWriter (braid/io/byte_stream.hpp).
    SocketAddr local_addr() const {
        SocketAddr a;
        braid::detail::check_io(braid_unix_stream_local_addr(native(), a.storage(), a.size_ptr()), "local_addr");
        return a;
    }
    SocketAddr peer_addr() const {
        SocketAddr a;
        braid::detail::check_io(braid_unix_stream_peer_addr(native(), a.storage(), a.size_ptr()), "peer_addr");
        return a;
    }
    // The peer's process, user and group (SO_PEERCRED; Tokio's UCred).
    struct UCred {
        int pid;
        unsigned uid;
        unsigned gid;
    };
    UCred peer_cred() const {
        UCred c{};
        braid::detail::check_io(braid_unix_stream_peer_cred(native(), &c.pid, &c.uid, &c.gid), "peer_cred");
        return c;
    }

    // Passing file descriptors (SCM_RIGHTS).  Sending: some bytes of b (at
    // least one) with `fds` going along (the caller keeps its own copies).
    // Receiving: some bytes into b, and the descriptors that came with them
    // into fds (new ones, close-on-exec, the caller's to close; those that
    // do not fit are closed).  Both cancel-safe, as write and read.
    template <bool Recv>
    class [[nodiscard]] FdsAwaiter : public braid::detail::LeafAwaiter<FdsAwaiter<Recv>> {
    public:
        FdsAwaiter(braid_unix_stream* s, void* buf, std::size_t len, int* fds, std::size_t nfds)
            : s_(s), buf_(buf), len_(len), fds_(fds), nfds_(nfds) {}
        FdsAwaiter(FdsAwaiter&& o) noexcept
            : s_(std::exchange(o.s_, nullptr)), buf_(o.buf_), len_(o.len_), fds_(o.fds_), nfds_(o.nfds_) {}
        ~FdsAwaiter() { unregister(); }
        void unregister() noexcept {
            if (registered_) call(nullptr, registered_);
            registered_ = nullptr;
        }
        bool ready_now() const { return false; }
        int poll(braid_wake_fn w, void* d) {
            int rc = call(w, d);
            if (registered_ && (rc != BRAID_PENDING || registered_ != d)) unregister();
            registered_ = rc == BRAID_PENDING ? d : nullptr;
            if (rc < 0) os_ = braid::detail::os_error_of(rc);
            return rc;
        }
        // Sending: the bytes sent.  Receiving: the bytes and the fds received.
        auto finish(int st) {
            if (st < 0) braid::detail::throw_io(st, os_, Recv ? "UnixStream::recv_with_fds" : "UnixStream::send_with_fds");
            if constexpr (Recv) return std::pair<std::size_t, std::size_t>(n_, got_);
            else return n_;
        }

    private:
        int call(braid_wake_fn w, void* d) {
            if constexpr (Recv) return braid_unix_stream_poll_recv_fds(s_, buf_, len_, fds_, nfds_, &got_, w, d, &n_);
            else return braid_unix_stream_poll_send_fds(s_, buf_, len_, fds_, nfds_, w, d, &n_);
        }
        braid_unix_stream* s_;
        void* buf_;
        std::size_t len_;
        int* fds_;
        std::size_t nfds_;
        std::size_t n_ = 0;
        std::size_t got_ = 0;
        int os_ = 0;
        void* registered_ = nullptr;  // the wake_data of our registration
    };
    FdsAwaiter<false> send_with_fds(io::ConstBuffer b, std::span<const int> fds) {
        return FdsAwaiter<false>(native(), const_cast<void*>(b.data), b.size, const_cast<int*>(fds.data()), fds.size());
    }
    FdsAwaiter<true> recv_with_fds(io::MutableBuffer b, std::span<int> fds) {
        return FdsAwaiter<true>(native(), b.data, b.size, fds.data(), fds.size());
    }

    void close() {
        if (s_) braid_unix_stream_close(s_);
    }
    int fd() const { return braid_unix_stream_fd(native()); }
    braid_unix_stream* native_handle() const noexcept { return s_; }

    // Tokio's from_std: takes ownership of a connected (or socketpair) AF_UNIX
    // stream socket (made non-blocking here) on the calling thread's runtime.
    // Throws IoError (BRAID_EBADF: not an open socket; BRAID_EINVAL: another
    // kind of socket, or no runtime on this thread); then the fd is still the
    // caller's.
    static UnixStream from_std(int fd) {
        return braid::detail::adopt_std_fd<UnixStream>(&braid_unix_stream_from_fd, fd, "UnixStream::from_std");
    }
    // Tokio's into_std: the connection as a plain fd (still non-blocking; the
    // caller's to close); this is left empty.
    int into_std() { return braid::detail::release_std_fd(s_, &braid_unix_stream_into_fd, "UnixStream::into_std"); }

private:
    friend class io::ByteReader<UnixStream>;
    friend class io::ByteWriter<UnixStream>;
    friend class io::ByteReadiness<UnixStream>;
    static constexpr io::StreamNames names{"UnixStream::read", "UnixStream::read_exact", "UnixStream::write",
                                           "UnixStream::write_all", "UnixStream::shutdown"};
    braid_unix_stream* native() const {
        if (!s_) throw IoError(BRAID_ECLOSED, 0, "UnixStream: empty or moved-from");
        return s_;
    }
    braid_byte_stream* byte_stream() const { return braid_unix_stream_as_byte_stream(native()); }
    braid_unix_stream* s_ = nullptr;
};

class UnixListener {
public:
    class [[nodiscard]] AcceptAwaiter : public braid::detail::LeafAwaiter<AcceptAwaiter> {
    public:
        explicit AcceptAwaiter(braid_unix_listener* l) : l_(l) {}
        AcceptAwaiter(AcceptAwaiter&& o) noexcept : l_(std::exchange(o.l_, nullptr)), s_(std::exchange(o.s_, nullptr)) {}
        ~AcceptAwaiter() {
            unregister();
            braid_unix_stream_free(s_);
        }
        // Drops the waker; a connection not taken stays in the backlog.
        void unregister() noexcept {
            if (registered_) braid_unix_listener_poll_accept(l_, nullptr, nullptr, registered_);
            registered_ = nullptr;
        }
        bool ready_now() const { return false; }
        int poll(braid_wake_fn w, void* d) {
            int rc = braid_unix_listener_poll_accept(l_, &s_, w, d);
            if (registered_ && (rc != BRAID_PENDING || registered_ != d)) braid_unix_listener_poll_accept(l_, nullptr, nullptr, registered_);
            registered_ = rc == BRAID_PENDING ? d : nullptr;
            if (rc < 0) os_ = braid::detail::os_error_of(rc);
            return rc;
        }
        std::pair<UnixStream, SocketAddr> finish(int st) {
            if (st < 0) braid::detail::throw_io(st, os_, "UnixListener::accept");
            UnixStream s(std::exchange(s_, nullptr));
            SocketAddr peer;
            braid_unix_stream_peer_addr(s.native_handle(), peer.storage(), peer.size_ptr());
            return {std::move(s), peer};
        }

    private:
        braid_unix_listener* l_;
        braid_unix_stream* s_ = nullptr;
        void* registered_ = nullptr;  // the wake_data of our registration
        int os_ = 0;
    };

    UnixListener() = default;
    explicit UnixListener(braid_unix_listener* l) noexcept : l_(l) {}
    UnixListener(UnixListener&& o) noexcept : l_(std::exchange(o.l_, nullptr)) {}
    UnixListener& operator=(UnixListener&& o) noexcept {
        if (this != &o) {
            braid_unix_listener_free(l_);
            l_ = std::exchange(o.l_, nullptr);
        }
        return *this;
    }
    UnixListener(const UnixListener&) = delete;
    ~UnixListener() { braid_unix_listener_free(l_); }

    // Binds and listens.  An existing file at `path` gives BRAID_EADDRINUSE
    // (remove stale socket files first).
    static UnixListener bind(std::string_view path, int backlog = 1024) {
        std::string p = detail::c_path(path);
        braid_unix_listener* l = nullptr;
        braid::detail::check_io(braid_unix_listener_bind(&l, nullptr, p.c_str(), backlog), "UnixListener::bind");
        return UnixListener(l);
    }
    AcceptAwaiter accept() { return AcceptAwaiter(native()); }
    // The connections as a stream; the listener must outlive it.
    braid::Stream<UnixStream> incoming() {
        return [](UnixListener& l) -> braid::Stream<UnixStream> {
            for (;;) {
                auto [s, peer] = co_await l.accept();
                co_yield std::move(s);
            }
        }(*this);
    }
    SocketAddr local_addr() const {
        SocketAddr a;
        braid::detail::check_io(braid_unix_listener_local_addr(native(), a.storage(), a.size_ptr()), "local_addr");
        return a;
    }
    void close() {
        if (l_) braid_unix_listener_close(l_);
    }
    int fd() const { return braid_unix_listener_fd(native()); }
    braid_unix_listener* native_handle() const noexcept { return l_; }

    // Tokio's from_std: takes ownership of a listening AF_UNIX stream socket
    // (made non-blocking here) on the calling thread's runtime.  Throws IoError
    // (BRAID_EBADF: not an open socket; BRAID_EINVAL: another kind of socket,
    // or no runtime on this thread); then the fd is still the caller's.
    static UnixListener from_std(int fd) {
        return braid::detail::adopt_std_fd<UnixListener>(&braid_unix_listener_from_fd, fd, "UnixListener::from_std");
    }
    // Tokio's into_std: the listening socket as a plain fd (still non-blocking; the
    // caller's to close); this is left empty.
    int into_std() { return braid::detail::release_std_fd(l_, &braid_unix_listener_into_fd, "UnixListener::into_std"); }

private:
    braid_unix_listener* native() const {
        if (!l_) throw IoError(BRAID_ECLOSED, 0, "UnixListener: empty or moved-from");
        return l_;
    }
    braid_unix_listener* l_ = nullptr;
};

class UnixDatagram : public detail::RecvBuf<UnixDatagram> {
public:
    // Sends one datagram (to `path`, or the connected peer).  Cancel-safe.
    class [[nodiscard]] SendAwaiter : public braid::detail::LeafAwaiter<SendAwaiter> {
    public:
        SendAwaiter(braid_unix_datagram* d, io::ConstBuffer b, std::optional<std::string> to)
            : d_(d), b_(b), to_(std::move(to)) {}
        SendAwaiter(SendAwaiter&& o) noexcept : d_(std::exchange(o.d_, nullptr)), b_(o.b_), to_(std::move(o.to_)) {}
        ~SendAwaiter() {
            if (registered_) unregister();
        }
        // Drops the waker; nothing was moved.
        void unregister() noexcept {
            if (!registered_) return;
            std::size_t n;
            braid_unix_datagram_poll_send_to(d_, nullptr, 0, nullptr, nullptr, registered_, &n);
            registered_ = nullptr;
        }
        bool ready_now() const { return false; }
        int poll(braid_wake_fn w, void* d) {
            int rc = braid_unix_datagram_poll_send_to(d_, b_.data, b_.size, to_ ? to_->c_str() : nullptr, w, d, &n_);
            if (registered_ && (rc != BRAID_PENDING || registered_ != d)) unregister();
            registered_ = rc == BRAID_PENDING ? d : nullptr;
            if (rc < 0) os_ = braid::detail::os_error_of(rc);
            return rc;
        }
        std::size_t finish(int st) {
            if (st < 0) braid::detail::throw_io(st, os_, "UnixDatagram::send");
            return n_;
        }

    private:
        braid_unix_datagram* d_;
        io::ConstBuffer b_;
        std::optional<std::string> to_;
        std::size_t n_ = 0;
        int os_ = 0;
        void* registered_ = nullptr;  // the wake_data of our registration
    };

    // Receives one datagram and its sender's address.  Cancel-safe.
    class [[nodiscard]] RecvAwaiter : public braid::detail::LeafAwaiter<RecvAwaiter> {
    public:
        RecvAwaiter(braid_unix_datagram* d, io::MutableBuffer b) : d_(d), b_(b) {}
        RecvAwaiter(RecvAwaiter&& o) noexcept : d_(std::exchange(o.d_, nullptr)), b_(o.b_) {}
        ~RecvAwaiter() {
            if (registered_) unregister();
        }
        // Drops the waker; nothing was moved.
        void unregister() noexcept {
            if (!registered_) return;
            std::size_t n;
            braid_unix_datagram_poll_recv_from(d_, nullptr, 0, nullptr, nullptr, nullptr, registered_, &n);
            registered_ = nullptr;
        }
        bool ready_now() const { return false; }
        int poll(braid_wake_fn w, void* d) {
            int rc = braid_unix_datagram_poll_recv_from(d_, b_.data, b_.size, from_.storage(), from_.size_ptr(), w, d, &n_);
            if (registered_ && (rc != BRAID_PENDING || registered_ != d)) unregister();
            registered_ = rc == BRAID_PENDING ? d : nullptr;
            if (rc < 0) os_ = braid::detail::os_error_of(rc);
            return rc;
        }
        std::pair<std::size_t, SocketAddr> finish(int st) {
            if (st < 0) braid::detail::throw_io(st, os_, "UnixDatagram::recv");
            return {n_, from_};
        }

    private:
        braid_unix_datagram* d_;
        io::MutableBuffer b_;
        SocketAddr from_;
        std::size_t n_ = 0;
        int os_ = 0;
        void* registered_ = nullptr;  // the wake_data of our registration
    };

    UnixDatagram() = default;
    explicit UnixDatagram(braid_unix_datagram* d) noexcept : d_(d) {}
    UnixDatagram(UnixDatagram&& o) noexcept : d_(std::exchange(o.d_, nullptr)) {}
    UnixDatagram& operator=(UnixDatagram&& o) noexcept {
        if (this != &o) {
            braid_unix_datagram_free(d_);
            d_ = std::exchange(o.d_, nullptr);
        }
        return *this;
    }
    UnixDatagram(const UnixDatagram&) = delete;
    ~UnixDatagram() { braid_unix_datagram_free(d_); }

    static UnixDatagram bind(std::string_view path) {
        std::string p = detail::c_path(path);
        braid_unix_datagram* d = nullptr;
        braid::detail::check_io(braid_unix_datagram_bind(&d, nullptr, p.c_str()), "UnixDatagram::bind");
        return UnixDatagram(d);
    }
    // Not bound to a path (it can send, and receive once connected).
    static UnixDatagram unbound() {
        braid_unix_datagram* d = nullptr;
        braid::detail::check_io(braid_unix_datagram_bind(&d, nullptr, nullptr), "UnixDatagram::unbound");
        return UnixDatagram(d);
    }
    static std::pair<UnixDatagram, UnixDatagram> pair() {
        braid_unix_datagram *a = nullptr, *b = nullptr;
        braid::detail::check_io(braid_unix_datagram_pair(&a, &b, nullptr), "UnixDatagram::pair");
        return {UnixDatagram(a), UnixDatagram(b)};
    }
    void connect(std::string_view path) {
        std::string p = detail::c_path(path);
        braid::detail::check_io(braid_unix_datagram_connect(native(), p.c_str()), "UnixDatagram::connect");
    }
    SendAwaiter send_to(io::ConstBuffer b, std::string_view path) {
        return SendAwaiter(native(), b, detail::c_path(path));
    }
    SendAwaiter send(io::ConstBuffer b) { return SendAwaiter(native(), b, std::nullopt); }
    RecvAwaiter recv_from(io::MutableBuffer b) { return RecvAwaiter(native(), b); }
    // recv(): one datagram's size alone (from the connected peer).  Cancel-safe.
    using RecvSize = braid::detail::FirstOf<RecvAwaiter>;
    RecvSize recv(io::MutableBuffer b) { return RecvSize{RecvAwaiter(native(), b)}; }

    // Readiness (braid/io/ready.hpp): Readable, Writable or both.  Cancel-safe.
    using ReadyAwaiter = braid::detail::ReadyAwaiter<braid_unix_datagram, &braid_unix_datagram_poll_ready>;
    ReadyAwaiter ready(int interest) { return ReadyAwaiter(native(), interest, "UnixDatagram::ready"); }
    ReadyAwaiter readable() { return ready(braid::Readable); }
    ReadyAwaiter writable() { return ready(braid::Writable); }
    // Attempts that never wait: nullopt when the socket is not ready (that
    // readiness is forgotten); IoError for failures.
    std::optional<std::size_t> try_send_to(io::ConstBuffer b, std::string_view path) {
        std::string p = detail::c_path(path);
        std::size_t n = 0;
        return braid::detail::attempt(braid_unix_datagram_try_send_to(native(), b.data, b.size, p.c_str(), &n), n,
                                      "UnixDatagram::try_send_to");
    }
    std::optional<std::size_t> try_send(io::ConstBuffer b) {
        std::size_t n = 0;
        return braid::detail::attempt(braid_unix_datagram_try_send_to(native(), b.data, b.size, nullptr, &n), n,
                                      "UnixDatagram::try_send");
    }
    std::optional<std::pair<std::size_t, SocketAddr>> try_recv_from(io::MutableBuffer b) {
        SocketAddr from;
        std::size_t n = 0;
        int rc = braid_unix_datagram_try_recv_from(native(), b.data, b.size, from.storage(), from.size_ptr(), &n);
        if (!braid::detail::attempt(rc, n, "UnixDatagram::try_recv_from")) return std::nullopt;
        return std::make_pair(n, from);
    }
    std::optional<std::size_t> try_recv(io::MutableBuffer b) {
        std::size_t n = 0;
        int rc = braid_unix_datagram_try_recv_from(native(), b.data, b.size, nullptr, nullptr, &n);
        return braid::detail::attempt(rc, n, "UnixDatagram::try_recv");
    }
    // try_recv_buf(out), try_recv_buf_from(out): net::detail::RecvBuf
    // (braid/net/recv_buf.hpp).
    SocketAddr local_addr() const {
        SocketAddr a;
        braid::detail::check_io(braid_unix_datagram_local_addr(native(), a.storage(), a.size_ptr()), "local_addr");
        return a;
    }
    void close() {
        if (d_) braid_unix_datagram_close(d_);
    }
    int fd() const { return braid_unix_datagram_fd(native()); }
    braid_unix_datagram* native_handle() const noexcept { return d_; }

    // Tokio's from_std: takes ownership of an AF_UNIX datagram socket (made
    // non-blocking here) on the calling thread's runtime.  Throws IoError
    // (BRAID_EBADF: not an open socket; BRAID_EINVAL: another kind of socket,
    // or no runtime on this thread); then the fd is still the caller's.
    static UnixDatagram from_std(int fd) {
        return braid::detail::adopt_std_fd<UnixDatagram>(&braid_unix_datagram_from_fd, fd, "UnixDatagram::from_std");
    }
    // Tokio's into_std: the socket as a plain fd (still non-blocking; the
    // caller's to close); this is left empty.
    int into_std() { return braid::detail::release_std_fd(d_, &braid_unix_datagram_into_fd, "UnixDatagram::into_std"); }

private:
    braid_unix_datagram* native() const {
        if (!d_) throw IoError(BRAID_ECLOSED, 0, "UnixDatagram: empty or moved-from");
        return d_;
    }
    braid_unix_datagram* d_ = nullptr;
};

}  // namespace braid::net
