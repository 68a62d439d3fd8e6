// mpsc: many senders, one receiver; bounded (capacity > 0) or unbounded.
//
// Bounded: a ring of slots (a sequence number and a value each, side by
// side) allocated with the channel (capacity rounded up
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
// message, and wake a waiting sender for every slot.  The slots it emptied
// and did not give back yet are the positions between reclaimed_ and its
// head_ (so receiving one costs a plain store of head_, no atomic
// read-modify-write).  They go back, moving reclaimed_ up to head_ with one
// CAS, by whoever comes first of:
//   - the receiver, a batch at a time (batch_: a quarter of the capacity,
//     at most 128), and before it sleeps;
//   - the receiver at the end of its task's poll (task/poll_end.hpp) when a
//     sender waits for room (it raised tx_short_ after it queued): a task
//     that receives many messages in one poll wakes the waiting senders
//     once, with a batch of room, not once per message;
//   - the receiver at once, outside a task poll (blocking_recv on a plain
//     thread), when a sender waits;
//   - a sender that finds no free permit, before it queues: a slot the
//     receiver emptied is room for every sender at once (try_send after a
//     recv succeeds).
// "A sender waits" is the pair tx_short_ / head_: a queued sender raises the
// flag and then takes the emptied slots (seq_cst store, seq_cst load of
// head_); the receiver stores head_ and, behind a seq_cst fence, reads the
// flag: one of them sees the other, so no emptied slot stays back while a
// sender sleeps for longer than the rest of the receiver's poll.  A
// permit released that way always follows the receiver's reads of those
// slots (head_ is stored with release and read with acquire).

// Unbounded: a BlockQueue under a spin lock (no allocation per message
// either; blocks are recycled).
//
// Reserved slots are counted for the whole channel (its sender handles are
// all the channel itself): filling or giving back more than were reserved
// is refused, so a misused release can never add room that a value still
// occupies.
//
// The receiver's waker is under a spin lock that senders take only when the
// receiver announced that it sleeps.  A bounded channel's receiver announces
// its sleep in the senders' own word: it sets a flag (kRxAsleep) in tail_,
// with a CAS that succeeds only while every position claimed so far has
// been received (a claimed slot whose value is still being moved in is
// waited for: claim and publication are a few instructions apart, nothing
// between them waits).  A claim after the announcement sees the flag in
// what its fetch_add returns; the first sender that sees it takes it down
// and wakes the receiver after it published.  So a send publishes with a
// plain release store (with several sender handles an xchg, see
// push_permitted), and no look at the receiver's line, on the hot path.
// (Without a ring the queue is under the lock.)  Handles (senders, weak
// senders, the receiver) are counted; the last one frees the channel,
// destroying the values nobody received.
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
    // While a sender waits, the receiver gives emptied slots back this many at a time.
    static constexpr std::size_t kShortBatch = 32;

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
    // push_permitted without a ring: into the queue, under the lock.
    [[gnu::noinline]] int push_queued(void* v);
    // poll_send but its fast path (a permit free at once for a first poll):
    // the wait for room, and unbounded channels (under the lock).
    [[gnu::noinline]] int send_slow(void* v, Waiter** w, braid_wake_fn wake, void* data);
    // Takes n of the reserved slots; false (nothing taken) if fewer are.
    bool take_reserved(std::size_t n);
    // Takes up to limit values from the head into out (contiguous); 0 if none.
    std::size_t take(void* out, std::size_t limit);
    bool ready_at_head() const;
    // Announces in tail_ that the receiver sleeps (its waker registered):
    // false, announcing nothing, when a value is at the head (after waiting
    // for one a sender is moving in).
    bool announce_sleep();
    // Nothing is there and nothing will ever arrive.
    bool finished() const;
    // A value at the head of a ring: taken here; anything else (no ring,
    // nothing there, the wait) in recv_slow.
    int recv_impl(void* out, std::size_t limit, std::size_t* count, braid_wake_fn wake, void* data);
    [[gnu::noinline]] int recv_slow(void* out, std::size_t limit, std::size_t* count, braid_wake_fn wake, void* data);
    void wake_rx();               // wakes the receiver if it announced it sleeps
    void wake_rx_if_finished();   // after room came back to a closed channel
    // Permits for n slots (bounded): Semaphore::poll_acquire, taking the
    // slots the receiver emptied first when the word has too few.
    int acquire_room(std::size_t n, Waiter** w, braid_wake_fn wake, void* data);
    // The receiver emptied the slots up to position h (head_ is h now):
    // gives a batch back, or defers (see the top of this file).
    void give_back(uint64_t h);
    // The receiver's check whether a sender waits, behind the fence.
    void give_back_if_short();
    // give_back_if_short at the end of the receiver's poll; drops the
    // reference give_back took for it.
    static void give_back_deferred(void* self) noexcept;
    // Gives the emptied slots (reclaimed_ .. head_) back to room_ (the
    // receiver or a sender).
    void reclaim();
    // Emptied slots not given back yet.
    std::size_t emptied() const;
    // Slots given back or emptied (all of them: nothing is reserved or
    // buffered).
    bool all_room_back() const;
    char* slot(std::size_t i) const;
    std::atomic<uint64_t>& seq(std::size_t i) const;  // slot i's sequence number
    char* value(std::size_t i) const;                 // slot i's value

    ElemOps ops_;
    std::size_t cap_;
    std::size_t ring_;  // slots of the ring; 0: values in q_ (unbounded, or a huge capacity)
    std::size_t mask_;  // ring_ - 1
    std::size_t batch_;  // emptied slots given back at this many
    std::size_t slots_;     // offset of the ring's slots from this object
    std::size_t slot_;      // bytes a slot takes: its sequence number, then its value
    unsigned slot_shift_;   // log2(slot_) when a slot is at most a cache line, else 0
    std::size_t value_at_;  // offset of the value in its slot
    std::atomic<std::size_t> reserved_{0};  // slots reserved and not yet filled or released
    std::atomic<std::size_t> senders_{1};
    std::atomic<std::size_t> weak_{0};
    std::atomic<bool> rx_alive_{true};

    // The receiver's line.
    alignas(64) std::atomic<uint64_t> head_{0};  // written by the receiver only
    std::atomic<uint64_t> reclaimed_{0};         // slots before this position are back in room_
    std::atomic<bool> tx_short_{false};          // a sender waits for room: no batching
    // Here, not with the fields every send reads: a receiver's poll that
    // defers its give-back holds a reference.
    std::atomic<std::size_t> refs_{2};
    // The senders' line: a send claims a permit and a position here.
    // The flag in tail_ of a receiver that announced its sleep.
    static constexpr uint64_t kRxAsleep = uint64_t(1) << 63;
    alignas(64) std::atomic<uint64_t> tail_{0};  // claimed by senders; | kRxAsleep
    Semaphore room_;                             // bounded: room; both: the CLOSED flag

    alignas(64) SpinLock lock_;  // the fields below
    std::atomic<bool> rx_waiting_{false};
    WakerSlot rx_waker_;
    WaitList closed_waiters_;
    BlockQueue q_;  // without a ring only
};

}  // namespace braid::detail
