#include "sync/semaphore.hpp"

#include <algorithm>
#include <mutex>
#include <new>

#include "task/coop.hpp"
#include "util/alloc.hpp"
#include "util/block_until.hpp"

namespace braid::detail {

Semaphore::~Semaphore() {
    // Freeing a primitive with waits still queued is a caller bug; leave the
    // nodes to their owners.
    waiters_.drain([](Waiter*) {});
}

Semaphore* Semaphore::create(uint64_t permits, uint64_t limit) {
    void* m = alloc(sizeof(Semaphore));
    return m ? new (m) Semaphore(permits, limit) : nullptr;
}

void Semaphore::destroy(Semaphore* s) {
    if (!s) return;
    s->~Semaphore();
    dealloc(s, sizeof(Semaphore));
}

int Semaphore::try_acquire(uint64_t n) {
    uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
        if (s & kClosed) return BRAID_ECLOSED;
        if (n == 0) return BRAID_OK;
        if ((s & kWaiters) || (s >> kShift) < n) return BRAID_EAGAIN;
        if (state_.compare_exchange_weak(s, s - (n << kShift), std::memory_order_acq_rel)) return BRAID_OK;
    }
}

int Semaphore::poll_acquire_slow(uint64_t n, Waiter** w, braid_wake_fn wake, void* data) {
    if (Waiter* node = *w) {
        std::lock_guard<SpinLock> g(lock_);
        if (node->notified) {
            int st = node->status;
            if (st == BRAID_OK) {
                // Taken: the caller holds them now.  GRANTED may stay set
                // with nothing granted; that only sends the next release
                // through the lock, which clears it (no extra atomic here,
                // on every hand-over of a contended mutex).
                granted_ -= node->need;
            }
            Waiter::destroy(node);
            *w = nullptr;
            return st;
        }
        node->set_waker(wake, data);
        return BRAID_PENDING;
    }
    uint64_t s = state_.load(std::memory_order_acquire);
    if (s & kClosed) return BRAID_ECLOSED;
    if (n == 0 || (!(s & kWaiters) && (s >> kShift) >= n)) {
        if (wake && !coop::proceed(wake, data)) return BRAID_PENDING;
        if (n == 0) return BRAID_OK;
        while (!(s & (kWaiters | kClosed)) && (s >> kShift) >= n)
            if (state_.compare_exchange_weak(s, s - (n << kShift), std::memory_order_acq_rel)) return BRAID_OK;
    }
    if (!wake) return (s & kClosed) ? BRAID_ECLOSED : BRAID_PENDING;
    std::lock_guard<SpinLock> g(lock_);
    return enqueue_locked(n, w, wake, data);
}

int Semaphore::enqueue_locked(uint64_t n, Waiter** w, braid_wake_fn wake, void* data) {
    uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
        if (s & kClosed) return BRAID_ECLOSED;
        if (!(s & kWaiters) && (s >> kShift) >= n) {
            // Released meanwhile: no need to wait.
            if (state_.compare_exchange_weak(s, s - (n << kShift), std::memory_order_acq_rel)) return BRAID_OK;
            continue;
        }
        // The head of an empty queue takes what is free now.
        uint64_t give = (s & kWaiters) ? 0 : std::min(s >> kShift, n);
        if (state_.compare_exchange_weak(s, (s - (give << kShift)) | kWaiters, std::memory_order_acq_rel)) {
            Waiter* node = Waiter::make();
            if (!node) {
                serve_locked(give);
                return BRAID_ENOMEM;
            }
            node->need = n;
            node->got = give;
            node->set_waker(wake, data);
            waiters_.push_back(node);
            *w = node;
            return BRAID_PENDING;
        }
    }
}

void Semaphore::serve_locked(uint64_t extra) {
    while (Waiter* h = waiters_.front()) {
        uint64_t give = std::min(h->need - h->got, extra);
        h->got += give;
        extra -= give;
        if (h->got < h->need) return;  // the head still waits; nothing is left
        waiters_.pop_front();
        granted_ += h->need;  // the waiter's until it polls or cancels
        h->notify(BRAID_OK);
    }
    uint64_t granted = granted_ ? kGranted : 0;
    uint64_t s = state_.load(std::memory_order_relaxed);
    while (!state_.compare_exchange_weak(s, ((s + (extra << kShift)) & ~(kWaiters | kGranted)) | granted,
                                         std::memory_order_acq_rel)) {
    }
}

void Semaphore::unregister(Waiter** w) {
    if (!*w) return;
    std::lock_guard<SpinLock> g(lock_);
    (*w)->forget_waker();
}

void Semaphore::cancel(Waiter** w) {
    Waiter* node = *w;
    if (!node) return;
    *w = nullptr;
    std::lock_guard<SpinLock> g(lock_);
    uint64_t back = 0;
    bool was_queued = node->linked;
    if (was_queued) {
        back = node->got;
        waiters_.remove(node);
    } else if (node->notified && node->status == BRAID_OK) {
        back = node->need;  // granted in full, never taken
        granted_ -= back;  // serve_locked below sets GRANTED anew
    }
    Waiter::destroy(node);
    // Hand back what it had; if it was the last waiter, WAITERS goes too.
    if (was_queued || back) serve_locked(back);
}

uint64_t Semaphore::forget(uint64_t n) {
    uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
        uint64_t free_now = s >> kShift;
        uint64_t k = free_now < n ? free_now : n;
        if (k == 0) return 0;
        if (state_.compare_exchange_weak(s, s - (k << kShift), std::memory_order_acq_rel)) return k;
    }
}

int Semaphore::release_slow(uint64_t n) {
    if (n == 0) return BRAID_OK;
    if (n > limit_) return BRAID_ERANGE;
    uint64_t s = state_.load(std::memory_order_relaxed);
    while (!(s & (kWaiters | kGranted))) {
        // Nobody waits and nothing is on its way to a waiter: the free
        // permits are all there is.
        if ((s >> kShift) > limit_ - n) return BRAID_ERANGE;
        if (state_.compare_exchange_weak(s, s + (n << kShift), std::memory_order_acq_rel)) return BRAID_OK;
    }
    std::lock_guard<SpinLock> g(lock_);
    // Permits outside the word that count against the limit: the head's
    // partial grant and the grants not yet taken.
    uint64_t elsewhere = (waiters_.empty() ? 0 : waiters_.front()->got) + granted_;
    s = state_.load(std::memory_order_acquire);
    for (;;) {
        uint64_t free_now = s >> kShift;
        if (free_now > limit_ - n || elsewhere > limit_ - n - free_now) return BRAID_ERANGE;
        // With WAITERS set the word does not change under us (acquires and
        // lock-free releases stay out); without it, a plain add that may
        // race with them.
        if (s & kWaiters) {
            serve_locked(n);
            return BRAID_OK;
        }
        uint64_t next = ((s + (n << kShift)) & ~kGranted) | (granted_ ? kGranted : 0);  // a stale GRANTED goes
        if (state_.compare_exchange_weak(s, next, std::memory_order_acq_rel)) return BRAID_OK;
    }
}

void Semaphore::close() {
    std::lock_guard<SpinLock> g(lock_);
    state_.fetch_or(kClosed, std::memory_order_acq_rel);
    uint64_t back = 0;
    waiters_.drain([&](Waiter* h) {
        back += h->got;
        h->got = 0;
        h->notify(BRAID_ECLOSED);
    });
    serve_locked(back);
}

int Semaphore::acquire_blocking(uint64_t n, int64_t timeout_ms) {
    Waiter* w = nullptr;
    return block_until([&](braid_wake_fn wake, void* d) { return poll_acquire(n, &w, wake, d); },
                       [&] { cancel(&w); }, timeout_ms);
}

}  // namespace braid::detail
