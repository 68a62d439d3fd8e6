// Helpers of the I/O tests: open-fd counting (every error path is checked
// for leaks), the fd limit, loopback addresses, poll_fn (a C poll function
// awaited from a task) and plain blocking sockets (std::net's, to talk to
// braid's sockets from outside braid).
#pragma once

#include <dirent.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <braid/braid.hpp>

#include "support.hpp"

#include <cerrno>
#include <stdexcept>
#include <string>
#include <utility>

namespace braid_test {

// The number of open file descriptors of this process (/proc/self/fd).
inline int open_fds() {
    DIR* d = opendir("/proc/self/fd");
    if (!d) return -1;
    int n = 0;
    while (dirent* e = readdir(d))
        if (e->d_name[0] != '.') ++n;
    closedir(d);
    return n - 1;  // the DIR's own fd
}

// libuv opens a few fds once per process, on the first loop (its signal
// lock pipe, /dev/null) and keeps them: make a runtime with I/O once before
// counting fds, so that a count compares braid's own.
inline void warm_up_process_fds() {
    auto rt = braid::Runtime::builder().worker_threads(1).build();
    rt.block_on([]() -> braid::Task<> {
        auto l = braid::net::TcpListener::bind("127.0.0.1:0");
        co_return;
    }());
}

// Raises the soft fd limit to at least `want` (up to the hard limit).
// Returns the soft limit in effect.
inline long raise_fd_limit(long want) {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    if (rl.rlim_cur < rlim_t(want)) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= rlim_t(want) ? rlim_t(want) : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return long(rl.rlim_cur);
}

// Whether ::1 can be bound (IPv6 loopback present).
inline bool have_ipv6_loopback() {
    int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

}  // namespace braid_test

// ---- Tokio's test idioms over I/O ----------------------------------------------

namespace braid_test {

// futures::future::poll_fn: an awaitable whose every poll calls
// f(wake_fn, wake_data), which returns 0 (ready), BRAID_PENDING (after
// registering the waker with whatever it waits on) or a BRAID_E* code (thrown
// as braid::IoError).  It is how a test drives a C poll function
// (braid_*_poll_*) from a task, as Tokio's tests call poll_* methods
// through poll_fn.  f(nullptr, wake_data) must remove the registration made
// with wake_data (the C poll functions do that with a NULL waker): PollFn
// calls it when a poll that waited ends, or when it is abandoned pending.
template <class F>
class PollFn : public braid::detail::LeafAwaiter<PollFn<F>> {
public:
    explicit PollFn(F f) : f_(std::move(f)) {}
    PollFn(PollFn&& o) noexcept : f_(std::move(o.f_)) {}
    ~PollFn() {
        if (registered_) f_(nullptr, registered_);
    }
    bool ready_now() const { return false; }
    int poll(braid_wake_fn w, void* d) {
        int rc = f_(w, d);
        if (registered_ && (rc != BRAID_PENDING || registered_ != d)) f_(nullptr, registered_);
        registered_ = rc == BRAID_PENDING ? d : nullptr;
        return rc;
    }
    void finish(int st) {
        if (st < 0) throw braid::IoError(st, 0, "poll_fn");
    }

private:
    F f_;
    void* registered_ = nullptr;
};
template <class F>
PollFn<F> poll_fn(F f) {
    return PollFn<F>(std::move(f));
}

// A plain blocking socket, closed when it goes: what Tokio's tests get from
// std::net to talk to a braid socket from outside braid.
class PlainSocket {
public:
    PlainSocket() = default;
    explicit PlainSocket(int fd) : fd_(fd) {}
    PlainSocket(PlainSocket&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    PlainSocket& operator=(PlainSocket&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    ~PlainSocket() { reset(); }
    int get() const { return fd_; }
    // Gives the fd away (to braid_*_from_fd).
    int release() { return std::exchange(fd_, -1); }
    void reset() {
        if (fd_ >= 0) ::close(std::exchange(fd_, -1));
    }

    // std::net::TcpListener::bind: a blocking listener on `addr`.
    static PlainSocket listen(const braid::net::SocketAddr& addr) {
        PlainSocket s(::socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (s.fd_ < 0 || ::bind(s.fd_, addr.as_sockaddr(), socklen_t(addr.size())) != 0 || ::listen(s.fd_, 16) != 0)
            throw std::runtime_error("plain listener: " + std::to_string(errno));
        return s;
    }
    // std::net::TcpStream::connect: a blocking connected socket.
    static PlainSocket connect(const braid::net::SocketAddr& addr) {
        PlainSocket s(::socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (s.fd_ < 0 || ::connect(s.fd_, addr.as_sockaddr(), socklen_t(addr.size())) != 0)
            throw std::runtime_error("plain connect: " + std::to_string(errno));
        return s;
    }
    // A blocking accept on a listener.
    PlainSocket accept() const {
        int fd;
        do fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        while (fd < 0 && errno == EINTR);
        if (fd < 0) throw std::runtime_error("plain accept: " + std::to_string(errno));
        return PlainSocket(fd);
    }
    braid::net::SocketAddr local_addr() const {
        braid::net::SocketAddr a;
        socklen_t len = sizeof(sockaddr_storage);
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(a.storage()), &len);
        *a.size_ptr() = len;
        return a;
    }
    // Blocking I/O: the bytes moved, 0 at end of file, -1 on error.
    long read(void* buf, std::size_t len) const {
        long n;
        do n = long(::recv(fd_, buf, len, 0));
        while (n < 0 && errno == EINTR);
        return n;
    }
    bool write_all(const void* buf, std::size_t len) const {
        const char* p = static_cast<const char*>(buf);
        while (len > 0) {
            long n = long(::send(fd_, p, len, MSG_NOSIGNAL));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            p += n;
            len -= std::size_t(n);
        }
        return true;
    }
    bool read_exact(void* buf, std::size_t len) const {
        char* p = static_cast<char*>(buf);
        while (len > 0) {
            long n = read(p, len);
            if (n <= 0) return false;
            p += n;
            len -= std::size_t(n);
        }
        return true;
    }

private:
    int fd_ = -1;
};

}  // namespace braid_test
