// broadcast: many senders, many receivers; every value goes to every
// receiver subscribed when it was sent.
//
// A ring of slots; each receiver has its own position.  A value stays until
// every receiver has read it or it is overwritten by a newer one; a receiver
// that fell more than `capacity` behind learns how many values it missed
// (lagged) and goes on from the oldest value still retained.
//
// The ring starts small (kFirstSlots) and doubles, up to `capacity` slots,
// when a send finds its slot still holding a value some receiver has not
// read while fewer than `capacity` slots exist: memory follows what
// receivers still have to read, so a huge capacity costs nothing up front.
// Value p lives in slot p % ring_len_; every value still held is one of the
// last ring_len_ sent, so they all have distinct slots, before and after a
// growth (which moves each to its new slot).  Receivers copy values out with the element's clone function;
// the last receiver of a value moves it out instead.  Waiting receivers are
// in a WaitList, all woken by a send.
#pragma once

#include <braid/task.h>

#include <cstddef>
#include <cstdint>
#include <mutex>

#include "sync/elem_ops.hpp"
#include "sync/wait_list.hpp"

namespace braid::detail {

// Copies the value at src into the uninitialised storage at dst; 0 on
// success (else nothing was constructed).
using CloneFn = int (*)(void* dst, const void* src);

class Broadcast {
public:
    static constexpr int kLagged = 2;  // BRAID_BROADCAST_LAGGED

    struct Rx {
        Broadcast* ch;
        uint64_t next;  // position of the next value to receive
    };

    static Broadcast* create(const ElemOps& ops, CloneFn clone, std::size_t capacity);
    const ElemOps& ops() const { return ops_; }

    // ---- senders
    void add_sender();
    void drop_sender();  // the last one closes the channel for the receivers
    // 0 (*receivers = how many will see it), BRAID_ECLOSED (no receiver;
    // value untouched), BRAID_ENOMEM (the ring could not grow; value
    // untouched).
    int send(void* v, std::size_t* receivers);
    std::size_t receiver_count();
    // Values still to be received by some receiver (Tokio's Sender::len).
    std::size_t queued();
    // A new receiver that sees the values sent from now on (nullptr: no memory).
    Rx* subscribe();

    // ---- receivers
    static void drop_receiver(Rx* rx);
    // braid_waiter protocol: 0 (a value in out), kLagged (*lagged = values
    // missed; the next receive continues at the oldest one retained),
    // BRAID_ECLOSED (every sender gone and nothing left), BRAID_EPANIC (the
    // clone function failed; nothing consumed), BRAID_PENDING, BRAID_ENOMEM.
    int poll_recv(Rx* rx, void* out, uint64_t* lagged, Waiter** w, braid_wake_fn wake, void* data);
    void cancel_recv(Waiter** w);
    void unregister_recv(Waiter** w);  // keeps the waiter queued; forgets the waker
    std::size_t len(const Rx* rx);
    int recv_blocking(Rx* rx, void* out, uint64_t* lagged, int64_t timeout_ms);

private:
    static constexpr std::size_t kFirstSlots = 16;
    struct Meta {
        uint64_t pos;
        std::size_t rem;  // receivers that still have to read it
        bool full;        // holds a value (rem > 0)
    };
    // The ring: ring_len_ Meta entries, then the values.
    struct Ring {
        Meta* meta;
        char* values;
    };
    Broadcast(const ElemOps& ops, CloneFn clone, std::size_t capacity);
    ~Broadcast();
    // Ring storage for `len` slots (metadata initialised); nullptr: no memory.
    void* alloc_ring(std::size_t len) const;
    void free_ring(void* mem, std::size_t len) const;
    Ring ring_at(void* mem, std::size_t len) const;
    // Lock held: doubles the ring (up to cap_).  false: no memory.
    bool grow();
    Meta* meta() { return ring_.meta; }
    void* value(std::size_t i) { return ring_.values + i * ops_.stride(); }
    std::size_t slot_of(uint64_t pos) const { return std::size_t(pos % ring_len_); }
    uint64_t oldest() const { return tail_ > cap_ ? tail_ - cap_ : 0; }
    static void destroy(Broadcast* b);
    bool unused() const { return tx_count_ == 0 && rx_count_ == 0; }

    std::mutex lock_;  // a clone may take a while: a sleeping lock
    std::size_t cap_;
    std::size_t ring_len_ = 0;  // slots allocated: min(cap_, kFirstSlots) .. cap_
    void* ring_mem_ = nullptr;
    Ring ring_{};
    uint64_t tail_ = 0;  // position of the next value sent
    std::size_t tx_count_ = 1;
    std::size_t rx_count_ = 0;
    WaitList waiters_;
    CloneFn clone_;
    ElemOps ops_;
};

}  // namespace braid::detail
