// The task dump on a signal (braid_runtime_builder_dump_signal): one
// handler per signal, shared by the runtimes that asked for it, only
// writes the signal's number into a pipe; one thread of braid's reads it
// and writes the dump of each of those runtimes to stderr.
#pragma once

namespace braid::detail {

class Core;

// Whether a dump can be asked for with `signo` (catchable, not a fault).
bool dump_signal_ok(int signo);
// The runtime is built / shuts down (before it cancels its tasks: a dump
// running meanwhile ends first).
void watch_dump_signal(Core* core, int signo);
void unwatch_dump_signal(Core* core);

}  // namespace braid::detail
