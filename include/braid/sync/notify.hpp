// braid::Notify: wakes waiting tasks without passing data.
//
//   braid::Notify ready;
//   // task A:                        // task B:
//   co_await ready.notified();        ready.notify_one();
//
// notify_one wakes the first waiter (FIFO), or, if nobody waits, stores one
// permit that the next notified() consumes at once.  notify_waiters wakes
// every notified() made before it, awaited yet or not (Tokio's rule), and
// stores nothing.  A notified() cancelled after notify_one picked it passes
// the notification on: it is never lost.
#pragma once

#include <braid/error.hpp>
#include <braid/notify.h>
#include <braid/detail/unstable.hpp>
#include <braid/sync/wait_leaf.hpp>

#include <utility>

namespace braid {

class Notify {
public:
    Notify() { detail::check(braid_notify_new(&n_), "Notify"); }
    Notify(const Notify&) = delete;
    Notify& operator=(const Notify&) = delete;
    ~Notify() { braid_notify_free(n_); }

    class [[nodiscard]] Notified
        : public detail::WaitLeaf<Notified, braid_notify, &braid_notify_cancel_notified,
                                  &braid_notify_unregister_notified> {
    public:
        using Base =
            detail::WaitLeaf<Notified, braid_notify, &braid_notify_cancel_notified, &braid_notify_unregister_notified>;
        // Made now: a notify_waiters from now on is this wait's, polled or
        // not (Tokio's Notified).
        explicit Notified(braid_notify* n) : Base(n), epoch_(braid_notify_waiters_epoch(n)) {}
        int poll(braid_wake_fn w, void* d) {
            return braid_notify_poll_notified_since(this->h_, epoch_, &this->w_, w, d);
        }
        void finish(int st) {
            detail::check(st, "Notify::notified");
            // Raced again once it completed, it is a new wait, made now.
            epoch_ = braid_notify_waiters_epoch(this->h_);
        }
        // Joins the queue now, before it is awaited (Tokio's enable): a
        // notify_one from now on is this wait's, and a stored permit is
        // taken.  true: notified already (awaiting completes at once).
        // Destroyed unawaited, it passes a notify_one it got on.
        bool enable() {
            int rc = braid_notify_enable_notified_since(this->h_, epoch_, &this->w_);
            return detail::check(rc, "Notified::enable") == 1;
        }

    private:
        uint64_t epoch_;
    };
    // co_await: returns once notified (or a stored permit was there).
    Notified notified() { return Notified(n_); }
    // Consumes a stored permit if there is one.
    bool try_notified() {
        return braid_notify_try_notified(n_) == BRAID_OK;
    }
    // Waits on a thread that is not a runtime worker.
    void blocking_notified() { detail::check(braid_notify_notified_blocking(n_, BRAID_WAIT_FOREVER), "Notify::blocking_notified"); }

    void notify_one() noexcept { braid_notify_notify_one(n_); }
    // Wakes the most recent waiter (LIFO), or stores the permit.
    void notify_last() noexcept { braid_notify_notify_last(n_); }
    void notify_waiters() noexcept { braid_notify_notify_waiters(n_); }

    braid_notify* native_handle() const noexcept { return n_; }

private:
    braid_notify* n_ = nullptr;
};

}  // namespace braid
