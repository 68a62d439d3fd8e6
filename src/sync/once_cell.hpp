// OnceCell: a value set at most once, then read by anyone without a lock.
// Initialisation by many racing tasks runs one initialiser at a time: the
// first gets the right to initialise (kInit), the others wait in FIFO order;
// if the initialiser gives up (fails, is cancelled), the next waiter gets
// the right.  One allocation holds the cell and the value.
#pragma once

#include <braid/task.h>

#include <atomic>
#include <cstdint>

#include "sync/elem_ops.hpp"
#include "sync/wait_list.hpp"
#include "util/spin_lock.hpp"

namespace braid::detail {

class OnceCell {
public:
    static constexpr int kInit = 2;  // BRAID_ONCE_CELL_INIT

    static OnceCell* create(const ElemOps& ops);
    static void destroy(OnceCell* c);
    const ElemOps& ops() const { return ops_; }

    // The value once set, else nullptr.  Lock-free.
    void* get() { return state_.load(std::memory_order_acquire) == READY ? slot() : nullptr; }
    // 0 (moved in), BRAID_EEXIST (set already) or BRAID_EBUSY (being
    // initialised); value left.
    int set(void* value);
    // Moves the value out and empties the cell: 0, BRAID_EAGAIN (not set),
    // BRAID_EBUSY (being initialised).  Only while nobody else uses the
    // cell: a pointer get() gave is invalid afterwards.
    int take(void* out);
    // braid_waiter protocol: 0 (set: read it with get), kInit (the caller
    // must initialise: complete_init or abort_init), BRAID_PENDING,
    // BRAID_ENOMEM.  With a NULL waker nothing is queued.
    int poll_init(Waiter** w, braid_wake_fn wake, void* data);
    // Cancels a wait; a right to initialise it had been handed goes on.
    void cancel(Waiter** w);
    void unregister(Waiter** w);  // keeps the place in the queue; forgets the waker
    // The initialiser's outcome: 0 (moved in; waiters released) or
    // BRAID_EINVAL (nobody holds the right).
    int complete_init(void* value);
    int abort_init();
    int init_blocking(int64_t timeout_ms);

private:
    enum : uint8_t { EMPTY, INITIALISING, READY };
    explicit OnceCell(const ElemOps& ops) : ops_(ops) {}
    void* slot() { return reinterpret_cast<char*>(this) + elem_offset(sizeof(OnceCell), ops_.align); }
    static std::size_t alloc_size(const ElemOps& ops) { return elem_offset(sizeof(OnceCell), ops.align) + ops.stride(); }
    void publish(void* value);  // lock held
    void pass_on();             // lock held: the right to initialise goes to the next waiter

    std::atomic<uint8_t> state_{EMPTY};
    SpinLock lock_;
    WaitList waiters_;
    ElemOps ops_;
};

}  // namespace braid::detail
