// braid::Error: the exception braid's C++ layer throws for errors (not for
// expected outcomes, which are values: std::optional, a status).
#pragma once

#include <braid/error.h>

#include <stdexcept>
#include <string>

namespace braid {

class Error : public std::runtime_error {
public:
    explicit Error(int code) : std::runtime_error(braid_strerror(code)), code_(code) {}
    Error(int code, const std::string& what)
        : std::runtime_error(what + ": " + braid_strerror(code)), code_(code) {}
    // The BRAID_E* code.
    int code() const noexcept { return code_; }
    const char* name() const noexcept { return braid_err_name(code_); }

private:
    int code_;
};

// Thrown when awaiting the JoinHandle of a task that was cancelled (aborted,
// or dropped by a runtime shutdown) before it finished.
class TaskCancelled : public Error {
public:
    TaskCancelled() : Error(BRAID_ECANCELED, "task cancelled") {}
};

// Thrown by Semaphore::acquire (and acquire_many, acquire_owned) when the
// semaphore is closed (or gets closed while the acquire waits).
// The other side of a channel is gone (and nothing is left to receive).
class RecvError : public Error {
public:
    RecvError() : Error(BRAID_ECLOSED, "channel closed") {}
};

class AcquireError : public Error {
public:
    AcquireError() : Error(BRAID_ECLOSED, "semaphore closed") {}
};

namespace detail {
// Throws braid::Error for a negative code; returns non-negative codes.
inline int check(int rc, const char* what) {
    if (rc < 0) throw Error(rc, what);
    return rc;
}
}  // namespace detail

}  // namespace braid
