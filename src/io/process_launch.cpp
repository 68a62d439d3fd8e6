#include "io/process_launch.hpp"

#include <braid/error.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "io/os_error.hpp"

namespace braid::detail {

namespace {

int launch_spawn(const SpawnSpec& spec, char* const argv[], char* const envp[], const int child_fds[3], pid_t* pid) {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    for (int i = 0; i < 3; ++i) {
        if (spec.stdio[i] == StdioMode::Piped) posix_spawn_file_actions_adddup2(&fa, child_fds[i], i);
        else if (spec.stdio[i] == StdioMode::Fd) posix_spawn_file_actions_adddup2(&fa, spec.stdio_fd[i].get(), i);
        else if (spec.stdio[i] == StdioMode::Null)
            posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
    }
    if (spec.cwd) posix_spawn_file_actions_addchdir_np(&fa, spec.cwd->c_str());
    // The child starts with no signal blocked and default dispositions (a
    // worker's mask or an ignored SIGPIPE must not leak into it).
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (spec.process_group >= 0) {
        posix_spawnattr_setpgroup(&attr, spec.process_group);
        flags |= POSIX_SPAWN_SETPGROUP;
    }
    if (spec.new_session) flags |= POSIX_SPAWN_SETSID;
    posix_spawnattr_setflags(&attr, flags);
    int err = ::posix_spawnp(pid, spec.program.c_str(), &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return err == 0 ? BRAID_OK : os_error(err);
}

// Where execvp would look for `program`: itself when it names a path, else
// each directory of this process's PATH ("/bin:/usr/bin" without one; an
// empty entry is the working directory).
std::vector<std::string> candidates(const std::string& program) {
    if (program.find('/') != std::string::npos) return {program};
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/bin:/usr/bin";
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        std::size_t end = dirs.find(':', start);
        std::string dir = dirs.substr(start, end == std::string::npos ? std::string::npos : end - start);
        out.push_back(dir.empty() ? program : dir + "/" + program);
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return out;
}

// The child's way out when it cannot exec: errno to the parent, exit 127.
[[noreturn]] void child_fail(int report, int e) {
    while (::write(report, &e, sizeof e) < 0 && errno == EINTR) {
    }
    ::_exit(127);
}

// The forked child: async-signal-safe calls only.  Reports errno through
// `report` and exits 127 when it cannot exec.
[[noreturn]] void run_child(const SpawnSpec& spec, const std::vector<const char*>& paths, char* const argv[],
                            char* const envp[], const int child_fds[3], int report) {
    auto fail = [report](int e) { child_fail(report, e); };
    for (int i = 0; i < 3; ++i) {
        int fd = spec.stdio[i] == StdioMode::Piped ? child_fds[i]
                 : spec.stdio[i] == StdioMode::Fd  ? spec.stdio_fd[i].get()
                                                   : -1;
        if (spec.stdio[i] == StdioMode::Null) {
            fd = ::open("/dev/null", i == 0 ? O_RDONLY : O_WRONLY);
            if (fd < 0) fail(errno);
            if (fd == i) continue;  // opened without O_CLOEXEC: it stays
            if (::dup2(fd, i) < 0) fail(errno);
            ::close(fd);
        } else if (fd == i) {
            if (::fcntl(i, F_SETFD, 0) < 0) fail(errno);  // kept across exec, as posix_spawn's dup2 to itself
        } else if (fd >= 0 && ::dup2(fd, i) < 0) {
            fail(errno);
        }
    }
    if (spec.cwd && ::chdir(spec.cwd->c_str()) < 0) fail(errno);
    if (spec.new_session && ::setsid() < 0) fail(errno);
    if (spec.process_group >= 0 && ::setpgid(0, spec.process_group) < 0) fail(errno);
    if (spec.gid && ::setgid(gid_t(*spec.gid)) < 0) fail(errno);
    if (spec.uid) {
        // Leaving root: drop its supplementary groups too (they would stay
        // otherwise); a user without the right to cannot have any to drop.
        if (::getuid() == 0) (void)::setgroups(0, nullptr);
        if (::setuid(uid_t(*spec.uid)) < 0) fail(errno);
    }
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; ++s)
        if (s != SIGKILL && s != SIGSTOP) (void)::sigaction(s, &dfl, nullptr);  // glibc's own signals refuse: fine
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // As execvp: a path that does not exist, or is no directory, lets the
    // search go on; EACCES is remembered (reported if nothing else runs);
    // any other failure stops it.
    bool denied = false;
    for (const char* p : paths) {
        ::execve(p, argv, envp);
        int e = errno;
        if (e == EACCES) denied = true;
        else if (e != ENOENT && e != ENOTDIR && e != ESTALE && e != ENODEV && e != ETIMEDOUT) fail(e);
    }
    child_fail(report, denied ? EACCES : ENOENT);
}

int launch_forked(const SpawnSpec& spec, char* const argv[], char* const envp[], const int child_fds[3], pid_t* pid) {
    std::vector<std::string> found;
    std::vector<const char*> paths;
    try {
        found = candidates(spec.program);
        for (const auto& p : found) paths.push_back(p.c_str());
    } catch (...) {
        return BRAID_ENOMEM;
    }
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) return os_error(errno);
    // No handler of ours may run in the child before it resets them.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t child = ::fork();
    if (child == 0) {
        ::close(report[0]);
        run_child(spec, paths, argv, envp, child_fds, report[1]);
    }
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    ::close(report[1]);
    if (child < 0) {
        ::close(report[0]);
        return os_error(fork_errno);
    }
    // The pipe closes at the exec (close-on-exec): EOF means it started.
    int child_errno = 0;
    ssize_t n;
    do {
        n = ::read(report[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    ::close(report[0]);
    if (n == ssize_t(sizeof child_errno)) {
        int st;
        while (::waitpid(child, &st, 0) < 0 && errno == EINTR) {
        }
        return os_error(child_errno);
    }
    *pid = child;
    return BRAID_OK;
}

}  // namespace

int launch_child(const SpawnSpec& spec, char* const argv[], char* const envp[], const int child_fds[3], pid_t* pid) {
    if (spec.uid || spec.gid) return launch_forked(spec, argv, envp, child_fds, pid);
    return launch_spawn(spec, argv, envp, child_fds, pid);
}

}  // namespace braid::detail
