// Barrier: n tasks wait until all n have arrived; then all go on, and the
// last to arrive is told it is the leader.  The barrier can be used again.
#pragma once

#include <braid/task.h>

#include <cstddef>
#include <cstdint>

#include "sync/wait_list.hpp"
#include "util/spin_lock.hpp"

namespace braid::detail {

class Barrier {
public:
    static constexpr int kLeader = 2;  // BRAID_BARRIER_LEADER

    static Barrier* create(std::size_t n);
    static void destroy(Barrier* b);

    // braid_waiter protocol: 0 (released, a follower), kLeader (this arrival
    // released the others), BRAID_PENDING, BRAID_ENOMEM.  With a NULL waker a
    // first poll arrives only if it completes the barrier.
    int poll_wait(Waiter** w, braid_wake_fn wake, void* data);
    // A wait cancelled before the barrier released it no longer counts as
    // arrived; one cancelled after is simply forgotten.
    void cancel(Waiter** w);
    void unregister(Waiter** w);  // keeps the arrival; forgets the waker
    int wait_blocking(int64_t timeout_ms);

private:
    explicit Barrier(std::size_t n) : n_(n ? n : 1) {}

    SpinLock lock_;
    std::size_t n_;
    std::size_t arrived_ = 0;
    WaitList waiters_;
};

}  // namespace braid::detail
