#include "io/process.hpp"

#include <braid/error.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <string>

#include "io/io_handle.hpp"
#include "io/net.hpp"
#include "io/os_error.hpp"
#include "io/process_launch.hpp"
#include "runtime/core.hpp"
#include "task/spawn.hpp"
#include "task/callback.hpp"

extern char** environ;

namespace braid::detail {

namespace {

constexpr idtype_t kPidfd = idtype_t(3);  // P_PIDFD (Linux 5.4; older glibc lacks the name)

// Through syscall(2): glibc 2.36's <sys/pidfd.h> lacks C++ linkage.
int pidfd_open_(pid_t pid) { return int(::syscall(SYS_pidfd_open, pid, 0)); }
int pidfd_kill_(int pidfd, int sig) { return int(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0)); }

// Closes every fd in the list that is >= 0.
void close_all(std::initializer_list<int*> fds) {
    for (int* fd : fds)
        if (*fd >= 0) {
            ::close(*fd);
            *fd = -1;
        }
}

// The environment the child gets.
std::vector<std::string> child_env(const SpawnSpec& spec) {
    std::vector<std::string> env;
    if (!spec.env_clear)
        for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
    for (const auto& [key, value] : spec.env) {
        std::string prefix = key + "=";
        for (auto it = env.begin(); it != env.end();) {
            if (it->compare(0, prefix.size(), prefix) == 0) it = env.erase(it);
            else ++it;
        }
        if (value) env.push_back(prefix + *value);
    }
    return env;
}

// waitid on the pidfd without blocking: 0 with *info, or -1 (EAGAIN while
// it runs, or the errno).
int wait_pidfd(int pidfd, ExitInfo* info, bool block) {
    siginfo_t si;
    std::memset(&si, 0, sizeof si);
    int rc;
    do {
        rc = ::waitid(kPidfd, id_t(pidfd), &si, WEXITED | (block ? 0 : WNOHANG));
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) return -1;
    if (si.si_pid == 0) {
        errno = EAGAIN;
        return -1;
    }
    if (si.si_code == CLD_EXITED) {
        info->code = si.si_status;
        info->signal = 0;
    } else {
        info->code = -1;
        info->signal = si.si_status;
    }
    return 0;
}

}  // namespace

int ChildProcess::spawn(ChildProcess** out, Core* core, const SpawnSpec& spec, IoSource* pipes[3]) {
    *out = nullptr;
    pipes[0] = pipes[1] = pipes[2] = nullptr;
    if (spec.program.empty()) return BRAID_EINVAL;
    std::vector<std::string> env;
    std::vector<char*> argv, envp;
    try {
        env = child_env(spec);
        argv.push_back(const_cast<char*>(spec.arg0 ? spec.arg0->c_str() : spec.program.c_str()));
        for (const auto& a : spec.args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        for (auto& e : env) envp.push_back(e.data());
        envp.push_back(nullptr);
    } catch (...) {
        return BRAID_ENOMEM;
    }

    // pipe ends: [i][0] the parent's, [i][1] the child's
    int ends[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
    auto cleanup = [&] {
        for (auto& e : ends) close_all({&e[0], &e[1]});
    };
    for (int i = 0; i < 3; ++i) {
        if (spec.stdio[i] != StdioMode::Piped) continue;
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) {
            int rc = os_error(errno);
            cleanup();
            return rc;
        }
        // stdin: the child reads fds[0]; stdout/stderr: the child writes fds[1].
        ends[i][0] = i == 0 ? fds[1] : fds[0];
        ends[i][1] = i == 0 ? fds[0] : fds[1];
        int fl = ::fcntl(ends[i][0], F_GETFL);
        ::fcntl(ends[i][0], F_SETFL, fl | O_NONBLOCK);
    }

    int child_fds[3] = {ends[0][1], ends[1][1], ends[2][1]};
    pid_t pid = -1;
    int err = launch_child(spec, argv.data(), envp.data(), child_fds, &pid);
    for (auto& e : ends) close_all({&e[1]});  // the child's ends are the child's now
    if (err != BRAID_OK) {
        cleanup();
        return err;
    }

    // From here a failure must not leave the child running unreaped.
    auto abandon = [&](int rc) {
        ::kill(pid, SIGKILL);
        int st;
        while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        for (int i = 0; i < 3; ++i) {
            if (pipes[i]) {
                pipes[i]->close();
                pipes[i]->unref();
                pipes[i] = nullptr;
            }
        }
        cleanup();
        return rc;
    };
    int pidfd = pidfd_open_(pid);
    if (pidfd < 0) return abandon(errno == ENOSYS ? BRAID_ENOTSUP : os_error(errno));
    ::fcntl(pidfd, F_SETFD, FD_CLOEXEC);
    IoSource* src = nullptr;
    int rc = IoSource::create(&src, core, pidfd, kIoRead);
    if (rc != BRAID_OK) {
        ::close(pidfd);
        return abandon(rc);
    }
    for (int i = 0; i < 3; ++i) {
        if (ends[i][0] < 0) continue;
        rc = IoSource::create(&pipes[i], core, ends[i][0]);
        if (rc != BRAID_OK) {
            src->close();
            src->unref();
            return abandon(rc);
        }
        ends[i][0] = -1;  // the source's now
    }
    auto* c = new (std::nothrow) ChildProcess(pid, src);
    if (!c) {
        src->close();
        src->unref();
        return abandon(BRAID_ENOMEM);
    }
    *out = c;
    return BRAID_OK;
}

int ChildProcess::poll_wait(braid_wake_fn wake, void* data, ExitInfo* info) {
    {
        std::lock_guard<std::mutex> g(mu_);
        if (exited_) {
            *info = info_;
            return BRAID_OK;
        }
    }
    ssize_t r = 0;
    // Every waitid runs under mu_, so a reap from here and one from
    // reap_now never race for the same child.
    int rc = src_->poll_op(kIoRead, wake, data, 0, &r, [&]() -> ssize_t {
        int e = 0;
        ssize_t out = 0;
        {
            std::lock_guard<std::mutex> g(mu_);
            if (!exited_) {
                ExitInfo got;
                if (wait_pidfd(src_->fd(), &got, false) == 0) {
                    exited_ = true;
                    info_ = got;
                } else if (errno == ECHILD) {
                    exited_ = true;  // reaped elsewhere (SIGCHLD ignored): no status to give
                } else {
                    e = errno;
                    out = -1;
                }
            }
        }
        errno = e;
        return out;
    });
    if (rc != BRAID_OK) return rc;
    std::lock_guard<std::mutex> g(mu_);
    *info = info_;
    return BRAID_OK;
}

bool ChildProcess::reap_now(bool block) {
    std::lock_guard<std::mutex> g(mu_);
    if (exited_) return true;
    ExitInfo got;
    if (wait_pidfd(src_->fd(), &got, block) != 0) {
        if (errno == ECHILD) exited_ = true;  // reaped elsewhere (SIGCHLD ignored): nothing left to wait for
        return exited_;
    }
    exited_ = true;
    info_ = got;
    return true;
}

int ChildProcess::signal(int sig) {
    std::lock_guard<std::mutex> g(mu_);
    if (exited_) return BRAID_OK;
    if (pidfd_kill_(src_->fd(), sig) != 0 && errno != ESRCH) return os_error(errno);
    return BRAID_OK;
}

int duplicate_fd(int fd, int* out) {
    int d = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (d < 0) return os_error(errno);
    *out = d;
    return BRAID_OK;
}

OwnedFd::OwnedFd(const OwnedFd& o) : fd_(o.fd_ < 0 ? -1 : ::fcntl(o.fd_, F_DUPFD_CLOEXEC, 0)) {
    if (o.fd_ >= 0 && fd_ < 0) throw std::bad_alloc();  // out of fds: as out of memory for a copy
}

OwnedFd& OwnedFd::operator=(const OwnedFd& o) {
    if (this != &o) *this = OwnedFd(o);
    return *this;
}

OwnedFd& OwnedFd::operator=(OwnedFd&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
}

OwnedFd::~OwnedFd() {
    if (fd_ >= 0) ::close(fd_);
}

int ChildProcess::try_wait(ExitInfo* info) {
    if (!reap_now(false)) return BRAID_PENDING;
    *info = this->info();
    return BRAID_OK;
}

void ChildProcess::destroy() {
    src_->close();
    src_->unref();
    delete this;
}

void ChildProcess::kill_and_destroy() {
    kill();
    reap_now(true);
    destroy();
}

namespace {

// Reaps a child nobody waits for any more, on a worker (readiness of its
// pidfd); at shutdown (cancel) it reaps at once if it can.
struct ReapOp {
    ChildProcess* proc;
    void* waker = nullptr;  // this operation's task, once polled
    explicit ReapOp(ChildProcess* p) : proc(p) {}
    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<ReapOp*>(self);
        s->waker = me;
        ExitInfo info;
        int rc = s->proc->poll_wait(&braid_task_wake_fn, me, &info);
        if (rc == BRAID_PENDING) return BRAID_PENDING;
        if (rc != BRAID_OK) s->proc->reap_now(false);
        unregister_own(s->proc->source(), kIoRead, s->waker);
        s->proc->destroy();
        s->proc = nullptr;
        return BRAID_OK;
    }
    static void cancel(void* self) {
        auto* s = static_cast<ReapOp*>(self);
        unregister_own(s->proc->source(), kIoRead, s->waker);
        s->proc->reap_now(false);  // still running: it stays a zombie until this process exits
        s->proc->destroy();
        s->proc = nullptr;
    }
    ~ReapOp() {
        if (proc) {
            proc->reap_now(false);
            proc->destroy();
        }
    }
};

// braid_child_wait's operation.
struct WaitOp {
    ChildProcess* proc;
    Callback<braid_exit_callback> cb;
    void* ud;
    void* waker = nullptr;  // this operation's task, once polled
    WaitOp(ChildProcess* p, braid_exit_callback f, void* u) : proc(p), cb(f), ud(u) {}
    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<WaitOp*>(self);
        s->waker = me;
        ExitInfo info;
        int rc = s->proc->poll_wait(&braid_task_wake_fn, me, &info);
        if (rc == BRAID_PENDING) return BRAID_PENDING;
        unregister_own(s->proc->source(), kIoRead, s->waker);
        s->cb(s->ud, rc, rc == BRAID_OK ? info.code : -1, rc == BRAID_OK ? info.signal : 0);
        return BRAID_OK;
    }
    static void cancel(void* self) {
        auto* s = static_cast<WaitOp*>(self);
        unregister_own(s->proc->source(), kIoRead, s->waker);
        s->cb(s->ud, current_cancel_status(), -1, 0);
    }
};

// braid_command_output's operation: spawn, drain both pipes, wait.
struct OutputOp {
    Core* core;
    SpawnSpec spec;
    Callback<braid_output_callback> cb;
    void* ud;
    ChildProcess* proc = nullptr;
    IoSource* pipes[3] = {nullptr, nullptr, nullptr};
    bool started = false;
    bool eof[2] = {false, false};
    std::string data[2];
    void* waker = nullptr;  // this operation's task, once polled
    OutputOp(Core* c, SpawnSpec&& s, braid_output_callback f, void* u) : core(c), spec(std::move(s)), cb(f), ud(u) {}
    void drop_pipes() {
        for (auto*& p : pipes) {
            if (p) {
                p->close();
                p->unref();
                p = nullptr;
            }
        }
    }
    int fail(int rc) {
        drop_pipes();
        if (proc) {
            proc->kill();
            reap_later(core, std::exchange(proc, nullptr), true);
        }
        cb(ud, rc, -1, 0, nullptr, 0, nullptr, 0);
        return BRAID_OK;
    }
    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<OutputOp*>(self);
        s->waker = me;
        if (!s->started) {
            s->started = true;
            int rc = ChildProcess::spawn(&s->proc, s->core, s->spec, s->pipes);
            if (rc != BRAID_OK) {
                s->cb(s->ud, rc, -1, 0, nullptr, 0, nullptr, 0);
                return BRAID_OK;
            }
        }
        char buf[16 * 1024];
        for (int i = 0; i < 2; ++i) {
            while (!s->eof[i]) {
                size_t n = 0;
                int rc = net::poll_pipe_read(s->pipes[i + 1], buf, sizeof buf, &braid_task_wake_fn, me, &n);
                if (rc == BRAID_PENDING) break;
                if (rc < 0) return s->fail(rc);
                if (n == 0) {
                    s->eof[i] = true;
                    unregister_own(s->pipes[i + 1], kIoRead, s->waker);
                    break;
                }
                try {
                    s->data[i].append(buf, n);
                } catch (const std::bad_alloc&) {
                    return s->fail(BRAID_ENOMEM);
                } catch (...) {
                    return s->fail(BRAID_EPANIC);  // (length_error: past what a string holds)
                }
            }
        }
        if (!s->eof[0] || !s->eof[1]) return BRAID_PENDING;
        ExitInfo info;
        int rc = s->proc->poll_wait(&braid_task_wake_fn, me, &info);
        if (rc == BRAID_PENDING) return BRAID_PENDING;
        if (rc < 0) return s->fail(rc);
        unregister_own(s->proc->source(), kIoRead, s->waker);
        s->drop_pipes();
        std::exchange(s->proc, nullptr)->destroy();
        s->cb(s->ud, BRAID_OK, info.code, info.signal, s->data[0].data(), s->data[0].size(), s->data[1].data(),
              s->data[1].size());
        return BRAID_OK;
    }
    static void cancel(void* self) {
        auto* s = static_cast<OutputOp*>(self);
        for (auto* p : s->pipes)
            if (p) unregister_own(p, kIoRead, s->waker);
        if (s->proc) unregister_own(s->proc->source(), kIoRead, s->waker);
        s->drop_pipes();
        if (s->proc) {
            s->proc->kill();
            reap_later(s->core, std::exchange(s->proc, nullptr), true);
        }
        s->cb(s->ud, current_cancel_status(), -1, 0, nullptr, 0, nullptr, 0);
    }
    ~OutputOp() {
        drop_pipes();
        if (proc) proc->kill_and_destroy();
    }
};

}  // namespace

void reap_later(Core* core, ChildProcess* proc, bool killed) {
    if (proc->reap_now(false)) {
        proc->destroy();
        return;
    }
    if (!core->shutting_down()) {
        int rc = spawn_op<ReapOp>(nullptr, core, TaskKind::Worker, proc);  // (ReapOp's constructor never throws)
        if (rc == BRAID_OK) return;         // the reaper owns it
        if (rc == BRAID_ESHUTDOWN) return;  // made but refused: its release reaps what it can and frees it
    }
    proc->reap_now(killed);  // a killed child exits at once: wait for it; a running one is left
    proc->destroy();
}

void drop_child(Core* core, ChildProcess* proc, bool kill) {
    bool killed = false;
    if (kill && !proc->exited()) {
        proc->kill();
        killed = true;
    }
    reap_later(core, proc, killed);
}

int wait_with_callback(braid_task** out, Core* core, ChildProcess* proc, braid_exit_callback cb, void* ud) {
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return spawn_op<WaitOp>(out, core, TaskKind::Worker, proc, cb, ud);
}

int collect_output(braid_task** out, Core* core, SpawnSpec spec, braid_output_callback cb, void* ud) {
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    spec.stdio[0] = StdioMode::Null;  // nobody would write to a pipe; an inherited stdin is the caller's
    spec.stdio[1] = spec.stdio[2] = StdioMode::Piped;
    return spawn_op<OutputOp>(out, core, TaskKind::Worker, core, std::move(spec), cb, ud);
}

}  // namespace braid::detail
