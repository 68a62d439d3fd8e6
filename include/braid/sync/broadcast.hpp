// braid::broadcast: many senders, many receivers; every value goes to every
// receiver subscribed when it was sent.
//
//   auto tx = braid::broadcast::channel<std::string>(16);
//   auto rx1 = tx.subscribe(), rx2 = tx.subscribe();
//   tx.send("hello");                             // both receive a copy
//   auto r = co_await rx1.recv();
//   if (r) use(*r);                               // a value
//   else if (r.is_lagged()) skipped += r.lagged(); // fell behind: values missed
//   else /* r.is_closed() */ break;               // every sender gone, drained
//
// The channel keeps the last `capacity` values.  A receiver that falls more
// than `capacity` behind is told how many values it missed and continues
// with the oldest one kept.  T must be copy-constructible (receivers get
// copies; the last receiver of a value gets the value itself).  Sending
// never waits.  A recv() cancelled while waiting loses nothing.
#pragma once

#include <braid/broadcast.h>
#include <braid/detail/unstable.hpp>
#include <braid/detail/elem.hpp>
#include <braid/error.hpp>
#include <braid/sync/wait_leaf.hpp>

#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace braid::broadcast {

namespace detail {
// What a failed copy threw, carried from the clone function (called inside
// the receive, on this thread) to the C++ caller.
inline thread_local std::exception_ptr clone_error;

template <class T>
struct Clone {
    static int clone(void* dst, const void* src) {
        try {
            ::new (dst) T(*static_cast<const T*>(src));
            return 0;
        } catch (...) {
            clone_error = std::current_exception();
            return 1;
        }
    }
    static constexpr braid_clone_fn fn() { return std::is_trivially_copyable_v<T> ? nullptr : &clone; }
};
}  // namespace detail

// What a receive gives: a value, or how many values were missed (lagged),
// or that the channel is finished (closed), or (try_recv) nothing yet.
template <class T>
class RecvResult {
public:
    static RecvResult value(T v) { return RecvResult(Value, 0, std::move(v)); }
    static RecvResult lagged_by(uint64_t n) { return RecvResult(Lagged, n, std::nullopt); }
    static RecvResult closed() { return RecvResult(Closed, 0, std::nullopt); }
    static RecvResult empty() { return RecvResult(Empty, 0, std::nullopt); }

    bool has_value() const noexcept { return v_.has_value(); }
    explicit operator bool() const noexcept { return has_value(); }
    T& operator*() & { return *v_; }
    T&& operator*() && { return std::move(*v_); }
    T* operator->() { return &*v_; }
    T& value() & {
        if (!v_) throw Error(BRAID_EAGAIN, "broadcast: no value received");
        return *v_;
    }
    bool is_lagged() const noexcept { return st_ == Lagged; }
    // Values missed (0 unless is_lagged()).
    uint64_t lagged() const noexcept { return missed_; }
    bool is_closed() const noexcept { return st_ == Closed; }
    bool is_empty() const noexcept { return st_ == Empty; }

private:
    enum Status { Value, Lagged, Closed, Empty };
    RecvResult(Status st, uint64_t missed, std::optional<T> v) : st_(st), missed_(missed), v_(std::move(v)) {}
    Status st_;
    uint64_t missed_;
    std::optional<T> v_;
};

template <class T>
class Receiver {
public:
    Receiver() = default;
    explicit Receiver(braid_broadcast_rx* rx) : rx_(rx) {}
    Receiver(Receiver&& o) noexcept : rx_(std::exchange(o.rx_, nullptr)) {}
    Receiver& operator=(Receiver&& o) noexcept {
        if (this != &o) {
            braid_broadcast_rx_free(rx_);
            rx_ = std::exchange(o.rx_, nullptr);
        }
        return *this;
    }
    Receiver(const Receiver&) = delete;
    ~Receiver() { braid_broadcast_rx_free(rx_); }

    class [[nodiscard]] Recv
        : public braid::detail::WaitLeaf<Recv, braid_broadcast_rx, &braid_broadcast_cancel_recv,
                                         &braid_broadcast_unregister_recv> {
    public:
        using Base =
            braid::detail::WaitLeaf<Recv, braid_broadcast_rx, &braid_broadcast_cancel_recv,
                                    &braid_broadcast_unregister_recv>;
        explicit Recv(braid_broadcast_rx* rx) : Base(rx) {}
        Recv(Recv&& o) noexcept : Base(std::move(o)) {}  // before it is awaited
        int poll(braid_wake_fn w, void* d) {
            return braid_broadcast_poll_recv(this->h_, slot_.raw(), sizeof(T), &lagged_, &this->w_, w, d);
        }
        RecvResult<T> finish(int st) { return Receiver::result(st, slot_, lagged_); }

    private:
        braid::detail::Slot<T> slot_;
        uint64_t lagged_ = 0;
    };
    // co_await rx.recv(): a RecvResult (value, lagged or closed).
    Recv recv() { return Recv(checked()); }

    // Without waiting: a value, lagged, closed, or empty.
    RecvResult<T> try_recv() {
        braid::detail::Slot<T> slot;
        uint64_t lagged = 0;
        int st = braid_broadcast_try_recv(checked(), slot.raw(), sizeof(T), &lagged);
        if (st == BRAID_EAGAIN) return RecvResult<T>::empty();
        return result(st, slot, lagged);
    }
    // Blocks a thread that is not a runtime worker.
    RecvResult<T> blocking_recv() {
        braid::detail::Slot<T> slot;
        uint64_t lagged = 0;
        int st = braid_broadcast_recv_blocking(checked(), slot.raw(), sizeof(T), &lagged, BRAID_WAIT_FOREVER);
        return result(st, slot, lagged);
    }

    // A new receiver that gets the values sent from now on.
    Receiver resubscribe() const {
        braid_broadcast_rx* r = nullptr;
        braid::detail::check(braid_broadcast_rx_resubscribe(&r, checked()), "broadcast resubscribe");
        return Receiver(r);
    }
    // Values not received yet that the channel still keeps.
    std::size_t len() const { return braid_broadcast_rx_len(checked()); }
    bool is_empty() const { return len() == 0; }

    braid_broadcast_rx* native_handle() const noexcept { return rx_; }

private:
    static RecvResult<T> result(int st, braid::detail::Slot<T>& slot, uint64_t lagged) {
        if (st == BRAID_OK) {
            slot.filled();
            return RecvResult<T>::value(slot.take());
        }
        if (st == BRAID_BROADCAST_LAGGED) return RecvResult<T>::lagged_by(lagged);
        if (st == BRAID_ECLOSED) return RecvResult<T>::closed();
        if (st == BRAID_EPANIC && detail::clone_error) std::rethrow_exception(std::exchange(detail::clone_error, nullptr));
        throw Error(st, "broadcast recv");
    }
    braid_broadcast_rx* checked() const {
        if (!rx_) throw Error(BRAID_EINVAL, "broadcast receiver used after move");
        return rx_;
    }
    braid_broadcast_rx* rx_ = nullptr;
};

// The sending side; copy it for more senders.
template <class T>
class Sender {
public:
    Sender() = default;
    explicit Sender(braid_broadcast_tx* tx) : tx_(tx) {}
    Sender(const Sender& o) : tx_(nullptr) {
        if (o.tx_) braid::detail::check(braid_broadcast_tx_clone(&tx_, o.tx_), "broadcast sender clone");
    }
    Sender(Sender&& o) noexcept : tx_(std::exchange(o.tx_, nullptr)) {}
    Sender& operator=(Sender o) noexcept {
        std::swap(tx_, o.tx_);
        return *this;
    }
    ~Sender() { braid_broadcast_tx_free(tx_); }

    // Sends to every receiver: std::nullopt, or the value back when there
    // is no receiver.  receivers, if given, gets how many receivers will see
    // the value (Tokio's Ok(n)).
    std::optional<T> send(T value, std::size_t* receivers = nullptr) const {
        braid::detail::Slot<T> slot;
        slot.emplace(std::move(value));
        int rc = braid_broadcast_send(checked(), slot.raw(), sizeof(T), receivers);
        if (rc == BRAID_OK) {
            slot.emptied();
            return std::nullopt;
        }
        if (rc == BRAID_ECLOSED) return slot.take();
        throw Error(rc, "broadcast send");
    }
    Receiver<T> subscribe() const {
        braid_broadcast_rx* r = nullptr;
        braid::detail::check(braid_broadcast_subscribe(&r, checked()), "broadcast subscribe");
        return Receiver<T>(r);
    }
    std::size_t receiver_count() const { return braid_broadcast_receiver_count(checked()); }
    // Values still queued: sent and not yet received by every receiver that
    // was there when it was sent (and not yet pushed out by newer ones).
    std::size_t len() const { return braid_broadcast_tx_len(checked()); }
    bool is_empty() const { return len() == 0; }

    braid_broadcast_tx* native_handle() const noexcept { return tx_; }

private:
    braid_broadcast_tx* checked() const {
        if (!tx_) throw Error(BRAID_EINVAL, "broadcast sender used after move");
        return tx_;
    }
    braid_broadcast_tx* tx_ = nullptr;
};

// A channel keeping `capacity` (>= 1; 0 throws braid::Error BRAID_EINVAL)
// values.  Subscribe receivers from the sender.
template <class T>
Sender<T> channel(std::size_t capacity) {
    static_assert(std::is_copy_constructible_v<T>, "broadcast values are copied to every receiver");
    braid_broadcast_tx* tx = nullptr;
    braid::detail::check(braid_broadcast_new(&tx, capacity, sizeof(T), alignof(T), braid::detail::Elem<T>::relocate_fn(),
                                             detail::Clone<T>::fn(), braid::detail::Elem<T>::drop_fn()),
                         capacity == 0 ? "broadcast::channel: capacity must be at least 1" : "broadcast::channel");
    return Sender<T>(tx);
}

}  // namespace braid::broadcast
