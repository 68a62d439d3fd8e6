// extern "C" shims: child processes and their pipes.
#include <braid/process.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <utility>

#include "io/process.hpp"
#include "io_shim.hpp"

using braid::capi::core_or_current;
using braid::capi::guarded;
using braid::capi::spawn_state;
using braid::capi::io::Handle;
using braid::capi::io::unregister_own;
using braid::detail::ChildProcess;
using braid::detail::Core;
using braid::detail::ExitInfo;
using braid::detail::IoSource;
using braid::detail::SpawnSpec;
using braid::detail::StdioMode;
using braid::detail::TaskKind;
namespace net = braid::detail::net;
namespace io = braid::capi::io;

struct braid_command {
    SpawnSpec spec;
    bool kill_on_drop = false;
};

struct braid_pipe {
    Handle io;
};

struct braid_child {
    Core* core;
    ChildProcess* proc;
    braid_pipe* pipes[3];
    bool kill_on_drop;
};

namespace {

bool ok_str(const char* s) { return s && *s; }

int set_stdio(braid_command* cmd, int i, int how) {
    if (!cmd || how < BRAID_STDIO_INHERIT || how > BRAID_STDIO_PIPED) return BRAID_EINVAL;
    cmd->spec.stdio[i] = StdioMode(how);
    return BRAID_OK;
}

braid_pipe* make_pipe(Core* core, IoSource* src) {
    auto* p = new (std::nothrow) braid_pipe;
    if (!p) return nullptr;
    p->io.adopt(core, src);
    return p;
}

void free_pipe(braid_pipe* p) {
    if (!p) return;
    p->io.free();
    delete p;
}

// Spawns and wraps.  On failure nothing is left behind.
int spawn_child(braid_child** out, Core* core, const SpawnSpec& spec, bool kill_on_drop) {
    IoSource* pipes[3] = {nullptr, nullptr, nullptr};
    ChildProcess* proc = nullptr;
    int rc = ChildProcess::spawn(&proc, core, spec, pipes);
    if (rc != BRAID_OK) return rc;
    auto* c = new (std::nothrow) braid_child{core, proc, {nullptr, nullptr, nullptr}, kill_on_drop};
    bool ok = c != nullptr;
    for (int i = 0; i < 3 && ok; ++i)
        if (pipes[i] && !(c->pipes[i] = make_pipe(core, pipes[i]))) ok = false;
    if (!ok) {
        for (int i = 0; i < 3; ++i) {
            if (c && c->pipes[i]) free_pipe(c->pipes[i]);
            else if (pipes[i]) {
                pipes[i]->close();
                pipes[i]->unref();
            }
        }
        delete c;
        proc->kill();
        proc->reap_now(true);
        proc->destroy();
        return BRAID_ENOMEM;
    }
    core->ref();
    *out = c;
    return BRAID_OK;
}

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
        unregister_own(s->proc->source(), braid::detail::kIoRead, s->waker);
        s->proc->destroy();
        s->proc = nullptr;
        return BRAID_OK;
    }
    static void cancel(void* self) {
        auto* s = static_cast<ReapOp*>(self);
        unregister_own(s->proc->source(), braid::detail::kIoRead, s->waker);
        s->proc->reap_now(false);  // still running: it stays a zombie until this process exits
        s->proc->destroy();
        s->proc = nullptr;
    }
    static void release(void* self) {
        auto* s = static_cast<ReapOp*>(self);
        if (s->proc) {
            s->proc->reap_now(false);
            s->proc->destroy();
        }
        s->~ReapOp();
    }
};

// Hands the process to the background reaper, or reaps it here.
void reap_later(Core* core, ChildProcess* proc, bool killed) {
    if (proc->reap_now(false)) {
        proc->destroy();
        return;
    }
    if (!core->shutting_down()) {
        int rc = guarded([&] { return spawn_state<ReapOp>(nullptr, core, TaskKind::Worker, proc); });
        if (rc == BRAID_OK) return;         // the reaper owns it
        if (rc == BRAID_ESHUTDOWN) return;  // made but refused: its release reaps what it can and frees it
    }
    proc->reap_now(killed);  // a killed child exits at once: wait for it; a running one is left
    proc->destroy();
}

struct WaitOp {
    braid_child* c;
    braid_exit_callback cb;
    void* ud;
    void* waker = nullptr;  // this operation's task, once polled
    WaitOp(braid_child* ch, braid_exit_callback f, void* u) : c(ch), cb(f), ud(u) {}
    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<WaitOp*>(self);
        s->waker = me;
        ExitInfo info;
        int rc = s->c->proc->poll_wait(&braid_task_wake_fn, me, &info);
        if (rc == BRAID_PENDING) return BRAID_PENDING;
        unregister_own(s->c->proc->source(), braid::detail::kIoRead, s->waker);
        s->cb(s->ud, rc, rc == BRAID_OK ? info.code : -1, rc == BRAID_OK ? info.signal : 0);
        return BRAID_OK;
    }
    static void cancel(void* self) {
        auto* s = static_cast<WaitOp*>(self);
        unregister_own(s->c->proc->source(), braid::detail::kIoRead, s->waker);
        s->cb(s->ud, braid::capi::cancel_status(), -1, 0);
    }
    static void release(void* self) { static_cast<WaitOp*>(self)->~WaitOp(); }
};

// braid_command_output's operation: spawn, drain both pipes, wait.
struct OutputOp {
    Core* core;
    SpawnSpec spec;
    braid_output_callback cb;
    void* ud;
    ChildProcess* proc = nullptr;
    IoSource* pipes[3] = {nullptr, nullptr, nullptr};
    bool started = false;
    bool eof[2] = {false, false};
    std::string data[2];
    void* waker = nullptr;  // this operation's task, once polled
    OutputOp(Core* c, const SpawnSpec& s, braid_output_callback f, void* u) : core(c), spec(s), cb(f), ud(u) {
        spec.stdio[1] = spec.stdio[2] = StdioMode::Piped;
    }
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
                    unregister_own(s->pipes[i + 1], braid::detail::kIoRead, s->waker);
                    break;
                }
                try {
                    s->data[i].append(buf, n);
                } catch (...) {
                    return s->fail(braid::capi::exception_code());
                }
            }
        }
        if (!s->eof[0] || !s->eof[1]) return BRAID_PENDING;
        ExitInfo info;
        int rc = s->proc->poll_wait(&braid_task_wake_fn, me, &info);
        if (rc == BRAID_PENDING) return BRAID_PENDING;
        if (rc < 0) return s->fail(rc);
        unregister_own(s->proc->source(), braid::detail::kIoRead, s->waker);
        s->drop_pipes();
        std::exchange(s->proc, nullptr)->destroy();
        s->cb(s->ud, BRAID_OK, info.code, info.signal, s->data[0].data(), s->data[0].size(), s->data[1].data(),
              s->data[1].size());
        return BRAID_OK;
    }
    static void cancel(void* self) {
        auto* s = static_cast<OutputOp*>(self);
        for (auto* p : s->pipes)
            if (p) unregister_own(p, braid::detail::kIoRead, s->waker);
        if (s->proc) unregister_own(s->proc->source(), braid::detail::kIoRead, s->waker);
        s->drop_pipes();
        if (s->proc) {
            s->proc->kill();
            reap_later(s->core, std::exchange(s->proc, nullptr), true);
        }
        s->cb(s->ud, braid::capi::cancel_status(), -1, 0, nullptr, 0, nullptr, 0);
    }
    static void release(void* self) {
        auto* s = static_cast<OutputOp*>(self);
        s->drop_pipes();
        if (s->proc) {
            s->proc->kill();
            s->proc->reap_now(true);
            s->proc->destroy();
        }
        s->~OutputOp();
    }
};

int take_pipe(braid_child* c, int i, braid_pipe** out) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!c || !c->pipes[i]) return BRAID_EINVAL;
    *out = std::exchange(c->pipes[i], nullptr);
    return BRAID_OK;
}

int pipe_write(IoSource* s, void* b, size_t l, braid_wake_fn w, void* d, size_t* n) {
    return net::poll_pipe_write(s, b, l, w, d, n);
}

}  // namespace

extern "C" {

// ---- commands ----------------------------------------------------------------

BRAID_API int braid_command_new(braid_command** out, const char* program) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!ok_str(program)) return BRAID_EINVAL;
    return guarded([&] {
        auto* c = new braid_command;
        c->spec.program = program;
        *out = c;
        return int(BRAID_OK);
    });
}

BRAID_API int braid_command_arg(braid_command* cmd, const char* arg) {
    if (!cmd || !arg) return BRAID_EINVAL;
    return guarded([&] {
        cmd->spec.args.emplace_back(arg);
        return int(BRAID_OK);
    });
}

BRAID_API int braid_command_env(braid_command* cmd, const char* key, const char* value) {
    if (!cmd || !ok_str(key) || std::strchr(key, '=') || !value) return BRAID_EINVAL;
    return guarded([&] {
        cmd->spec.env.emplace_back(key, std::string(value));
        return int(BRAID_OK);
    });
}

BRAID_API int braid_command_env_remove(braid_command* cmd, const char* key) {
    if (!cmd || !ok_str(key) || std::strchr(key, '=')) return BRAID_EINVAL;
    return guarded([&] {
        cmd->spec.env.emplace_back(key, std::nullopt);
        return int(BRAID_OK);
    });
}

BRAID_API int braid_command_env_clear(braid_command* cmd) {
    if (!cmd) return BRAID_EINVAL;
    cmd->spec.env_clear = true;
    cmd->spec.env.clear();
    return BRAID_OK;
}

BRAID_API int braid_command_current_dir(braid_command* cmd, const char* dir) {
    if (!cmd || !ok_str(dir)) return BRAID_EINVAL;
    return guarded([&] {
        cmd->spec.cwd = std::string(dir);
        return int(BRAID_OK);
    });
}

BRAID_API int braid_command_stdin(braid_command* cmd, int how) { return set_stdio(cmd, 0, how); }
BRAID_API int braid_command_stdout(braid_command* cmd, int how) { return set_stdio(cmd, 1, how); }
BRAID_API int braid_command_stderr(braid_command* cmd, int how) { return set_stdio(cmd, 2, how); }

BRAID_API int braid_command_kill_on_drop(braid_command* cmd, int on) {
    if (!cmd) return BRAID_EINVAL;
    cmd->kill_on_drop = on != 0;
    return BRAID_OK;
}

BRAID_API void braid_command_free(braid_command* cmd) { delete cmd; }

BRAID_API int braid_command_spawn(braid_child** out, braid_command* cmd, braid_runtime* rt) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!cmd) return BRAID_EINVAL;
    Core* core = core_or_current(rt);
    if (!core) return BRAID_EINVAL;
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return guarded([&] { return spawn_child(out, core, cmd->spec, cmd->kill_on_drop); });
}

BRAID_API int braid_command_output(braid_task** out, braid_command* cmd, braid_runtime* rt, braid_output_callback cb,
                                   void* user_data) {
    if (out) *out = nullptr;
    if (!cmd || !cb) return BRAID_EINVAL;
    Core* core = core_or_current(rt);
    if (!core) return BRAID_EINVAL;
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return guarded([&] {
        SpawnSpec spec = cmd->spec;
        if (spec.stdio[0] == StdioMode::Inherit) spec.stdio[0] = StdioMode::Null;
        if (spec.stdio[0] == StdioMode::Piped) spec.stdio[0] = StdioMode::Null;  // nobody would write to it
        return spawn_state<OutputOp>(out, core, TaskKind::Worker, core, spec, cb, user_data);
    });
}

// ---- children -------------------------------------------------------------------

BRAID_API int braid_child_id(const braid_child* c) { return c ? c->proc->pid() : BRAID_EINVAL; }
BRAID_API int braid_child_take_stdin(braid_child* c, braid_pipe** out) { return take_pipe(c, 0, out); }
BRAID_API int braid_child_take_stdout(braid_child* c, braid_pipe** out) { return take_pipe(c, 1, out); }
BRAID_API int braid_child_take_stderr(braid_child* c, braid_pipe** out) { return take_pipe(c, 2, out); }

BRAID_API int braid_child_poll_wait(braid_child* c, braid_wake_fn wake, void* wake_data, int* out_code,
                                    int* out_signal) {
    if (!c) return BRAID_EINVAL;
    ExitInfo info;
    if (!wake) return braid::capi::withdrawn([&] { c->proc->poll_wait(nullptr, wake_data, &info); });
    int rc = c->proc->poll_wait(wake, wake_data, &info);
    if (rc == BRAID_OK) {
        if (out_code) *out_code = info.code;
        if (out_signal) *out_signal = info.signal;
    }
    return rc;
}

BRAID_API int braid_child_try_wait(braid_child* c, int* out_code, int* out_signal) {
    if (!c) return BRAID_EINVAL;
    if (!c->proc->reap_now(false)) return BRAID_PENDING;
    ExitInfo info = c->proc->info();
    if (out_code) *out_code = info.code;
    if (out_signal) *out_signal = info.signal;
    return BRAID_OK;
}

BRAID_API int braid_child_wait(braid_task** out, braid_child* c, braid_exit_callback cb, void* user_data) {
    if (out) *out = nullptr;
    if (!c || !cb) return BRAID_EINVAL;
    if (c->core->shutting_down()) return BRAID_ESHUTDOWN;
    return guarded([&] { return spawn_state<WaitOp>(out, c->core, TaskKind::Worker, c, cb, user_data); });
}

BRAID_API int braid_child_kill(braid_child* c) { return c ? c->proc->kill() : BRAID_EINVAL; }

BRAID_API void braid_child_free(braid_child* c) {
    if (!c) return;
    for (auto* p : c->pipes) free_pipe(p);
    Core* core = c->core;
    bool killed = false;
    if (c->kill_on_drop && !c->proc->exited()) {
        c->proc->kill();
        killed = true;
    }
    reap_later(core, c->proc, killed);
    delete c;
    core->unref();
}

// ---- pipes ------------------------------------------------------------------------

BRAID_API int braid_pipe_poll_read(braid_pipe* p, void* buf, size_t len, braid_wake_fn wake, void* wake_data,
                                   size_t* out_n) {
    if (!p || !p->io.src || !out_n) return BRAID_EINVAL;
    return net::poll_pipe_read(p->io.src, buf, len, wake, wake_data, out_n);
}

BRAID_API int braid_pipe_poll_write(braid_pipe* p, const void* buf, size_t len, braid_wake_fn wake, void* wake_data,
                                    size_t* out_n) {
    if (!p || !p->io.src || !out_n) return BRAID_EINVAL;
    return net::poll_pipe_write(p->io.src, buf, len, wake, wake_data, out_n);
}

BRAID_API int braid_pipe_read(braid_task** out, braid_pipe* p, void* buf, size_t len, braid_io_callback cb,
                              void* user_data) {
    return io::start_xfer(out, p ? &p->io : nullptr, &net::poll_pipe_read, braid::detail::kIoRead, buf, len, false,
                          cb, user_data, true);
}

BRAID_API int braid_pipe_write_all(braid_task** out, braid_pipe* p, const void* buf, size_t len,
                                   braid_io_callback cb, void* user_data) {
    return io::start_xfer(out, p ? &p->io : nullptr, &pipe_write, braid::detail::kIoWrite, const_cast<void*>(buf),
                          len, true, cb, user_data, false);
}

BRAID_API int braid_pipe_fd(const braid_pipe* p) { return p && p->io.src ? p->io.src->fd() : BRAID_EINVAL; }

BRAID_API int braid_pipe_close(braid_pipe* p) {
    if (!p || !p->io.src) return BRAID_EINVAL;
    IoSource* s = p->io.src;
    if (s->closed()) return BRAID_OK;
    s->close();
    // Let go of the pipe now (the other side sees end of file or EPIPE),
    // but keep the fd number taken until the handle is freed: it points at
    // /dev/null from here on, so a syscall racing with this never reaches
    // some other file that reused the number.
    int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd >= 0) {
        ::dup3(null_fd, s->fd(), O_CLOEXEC);
        ::close(null_fd);
    }
    return BRAID_OK;
}

BRAID_API void braid_pipe_free(braid_pipe* p) { free_pipe(p); }

}  // extern "C"
