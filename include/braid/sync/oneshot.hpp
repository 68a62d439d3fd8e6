// braid::oneshot: one value from one sender to one receiver.
//
//   auto [tx, rx] = braid::oneshot::channel<int>();
//   tx.send(42);                    // std::nullopt: delivered; else the value comes back
//   int v = co_await std::move(rx); // throws braid::RecvError if the sender was dropped
#pragma once

#include <braid/detail/context.hpp>
#include <braid/detail/elem.hpp>
#include <braid/error.hpp>
#include <braid/oneshot.h>
#include <braid/sync/try_result.hpp>

#include <optional>
#include <utility>

namespace braid {

namespace oneshot {

template <class T>
class Sender {
public:
    Sender() = default;
    explicit Sender(braid_oneshot_tx* tx) : tx_(tx) {}
    Sender(Sender&& o) noexcept : tx_(std::exchange(o.tx_, nullptr)) {}
    Sender& operator=(Sender&& o) noexcept {
        if (this != &o) {
            braid_oneshot_tx_free(tx_);
            tx_ = std::exchange(o.tx_, nullptr);
        }
        return *this;
    }
    ~Sender() {
        if (tx_) braid_oneshot_tx_free(tx_);  // sent or moved from: no call
    }

    // Sends and consumes the sender.  Returns std::nullopt when the value was
    // delivered, or the value itself when the receiver is gone.
    std::optional<T> send(T value) {
        braid_oneshot_tx* tx = checked();
        detail::Slot<T> slot;
        slot.emplace(std::move(value));
        int rc = braid_oneshot_send(tx, slot.raw(), sizeof(T));
        if (rc == BRAID_OK || rc == BRAID_ECLOSED) tx_ = nullptr;
        if (rc == BRAID_OK) {
            slot.emptied();
            return std::nullopt;
        }
        if (rc == BRAID_ECLOSED) return std::optional<T>(slot.take());
        throw Error(rc, "oneshot send");
    }

    // Whether the receiver is gone.  A pure query: a closed() waiting
    // elsewhere keeps its registration.
    bool is_closed() const { return braid_oneshot_tx_is_closed(checked()) == 1; }

    // co_await tx.closed(): completes once the receiver is gone.
    class [[nodiscard]] Closed : public detail::LeafAwaiter<Closed> {
    public:
        explicit Closed(braid_oneshot_tx* tx) : tx_(tx) {}
        ~Closed() { unregister(); }
        void unregister() noexcept {
            if (this->status_ == BRAID_PENDING) braid_oneshot_tx_poll_closed(tx_, nullptr, nullptr);
        }
        bool ready_now() { return braid_oneshot_tx_is_closed(tx_) == 1; }
        int poll(braid_wake_fn w, void* d) { return braid_oneshot_tx_poll_closed(tx_, w, d); }
        void finish(int) {}

    private:
        braid_oneshot_tx* tx_;
    };
    Closed closed() { return Closed(checked()); }

private:
    braid_oneshot_tx* checked() const {
        if (!tx_) throw Error(BRAID_EINVAL, "oneshot sender used after send or move");
        return tx_;
    }
    braid_oneshot_tx* tx_ = nullptr;
};

template <class T>
class Receiver {
public:
    Receiver() = default;
    explicit Receiver(braid_oneshot_rx* rx) : rx_(rx) {}
    Receiver(Receiver&& o) noexcept : rx_(std::exchange(o.rx_, nullptr)) {}
    Receiver& operator=(Receiver&& o) noexcept {
        if (this != &o) {
            braid_oneshot_rx_free(rx_);
            rx_ = std::exchange(o.rx_, nullptr);
        }
        return *this;
    }
    ~Receiver() {
        if (rx_) braid_oneshot_rx_free(rx_);
    }

    // Without waiting: the value if it has arrived; else why not —
    // is_empty() (not sent yet) or is_closed() (the sender was dropped
    // without sending, the value was received already, or close() was
    // called and nothing had been sent).
    TryRecvResult<T> try_recv() {
        detail::Slot<T> slot;
        int rc = braid_oneshot_try_recv(checked(), slot.raw(), sizeof(T));
        if (rc == BRAID_EAGAIN) return TryRecvError::Empty;
        if (rc == BRAID_ECLOSED) return TryRecvError::Closed;
        detail::check(rc, "oneshot try_recv");
        slot.filled();
        return slot.take();
    }

    // Refuses the value from now on, staying alive (Tokio's close): the
    // sender sees the channel closed (send hands the value back, closed()
    // completes); a value sent before can still be received.
    void close() { detail::check(braid_oneshot_rx_close(checked()), "oneshot close"); }

    // Blocks this (non-runtime) thread until the value arrives.
    T blocking_recv() {
        detail::Slot<T> slot;
        int rc = braid_oneshot_recv_blocking(checked(), slot.raw(), sizeof(T), BRAID_WAIT_FOREVER);
        if (rc == BRAID_ECLOSED) throw RecvError();
        detail::check(rc, "oneshot blocking_recv");
        slot.filled();
        return slot.take();
    }

    class [[nodiscard]] Awaiter : public detail::LeafAwaiter<Awaiter> {
    public:
        explicit Awaiter(braid_oneshot_rx* rx) : rx_(rx) {}
        // Before it is awaited.
        Awaiter(Awaiter&& o) noexcept : rx_(std::exchange(o.rx_, nullptr)) {}
        ~Awaiter() { unregister(); }
        // Drops the waker; the value, when it comes, waits for the next
        // receive.  Never polled: nothing registered, no call.
        void unregister() noexcept {
            if (polled_ && this->status_ == BRAID_PENDING) braid_oneshot_recv_unregister(rx_);
            polled_ = false;
        }
        bool ready_now() { return false; }
        int poll(braid_wake_fn w, void* d) {
            polled_ = true;
            return braid_oneshot_poll_recv(rx_, w, d, slot_.raw(), sizeof(T));
        }
        T finish(int st) {
            if (st == BRAID_ECLOSED) throw RecvError();
            detail::check(st, "oneshot recv");
            slot_.filled();
            return slot_.take();
        }

    private:
        braid_oneshot_rx* rx_;
        bool polled_ = false;  // since the last unregister(): a waker may be registered
        detail::Slot<T> slot_;
    };
    // co_await std::move(rx): the value, or throws RecvError.
    Awaiter operator co_await() && { return Awaiter(checked()); }
    Awaiter operator co_await() & { return Awaiter(checked()); }

private:
    braid_oneshot_rx* checked() const {
        if (!rx_) throw Error(BRAID_EINVAL, "oneshot receiver used after move");
        return rx_;
    }
    braid_oneshot_rx* rx_ = nullptr;
};

template <class T>
std::pair<Sender<T>, Receiver<T>> channel() {
    braid_oneshot_tx* tx = nullptr;
    braid_oneshot_rx* rx = nullptr;
    detail::check(braid_oneshot_new(&tx, &rx, sizeof(T), alignof(T), detail::Elem<T>::relocate_fn(),
                                    detail::Elem<T>::drop_fn()),
                  "oneshot::channel");
    return {Sender<T>(tx), Receiver<T>(rx)};
}

}  // namespace oneshot
}  // namespace braid
