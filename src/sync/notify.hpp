// Notify: wakes waiting tasks.  notify_one wakes the first waiter (FIFO), or
// stores one permit that the next wait consumes at once; notify_waiters
// wakes everyone waiting now and stores nothing.
#pragma once

#include <braid/task.h>

#include <atomic>
#include <cstdint>

#include "sync/wait_list.hpp"
#include "util/spin_lock.hpp"

namespace braid::detail {

class Notify {
public:
    static Notify* create();
    static void destroy(Notify* n);

    // Tokio's Notified receives every notify_waiters made after it was
    // created, polled or not: a wait made at `epoch` (waiters_epoch() when
    // its Notified was created; kNoEpoch: now) that has not queued yet
    // completes at once if notify_waiters was called since.
    static constexpr uint64_t kNoEpoch = UINT64_MAX;
    uint64_t waiters_epoch() const { return waiters_epoch_.load(std::memory_order_acquire); }
    // braid_waiter protocol: 0 (notified), BRAID_PENDING, BRAID_ENOMEM.
    int poll_notified(Waiter** w, braid_wake_fn wake, void* data, uint64_t epoch = kNoEpoch);
    // A waiter cancelled after notify_one chose it passes the notification
    // on (to the next waiter, or as the stored permit).
    void cancel(Waiter** w);
    void unregister(Waiter** w);  // keeps the place in the queue; forgets the waker
    // Tokio's Notified::enable: joins the queue without a waker (or takes
    // the stored permit) before the first poll, so a notify_one from now on
    // is this wait's.  1: notified already (the next poll completes), 0:
    // queued, BRAID_ENOMEM.
    int enable(Waiter** w, uint64_t epoch = kNoEpoch);
    void notify_one();
    // Wakes the last waiter (LIFO), or stores the permit.
    void notify_last();
    void notify_waiters();
    int notified_blocking(int64_t timeout_ms);

private:
    Notify() = default;
    enum : uint64_t { BY_ONE = 1, BY_ALL = 2 };  // Waiter::got: who notified it
    // Wakes `h` (taken from the queue by notify_one or notify_last) or,
    // with no waiter, stores the permit.
    void notify_chosen_locked(Waiter* h);
    void notify_one_locked() { notify_chosen_locked(waiters_.pop_front()); }

    // Whether notify_waiters was called since `epoch` (under lock_).
    bool waiters_since_locked(uint64_t epoch) const {
        return epoch != kNoEpoch && epoch != waiters_epoch_.load(std::memory_order_relaxed);
    }

    SpinLock lock_;
    bool permit_ = false;
    std::atomic<uint64_t> waiters_epoch_{0};  // notify_waiters calls so far (changed under lock_)
    WaitList waiters_;
};

}  // namespace braid::detail
