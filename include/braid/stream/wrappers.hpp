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
#pragma once

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
    while (co_await rx.changed()) {
        T v = *rx.borrow_and_update();
        co_yield std::move(v);
    }
}

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

}  // namespace braid::stream
