// Helpers of the I/O tests: open-fd counting (every error path is checked
// for leaks), the fd limit, loopback addresses, readers and writers
// written by hand (poll_fn, MockIo: what Tokio's I/O tests write as
// poll_read / poll_write, and tokio_test::io::Builder) and plain blocking
// sockets (std::net's, to talk to braid's sockets from outside braid).
#pragma once

#include <dirent.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <braid/braid.hpp>

#include "support.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <coroutine>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

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

// ---- readers and writers written by hand ---------------------------------------------

// A leaf awaitable made of a function, as futures::future::poll_fn: what
// Tokio's I/O tests write by hand as poll_read / poll_write.
// f(wake, wake_data, out) returns 0 (ready: `out` holds the result),
// BRAID_PENDING (pending; it calls wake(wake_data) itself when it wants to be
// polled again, as a hand-written poll calls cx.waker().wake_by_ref(); if it
// does not, whoever drives it must poll it again) or a negative code (the
// await throws IoError with that code).  T may be void (flush, shutdown).
//
//   auto read(braid::io::MutableBuffer b) {
//       return braid_test::poll_fn<std::size_t>([this, b](braid_wake_fn, void*, std::size_t& n) {
//           n = fill(b);
//           return 0;
//       });
//   }
template <class T, class F>
class PollFn : public braid::detail::LeafAwaiter<PollFn<T, F>> {
    using Value = std::conditional_t<std::is_void_v<T>, char, T>;

public:
    explicit PollFn(F f) : f_(std::move(f)) {}
    bool ready_now() const noexcept { return false; }
    int poll(braid_wake_fn w, void* d) { return f_(w, d, value_); }
    T finish(int st) {
        if (st < 0) throw braid::IoError(st, 0, "poll_fn");
        if constexpr (!std::is_void_v<T>) return std::move(value_);
    }
    // It registers no waker anywhere: nothing to take back.
    void unregister() noexcept {}

private:
    F f_;
    Value value_{};
};
template <class T, class F>
PollFn<T, F> poll_fn(F f) {
    return PollFn<T, F>(std::move(f));
}

// A writer whose write(b) is always ready: f(b, n) returns 0 with n (the
// bytes taken) or a negative code (the write throws IoError with it), as the
// poll_write of a hand-written AsyncWrite in Tokio's tests.  Nothing to flush
// or shut down.
//
//   std::string got;
//   braid_test::FnWriter wr([&](braid::io::ConstBuffer b, std::size_t& n) {
//       n = std::min<std::size_t>(4, b.size);
//       got.append(static_cast<const char*>(b.data), n);
//       return 0;
//   });
template <class F>
class FnWriter {
public:
    explicit FnWriter(F f) : f_(std::move(f)) {}
    auto write(braid::io::ConstBuffer b) {
        return poll_fn<std::size_t>([this, b](braid_wake_fn, void*, std::size_t& n) { return f_(b, n); });
    }
    std::suspend_never flush() { return {}; }
    std::suspend_never shutdown() { return {}; }

private:
    F f_;
};

// A reader and writer that follows a script (tokio_test::io::Builder, and
// the Mock of tokio-util's codec tests).  Reads and writes have a script
// each:
//   on_read(bytes)          the next reads give these bytes (what does not
//                           fit the buffer stays for the next read; "" is
//                           one read of 0 bytes: end of file, once)
//   on_read_error(code, what)  the next read fails: IoError(code) (its what()
//                           begins with `what`)
//   on_read_pending(wake)   the next read is pending, once; with wake it
//                           wakes its task (cx.waker().wake_by_ref()), else
//                           whoever polls it must poll again
//   after the script, every read gives 0 (end of file).
//   on_write(bytes)         the next write must begin with these bytes and
//                           takes exactly them (anything else fails the test)
//   on_write_error(code, what), on_write_pending(wake): as for reads
//   on_flush()              a flush is expected here (a write fails the test;
//                           Pending and errors before it are its own)
//   after the script, a write takes nothing (0) and a flush completes.
// shutdown() always completes.  One task at a time (no locking); the mock
// must outlive the awaitables it hands out.
class MockIo {
    enum class Kind { Data, Error, Pending, Flush };
    struct Step {
        Kind kind;
        std::string bytes;
        int code = 0;
        bool wake = false;
    };

public:
    MockIo() = default;
    MockIo(MockIo&&) = default;
    MockIo& operator=(MockIo&&) = default;

    MockIo& on_read(std::string_view bytes) { return push(reads_, {Kind::Data, std::string(bytes)}); }
    MockIo& on_read_error(int code, std::string what = "mock read error") {
        return push(reads_, {Kind::Error, std::move(what), code});
    }
    MockIo& on_read_pending(bool wake = false) { return push(reads_, {Kind::Pending, {}, 0, wake}); }
    MockIo& on_write(std::string_view bytes) { return push(writes_, {Kind::Data, std::string(bytes)}); }
    MockIo& on_write_error(int code, std::string what = "mock write error") {
        return push(writes_, {Kind::Error, std::move(what), code});
    }
    MockIo& on_write_pending(bool wake = false) { return push(writes_, {Kind::Pending, {}, 0, wake}); }
    MockIo& on_flush() { return push(writes_, {Kind::Flush, {}, 0, false}); }

    // One operation: a leaf awaitable over the script.
    class [[nodiscard]] Op : public braid::detail::LeafAwaiter<Op> {
    public:
        enum Which { Read, Write, Flush, Shutdown };
        Op(MockIo* io, Which which, const void* p, std::size_t n) : io_(io), which_(which), p_(p), size_(n) {}
        bool ready_now() const noexcept { return false; }
        int poll(braid_wake_fn w, void* d) { return io_->poll(*this, w, d); }
        std::size_t finish(int st) {
            if (st < 0) throw braid::IoError(st, 0, io_->what_);
            return n_;
        }
        void unregister() noexcept {}

    private:
        friend class MockIo;
        MockIo* io_;
        Which which_;
        const void* p_;
        std::size_t size_;
        std::size_t n_ = 0;
    };

    Op read(braid::io::MutableBuffer b) { return Op(this, Op::Read, b.data, b.size); }
    Op write(braid::io::ConstBuffer b) { return Op(this, Op::Write, b.data, b.size); }
    Op flush() { return Op(this, Op::Flush, nullptr, 0); }
    Op shutdown() { return Op(this, Op::Shutdown, nullptr, 0); }

    // How often each was polled, and what the writes took.
    int read_polls() const { return read_polls_; }
    int write_polls() const { return write_polls_; }
    int flushes() const { return flushes_; }
    int shutdowns() const { return shutdowns_; }
    const std::string& written() const { return written_; }
    std::size_t reads_left() const { return reads_.size(); }
    std::size_t writes_left() const { return writes_.size(); }

private:
    MockIo& push(std::deque<Step>& q, Step s) {
        q.push_back(std::move(s));
        return *this;
    }

    // A step that does not fit the operation fails the test (recorded) and
    // the operation (BRAID_EINVAL).
    int misfit(const char* what) {
        record_failure(what, __FILE__, __LINE__);
        what_ = what;
        return BRAID_EINVAL;
    }
    int common(std::deque<Step>& q, braid_wake_fn w, void* d) {
        Step& s = q.front();
        if (s.kind == Kind::Pending) {
            bool wake = s.wake;
            q.pop_front();
            if (wake) w(d);
            return BRAID_PENDING;
        }
        int code = s.code;
        what_ = std::move(s.bytes);
        q.pop_front();
        return code;
    }
    int poll(Op& op, braid_wake_fn w, void* d) {
        switch (op.which_) {
            case Op::Read: {
                ++read_polls_;
                if (op.size_ == 0) return misfit("MockIo: a read into an empty buffer");
                if (reads_.empty()) return op.n_ = 0, 0;
                Step& s = reads_.front();
                if (s.kind != Kind::Data) return common(reads_, w, d);
                op.n_ = std::min(op.size_, s.bytes.size());
                std::memcpy(const_cast<void*>(op.p_), s.bytes.data(), op.n_);
                s.bytes.erase(0, op.n_);
                if (s.bytes.empty()) reads_.pop_front();
                return 0;
            }
            case Op::Write: {
                ++write_polls_;
                if (op.size_ == 0) return op.n_ = 0, 0;
                if (writes_.empty()) return op.n_ = 0, 0;
                Step& s = writes_.front();
                if (s.kind == Kind::Flush) return misfit("MockIo: a write where a flush was expected");
                if (s.kind != Kind::Data) return common(writes_, w, d);
                if (op.size_ < s.bytes.size() || std::memcmp(op.p_, s.bytes.data(), s.bytes.size()) != 0)
                    return misfit("MockIo: a write of other bytes than the script's");
                op.n_ = s.bytes.size();
                written_.append(s.bytes);
                writes_.pop_front();
                return 0;
            }
            case Op::Flush: {
                if (writes_.empty()) return ++flushes_, 0;
                Step& s = writes_.front();
                if (s.kind == Kind::Data) return misfit("MockIo: a flush where a write was expected");
                if (s.kind == Kind::Flush) {
                    writes_.pop_front();
                    return ++flushes_, 0;
                }
                return common(writes_, w, d);
            }
            case Op::Shutdown: ++shutdowns_; return 0;
        }
        return BRAID_EINVAL;
    }

    std::deque<Step> reads_, writes_;
    std::string what_ = "MockIo";
    std::string written_;
    int read_polls_ = 0, write_polls_ = 0, flushes_ = 0, shutdowns_ = 0;
};

// ---- C poll functions awaited from a task ---------------------------------------

// A C poll function awaited from a task, as Tokio's tests call poll_*
// methods through futures::future::poll_fn: every poll calls
// f(wake_fn, wake_data), which returns 0 (ready), BRAID_PENDING (after
// registering the waker with whatever it waits on) or a BRAID_E* code (thrown
// as braid::IoError).  Unlike poll_fn above, f registers a waker:
// f(nullptr, wake_data) must remove the registration made with wake_data (the
// C poll functions do that with a NULL waker), and CPoll calls it when a poll
// that waited ends, or when it is abandoned pending.
template <class F>
class CPoll : public braid::detail::LeafAwaiter<CPoll<F>> {
public:
    explicit CPoll(F f) : f_(std::move(f)) {}
    CPoll(CPoll&& o) noexcept : f_(std::move(o.f_)) {}
    ~CPoll() { unregister(); }
    bool ready_now() const { return false; }
    int poll(braid_wake_fn w, void* d) {
        int rc = f_(w, d);
        if (rc != BRAID_PENDING || registered_ != d) unregister();
        registered_ = rc == BRAID_PENDING ? d : nullptr;
        return rc;
    }
    void finish(int st) {
        if (st < 0) throw braid::IoError(st, 0, "c_poll");
    }
    void unregister() noexcept {
        if (registered_) f_(nullptr, registered_);
        registered_ = nullptr;
    }

private:
    F f_;
    void* registered_ = nullptr;
};
template <class F>
CPoll<F> c_poll(F f) {
    return CPoll<F>(std::move(f));
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

// A readiness wait polled by hand (tokio_test's task::spawn(s.readable())
// with assert_pending!/assert_ready!/is_woken): poll() calls the handle's C
// poll_ready function once with a counting waker, is_woken() says whether
// that waker ran since.  Its registration is removed when it goes.
//
//   braid_test::ReadyProbe readable(bs, BRAID_IO_READABLE, &braid_byte_stream_poll_ready);
//   REQUIRE(readable.poll() == BRAID_PENDING);
template <class H>
class ReadyProbe {
public:
    using Fn = int (*)(H*, int, braid_wake_fn, void*, int*);
    ReadyProbe(H* h, int interest, Fn fn) : h_(h), interest_(interest), fn_(fn) {}
    ReadyProbe(const ReadyProbe&) = delete;
    ReadyProbe& operator=(const ReadyProbe&) = delete;
    ~ReadyProbe() {
        int ignored;
        fn_(h_, interest_, nullptr, &waker_, &ignored);
    }
    // 0 (ready: bits() says what), BRAID_PENDING, or an error.
    int poll() {
        waker_.clear();
        return fn_(h_, interest_, &CountingWaker::wake, &waker_, &bits_);
    }
    bool is_woken() const { return waker_.woken(); }
    int bits() const { return bits_; }

private:
    H* h_;
    int interest_;
    Fn fn_;
    int bits_ = 0;
    CountingWaker waker_;
};

// Until the probe's waker has run (the runtime's own wake-up: the task
// yields so that the worker takes the reactor's events).
template <class H>
braid::Task<> woken(ReadyProbe<H>& p) {
    while (!p.is_woken()) co_await braid::yield_now();
}

// ---- readiness helpers of the stream conformance cases (tcp_stream, uds_stream) ----

inline braid_byte_stream* view_of(braid::net::TcpStream& s) {
    return braid_tcp_stream_as_byte_stream(s.native_handle());
}
inline braid_byte_stream* view_of(braid::net::UnixStream& s) {
    return braid_unix_stream_as_byte_stream(s.native_handle());
}

// A ReadyProbe on a TcpStream or UnixStream (its byte-stream view).
template <class S>
ReadyProbe<braid_byte_stream> probe(S& s, int interest) {
    return ReadyProbe<braid_byte_stream>(view_of(s), interest, &braid_byte_stream_poll_ready);
}

// Forgets the readiness a fresh stream is assumed to have (its first
// attempt finds nothing: Tokio's streams start not readable).
template <class S>
void settle_readable(S& s) {
    char b[1];
    EXPECT(!s.try_read(b).has_value());
}

// Writes until the socket buffer is full; the bytes written.
template <class S>
std::size_t write_until_pending(S& s) {
    std::vector<char> buf(4096, 'x');
    std::size_t total = 0;
    while (auto n = s.try_write(buf)) total += *n;
    return total;
}

// Reads until nothing is left; the bytes read.
template <class S>
std::size_t read_until_pending(S& s) {
    std::vector<char> buf(4096);
    std::size_t total = 0;
    while (auto n = s.try_read(buf)) total += *n;
    return total;
}

// Drains `want` bytes with readable() and try_read, or (vectored) with
// try_read_vectored into slices of 64 KiB.
template <class S>
braid::Task<std::string> drain(S& server, std::size_t want, bool vectored = false) {
    std::string read(want, '\0');
    std::size_t i = 0;
    while (i < want) {
        co_await server.readable();
        std::optional<std::size_t> n;
        if (!vectored) {
            n = server.try_read(braid::io::MutableBuffer(read.data() + i, want - i));
        } else {
            std::vector<braid::io::MutableBuffer> bufs;
            for (std::size_t at = i; at < want; at += 0x10000)
                bufs.emplace_back(read.data() + at, std::min<std::size_t>(0x10000, want - at));
            n = server.try_read_vectored(bufs);
        }
        if (n) i += *n;
    }
    co_return read;
}

// Waits for the peer's close on `server` through ready(Readable).
template <class S>
braid::Task<> until_read_closed(S& server) {
    for (;;) {
        braid::Ready ready = co_await server.ready(braid::Readable);
        if (ready.is_read_closed()) co_return;
        co_await braid::yield_now();
    }
}

}  // namespace braid_test
