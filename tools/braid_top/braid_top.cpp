// braid_top: a live view of a running braid process, as tokio-console is
// for Tokio.  It connects to the Unix socket a runtime opens with
// braid_runtime_builder_live_view (Runtime::Builder::live_view), asks for a
// snapshot ("snapshot\n"; the answer is one JSON document) and draws the
// workers and the tasks, once a second, until interrupted.
//
//   braid_top [--once] [--interval-ms N] SOCKET
//
// --once prints one snapshot as plain text and exits (0; 1 when the socket
// cannot be read).  docs/observability.md, "Live view", describes the
// protocol and the columns.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "json.hpp"

using braid_top::Json;

namespace {

// One snapshot from the socket at `path` into `doc`; false with `error`.
bool fetch(const std::string& path, std::string& doc, std::string& error) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (path.size() >= sizeof a.sun_path) {
        error = "socket path too long";
        return false;
    }
    std::memcpy(a.sun_path, path.data(), path.size());
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = std::strerror(errno);
        return false;
    }
    timeval tv{5, 0};  // a runtime that does not answer is reported, not waited on forever
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        error = "connect: " + std::string(std::strerror(errno));
        close(fd);
        return false;
    }
    static const char kRequest[] = "snapshot\n";
    if (send(fd, kRequest, sizeof kRequest - 1, MSG_NOSIGNAL) != ssize_t(sizeof kRequest - 1)) {
        error = "send: " + std::string(std::strerror(errno));
        close(fd);
        return false;
    }
    doc.clear();
    char buf[65536];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            error = "recv: " + std::string(std::strerror(errno));
            close(fd);
            return false;
        }
        if (n == 0) break;
        doc.append(buf, std::size_t(n));
    }
    close(fd);
    if (doc.empty()) {
        error = "the runtime closed the connection unanswered (another user's socket?)";
        return false;
    }
    return true;
}

std::string ms(uint64_t ns) {
    char b[32];
    std::snprintf(b, sizeof b, "%.3f", double(ns) / 1e6);
    return b;
}

std::string age(int64_t ns) {
    char b[32];
    double s = double(ns) / 1e9;
    if (s < 1) std::snprintf(b, sizeof b, "%.0fms", s * 1e3);
    else if (s < 120) std::snprintf(b, sizeof b, "%.1fs", s);
    else if (s < 7200) std::snprintf(b, sizeof b, "%.1fm", s / 60);
    else std::snprintf(b, sizeof b, "%.1fh", s / 3600);
    return b;
}

std::string fit(std::string s, std::size_t width) {
    if (s.size() > width) s = s.substr(0, width - 1) + "~";
    return s;
}

std::string base_name(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The text of one snapshot.  `prev` (the previous one, or null) gives the
// busy share of each worker since then; without it, since the start.
std::string render(const std::string& path, const Json& snap, const Json* prev) {
    std::string out;
    char line[512];
    const Json& m = snap["metrics"];
    std::snprintf(line, sizeof line, "braid_top %s  up %s\n", path.c_str(), age(snap["uptime_ns"].i64()).c_str());
    out += line;
    std::snprintf(line, sizeof line,
                  "tasks: %llu alive, %llu spawned, %llu completed, %llu aborted   inject queue %llu   timers %llu\n",
                  (unsigned long long)m["tasks_alive"].u64(), (unsigned long long)m["tasks_spawned"].u64(),
                  (unsigned long long)m["tasks_completed"].u64(), (unsigned long long)m["tasks_aborted"].u64(),
                  (unsigned long long)m["inject_queue_depth"].u64(), (unsigned long long)m["timers_pending"].u64());
    out += line;
    std::snprintf(line, sizeof line, "blocking: %llu threads, %llu idle, %llu queued   io: %llu events, %llu wakeups\n\n",
                  (unsigned long long)m["blocking_threads"].u64(), (unsigned long long)m["blocking_idle"].u64(),
                  (unsigned long long)m["blocking_queued"].u64(), (unsigned long long)m["io_events"].u64(),
                  (unsigned long long)m["io_wakeups"].u64());
    out += line;

    out += "WORKER        POLLS     STEALS      PARKS  BUSY%  QUEUE\n";
    const auto& workers = m["per_worker"].items;
    int64_t span = snap["uptime_ns"].i64();
    const std::vector<Json>* before = nullptr;
    if (prev) {
        span -= (*prev)["uptime_ns"].i64();
        before = &(*prev)["metrics"]["per_worker"].items;
    }
    for (std::size_t k = 0; k < workers.size(); ++k) {
        const Json& w = workers[k];
        uint64_t busy = w["busy_ns"].u64();
        if (before && k < before->size()) busy -= std::min(busy, (*before)[k]["busy_ns"].u64());
        double pct = span > 0 ? 100.0 * double(busy) / double(span) : 0.0;
        std::snprintf(line, sizeof line, "%6llu %12llu %10llu %10llu %5.1f%% %6llu\n",
                      (unsigned long long)w["worker"].u64(), (unsigned long long)w["polls"].u64(),
                      (unsigned long long)w["steals"].u64(), (unsigned long long)w["parks"].u64(),
                      std::min(pct, 100.0), (unsigned long long)w["local_queue_depth"].u64());
        out += line;
    }

    std::vector<const Json*> tasks;
    for (const Json& t : snap["tasks"].items) tasks.push_back(&t);
    // The busiest first: poll time, then polls, then the oldest.
    std::sort(tasks.begin(), tasks.end(), [](const Json* a, const Json* b) {
        if ((*a)["poll_ns"].u64() != (*b)["poll_ns"].u64()) return (*a)["poll_ns"].u64() > (*b)["poll_ns"].u64();
        if ((*a)["polls"].u64() != (*b)["polls"].u64()) return (*a)["polls"].u64() > (*b)["polls"].u64();
        return (*a)["id"].u64() < (*b)["id"].u64();
    });
    std::snprintf(line, sizeof line, "\n%8s  %-16s %-8s %-9s %8s %12s %8s  %-24s %s\n", "TASK", "NAME", "KIND", "STATE",
                  "POLLS", "POLL MS", "AGE", "SPAWNED AT", "AWAITS");
    out += line;
    for (const Json* t : tasks) {
        const Json& j = *t;
        std::string where = j["file"].is_null() ? "-" : base_name(j["file"].str()) + ":" + std::to_string(j["line"].u64());
        std::string awaits = j["wait"].str();
        if (awaits.empty()) awaits = j["state"].str() == "idle" ? "(a waker braid does not know)" : "-";
        // A server from before "kind" lists worker tasks only.
        std::string kind = j["kind"].is_null() ? "worker" : j["kind"].str();
        std::snprintf(line, sizeof line, "%8llu  %-16s %-8s %-9s %8llu %12s %8s  %-24s %s\n", (unsigned long long)j["id"].u64(),
                      fit(j["name"].is_null() ? "-" : j["name"].str(), 16).c_str(), fit(kind, 8).c_str(),
                      j["state"].str().c_str(),
                      (unsigned long long)j["polls"].u64(), ms(j["poll_ns"].u64()).c_str(), age(j["age_ns"].i64()).c_str(),
                      fit(where, 24).c_str(), awaits.c_str());
        out += line;
    }
    return out;
}

int usage() {
    std::fprintf(stderr, "usage: braid_top [--once] [--interval-ms N] SOCKET\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    bool once = false;
    long interval_ms = 1000;
    std::string path;
    for (int k = 1; k < argc; ++k) {
        std::string a = argv[k];
        if (a == "--once") {
            once = true;
        } else if (a == "--interval-ms" && k + 1 < argc) {
            interval_ms = std::strtol(argv[++k], nullptr, 10);
            if (interval_ms < 10) return usage();
        } else if (a == "-h" || a == "--help") {
            usage();
            return 0;
        } else if (!a.empty() && a[0] != '-' && path.empty()) {
            path = a;
        } else {
            return usage();
        }
    }
    if (path.empty()) return usage();

    Json prev;
    bool have_prev = false;
    for (;;) {
        std::string doc, error;
        Json snap;
        bool ok = fetch(path, doc, error) && braid_top::parse_json(doc, snap, error);
        if (ok && !snap["error"].is_null()) {
            ok = false;
            error = "the runtime answered: " + snap["error"].str();
        }
        if (once) {
            if (!ok) {
                std::fprintf(stderr, "braid_top: %s: %s\n", path.c_str(), error.c_str());
                return 1;
            }
            std::fputs(render(path, snap, nullptr).c_str(), stdout);
            return 0;
        }
        std::string screen = "\x1b[H\x1b[2J";  // home, clear
        if (ok) {
            screen += render(path, snap, have_prev ? &prev : nullptr);
            prev = std::move(snap);
            have_prev = true;
        } else {
            screen += "braid_top " + path + ": " + error + " (retrying)\n";
            have_prev = false;
        }
        std::fputs(screen.c_str(), stdout);
        std::fflush(stdout);
        std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
    }
}
