// Child processes: posix_spawn on the calling thread (no reactor round
// trip; glibc reports a failed exec, such as a program that does not exist,
// as spawn's own error), pipes for piped stdio registered with the I/O
// driver, and the exit observed through a pidfd (Linux 5.3+) that is
// readable once the child has exited: waiting is readiness-based like
// socket I/O, needs no SIGCHLD handler, and kill goes through the pidfd, so
// a reused pid is never signalled.
#pragma once

#include <braid/task.h>

#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "io/io_driver.hpp"

namespace braid::detail {

class Core;

enum class StdioMode { Inherit = 0, Null = 1, Piped = 2 };

struct SpawnSpec {
    std::string program;
    std::vector<std::string> args;  // without argv[0]
    bool env_clear = false;
    std::vector<std::pair<std::string, std::optional<std::string>>> env;  // set (value) or remove (nullopt), in order
    std::optional<std::string> cwd;
    StdioMode stdio[3] = {StdioMode::Inherit, StdioMode::Inherit, StdioMode::Inherit};
};

struct ExitInfo {
    int code = -1;    // exit code, or -1 when killed by a signal
    int signal = 0;   // the signal that ended it, or 0
};

class ChildProcess {
public:
    // Spawns; pipes[i] receives the parent's end of stdio i when piped
    // (registered, non-blocking), else null.  BRAID_ENOENT (no such
    // program), BRAID_EACCES (not executable), BRAID_EMFILE, BRAID_ENOTSUP
    // (no pidfd: Linux older than 5.3), BRAID_ESHUTDOWN.  Nothing leaks on
    // failure.
    static int spawn(ChildProcess** out, Core* core, const SpawnSpec& spec, IoSource* pipes[3]);

    int pid() const { return pid_; }
    // 0 with *info once exited (and reaped), BRAID_PENDING (waker
    // registered; NULL: removed), or an error.
    int poll_wait(braid_wake_fn wake, void* data, ExitInfo* info);
    // Sends SIGKILL unless the child was reaped already (then BRAID_OK too).
    int kill();
    bool exited() {
        std::lock_guard<std::mutex> g(mu_);
        return exited_;
    }
    IoSource* source() const { return src_; }
    // Frees; the caller made sure the child was reaped or handed it on.
    void destroy();
    // Reaps without waiting (true once exited) or blocking until it exits.
    bool reap_now(bool block);
    // The status once exited (reap_now returned true).
    ExitInfo info() {
        std::lock_guard<std::mutex> g(mu_);
        return info_;
    }

private:
    ChildProcess(int pid, IoSource* src) : pid_(pid), src_(src) {}
    int pid_;
    IoSource* src_;  // the pidfd
    std::mutex mu_;
    bool exited_ = false;
    ExitInfo info_;
};

}  // namespace braid::detail
