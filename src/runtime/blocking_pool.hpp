// The blocking pool: threads of the runtime's own (never libuv's 4-thread
// pool) for work that would block a worker.  Threads start on demand up to
// max_blocking_threads, wait keep_alive for more work when idle, then exit.
//
// Hand-over: a push links the job into a lock-free inbox and, when some
// thread is searching for work (spinning after a job, just woken, just
// started), does nothing more: no lock, no system call.  Only when no
// thread is searching does it wake a parked one or start one.  A thread
// that takes a job while more are queued and no other thread is searching
// wakes or starts the next one itself, before it runs its job: every
// queued job keeps getting a thread (a job may wait for a later one), the
// pool still grows to max_blocking_threads when jobs block, and a burst of
// short jobs is not answered with a thread per job.  See
// docs/ARCHITECTURE.md, "The blocking pool".
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
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

    // Whether the calling thread is a thread of some runtime's blocking pool.
    static bool on_pool_thread() noexcept;

    // Jobs queued or running (paused time advances only when this is 0).
    int busy() { return running_.load(std::memory_order_acquire); }

    // For the metrics: threads, those not running a job, jobs waiting for
    // a thread.  Read under the pool's lock, but a push or a job ending
    // does not take it: approximate while jobs come and go.
    struct Stats {
        uint64_t threads = 0, idle = 0, queued = 0;
    };
    Stats stats();

    // Cancels queued jobs, waits up to timeout_ms (< 0: no limit) for running
    // ones.  Returns false when it gave up waiting (threads left detached).
    bool shutdown(int64_t timeout_ms);

    // For the task dump: appends every job that is queued or running and
    // not complete to `out`, taking a reference on each one (the caller
    // drops them).  May throw std::bad_alloc (the jobs appended so far
    // keep their references).  Takes the pool's lock.
    void reference_jobs(std::vector<Task*>& out);
    // Task::complete of a blocking job, before the job drops its own
    // reference: the thread that runs it empties its slot.
    void job_ending(Task* t);

private:
    enum class Woke { Yes, NoThread };

    // A thread's job while it runs, for the task dump: set under mu_ when
    // the thread takes it, emptied without the lock as the job completes
    // (job_ending), while the job still holds its own reference.  On the
    // thread's stack, listed in slots_ (mu_) while the thread lives.
    struct Slot {
        std::atomic<Task*> job{nullptr};
        Slot* prev = nullptr;
        Slot* next = nullptr;
    };

    void thread_main(uint64_t id);
    // The next job for a searching thread (it stops searching), or null
    // when the thread is to exit (keep-alive ran out, or shutdown).
    Task* next_job(uint64_t id, Slot& slot);
    // Moves the inbox into the FIFO and pops the oldest job (mu_ held).
    Task* take_locked();
    // Makes one more thread search: wakes a parked one or starts one (mu_
    // held through lk; released while a thread is being created).  NoThread
    // when none is parked and none could be started.
    Woke wake_one(std::unique_lock<std::mutex>& lk);
    // Every queued job, taken out (mu_ held) as a list through queue_next,
    // and their number in n; the inbox is closed when `close`.
    Task* take_all_locked(bool close, int& n);
    void exit_locked(uint64_t id, Slot& slot);
    void reap_locked(std::vector<std::thread>& out);
    static Task* closed() { return reinterpret_cast<Task*>(uintptr_t(1)); }

    Core& core_;
    const int max_threads_;
    const int64_t keep_alive_ms_;

    // Pushed jobs, newest first, linked through Task::queue_next; closed()
    // once shut down (a push is refused then).
    std::atomic<Task*> inbox_{nullptr};
    std::atomic<int> pending_{0};    // jobs queued and not taken (briefly < 0 while a push is counted late)
    std::atomic<int> running_{0};    // jobs queued or running
    std::atomic<int> searching_{0};  // threads looking for a job (they take the queued ones)
    std::atomic<int> spinning_{0};   // searching threads that spin before they park
    std::atomic<bool> shutdown_{false};
    std::atomic<bool> dumping_{false};  // a task dump reads the slots (mu_ held)

    std::mutex mu_;
    std::condition_variable cv_;       // parked threads wait for a wake
    std::condition_variable exit_cv_;  // shutdown waits for threads
    Task* head_ = nullptr;             // jobs out of the inbox, oldest first (mu_)
    std::unordered_map<uint64_t, std::thread> threads_;
    std::vector<uint64_t> exited_;  // finished threads not joined yet
    uint64_t next_id_ = 0;
    int num_threads_ = 0;  // started (or being started) and not exited
    int parked_ = 0;       // waiting on cv_
    int notified_ = 0;     // wakes sent to parked threads and not yet taken
    Slot* slots_ = nullptr;  // the live threads' slots
};

}  // namespace braid::detail
