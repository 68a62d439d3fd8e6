/* braid — error codes.  Part of the stable C ABI.
 *
 * Every fallible braid function returns an int: 0 (BRAID_OK) or a positive
 * value documented by that function on success, a negative BRAID_E* code on
 * failure.  The table below is the single source of the codes; a code is
 * never renumbered or reused.  BRAID_PENDING (1) is not an error: a poll
 * function returns it while the awaited thing is not ready yet.
 */
#ifndef BRAID_ERROR_H
#define BRAID_ERROR_H

#include "export.h"

BRAID_EXTERN_C_BEGIN

/* X(name, value, description) */
#define BRAID_ERROR_TABLE(X)                                                        \
    X(OK,         0,  "success")                                                    \
    X(EINVAL,    -1,  "invalid argument")                                           \
    X(ENOMEM,    -2,  "out of memory")                                              \
    X(ESHUTDOWN, -3,  "the runtime is shutting down or shut down")                  \
    X(ECANCELED, -4,  "operation cancelled")                                        \
    X(ETIMEDOUT, -5,  "timed out")                                                  \
    X(EDEADLK,   -6,  "blocking call made on a runtime worker thread")              \
    X(EPANIC,    -7,  "the task failed (its body threw an exception)")              \
    X(EBUSY,     -8,  "already in use (another waiter or another block_on)")        \
    X(ETHREAD,   -9,  "could not start a thread")                                   \
    X(EIO,       -10, "operating-system I/O error")                                 \
    X(ECLOSED,   -11, "closed")                                                     \
    X(EAGAIN,    -12, "not ready, try again")                                       \
    X(ENOTSUP,   -13, "not supported")                                              \
    X(EBADF,     -14, "bad file descriptor")                                        \
    X(ERANGE,    -15, "value out of range")                                        \
    X(ECONNREFUSED, -16, "connection refused")                                      \
    X(ECONNRESET, -17, "connection reset by peer")                                  \
    X(EADDRINUSE, -18, "address already in use")                                    \
    X(EADDRNOTAVAIL, -19, "address not available")                                  \
    X(ENOTCONN,  -20, "not connected")                                              \
    X(EPIPE,     -21, "broken pipe (the peer closed its end)")                      \
    X(ENOENT,    -22, "no such file or directory")                                  \
    X(EACCES,    -23, "permission denied")                                          \
    X(EEXIST,    -24, "already exists")                                             \
    X(EISDIR,    -25, "is a directory")                                             \
    X(ENOTDIR,   -26, "not a directory")                                            \
    X(EEOF,      -27, "unexpected end of file")                                     \
    X(ENOTFOUND, -28, "host name not found")                                        \
    X(EUNREACH,  -29, "network or host unreachable")                                \
    X(ENOTEMPTY, -30, "directory not empty")                                        \
    X(EMFILE,    -31, "too many open files")                                        \
    X(ECONNABORTED, -32, "connection aborted")

#define BRAID_ERROR_ENUM_(name, value, text) BRAID_##name = value,
enum braid_error { BRAID_ERROR_TABLE(BRAID_ERROR_ENUM_) };
#undef BRAID_ERROR_ENUM_

/* Returned by poll functions while the awaited thing is not ready. */
#define BRAID_PENDING 1

/* The `timeout_ms` of every waiting function (the *_blocking waits,
 * braid_runtime_shutdown) counts as poll(2)'s: BRAID_WAIT_FOREVER (any
 * negative value) waits without limit, 0 makes one attempt and does not wait
 * (BRAID_ETIMEDOUT if not ready), a positive value waits at most that many
 * milliseconds (BRAID_ETIMEDOUT after it). */
#define BRAID_WAIT_FOREVER (-1)

/* A readable description of `code` ("success", "invalid argument", ...).
 * Unknown codes give "unknown error".  Never NULL; static storage; any thread. */
BRAID_API const char *braid_strerror(int code);

/* The symbolic name of `code` without the prefix: "EINVAL", "OK", ...
 * BRAID_PENDING gives "PENDING"; unknown codes give "UNKNOWN".  Any thread. */
BRAID_API const char *braid_err_name(int code);

BRAID_EXTERN_C_END

#endif /* BRAID_ERROR_H */
