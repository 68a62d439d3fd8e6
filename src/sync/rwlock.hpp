// The read-write lock of the C ABI: a Semaphore of max_reads permits (a read
// takes one, a write takes all of them: fair and write-preferring through
// the semaphore's FIFO) and a flag that says a writer holds it.
//
// The permit count alone cannot tell a write lock from kMaxReads readers,
// so a read unlock of a write-locked lock would give one permit back and
// let a reader in beside the writer.  The flag tells them apart: it is set
// by whoever acquired the write lock before that acquire returns to its
// caller, and cleared before the write lock's permits go back, so while it
// is set no reader holds the lock, and every unlock that does not match
// the way the lock is held is refused without changing anything.
#pragma once

#include <braid/error.h>

#include <atomic>
#include <cstdint>
#include <new>

#include "sync/semaphore.hpp"
#include "util/alloc.hpp"

namespace braid::detail {

class RwLock {
public:
    static constexpr uint64_t kMaxReads = Semaphore::kMaxReads;

    // A lock for at most max_reads readers at once (1 .. kMaxReads).
    static RwLock* create(uint64_t max_reads = kMaxReads) {
        void* m = alloc(sizeof(RwLock));
        return m ? new (m) RwLock(max_reads) : nullptr;
    }
    // The permits a write takes: every one.
    uint64_t reads() const { return reads_; }
    static void destroy(RwLock* l) {
        if (!l) return;
        l->~RwLock();
        dealloc(l, sizeof(RwLock));
    }

    Semaphore& sem() { return sem_; }

    // A write acquire returned BRAID_OK (pass its result through).
    int write_acquired(int rc) {
        if (rc == BRAID_OK) writer_.store(true, std::memory_order_release);
        return rc;
    }
    // BRAID_OK, or BRAID_EINVAL when write-locked or not read-locked.
    int read_unlock() {
        if (writer_.load(std::memory_order_acquire)) return BRAID_EINVAL;
        return sem_.release(1) == BRAID_OK ? BRAID_OK : BRAID_EINVAL;
    }
    // BRAID_OK, or BRAID_EINVAL when not write-locked.
    int write_unlock() {
        if (!writer_.exchange(false, std::memory_order_acq_rel)) return BRAID_EINVAL;
        sem_.release(reads_);  // every permit was the writer's: within the limit
        return BRAID_OK;
    }
    // Write lock -> one read lock.  BRAID_OK, or BRAID_EINVAL when not
    // write-locked.
    int downgrade() {
        if (!writer_.exchange(false, std::memory_order_acq_rel)) return BRAID_EINVAL;
        sem_.release(reads_ - 1);
        return BRAID_OK;
    }

private:
    explicit RwLock(uint64_t max_reads) : reads_(max_reads), sem_(max_reads, max_reads) {}
    uint64_t reads_;
    Semaphore sem_;
    std::atomic<bool> writer_{false};
};

}  // namespace braid::detail
