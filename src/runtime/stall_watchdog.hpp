// Stall detection: a watchdog thread looks at every worker each quarter of
// the slow-poll threshold; a poll that began longer than the threshold ago
// is reported once, while it still runs.  On Linux the watchdog signals the
// stuck worker, whose handler records the poll's task and its own stack
// (backtrace) into that worker's PollWatch; the watchdog then symbolises
// and reports it (the builder's callback, or stderr).
#pragma once

#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace braid::detail {

class Core;

// A worker's side of it: written by the worker around each poll (only
// while detection is on) and by the signal handler on the worker's thread.
struct PollWatch {
    static constexpr int kMaxFrames = 64;
    static constexpr int kNameBytes = 64;

    std::atomic<int64_t> poll_start{0};       // monotonic ns; 0 between polls
    std::atomic<pthread_t> thread{};          // the thread running the worker
    // The capture the watchdog asked for: the poll (its start) it wants,
    // and done once the handler wrote the fields below.
    std::atomic<int64_t> wanted{0};
    std::atomic<int> done{0};                 // 1: captured; 2: that poll had ended
    uint64_t task_id = 0;
    char name[kNameBytes] = {};
    const char* file = nullptr;
    const char* function = nullptr;
    uint32_t line = 0;
    int64_t elapsed_ns = 0;
    int frame_count = 0;
    void* frames[kMaxFrames] = {};

    // The worker's poll begins / ends.
    void begin(int64_t start) { poll_start.store(start, std::memory_order_release); }
    void end() { poll_start.store(0, std::memory_order_release); }
};

class StallWatchdog {
public:
    explicit StallWatchdog(Core& core) : core_(core) {}
    ~StallWatchdog() { stop(); }

    // Starts the thread (when the threshold is set).  False: no thread.
    bool start();
    void stop();
    uint64_t stalls() const { return stalls_.load(std::memory_order_relaxed); }

private:
    void run();
    void check(int index, PollWatch& w, int64_t now, int64_t& reported);
    void report(int index, PollWatch& w, bool captured, int64_t elapsed);

    Core& core_;
    std::thread thread_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::atomic<uint64_t> stalls_{0};
};

}  // namespace braid::detail

namespace braid::detail {
// The PollWatch of the worker running on this thread (initial-exec TLS: the
// signal handler reads it), set while a worker runs.
extern constinit thread_local PollWatch* tl_poll_watch [[gnu::tls_model("initial-exec")]];
}  // namespace braid::detail
