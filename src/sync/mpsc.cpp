#include "sync/mpsc.hpp"

#include <braid/error.h>

#include <algorithm>
#include <mutex>
#include <new>

#include "task/coop.hpp"
#include "task/poll_end.hpp"
#include "util/alloc.hpp"
#include "util/backoff.hpp"
#include "util/block_until.hpp"

namespace braid::detail {

namespace {
// The least power of two at or above n.
std::size_t pow2_at_least(std::size_t n) {
    std::size_t r = 1;
    while (r < n) r <<= 1;
    return r;
}
// A slot is its sequence number followed by its value, on one cache line
// for small values: a send writes, and the receiver reads, one line per
// message, not a line of sequence numbers and another of values (measured:
// 8 senders into one channel, 10-14 % more messages a second).  A slot of
// at most a cache line takes a power of two bytes (a shift finds it, not a
// multiplication); a larger one takes its own size.
std::size_t slot_align(const ElemOps& ops) { return std::max(ops.align, alignof(std::atomic<uint64_t>)); }
std::size_t value_in_slot(const ElemOps& ops) { return elem_offset(sizeof(std::atomic<uint64_t>), ops.align); }
constexpr std::size_t kLine = 64;
std::size_t slot_stride(const ElemOps& ops) {
    std::size_t n = elem_offset(value_in_slot(ops) + ops.stride(), slot_align(ops));
    return n > kLine ? n : pow2_at_least(n);
}
// log2 of the stride of a slot of at most a line, else 0 (a multiplication;
// also without a ring).
unsigned slot_shift(std::size_t stride) {
    return stride != 0 && stride <= kLine ? unsigned(__builtin_ctzll(stride)) : 0;
}
std::size_t slots_offset(const ElemOps& ops) { return elem_offset(sizeof(Mpsc), slot_align(ops)); }
// The ring a bounded channel of `cap` gets (0: none, values in blocks):
// twice the capacity (rounded up to a power of two) when that fits, so
// that a full channel's senders write a capacity's distance away from
// where the receiver reads, on other cache lines (with ring == capacity a
// sender refills the very slot the receiver has just emptied, and the two
// cores trade that line on every message); else the capacity rounded up.
std::size_t ring_for(const ElemOps& ops, std::size_t cap) {
    if (cap == 0 || cap > Mpsc::kMaxRingBytes) return 0;
    std::size_t most = Mpsc::kMaxRingBytes / slot_stride(ops);
    std::size_t ring = pow2_at_least(cap);
    if (cap >= Mpsc::kSpreadFrom && ring <= most / 2) return ring * 2;
    return ring <= most ? ring : 0;
}
std::size_t alloc_size(const ElemOps& ops, std::size_t ring) {
    if (!ring) return sizeof(Mpsc);
    return slots_offset(ops) + ring * slot_stride(ops);
}
std::size_t alloc_align(const ElemOps& ops) { return std::max<std::size_t>(ops.align, alignof(Mpsc)); }
}  // namespace

Mpsc::Mpsc(const ElemOps& ops, std::size_t capacity, std::size_t ring)
    : ops_(ops),
      cap_(capacity),
      ring_(ring),
      mask_(ring ? ring - 1 : 0),
      batch_(std::clamp<std::size_t>(capacity / 4, 1, 128)),
      slots_(ring ? slots_offset(ops) : 0),
      slot_(ring ? slot_stride(ops) : 0),
      slot_shift_(slot_shift(slot_)),
      value_at_(value_in_slot(ops)),
      room_(capacity, capacity),
      q_(ops, ring ? 0 : 4) {
    for (std::size_t i = 0; i < ring; ++i) new (&seq(i)) std::atomic<uint64_t>(0);
}

Mpsc* Mpsc::create(const ElemOps& ops, std::size_t capacity) {
    if (uint64_t(capacity) > Semaphore::kMaxPermits) return nullptr;
    std::size_t ring = ring_for(ops, capacity);
    void* m = alloc_aligned(alloc_size(ops, ring), alloc_align(ops));
    return m ? new (m) Mpsc(ops, capacity, ring) : nullptr;
}

Mpsc::~Mpsc() {
    // Every handle is gone: nothing runs concurrently.  Destroy what was
    // sent and not received (the BlockQueue does that without a ring).
    if (ring_) {
        uint64_t t = tail_.load(std::memory_order_relaxed) & ~kRxAsleep;
        for (uint64_t p = head_.load(std::memory_order_relaxed); p < t; ++p) {
            std::size_t i = std::size_t(p & mask_);
            if (seq(i).load(std::memory_order_acquire) == p + 1) ops_.destroy(value(i));
        }
    }
}

std::atomic<uint64_t>& Mpsc::seq(std::size_t i) const {
    return *reinterpret_cast<std::atomic<uint64_t>*>(slot(i));
}

char* Mpsc::value(std::size_t i) const { return slot(i) + value_at_; }

char* Mpsc::slot(std::size_t i) const {
    return reinterpret_cast<char*>(const_cast<Mpsc*>(this)) + slots_ + (slot_shift_ ? i << slot_shift_ : i * slot_);
}

void Mpsc::unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    ElemOps ops = ops_;
    std::size_t size = alloc_size(ops_, ring_);
    this->~Mpsc();
    free_aligned(this, size, alloc_align(ops));
}

// ---- handles -----------------------------------------------------------------

void Mpsc::add_sender() {
    senders_.fetch_add(1, std::memory_order_relaxed);
    refs_.fetch_add(1, std::memory_order_relaxed);
}

void Mpsc::drop_sender() {
    if (senders_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        // The receiver learns that nothing more comes.  (It announces its
        // sleep under lock_ and then looks at senders_ again.)
        std::lock_guard<SpinLock> g(lock_);
        rx_waker_.wake();
        rx_waiting_.store(false, std::memory_order_release);  // after the call: see wake_rx
    }
    unref();
}

void Mpsc::add_weak() {
    weak_.fetch_add(1, std::memory_order_relaxed);
    refs_.fetch_add(1, std::memory_order_relaxed);
}

void Mpsc::drop_weak() {
    weak_.fetch_sub(1, std::memory_order_relaxed);
    unref();
}

bool Mpsc::upgrade() {
    std::size_t s = senders_.load(std::memory_order_acquire);
    do {
        if (s == 0) return false;
    } while (!senders_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel));
    refs_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void Mpsc::drop_receiver() {
    rx_alive_.store(false, std::memory_order_release);
    close();
    BlockQueue left = [&] {
        std::lock_guard<SpinLock> g(lock_);
        rx_waiting_.store(false, std::memory_order_relaxed);
        rx_waker_.clear();
        return q_.take();
    }();
    (void)left;  // destroys the values queued without a ring outside the lock
    if (ring_) {
        // Destroy what is there now; a sender racing with us leaves its value
        // to the channel's destructor.
        // head_ stays: these slots do not become room (senders fail now),
        // and their sequence numbers say "empty" to the channel's destructor.
        for (uint64_t h = head_.load(std::memory_order_relaxed);; ++h) {
            std::size_t i = std::size_t(h & mask_);
            if (seq(i).load(std::memory_order_acquire) != h + 1) break;
            ops_.destroy(value(i));
            seq(i).store(h, std::memory_order_relaxed);
        }
    }
    unref();
}

// ---- sending -----------------------------------------------------------------

void Mpsc::wake_rx() {
    std::lock_guard<SpinLock> g(lock_);
    if (rx_waiting_.load(std::memory_order_relaxed)) {
        rx_waker_.wake();
        // Cleared only once the waker has returned: a receiver that sees
        // false (acquire) knows no call of its waker is still running, and
        // may complete without taking the lock.
        rx_waiting_.store(false, std::memory_order_release);
    }
}

int Mpsc::push_permitted(void* v) {
    if (!ring_) return push_queued(v);
    if (!rx_alive_.load(std::memory_order_acquire)) {
        room_.release(1);
        return BRAID_ECLOSED;
    }
    uint64_t claimed = tail_.fetch_add(1, std::memory_order_acq_rel);
    uint64_t pos = claimed & ~kRxAsleep;
    std::size_t i = std::size_t(pos & mask_);
    ops_.move(value(i), v);
    // With one sender a release store publishes.  With several, the store
    // also drains this core's store buffer (seq_cst: an xchg) before the
    // send returns: left in the buffer while the slot's line comes over
    // from another sender's core, it would stretch the next send's read
    // and CAS of the senders' word (room_), which the other core's senders
    // then take in between: 8 senders into one channel lost 23 % of their
    // messages a second that way, while one sender gains 8-11 % without it.
    if (senders_.load(std::memory_order_relaxed) > 1)
        seq(i).store(pos + 1, std::memory_order_seq_cst);
    else
        seq(i).store(pos + 1, std::memory_order_release);
    // The receiver announced its sleep before our claim, after it had
    // received every slot claimed before (announce_sleep): it waits for
    // this one.  The first sender to see the announcement takes it down and
    // wakes the receiver.
    if (claimed & kRxAsleep) [[unlikely]] {
        if (tail_.fetch_and(~kRxAsleep, std::memory_order_acq_rel) & kRxAsleep) wake_rx();
    }
    return BRAID_OK;
}

int Mpsc::push_queued(void* v) {
    int rc = BRAID_ECLOSED;
    {
        // rx_alive_ under lock_: drop_receiver clears it before it takes
        // the queue, so a value queued here is destroyed by one of them.
        std::lock_guard<SpinLock> g(lock_);
        if (rx_alive_.load(std::memory_order_acquire)) {
            if (q_.push(v)) {
                if (rx_waiting_.load(std::memory_order_relaxed)) {
                    rx_waker_.wake();
                    rx_waiting_.store(false, std::memory_order_release);
                }
                return BRAID_OK;
            }
            rc = BRAID_ENOMEM;
        }
    }
    room_.release(1);
    return rc;
}

int Mpsc::acquire_room(std::size_t n, Waiter** w, braid_wake_fn wake, void* data) {
    bool first = *w == nullptr;
    if (first && ring_ && room_.available() < n) reclaim();
    int rc = room_.poll_acquire(n, w, wake, data);
    if (rc == BRAID_PENDING && first && *w && ring_) {
        // Queued: the receiver gives slots back at once from now on, and
        // what it emptied before it saw the flag is taken here.
        tx_short_.store(true, std::memory_order_seq_cst);
        reclaim();
    }
    return rc;
}

void Mpsc::reclaim() {
    uint64_t h = head_.load(std::memory_order_seq_cst);  // acquire: after the receiver's reads of those slots
    uint64_t r = reclaimed_.load(std::memory_order_acquire);
    while (r < h) {
        if (reclaimed_.compare_exchange_weak(r, h, std::memory_order_acq_rel, std::memory_order_acquire)) {
            room_.release(h - r);
            // A closed channel's receiver may have looked while these were
            // on the way (between reclaimed_ and room_): it looks again.
            if (room_.closed()) wake_rx_if_finished();
            return;
        }
    }
}

std::size_t Mpsc::emptied() const {
    // reclaimed_ first: it only grows, so a head_ read after it counts no
    // slot less than it should (one given back meanwhile may count twice:
    // callers treat the figure as a hint, or, as the receiver, have just
    // given everything back themselves).
    uint64_t r = reclaimed_.load(std::memory_order_seq_cst);
    uint64_t h = head_.load(std::memory_order_seq_cst);
    return h > r ? std::size_t(h - r) : 0;
}

void Mpsc::give_back(uint64_t h) {
    uint64_t emptied = h - reclaimed_.load(std::memory_order_relaxed);
    if (emptied >= batch_ || (emptied >= kShortBatch && tx_short_.load(std::memory_order_relaxed))) {
        reclaim();
        return;
    }
    if (poll_end::pending(&Mpsc::give_back_deferred, this)) return;  // this poll's end looks
    if (poll_end::defer(&Mpsc::give_back_deferred, this)) {
        refs_.fetch_add(1, std::memory_order_relaxed);  // the channel outlives the poll (it runs there)
        return;
    }
    give_back_if_short();
}

void Mpsc::give_back_deferred(void* self) noexcept {
    Mpsc* m = static_cast<Mpsc*>(self);
    m->give_back_if_short();
    m->unref();
}

void Mpsc::give_back_if_short() {
    // Against a queued sender's "raise the flag, then take" (acquire_room):
    // our head_ store, the fence, then the flag.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (tx_short_.load(std::memory_order_relaxed)) {
        // Cleared with an RMW that reads the raising store, so the queued
        // wait (before it) is seen below; raised again while senders wait.
        if (tx_short_.exchange(false, std::memory_order_acq_rel)) {
            reclaim();
            if (room_.has_waiters()) tx_short_.store(true, std::memory_order_seq_cst);
        }
    }
}

bool Mpsc::all_room_back() const { return emptied() + room_.available() >= cap_; }

std::size_t Mpsc::room() const {
    if (!cap_) return SIZE_MAX;
    return std::min<std::size_t>(cap_, emptied() + room_.available());
}

int Mpsc::poll_send(void* v, Waiter** w, braid_wake_fn wake, void* data) {
    if (cap_ && !*w && room_.take_now(1, wake)) return push_permitted(v);
    return send_slow(v, w, wake, data);
}

int Mpsc::send_slow(void* v, Waiter** w, braid_wake_fn wake, void* data) {
    if (cap_) {
        int rc = acquire_room(1, w, wake, data);
        return rc == BRAID_OK ? push_permitted(v) : rc;
    }
    // Unbounded: never waits (and is not budgeted: it is not an await).
    if (room_.closed()) return BRAID_ECLOSED;
    std::lock_guard<SpinLock> g(lock_);
    if (!q_.push(v)) return BRAID_ENOMEM;
    if (rx_waiting_.load(std::memory_order_relaxed)) {
        rx_waker_.wake();
        rx_waiting_.store(false, std::memory_order_release);
    }
    return BRAID_OK;
}

int Mpsc::poll_reserve(std::size_t n, Waiter** w, braid_wake_fn wake, void* data) {
    int rc = acquire_room(n, w, wake, data);
    if (rc == BRAID_OK) reserved_.fetch_add(n, std::memory_order_acq_rel);
    return rc;
}

bool Mpsc::take_reserved(std::size_t n) {
    std::size_t r = reserved_.load(std::memory_order_acquire);
    do {
        if (r < n) return false;
    } while (!reserved_.compare_exchange_weak(r, r - n, std::memory_order_acq_rel));
    return true;
}

void Mpsc::unregister_send(Waiter** w) { room_.unregister(w); }

void Mpsc::cancel_send(Waiter** w) {
    if (!*w) return;
    room_.cancel(w);
    wake_rx_if_finished();
}

int Mpsc::send_reserved(void* v) {
    if (!take_reserved(1)) return BRAID_EINVAL;
    int rc = push_permitted(v);
    if (rc != BRAID_OK) wake_rx_if_finished();
    return rc;
}

int Mpsc::release_reserved(std::size_t n) {
    if (n == 0) return BRAID_OK;
    if (!take_reserved(n)) return BRAID_EINVAL;
    room_.release(n);  // these permits were out: always within the capacity
    wake_rx_if_finished();
    return BRAID_OK;
}

void Mpsc::wake_rx_if_finished() {
    // After close(), the receiver ends once every reserved slot is back.
    if (room_.closed() && all_room_back()) wake_rx();
}

int Mpsc::poll_closed(Waiter** w, braid_wake_fn wake, void* data) {
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
    // close() sets the flag, then drains the list under lock_.
    if (room_.closed()) return (!wake || coop::proceed(wake, data)) ? BRAID_OK : BRAID_PENDING;
    if (!wake) return BRAID_PENDING;
    Waiter* node = Waiter::make();
    if (!node) return BRAID_ENOMEM;
    node->set_waker(wake, data);
    closed_waiters_.push_back(node);
    *w = node;
    return BRAID_PENDING;
}

void Mpsc::unregister_closed(Waiter** w) {
    if (!*w) return;
    std::lock_guard<SpinLock> g(lock_);
    (*w)->forget_waker();
}

void Mpsc::cancel_closed(Waiter** w) {
    Waiter* node = *w;
    if (!node) return;
    *w = nullptr;
    std::lock_guard<SpinLock> g(lock_);
    closed_waiters_.remove(node);
    Waiter::destroy(node);
}

// ---- receiving ---------------------------------------------------------------

bool Mpsc::ready_at_head() const {
    uint64_t h = head_.load(std::memory_order_relaxed);
    return seq(h & mask_).load(std::memory_order_acquire) == h + 1;
}

bool Mpsc::announce_sleep() {
    uint64_t h = head_.load(std::memory_order_relaxed);
    uint64_t t = tail_.load(std::memory_order_acquire);
    for (;;) {
        if ((t & ~kRxAsleep) != h) {
            // A sender claimed the slot at the head and is moving its value
            // in: a claim and its publication are a few instructions apart
            // in push_permitted, nothing between them waits.  Wait for it
            // (yielding the CPU if its thread was preempted).
            for (int spins = 0; !ready_at_head(); ++spins) backoff(spins);
            return false;
        }
        if (t & kRxAsleep) return true;  // still up from an earlier sleep
        // Every slot claimed so far was received: a claim after this CAS
        // sees the flag in what its fetch_add returns.
        if (tail_.compare_exchange_weak(t, t | kRxAsleep, std::memory_order_acq_rel, std::memory_order_acquire))
            return true;
    }
}

bool Mpsc::finished() const {
    if (!ring_) {  // lock_ held
        // Closed: a bounded channel also waits for its reserved slots.
        return q_.empty() && (senders_.load(std::memory_order_acquire) == 0 ||
                              (room_.closed() && (!cap_ || room_.available() == cap_)));
    }
    if (senders_.load(std::memory_order_acquire) == 0) return !ready_at_head();
    // Closed: done once no slot is reserved or filled (all permits back).
    return room_.closed() && all_room_back() && !ready_at_head();
}

std::size_t Mpsc::take(void* out, std::size_t limit) {
    char* dst = static_cast<char*>(out);
    uint64_t h = head_.load(std::memory_order_relaxed);
    std::size_t n = 0;
    for (; n < limit; ++n, ++h, dst += ops_.stride()) {
        std::size_t i = std::size_t(h & mask_);
        if (seq(i).load(std::memory_order_acquire) != h + 1) break;
        ops_.move(dst, value(i));
    }
    if (n) {
        head_.store(h, std::memory_order_release);  // the slots are free again: our reads happen before
        give_back(h);
    }
    return n;
}

int Mpsc::recv_impl(void* out, std::size_t limit, std::size_t* count, braid_wake_fn wake, void* data) {
    if (ring_ && ready_at_head()) [[likely]] {
        if (wake && !coop::proceed(wake, data)) return BRAID_PENDING;
        *count = take(out, limit);
        // The receive is complete: a waker an earlier poll left (we were
        // woken spuriously, or by something else) must not outlive it.
        if (rx_waiting_.load(std::memory_order_acquire)) unregister_recv();
        return BRAID_OK;
    }
    return recv_slow(out, limit, count, wake, data);
}

int Mpsc::recv_slow(void* out, std::size_t limit, std::size_t* count, braid_wake_fn wake, void* data) {
    if (!ring_) {
        std::size_t n = 0;
        {
            std::lock_guard<SpinLock> g(lock_);
            if (q_.empty()) {
                if (finished()) {
                    rx_waiting_.store(false, std::memory_order_relaxed);
                    rx_waker_.clear();
                    return BRAID_ECLOSED;
                }
                if (wake) {
                    rx_waker_.set(wake, data);
                    rx_waiting_.store(true, std::memory_order_relaxed);
                }
                return BRAID_PENDING;
            }
            if (wake && !coop::proceed(wake, data)) return BRAID_PENDING;
            char* dst = static_cast<char*>(out);
            for (; n < limit && !q_.empty(); ++n, dst += ops_.stride()) q_.pop(dst);
            *count = n;
            rx_waiting_.store(false, std::memory_order_relaxed);  // a waker of an earlier poll goes
            rx_waker_.clear();
        }
        if (cap_) room_.release(n);  // bounded: the room is free again (outside lock_: it wakes senders)
        return BRAID_OK;
    }
    // Nothing at the head when recv_impl looked (a value that arrives
    // meanwhile is found by announce_sleep below): the emptied slots go
    // back before we look further or sleep.
    reclaim();
    if (finished()) {
        if (rx_waiting_.load(std::memory_order_acquire)) unregister_recv();
        return BRAID_ECLOSED;
    }
    if (!wake) return BRAID_PENDING;
    {
        std::lock_guard<SpinLock> g(lock_);
        rx_waker_.set(wake, data);
        rx_waiting_.store(true, std::memory_order_relaxed);
    }
    // Announce the sleep to the senders, unless a value is (now) at the
    // head; a sender that claims a slot after the announcement wakes us.
    if (!announce_sleep()) {
        unregister_recv();
        if (!coop::proceed(wake, data)) return BRAID_PENDING;
        *count = take(out, limit);
        return BRAID_OK;
    }
    if (finished()) {
        unregister_recv();
        return BRAID_ECLOSED;
    }
    return BRAID_PENDING;
}

int Mpsc::poll_recv(void* out, braid_wake_fn wake, void* data) {
    std::size_t n = 0;
    return recv_impl(out, 1, &n, wake, data);
}

int Mpsc::poll_recv_many(void* out, std::size_t limit, std::size_t* count, braid_wake_fn wake, void* data) {
    *count = 0;
    return recv_impl(out, limit, count, wake, data);
}

void Mpsc::unregister_recv() {
    // No waker registered, or the one that was has been called and has
    // returned (senders clear the flag only after the call, with release):
    // nothing to drop and nothing to wait out, so no lock (a receive that
    // lost a select after its waker ran costs one load).
    if (!rx_waiting_.load(std::memory_order_acquire)) return;
    std::lock_guard<SpinLock> g(lock_);
    rx_waker_.clear();
    rx_waiting_.store(false, std::memory_order_release);
    // No sender answered our sleep announcement: take it down, so that the
    // next send does not pay for a wake-up nobody waits for.  (One left up
    // costs that sender a spurious wake_rx, nothing more.)
    if (tail_.load(std::memory_order_relaxed) & kRxAsleep) tail_.fetch_and(~kRxAsleep, std::memory_order_relaxed);
}

void Mpsc::close() {
    room_.close();  // waiting senders fail; the flag is set before the list below is drained
    std::lock_guard<SpinLock> g(lock_);
    closed_waiters_.drain([](Waiter* h) { h->notify(BRAID_OK); });
}

std::size_t Mpsc::len() const {
    if (!ring_) {
        std::lock_guard<SpinLock> g(const_cast<SpinLock&>(lock_));
        return q_.size();
    }
    uint64_t h = head_.load(std::memory_order_acquire);
    uint64_t t = tail_.load(std::memory_order_acquire) & ~kRxAsleep;
    return t > h ? std::size_t(t - h) : 0;
}

int Mpsc::send_blocking(void* v, int64_t timeout_ms) {
    Waiter* w = nullptr;
    return block_until([&](braid_wake_fn wake, void* d) { return poll_send(v, &w, wake, d); },
                       [&] { cancel_send(&w); }, timeout_ms);
}

int Mpsc::recv_blocking(void* out, int64_t timeout_ms) {
    return block_until([&](braid_wake_fn wake, void* d) { return poll_recv(out, wake, d); },
                       [&] { unregister_recv(); }, timeout_ms);
}

}  // namespace braid::detail
