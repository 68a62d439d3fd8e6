// Child processes: started on the calling thread (posix_spawn, or fork and
// exec to change the user: io/process_launch.hpp; no reactor round trip; a
// failed exec, such as a program that does not exist, is spawn's own
// error), pipes for piped stdio registered with the I/O
// driver, and the exit observed through a pidfd (Linux 5.3+) that is
// readable once the child has exited: waiting is readiness-based like
// socket I/O, needs no SIGCHLD handler, and kill goes through the pidfd, so
// a reused pid is never signalled.
//
// Over a ChildProcess: the callback operations of braid_child_wait and
// braid_command_output, and the background reaper that takes over a child
// whose handle is freed while it runs.
#pragma once

#include <braid/process.h>
#include <braid/task.h>

#include <csignal>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "io/io_driver.hpp"

namespace braid::detail {

class Core;

enum class StdioMode { Inherit = 0, Null = 1, Piped = 2, Fd = 3 };

// A file descriptor the spec owns (its own duplicate: a copy of the spec
// duplicates it again, so each copy closes its own).
class OwnedFd {
public:
    OwnedFd() = default;
    explicit OwnedFd(int fd) : fd_(fd) {}
    OwnedFd(const OwnedFd& o);
    OwnedFd& operator=(const OwnedFd& o);
    OwnedFd(OwnedFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    OwnedFd& operator=(OwnedFd&& o) noexcept;
    ~OwnedFd();
    int get() const { return fd_; }

private:
    int fd_ = -1;
};

// A close-on-exec duplicate of fd: BRAID_OK, BRAID_EBADF, BRAID_EMFILE.
int duplicate_fd(int fd, int* out);

struct SpawnSpec {
    std::string program;
    std::vector<std::string> args;  // without argv[0]
    std::optional<std::string> arg0;  // argv[0] when it is not the program
    bool env_clear = false;
    std::vector<std::pair<std::string, std::optional<std::string>>> env;  // set (value) or remove (nullopt), in order
    std::optional<std::string> cwd;
    StdioMode stdio[3] = {StdioMode::Inherit, StdioMode::Inherit, StdioMode::Inherit};
    OwnedFd stdio_fd[3];   // StdioMode::Fd: what the child gets as stdio i
    int process_group = -1;  // setpgid(0, process_group) in the child (0: a new group); -1: inherit
    bool new_session = false;  // setsid() in the child
    std::optional<uint32_t> uid;  // setuid in the child (io/process_launch.hpp)
    std::optional<uint32_t> gid;  // setgid in the child
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
    int kill() { return signal(SIGKILL); }
    // Sends `sig` through the pidfd unless the child was reaped already
    // (then BRAID_OK: a reaped pid may belong to another process now).
    int signal(int sig);
    bool exited() {
        std::lock_guard<std::mutex> g(mu_);
        return exited_;
    }
    IoSource* source() const { return src_; }
    // Frees; the caller made sure the child was reaped or handed it on.
    void destroy();
    // Kills, waits for the exit, frees: a child that must not outlive a
    // failure.
    void kill_and_destroy();
    // Reaps without waiting (true once exited) or blocking until it exits.
    bool reap_now(bool block);
    // Reaps without waiting: BRAID_OK with *info once exited, else
    // BRAID_PENDING.
    int try_wait(ExitInfo* info);
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

// Lets go of a child nobody waits for any more (braid_child_free): kills it
// first when kill and it still runs, then reap_later.
void drop_child(Core* core, ChildProcess* proc, bool kill);

// Hands the process to a background reaper task (readiness of its pidfd),
// or reaps it here when it exited already or the runtime shuts down: a
// killed child is waited for (it exits at once); a running one is left a
// zombie until this process exits.  Takes ownership of proc.
void reap_later(Core* core, ChildProcess* proc, bool killed);

// braid_child_wait: calls cb(ud, status, code, signal) on a worker of core
// once proc exits (the exit as in ExitInfo; on an error or a cancel, -1 and
// 0), with the cancel status when the operation is aborted or its runtime
// shuts down first.  proc must stay alive until cb ran.  BRAID_OK,
// BRAID_ENOMEM, BRAID_ESHUTDOWN.
int wait_with_callback(braid_task** out, Core* core, ChildProcess* proc, braid_exit_callback cb, void* ud);

// braid_command_output: spawns spec with stdout and stderr piped and stdin
// /dev/null (nobody would write to a pipe, and an inherited stdin would
// let the child take the caller's input), drains both pipes and waits for
// the exit,
// then calls cb(ud, BRAID_OK, code, signal, out, out_len, err, err_len) on
// a worker.  A failed spawn or read calls back with its error, an abort or
// a shutdown with the cancel status (the child is killed and reaped in the
// background).  BRAID_OK, BRAID_ENOMEM, BRAID_ESHUTDOWN (std::bad_alloc
// may escape).
int collect_output(braid_task** out, Core* core, SpawnSpec spec, braid_output_callback cb, void* ud);

}  // namespace braid::detail
