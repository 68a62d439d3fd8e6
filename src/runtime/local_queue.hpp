// A worker's local run queue: a bounded ring the owner pushes to and pops
// from (FIFO), and other workers steal half of (the design of Go's runq).
// Entries are atomics so a thief's speculative copy of a slot the owner is
// reusing is not a data race; the thief's CAS on head decides who wins.
#pragma once

#include <atomic>
#include <cstdint>

#include "task/task.hpp"
#include "util/perturb.hpp"

namespace braid::detail {

class LocalQueue {
public:
    static constexpr uint32_t kCapacity = 256;

    // Owner only.  False when full (the caller moves half out, see take_half).
    bool push(Task* t) {
        uint32_t tl = tail_.load(std::memory_order_relaxed);
        uint32_t hd = head_.load(std::memory_order_acquire);
        if (tl - hd >= kCapacity) return false;
        buf_[tl % kCapacity].store(t, std::memory_order_relaxed);
        tail_.store(tl + 1, std::memory_order_release);
        return true;
    }

    // Owner only: removes the older half of a full queue into out[] (at most
    // kCapacity / 2 entries) and returns how many.  0 when a thief made room.
    uint32_t take_half(Task** out) {
        uint32_t hd = head_.load(std::memory_order_acquire);
        uint32_t tl = tail_.load(std::memory_order_relaxed);
        uint32_t n = (tl - hd) / 2;
        if (n == 0 || tl - hd < kCapacity) return 0;
        for (uint32_t i = 0; i < n; ++i) out[i] = buf_[(hd + i) % kCapacity].load(std::memory_order_relaxed);
        if (!head_.compare_exchange_strong(hd, hd + n, std::memory_order_acq_rel)) return 0;
        return n;
    }

    // Owner only.
    Task* pop() {
        uint32_t hd = head_.load(std::memory_order_acquire);
        for (;;) {
            uint32_t tl = tail_.load(std::memory_order_relaxed);
            if (tl == hd) return nullptr;
            Task* t = buf_[hd % kCapacity].load(std::memory_order_relaxed);
            if (head_.compare_exchange_weak(hd, hd + 1, std::memory_order_acq_rel)) return t;
        }
    }

    // Called by the owner of `dst`: moves half of this queue into dst and
    // returns one of the stolen tasks to run at once (nullptr: nothing).
    Task* steal_into(LocalQueue& dst) {
        uint32_t dtl = dst.tail_.load(std::memory_order_relaxed);
        for (;;) {
            uint32_t hd = head_.load(std::memory_order_acquire);
            uint32_t tl = tail_.load(std::memory_order_acquire);
            uint32_t n = tl - hd;
            n -= n / 2;
            if (n == 0) return nullptr;
            if (n > kCapacity / 2) continue;  // inconsistent snapshot
            for (uint32_t i = 0; i < n; ++i)
                dst.buf_[(dtl + i) % kCapacity].store(buf_[(hd + i) % kCapacity].load(std::memory_order_relaxed),
                                                     std::memory_order_relaxed);
            if (head_.compare_exchange_weak(hd, hd + n, std::memory_order_acq_rel)) {
                Task* last = dst.buf_[(dtl + n - 1) % kCapacity].load(std::memory_order_relaxed);
                if (n > 1) dst.tail_.store(dtl + n - 1, std::memory_order_release);
                return last;
            }
        }
    }

    bool empty() const {
        return tail_.load(std::memory_order_acquire) == head_.load(std::memory_order_acquire);
    }
    uint32_t len() const {
        return tail_.load(std::memory_order_acquire) - head_.load(std::memory_order_acquire);
    }

private:
    alignas(64) perturb::Atomic<uint32_t> head_{0};
    alignas(64) perturb::Atomic<uint32_t> tail_{0};
    perturb::Atomic<Task*> buf_[kCapacity];
};

}  // namespace braid::detail
