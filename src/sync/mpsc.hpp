// mpsc: many senders, one receiver; bounded (capacity > 0) or unbounded.
//
// Bounded: a ring of slots allocated with the channel (capacity rounded up
// to a power of two, and doubled from a capacity of kSpreadFrom on: no
// allocation after creation) and a
// Semaphore of `capacity` permits for room.  A capacity whose ring would
// take more than kMaxRingBytes (a huge capacity used as "effectively
// unbounded") keeps its values in a BlockQueue under the lock instead, as
// unbounded channels do: memory follows what is buffered, the permits still
// bound it.  A send takes a permit (one CAS;
// or waits for one, FIFO), claims a position with one fetch_add, moves the
// value into its slot and publishes it with the slot's sequence number; the
// receiver reads the slot at its head when the sequence says it is there,
// then gives the permit back.  A permit guarantees that the slot it leads to
// has been emptied (its previous value was received, and the release of
// that permit happened before the acquire), so senders never wait for each
// other.  Nothing on the hot path takes a lock.
//
// The receiver does not give each emptied slot back to the semaphore at
// once: that would make the semaphore's word, which senders update on
// every send, bounce between the receiver's core and the senders' on every
// message.  It counts them in rx_free_ (on its own cache line) and gives
// them back a batch at a time (batch_: a quarter of the capacity, at most
// 128), before it sleeps, and at once while a sender waits for room (the
// sender raises tx_short_ after it queued).  A sender that finds no free
// permit first takes what rx_free_ holds, so a slot the receiver emptied is
// room for every sender at once, as before: try_send after a recv succeeds.
// rx_free_ and tx_short_ pair up seq_cst (the receiver adds, then reads the
// flag; a waiting sender raises the flag, then takes): no slot is left in
// rx_free_ while a sender sleeps.
//
// Unbounded: a BlockQueue under a spin lock (no allocation per message
// either; blocks are recycled).
//
// Reserved slots are counted for the whole channel (its sender handles are
// all the channel itself): filling or giving back more than were reserved
// is refused, so a misused release can never add room that a value still
// occupies.
//
// The receiver's waker is under a spin lock that senders take only when the
// receiver announced (rx_waiting_) that it sleeps; announcing and
// publishing are ordered so that a value is never left behind a sleeping
// receiver.  Handles (senders, weak senders, the receiver) are counted; the
// last one frees the channel, destroying the values nobody received.
#pragma once

#include <braid/task.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "sync/block_queue.hpp"
#include "sync/elem_ops.hpp"
#include "sync/semaphore.hpp"
#include "sync/waker_slot.hpp"
#include "util/spin_lock.hpp"

namespace braid::detail {

class Mpsc {
public:
    // The largest ring allocated with a bounded channel.
    static constexpr std::size_t kMaxRingBytes = std::size_t(4) << 20;
    // From this capacity on the ring is twice the capacity (see ring_for).
    static constexpr std::size_t kSpreadFrom = 16;

    // capacity 0: unbounded.  One sender and the receiver exist on return.
    static Mpsc* create(const ElemOps& ops, std::size_t capacity);
    const ElemOps& ops() const { return ops_; }
    bool bounded() const { return cap_ != 0; }

    // ---- handles (each frees the channel when it was the last one)
    void add_sender();
    void drop_sender();
    void add_weak();
    void drop_weak();
    bool upgrade();  // weak -> sender; false once no sender is left
    void drop_receiver();
    std::size_t sender_count() const { return senders_.load(std::memory_order_acquire); }
    std::size_t weak_count() const { return weak_.load(std::memory_order_acquire); }

    // ---- sending
    // braid_waiter protocol: 0 (moved in), BRAID_ECLOSED (receiver closed or
    // gone; value untouched), BRAID_PENDING (waiting for room; with a NULL
    // waker: full), BRAID_ENOMEM.
    int poll_send(void* v, Waiter** w, braid_wake_fn wake, void* data);
    // Reserve n slots (bounded only): 0 when they are the caller's.
    int poll_reserve(std::size_t n, Waiter** w, braid_wake_fn wake, void* data);
    // Cancels a waiting send or reserve; room it had been granted goes back.
    void cancel_send(Waiter** w);
    // Keeps a send or reserve waiting for room in its place; forgets the waker.
    void unregister_send(Waiter** w);
    // Sends with one reserved slot: 0, BRAID_ECLOSED (receiver gone; value
    // untouched) or BRAID_ENOMEM (no block for it; value untouched); the
    // slot is used up either way.  BRAID_EINVAL: no slot is reserved.
    int send_reserved(void* v);
    // 0, or BRAID_EINVAL when fewer than n slots are reserved (nothing changes).
    int release_reserved(std::size_t n);
    // tx.closed(): 0 once the receiver is closed or gone.
    int poll_closed(Waiter** w, braid_wake_fn wake, void* data);
    void cancel_closed(Waiter** w);
    void unregister_closed(Waiter** w);
    bool rx_closed() const { return room_.closed(); }
    std::size_t room() const;
    std::size_t max_capacity() const { return cap_ ? cap_ : SIZE_MAX; }

    // ---- receiving (one receiver)
    // 0 (moved to out), BRAID_ECLOSED (no sender left, or closed, and
    // nothing left to receive), BRAID_PENDING (waker registered; with a NULL
    // waker: empty).
    int poll_recv(void* out, braid_wake_fn wake, void* data);
    // Up to `limit` elements into the array at out: 0 with *count >= 1, or
    // as poll_recv.
    int poll_recv_many(void* out, std::size_t limit, std::size_t* count, braid_wake_fn wake, void* data);
    void unregister_recv();
    void close();  // no more sends; what is buffered (or reserved) can still be received
    std::size_t len() const;
    bool is_closed_for_rx() const { return room_.closed() || senders_.load(std::memory_order_acquire) == 0; }

    int send_blocking(void* v, int64_t timeout_ms);
    int recv_blocking(void* out, int64_t timeout_ms);

private:
    Mpsc(const ElemOps& ops, std::size_t capacity, std::size_t ring);
    ~Mpsc();
    void unref();
    // Bounded: one permit is ours; claim a position and publish (or queue
    // the value when there is no ring).
    int push_permitted(void* v);
    // Takes n of the reserved slots; false (nothing taken) if fewer are.
    bool take_reserved(std::size_t n);
    // Takes up to limit values from the head into out (contiguous); 0 if none.
    std::size_t take(void* out, std::size_t limit);
    bool ready_at_head() const;
    // Nothing is there and nothing will ever arrive.
    bool finished() const;
    int recv_impl(void* out, std::size_t limit, std::size_t* count, braid_wake_fn wake, void* data);
    void wake_rx();               // wakes the receiver if it announced it sleeps
    void wake_rx_if_finished();   // after room came back to a closed channel
    // Permits for n slots (bounded): Semaphore::poll_acquire, taking the
    // slots the receiver emptied first when the word has too few.
    int acquire_room(std::size_t n, Waiter** w, braid_wake_fn wake, void* data);
    // The receiver emptied n slots: count them, give a batch back.
    void give_back(std::size_t n);
    // Moves rx_free_ into the semaphore (the receiver or a sender).
    void reclaim();
    // Slots given back or waiting in rx_free_ (all of them: nothing is
    // reserved or buffered).
    bool all_room_back() const;
    std::atomic<uint64_t>* seqs() const;
    char* value(std::size_t i) const;

    ElemOps ops_;
    std::size_t cap_;
    std::size_t ring_;  // slots of the ring; 0: values in q_ (unbounded, or a huge capacity)
    std::size_t mask_;  // ring_ - 1
    std::size_t batch_;  // rx_free_ given back at this many
    std::atomic<std::size_t> reserved_{0};  // slots reserved and not yet filled or released
    std::atomic<std::size_t> refs_{2};
    std::atomic<std::size_t> senders_{1};
    std::atomic<std::size_t> weak_{0};
    std::atomic<bool> rx_alive_{true};

    // The receiver's line.
    alignas(64) std::atomic<uint64_t> head_{0};  // written by the receiver only
    std::atomic<std::size_t> rx_free_{0};        // slots emptied, not yet in room_
    std::atomic<bool> tx_short_{false};          // a sender waits for room: no batching
    // The senders' line: a send claims a permit and a position here.
    alignas(64) std::atomic<uint64_t> tail_{0};  // claimed by senders
    Semaphore room_;                             // bounded: room; both: the CLOSED flag

    alignas(64) SpinLock lock_;  // the fields below
    std::atomic<bool> rx_waiting_{false};
    WakerSlot rx_waker_;
    WaitList closed_waiters_;
    BlockQueue q_;  // without a ring only
};

}  // namespace braid::detail
