#include "sync/once_cell.hpp"

#include <braid/error.h>

#include <mutex>
#include <new>

#include "task/coop.hpp"
#include "util/block_until.hpp"

namespace braid::detail {

OnceCell* OnceCell::create(const ElemOps& ops) {
    void* m = alloc_aligned(alloc_size(ops), ops.align);
    return m ? new (m) OnceCell(ops) : nullptr;
}

void OnceCell::destroy(OnceCell* c) {
    if (!c) return;
    ElemOps ops = c->ops_;
    if (c->state_.load(std::memory_order_relaxed) == READY) ops.destroy(c->slot());
    c->~OnceCell();
    free_aligned(c, alloc_size(ops), ops.align);
}

void OnceCell::publish(void* value) {
    ops_.move(slot(), value);
    state_.store(READY, std::memory_order_release);
    waiters_.drain([](Waiter* h) { h->notify(BRAID_OK); });
}

void OnceCell::pass_on() {
    if (Waiter* h = waiters_.pop_front()) h->notify(kInit);  // stays INITIALISING
    else state_.store(EMPTY, std::memory_order_relaxed);
}

int OnceCell::set(void* value) {
    std::lock_guard<SpinLock> g(lock_);
    switch (state_.load(std::memory_order_relaxed)) {
        case READY: return BRAID_EEXIST;
        case INITIALISING: return BRAID_EBUSY;
        default: break;
    }
    publish(value);
    return BRAID_OK;
}

int OnceCell::take(void* out) {
    std::lock_guard<SpinLock> g(lock_);
    switch (state_.load(std::memory_order_relaxed)) {
        case EMPTY: return BRAID_EAGAIN;
        case INITIALISING: return BRAID_EBUSY;
        default: break;
    }
    ops_.move(out, slot());
    state_.store(EMPTY, std::memory_order_relaxed);
    return BRAID_OK;
}

int OnceCell::poll_init(Waiter** w, braid_wake_fn wake, void* data) {
    if (!*w && state_.load(std::memory_order_acquire) == READY)
        return (!wake || coop::proceed(wake, data)) ? BRAID_OK : BRAID_PENDING;
    std::lock_guard<SpinLock> g(lock_);
    if (Waiter* node = *w) {
        if (node->notified) {
            int st = node->status;
            Waiter::destroy(node);
            *w = nullptr;
            return st;
        }
        node->set_waker(wake, data);
        return BRAID_PENDING;
    }
    switch (state_.load(std::memory_order_relaxed)) {
        case READY: return BRAID_OK;
        case EMPTY: state_.store(INITIALISING, std::memory_order_relaxed); return kInit;
        default: break;
    }
    if (!wake) return BRAID_PENDING;
    Waiter* node = Waiter::make();
    if (!node) return BRAID_ENOMEM;
    node->set_waker(wake, data);
    waiters_.push_back(node);
    *w = node;
    return BRAID_PENDING;
}

void OnceCell::unregister(Waiter** w) {
    if (!*w) return;
    std::lock_guard<SpinLock> g(lock_);
    (*w)->forget_waker();
}

void OnceCell::cancel(Waiter** w) {
    std::lock_guard<SpinLock> g(lock_);
    Waiter* node = *w;
    if (!node) return;
    *w = nullptr;
    bool had_right = false;
    if (node->linked) waiters_.remove(node);
    else had_right = node->notified && node->status == kInit;
    Waiter::destroy(node);
    if (had_right) pass_on();
}

int OnceCell::complete_init(void* value) {
    std::lock_guard<SpinLock> g(lock_);
    if (state_.load(std::memory_order_relaxed) != INITIALISING) return BRAID_EINVAL;
    publish(value);
    return BRAID_OK;
}

int OnceCell::abort_init() {
    std::lock_guard<SpinLock> g(lock_);
    if (state_.load(std::memory_order_relaxed) != INITIALISING) return BRAID_EINVAL;
    pass_on();
    return BRAID_OK;
}

int OnceCell::init_blocking(int64_t timeout_ms) {
    Waiter* w = nullptr;
    return block_until([&](braid_wake_fn wake, void* d) { return poll_init(&w, wake, d); },
                       [&] { cancel(&w); }, timeout_ms);
}

}  // namespace braid::detail
