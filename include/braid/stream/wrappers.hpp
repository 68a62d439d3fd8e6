// Streams over braid's channels, timers and signals (tokio-stream's
// wrappers).  Each takes its source by value and owns it; each is a
// generator, so a next() cancelled while it waits loses nothing.
//
//   auto s = braid::stream::from_receiver(std::move(rx)) | braid::stream::map(parse);
//
//   from_receiver(mpsc::Receiver<T>)       T, until every sender is gone
//   from_broadcast(broadcast::Receiver<T>) broadcast::RecvResult<T>: values, and
//                                          "lagged by n" items for a slow receiver;
//                                          ends when every sender is gone
//   from_watch(watch::Receiver<T>)         T: the current value, then each new one
//   from_watch_changes(watch::Receiver<T>) T: each new value (not the current one)
//   from_interval(Interval)                Instant: every tick, forever
//   from_signal(int signum)                int (signum): every delivery, forever;
//                                          listening starts at the call
//   from_tcp_listener(net::TcpListener)    net::TcpStream: every accepted connection;
//                                          an accept error (EMFILE...) is thrown
//                                          from next() and ends the stream;
//                                          dropping the stream closes the listener
#pragma once

#include <braid/io/error.hpp>
#include <braid/net/tcp.hpp>
#include <braid/signal.hpp>
#include <braid/stream/generator.hpp>
#include <braid/sync/broadcast.hpp>
#include <braid/sync/mpsc.hpp>
#include <braid/sync/watch.hpp>
#include <braid/time.hpp>

#include <utility>

namespace braid::stream {

template <class T>
Stream<T> from_receiver(mpsc::Receiver<T> rx) {
    while (auto v = co_await rx.recv()) co_yield std::move(*v);
}

template <class T>
Stream<broadcast::RecvResult<T>> from_broadcast(broadcast::Receiver<T> rx) {
    for (;;) {
        broadcast::RecvResult<T> r = co_await rx.recv();
        if (r.is_closed()) co_return;
        co_yield std::move(r);
    }
}

namespace detail {
template <class T>
Stream<T> watch_gen(watch::Receiver<T> rx, bool current_first) {
    if (current_first) {
        T v = *rx.borrow_and_update();  // a copy: no lock is held across the yield
        co_yield std::move(v);
    }
    for (;;) {
        bool more = co_await rx.changed();  // not in a condition: g++ 12.2 (docs/compilers.md)
        if (!more) break;
        T v = *rx.borrow_and_update();
        co_yield std::move(v);
    }
}

// One accept, as a status: the generator below needs no try/catch around a
// co_await in its loop (g++ 12, docs/cancellation.md).
class [[nodiscard]] AcceptStatus : public braid::detail::LeafAwaiter<AcceptStatus> {
public:
    explicit AcceptStatus(braid_tcp_listener* l) : l_(l) {}
    AcceptStatus(const AcceptStatus&) = delete;
    ~AcceptStatus() {
        unregister();
        braid_tcp_stream_free(s_);
    }
    void unregister() noexcept {
        if (registered_) braid_tcp_listener_poll_accept(l_, nullptr, nullptr, nullptr, nullptr, registered_);
        registered_ = nullptr;
    }
    bool ready_now() const { return false; }
    int poll(braid_wake_fn w, void* d) {
        int rc = braid_tcp_listener_poll_accept(l_, &s_, nullptr, nullptr, w, d);
        if (registered_ && (rc != BRAID_PENDING || registered_ != d))
            braid_tcp_listener_poll_accept(l_, nullptr, nullptr, nullptr, nullptr, registered_);
        registered_ = rc == BRAID_PENDING ? d : nullptr;
        return rc;
    }
    int finish(int st) const { return st; }
    braid_tcp_stream* take() { return std::exchange(s_, nullptr); }

private:
    braid_tcp_listener* l_;
    braid_tcp_stream* s_ = nullptr;
    void* registered_ = nullptr;  // the wake_data of our registration
};

inline Stream<int> signal_gen(signal::Signal sig, int signum) {
    for (;;) {
        co_await sig.recv();
        co_yield signum;
    }
}
}  // namespace detail

template <class T>
Stream<T> from_watch(watch::Receiver<T> rx) {
    return detail::watch_gen<T>(std::move(rx), true);
}
template <class T>
Stream<T> from_watch_changes(watch::Receiver<T> rx) {
    return detail::watch_gen<T>(std::move(rx), false);
}

inline Stream<Instant> from_interval(Interval iv) {
    for (;;) co_yield co_await iv.tick();
}

// Listens for `signum` from now on (throws braid::Error for a signal that
// cannot be watched, or off a runtime thread).
inline Stream<int> from_signal(int signum) { return detail::signal_gen(signal::Signal(signum), signum); }

// Every connection the listener accepts (Tokio's TcpListenerStream).
inline Stream<net::TcpStream> from_tcp_listener(net::TcpListener listener) {
    for (;;) {
        detail::AcceptStatus accept(listener.native_handle());
        int st = co_await accept;
        if (st == BRAID_ECLOSED) co_return;
        if (st < 0) braid::detail::throw_io(st, braid::detail::os_error_of(st), "stream::from_tcp_listener");
        net::TcpStream conn(accept.take());
        co_yield std::move(conn);
    }
}

}  // namespace braid::stream
