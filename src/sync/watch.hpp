// watch: one value that senders replace and receivers look at; a receiver
// can wait until a version newer than the one it has seen is there.
//
// The value lives in the channel's allocation, behind a reader-writer spin
// lock (borrows are reads; sends are writes).  A version counter, bumped
// under the write lock, tells receivers what is new.  Waiting receivers and
// senders waiting in closed() are in WaitLists under a second, short lock.
#pragma once

#include <braid/task.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "sync/elem_ops.hpp"
#include "sync/rw_spin_lock.hpp"
#include "sync/wait_list.hpp"
#include "util/spin_lock.hpp"

namespace braid::detail {

// Modifies the value in place; non-zero when it changed.
using ModifyFn = int (*)(void* value, void* user_data);

class Watch {
public:
    struct Rx {
        Watch* ch;
        uint64_t seen;                       // the version this receiver has seen
        std::atomic<uint32_t> borrows{0};    // its borrows not ended yet
    };

    // Moves *initial in.  One sender and one receiver exist on return.
    static Watch* create(const ElemOps& ops, void* initial, Rx** out_rx);
    const ElemOps& ops() const { return ops_; }

    // ---- senders
    void add_sender();
    void drop_sender();  // the last one wakes the receivers (changed() fails)
    // Replaces the value: 0, or BRAID_ECLOSED (no receiver; value untouched,
    // nothing stored).
    int send(void* v);
    // Replaces the value even without receivers; the old value ends up in
    // v.  0, or BRAID_ENOMEM (big elements need a temporary).
    int send_replace(void* v);
    // Runs fn on the value under the write lock; notifies when it returns
    // non-zero.  Returns fn's result.
    int send_modify(ModifyFn fn, void* user_data);
    std::size_t receiver_count();
    Rx* subscribe();  // sees the current value as seen
    int poll_closed(Waiter** w, braid_wake_fn wake, void* data);  // 0 once no receiver is left
    void cancel_closed(Waiter** w);
    void unregister_closed(Waiter** w);  // keeps the waiter; forgets the waker

    // ---- borrowing (both sides): read-locks until the matching end.  Each
    // side counts its borrows (the senders together, each receiver alone),
    // so an end without a borrow is refused instead of unlocking a lock
    // nobody holds (which would leave the next send waiting forever).
    const void* borrow() {
        value_lock_.lock_shared();
        tx_borrows_.fetch_add(1, std::memory_order_relaxed);
        return slot();
    }
    // Ends a sender's borrow: false (nothing done) when the senders hold none.
    bool tx_borrow_end();
    // A receiver's borrow: *changed says whether the value was unseen;
    // mark: the receiver has seen it now.
    const void* borrow(Rx* rx, bool mark, bool* changed);
    // Ends one of the receiver's borrows: false (nothing done) when it holds none.
    bool rx_borrow_end(Rx* rx);

    // ---- receivers
    Rx* clone_rx(const Rx* rx);
    static void drop_receiver(Rx* rx);
    // 1 (a newer version is there), 0 (no), BRAID_ECLOSED (no sender left).
    int has_changed(const Rx* rx);
    bool sender_gone();
    // braid_waiter protocol: 0 (a newer version; now seen), BRAID_ECLOSED
    // (every sender gone), BRAID_PENDING, BRAID_ENOMEM.
    int poll_changed(Rx* rx, Waiter** w, braid_wake_fn wake, void* data);
    void cancel_changed(Waiter** w);
    void unregister_changed(Waiter** w);  // keeps the waiter; forgets the waker
    int changed_blocking(Rx* rx, int64_t timeout_ms);

private:
    explicit Watch(const ElemOps& ops) : ops_(ops) {}
    void* slot() { return reinterpret_cast<char*>(this) + elem_offset(sizeof(Watch), ops_.align); }
    static std::size_t alloc_size(const ElemOps& ops) { return elem_offset(sizeof(Watch), ops.align) + ops.stride(); }
    static void destroy(Watch* w);
    Rx* new_rx(uint64_t seen);  // counts it
    void notify_changed();      // after a version bump

    RwSpinLock value_lock_;
    std::atomic<uint32_t> tx_borrows_{0};  // borrows made through senders, not ended yet
    std::atomic<uint64_t> version_{0};
    SpinLock lock_;  // the fields below
    bool tx_gone_ = false;
    std::size_t tx_count_ = 1;
    std::size_t rx_count_ = 0;
    WaitList changed_waiters_;
    WaitList closed_waiters_;
    ElemOps ops_;
};

}  // namespace braid::detail
