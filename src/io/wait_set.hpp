// The tasks waiting on one I/O resource (an IoSource, an FdWatch): any
// number of them, for either direction, as Tokio's ScheduledIo keeps a list
// of waiters.  A readiness event wakes every waiter registered for its
// direction; each retries its syscall, and the losers register again.
//
// A registration is keyed by its wake_data (the C ABI's poll functions carry
// no other identity): polling again with the same wake_data re-arms that
// registration (a new waker replaces the old one), and removing names the
// wake_data.  The first registration lives in an inline slot, so the common
// case of one waiter allocates nothing; more go into nodes that are kept for
// reuse until the set is destroyed.  Lookups are linear in the number of
// waiters.
//
// Not thread-safe: the owner guards every call with its lock, and wakers are
// called with that lock held (so removing a registration under the lock
// guarantees its waker is not running and will not run).
#pragma once

#include <braid/task.h>

#include <new>

namespace braid::detail {

class WaitSet {
public:
    WaitSet() = default;
    WaitSet(const WaitSet&) = delete;
    WaitSet& operator=(const WaitSet&) = delete;
    ~WaitSet() {
        free_list(more_);
        free_list(spare_);
    }

    // Arms the registration of `data` for the direction bits `bits`, with
    // waker `fn` (which replaces the one `data` registered before).  What
    // fired for those bits is forgotten.  False when a node could not be
    // allocated (nothing changed then).
    bool arm(braid_wake_fn fn, void* data, int bits) {
        Entry* e = find(data);
        if (!e) {
            if (!used(first_)) {
                e = &first_;
            } else {
                Node* n = spare_;
                if (n) spare_ = n->next;
                else if (!(n = new (std::nothrow) Node())) return false;
                n->next = more_;
                more_ = n;
                e = n;
            }
            e->data = data;
            e->armed = e->fired = 0;
        }
        e->fn = fn;
        e->armed |= bits;
        e->fired &= ~bits;
        return true;
    }

    // Disarms `bits` of the registration of `data` and forgets what fired
    // for them; `data` NULL: of every registration.
    void disarm(void* data, int bits) {
        if (!data) {
            for_each([&](Entry& e) {
                e.armed &= ~bits;
                e.fired &= ~bits;
            });
        } else if (Entry* e = find(data)) {
            e->armed &= ~bits;
            e->fired &= ~bits;
        }
        compact();
    }

    // The bits among `bits` that fired for `data` since it armed them.
    int fired(void* data, int bits) const {
        const Entry* e = const_cast<WaitSet*>(this)->find(data);
        return e ? e->fired & bits : 0;
    }
    // The same, and forgets them.
    int take_fired(void* data, int bits) {
        Entry* e = find(data);
        if (!e) return 0;
        int f = e->fired & bits;
        e->fired &= ~bits;
        if (!used(*e)) compact();
        return f;
    }

    // Calls the waker of every registration armed for some of `bits` (once
    // each) and disarms those bits.  With `remember`, the bits stay recorded
    // as fired for the registration (take_fired), so that a woken waiter
    // finds its readiness even if another one cleared the resource's
    // readiness before it ran.
    void wake(int bits, bool remember) {
        for_each([&](Entry& e) {
            int hit = e.armed & bits;
            if (!hit) return;
            e.armed &= ~hit;
            if (remember) e.fired |= hit;
            e.fn(e.data);
        });
        compact();
    }

    bool empty() const { return !used(first_) && !more_; }
    // The direction bits some registration is armed for.
    int armed() const {
        int bits = first_.armed;
        for (Node* n = more_; n; n = n->next) bits |= n->armed;
        return bits;
    }

private:
    struct Entry {
        braid_wake_fn fn = nullptr;
        void* data = nullptr;
        int armed = 0;
        int fired = 0;
    };
    struct Node : Entry {
        Node* next = nullptr;
    };

    static bool used(const Entry& e) { return e.armed || e.fired; }
    static void free_list(Node* n) {
        while (n) {
            Node* next = n->next;
            delete n;
            n = next;
        }
    }

    Entry* find(void* data) {
        if (used(first_) && first_.data == data) return &first_;
        for (Node* n = more_; n; n = n->next)
            if (n->data == data) return n;
        return nullptr;
    }
    template <class F>
    void for_each(F&& f) {
        if (used(first_)) f(first_);
        for (Node* n = more_; n; n = n->next) f(*n);
    }
    // Unused nodes go to the spare list; a node moves into a free inline slot.
    void compact() {
        Node** link = &more_;
        while (Node* n = *link) {
            if (!used(*n)) {
                *link = n->next;
                n->next = spare_;
                spare_ = n;
            } else {
                link = &n->next;
            }
        }
        if (!used(first_) && more_) {
            Node* n = more_;
            more_ = n->next;
            static_cast<Entry&>(first_) = static_cast<Entry&>(*n);
            n->armed = n->fired = 0;
            n->next = spare_;
            spare_ = n;
        }
    }

    Entry first_;
    Node* more_ = nullptr;   // registrations beyond the first
    Node* spare_ = nullptr;  // nodes kept for reuse
};

}  // namespace braid::detail
