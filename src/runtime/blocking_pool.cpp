#include "runtime/blocking_pool.hpp"

#include <braid/error.h>

#include <algorithm>
#include <chrono>

#include "runtime/core.hpp"
#include "util/backoff.hpp"

namespace braid::detail {

namespace {

// The slot of the blocking thread running on this thread (initial-exec
// TLS: read as every job completes).
constinit thread_local void* tl_slot_ptr [[gnu::tls_model("initial-exec")]] = nullptr;

// Threads that spin for a job after finishing one (the others park at once),
// and for how long: a burst of short jobs then finds a thread awake, and the
// pushes in it cost no system call.
constexpr int kMaxSpinners = 1;
constexpr auto kSpinTime = std::chrono::microseconds(50);

}  // namespace

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
    // A thread can end before its starter has filed it (the starter creates
    // it outside the lock): such an id waits here for the next reap.
    std::size_t kept = 0;
    for (uint64_t id : exited_) {
        auto it = threads_.find(id);
        if (it != threads_.end()) {
            out.push_back(std::move(it->second));
            threads_.erase(it);
        } else {
            exited_[kept++] = id;
        }
    }
    exited_.resize(kept);
}

bool BlockingPool::push(Task* t) {
    running_.fetch_add(1, std::memory_order_seq_cst);
    Task* h = inbox_.load(std::memory_order_relaxed);
    do {
        if (h == closed()) {
            running_.fetch_sub(1, std::memory_order_acq_rel);
            return false;
        }
        t->queue_next = h;
    } while (!inbox_.compare_exchange_weak(h, t, std::memory_order_release, std::memory_order_relaxed));
    pending_.fetch_add(1, std::memory_order_seq_cst);
    // A searching thread will take it (it looks at pending_ again after it
    // stops searching, so the job is not missed).
    if (searching_.load(std::memory_order_seq_cst) > 0) return true;

    std::unique_lock<std::mutex> lk(mu_);
    if (searching_.load(std::memory_order_seq_cst) > 0 || pending_.load(std::memory_order_seq_cst) <= 0 ||
        shutdown_.load(std::memory_order_acquire))
        return true;  // taken care of (a shutdown cancels what is queued)
    if (wake_one(lk) == Woke::Yes || num_threads_ > 0) return true;  // the running threads take it in time

    // No thread runs and none could be started: the queued jobs would never
    // run.  This one is refused (the caller completes it); any other one
    // (pushed meanwhile by another thread) fails with BRAID_ETHREAD.
    int n = 0;
    Task* all = take_all_locked(false, n);
    lk.unlock();
    bool refused = false;
    while (Task* j = all) {
        all = j->queue_next;
        j->queue_next = nullptr;
        if (j == t) refused = true;
        else j->cancel_and_complete(BRAID_ETHREAD);
        running_.fetch_sub(1, std::memory_order_acq_rel);
    }
    return !refused;
}

BlockingPool::Woke BlockingPool::wake_one(std::unique_lock<std::mutex>& lk) {
    if (parked_ > notified_) {
        ++notified_;
        searching_.fetch_add(1, std::memory_order_seq_cst);  // on its behalf: no second wake meanwhile
        cv_.notify_one();
        return Woke::Yes;
    }
    if (num_threads_ >= max_threads_) return Woke::NoThread;
    uint64_t id = next_id_++;
    ++num_threads_;
    searching_.fetch_add(1, std::memory_order_seq_cst);
    core_.ref();  // a blocking thread keeps the core alive until it exits
    lk.unlock();  // creating a thread takes a while: the others go on meanwhile
    std::thread th;
    try {
        th = std::thread([this, id] { thread_main(id); });
    } catch (...) {
    }
    lk.lock();
    if (th.joinable()) {
        threads_.emplace(id, std::move(th));
        return Woke::Yes;
    }
    --num_threads_;
    searching_.fetch_sub(1, std::memory_order_seq_cst);
    core_.unref();
    return Woke::NoThread;
}

Task* BlockingPool::take_locked() {
    if (!head_) {
        Task* h = inbox_.load(std::memory_order_acquire);
        while (h && h != closed() &&
               !inbox_.compare_exchange_weak(h, nullptr, std::memory_order_acquire, std::memory_order_acquire)) {
        }
        if (!h || h == closed()) return nullptr;
        // The inbox is newest first: reversed, the jobs run in push order.
        Task* fifo = nullptr;
        while (h) {
            Task* n = h->queue_next;
            h->queue_next = fifo;
            fifo = h;
            h = n;
        }
        head_ = fifo;
    }
    Task* t = head_;
    head_ = t->queue_next;
    t->queue_next = nullptr;
    pending_.fetch_sub(1, std::memory_order_seq_cst);
    return t;
}

Task* BlockingPool::take_all_locked(bool close, int& n) {
    Task* h = inbox_.load(std::memory_order_acquire);
    Task* want = close ? closed() : nullptr;
    while (h != closed() && !inbox_.compare_exchange_weak(h, want, std::memory_order_acquire, std::memory_order_acquire)) {
    }
    Task* all = h == closed() ? nullptr : h;
    n = 0;
    for (Task* j = all; j; j = j->queue_next) ++n;
    while (Task* j = head_) {
        head_ = j->queue_next;
        j->queue_next = all;
        all = j;
        ++n;
    }
    pending_.fetch_sub(n, std::memory_order_seq_cst);
    return all;
}

void BlockingPool::exit_locked(uint64_t id, Slot& slot) {
    if (slot.prev) slot.prev->next = slot.next;
    else slots_ = slot.next;
    if (slot.next) slot.next->prev = slot.prev;
    --num_threads_;
    exited_.push_back(id);
    exit_cv_.notify_all();
}

Task* BlockingPool::next_job(uint64_t id, Slot& slot) {
    // Entered searching (counted in searching_ by whoever made it search).
    bool spinner = false;
    auto spin_until = std::chrono::steady_clock::time_point();
    for (;;) {
        if (pending_.load(std::memory_order_seq_cst) > 0) {
            std::unique_lock<std::mutex> lk(mu_);
            if (Task* t = take_locked()) {
                slot.job.store(t, std::memory_order_relaxed);
                if (spinner) spinning_.fetch_sub(1, std::memory_order_relaxed);
                searching_.fetch_sub(1, std::memory_order_seq_cst);
                // More are queued and no other thread looks for them: hand
                // them on before this job runs (it may block for long).
                if (pending_.load(std::memory_order_seq_cst) > 0 && searching_.load(std::memory_order_seq_cst) == 0 &&
                    !shutdown_.load(std::memory_order_acquire))
                    wake_one(lk);
                return t;
            }
        }
        if (shutdown_.load(std::memory_order_acquire)) {
            if (spinner) spinning_.fetch_sub(1, std::memory_order_relaxed);
            searching_.fetch_sub(1, std::memory_order_seq_cst);
            std::lock_guard<std::mutex> g(mu_);
            exit_locked(id, slot);
            return nullptr;
        }
        if (!spinner && spinning_.fetch_add(1, std::memory_order_relaxed) < kMaxSpinners) {
            spinner = true;
            spin_until = std::chrono::steady_clock::now() + kSpinTime;
        } else if (!spinner) {
            spinning_.fetch_sub(1, std::memory_order_relaxed);
        }
        if (spinner) {
            for (int i = 0; i < 32 && pending_.load(std::memory_order_relaxed) <= 0; ++i) cpu_relax();
            if (pending_.load(std::memory_order_relaxed) > 0) continue;
            std::this_thread::yield();  // a thread with work goes first (the CPUs may be all taken)
            if (std::chrono::steady_clock::now() < spin_until) continue;
            spinning_.fetch_sub(1, std::memory_order_relaxed);
            spinner = false;
        }
        // Park: stop searching, then look once more (a push that saw this
        // thread searching did not wake anyone).
        searching_.fetch_sub(1, std::memory_order_seq_cst);
        if (pending_.load(std::memory_order_seq_cst) > 0) {
            searching_.fetch_add(1, std::memory_order_seq_cst);
            continue;
        }
        std::unique_lock<std::mutex> lk(mu_);
        if (pending_.load(std::memory_order_seq_cst) > 0) {  // pushed meanwhile: no need for a wake
            searching_.fetch_add(1, std::memory_order_seq_cst);
            continue;
        }
        ++parked_;
        cv_.wait_for(lk, std::chrono::milliseconds(keep_alive_ms_),
                     [&] { return notified_ > 0 || shutdown_.load(std::memory_order_acquire); });
        --parked_;
        if (notified_ > 0) {
            --notified_;  // searching again: the waker counted it
            continue;
        }
        exit_locked(id, slot);  // keep-alive ran out, or shutdown
        return nullptr;
    }
}

void BlockingPool::job_ending(Task* t) {
    auto* slot = static_cast<Slot*>(tl_slot_ptr);
    if (!slot || slot->job.load(std::memory_order_relaxed) != t) return;  // not running here: a queued job cancelled
    // Against a dump that reads the slots (reference_jobs): either it sees
    // the slot empty, or this thread sees it dumping and waits for the lock
    // it holds until it has referenced the job (both sides seq_cst: a store,
    // then a load of the other's flag).
    slot->job.store(nullptr, std::memory_order_seq_cst);
    if (dumping_.load(std::memory_order_seq_cst)) std::lock_guard<std::mutex> wait(mu_);
}

void BlockingPool::reference_jobs(std::vector<Task*>& out) {
    std::lock_guard<std::mutex> g(mu_);
    dumping_.store(true, std::memory_order_seq_cst);
    struct Done {
        std::atomic<bool>& f;
        ~Done() { f.store(false, std::memory_order_release); }
    } done{dumping_};
    // Under mu_ no job is taken from the queues (nor cancelled there), so
    // a queued one is alive; a running one is held by its thread's slot.
    auto take = [&](Task* t) {
        if (t->is_complete()) return;  // ran, its slot not emptied yet
        out.push_back(t);  // may throw: before the reference
        t->ref();
    };
    for (Task* t = head_; t; t = t->queue_next) take(t);
    // Pushes only prepend to the inbox: the links below its head hold still.
    Task* in = inbox_.load(std::memory_order_acquire);
    for (Task* t = in == closed() ? nullptr : in; t; t = t->queue_next) take(t);
    for (Slot* s = slots_; s; s = s->next)
        if (Task* t = s->job.load(std::memory_order_seq_cst)) take(t);
}

bool BlockingPool::on_pool_thread() noexcept { return tl_slot_ptr != nullptr; }

void BlockingPool::thread_main(uint64_t id) {
    core_.thread_started("blocking");
    Slot slot;
    {
        std::lock_guard<std::mutex> g(mu_);
        slot.next = slots_;
        if (slots_) slots_->prev = &slot;
        slots_ = &slot;
    }
    tl_slot_ptr = &slot;
    while (Task* t = next_job(id, slot)) {
        t->run();
        if (running_.fetch_sub(1, std::memory_order_acq_rel) == 1 && core_.clock().paused())
            core_.scheduler().notify_parked();  // paused clock may advance now
        searching_.fetch_add(1, std::memory_order_seq_cst);
    }
    tl_slot_ptr = nullptr;
    core_.thread_stopping();
    core_.unref();
}

BlockingPool::Stats BlockingPool::stats() {
    std::lock_guard<std::mutex> g(mu_);
    int queued = std::max(pending_.load(std::memory_order_acquire), 0);
    int running = std::max(running_.load(std::memory_order_acquire) - queued, 0);
    Stats s;
    s.threads = uint64_t(num_threads_);
    s.idle = uint64_t(std::max(num_threads_ - running, 0));
    s.queued = uint64_t(queued);
    return s;
}

bool BlockingPool::shutdown(int64_t timeout_ms) {
    Task* cancelled;
    std::vector<std::thread> done;
    bool all_exited;
    {
        std::unique_lock<std::mutex> lk(mu_);
        shutdown_.store(true, std::memory_order_seq_cst);
        int n = 0;
        cancelled = take_all_locked(true, n);
        running_.fetch_sub(n, std::memory_order_acq_rel);
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
    while (Task* t = cancelled) {
        cancelled = t->queue_next;
        t->queue_next = nullptr;
        t->cancel_and_complete(BRAID_ECANCELED);
    }
    for (auto& th : done) th.join();
    return all_exited;
}

}  // namespace braid::detail
