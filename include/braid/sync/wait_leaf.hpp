// The leaf awaiter of every wait that follows the braid_waiter protocol
// (braid/waiter.h): it keeps the waiter node of its operation and, if it is
// destroyed while still waiting (its task was aborted, it lost a select, a
// timeout ran out), cancels the wait, so whatever the primitive had granted
// to it goes back (invariant 2 in docs/ARCHITECTURE.md).
#pragma once

#include <braid/detail/context.hpp>
#include <braid/waiter.h>

#include <utility>

namespace braid::detail {

// Derived provides poll(wake, data) calling the C poll function with
// &this->w_, and finish(status).  H is the C handle type, Cancel its cancel
// function, Unregister its unregister function (braid/waiter.h: the waker
// goes, the waiter keeps its place).
template <class Derived, class H, void (*Cancel)(H*, braid_waiter**), void (*Unregister)(H*, braid_waiter**)>
class WaitLeaf : public LeafAwaiter<Derived> {
public:
    explicit WaitLeaf(H* h) : h_(h) {}
    // Only an awaiter that has not started waiting may move.
    WaitLeaf(WaitLeaf&& o) noexcept : h_(o.h_), w_(std::exchange(o.w_, nullptr)) {}
    WaitLeaf(const WaitLeaf&) = delete;
    WaitLeaf& operator=(const WaitLeaf&) = delete;
    ~WaitLeaf() {
        if (w_) Cancel(h_, &w_);
    }
    bool ready_now() const noexcept { return false; }  // the poll decides, and takes the budget
    // Kept across selects: the wait stays queued in its place (with anything
    // granted to it meanwhile); only the waker goes.
    void unregister() noexcept {
        if (w_) Unregister(h_, &w_);
    }

protected:
    H* h_;
    braid_waiter* w_ = nullptr;
};

}  // namespace braid::detail
