#include "sync/semaphore.hpp"

#include <algorithm>
#include <new>

#include "task/coop.hpp"
#include "util/alloc.hpp"
#include "util/block_until.hpp"

namespace braid::detail {

SemState::~SemState() {
    // Freeing a primitive with waits still queued is a caller bug; do not
    // leak the nodes at least.
    waiters_.drain([](Waiter* w) { w->linked = false; });
}

int SemState::poll_acquire(uint64_t n, Waiter** w, braid_wake_fn wake, void* data) {
    if (*w) return repoll(w, wake, data);
    if (closed_) return BRAID_ECLOSED;
    if (can_take(n)) {
        if (wake && !coop::proceed(wake, data)) return BRAID_PENDING;
        take(n);
        return BRAID_OK;
    }
    if (!wake) return BRAID_PENDING;
    return enqueue(n, w, wake, data);
}

int SemState::enqueue(uint64_t n, Waiter** w, braid_wake_fn wake, void* data) {
    Waiter* node = Waiter::make();
    if (!node) return BRAID_ENOMEM;
    node->need = n;
    if (waiters_.empty()) {
        uint64_t g = std::min(permits_, n);
        node->got = g;
        permits_ -= g;
    }
    node->set_waker(wake, data);
    waiters_.push_back(node);
    *w = node;
    return BRAID_PENDING;
}

int SemState::repoll(Waiter** w, braid_wake_fn wake, void* data) {
    Waiter* node = *w;
    if (node->notified) {
        int st = node->status;
        Waiter::destroy(node);
        *w = nullptr;
        return st;
    }
    node->set_waker(wake, data);
    return BRAID_PENDING;
}

void SemState::cancel(Waiter** w) {
    Waiter* node = *w;
    if (!node) return;
    *w = nullptr;
    uint64_t back = 0;
    if (node->linked) {
        back = node->got;
        waiters_.remove(node);
    } else if (node->notified && node->status == BRAID_OK) {
        back = node->need;  // granted in full, never taken
    }
    Waiter::destroy(node);
    if (back) {
        permits_ += back;
        serve();
    }
}

bool SemState::release(uint64_t n) {
    uint64_t held_by_head = waiters_.empty() ? 0 : waiters_.front()->got;
    if (n > limit_ || permits_ + held_by_head > limit_ - n) return false;
    permits_ += n;
    serve();
    return true;
}

void SemState::serve() {
    while (Waiter* h = waiters_.front()) {
        uint64_t give = std::min(h->need - h->got, permits_);
        h->got += give;
        permits_ -= give;
        if (h->got < h->need) return;
        waiters_.pop_front();
        h->notify(BRAID_OK);
    }
}

void SemState::close() {
    closed_ = true;
    waiters_.drain([this](Waiter* h) {
        permits_ += h->got;
        h->got = 0;
        h->notify(BRAID_ECLOSED);
    });
}

// ---- Semaphore ---------------------------------------------------------------

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
    std::lock_guard<SpinLock> g(lock_);
    if (st_.closed()) return BRAID_ECLOSED;
    if (!st_.can_take(n)) return BRAID_EAGAIN;
    st_.take(n);
    return BRAID_OK;
}

int Semaphore::poll_acquire(uint64_t n, Waiter** w, braid_wake_fn wake, void* data) {
    std::lock_guard<SpinLock> g(lock_);
    return st_.poll_acquire(n, w, wake, data);
}

void Semaphore::cancel(Waiter** w) {
    std::lock_guard<SpinLock> g(lock_);
    st_.cancel(w);
}

int Semaphore::release(uint64_t n) {
    std::lock_guard<SpinLock> g(lock_);
    return st_.release(n) ? BRAID_OK : BRAID_ERANGE;
}

void Semaphore::close() {
    std::lock_guard<SpinLock> g(lock_);
    st_.close();
}

bool Semaphore::is_closed() {
    std::lock_guard<SpinLock> g(lock_);
    return st_.closed();
}

uint64_t Semaphore::available() {
    std::lock_guard<SpinLock> g(lock_);
    return st_.available();
}

int Semaphore::acquire_blocking(uint64_t n, int64_t timeout_ms) {
    Waiter* w = nullptr;
    return block_until([&](braid_wake_fn wake, void* d) { return poll_acquire(n, &w, wake, d); },
                       [&] { cancel(&w); }, timeout_ms);
}

}  // namespace braid::detail
