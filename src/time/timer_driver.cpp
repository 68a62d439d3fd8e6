#include "time/timer_driver.hpp"

#include <braid/error.h>

#include "task/coop.hpp"

namespace braid::detail {

void TimerDriver::sift_up(std::size_t i) {
    TimerEntry* e = heap_[i];
    while (i > 0) {
        std::size_t p = (i - 1) / 2;
        if (!less(e, heap_[p])) break;
        heap_[i] = heap_[p];
        heap_[i]->heap_index = i;
        i = p;
    }
    heap_[i] = e;
    e->heap_index = i;
}

void TimerDriver::sift_down(std::size_t i) {
    TimerEntry* e = heap_[i];
    std::size_t n = heap_.size();
    for (;;) {
        std::size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && less(heap_[c + 1], heap_[c])) ++c;
        if (!less(heap_[c], e)) break;
        heap_[i] = heap_[c];
        heap_[i]->heap_index = i;
        i = c;
    }
    heap_[i] = e;
    e->heap_index = i;
}

void TimerDriver::heap_push(TimerEntry* e) {
    e->seq = next_seq_++;
    heap_.push_back(e);
    sift_up(heap_.size() - 1);
}

void TimerDriver::heap_erase(TimerEntry* e) {
    std::size_t i = e->heap_index;
    e->heap_index = TimerEntry::kNotQueued;
    TimerEntry* last = heap_.back();
    heap_.pop_back();
    if (last == e) return;
    heap_[i] = last;
    last->heap_index = i;
    if (i > 0 && less(last, heap_[(i - 1) / 2])) sift_up(i);
    else sift_down(i);
}

bool TimerDriver::insert_locked(TimerEntry* e) {
    heap_push(e);
    if (e->deadline < armed_ && e->deadline != kFarFuture) {
        armed_ = e->deadline;
        return true;
    }
    return false;
}

// Queues a call of e's waker in the firing batch (e is off the heap).
void TimerDriver::batch_locked(TimerEntry* e) {
    if (!e->wake) return;
    if (e->fire_index != TimerEntry::kNotQueued) {  // already waiting for its call: the newest waker
        batch_[e->fire_index].wake = e->wake;
        batch_[e->fire_index].data = e->wake_data;
        return;
    }
    e->fire_index = batch_.size();
    batch_.push_back({e, e->wake, e->wake_data});
}

void TimerDriver::drop_call_locked(TimerEntry* e) {
    if (e->fire_index == TimerEntry::kNotQueued) return;
    batch_[e->fire_index].e = nullptr;
    e->fire_index = TimerEntry::kNotQueued;
}

void TimerDriver::unregister_locked(std::unique_lock<std::mutex>& lk, TimerEntry* e) {
    for (;;) {
        if (e->heap_index != TimerEntry::kNotQueued) heap_erase(e);
        drop_call_locked(e);
        e->wake = nullptr;
        // A call in progress on another thread: wait for it to return.  On
        // the firing thread this is that very waker (or code it called):
        // waiting would never end, and the firing no longer touches e.
        if (running_ != e || firer_ == std::this_thread::get_id()) return;
        ++waiters_;
        idle_.wait(lk);
        --waiters_;
    }
}

void TimerDriver::run_batch(std::unique_lock<std::mutex>& lk) {
    firing_ = true;
    firer_ = std::this_thread::get_id();
    // batch_ may grow while a waker runs (entries made due from inside it).
    for (std::size_t i = 0; i < batch_.size(); ++i) {
        Call c = batch_[i];
        if (!c.e) continue;  // removed or reset before its turn
        c.e->fire_index = TimerEntry::kNotQueued;
        running_ = c.e;
        lk.unlock();
        c.wake(c.data);  // may free c.e: it is not touched after this
        lk.lock();
        running_ = nullptr;
        if (waiters_) idle_.notify_all();
    }
    batch_.clear();
    firing_ = false;
    firer_ = std::thread::id();
    if (waiters_) idle_.notify_all();
}

int TimerDriver::poll(TimerEntry* e, braid_wake_fn wake, void* data, bool budgeted) {
    // The cooperative budget may call `wake` (to yield): never under the lock.
    auto proceed = [&] { return !budgeted || coop::proceed(wake, data); };
    if (wake && e->fired.load(std::memory_order_acquire)) return proceed() ? 0 : BRAID_PENDING;
    bool rearm = false;
    {
        std::unique_lock<std::mutex> lk(mu_);
        if (!wake) {  // unregister only
            unregister_locked(lk, e);
            return (e->fired.load(std::memory_order_relaxed) || e->deadline <= clock_.now()) ? 0 : BRAID_PENDING;
        }
        if (!e->fired.load(std::memory_order_relaxed)) {
            if (closed_) return BRAID_ECANCELED;
            if (e->deadline > clock_.now()) {
                e->wake = wake;
                e->wake_data = data;
                if (e->heap_index == TimerEntry::kNotQueued) rearm = insert_locked(e);
                lk.unlock();
                if (rearm) rearm_(ctx_);
                return BRAID_PENDING;
            }
            if (e->heap_index != TimerEntry::kNotQueued) heap_erase(e);
            e->fired.store(true, std::memory_order_release);
        }
    }
    // Due: completes unless the budget is spent (then a later poll sees `fired`).
    return proceed() ? 0 : BRAID_PENDING;
}

void TimerDriver::reset(TimerEntry* e, int64_t deadline) {
    bool rearm = false;
    {
        std::lock_guard<std::mutex> g(mu_);
        // A waker call already waiting in the batch stays: the firing
        // consumed the registration, as if the call had been made.
        bool queued = e->heap_index != TimerEntry::kNotQueued;
        if (queued) heap_erase(e);
        e->deadline = deadline;
        e->fired.store(false, std::memory_order_relaxed);
        if (queued && !closed_) rearm = insert_locked(e);
    }
    if (rearm) rearm_(ctx_);
}

void TimerDriver::remove(TimerEntry* e) {
    std::unique_lock<std::mutex> lk(mu_);
    unregister_locked(lk, e);
}

void TimerDriver::rearm_taken(TimerEntry* e, int64_t deadline) {
    std::unique_lock<std::mutex> lk(mu_);
    unregister_locked(lk, e);  // off the heap too: the next poll registers it anew
    e->deadline = deadline;
    e->fired.store(false, std::memory_order_relaxed);
}

int64_t TimerDriver::fire_due(int64_t now) {
    std::unique_lock<std::mutex> lk(mu_);
    bool nested = firing_ && firer_ == std::this_thread::get_id();
    if (!nested) {
        ++waiters_;
        idle_.wait(lk, [&] { return !firing_; });
        --waiters_;
    }
    while (!heap_.empty() && heap_[0]->deadline <= now) {
        TimerEntry* e = heap_[0];
        heap_erase(e);
        e->fired.store(true, std::memory_order_release);
        batch_locked(e);
    }
    armed_ = earliest_locked();
    int64_t next = armed_;
    if (!nested && !batch_.empty()) {
        run_batch(lk);
        next = earliest_locked();
    }
    return next;
}

int64_t TimerDriver::take_next_deadline() {
    std::lock_guard<std::mutex> g(mu_);
    armed_ = earliest_locked();
    return armed_;
}

int64_t TimerDriver::next_deadline() {
    std::lock_guard<std::mutex> g(mu_);
    return earliest_locked();
}

std::size_t TimerDriver::pending() {
    std::lock_guard<std::mutex> g(mu_);
    return heap_.size();
}

void TimerDriver::close() {
    std::unique_lock<std::mutex> lk(mu_);
    bool nested = firing_ && firer_ == std::this_thread::get_id();
    if (!nested) {
        ++waiters_;
        idle_.wait(lk, [&] { return !firing_; });
        --waiters_;
    }
    closed_ = true;
    while (!heap_.empty()) {
        TimerEntry* e = heap_[0];
        heap_erase(e);
        batch_locked(e);
    }
    armed_ = INT64_MAX;
    if (!nested && !batch_.empty()) run_batch(lk);
}

}  // namespace braid::detail
