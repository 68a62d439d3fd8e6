// The one wait list every synchronization primitive is built on: an
// intrusive FIFO of waiters, each with a waker, guarded by the primitive's
// lock.  A waiter can be cancelled at any moment from any thread (its
// awaiter is destroyed): the primitive removes it under the same lock, so a
// waiter is never woken after removal, and whatever it had been granted but
// not yet taken goes back (invariants 2 and 5 in docs/ARCHITECTURE.md).
//
// Waiter nodes are allocated only when a wait really has to wait (the fast
// path allocates nothing), from the per-thread allocator, and freed by the
// primitive when the wait ends or is cancelled.
#pragma once

#include <braid/task.h>
#include <braid/unstable/waiter.h>

#include <cstddef>
#include <cstdint>
#include <new>

#include "util/alloc.hpp"

namespace braid::detail {

struct Waiter {
    Waiter* prev = nullptr;
    Waiter* next = nullptr;
    braid_wake_fn wake = nullptr;
    void* wake_data = nullptr;
    bool linked = false;      // in the list
    bool notified = false;    // the primitive completed this wait (payload is valid)
    uint64_t need = 0;        // what the waiter asks for (permits, a version ...)
    uint64_t got = 0;         // what it was granted so far
    int status = 0;           // the result once notified (0, a positive value, BRAID_ECLOSED ...)

    static Waiter* make() {
        void* m = alloc(sizeof(Waiter));
        return m ? new (m) Waiter() : nullptr;
    }
    static void destroy(Waiter* w) {
        if (!w) return;
        w->~Waiter();
        dealloc(w, sizeof(Waiter));
    }
    void set_waker(braid_wake_fn f, void* d) {
        wake = f;
        wake_data = d;
    }
    // The braid_waiter protocol's unregister: the wait keeps its place in the
    // list and whatever it was granted; only the waker goes (the next poll
    // registers one again).  Under the owner's lock, so that no call of the
    // old waker is running once the lock is released.
    void forget_waker() { wake = nullptr; }
    // Marks the wait complete with `st` and calls the waker (under the
    // owner's lock).
    void notify(int st = 0) {
        status = st;
        notified = true;
        if (braid_wake_fn f = wake) {
            wake = nullptr;
            f(wake_data);
        }
    }
};

// The C ABI's braid_waiter is a Waiter.
inline Waiter** waiter_slot(braid_waiter** w) { return reinterpret_cast<Waiter**>(w); }

class WaitList {
public:
    bool empty() const { return head_ == nullptr; }
    std::size_t size() const { return size_; }
    Waiter* front() const { return head_; }

    void push_back(Waiter* w) {
        w->prev = tail_;
        w->next = nullptr;
        if (tail_) tail_->next = w; else head_ = w;
        tail_ = w;
        w->linked = true;
        ++size_;
    }

    void remove(Waiter* w) {
        if (!w->linked) return;
        if (w->prev) w->prev->next = w->next; else head_ = w->next;
        if (w->next) w->next->prev = w->prev; else tail_ = w->prev;
        w->prev = w->next = nullptr;
        w->linked = false;
        --size_;
    }

    Waiter* pop_front() {
        Waiter* w = head_;
        if (w) remove(w);
        return w;
    }

    Waiter* pop_back() {
        Waiter* w = tail_;
        if (w) remove(w);
        return w;
    }

    // Removes every waiter into a detached chain (for "wake everyone").
    template <class F>
    void drain(F&& f) {
        while (Waiter* w = pop_front()) f(w);
    }

private:
    Waiter* head_ = nullptr;
    Waiter* tail_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace braid::detail
