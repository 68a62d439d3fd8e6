// Permits with a FIFO wait list: the core of Semaphore, Mutex (one permit),
// RwLock (kMaxReads permits: a read takes one, a write takes them all) and
// the room of bounded channels.
//
// The permit count lives in one atomic word with two flags: CLOSED, and
// WAITERS (somebody is queued).  Acquiring and releasing without waiters is
// one CAS, no lock.  Waiting, cancelling and releasing while somebody waits
// take the wait list's spin lock.  Waiters are served strictly in FIFO
// order: the head of the queue is handed permits as they are released, also
// when it needs more than are free (partial grants), and nobody behind it
// is served before it is complete, so a big acquire is never starved by
// small ones and a writer is never starved by readers.  While WAITERS is
// set no permit is free (they all went to the head) and fast acquires fail,
// so nobody jumps the queue.
//
// The limit counts every permit the semaphore knows of: the free ones, those
// the head of the queue collected so far, and those handed to waiters that
// completed but have not taken them yet (a poll, or a cancel that gives them
// back, ends that).  A release that would push that total beyond the limit
// is refused, so no later cancel or close can either: a mutex unlocked
// twice while its lock is on the way to a waiter is caught, and a semaphore
// never holds more than kMaxPermits.  The GRANTED flag in the word says that
// such handed-over permits exist; while it (or WAITERS) is set a release
// takes the lock to count them.
#pragma once

#include <braid/error.h>
#include <braid/task.h>

#include <atomic>
#include <cstdint>

#include "sync/wait_list.hpp"
#include "task/coop.hpp"
#include "util/spin_lock.hpp"

namespace braid::detail {

class Semaphore {
public:
    static constexpr uint64_t kMaxPermits = (uint64_t(1) << 61) - 1;
    static constexpr uint64_t kMaxReads = (uint64_t(1) << 29) - 1;

    // `limit`: the most permits that may ever exist at once; a release
    // beyond it is refused (a mutex's limit is 1: unlocking twice is caught).
    Semaphore(uint64_t permits, uint64_t limit) : state_(permits << kShift), limit_(limit) {}
    ~Semaphore();
    Semaphore(const Semaphore&) = delete;

    // A heap object for the C ABI (braid_semaphore, braid_mutex, braid_rwlock).
    static Semaphore* create(uint64_t permits, uint64_t limit);
    static void destroy(Semaphore* s);

    // 0, BRAID_EAGAIN (not enough free now, or others wait), BRAID_ECLOSED.
    int try_acquire(uint64_t n);
    // The braid_waiter protocol (braid/unstable/waiter.h) for n permits: 0 (taken),
    // BRAID_ECLOSED, BRAID_ENOMEM or BRAID_PENDING.
    // Inline, and without a stack frame, when take_now takes them on a
    // first poll (no wait queued); anything else goes through
    // poll_acquire_slow, which decides it all again.
    int poll_acquire(uint64_t n, Waiter** w, braid_wake_fn wake, void* data) {
        if (!*w && take_now(n, wake)) return BRAID_OK;
        return poll_acquire_slow(n, w, wake, data);
    }
    // poll_acquire's fast path, for a first poll: takes n (> 0) permits when
    // nothing is queued, enough are free, the task has budget left (coop,
    // with a waker) and the CAS succeeds the first time.  False: nothing
    // taken, no budget used, nothing woken.
    bool take_now(uint64_t n, braid_wake_fn wake) {
        uint64_t s = state_.load(std::memory_order_acquire);
        int& budget = coop::budget();
        if (n == 0 || (s & (kWaiters | kClosed)) || (s >> kShift) < n || (wake && budget == 0)) return false;
        if (!state_.compare_exchange_strong(s, s - (n << kShift), std::memory_order_acq_rel)) return false;
        if (wake && budget > 0) --budget;  // coop::proceed's unit, taken once it is sure
        return true;
    }
    // Removes a wait and gives back what it had been granted.
    void cancel(Waiter** w);
    // Keeps the place in the queue and the permits granted so far; forgets the waker.
    void unregister(Waiter** w);
    // Adds n permits, serving the queue first.  0, or BRAID_ERANGE when the
    // total (see above) would exceed the limit (nothing added).  Inline,
    // and without a stack frame, when nobody waits and nothing is on its
    // way to a waiter (the free permits are all there is) and the CAS
    // succeeds the first time; else release_slow decides it all again.
    int release(uint64_t n) {
        uint64_t s = state_.load(std::memory_order_relaxed);
        if (n != 0 && n <= limit_ && !(s & (kWaiters | kGranted)) && (s >> kShift) <= limit_ - n &&
            state_.compare_exchange_strong(s, s + (n << kShift), std::memory_order_acq_rel))
            return BRAID_OK;
        return release_slow(n);
    }
    // Removes up to n free permits for good (Tokio's forget_permits): how
    // many it removed.  Permits held, or granted to a waiter, are not free.
    uint64_t forget(uint64_t n);
    // Fails every waiter with BRAID_ECLOSED (their partial grants go back);
    // later acquires fail at once.  Permits can still be released.
    void close();
    bool closed() const { return state_.load(std::memory_order_acquire) & kClosed; }
    uint64_t available() const { return state_.load(std::memory_order_acquire) >> kShift; }
    bool has_waiters() const { return state_.load(std::memory_order_seq_cst) & kWaiters; }
    // Blocks the calling (non-worker) thread; timeout_ms as block_until.
    int acquire_blocking(uint64_t n, int64_t timeout_ms);

private:
    [[gnu::noinline]] int release_slow(uint64_t n);
    [[gnu::noinline]] int poll_acquire_slow(uint64_t n, Waiter** w, braid_wake_fn wake, void* data);
    static constexpr uint64_t kWaiters = 1;
    static constexpr uint64_t kClosed = 2;
    // Set whenever granted_ > 0 (set under the lock by serve_locked); may
    // stay set after it dropped to 0 until a release under the lock clears it.
    static constexpr uint64_t kGranted = 4;
    static constexpr int kShift = 3;
    static_assert((kMaxPermits << kShift) >> kShift == kMaxPermits);
    // Lock held: queues a wait (taking the permits if that became possible).
    int enqueue_locked(uint64_t n, Waiter** w, braid_wake_fn wake, void* data);
    // Lock held: hands `extra` permits to the queue in order; what is left
    // when the queue is empty goes back into the word (WAITERS cleared).
    void serve_locked(uint64_t extra);

    std::atomic<uint64_t> state_;
    uint64_t limit_;
    uint64_t granted_ = 0;  // lock_: permits of completed waits not taken yet
    SpinLock lock_;  // the wait list
    WaitList waiters_;
};

}  // namespace braid::detail
