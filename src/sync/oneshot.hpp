// oneshot: one value from one sender to one receiver.  One allocation holds
// the state and the value's storage (56 bytes of state: the element's size
// and alignment are kept in the word with the lock and the flags).
#pragma once

#include <cstddef>
#include <cstdint>

#include "sync/elem_ops.hpp"
#include "sync/waker_slot.hpp"
#include "util/spin_lock.hpp"

namespace braid::detail {

class Oneshot {
public:
    static Oneshot* create(const ElemOps& ops);
    ElemOps ops() const { return ElemOps{size_, align_, relocate_, drop_}; }

    // Sender.  send: 0 (value moved in) or BRAID_ECLOSED (receiver gone; the
    // value is left where it was).  Either way the sender side is released,
    // and with it the waker its closed() registered.  The same holds for the
    // receiver's waker when the receiver is dropped: a side that is gone is
    // never woken.
    int send(void* value);
    void drop_sender();
    // 0 once the receiver is gone, else BRAID_PENDING (waker registered; a
    // NULL waker unregisters).
    int poll_closed(braid_wake_fn wake, void* data);
    // Whether the receiver is gone (registers and unregisters nothing).
    bool is_closed();

    // Receiver.  0 (value moved to out), BRAID_ECLOSED (sender dropped
    // without sending), BRAID_PENDING (waker registered, or with a NULL waker:
    // nothing there yet).
    int poll_recv(braid_wake_fn wake, void* data, void* out);
    void unregister_recv();
    // Refuses the value from now on (Tokio's Receiver::close): the sender
    // sees the channel closed (send gives BRAID_ECLOSED, closed() completes);
    // a value sent before stays receivable.
    void close_receiver();
    void drop_receiver();

private:
    // RX_CLOSED: the receiver called close (it is still there to receive a
    // value sent before).
    enum : uint8_t { TX_ALIVE = 1, RX_ALIVE = 2, VALUE = 4, RX_CLOSED = 8 };
    // Lock held: a send would be refused.
    bool refusing() const { return !(state_ & RX_ALIVE) || (state_ & RX_CLOSED); }
    explicit Oneshot(const ElemOps& ops)
        : align_(uint16_t(ops.align)), size_(uint32_t(ops.size)), relocate_(ops.relocate), drop_(ops.drop) {}
    void* slot() { return reinterpret_cast<char*>(this) + value_offset(align_); }
    static std::size_t value_offset(std::size_t align);
    static std::size_t alloc_size(const ElemOps& ops);
    // Frees when both sides are gone (call with the lock released).
    void destroy();

    SpinLock lock_;
    uint8_t state_ = TX_ALIVE | RX_ALIVE;
    uint16_t align_;  // ElemOps::valid: at most 4096
    uint32_t size_;   // at most 1 MiB
    WakerSlot rx_waker_;
    WakerSlot tx_waker_;
    braid_relocate_fn relocate_;
    braid_drop_fn drop_;
};

}  // namespace braid::detail
