#include "runtime/live_view.hpp"

#include <braid/error.h>
#include <braid/metrics.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "io/os_error.hpp"
#include "runtime/core.hpp"
#include "runtime/metrics_export.hpp"
#include "runtime/task_dump.hpp"
#include "util/json_string.hpp"

namespace braid::detail {
namespace {

using Steady = std::chrono::steady_clock;

// A request line is short ("snapshot"); a client gets this long to send it
// and to read the answer, so one that stalls cannot hold the server.
constexpr std::size_t kMaxRequest = 64;
constexpr auto kRequestTime = std::chrono::seconds(2);
constexpr auto kAnswerTime = std::chrono::seconds(5);

bool fill_addr(const std::string& path, sockaddr_un& a) {
    a = sockaddr_un{};
    a.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof a.sun_path) return false;
    std::memcpy(a.sun_path, path.data(), path.size());
    return true;
}

// Whether some process listens on the socket file at `a`.
bool someone_listens(const sockaddr_un& a) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return true;  // cannot tell: do not remove it
    int rc = connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
    int e = errno;
    close(fd);
    return rc == 0 || (e != ECONNREFUSED && e != ENOENT);
}

// Waits until `fd` is ready for `events`, the stop eventfd fires or the
// deadline passes.  True: fd is ready.
bool wait_ready(int fd, short events, int stop_fd, Steady::time_point deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now()).count();
        if (left <= 0) return false;
        pollfd p[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
        int n = poll(p, 2, int(left));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 || (p[1].revents & POLLIN)) return false;
        if (p[0].revents) return true;
    }
}

// The first line the client sends (without its newline), or false.
bool read_request(int conn, int stop_fd, std::string& line) {
    auto deadline = Steady::now() + kRequestTime;
    char buf[kMaxRequest];
    while (line.size() < kMaxRequest) {
        if (!wait_ready(conn, POLLIN, stop_fd, deadline)) return false;
        ssize_t n = recv(conn, buf, sizeof buf, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) return false;
        line.append(buf, std::size_t(n));
        if (auto nl = line.find('\n'); nl != std::string::npos) {
            line.resize(nl);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            return true;
        }
    }
    return false;
}

void write_answer(int conn, int stop_fd, const std::string& s) {
    auto deadline = Steady::now() + kAnswerTime;
    std::size_t off = 0;
    while (off < s.size()) {
        ssize_t n = send(conn, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += std::size_t(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN && wait_ready(conn, POLLOUT, stop_fd, deadline)) continue;
        return;
    }
}

// Whether the peer of `conn` runs as this process's user.
bool same_user(int conn) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
    return cred.uid == geteuid();
}

}  // namespace

int live_view_snapshot(Core& core, int64_t uptime_ns, std::string& out) {
    std::string metrics;
    MetricsSnapshot s;
    take_metrics(core, s);
    render_metrics(s, BRAID_METRICS_JSON, metrics);
    while (!metrics.empty() && metrics.back() == '\n') metrics.pop_back();
    out += "{\"version\":1,\"uptime_ns\":";
    out += std::to_string(uptime_ns);
    out += ",\"metrics\":";
    out += metrics;
    out += ",\"tasks\":";
    int rc = task_dump_json(core, out);
    if (rc != BRAID_OK) return rc;
    out += "}\n";
    return BRAID_OK;
}

int LiveView::start(const std::string& path) {
    sockaddr_un addr;
    if (!fill_addr(path, addr)) return BRAID_ERANGE;
    struct stat st;
    if (lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) return BRAID_EEXIST;
        if (someone_listens(addr)) return BRAID_EADDRINUSE;
        unlink(path.c_str());  // stale: left by a process that ended
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return os_error(errno);
    // The file bind() makes takes the socket's mode (less the umask): owner
    // only from the first moment, without touching the process's umask.
    fchmod(fd, S_IRUSR | S_IWUSR);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        int e = errno;
        close(fd);
        return os_error(e);
    }
    if (chmod(path.c_str(), S_IRUSR | S_IWUSR) != 0 || lstat(path.c_str(), &st) != 0 || listen(fd, 16) != 0) {
        int e = errno;
        unlink(path.c_str());
        close(fd);
        return os_error(e);
    }
    int sfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (sfd < 0) {
        int e = errno;
        unlink(path.c_str());
        close(fd);
        return os_error(e);
    }
    path_ = path;
    listen_fd_ = fd;
    stop_fd_ = sfd;
    started_ = Steady::now();
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    try {
        thread_ = std::thread([this] { run(); });
    } catch (...) {
        stop();
        return BRAID_ETHREAD;
    }
    // Named here, not by the thread: it has its name once the runtime is built.
    pthread_setname_np(thread_.native_handle(), "braid-liveview");
    return BRAID_OK;
}

void LiveView::stop() {
    if (listen_fd_ < 0) return;
    uint64_t one = 1;
    ssize_t n = write(stop_fd_, &one, sizeof one);
    (void)n;
    if (thread_.joinable()) thread_.join();
    struct stat st;
    // Only the file made here: another may have replaced it since.
    if (lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) unlink(path_.c_str());
    close(listen_fd_);
    close(stop_fd_);
    listen_fd_ = stop_fd_ = -1;
}

void LiveView::run() {
    for (;;) {
        pollfd p[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
        int n = poll(p, 2, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 || (p[1].revents & POLLIN)) return;
        if (!(p[0].revents & POLLIN)) continue;
        int conn = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (conn < 0) {
            // Out of descriptors (or memory): the listener stays readable, so
            // wait a little (or for stop) instead of spinning on it.
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                pollfd s{stop_fd_, POLLIN, 0};
                poll(&s, 1, 100);
            }
            continue;
        }
        serve(conn);
        close(conn);
    }
}

void LiveView::serve(int conn) {
    if (!same_user(conn)) return;  // closed unanswered
    std::string line;
    if (!read_request(conn, stop_fd_, line)) return;
    std::string answer;
    try {
        if (line != "snapshot") {
            answer = "{\"error\":\"unknown request\"}\n";
        } else if (int rc = live_view_snapshot(
                       core_, std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now() - started_).count(),
                       answer); rc != BRAID_OK) {
            answer = "{\"error\":";
            append_json_string(answer, braid_strerror(rc));
            answer += "}\n";
        }
    } catch (...) {
        return;  // out of memory: closed unanswered
    }
    write_answer(conn, stop_fd_, answer);
}

}  // namespace braid::detail
