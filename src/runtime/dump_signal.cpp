#include "runtime/dump_signal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/core.hpp"
#include "runtime/task_dump.hpp"

namespace braid::detail {
namespace {

// Made once and never closed: the handler may write to it at any time.
int g_pipe[2] = {-1, -1};

std::mutex& registry_mu() {
    static std::mutex mu;
    return mu;
}
std::vector<std::pair<Core*, int>>& registry() {
    static std::vector<std::pair<Core*, int>> r;
    return r;
}

void on_dump_signal(int signo) {
    int saved = errno;
    unsigned char b = static_cast<unsigned char>(signo);
    ssize_t n = write(g_pipe[1], &b, 1);  // a full pipe drops it: dumps are pending anyway
    (void)n;
    errno = saved;
}

void write_all(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
        ssize_t n = write(2, s.data() + off, s.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        off += std::size_t(n);
    }
}

void dump_thread() {
    for (;;) {
        unsigned char b;
        ssize_t n = read(g_pipe[0], &b, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        std::lock_guard<std::mutex> g(registry_mu());
        for (auto& [core, signo] : registry()) {
            if (signo != b) continue;
            std::string text;
            if (task_dump_text(*core, text) == BRAID_OK) write_all(text);
        }
    }
}

// The pipe and the thread, once per process.  False when they could not
// be made (the signal is then left alone).
bool start_once() {
    static bool ok = [] {
        if (pipe2(g_pipe, O_CLOEXEC) != 0) return false;
        fcntl(g_pipe[1], F_SETFL, O_NONBLOCK);
        try {
            std::thread(dump_thread).detach();
        } catch (...) {
            return false;
        }
        return true;
    }();
    return ok;
}

}  // namespace

bool dump_signal_ok(int signo) {
    if (signo <= 0 || signo >= NSIG || signo > 255) return false;
    switch (signo) {
        case SIGKILL: case SIGSTOP: case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL: return false;
    }
    return true;
}

void watch_dump_signal(Core* core, int signo) {
    std::lock_guard<std::mutex> g(registry_mu());
    if (!start_once()) return;
    auto& r = registry();
    bool installed = std::any_of(r.begin(), r.end(), [&](const auto& e) { return e.second == signo; });
    r.emplace_back(core, signo);
    if (installed) return;
    struct sigaction sa {};
    sa.sa_handler = &on_dump_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(signo, &sa, nullptr);
}

void unwatch_dump_signal(Core* core) {
    std::lock_guard<std::mutex> g(registry_mu());
    auto& r = registry();
    r.erase(std::remove_if(r.begin(), r.end(), [&](const auto& e) { return e.first == core; }), r.end());
}

}  // namespace braid::detail
