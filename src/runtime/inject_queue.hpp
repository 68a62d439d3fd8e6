// The global inject queue: tasks scheduled from outside the workers (foreign
// threads, the reactor, the blocking pool) and local-queue overflow.  An
// intrusive FIFO under a spin lock, with a lock-free length for the fast check.
// Once closed (shutdown) it accepts nothing.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>

#include "util/perturb.hpp"
#include "util/spin_lock.hpp"

#include "task/task.hpp"

namespace braid::detail {

class InjectQueue {
public:
    // Appends the chain first..last of n tasks.  False when closed.
    bool push_batch(Task* first, Task* last, std::size_t n) {
        std::lock_guard<SpinLock> g(mu_);
        if (closed_) return false;
        last->queue_next = nullptr;
        if (tail_) tail_->queue_next = first; else head_ = first;
        tail_ = last;
        len_.store(len_.load(std::memory_order_relaxed) + n, std::memory_order_release);
        return true;
    }
    bool push(Task* t) { return push_batch(t, t, 1); }

    // Pops up to max tasks into out[]; returns the count.
    std::size_t pop_batch(Task** out, std::size_t max) {
        if (len_.load(std::memory_order_acquire) == 0) return 0;
        std::lock_guard<SpinLock> g(mu_);
        std::size_t n = 0;
        while (n < max && head_) {
            out[n++] = head_;
            head_ = head_->queue_next;
        }
        if (!head_) tail_ = nullptr;
        len_.store(len_.load(std::memory_order_relaxed) - n, std::memory_order_release);
        return n;
    }

    bool empty() const { return len_.load(std::memory_order_acquire) == 0; }
    std::size_t len() const { return len_.load(std::memory_order_acquire); }

    // Closes the queue and forgets what it held (shutdown cancels those tasks
    // through the owned-tasks list).
    void close() {
        std::lock_guard<SpinLock> g(mu_);
        closed_ = true;
        head_ = tail_ = nullptr;
        len_.store(0, std::memory_order_release);
    }

private:
    SpinLock mu_;  // held for a few pointer moves
    Task* head_ = nullptr;
    Task* tail_ = nullptr;
    perturb::Atomic<std::size_t> len_{0};
    bool closed_ = false;
};

}  // namespace braid::detail
