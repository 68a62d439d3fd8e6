// A write(2)/writev(2) on a pipe whose reader may be gone, without SIGPIPE:
// the signal is blocked on this thread for the call and, if the write
// raised it, taken back before the mask is restored.  The write fails with
// EPIPE instead, whatever the process's SIGPIPE disposition is.
#pragma once

#include <pthread.h>
#include <signal.h>
#include <sys/types.h>

#include <cerrno>
#include <ctime>

namespace braid::detail {

template <class Op>
ssize_t no_sigpipe(Op&& op) {
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE);
    ssize_t n = op();
    int e = errno;
    if (n < 0 && e == EPIPE && !was_pending) {
        timespec zero{0, 0};
        while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = e;
    return n;
}

}  // namespace braid::detail
