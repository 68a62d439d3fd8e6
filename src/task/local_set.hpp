// A local set (Tokio's LocalSet): tasks that run only on the thread that
// drives the set, for state that is not thread-safe.  Its tasks are
// ordinary tasks (join handles, aborts, join sets work on them) of kind
// Local: a wake queues them on the set instead of the runtime's scheduler,
// and only the set's driver polls them, on its thread.  The driver is
// block_on (a plain thread: the loop below; a current-thread runtime: a
// task of that runtime on the block_on thread) or poll, called by a task
// that awaits the set (a current-thread runtime's, or another set's).
// The first thread that drives the set is its thread from then on.
#pragma once

#include <braid/task.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "task/task.hpp"

namespace braid::detail {

class Core;

class LocalSet {
public:
    // Tasks run per poll before the driver yields (Tokio's LocalSet tick).
    static constexpr int kTasksPerPoll = 61;

    LocalSet();
    void ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
    void unref() {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

    // Starts a task made by Task::create* and never started as a task of
    // this set: BRAID_OK, BRAID_EBUSY (started already), BRAID_ECLOSED (the
    // set is closed: the task is finished as cancelled, without running).
    int start(Task* t);
    // A woken task of this set: queued for its driver.
    void schedule(Task* t);
    // A task of this set finished.
    void forget(Task* t);

    // Runs what is ready on the calling thread (at most kTasksPerPoll tasks),
    // then registers wake(data) for when more is (NULL: withdraws it); a
    // task still ready calls it at once.  BRAID_PENDING, or BRAID_EINVAL on
    // another thread than the set's.
    int poll(braid_wake_fn wake, void* data);
    // Runs the set on the calling thread until `main` (one of its tasks)
    // has finished, and gives main's status.  The thread is entered into
    // `core` meanwhile; a current-thread runtime's scheduler runs on it too.
    // BRAID_EINVAL (another thread's set, main not of this set),
    // BRAID_EDEADLK (called on a runtime's thread), or block_on's codes.
    int block_on(Core* core, Task* main);

    // Cancels every task of the set that has not finished (on the calling
    // thread) and refuses new ones.  BRAID_EINVAL on another thread than
    // the set's (nothing is done).
    int close();

    // Makes this set the calling thread's current one (binding the set to
    // the thread, as a first drive does) and holds it; *prev: the one
    // before.  BRAID_EINVAL on another thread than the set's.
    int enter(LocalSet** prev);
    // Undoes the last enter (this set must be current): prev is current
    // again.  BRAID_EINVAL when this set is not the current one.
    int exit(LocalSet* prev);

    // The set whose tasks the calling thread is running (or that it
    // entered), or null.
    static LocalSet* current();

    // For the task dump: appends the unfinished tasks of every live set
    // that belong to `core` to `out`, taking a reference on each one (the
    // caller drops them).  May throw std::bad_alloc (the tasks appended so
    // far keep their references).  Takes the sets' registry lock, then each
    // set's lock in turn, never both.
    static void reference_tasks(const Core* core, std::vector<Task*>& out);

private:
    ~LocalSet();
    // A reference unless the last one went already (the set is being freed).
    bool try_ref();
    // Binds the set to the calling thread (the first driver's) or checks it.
    bool on_own_thread();
    // Pops and runs up to n ready tasks.  True when some are still ready.
    bool run_ready(int n);
    int block_on_plain(Core* core, Task* main);
    int block_on_current_thread(Core* core, Task* main);

    std::atomic<uint64_t> refs_{1};
    std::mutex mu_;
    Task* head_ = nullptr;  // ready tasks, linked through queue_next
    Task* tail_ = nullptr;
    std::unordered_set<Task*> tasks_;  // started and not finished
    braid_wake_fn wake_ = nullptr;     // the driver's waker
    void* wake_data_ = nullptr;
    bool closed_ = false;
    std::atomic<std::thread::id> owner_{};
    LocalSet* live_prev_ = nullptr;  // the registry of live sets (its lock)
    LocalSet* live_next_ = nullptr;
};

}  // namespace braid::detail
