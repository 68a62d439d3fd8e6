#include "sync/barrier.hpp"

#include <braid/error.h>

#include <mutex>
#include <new>

#include "task/coop.hpp"
#include "util/alloc.hpp"
#include "util/block_until.hpp"

namespace braid::detail {

Barrier* Barrier::create(std::size_t n) {
    void* m = alloc(sizeof(Barrier));
    return m ? new (m) Barrier(n) : nullptr;
}

void Barrier::destroy(Barrier* b) {
    if (!b) return;
    b->~Barrier();
    dealloc(b, sizeof(Barrier));
}

int Barrier::poll_wait(Waiter** w, braid_wake_fn wake, void* data) {
    std::lock_guard<SpinLock> g(lock_);
    if (Waiter* node = *w) {
        if (node->notified) {
            Waiter::destroy(node);
            *w = nullptr;
            return BRAID_OK;
        }
        node->set_waker(wake, data);
        return BRAID_PENDING;
    }
    if (arrived_ + 1 == n_) {
        if (wake && !coop::proceed(wake, data)) return BRAID_PENDING;
        arrived_ = 0;
        waiters_.drain([](Waiter* h) { h->notify(BRAID_OK); });
        return kLeader;
    }
    if (!wake) return BRAID_PENDING;
    Waiter* node = Waiter::make();
    if (!node) return BRAID_ENOMEM;
    node->set_waker(wake, data);
    waiters_.push_back(node);
    ++arrived_;
    *w = node;
    return BRAID_PENDING;
}

void Barrier::unregister(Waiter** w) {
    if (!*w) return;
    std::lock_guard<SpinLock> g(lock_);
    (*w)->forget_waker();
}

void Barrier::cancel(Waiter** w) {
    std::lock_guard<SpinLock> g(lock_);
    Waiter* node = *w;
    if (!node) return;
    *w = nullptr;
    if (node->linked) {
        waiters_.remove(node);
        --arrived_;
    }
    Waiter::destroy(node);
}

int Barrier::wait_blocking(int64_t timeout_ms) {
    Waiter* w = nullptr;
    return block_until([&](braid_wake_fn wake, void* d) { return poll_wait(&w, wake, d); },
                       [&] { cancel(&w); }, timeout_ms);
}

}  // namespace braid::detail
