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
    if (e->deadline < armed_) {
        armed_ = e->deadline;
        return true;
    }
    return false;
}

int TimerDriver::poll(TimerEntry* e, braid_wake_fn wake, void* data, bool budgeted) {
    auto proceed = [&] { return !budgeted || coop::proceed(wake, data); };
    if (wake && e->fired.load(std::memory_order_acquire)) return proceed() ? 0 : BRAID_PENDING;
    bool rearm = false;
    {
        std::lock_guard<std::mutex> g(mu_);
        if (!wake) {  // unregister only
            // Nobody waits on it now: it leaves the heap (so it arms no
            // reactor timer and holds no paused clock); it keeps its deadline,
            // and the next poll queues it again or finds it due.
            if (e->heap_index != TimerEntry::kNotQueued) heap_erase(e);
            e->wake = nullptr;
            return (e->fired.load(std::memory_order_relaxed) || e->deadline <= clock_.now()) ? 0 : BRAID_PENDING;
        }
        if (e->fired.load(std::memory_order_relaxed)) return proceed() ? 0 : BRAID_PENDING;
        if (closed_) return BRAID_ECANCELED;
        if (e->deadline <= clock_.now()) {
            if (!proceed()) return BRAID_PENDING;
            if (e->heap_index != TimerEntry::kNotQueued) heap_erase(e);
            e->fired.store(true, std::memory_order_release);
            return 0;
        }
        e->wake = wake;
        e->wake_data = data;
        if (e->heap_index == TimerEntry::kNotQueued) rearm = insert_locked(e);
    }
    if (rearm) rearm_(ctx_);
    return BRAID_PENDING;
}

void TimerDriver::reset(TimerEntry* e, int64_t deadline) {
    bool rearm = false;
    {
        std::lock_guard<std::mutex> g(mu_);
        bool queued = e->heap_index != TimerEntry::kNotQueued;
        if (queued) heap_erase(e);
        e->deadline = deadline;
        e->fired.store(false, std::memory_order_relaxed);
        if (queued && !closed_) rearm = insert_locked(e);
    }
    if (rearm) rearm_(ctx_);
}

void TimerDriver::remove(TimerEntry* e) {
    std::lock_guard<std::mutex> g(mu_);
    if (e->heap_index != TimerEntry::kNotQueued) heap_erase(e);
    e->wake = nullptr;
}

int64_t TimerDriver::fire_due(int64_t now) {
    std::lock_guard<std::mutex> g(mu_);
    while (!heap_.empty() && heap_[0]->deadline <= now) {
        TimerEntry* e = heap_[0];
        heap_erase(e);
        e->fired.store(true, std::memory_order_release);
        if (e->wake) e->wake(e->wake_data);
    }
    armed_ = heap_.empty() ? INT64_MAX : heap_[0]->deadline;
    return armed_;
}

int64_t TimerDriver::take_next_deadline() {
    std::lock_guard<std::mutex> g(mu_);
    armed_ = heap_.empty() ? INT64_MAX : heap_[0]->deadline;
    return armed_;
}

int64_t TimerDriver::next_deadline() {
    std::lock_guard<std::mutex> g(mu_);
    return heap_.empty() ? INT64_MAX : heap_[0]->deadline;
}

std::size_t TimerDriver::pending() {
    std::lock_guard<std::mutex> g(mu_);
    return heap_.size();
}

void TimerDriver::close() {
    std::lock_guard<std::mutex> g(mu_);
    closed_ = true;
    while (!heap_.empty()) {
        TimerEntry* e = heap_[0];
        heap_erase(e);
        if (e->wake) e->wake(e->wake_data);
    }
}

}  // namespace braid::detail
