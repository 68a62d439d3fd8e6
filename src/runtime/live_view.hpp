// The live view (braid_runtime_builder_live_view): a Unix socket the
// runtime listens on, owner-only, served by a thread of braid's (not a
// worker).  Each connection of the same user asks for one snapshot (it
// writes "snapshot\n") and gets the runtime's metrics and task dump as one
// JSON document ending in a newline; then the server closes it.  The
// tools/braid_top viewer draws it.  docs/observability.md, "Live view".
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

namespace braid::detail {

class Core;

// The snapshot document: {"version":1,"uptime_ns":N,"metrics":{...},
// "tasks":[...]}, newline-terminated; uptime_ns: since the live view
// started (with the runtime), on the monotonic clock.
int live_view_snapshot(Core& core, int64_t uptime_ns, std::string& out);

class LiveView {
public:
    explicit LiveView(Core& core) : core_(core) {}
    ~LiveView() { stop(); }
    LiveView(const LiveView&) = delete;
    LiveView& operator=(const LiveView&) = delete;

    // Opens the socket at `path` (mode 0600; a stale socket there is
    // replaced, anything else is refused) and starts the thread.  BRAID_OK,
    // or BRAID_EEXIST (a file that is not a socket), BRAID_EADDRINUSE (a
    // socket someone listens on), BRAID_ENOENT / BRAID_ENOTDIR /
    // BRAID_EACCES / ... (the OS's reason, braid_last_os_error), BRAID_ETHREAD.
    int start(const std::string& path);
    // Stops the thread, closes the socket and removes its file (if it is
    // still the one made here).  Idempotent.
    void stop();

private:
    void run();
    void serve(int conn);

    Core& core_;
    std::string path_;
    int listen_fd_ = -1;
    int stop_fd_ = -1;  // an eventfd: readable once stop() is asked
    dev_t dev_ = 0;     // the socket file made by start()
    ino_t ino_ = 0;
    std::chrono::steady_clock::time_point started_{};
    std::thread thread_;
};

}  // namespace braid::detail
