// braid::DelayQueue<T>: values that come out once their delay has passed
// (tokio-util's DelayQueue).
//
//   braid::DelayQueue<std::string> cache_expiry;
//   auto key = cache_expiry.insert("session-1", 30s);
//   cache_expiry.reset(key, 60s);                    // touched: expires later
//   for (;;) {
//       auto r = co_await braid::select(cache_expiry.next(), rx.recv());
//       if (r.index() == 0) {
//           auto expired = std::get<0>(std::move(r));
//           if (expired) evict(expired->value);      // std::nullopt: the queue is empty
//       } else { ... cache_expiry.insert(v, 30s) ... }
//   }
//
// Values with the same deadline come out in the order they were inserted.
// A Key names one entry until it expires or is removed; a stale key (its
// entry gone, its slot reused) is never mistaken for the new entry.  Like
// Tokio's, a DelayQueue belongs to one task at a time (it is not
// thread-safe); next() may be kept across the selects of a loop, and an
// insert or reset between them is seen by the next poll.  One timer serves
// the whole queue; the ordered index costs O(log n) per insert, reset,
// remove and expiry.
#pragma once

#include <braid/error.hpp>
#include <braid/time.h>
#include <braid/time.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

namespace braid {

template <class T>
class DelayQueue {
public:
    // Names an entry (Tokio's Key).
    struct Key {
        std::size_t index = 0;
        uint64_t generation = 0;
        friend bool operator==(const Key&, const Key&) = default;
    };
    // An entry taken out of the queue: by expiry (next) or by remove.
    struct Expired {
        T value;
        Key key;
        Instant deadline;
        T& get_ref() noexcept { return value; }
        T into_inner() && { return std::move(value); }
    };

    DelayQueue() = default;
    DelayQueue(const DelayQueue&) = delete;
    DelayQueue& operator=(const DelayQueue&) = delete;
    DelayQueue(DelayQueue&& o) noexcept
        : slots_(std::move(o.slots_)), free_(std::move(o.free_)), order_(std::move(o.order_)),
          seq_(o.seq_), timer_(std::exchange(o.timer_, nullptr)) {}
    ~DelayQueue() {
        if (timer_) braid_timer_free(timer_);
    }

    // Adds value, due at `when` (at once if it has passed).
    Key insert_at(T value, Instant when) {
        std::size_t i;
        if (!free_.empty()) {
            i = free_.back();
            free_.pop_back();
        } else {
            slots_.emplace_back();
            i = slots_.size() - 1;
        }
        Slot& s = slots_[i];
        s.value.emplace(std::move(value));
        s.when = when;
        s.seq = ++seq_;
        order_.emplace(when.nanos(), s.seq, i);
        return Key{i, s.generation};
    }
    // Adds value, due after `delay` (a negative delay: at once).
    template <class R, class P>
    Key insert(T value, std::chrono::duration<R, P> delay) {
        return insert_at(std::move(value), after(delay));
    }

    // Takes the entry out before it expires; std::nullopt if key names no
    // entry (expired, removed, or never this queue's).
    std::optional<Expired> try_remove(const Key& key) {
        Slot* s = find(key);
        if (!s) return std::nullopt;
        return take(key.index);
    }
    // The same, throwing braid::Error (BRAID_EINVAL) for a key that names no
    // entry (Tokio panics).
    Expired remove(const Key& key) {
        auto e = try_remove(key);
        if (!e) throw Error(BRAID_EINVAL, "DelayQueue::remove: no such key");
        return std::move(*e);
    }

    // Moves the entry's deadline; throws braid::Error (BRAID_EINVAL) for a
    // key that names no entry.
    void reset_at(const Key& key, Instant when) {
        Slot* s = find(key);
        if (!s) throw Error(BRAID_EINVAL, "DelayQueue::reset: no such key");
        order_.erase(std::make_tuple(s->when.nanos(), s->seq, key.index));
        s->when = when;
        s->seq = ++seq_;
        order_.emplace(when.nanos(), s->seq, key.index);
    }
    template <class R, class P>
    void reset(const Key& key, std::chrono::duration<R, P> delay) {
        reset_at(key, after(delay));
    }

    // The entry's deadline, std::nullopt if key names no entry.
    std::optional<Instant> deadline(const Key& key) const {
        const Slot* s = find(key);
        if (!s) return std::nullopt;
        return s->when;
    }
    // The key of the entry that expires next (std::nullopt when empty).
    std::optional<Key> peek() const {
        if (order_.empty()) return std::nullopt;
        std::size_t i = std::get<2>(*order_.begin());
        return Key{i, slots_[i].generation};
    }

    std::size_t len() const noexcept { return order_.size(); }
    bool is_empty() const noexcept { return order_.empty(); }
    // Entries it can hold without allocating.
    std::size_t capacity() const noexcept { return slots_.capacity(); }
    void reserve(std::size_t n) {
        slots_.reserve(n);
        free_.reserve(n);
    }
    // Drops every entry (their keys become stale).
    void clear() {
        for (std::size_t i = 0; i < slots_.size(); ++i)
            if (slots_[i].value) release_slot(i);
        order_.clear();
    }

    // The entry due now, if one is (Tokio's poll_expired without waiting).
    std::optional<Expired> try_next() {
        if (!due_now()) return std::nullopt;
        return take(std::get<2>(*order_.begin()));
    }

    // co_await q.next(): the next entry once its deadline has passed, or
    // std::nullopt at once when the queue is empty (Tokio's stream yields
    // None then; a later insert makes next() wait again).  It may be kept
    // across the selects of a loop: each poll looks at the queue as it is.
    class [[nodiscard]] Next : public detail::LeafAwaiter<Next> {
    public:
        explicit Next(DelayQueue* q) : q_(q) {}
        Next(Next&& o) noexcept : q_(o.q_) {}
        ~Next() { unregister(); }
        bool ready_now() const { return q_->order_.empty() || q_->due_now(); }
        int poll(braid_wake_fn w, void* d) {
            for (;;) {
                if (q_->order_.empty() || q_->due_now()) return 0;
                int rc = q_->poll_timer(w, d);
                if (rc != 0) return rc;  // BRAID_PENDING, or an error
                // The timer fired: the first entry is due (or was reset later).
            }
        }
        void unregister() noexcept {
            if (q_->timer_) braid_timer_poll_elapsed(q_->timer_, nullptr, nullptr);
        }
        std::optional<Expired> finish(int st) {
            if (st < 0) throw Error(st, "DelayQueue::next");
            if (q_->order_.empty()) return std::nullopt;
            return q_->take(std::get<2>(*q_->order_.begin()));
        }

    private:
        DelayQueue* q_;
    };
    Next next() { return Next(this); }

private:
    struct Slot {
        std::optional<T> value;
        Instant when;
        uint64_t seq = 0;
        uint64_t generation = 0;
    };

    template <class R, class P>
    static Instant after(std::chrono::duration<R, P> delay) {
        if (delay < delay.zero()) return Instant::now();
        return Instant::now() + delay;
    }
    Slot* find(const Key& key) {
        if (key.index >= slots_.size()) return nullptr;
        Slot& s = slots_[key.index];
        return s.value && s.generation == key.generation ? &s : nullptr;
    }
    const Slot* find(const Key& key) const { return const_cast<DelayQueue*>(this)->find(key); }
    bool due_now() const {
        return !order_.empty() && std::get<0>(*order_.begin()) <= Instant::now().nanos();
    }
    Expired take(std::size_t i) {
        Slot& s = slots_[i];
        order_.erase(std::make_tuple(s.when.nanos(), s.seq, i));
        Expired e{std::move(*s.value), Key{i, s.generation}, s.when};
        release_slot(i);
        return e;
    }
    void release_slot(std::size_t i) {
        Slot& s = slots_[i];
        s.value.reset();
        ++s.generation;  // the key goes stale
        free_.push_back(i);
    }
    // The queue's timer, set to the first deadline, polled with the waker.
    int poll_timer(braid_wake_fn w, void* d) {
        int64_t first = std::get<0>(*order_.begin());
        if (!timer_) {
            detail::check(braid_timer_new(&timer_, nullptr, first), "DelayQueue (not on a runtime thread?)");
        } else if (braid_timer_deadline(timer_) != first) {
            braid_timer_reset(timer_, first);
        }
        return braid_timer_poll_elapsed(timer_, w, d);
    }

    std::vector<Slot> slots_;
    std::vector<std::size_t> free_;
    std::set<std::tuple<int64_t, uint64_t, std::size_t>> order_;  // (deadline, insertion, slot)
    uint64_t seq_ = 0;
    braid_timer* timer_ = nullptr;
};

}  // namespace braid
