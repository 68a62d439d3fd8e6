// braid::watch: one value that senders replace and receivers look at and
// wait on.
//
//   auto [tx, rx] = braid::watch::channel<std::string>("initial");
//   tx.send("updated");
//   std::string v = *rx.borrow();                 // a read lock while the Ref lives
//   for (;;) {
//       bool more = co_await rx.changed();          // false once the sender is gone
//       if (!more) break;                           // (not `while (co_await ...)`: docs/compilers.md)
//       use(*rx.borrow_and_update());
//   }
//
// Receivers see versions in order (never an older value after a newer one);
// values sent in quick succession may be skipped.  Keep borrows short:
// senders wait for them.  A changed() cancelled while waiting consumes
// nothing.  Senders and receivers are copyable (a copied receiver has seen
// what the original has seen).
#pragma once

#include <braid/detail/elem.hpp>
#include <braid/error.hpp>
#include <braid/sync/wait_leaf.hpp>
#include <braid/task.hpp>
#include <braid/watch.h>
#include <braid/detail/unstable.hpp>

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace braid::watch {

// A borrowed value: the channel stays read-locked until the Ref is gone.
template <class T>
class Ref {
public:
    Ref(const T* v, braid_watch_rx* rx, braid_watch_tx* tx, bool changed)
        : v_(v), rx_(rx), tx_(tx), changed_(changed) {}
    Ref(Ref&& o) noexcept
        : v_(std::exchange(o.v_, nullptr)), rx_(std::exchange(o.rx_, nullptr)), tx_(std::exchange(o.tx_, nullptr)),
          changed_(o.changed_) {}
    Ref(const Ref&) = delete;
    Ref& operator=(const Ref&) = delete;
    ~Ref() {
        if (rx_) braid_watch_rx_borrow_end(rx_);
        if (tx_) braid_watch_tx_borrow_end(tx_);
    }
    const T& operator*() const noexcept { return *v_; }
    const T* operator->() const noexcept { return v_; }
    // Whether the receiver had not seen this version when it borrowed it.
    bool has_changed() const noexcept { return changed_; }

private:
    const T* v_;
    braid_watch_rx* rx_;
    braid_watch_tx* tx_;
    bool changed_;
};

template <class T>
class Receiver {
public:
    Receiver() = default;
    explicit Receiver(braid_watch_rx* rx) : rx_(rx) {}
    Receiver(const Receiver& o) : rx_(nullptr) {
        if (o.rx_) braid::detail::check(braid_watch_rx_clone(&rx_, o.rx_), "watch receiver clone");
    }
    Receiver(Receiver&& o) noexcept : rx_(std::exchange(o.rx_, nullptr)) {}
    Receiver& operator=(Receiver o) noexcept {
        std::swap(rx_, o.rx_);
        return *this;
    }
    ~Receiver() { braid_watch_rx_free(rx_); }

    // The current value (does not mark it seen).
    Ref<T> borrow() const { return borrow_impl(false); }
    // The current value, marked seen.
    Ref<T> borrow_and_update() { return borrow_impl(true); }
    // A version this receiver has not seen is there; throws RecvError when
    // not and every sender is gone (Tokio's Err(RecvError): nothing will
    // ever change again).
    bool has_changed() const {
        int rc = braid_watch_rx_has_changed(checked());
        if (rc == BRAID_ECLOSED) throw RecvError();
        braid::detail::check(rc, "watch has_changed");
        return rc == 1;
    }

    // co_await rx.changed(): true once a newer version is there (now marked
    // seen), false when every sender is gone.
    class [[nodiscard]] Changed
        : public braid::detail::WaitLeaf<Changed, braid_watch_rx, &braid_watch_rx_cancel_changed,
                                         &braid_watch_rx_unregister_changed> {
    public:
        using Base =
            braid::detail::WaitLeaf<Changed, braid_watch_rx, &braid_watch_rx_cancel_changed,
                                    &braid_watch_rx_unregister_changed>;
        explicit Changed(braid_watch_rx* rx) : Base(rx) {}
        int poll(braid_wake_fn w, void* d) { return braid_watch_rx_poll_changed(this->h_, &this->w_, w, d); }
        bool finish(int st) {
            if (st == BRAID_ECLOSED) return false;
            braid::detail::check(st, "watch changed");
            return true;
        }
    };
    Changed changed() { return Changed(checked()); }
    // Blocks a thread that is not a runtime worker.
    bool blocking_changed() {
        int st = braid_watch_rx_changed_blocking(checked(), BRAID_WAIT_FOREVER);
        if (st == BRAID_ECLOSED) return false;
        braid::detail::check(st, "watch blocking_changed");
        return true;
    }

    // Waits until pred(value) holds (checking the current value first) and
    // returns it borrowed (marked seen); std::nullopt when every sender is
    // gone first.  The receiver must outlive the returned task.
    template <class F>
    Task<std::optional<Ref<T>>> wait_for(F pred) {
        for (;;) {
            {
                Ref<T> r = borrow_and_update();
                if (pred(*r)) co_return std::optional<Ref<T>>(std::move(r));
            }
            bool more = co_await changed();  // not in the condition: g++ 12.2 (docs/compilers.md)
            if (!more) co_return std::nullopt;
        }
    }

    braid_watch_rx* native_handle() const noexcept { return rx_; }

private:
    Ref<T> borrow_impl(bool mark) const {
        const void* v = nullptr;
        int changed = 0;
        braid::detail::check(braid_watch_rx_borrow(checked(), mark ? 1 : 0, &v, &changed), "watch borrow");
        return Ref<T>(static_cast<const T*>(v), rx_, nullptr, changed != 0);
    }
    braid_watch_rx* checked() const {
        if (!rx_) throw Error(BRAID_EINVAL, "watch receiver used after move");
        return rx_;
    }
    braid_watch_rx* rx_ = nullptr;
};

template <class T>
class Sender {
public:
    Sender() = default;
    explicit Sender(braid_watch_tx* tx) : tx_(tx) {}
    Sender(const Sender& o) : tx_(nullptr) {
        if (o.tx_) braid::detail::check(braid_watch_tx_clone(&tx_, o.tx_), "watch sender clone");
    }
    Sender(Sender&& o) noexcept : tx_(std::exchange(o.tx_, nullptr)) {}
    Sender& operator=(Sender o) noexcept {
        std::swap(tx_, o.tx_);
        return *this;
    }
    ~Sender() { braid_watch_tx_free(tx_); }

    // Replaces the value: std::nullopt, or the value back when no receiver
    // is left (then nothing is stored).
    std::optional<T> send(T value) const {
        braid::detail::Slot<T> slot;
        slot.emplace(std::move(value));
        int rc = braid_watch_send(checked(), slot.raw(), sizeof(T));
        if (rc == BRAID_OK) {
            slot.emptied();
            return std::nullopt;
        }
        if (rc == BRAID_ECLOSED) return slot.take();
        throw Error(rc, "watch send");
    }
    // Replaces the value even without receivers; returns the previous one.
    T send_replace(T value) const {
        braid::detail::Slot<T> slot;
        slot.emplace(std::move(value));
        braid::detail::check(braid_watch_send_replace(checked(), slot.raw(), sizeof(T)), "watch send_replace");
        return slot.take();  // the previous value was moved into the slot
    }
    // f(T&) modifies the value in place (under the write lock); receivers
    // are notified.  If f throws, nothing is notified and the exception
    // propagates.
    template <class F>
    void send_modify(F f) const {
        send_if_modified([&](T& v) {
            f(v);
            return true;
        });
    }
    // f(T&) -> bool: notifies only when f returns true.  Returns f's result.
    template <class F>
    bool send_if_modified(F f) const {
        struct Call {
            F* f;
            std::exception_ptr err;
            static int run(void* value, void* ud) {
                auto* c = static_cast<Call*>(ud);
                try {
                    return (*c->f)(*static_cast<T*>(value)) ? 1 : 0;
                } catch (...) {
                    c->err = std::current_exception();
                    return 0;
                }
            }
        } call{&f, nullptr};
        int modified = 0;
        braid::detail::check(braid_watch_send_modify(checked(), &Call::run, &call, &modified), "watch send_modify");
        if (call.err) std::rethrow_exception(call.err);
        return modified != 0;
    }

    Ref<T> borrow() const {
        const void* v = nullptr;
        braid::detail::check(braid_watch_tx_borrow(checked(), &v), "watch borrow");
        return Ref<T>(static_cast<const T*>(v), nullptr, tx_, false);
    }
    // A receiver that has seen the current value.
    Receiver<T> subscribe() const {
        braid_watch_rx* r = nullptr;
        braid::detail::check(braid_watch_subscribe(&r, checked()), "watch subscribe");
        return Receiver<T>(r);
    }
    std::size_t receiver_count() const { return braid_watch_receiver_count(checked()); }
    // No receiver is left.
    bool is_closed() const { return braid_watch_tx_is_closed(checked()) == 1; }

    // co_await tx.closed(): completes once no receiver is left.
    class [[nodiscard]] Closed
        : public braid::detail::WaitLeaf<Closed, braid_watch_tx, &braid_watch_tx_cancel_closed,
                                         &braid_watch_tx_unregister_closed> {
    public:
        using Base =
            braid::detail::WaitLeaf<Closed, braid_watch_tx, &braid_watch_tx_cancel_closed,
                                    &braid_watch_tx_unregister_closed>;
        explicit Closed(braid_watch_tx* tx) : Base(tx) {}
        int poll(braid_wake_fn w, void* d) { return braid_watch_tx_poll_closed(this->h_, &this->w_, w, d); }
        void finish(int st) { braid::detail::check(st, "watch closed"); }
    };
    Closed closed() const { return Closed(checked()); }

    braid_watch_tx* native_handle() const noexcept { return tx_; }

private:
    braid_watch_tx* checked() const {
        if (!tx_) throw Error(BRAID_EINVAL, "watch sender used after move");
        return tx_;
    }
    braid_watch_tx* tx_ = nullptr;
};

template <class T>
std::pair<Sender<T>, Receiver<T>> channel(T initial) {
    braid::detail::Slot<T> slot;
    slot.emplace(std::move(initial));
    braid_watch_tx* tx = nullptr;
    braid_watch_rx* rx = nullptr;
    braid::detail::check(braid_watch_new(&tx, &rx, slot.raw(), sizeof(T), alignof(T), braid::detail::Elem<T>::relocate_fn(),
                                         braid::detail::Elem<T>::drop_fn()),
                         "watch::channel");
    slot.emptied();
    return {Sender<T>(tx), Receiver<T>(rx)};
}

}  // namespace braid::watch
