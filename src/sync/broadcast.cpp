#include "sync/broadcast.hpp"

#include <braid/error.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "task/coop.hpp"
#include "util/block_until.hpp"

namespace braid::detail {

Broadcast::Ring Broadcast::ring_at(void* mem, std::size_t len) const {
    char* base = static_cast<char*>(mem);
    return Ring{reinterpret_cast<Meta*>(base), base + elem_offset(len * sizeof(Meta), ops_.align)};
}

void* Broadcast::alloc_ring(std::size_t len) const {
    // len * (Meta + stride) plus alignment padding must not overflow.
    if (len > (SIZE_MAX / 2) / (sizeof(Meta) + ops_.stride())) return nullptr;
    std::size_t bytes = elem_offset(len * sizeof(Meta), ops_.align) + len * ops_.stride();
    void* mem = alloc_aligned(bytes, std::max<std::size_t>(ops_.align, alignof(Meta)));
    if (!mem) return nullptr;
    Meta* meta = static_cast<Meta*>(mem);
    for (std::size_t i = 0; i < len; ++i) new (&meta[i]) Meta{0, 0, false};
    return mem;
}

void Broadcast::free_ring(void* mem, std::size_t len) const {
    if (!mem) return;
    std::size_t bytes = elem_offset(len * sizeof(Meta), ops_.align) + len * ops_.stride();
    free_aligned(mem, bytes, std::max<std::size_t>(ops_.align, alignof(Meta)));
}

Broadcast::Broadcast(const ElemOps& ops, CloneFn clone, std::size_t capacity)
    : cap_(capacity), clone_(clone), ops_(ops) {}

Broadcast::~Broadcast() {
    for (std::size_t i = 0; i < ring_len_; ++i)
        if (ring_.meta[i].full) ops_.destroy(value(i));
    free_ring(ring_mem_, ring_len_);
}

Broadcast* Broadcast::create(const ElemOps& ops, CloneFn clone, std::size_t capacity) {
    if (capacity == 0) return nullptr;
    void* m = alloc(sizeof(Broadcast));
    if (!m) return nullptr;
    auto* b = new (m) Broadcast(ops, clone, capacity);
    std::size_t len = std::min(capacity, kFirstSlots);
    b->ring_mem_ = b->alloc_ring(len);
    if (!b->ring_mem_) {
        b->~Broadcast();
        dealloc(m, sizeof(Broadcast));
        return nullptr;
    }
    b->ring_len_ = len;
    b->ring_ = b->ring_at(b->ring_mem_, len);
    return b;
}

void Broadcast::destroy(Broadcast* b) {
    b->~Broadcast();
    dealloc(b, sizeof(Broadcast));
}

bool Broadcast::grow() {
    std::size_t len = ring_len_ > cap_ / 2 ? cap_ : ring_len_ * 2;
    void* mem = alloc_ring(len);
    if (!mem) return false;
    Ring to = ring_at(mem, len);
    for (std::size_t i = 0; i < ring_len_; ++i) {
        Meta& m = ring_.meta[i];
        if (!m.full) continue;
        std::size_t j = std::size_t(m.pos % len);
        ops_.move(to.values + j * ops_.stride(), value(i));
        to.meta[j] = m;
    }
    free_ring(ring_mem_, ring_len_);
    ring_mem_ = mem;
    ring_len_ = len;
    ring_ = to;
    return true;
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
    std::size_t i = slot_of(tail_);
    if (meta()[i].full && ring_len_ < cap_) {
        // A value some receiver still has to read, and it is not yet
        // `capacity` values old: room for more.
        if (!grow()) return BRAID_ENOMEM;
        i = slot_of(tail_);
    }
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
            std::size_t i = b->slot_of(p);
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
        std::size_t i = slot_of(rx->next);
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

std::size_t Broadcast::queued() {
    std::lock_guard<std::mutex> g(lock_);
    // The oldest value some receiver still has to read: every later one is
    // queued too (a receiver reads in order).
    uint64_t first = std::max(oldest(), tail_ > ring_len_ ? tail_ - ring_len_ : uint64_t(0));
    for (uint64_t p = first; p < tail_; ++p) {
        const Meta& m = meta()[slot_of(p)];
        if (m.full && m.pos == p) return std::size_t(tail_ - p);
    }
    return 0;
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
