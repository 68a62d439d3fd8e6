// extern "C" shims: child processes and their pipes (the children's
// operations live in src/io/process.*).
#include <braid/process.h>
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <string>
#include <utility>

#include "io/process.hpp"
#include "io_shim.hpp"

using braid::capi::core_or_current;
using braid::capi::guarded;
using braid::capi::io::Handle;
using braid::detail::ChildProcess;
using braid::detail::Core;
using braid::detail::ExitInfo;
using braid::detail::IoSource;
using braid::detail::SpawnSpec;
using braid::detail::StdioMode;
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

// The child's stdio i is a duplicate of `fd` (the caller keeps its own).
int set_stdio_fd(braid_command* cmd, int i, int fd) {
    if (!cmd || fd < 0) return BRAID_EINVAL;
    int mine = -1;
    if (int rc = braid::detail::duplicate_fd(fd, &mine)) return rc;
    cmd->spec.stdio_fd[i] = braid::detail::OwnedFd(mine);
    cmd->spec.stdio[i] = StdioMode::Fd;
    return BRAID_OK;
}

braid_pipe* make_pipe(Core* core, IoSource* src) {
    auto* p = new (std::nothrow) braid_pipe;
    if (!p) return nullptr;
    p->io.adopt(core, src, braid::detail::IoKind::Pipe);
    return p;
}

void free_pipe(braid_pipe* p) { io::free_handle(p); }

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
        proc->kill_and_destroy();
        return BRAID_ENOMEM;
    }
    core->ref();
    *out = c;
    return BRAID_OK;
}

int take_pipe(braid_child* c, int i, braid_pipe** out) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!c || !c->pipes[i]) return BRAID_EINVAL;
    *out = std::exchange(c->pipes[i], nullptr);
    return BRAID_OK;
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

BRAID_API int braid_command_stdin_fd(braid_command* cmd, int fd) { return set_stdio_fd(cmd, 0, fd); }
BRAID_API int braid_command_stdout_fd(braid_command* cmd, int fd) { return set_stdio_fd(cmd, 1, fd); }
BRAID_API int braid_command_stderr_fd(braid_command* cmd, int fd) { return set_stdio_fd(cmd, 2, fd); }

BRAID_API int braid_command_arg0(braid_command* cmd, const char* arg0) {
    if (!cmd || !ok_str(arg0)) return BRAID_EINVAL;
    return guarded([&] {
        cmd->spec.arg0 = std::string(arg0);
        return int(BRAID_OK);
    });
}

BRAID_API int braid_command_process_group(braid_command* cmd, int pgid) {
    if (!cmd || pgid < 0) return BRAID_EINVAL;
    cmd->spec.process_group = pgid;
    return BRAID_OK;
}

BRAID_API int braid_command_setsid(braid_command* cmd, int on) {
    if (!cmd) return BRAID_EINVAL;
    cmd->spec.new_session = on != 0;
    return BRAID_OK;
}

BRAID_API int braid_command_uid(braid_command* cmd, uint32_t uid) {
    if (!cmd || uid == uint32_t(-1)) return BRAID_EINVAL;
    cmd->spec.uid = uid;
    return BRAID_OK;
}

BRAID_API int braid_command_gid(braid_command* cmd, uint32_t gid) {
    if (!cmd || gid == uint32_t(-1)) return BRAID_EINVAL;
    cmd->spec.gid = gid;
    return BRAID_OK;
}

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
    return guarded([&] { return braid::detail::collect_output(out, core, cmd->spec, cb, user_data); });
}

// ---- children -------------------------------------------------------------------

BRAID_API int braid_child_id(const braid_child* c) {
    if (!c) return BRAID_EINVAL;
    return c->proc->exited() ? 0 : c->proc->pid();  // a reaped pid may be another process's now
}
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
    ExitInfo info;
    int rc = c->proc->try_wait(&info);
    if (rc == BRAID_OK) {
        if (out_code) *out_code = info.code;
        if (out_signal) *out_signal = info.signal;
    }
    return rc;
}

BRAID_API int braid_child_wait(braid_task** out, braid_child* c, braid_exit_callback cb, void* user_data) {
    if (out) *out = nullptr;
    if (!c || !cb) return BRAID_EINVAL;
    return braid::detail::wait_with_callback(out, c->core, c->proc, cb, user_data);
}

BRAID_API int braid_child_kill(braid_child* c) { return c ? c->proc->kill() : BRAID_EINVAL; }

BRAID_API int braid_child_signal(braid_child* c, int signum) {
    if (!c || signum <= 0 || signum >= NSIG) return BRAID_EINVAL;
    return c->proc->signal(signum);
}

BRAID_API void braid_child_free(braid_child* c) {
    if (!c) return;
    for (auto* p : c->pipes) free_pipe(p);
    Core* core = c->core;
    braid::detail::drop_child(core, c->proc, c->kill_on_drop);
    delete c;
    core->unref();
}

// ---- pipes ------------------------------------------------------------------------

BRAID_API braid_byte_stream* braid_pipe_as_byte_stream(braid_pipe* p) {
    return p ? io::as_byte_stream(&p->io) : nullptr;
}

BRAID_API int braid_pipe_fd(const braid_pipe* p) { return Handle::fd(p ? &p->io : nullptr); }

BRAID_API int braid_pipe_close(braid_pipe* p) { return p ? p->io.close() : BRAID_EINVAL; }

BRAID_API void braid_pipe_free(braid_pipe* p) { free_pipe(p); }

}  // extern "C"
