// The blocking pool: threads of the runtime's own (never libuv's 4-thread
// pool) for work that would block a worker.  Threads start on demand up to
// max_blocking_threads, wait keep_alive for more work when idle, then exit.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "task/task.hpp"

namespace braid::detail {

class Core;

class BlockingPool {
public:
    BlockingPool(Core& core, int max_threads, int64_t keep_alive_ms);
    ~BlockingPool();

    // Queues a started blocking task.  False after shutdown (or when no
    // thread can be started and none is running).
    bool push(Task* t);

    // Jobs queued or running (paused time advances only when this is 0).
    int busy();

    // Cancels queued jobs, waits up to timeout_ms (< 0: no limit) for running
    // ones.  Returns false when it gave up waiting (threads left detached).
    bool shutdown(int64_t timeout_ms);

private:
    void thread_main(uint64_t id);
    void reap_locked(std::vector<std::thread>& out);

    Core& core_;
    const int max_threads_;
    const int64_t keep_alive_ms_;
    std::mutex mu_;
    std::condition_variable cv_;        // workers wait for jobs
    std::condition_variable exit_cv_;   // shutdown waits for threads
    std::deque<Task*> queue_;
    std::unordered_map<uint64_t, std::thread> threads_;
    std::vector<uint64_t> exited_;      // finished threads not joined yet
    uint64_t next_id_ = 0;
    int num_threads_ = 0;
    int num_idle_ = 0;
    int num_notified_ = 0;
    int running_ = 0;
    bool shutdown_ = false;
};

}  // namespace braid::detail
