// braid::mpsc: channels with many senders and one receiver.
//
//   auto [tx, rx] = braid::mpsc::channel<int>(100);      // bounded
//   co_await tx.send(1);                                  // waits for room
//   while (auto v = co_await rx.recv()) use(*v);          // nullopt once every sender is gone
//
//   auto [utx, urx] = braid::mpsc::unbounded_channel<std::string>();
//   utx.send("never waits");
//
// A send to a channel whose receiver is gone (or closed) hands the value
// back: send() gives std::nullopt when the value was sent, else the value.
// Values travel without a heap allocation per message (any movable T whose
// move constructor does not throw).  Senders are copyable (each copy is one
// more sender); the channel ends for the receiver when the last one is gone.
//
// Cancellation: a recv() cancelled while waiting loses nothing (the next
// message stays in the channel); a send() cancelled while waiting for room
// neither delivers its value nor leaks it (the value is destroyed with the
// awaiter), and room granted to it goes to the next sender.
#pragma once

#include <braid/detail/elem.hpp>
#include <braid/error.hpp>
#include <braid/mpsc.h>
#include <braid/detail/unstable.hpp>
#include <braid/sync/try_result.hpp>
#include <braid/sync/wait_leaf.hpp>
#include <braid/time.h>
#include <braid/time.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

namespace braid::mpsc {

// Why try_send / send_timeout failed, with the value handed back.
template <class T>
struct TrySendError {
    enum Kind { Full, Closed } kind;
    T value;
    bool is_full() const noexcept { return kind == Full; }
    bool is_closed() const noexcept { return kind == Closed; }
};
template <class T>
struct SendTimeoutError {
    enum Kind { Timeout, Closed } kind;
    T value;
    bool is_timeout() const noexcept { return kind == Timeout; }
    bool is_closed() const noexcept { return kind == Closed; }
};

template <class T>
class Sender;
template <class T>
class UnboundedSender;
template <class T>
class Receiver;
template <class T>
class WeakSender;

namespace detail {
using braid::detail::Elem;
using braid::detail::Slot;

inline braid_mpsc_tx* clone_tx(braid_mpsc_tx* tx) {
    if (!tx) return nullptr;
    braid_mpsc_tx* out = nullptr;
    braid::detail::check(braid_mpsc_tx_clone(&out, tx), "mpsc sender clone");
    return out;
}

// What Sender and UnboundedSender share: the handle, copies, closed().
class SenderBase {
public:
    SenderBase() = default;
    explicit SenderBase(braid_mpsc_tx* tx) : tx_(tx) {}
    SenderBase(const SenderBase& o) : tx_(clone_tx(o.tx_)) {}
    SenderBase(SenderBase&& o) noexcept : tx_(std::exchange(o.tx_, nullptr)) {}
    SenderBase& operator=(const SenderBase& o) {
        if (this != &o) {
            braid_mpsc_tx* n = clone_tx(o.tx_);
            braid_mpsc_tx_free(tx_);
            tx_ = n;
        }
        return *this;
    }
    SenderBase& operator=(SenderBase&& o) noexcept {
        if (this != &o) {
            braid_mpsc_tx_free(tx_);
            tx_ = std::exchange(o.tx_, nullptr);
        }
        return *this;
    }
    ~SenderBase() {
        if (tx_) braid_mpsc_tx_free(tx_);
    }

    // True once the receiver is closed or gone.
    bool is_closed() const { return braid_mpsc_tx_is_closed(checked()) == 1; }
    std::size_t strong_count() const { return braid_mpsc_tx_strong_count(checked()); }
    std::size_t weak_count() const { return braid_mpsc_tx_weak_count(checked()); }
    bool same_channel(const SenderBase& o) const noexcept { return tx_ && tx_ == o.tx_; }
    explicit operator bool() const noexcept { return tx_ != nullptr; }

    // co_await tx.closed(): completes once the receiver is closed or gone.
    class [[nodiscard]] Closed
        : public braid::detail::WaitLeaf<Closed, braid_mpsc_tx, &braid_mpsc_tx_cancel_closed,
                                         &braid_mpsc_tx_unregister_closed> {
    public:
        using Base =
            braid::detail::WaitLeaf<Closed, braid_mpsc_tx, &braid_mpsc_tx_cancel_closed,
                                    &braid_mpsc_tx_unregister_closed>;
        explicit Closed(braid_mpsc_tx* tx) : Base(tx) {}
        int poll(braid_wake_fn w, void* d) { return braid_mpsc_tx_poll_closed(this->h_, &this->w_, w, d); }
        void finish(int st) { braid::detail::check(st, "mpsc closed"); }
    };
    Closed closed() const { return Closed(checked()); }

    braid_mpsc_tx* native_handle() const noexcept { return tx_; }

protected:
    braid_mpsc_tx* checked() const {
        if (!tx_) throw Error(BRAID_EINVAL, "mpsc sender used after move");
        return tx_;
    }
    braid_mpsc_tx* tx_ = nullptr;
};
}  // namespace detail

// One reserved slot of a bounded channel: send() fills it without waiting;
// destroying it unused gives it back.  Borrows its Sender (which must outlive it).
template <class T>
class Permit {
public:
    Permit(Permit&& o) noexcept : tx_(std::exchange(o.tx_, nullptr)) {}
    Permit& operator=(Permit&& o) noexcept {
        if (this != &o) {
            braid_mpsc_release_reserved(tx_, 1);
            tx_ = std::exchange(o.tx_, nullptr);
        }
        return *this;
    }
    Permit(const Permit&) = delete;
    ~Permit() { braid_mpsc_release_reserved(tx_, 1); }

    // Sends (never waits).  If the receiver is gone the value is dropped.
    void send(T value) {
        braid_mpsc_tx* tx = std::exchange(tx_, nullptr);
        if (!tx) throw Error(BRAID_EINVAL, "mpsc permit used twice");
        detail::Slot<T> slot;
        slot.emplace(std::move(value));
        if (braid_mpsc_send_reserved(tx, slot.raw(), sizeof(T)) == BRAID_OK) slot.emptied();
    }

private:
    friend class Sender<T>;
    explicit Permit(braid_mpsc_tx* tx) : tx_(tx) {}
    braid_mpsc_tx* tx_;
};

// n reserved slots (reserve_many): each send() uses one; the rest go back
// when it is destroyed.
template <class T>
class Permits {
public:
    Permits(Permits&& o) noexcept : tx_(std::exchange(o.tx_, nullptr)), n_(std::exchange(o.n_, 0)) {}
    Permits(const Permits&) = delete;
    ~Permits() { braid_mpsc_release_reserved(tx_, n_); }

    std::size_t size() const noexcept { return n_; }
    // Sends with one of the slots; false when none is left (value dropped).
    bool send(T value) {
        if (n_ == 0) return false;
        --n_;
        detail::Slot<T> slot;
        slot.emplace(std::move(value));
        if (braid_mpsc_send_reserved(tx_, slot.raw(), sizeof(T)) == BRAID_OK) slot.emptied();
        return true;
    }

private:
    friend class Sender<T>;
    Permits(braid_mpsc_tx* tx, std::size_t n) : tx_(tx), n_(n) {}
    braid_mpsc_tx* tx_;
    std::size_t n_;
};

// A reserved slot that owns a Sender (reserve_owned): can be moved anywhere.
template <class T>
class OwnedPermit {
public:
    OwnedPermit(OwnedPermit&& o) noexcept : tx_(std::move(o.tx_)), armed_(std::exchange(o.armed_, false)) {}
    OwnedPermit(const OwnedPermit&) = delete;
    ~OwnedPermit() {
        if (armed_) braid_mpsc_release_reserved(tx_.native_handle(), 1);
    }
    // Sends (never waits; the value is dropped if the receiver is gone) and
    // gives the Sender back.
    Sender<T> send(T value) {
        if (!armed_) throw Error(BRAID_EINVAL, "mpsc permit used twice");
        armed_ = false;
        detail::Slot<T> slot;
        slot.emplace(std::move(value));
        if (braid_mpsc_send_reserved(tx_.native_handle(), slot.raw(), sizeof(T)) == BRAID_OK) slot.emptied();
        return std::move(tx_);
    }
    // Gives the slot back unused and the Sender with it.
    Sender<T> release() {
        if (armed_) braid_mpsc_release_reserved(tx_.native_handle(), 1);
        armed_ = false;
        return std::move(tx_);
    }

private:
    friend class Sender<T>;
    explicit OwnedPermit(Sender<T> tx) : tx_(std::move(tx)) {}
    Sender<T> tx_;
    bool armed_ = true;
};

// The sending side of a bounded channel.  Copy it for more senders.
template <class T>
class Sender : public detail::SenderBase {
public:
    using SenderBase::SenderBase;

    // co_await tx.send(v): waits for room.  std::nullopt when sent; the
    // value back when the receiver is closed or gone.
    class [[nodiscard]] Send
        : public braid::detail::WaitLeaf<Send, braid_mpsc_tx, &braid_mpsc_cancel_send, &braid_mpsc_unregister_send> {
    public:
        using Base = braid::detail::WaitLeaf<Send, braid_mpsc_tx, &braid_mpsc_cancel_send, &braid_mpsc_unregister_send>;
        Send(braid_mpsc_tx* tx, T&& v) : Base(tx) { slot_.emplace(std::move(v)); }
        // Before it is awaited (select and timeout move their awaitables in).
        Send(Send&& o) : Base(std::move(o)) { slot_.emplace(o.slot_.take()); }
        // A kept send raced again after it completed has no value left to
        // send: BRAID_EINVAL (the C call would relocate the moved-out bytes).
        int poll(braid_wake_fn w, void* d) {
            if (!slot_.full()) return BRAID_EINVAL;
            return braid_mpsc_poll_send(this->h_, slot_.raw(), sizeof(T), &this->w_, w, d);
        }
        std::optional<T> finish(int st) {
            if (st == BRAID_OK) {
                slot_.emptied();
                return std::nullopt;
            }
            if (st == BRAID_ECLOSED) return std::optional<T>(slot_.take());
            if (slot_.full()) (void)slot_.take();  // g++ 12 may skip this awaiter's destructor when we throw
            throw Error(st, "mpsc send");
        }

    private:
        detail::Slot<T> slot_;
    };
    Send send(T value) const { return Send(checked(), std::move(value)); }

    // Sends if there is room now: std::nullopt, or why not with the value.
    std::optional<TrySendError<T>> try_send(T value) const {
        detail::Slot<T> slot;
        slot.emplace(std::move(value));
        int rc = braid_mpsc_try_send(checked(), slot.raw(), sizeof(T));
        if (rc == BRAID_OK) {
            slot.emptied();
            return std::nullopt;
        }
        if (rc == BRAID_EAGAIN) return TrySendError<T>{TrySendError<T>::Full, slot.take()};
        if (rc == BRAID_ECLOSED) return TrySendError<T>{TrySendError<T>::Closed, slot.take()};
        throw Error(rc, "mpsc try_send");
    }

    // co_await tx.send_timeout(v, 10ms): std::nullopt when sent in time,
    // else Timeout or Closed with the value.  Runtime threads only.
    class [[nodiscard]] SendTimeout : public braid::detail::LeafAwaiter<SendTimeout> {
    public:
        SendTimeout(braid_mpsc_tx* tx, T&& v, int64_t deadline) : tx_(tx), deadline_(deadline) {
            slot_.emplace(std::move(v));
        }
        SendTimeout(SendTimeout&& o) : tx_(o.tx_), deadline_(o.deadline_) { slot_.emplace(o.slot_.take()); }
        SendTimeout(const SendTimeout&) = delete;
        ~SendTimeout() {
            if (w_) braid_mpsc_cancel_send(tx_, &this->w_);
            braid_timer_free(t_);
        }
        bool ready_now() const noexcept { return false; }
        // Keeps its place among the senders and its deadline; drops the wakers.
        void unregister() noexcept {
            if (w_) braid_mpsc_unregister_send(tx_, &this->w_);
            if (t_) braid_timer_poll_elapsed(t_, nullptr, nullptr);
        }
        int poll(braid_wake_fn w, void* d) {
            if (!slot_.full()) return BRAID_EINVAL;  // completed already: nothing left to send (as Send)
            int rc = braid_mpsc_poll_send(tx_, slot_.raw(), sizeof(T), &this->w_, w, d);
            if (rc != BRAID_PENDING || !w) return rc;
            if (!t_) braid::detail::check(braid_timer_new(&t_, nullptr, deadline_), "mpsc send_timeout");
            if (braid_timer_poll_elapsed(t_, w, d) != BRAID_OK) return BRAID_PENDING;
            braid_mpsc_cancel_send(tx_, &this->w_);  // room granted meanwhile goes to the next sender
            return BRAID_ETIMEDOUT;
        }
        std::optional<SendTimeoutError<T>> finish(int st) {
            if (st == BRAID_OK) {
                slot_.emptied();
                return std::nullopt;
            }
            if (st == BRAID_ETIMEDOUT) return SendTimeoutError<T>{SendTimeoutError<T>::Timeout, slot_.take()};
            if (st == BRAID_ECLOSED) return SendTimeoutError<T>{SendTimeoutError<T>::Closed, slot_.take()};
            if (slot_.full()) (void)slot_.take();  // g++ 12 may skip this awaiter's destructor when we throw
            braid_timer_free(std::exchange(t_, nullptr));
            throw Error(st, "mpsc send_timeout");
        }

    private:
        braid_mpsc_tx* tx_;
        braid_waiter* w_ = nullptr;
        braid_timer* t_ = nullptr;
        int64_t deadline_;
        detail::Slot<T> slot_;
    };
    template <class R, class P>
    SendTimeout send_timeout(T value, std::chrono::duration<R, P> timeout) const {
        if (timeout < timeout.zero()) throw Error(BRAID_EINVAL, "mpsc send_timeout: negative duration");
        return SendTimeout(checked(), std::move(value), (Instant::now() + timeout).nanos());
    }

    // Sends from a thread that is not a runtime worker, blocking it while
    // the channel is full.  std::nullopt when sent, else the value.
    std::optional<T> blocking_send(T value) const {
        detail::Slot<T> slot;
        slot.emplace(std::move(value));
        int rc = braid_mpsc_send_blocking(checked(), slot.raw(), sizeof(T), BRAID_WAIT_FOREVER);
        if (rc == BRAID_OK) {
            slot.emptied();
            return std::nullopt;
        }
        if (rc == BRAID_ECLOSED) return slot.take();
        throw Error(rc, "mpsc blocking_send");
    }

    // co_await tx.reserve(): a Permit once a slot is free, std::nullopt
    // when the receiver is closed or gone.
    class [[nodiscard]] Reserve
        : public braid::detail::WaitLeaf<Reserve, braid_mpsc_tx, &braid_mpsc_cancel_reserve,
                                         &braid_mpsc_unregister_reserve> {
    public:
        using Base =
            braid::detail::WaitLeaf<Reserve, braid_mpsc_tx, &braid_mpsc_cancel_reserve, &braid_mpsc_unregister_reserve>;
        Reserve(braid_mpsc_tx* tx, std::size_t n) : Base(tx), n_(n) {}
        int poll(braid_wake_fn w, void* d) { return braid_mpsc_poll_reserve(this->h_, n_, &this->w_, w, d); }
        int finish(int st) {
            if (st != BRAID_ECLOSED) braid::detail::check(st, "mpsc reserve");
            return st;
        }

    private:
        std::size_t n_;
    };
    class [[nodiscard]] ReserveOne : public Reserve {
    public:
        explicit ReserveOne(braid_mpsc_tx* tx) : Reserve(tx, 1) {}
        std::optional<Permit<T>> await_resume() {
            if (Reserve::await_resume() != BRAID_OK) return std::nullopt;
            return Permit<T>(this->h_);
        }
    };
    class [[nodiscard]] ReserveMany : public Reserve {
    public:
        ReserveMany(braid_mpsc_tx* tx, std::size_t n) : Reserve(tx, n), n_(n) {}
        std::optional<Permits<T>> await_resume() {
            if (Reserve::await_resume() != BRAID_OK) return std::nullopt;
            return Permits<T>(this->h_, n_);
        }

    private:
        std::size_t n_;
    };
    ReserveOne reserve() const { return ReserveOne(checked()); }
    ReserveMany reserve_many(std::size_t n) const { return ReserveMany(checked(), n); }
    // A slot now, without waiting; else is_full() (no room now) or
    // is_closed() (the receiver is gone or closed).
    TryResult<Permit<T>, TryReserveError> try_reserve() const {
        if (auto why = try_reserve_slot()) return *why;
        return Permit<T>(tx_);
    }
    // The same as an OwnedPermit holding a copy of this sender (Tokio's
    // try_reserve_owned; this sender stays usable).
    TryResult<OwnedPermit<T>, TryReserveError> try_reserve_owned() const {
        if (auto why = try_reserve_slot()) return *why;
        return OwnedPermit<T>(*this);  // takes the reserved slot over
    }

    // co_await tx.reserve_owned(): an OwnedPermit holding a copy of this sender.
    class [[nodiscard]] ReserveOwned {
    public:
        explicit ReserveOwned(Sender tx) : tx_(std::move(tx)), inner_(tx_.native_handle(), 1) {}
        // Its sender went into the permit it gave: kept and raced again
        // after it completed, it has none to reserve with (BRAID_EINVAL).
        bool await_ready() {
            if (!tx_.native_handle()) throw Error(BRAID_EINVAL, "mpsc reserve_owned awaited again after it completed");
            return inner_.await_ready();
        }
        template <class P>
        bool await_suspend(std::coroutine_handle<P> h) {
            return inner_.await_suspend(h);
        }
        std::optional<OwnedPermit<T>> await_resume() {
            if (inner_.await_resume() != BRAID_OK) return std::nullopt;
            return OwnedPermit<T>(std::move(tx_));  // takes the reserved slot over
        }
        void unregister() noexcept { inner_.unregister(); }

    private:
        Sender tx_;
        Reserve inner_;
    };
    ReserveOwned reserve_owned() const {
        checked();
        return ReserveOwned(*this);
    }

    // Free slots now, and the capacity.
    std::size_t capacity() const { return braid_mpsc_tx_capacity(checked()); }
    std::size_t max_capacity() const { return braid_mpsc_tx_max_capacity(checked()); }

    WeakSender<T> downgrade() const;

private:
    // Reserves one slot: std::nullopt when it did, else why not.
    std::optional<TryReserveError> try_reserve_slot() const {
        int rc = braid_mpsc_try_reserve(checked(), 1);
        if (rc == BRAID_OK) return std::nullopt;
        if (rc == BRAID_EAGAIN) return TryReserveError::Full;
        if (rc == BRAID_ECLOSED) return TryReserveError::Closed;
        throw Error(rc, "mpsc try_reserve");
    }
};

// The sending side of an unbounded channel: send never waits.
template <class T>
class UnboundedSender : public detail::SenderBase {
public:
    using SenderBase::SenderBase;

    // std::nullopt when sent; the value back when the receiver is closed or gone.
    std::optional<T> send(T value) const {
        detail::Slot<T> slot;
        slot.emplace(std::move(value));
        int rc = braid_mpsc_try_send(checked(), slot.raw(), sizeof(T));
        if (rc == BRAID_OK) {
            slot.emptied();
            return std::nullopt;
        }
        if (rc == BRAID_ECLOSED) return slot.take();
        throw Error(rc, "mpsc send");
    }

    WeakSender<T> downgrade() const;
};

// A sender that does not keep the channel open: upgrade() gives a sender
// while another one still exists.
template <class T>
class WeakSender {
public:
    explicit WeakSender(braid_mpsc_weak_tx* w) : w_(w) {}
    WeakSender(const WeakSender& o) : w_(nullptr) {
        if (o.w_) braid::detail::check(braid_mpsc_weak_tx_clone(&this->w_, o.w_), "mpsc weak sender clone");
    }
    WeakSender(WeakSender&& o) noexcept : w_(std::exchange(o.w_, nullptr)) {}
    WeakSender& operator=(WeakSender o) noexcept {
        std::swap(w_, o.w_);
        return *this;
    }
    ~WeakSender() { braid_mpsc_weak_tx_free(w_); }

    // A bounded channel's Sender (use upgrade_unbounded for unbounded ones),
    // or std::nullopt when every sender is gone.
    std::optional<Sender<T>> upgrade() const { return upgrade_as<Sender<T>>(); }
    std::optional<UnboundedSender<T>> upgrade_unbounded() const { return upgrade_as<UnboundedSender<T>>(); }

private:
    template <class S>
    std::optional<S> upgrade_as() const {
        if (!w_) throw Error(BRAID_EINVAL, "mpsc weak sender used after move");
        braid_mpsc_tx* tx = nullptr;
        if (braid_mpsc_weak_tx_upgrade(&tx, w_) != BRAID_OK) return std::nullopt;
        return S(tx);
    }
    braid_mpsc_weak_tx* w_ = nullptr;
};

template <class T>
WeakSender<T> Sender<T>::downgrade() const {
    braid_mpsc_weak_tx* w = nullptr;
    braid::detail::check(braid_mpsc_tx_downgrade(&w, checked()), "mpsc downgrade");
    return WeakSender<T>(w);
}
template <class T>
WeakSender<T> UnboundedSender<T>::downgrade() const {
    braid_mpsc_weak_tx* w = nullptr;
    braid::detail::check(braid_mpsc_tx_downgrade(&w, checked()), "mpsc downgrade");
    return WeakSender<T>(w);
}

// The receiving side (bounded or unbounded).
template <class T>
class Receiver {
public:
    Receiver() = default;
    explicit Receiver(braid_mpsc_rx* rx) : rx_(rx) {}
    Receiver(Receiver&& o) noexcept : rx_(std::exchange(o.rx_, nullptr)) {}
    Receiver& operator=(Receiver&& o) noexcept {
        if (this != &o) {
            braid_mpsc_rx_free(rx_);
            rx_ = std::exchange(o.rx_, nullptr);
        }
        return *this;
    }
    Receiver(const Receiver&) = delete;
    // Values not received are destroyed; senders see the channel closed.
    ~Receiver() {
        if (rx_) braid_mpsc_rx_free(rx_);
    }

    // co_await rx.recv(): the next value, or std::nullopt once every sender
    // is gone (or the channel is closed) and nothing is left.
    class [[nodiscard]] Recv : public braid::detail::LeafAwaiter<Recv> {
    public:
        explicit Recv(braid_mpsc_rx* rx) : rx_(rx) {}
        // Before it is awaited (select and timeout move their awaitables in).
        Recv(Recv&& o) noexcept : rx_(std::exchange(o.rx_, nullptr)) {}
        Recv(const Recv&) = delete;
        ~Recv() { unregister(); }
        // Drops the receiver's waker; the next message stays in the channel.
        // A receive that was never polled registered nothing: no call (a
        // select's losing receive costs nothing then).
        void unregister() noexcept {
            if (polled_ && this->status_ == BRAID_PENDING) braid_mpsc_recv_unregister(rx_);
            polled_ = false;
        }
        bool ready_now() const noexcept { return false; }
        int poll(braid_wake_fn w, void* d) {
            polled_ = true;
            return braid_mpsc_poll_recv(rx_, slot_.raw(), sizeof(T), w, d);
        }
        std::optional<T> finish(int st) {
            if (st == BRAID_ECLOSED) return std::nullopt;
            braid::detail::check(st, "mpsc recv");
            slot_.filled();
            return std::optional<T>(slot_.take());
        }

    private:
        braid_mpsc_rx* rx_;
        bool polled_ = false;  // since the last unregister(): a waker may be registered
        detail::Slot<T> slot_;
    };
    Recv recv() { return Recv(checked()); }

    // The next value if one is there now; else is_empty() (nothing yet)
    // or is_closed() (every sender gone, or the receiver closed, and
    // nothing left: Tokio's Disconnected).
    TryRecvResult<T> try_recv() {
        detail::Slot<T> slot;
        int rc = braid_mpsc_try_recv(checked(), slot.raw(), sizeof(T));
        if (rc == BRAID_EAGAIN) return TryRecvError::Empty;
        if (rc == BRAID_ECLOSED) return TryRecvError::Closed;
        braid::detail::check(rc, "mpsc try_recv");
        slot.filled();
        return slot.take();
    }

    // Blocks a thread that is not a runtime worker.
    std::optional<T> blocking_recv() {
        detail::Slot<T> slot;
        int rc = braid_mpsc_recv_blocking(checked(), slot.raw(), sizeof(T), BRAID_WAIT_FOREVER);
        if (rc == BRAID_ECLOSED) return std::nullopt;
        braid::detail::check(rc, "mpsc blocking_recv");
        slot.filled();
        return slot.take();
    }

    // co_await rx.recv_many(buf, limit): appends up to `limit` values to buf
    // (waiting for the first) and returns how many; 0 once the channel is
    // finished.
    class [[nodiscard]] RecvMany : public Recv {
    public:
        RecvMany(braid_mpsc_rx* rx, std::vector<T>* buf, std::size_t limit)
            : Recv(rx), rxm_(rx), buf_(buf), limit_(limit) {}
        std::size_t await_resume() {
            std::optional<T> first = Recv::await_resume();
            if (!first) return 0;
            buf_->push_back(std::move(*first));
            std::size_t n = 1;
            constexpr std::size_t kChunk = std::clamp<std::size_t>(4096 / sizeof(T), 1, 64);
            alignas(T) unsigned char chunk[kChunk * sizeof(T)];
            while (n < limit_) {
                std::size_t got = 0;
                braid_mpsc_try_recv_many(rxm_, chunk, sizeof(T), std::min(kChunk, limit_ - n), &got);
                if (got == 0) break;
                T* vals = std::launder(reinterpret_cast<T*>(chunk));
                for (std::size_t i = 0; i < got; ++i) {
                    buf_->push_back(std::move(vals[i]));
                    vals[i].~T();
                }
                n += got;
            }
            return n;
        }

    private:
        braid_mpsc_rx* rxm_;
        std::vector<T>* buf_;
        std::size_t limit_;
    };
    RecvMany recv_many(std::vector<T>& buf, std::size_t limit) {
        if (limit == 0) throw Error(BRAID_EINVAL, "mpsc recv_many: limit 0");
        return RecvMany(checked(), &buf, limit);
    }

    // No more sends (waiting ones fail); what was sent can still be received.
    void close() { braid_mpsc_rx_close(checked()); }
    // Closed, or every sender gone.
    bool is_closed() const { return braid_mpsc_rx_is_closed(checked()) == 1; }
    std::size_t len() const { return braid_mpsc_rx_len(checked()); }
    bool is_empty() const { return len() == 0; }
    explicit operator bool() const noexcept { return rx_ != nullptr; }

    braid_mpsc_rx* native_handle() const noexcept { return rx_; }

private:
    braid_mpsc_rx* checked() const {
        if (!rx_) throw Error(BRAID_EINVAL, "mpsc receiver used after move");
        return rx_;
    }
    braid_mpsc_rx* rx_ = nullptr;
};

template <class T>
using UnboundedReceiver = Receiver<T>;

// A bounded channel of `capacity` (>= 1; 0 throws braid::Error BRAID_EINVAL).
template <class T>
std::pair<Sender<T>, Receiver<T>> channel(std::size_t capacity) {
    braid_mpsc_tx* tx = nullptr;
    braid_mpsc_rx* rx = nullptr;
    braid::detail::check(braid_mpsc_new(&tx, &rx, capacity, sizeof(T), alignof(T), detail::Elem<T>::relocate_fn(),
                                        detail::Elem<T>::drop_fn()),
                         capacity == 0 ? "mpsc::channel: capacity must be at least 1" : "mpsc::channel");
    return {Sender<T>(tx), Receiver<T>(rx)};
}

template <class T>
std::pair<UnboundedSender<T>, Receiver<T>> unbounded_channel() {
    braid_mpsc_tx* tx = nullptr;
    braid_mpsc_rx* rx = nullptr;
    braid::detail::check(braid_mpsc_new_unbounded(&tx, &rx, sizeof(T), alignof(T), detail::Elem<T>::relocate_fn(),
                                                  detail::Elem<T>::drop_fn()),
                         "mpsc::unbounded_channel");
    return {UnboundedSender<T>(tx), Receiver<T>(rx)};
}

}  // namespace braid::mpsc
