// The permit contract of braid's semaphore (braid/semaphore.h), which
// mutexes, read-write locks and the room of bounded mpsc channels share, as
// a model the harnesses run next to the real thing:
//  - try_acquire(n) succeeds when n permits are free and nobody waits;
//  - waits are served in FIFO order; the first waiter is handed permits as
//    they are released, also when it needs more than are free (a partial
//    grant), and nobody behind it is served before it is complete;
//  - cancelling a wait gives back what it was granted (its partial grant,
//    or the whole of a grant it had not taken yet);
//  - a release is refused (nothing added) when the permits that exist - the
//    free ones, the first waiter's partial grant and the grants not yet
//    taken - would exceed the limit;
//  - close fails every waiting acquire (their partial grants come back) and
//    every later one.
#pragma once

#include <braid/error.h>

#include <cstdint>
#include <deque>
#include <map>

#include "fuzz_support.hpp"

namespace braid_fuzz {

class PermitModel {
public:
    PermitModel(uint64_t permits, uint64_t limit) : free_(permits), limit_(limit) {}

    uint64_t free() const { return free_; }
    bool closed() const { return closed_; }
    bool anyone_waits() const { return !queue_.empty(); }
    // Permits that exist outside the holders' hands.
    uint64_t known() const { return free_ + (queue_.empty() ? 0 : queue_.front().got) + granted_total(); }

    int try_acquire(uint64_t n) {
        if (closed_) return BRAID_ECLOSED;
        if (n == 0) return BRAID_OK;
        if (!queue_.empty() || free_ < n) return BRAID_EAGAIN;
        free_ -= n;
        return BRAID_OK;
    }
    // A first poll with a waker: BRAID_OK (taken), BRAID_ECLOSED, or
    // BRAID_PENDING (wait `id` queued).
    int poll_first(int id, uint64_t n) {
        int rc = try_acquire(n);
        if (rc != BRAID_EAGAIN) return rc;
        uint64_t give = queue_.empty() ? std::min(free_, n) : 0;
        free_ -= give;
        queue_.push_back(Wait{id, n, give});
        return BRAID_PENDING;
    }
    // A later poll of wait `id`: its result once it completed (it is then
    // gone), else BRAID_PENDING.
    int poll_again(int id) {
        auto it = done_.find(id);
        if (it == done_.end()) return BRAID_PENDING;
        int st = it->second.status;
        done_.erase(it);
        return st;
    }
    bool completed(int id) const { return done_.count(id) != 0; }
    bool waiting(int id) const { return completed(id) || find(id) != queue_.end(); }
    void cancel(int id) {
        auto q = find(id);
        if (q != queue_.end()) {
            uint64_t back = q->got;
            queue_.erase(q);
            serve(back);
            return;
        }
        auto it = done_.find(id);
        if (it == done_.end()) return;
        uint64_t back = it->second.status == BRAID_OK ? it->second.need : 0;
        done_.erase(it);
        serve(back);
    }
    // BRAID_OK or BRAID_ERANGE (nothing added).
    int release(uint64_t n) {
        if (n == 0) return BRAID_OK;
        uint64_t k = known();
        if (n > limit_ || k > limit_ - n) return BRAID_ERANGE;
        serve(n);
        return BRAID_OK;
    }
    void close() {
        closed_ = true;
        uint64_t back = 0;
        for (auto& w : queue_) {
            back += w.got;
            done_[w.id] = Done{w.need, BRAID_ECLOSED};
        }
        queue_.clear();
        serve(back);
    }

private:
    struct Wait {
        int id;
        uint64_t need, got;
    };
    struct Done {
        uint64_t need;
        int status;
    };
    std::deque<Wait>::const_iterator find(int id) const {
        for (auto it = queue_.begin(); it != queue_.end(); ++it)
            if (it->id == id) return it;
        return queue_.end();
    }
    std::deque<Wait>::iterator find(int id) {
        for (auto it = queue_.begin(); it != queue_.end(); ++it)
            if (it->id == id) return it;
        return queue_.end();
    }
    uint64_t granted_total() const {
        uint64_t t = 0;
        for (auto& [id, d] : done_)
            if (d.status == BRAID_OK) t += d.need;
        return t;
    }
    void serve(uint64_t extra) {
        while (!queue_.empty()) {
            Wait& h = queue_.front();
            uint64_t give = std::min(h.need - h.got, extra);
            h.got += give;
            extra -= give;
            if (h.got < h.need) return;
            done_[h.id] = Done{h.need, BRAID_OK};
            queue_.pop_front();
        }
        free_ += extra;
        FUZZ_CHECK(free_ <= limit_, "model: %llu free of %llu", (unsigned long long)free_, (unsigned long long)limit_);
    }

    uint64_t free_;
    uint64_t limit_;
    bool closed_ = false;
    std::deque<Wait> queue_;
    std::map<int, Done> done_;  // completed waits not polled yet
};

}  // namespace braid_fuzz
