// Starting a child program: posix_spawnp, or (only when the child must run
// as another user or group, which posix_spawn cannot do) fork and exec.
//
// The forked child calls only async-signal-safe functions between fork and
// exec (the parent may have other threads holding locks): everything it
// needs — the program's candidate paths, argv, envp — is made before the
// fork.  It applies the same settings posix_spawn does, in the same order
// (stdio, working directory, session, process group, then the user:
// setgid, setgroups when leaving root, setuid; default signal dispositions
// and an empty mask), then tries each candidate path as posix_spawnp
// searches PATH.  A failure in the child (a setuid refused, a program not
// found) comes back to the parent through a close-on-exec pipe, so both
// ways report a failed start as spawn's own error, the child reaped.
#pragma once

#include <sys/types.h>

#include "io/process.hpp"

namespace braid::detail {

// Starts spec's program with argv and envp; child_fds[i] (>= 0) is what
// the child gets as stdio i when spec.stdio[i] is Piped (the child's end of
// the pipe).  BRAID_OK with *pid, or the error (nothing left running).
int launch_child(const SpawnSpec& spec, char* const argv[], char* const envp[], const int child_fds[3], pid_t* pid);

}  // namespace braid::detail
