// What a builder collects: the runtime's configuration.
#pragma once

#include <braid/runtime.h>
#include <braid/stall.h>

#include <cstdint>
#include <string>

namespace braid::detail {

struct Config {
    bool current_thread = false;
    // The host-driven flavor (current_thread too): the host's thread runs the
    // one worker in turns (Scheduler::turn) when the driver's fd is readable.
    bool host_driven = false;
    int worker_threads = 0;           // 0: the default (cores, or BRAID_WORKER_THREADS)
    std::string thread_name = "braid-worker";
    int max_blocking_threads = 512;
    int64_t blocking_keep_alive_ms = 10000;
    braid_thread_fn on_start = nullptr;
    void* on_start_data = nullptr;
    braid_thread_fn on_stop = nullptr;
    void* on_stop_data = nullptr;
    bool start_paused = false;
    // Polls longer than this are reported (0: not measured).  Debug builds
    // of the library default to 100 ms, release builds to off.
#ifdef NDEBUG
    int64_t slow_poll_ms = 0;
#else
    int64_t slow_poll_ms = 100;
#endif

    // Stall detection (runtime/stall_watchdog.hpp) while slow_poll_ms > 0:
    // the user's report, replacing the one on stderr.
    braid_stall_fn on_stall = nullptr;
    void* on_stall_data = nullptr;
    // The signal that prints the task dump (runtime/dump_signal.hpp), 0: none.
    int dump_signal = 0;
    // The live view's socket path (runtime/live_view.hpp); empty: none.
    std::string live_view_path;

    int resolved_workers() const;
};

}  // namespace braid::detail
