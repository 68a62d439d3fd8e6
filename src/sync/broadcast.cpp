#include "sync/broadcast.hpp"

#include <braid/error.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "task/coop.hpp"
#include "util/block_until.hpp"

namespace braid::detail {

std::size_t Broadcast::values_offset(const ElemOps& ops, std::size_t cap) {
    return elem_offset(sizeof(Broadcast) + cap * sizeof(Meta), ops.align);
}

std::size_t Broadcast::alloc_size(const ElemOps& ops, std::size_t cap) {
    return values_offset(ops, cap) + cap * ops.stride();
}

Broadcast::Broadcast(const ElemOps& ops, CloneFn clone, std::size_t capacity)
    : cap_(capacity), clone_(clone), ops_(ops) {
    for (std::size_t i = 0; i < cap_; ++i) new (&meta()[i]) Meta{0, 0, false};
}

Broadcast* Broadcast::create(const ElemOps& ops, CloneFn clone, std::size_t capacity) {
    if (capacity == 0 || capacity > (std::size_t(1) << 40) / (ops.stride() + sizeof(Meta))) return nullptr;
    void* m = alloc_aligned(alloc_size(ops, capacity), std::max<std::size_t>(ops.align, alignof(Broadcast)));
    return m ? new (m) Broadcast(ops, clone, capacity) : nullptr;
}

void Broadcast::destroy(Broadcast* b) {
    ElemOps ops = b->ops_;
    std::size_t cap = b->cap_;
    for (std::size_t i = 0; i < cap; ++i)
        if (b->meta()[i].full) ops.destroy(b->value(i));
    b->~Broadcast();
    free_aligned(b, alloc_size(ops, cap), std::max<std::size_t>(ops.align, alignof(Broadcast)));
}

// ---- senders -----------------------------------------------------------------

void Broadcast::add_sender() {
    std::lock_guard<std::mutex> g(lock_);
    ++tx_count_;
}

void Broadcast::drop_sender() {
    bool last;
    {
        std::lock_guard<std::mutex> g(lock_);
        if (--tx_count_ == 0) waiters_.drain([](Waiter* h) { h->notify(BRAID_OK); });
        last = unused();
    }
    if (last) destroy(this);
}

int Broadcast::send(void* v, std::size_t* receivers) {
    std::lock_guard<std::mutex> g(lock_);
    if (rx_count_ == 0) return BRAID_ECLOSED;
    std::size_t i = std::size_t(tail_ % cap_);
    Meta& m = meta()[i];
    if (m.full) ops_.destroy(value(i));  // overwritten: whoever had not read it lags
    ops_.move(value(i), v);
    m = Meta{tail_, rx_count_, true};
    ++tail_;
    waiters_.drain([](Waiter* h) { h->notify(BRAID_OK); });
    if (receivers) *receivers = rx_count_;
    return BRAID_OK;
}

std::size_t Broadcast::receiver_count() {
    std::lock_guard<std::mutex> g(lock_);
    return rx_count_;
}

Broadcast::Rx* Broadcast::subscribe() {
    void* mem = alloc(sizeof(Rx));
    if (!mem) return nullptr;
    std::lock_guard<std::mutex> g(lock_);
    ++rx_count_;
    return new (mem) Rx{this, tail_};
}

// ---- receivers ---------------------------------------------------------------

void Broadcast::drop_receiver(Rx* rx) {
    Broadcast* b = rx->ch;
    bool last;
    {
        std::lock_guard<std::mutex> g(b->lock_);
        // The values this receiver would still have read: one reader fewer.
        for (uint64_t p = std::max(rx->next, b->oldest()); p < b->tail_; ++p) {
            std::size_t i = std::size_t(p % b->cap_);
            Meta& m = b->meta()[i];
            if (--m.rem == 0 && m.full) {
                b->ops_.destroy(b->value(i));
                m.full = false;
            }
        }
        --b->rx_count_;
        last = b->unused();
    }
    dealloc(rx, sizeof(Rx));
    if (last) destroy(b);
}

int Broadcast::poll_recv(Rx* rx, void* out, uint64_t* lagged, Waiter** w, braid_wake_fn wake, void* data) {
    std::lock_guard<std::mutex> g(lock_);
    if (Waiter* node = *w) {
        if (!node->notified) {
            node->set_waker(wake, data);
            return BRAID_PENDING;
        }
        // Woken by a send (or the last sender leaving): look again.
        Waiter::destroy(node);
        *w = nullptr;
    }
    if (rx->next < tail_) {
        if (wake && !coop::proceed(wake, data)) return BRAID_PENDING;
        if (rx->next < oldest()) {
            *lagged = oldest() - rx->next;
            rx->next = oldest();
            return kLagged;
        }
        std::size_t i = std::size_t(rx->next % cap_);
        Meta& m = meta()[i];
        if (m.rem == 1) {
            ops_.move(out, value(i));  // the last reader takes it
            m.full = false;
        } else if (clone_) {
            if (clone_(out, value(i)) != 0) return BRAID_EPANIC;
        } else {
            std::memcpy(out, value(i), ops_.size);
        }
        --m.rem;
        ++rx->next;
        return BRAID_OK;
    }
    if (tx_count_ == 0) return BRAID_ECLOSED;
    if (!wake) return BRAID_PENDING;
    Waiter* node = Waiter::make();
    if (!node) return BRAID_ENOMEM;
    node->set_waker(wake, data);
    waiters_.push_back(node);
    *w = node;
    return BRAID_PENDING;
}

void Broadcast::unregister_recv(Waiter** w) {
    if (!*w) return;
    std::lock_guard<std::mutex> g(lock_);
    (*w)->forget_waker();
}

void Broadcast::cancel_recv(Waiter** w) {
    std::lock_guard<std::mutex> g(lock_);
    Waiter* node = *w;
    if (!node) return;
    *w = nullptr;
    waiters_.remove(node);  // nothing was granted: the values stay for this receiver
    Waiter::destroy(node);
}

std::size_t Broadcast::len(const Rx* rx) {
    std::lock_guard<std::mutex> g(lock_);
    return std::size_t(tail_ - std::max(rx->next, oldest()));
}

int Broadcast::recv_blocking(Rx* rx, void* out, uint64_t* lagged, int64_t timeout_ms) {
    Waiter* w = nullptr;
    return block_until([&](braid_wake_fn wake, void* d) { return poll_recv(rx, out, lagged, &w, wake, d); },
                       [&] { cancel_recv(&w); }, timeout_ms);
}

}  // namespace braid::detail
