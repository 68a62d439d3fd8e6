#include "sync/notify.hpp"

#include <braid/error.h>

#include <mutex>
#include <new>

#include "task/coop.hpp"
#include "util/alloc.hpp"
#include "util/block_until.hpp"

namespace braid::detail {

Notify* Notify::create() {
    void* m = alloc(sizeof(Notify));
    return m ? new (m) Notify() : nullptr;
}

void Notify::destroy(Notify* n) {
    if (!n) return;
    n->~Notify();
    dealloc(n, sizeof(Notify));
}

int Notify::poll_notified(Waiter** w, braid_wake_fn wake, void* data, uint64_t epoch) {
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
    // Not queued yet, and a notify_waiters came after the Notified was
    // created: it was meant for this wait too (Tokio), though the wait was
    // not in the queue it drained.  The permit stays for someone else.
    if (waiters_since_locked(epoch)) return BRAID_OK;
    if (permit_) {
        if (wake && !coop::proceed(wake, data)) return BRAID_PENDING;
        permit_ = false;
        return BRAID_OK;
    }
    if (!wake) return BRAID_PENDING;
    Waiter* node = Waiter::make();
    if (!node) return BRAID_ENOMEM;
    node->set_waker(wake, data);
    waiters_.push_back(node);
    *w = node;
    return BRAID_PENDING;
}

void Notify::unregister(Waiter** w) {
    if (!*w) return;
    std::lock_guard<SpinLock> g(lock_);
    (*w)->forget_waker();
}

void Notify::cancel(Waiter** w) {
    std::lock_guard<SpinLock> g(lock_);
    Waiter* node = *w;
    if (!node) return;
    *w = nullptr;
    bool pass_on = false;
    if (node->linked) waiters_.remove(node);
    else pass_on = node->notified && node->got == BY_ONE;
    Waiter::destroy(node);
    if (pass_on) notify_one_locked();
}

void Notify::notify_chosen_locked(Waiter* h) {
    if (h) {
        h->got = BY_ONE;
        h->notify(BRAID_OK);
    } else {
        permit_ = true;
    }
}

void Notify::notify_one() {
    std::lock_guard<SpinLock> g(lock_);
    notify_one_locked();
}

void Notify::notify_last() {
    std::lock_guard<SpinLock> g(lock_);
    notify_chosen_locked(waiters_.pop_back());
}

int Notify::enable(Waiter** w, uint64_t epoch) {
    std::lock_guard<SpinLock> g(lock_);
    if (Waiter* node = *w) return node->notified ? 1 : 0;
    if (waiters_since_locked(epoch)) return 1;  // as in poll_notified: the next poll completes
    Waiter* node = Waiter::make();
    if (!node) return BRAID_ENOMEM;
    *w = node;
    if (permit_) {
        // The permit is this wait's now: notified as by notify_one, so a
        // cancel before the poll passes it on.
        permit_ = false;
        node->got = BY_ONE;
        node->notify(BRAID_OK);
        return 1;
    }
    waiters_.push_back(node);  // no waker yet: the first poll sets one
    return 0;
}

void Notify::notify_waiters() {
    std::lock_guard<SpinLock> g(lock_);
    waiters_epoch_.store(waiters_epoch_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    waiters_.drain([](Waiter* h) {
        h->got = BY_ALL;
        h->notify(BRAID_OK);
    });
}

int Notify::notified_blocking(int64_t timeout_ms) {
    Waiter* w = nullptr;
    return block_until([&](braid_wake_fn wake, void* d) { return poll_notified(&w, wake, d); },
                       [&] { cancel(&w); }, timeout_ms);
}

}  // namespace braid::detail
