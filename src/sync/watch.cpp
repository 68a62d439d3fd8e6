#include "sync/watch.hpp"

#include <braid/error.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <new>

#include "task/coop.hpp"
#include "util/block_until.hpp"

namespace braid::detail {

Watch* Watch::create(const ElemOps& ops, void* initial, Rx** out_rx) {
    std::size_t align = std::max<std::size_t>(ops.align, alignof(Watch));
    void* m = alloc_aligned(alloc_size(ops), align);
    if (!m) return nullptr;
    Watch* w = new (m) Watch(ops);
    Rx* rx = w->new_rx(0);
    if (!rx) {
        w->~Watch();
        free_aligned(m, alloc_size(ops), align);
        return nullptr;
    }
    ops.move(w->slot(), initial);
    *out_rx = rx;
    return w;
}

void Watch::destroy(Watch* w) {
    ElemOps ops = w->ops_;
    ops.destroy(w->slot());
    w->~Watch();
    free_aligned(w, alloc_size(ops), std::max<std::size_t>(ops.align, alignof(Watch)));
}

Watch::Rx* Watch::new_rx(uint64_t seen) {
    void* mem = alloc(sizeof(Rx));
    if (!mem) return nullptr;
    std::lock_guard<SpinLock> g(lock_);
    ++rx_count_;
    return new (mem) Rx{this, seen};
}

// ---- senders -----------------------------------------------------------------

void Watch::add_sender() {
    std::lock_guard<SpinLock> g(lock_);
    ++tx_count_;
}

void Watch::drop_sender() {
    bool last;
    {
        std::lock_guard<SpinLock> g(lock_);
        if (--tx_count_ == 0) {
            tx_gone_ = true;
            changed_waiters_.drain([](Waiter* h) { h->notify(BRAID_OK); });
        }
        last = tx_count_ == 0 && rx_count_ == 0;
    }
    if (last) destroy(this);
}

void Watch::notify_changed() {
    std::lock_guard<SpinLock> g(lock_);
    changed_waiters_.drain([](Waiter* h) { h->notify(BRAID_OK); });
}

int Watch::send(void* v) {
    {
        std::lock_guard<SpinLock> g(lock_);
        if (rx_count_ == 0) return BRAID_ECLOSED;
    }
    {
        std::lock_guard<RwSpinLock> g(value_lock_);
        ops_.destroy(slot());
        ops_.move(slot(), v);
        version_.fetch_add(1, std::memory_order_release);
    }
    notify_changed();
    return BRAID_OK;
}

int Watch::send_replace(void* v) {
    alignas(64) unsigned char small[256];
    bool heap = ops_.stride() > sizeof small || ops_.align > 64;
    void* tmp = heap ? alloc_aligned(ops_.stride(), ops_.align) : small;
    if (!tmp) return BRAID_ENOMEM;
    {
        std::lock_guard<RwSpinLock> g(value_lock_);
        ops_.move(tmp, slot());
        ops_.move(slot(), v);
        version_.fetch_add(1, std::memory_order_release);
    }
    ops_.move(v, tmp);
    if (heap) free_aligned(tmp, ops_.stride(), ops_.align);
    notify_changed();
    return BRAID_OK;
}

int Watch::send_modify(ModifyFn fn, void* user_data) {
    int modified;
    {
        std::lock_guard<RwSpinLock> g(value_lock_);
        modified = fn(slot(), user_data) != 0;
        if (modified) version_.fetch_add(1, std::memory_order_release);
    }
    if (modified) notify_changed();
    return modified;
}

std::size_t Watch::receiver_count() {
    std::lock_guard<SpinLock> g(lock_);
    return rx_count_;
}

Watch::Rx* Watch::subscribe() {
    value_lock_.lock_shared();  // the version seen is the value's
    Rx* rx = new_rx(version_.load(std::memory_order_relaxed));
    value_lock_.unlock_shared();
    return rx;
}

int Watch::poll_closed(Waiter** w, braid_wake_fn wake, void* data) {
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
    if (rx_count_ == 0) return (!wake || coop::proceed(wake, data)) ? BRAID_OK : BRAID_PENDING;
    if (!wake) return BRAID_PENDING;
    Waiter* node = Waiter::make();
    if (!node) return BRAID_ENOMEM;
    node->set_waker(wake, data);
    closed_waiters_.push_back(node);
    *w = node;
    return BRAID_PENDING;
}

void Watch::unregister_closed(Waiter** w) {
    if (!*w) return;
    std::lock_guard<SpinLock> g(lock_);
    (*w)->forget_waker();
}

void Watch::cancel_closed(Waiter** w) {
    std::lock_guard<SpinLock> g(lock_);
    Waiter* node = *w;
    if (!node) return;
    *w = nullptr;
    closed_waiters_.remove(node);
    Waiter::destroy(node);
}

// ---- receivers ---------------------------------------------------------------

namespace {
// Takes one from a borrow count: false when it is 0.
bool take_borrow(std::atomic<uint32_t>& n) {
    uint32_t c = n.load(std::memory_order_relaxed);
    do {
        if (c == 0) return false;
    } while (!n.compare_exchange_weak(c, c - 1, std::memory_order_relaxed));
    return true;
}
}  // namespace

const void* Watch::borrow(Rx* rx, bool mark, bool* changed) {
    value_lock_.lock_shared();
    rx->borrows.fetch_add(1, std::memory_order_relaxed);
    uint64_t v = version_.load(std::memory_order_relaxed);
    if (changed) *changed = v != rx->seen;
    if (mark) rx->seen = v;
    return slot();
}

bool Watch::tx_borrow_end() {
    if (!take_borrow(tx_borrows_)) return false;
    value_lock_.unlock_shared();
    return true;
}

bool Watch::rx_borrow_end(Rx* rx) {
    if (!take_borrow(rx->borrows)) return false;
    value_lock_.unlock_shared();
    return true;
}

Watch::Rx* Watch::clone_rx(const Rx* rx) { return new_rx(rx->seen); }

void Watch::drop_receiver(Rx* rx) {
    Watch* w = rx->ch;
    // Borrows it never ended end with it (its pointers die with it).
    while (w->rx_borrow_end(rx)) {
    }
    bool last;
    {
        std::lock_guard<SpinLock> g(w->lock_);
        if (--w->rx_count_ == 0) w->closed_waiters_.drain([](Waiter* h) { h->notify(BRAID_OK); });
        last = w->tx_count_ == 0 && w->rx_count_ == 0;
    }
    dealloc(rx, sizeof(Rx));
    if (last) destroy(w);
}

int Watch::has_changed(const Rx* rx) {
    if (version_.load(std::memory_order_acquire) != rx->seen) return 1;
    std::lock_guard<SpinLock> g(lock_);
    return tx_gone_ ? BRAID_ECLOSED : 0;
}

bool Watch::sender_gone() {
    std::lock_guard<SpinLock> g(lock_);
    return tx_gone_;
}

int Watch::poll_changed(Rx* rx, Waiter** w, braid_wake_fn wake, void* data) {
    std::lock_guard<SpinLock> g(lock_);
    if (Waiter* node = *w) {
        if (!node->notified) {
            node->set_waker(wake, data);
            return BRAID_PENDING;
        }
        Waiter::destroy(node);  // woken: look again
        *w = nullptr;
    }
    uint64_t v = version_.load(std::memory_order_acquire);
    if (v != rx->seen) {
        if (wake && !coop::proceed(wake, data)) return BRAID_PENDING;
        rx->seen = v;
        return BRAID_OK;
    }
    if (tx_gone_) return BRAID_ECLOSED;
    if (!wake) return BRAID_PENDING;
    Waiter* node = Waiter::make();
    if (!node) return BRAID_ENOMEM;
    node->set_waker(wake, data);
    changed_waiters_.push_back(node);
    *w = node;
    return BRAID_PENDING;
}

void Watch::unregister_changed(Waiter** w) {
    if (!*w) return;
    std::lock_guard<SpinLock> g(lock_);
    (*w)->forget_waker();
}

void Watch::cancel_changed(Waiter** w) {
    std::lock_guard<SpinLock> g(lock_);
    Waiter* node = *w;
    if (!node) return;
    *w = nullptr;
    changed_waiters_.remove(node);
    Waiter::destroy(node);
}

int Watch::changed_blocking(Rx* rx, int64_t timeout_ms) {
    Waiter* w = nullptr;
    return block_until([&](braid_wake_fn wake, void* d) { return poll_changed(rx, &w, wake, d); },
                       [&] { cancel_changed(&w); }, timeout_ms);
}

}  // namespace braid::detail
