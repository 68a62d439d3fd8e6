#include "sync/oneshot.hpp"

#include <braid/error.h>

#include <mutex>
#include <new>

#include "task/coop.hpp"
#include "util/alloc.hpp"

namespace braid::detail {

std::size_t Oneshot::value_offset(std::size_t align) {
    return (sizeof(Oneshot) + align - 1) / align * align;
}

std::size_t Oneshot::alloc_size(const ElemOps& ops) { return value_offset(ops.align) + ops.stride(); }

Oneshot* Oneshot::create(const ElemOps& ops) {
    void* mem = ops.align <= 16 ? alloc(alloc_size(ops))
                                : ::operator new(alloc_size(ops), std::align_val_t(ops.align), std::nothrow);
    if (!mem) return nullptr;
    return new (mem) Oneshot(ops);
}

void Oneshot::destroy() {
    ElemOps ops = this->ops();
    if (state_ & VALUE) ops.destroy(slot());
    this->~Oneshot();
    if (ops.align <= 16) dealloc(this, alloc_size(ops));
    else ::operator delete(this, std::align_val_t(ops.align));
}

int Oneshot::send(void* value) {
    bool last;
    int rc;
    {
        std::lock_guard<SpinLock> g(lock_);
        if (!refusing()) {
            ops().move(slot(), value);
            state_ |= VALUE;
            rx_waker_.wake();
            rc = BRAID_OK;
        } else {
            rc = BRAID_ECLOSED;
        }
        state_ &= uint8_t(~TX_ALIVE);
        tx_waker_.clear();  // the sender is gone: its closed() waker with it
        last = !(state_ & RX_ALIVE);
    }
    if (last) destroy();
    return rc;
}

void Oneshot::drop_sender() {
    bool last;
    {
        std::lock_guard<SpinLock> g(lock_);
        state_ &= uint8_t(~TX_ALIVE);
        tx_waker_.clear();  // the sender's closed() waker goes with it
        rx_waker_.wake();   // the receiver learns the sender is gone
        last = !(state_ & RX_ALIVE);
    }
    if (last) destroy();
}

int Oneshot::poll_closed(braid_wake_fn wake, void* data) {
    std::lock_guard<SpinLock> g(lock_);
    if (refusing()) return BRAID_OK;
    if (wake) tx_waker_.set(wake, data);
    else tx_waker_.clear();
    return BRAID_PENDING;
}

bool Oneshot::is_closed() {
    std::lock_guard<SpinLock> g(lock_);
    return refusing();
}

int Oneshot::poll_recv(braid_wake_fn wake, void* data, void* out) {
    std::lock_guard<SpinLock> g(lock_);
    if (state_ & VALUE) {
        if (wake && !coop::proceed(wake, data)) return BRAID_PENDING;  // try_recv is not budgeted
        ops().move(out, slot());
        state_ &= uint8_t(~VALUE);
        rx_waker_.clear();
        // A oneshot delivers once: afterwards the receiver sees it closed.
        return BRAID_OK;
    }
    if (!(state_ & TX_ALIVE) || (state_ & RX_CLOSED)) return BRAID_ECLOSED;
    if (wake) rx_waker_.set(wake, data);
    return BRAID_PENDING;
}

void Oneshot::unregister_recv() {
    std::lock_guard<SpinLock> g(lock_);
    rx_waker_.clear();
}

void Oneshot::close_receiver() {
    std::lock_guard<SpinLock> g(lock_);
    state_ |= RX_CLOSED;
    tx_waker_.wake();  // closed() on the sender completes
}

void Oneshot::drop_receiver() {
    bool last;
    {
        std::lock_guard<SpinLock> g(lock_);
        state_ &= uint8_t(~RX_ALIVE);
        rx_waker_.clear();  // the receiver's waker goes with it
        tx_waker_.wake();   // closed() on the sender completes
        last = !(state_ & TX_ALIVE);
    }
    if (last) destroy();
}

}  // namespace braid::detail
