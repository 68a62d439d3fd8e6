// A completion queue: where the callbacks of operations started by a host
// thread are posted, to be run later by that thread (braid_completion_queue
// of the C ABI).  Posting is thread-safe and never calls into the host: it
// appends a completion and makes the queue's eventfd readable.  The host
// watches the fd in its own event loop and calls run() on its thread.
//
// A thread's current queue (set_current) is captured by every callback
// operation that the thread starts (task/callback.hpp): from then on that
// operation's callback is posted here instead of running on braid's thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

namespace braid::detail {

struct Task;

class CompletionQueue {
public:
    // BRAID_OK, BRAID_ENOMEM, BRAID_EMFILE (no eventfd).
    static int create(CompletionQueue** out);

    int fd() const { return fd_; }
    void ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
    void unref();

    // Appends fn (a callback with its arguments bound) and makes the fd
    // readable.  The task running on the calling thread, if any, is kept
    // alive until fn has run or been dropped: the arguments may point into
    // its state.  After close(), the completion is dropped at once.
    void post(std::function<void()> fn);
    // Runs up to `max` queued completions (max <= 0: all queued when called)
    // on the calling thread.  Returns how many ran, or BRAID_EPANIC when a
    // callback threw (the others still ran).
    int run(int max);
    // Completions queued and not run yet.
    std::size_t pending() const;

    // The host lets go of the queue (braid_completion_queue_free):
    // BRAID_EBUSY while completions are queued or it is another thread's
    // current queue; else closes the fd and drops the host's reference.
    // Completions posted afterwards are dropped without running.
    int close();

    // The calling thread's current queue (null: callbacks run on braid's
    // threads).  set_current keeps a reference while it is current.
    static CompletionQueue* current();
    static void set_current(CompletionQueue* q);

private:
    struct Entry {
        std::function<void()> fn;
        Task* keep;
    };
    explicit CompletionQueue(int fd) : fd_(fd) {}
    ~CompletionQueue();
    static void drop(Entry& e);
    void signal();
    void drain_fd();

    int fd_;
    std::atomic<uint64_t> refs_{1};
    std::atomic<int> bound_{0};  // threads that have it as their current queue
    mutable std::mutex mu_;
    std::deque<Entry> q_;
    bool closed_ = false;
};

}  // namespace braid::detail
