// Permits with a FIFO wait list: the core of Semaphore, Mutex (one permit),
// RwLock (kMaxReads permits: a read takes one, a write takes them all) and
// the room of bounded channels.
//
// SemState is guarded by its owner's lock.  Waiters are served strictly in
// FIFO order: the head of the queue is handed permits as they are released,
// also when it needs more than are available (partial grants), and nobody
// behind it is served before it is complete, so a big acquire is never
// starved by small ones and a writer is never starved by readers.
// Invariant: while anybody waits, no permit is free (all went to the head).
#pragma once

#include <braid/error.h>
#include <braid/task.h>

#include <cstdint>
#include <mutex>

#include "sync/wait_list.hpp"
#include "util/spin_lock.hpp"

namespace braid::detail {

class SemState {
public:
    static constexpr uint64_t kMaxPermits = (uint64_t(1) << 61) - 1;

    // `limit`: the most permits that may ever exist at once (release beyond
    // it is refused; a mutex's limit is 1, so unlocking twice is caught).
    explicit SemState(uint64_t permits, uint64_t limit = kMaxPermits) : permits_(permits), limit_(limit) {}
    ~SemState();
    SemState(const SemState&) = delete;

    uint64_t available() const { return permits_; }
    bool closed() const { return closed_; }
    bool has_waiters() const { return !waiters_.empty(); }
    // Whether n permits can be taken now without jumping the queue.
    bool can_take(uint64_t n) const { return n == 0 || (waiters_.empty() && permits_ >= n); }
    void take(uint64_t n) { permits_ -= n; }

    // The braid_waiter protocol (braid/waiter.h) for n permits: 0 (taken),
    // BRAID_ECLOSED, BRAID_ENOMEM or BRAID_PENDING.
    int poll_acquire(uint64_t n, Waiter** w, braid_wake_fn wake, void* data);
    // Pieces of it, for owners that decide themselves when to wait:
    // queue a wait (the head of an empty queue is granted what is there) ...
    int enqueue(uint64_t n, Waiter** w, braid_wake_fn wake, void* data);
    // ... and poll a queued wait: its result (freed, *w = NULL) or PENDING.
    int repoll(Waiter** w, braid_wake_fn wake, void* data);
    // Removes a wait and gives back what it had been granted.
    void cancel(Waiter** w);
    // Adds n permits and serves the queue.  false: beyond the limit (nothing
    // added).
    bool release(uint64_t n);
    // Fails every waiter with BRAID_ECLOSED (their partial grants go back);
    // later acquires fail at once.  Permits can still be released.
    void close();

private:
    void serve();

    uint64_t permits_;
    uint64_t limit_;
    bool closed_ = false;
    WaitList waiters_;
};

// A semaphore object of the C ABI: braid_semaphore, braid_mutex and
// braid_rwlock are each one of these.
class Semaphore {
public:
    static constexpr uint64_t kMaxReads = (uint64_t(1) << 29) - 1;

    static Semaphore* create(uint64_t permits, uint64_t limit);
    static void destroy(Semaphore* s);

    // 0, BRAID_EAGAIN (not enough permits now, or others are waiting),
    // BRAID_ECLOSED.
    int try_acquire(uint64_t n);
    int poll_acquire(uint64_t n, Waiter** w, braid_wake_fn wake, void* data);
    void cancel(Waiter** w);
    // 0, or BRAID_ERANGE beyond the limit.
    int release(uint64_t n);
    void close();
    bool is_closed();
    uint64_t available();
    // Blocks the calling (non-worker) thread; timeout_ms 0: no limit.
    int acquire_blocking(uint64_t n, int64_t timeout_ms);

private:
    Semaphore(uint64_t permits, uint64_t limit) : st_(permits, limit) {}
    SpinLock lock_;
    SemState st_;
};

}  // namespace braid::detail
