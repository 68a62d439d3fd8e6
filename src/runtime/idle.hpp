// Which workers are parked and how many are searching for work.  At most
// half the workers search at once; a worker is woken only when nobody is
// searching already, so one burst of new tasks wakes one worker at a time.
#pragma once

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

#include "util/perturb.hpp"
#include "util/spin_lock.hpp"

namespace braid::detail {

class Idle {
public:
    explicit Idle(int workers, bool all_parked) : n_(workers) {
        if (all_parked) {
            for (int i = 0; i < workers; ++i) sleepers_.push_back(i);
            unparked_.store(0);
        } else {
            unparked_.store(workers);
        }
    }

    bool transition_to_searching() {
        int s = searching_.load(std::memory_order_acquire);
        if (2 * s >= n_) return false;
        searching_.fetch_add(1, std::memory_order_acq_rel);
        return true;
    }
    // Returns true when the caller was the last searcher (it then wakes
    // another worker if it found work, so searching goes on).
    bool transition_from_searching() { return searching_.fetch_sub(1, std::memory_order_acq_rel) == 1; }

    // Returns a worker index to unpark, or -1 (someone is already searching,
    // or everyone is awake).
    int worker_to_notify() {
        if (searching_.load(std::memory_order_acquire) != 0 ||
            unparked_.load(std::memory_order_acquire) >= n_)
            return -1;
        std::lock_guard<SpinLock> g(mu_);
        if (searching_.load(std::memory_order_relaxed) != 0 || sleepers_.empty()) return -1;
        searching_.fetch_add(1, std::memory_order_acq_rel);
        unparked_.fetch_add(1, std::memory_order_acq_rel);
        int w = sleepers_.back();
        sleepers_.pop_back();
        return w;
    }

    struct Parked {
        bool last_searcher;
        int still_unparked;
    };
    Parked transition_to_parked(int worker, bool searching) {
        std::lock_guard<SpinLock> g(mu_);
        int un = unparked_.fetch_sub(1, std::memory_order_acq_rel) - 1;
        bool last = searching && searching_.fetch_sub(1, std::memory_order_acq_rel) == 1;
        sleepers_.push_back(worker);
        return {last, un};
    }

    bool is_parked(int worker) {
        std::lock_guard<SpinLock> g(mu_);
        return std::find(sleepers_.begin(), sleepers_.end(), worker) != sleepers_.end();
    }

    // The worker left the sleeper list by itself (block_on returning, stop).
    // Returns true when it was listed.
    bool unpark_self(int worker) {
        std::lock_guard<SpinLock> g(mu_);
        auto it = std::find(sleepers_.begin(), sleepers_.end(), worker);
        if (it == sleepers_.end()) return false;
        sleepers_.erase(it);
        unparked_.fetch_add(1, std::memory_order_acq_rel);
        return true;
    }

    // Everyone is woken (shutdown).
    void clear() {
        std::lock_guard<SpinLock> g(mu_);
        unparked_.fetch_add(int(sleepers_.size()), std::memory_order_acq_rel);
        sleepers_.clear();
    }

    int unparked() const { return unparked_.load(std::memory_order_acquire); }

private:
    const int n_;
    perturb::Atomic<int> searching_{0};
    perturb::Atomic<int> unparked_{0};
    SpinLock mu_;  // held for a few instructions
    std::vector<int> sleepers_;
};

}  // namespace braid::detail
