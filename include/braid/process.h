/* braid — child processes.  Part of the stable C ABI.
 *
 * A braid_command describes a program to run (arguments, environment,
 * working directory, what each of stdin/stdout/stderr is); spawning it
 * gives a braid_child.  Piped stdio ends are braid_pipe handles: async byte
 * streams, read and written through their byte-stream view (byte_stream.h:
 * braid_pipe_as_byte_stream).  The
 * exit is waited for through a pidfd (Linux 5.3 or later), readiness-based
 * like socket I/O; braid installs no SIGCHLD handler.
 *
 * A child that is freed without having been waited for is reaped in the
 * background (no zombie is left); with kill-on-drop set it is killed first.
 */
#ifndef BRAID_PROCESS_H
#define BRAID_PROCESS_H

#include <stddef.h>
#include <stdint.h>

#include "byte_stream.h"
#include "export.h"
#include "error.h"
#include "io.h"
#include "runtime.h"
#include "task.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_command braid_command;
typedef struct braid_child braid_child;
typedef struct braid_pipe braid_pipe;

enum braid_stdio {
    BRAID_STDIO_INHERIT = 0, /* the parent's (the default) */
    BRAID_STDIO_NULL = 1,    /* /dev/null */
    BRAID_STDIO_PIPED = 2    /* a pipe to this process (braid_child_take_*) */
};

/* ---- commands ---------------------------------------------------------- */

/* `program` is looked up in PATH unless it contains a '/'.  All strings are
 * copied.  BRAID_EINVAL for NULL or empty strings, a '=' in an environment
 * name, a stdio mode out of range. */
BRAID_API int braid_command_new(braid_command **out, const char *program);
BRAID_API int braid_command_arg(braid_command *cmd, const char *arg);
BRAID_API int braid_command_env(braid_command *cmd, const char *key, const char *value);
BRAID_API int braid_command_env_remove(braid_command *cmd, const char *key);
/* The child starts with an empty environment (then the env calls made
 * after this apply). */
BRAID_API int braid_command_env_clear(braid_command *cmd);
BRAID_API int braid_command_current_dir(braid_command *cmd, const char *dir);
BRAID_API int braid_command_stdin(braid_command *cmd, int how);
BRAID_API int braid_command_stdout(braid_command *cmd, int how);
BRAID_API int braid_command_stderr(braid_command *cmd, int how);
/* The child's stdin / stdout / stderr is the open file `fd` (a file, a
 * socket, one end of a pipe the caller made: Tokio's Stdio::from).  The
 * command keeps a duplicate of fd, so the caller may close its own at once.
 * BRAID_EINVAL (NULL, fd < 0), BRAID_EBADF (fd is not open), BRAID_EMFILE. */
BRAID_API int braid_command_stdin_fd(braid_command *cmd, int fd);
BRAID_API int braid_command_stdout_fd(braid_command *cmd, int fd);
BRAID_API int braid_command_stderr_fd(braid_command *cmd, int fd);
/* argv[0] as the child sees it, when it should not be the program. */
BRAID_API int braid_command_arg0(braid_command *cmd, const char *arg0);
/* The child joins process group pgid (setpgid), or with 0 starts a new
 * group of its own (its pid): Tokio's process_group.  BRAID_EINVAL for a
 * negative pgid. */
BRAID_API int braid_command_process_group(braid_command *cmd, int pgid);
/* The child starts a new session (setsid): no controlling terminal, its own
 * session and process group. */
BRAID_API int braid_command_setsid(braid_command *cmd, int on);
/* The child runs as user uid / group gid (setuid / setgid before the exec;
 * leaving root also drops the supplementary groups): Tokio's Command::uid
 * and gid.  The child is then started with fork and exec instead of
 * posix_spawn (docs/io.md).  A change the process may not make fails the
 * spawn with BRAID_EACCES (EPERM), the child reaped.  BRAID_EINVAL (NULL, or
 * (uint32_t)-1, which is no user or group). */
BRAID_API int braid_command_uid(braid_command *cmd, uint32_t uid);
BRAID_API int braid_command_gid(braid_command *cmd, uint32_t gid);
/* Whether freeing the child kills it (SIGKILL) if it still runs.  Off by
 * default, as in Tokio. */
BRAID_API int braid_command_kill_on_drop(braid_command *cmd, int on);
BRAID_API void braid_command_free(braid_command *cmd);

/* Spawns now, on the calling thread (rt NULL: the calling thread's runtime).
 * BRAID_ENOENT (no such program, or no such working directory), BRAID_EACCES
 * (not executable), BRAID_EMFILE, BRAID_ENOTSUP (no pidfd), BRAID_ESHUTDOWN.
 * The command may be spawned again or freed afterwards. */
BRAID_API int braid_command_spawn(braid_child **out, braid_command *cmd, braid_runtime *rt);

/* Completion of braid_command_output: the exit (code >= 0, or -1 and the
 * signal that killed it) and everything the child wrote to stdout and
 * stderr (valid during the call only). */
typedef void (*braid_output_callback)(void *user_data, int status, int code, int signal, const void *out,
                                      size_t out_len, const void *err, size_t err_len);
/* Runs the command with stdout and stderr piped (stdin: /dev/null unless the
 * command says otherwise) and collects both until it exits.  Aborting
 * through `out` kills the child (cb: BRAID_ECANCELED). */
BRAID_API int braid_command_output(braid_task **out, braid_command *cmd, braid_runtime *rt,
                                   braid_output_callback cb, void *user_data);

/* ---- children ------------------------------------------------------------- */

/* Completion of a wait: code >= 0 (its exit code) or -1 and signal (the
 * signal that killed it). */
typedef void (*braid_exit_callback)(void *user_data, int status, int code, int signal);

/* The child's pid while it has not been reaped, 0 once it has (a reaped pid
 * may belong to another process by then: Tokio's id() gives None),
 * BRAID_EINVAL. */
BRAID_API int braid_child_id(const braid_child *c);
/* Takes the parent's end of a piped stdio (the caller owns it; NULL and
 * BRAID_EINVAL when it was not piped or was taken already). */
BRAID_API int braid_child_take_stdin(braid_child *c, braid_pipe **out);
BRAID_API int braid_child_take_stdout(braid_child *c, braid_pipe **out);
BRAID_API int braid_child_take_stderr(braid_child *c, braid_pipe **out);
/* 0 once exited (*out_code, *out_signal as in braid_exit_callback; either
 * may be NULL), BRAID_PENDING after registering the waker (NULL waker:
 * see docs/c-api.md), or an error.  After the first 0 it keeps giving the
 * same status. */
BRAID_API int braid_child_poll_wait(braid_child *c, braid_wake_fn wake, void *wake_data, int *out_code,
                                    int *out_signal);
/* Without waiting: 0 with the status when it has exited, BRAID_PENDING
 * while it runs (nothing registered). */
BRAID_API int braid_child_try_wait(braid_child *c, int *out_code, int *out_signal);
/* Callback style wait. */
BRAID_API int braid_child_wait(braid_task **out, braid_child *c, braid_exit_callback cb, void *user_data);
/* SIGKILL (through the pidfd: never another process).  BRAID_OK also when it
 * exited already. */
BRAID_API int braid_child_kill(braid_child *c);
/* Sends signal `signum` (1 .. NSIG-1) through the pidfd: never to another
 * process; BRAID_OK without sending once the child has been reaped.
 * BRAID_EINVAL for NULL or a signal out of range. */
BRAID_API int braid_child_signal(braid_child *c, int signum);
/* Frees; a child still running is killed when kill-on-drop was set, and is
 * reaped in the background either way (by a task of the runtime; after a
 * shutdown, a child that still runs is left to the operating system).  A
 * braid_child_wait in flight must have finished (or been aborted and
 * joined) first, like a buffer of a read.  NULL ok. */
BRAID_API void braid_child_free(braid_child *c);

/* ---- pipes ----------------------------------------------------------------- */

/* The pipe as a byte stream (byte_stream.h); the view lives as long as p.
 * Writes never raise SIGPIPE: a reader that went away is BRAID_EPIPE.
 * braid_byte_stream_shutdown_write on the stdin pipe closes it. */
BRAID_API braid_byte_stream *braid_pipe_as_byte_stream(braid_pipe *p);
BRAID_API int braid_pipe_fd(const braid_pipe *p);
/* Closes the pipe (for stdin: the child reads end of file); later
 * operations fail with BRAID_ECLOSED.  Freed by braid_pipe_free. */
BRAID_API int braid_pipe_close(braid_pipe *p);
BRAID_API void braid_pipe_free(braid_pipe *p);

BRAID_EXTERN_C_END

#endif /* BRAID_PROCESS_H */
