// Helpers of the I/O tests: open-fd counting (every error path is checked
// for leaks), the fd limit, and loopback addresses.
#pragma once

#include <dirent.h>
#include <sys/resource.h>

#include <braid/braid.hpp>

#include "support.hpp"

#include <stdexcept>
#include <string>

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

}  // namespace braid_test
