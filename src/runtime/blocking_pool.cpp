#include "runtime/blocking_pool.hpp"

#include <braid/error.h>

#include <chrono>

#include "runtime/core.hpp"

namespace braid::detail {

BlockingPool::BlockingPool(Core& core, int max_threads, int64_t keep_alive_ms)
    : core_(core), max_threads_(max_threads), keep_alive_ms_(keep_alive_ms) {}

BlockingPool::~BlockingPool() {
    // The core goes away when its last reference does; that can be the last
    // blocking thread itself (after a timed-out shutdown), which cannot join
    // itself.
    std::vector<std::thread> done;
    {
        std::lock_guard<std::mutex> g(mu_);
        reap_locked(done);
        for (auto& [id, th] : threads_) done.push_back(std::move(th));
        threads_.clear();
    }
    for (auto& th : done) {
        if (!th.joinable()) continue;
        if (th.get_id() == std::this_thread::get_id()) th.detach();
        else th.join();
    }
}

void BlockingPool::reap_locked(std::vector<std::thread>& out) {
    for (uint64_t id : exited_) {
        auto it = threads_.find(id);
        if (it != threads_.end()) {
            out.push_back(std::move(it->second));
            threads_.erase(it);
        }
    }
    exited_.clear();
}

bool BlockingPool::push(Task* t) {
    std::vector<std::thread> done;
    {
        std::lock_guard<std::mutex> g(mu_);
        if (shutdown_) return false;
        queue_.push_back(t);
        ++running_;
        if (num_idle_ > num_notified_) {
            ++num_notified_;
            cv_.notify_one();
        } else if (num_threads_ < max_threads_) {
            uint64_t id = next_id_++;
            try {
                core_.ref();  // a blocking thread keeps the core alive until it exits
                threads_.emplace(id, std::thread([this, id] { thread_main(id); }));
                ++num_threads_;
            } catch (...) {
                core_.unref();
                if (num_threads_ == 0) {
                    queue_.pop_back();
                    --running_;
                    return false;
                }
            }
        }
        reap_locked(done);
    }
    for (auto& th : done) th.join();
    return true;
}

int BlockingPool::busy() {
    std::lock_guard<std::mutex> g(mu_);
    return running_;
}

void BlockingPool::thread_main(uint64_t id) {
    core_.thread_started("blocking");
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
        if (!queue_.empty()) {
            Task* t = queue_.front();
            queue_.pop_front();
            lk.unlock();
            t->run();
            lk.lock();
            --running_;
            if (running_ == 0 && core_.clock().paused()) {
                lk.unlock();
                core_.scheduler().notify_parked();  // paused clock may advance now
                lk.lock();
            }
            continue;
        }
        if (shutdown_) break;
        ++num_idle_;
        bool timed_out = !cv_.wait_for(lk, std::chrono::milliseconds(keep_alive_ms_), [&] {
            return num_notified_ > 0 || shutdown_;
        });
        --num_idle_;
        if (num_notified_ > 0) --num_notified_;
        if (timed_out && queue_.empty()) break;
    }
    --num_threads_;
    exited_.push_back(id);
    exit_cv_.notify_all();
    lk.unlock();
    core_.thread_stopping();
    core_.unref();
}

bool BlockingPool::shutdown(int64_t timeout_ms) {
    std::deque<Task*> cancelled;
    std::vector<std::thread> done;
    bool all_exited;
    {
        std::unique_lock<std::mutex> lk(mu_);
        shutdown_ = true;
        cancelled.swap(queue_);
        running_ -= int(cancelled.size());
        cv_.notify_all();
        auto exited = [&] { return num_threads_ == 0; };
        if (timeout_ms < 0) {
            exit_cv_.wait(lk, exited);
            all_exited = true;
        } else {
            all_exited = exit_cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms), exited);
        }
        reap_locked(done);
    }
    for (Task* t : cancelled) t->cancel_and_complete(BRAID_ECANCELED);
    for (auto& th : done) th.join();
    return all_exited;
}

}  // namespace braid::detail
