// Notify: wakes waiting tasks.  notify_one wakes the first waiter (FIFO), or
// stores one permit that the next wait consumes at once; notify_waiters
// wakes everyone waiting now and stores nothing.
#pragma once

#include <braid/task.h>

#include <cstdint>

#include "sync/wait_list.hpp"
#include "util/spin_lock.hpp"

namespace braid::detail {

class Notify {
public:
    static Notify* create();
    static void destroy(Notify* n);

    // braid_waiter protocol: 0 (notified), BRAID_PENDING, BRAID_ENOMEM.
    int poll_notified(Waiter** w, braid_wake_fn wake, void* data);
    // A waiter cancelled after notify_one chose it passes the notification
    // on (to the next waiter, or as the stored permit).
    void cancel(Waiter** w);
    void unregister(Waiter** w);  // keeps the place in the queue; forgets the waker
    void notify_one();
    void notify_waiters();
    int notified_blocking(int64_t timeout_ms);

private:
    Notify() = default;
    enum : uint64_t { BY_ONE = 1, BY_ALL = 2 };  // Waiter::got: who notified it
    void notify_one_locked();

    SpinLock lock_;
    bool permit_ = false;
    WaitList waiters_;
};

}  // namespace braid::detail
