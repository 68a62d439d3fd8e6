// A completion queue: where the callbacks of operations started by a host
// thread are posted, to be run later by that thread (braid_completion_queue
// of the C ABI).  Posting is thread-safe and never calls into the host: it
// appends a completion and makes the queue's eventfd readable.  The host
// watches the fd in its own event loop and calls run() on its thread.
//
// A thread's current queue (set_current) is captured by every callback
// operation that the thread starts (task/callback.hpp): from then on that
// operation's callback is posted here instead of running on braid's thread.
//
// A completion whose callback has one of the plain shapes (braid_completion
// of the C ABI: status; status + size; status + handle; status + bytes) is
// kept as a record, not as a closure: run() calls it by its kind, and
// take() hands it to the host as a braid_completion without calling it.
#pragma once

#include <braid/completion_queue.h>

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

namespace braid::detail {

struct Task;

class CompletionQueue {
public:
    // BRAID_OK, BRAID_ENOMEM, BRAID_EMFILE (no eventfd).
    static int create(CompletionQueue** out);

    int fd() const { return fd_; }
    void ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
    void unref();

    // A callback of a plain shape with its arguments: `kind` is one of
    // BRAID_COMPLETION_*; bytes, when not empty, are owned by the completion
    // (copied from a buffer that lives only during the call) and replace data.
    struct Plain {
        braid_completion rec;
        std::string bytes;
        bool owns_bytes = false;
    };

    // Appends fn (a callback with its arguments bound), or a plain
    // completion, and makes the fd readable.  The task running on the
    // calling thread, if any, is kept alive until the completion has run,
    // been taken and released (the next take) or been dropped: the
    // arguments may point into its state.  After close(), the completion is
    // dropped at once.
    void post(std::function<void()> fn);
    void post(Plain p);
    // Runs up to `max` queued completions (max <= 0: all queued when called)
    // on the calling thread.  Returns how many ran, or BRAID_EPANIC when a
    // callback threw (the others still ran).
    int run(int max);
    // braid_completion_queue_take: runs the non-plain completions at the
    // head, then moves up to `max` plain ones into `out` (records `stride`
    // bytes apart), stopping before a non-plain one.  What they point to is
    // kept until the next take or close().  Returns how many it took, or
    // BRAID_EPANIC when a callback it ran threw (then it takes none).
    // With `bytes` (braid_completion_queue_take_bytes): the bytes of BYTES
    // records are copied there, one after another, and their data points at
    // the copy; the batch ends before a record whose bytes no longer fit in
    // the `cap` bytes left (the first record of a batch keeps pointing at
    // braid's copy when its bytes exceed all of `cap`).
    int take(braid_completion* out, int max, std::size_t stride, char* bytes = nullptr, std::size_t cap = 0);
    // Completions queued and not run yet.
    std::size_t pending() const;

    // The host lets go of the queue (braid_completion_queue_free):
    // BRAID_EBUSY while completions are queued or it is another thread's
    // current queue; else closes the fd and drops the host's reference.
    // Completions posted afterwards are dropped without running.
    int close();

    // While one lives on a thread, completions that thread posts to q do
    // not make q's fd readable: the thread takes them itself right after
    // (braid_runtime_turn_take).  A take that leaves some queued makes the
    // fd readable, as always.
    class Quiet {
    public:
        explicit Quiet(CompletionQueue* q);
        ~Quiet();
        Quiet(const Quiet&) = delete;
        Quiet& operator=(const Quiet&) = delete;

    private:
        CompletionQueue* prev_;
    };

    // The calling thread's current queue (null: callbacks run on braid's
    // threads).  set_current keeps a reference while it is current.
    static CompletionQueue* current();
    static void set_current(CompletionQueue* q);

private:
    struct Entry {
        std::function<void()> fn;  // set: not plain
        Plain plain;
        Task* keep;
    };
    explicit CompletionQueue(int fd) : fd_(fd) {}
    ~CompletionQueue();
    void push(Entry e);
    static void call(Entry& e);
    // Runs the entries of batch in order; false when one threw.
    static bool run_batch(std::deque<Entry>& batch);
    static void drop(Entry& e);
    // mu_ held: the fd's counter is raised once (signalled_) until drained,
    // so neither call makes a syscall that would change nothing.
    void signal();
    void drain_fd();

    int fd_;
    std::atomic<uint64_t> refs_{1};
    std::atomic<int> bound_{0};  // threads that have it as their current queue
    mutable std::mutex mu_;
    std::deque<Entry> q_;
    std::deque<Entry> taken_;  // the last take's: kept until the next take
    bool closed_ = false;
    bool signalled_ = false;  // mu_: the eventfd's counter is not zero
};

}  // namespace braid::detail
