#include "task/completion_queue.hpp"

#include <braid/error.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <new>
#include <utility>

#include "task/task.hpp"

namespace braid::detail {

namespace {

// The calling thread's current queue; its reference goes when the thread ends.
struct CurrentQueue {
    CompletionQueue* q = nullptr;
    ~CurrentQueue() { CompletionQueue::set_current(nullptr); }
};
thread_local CurrentQueue tl_current;

}  // namespace

int CompletionQueue::create(CompletionQueue** out) {
    int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) return errno == ENOMEM ? BRAID_ENOMEM : BRAID_EMFILE;
    auto* q = new (std::nothrow) CompletionQueue(fd);
    if (!q) {
        ::close(fd);
        return BRAID_ENOMEM;
    }
    *out = q;
    return BRAID_OK;
}

CompletionQueue::~CompletionQueue() {
    for (Entry& e : q_) drop(e);
    if (fd_ >= 0) ::close(fd_);
}

void CompletionQueue::unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

void CompletionQueue::drop(Entry& e) {
    e.fn = nullptr;
    if (e.keep) e.keep->unref();
    e.keep = nullptr;
}

void CompletionQueue::signal() {
    uint64_t one = 1;
    // EAGAIN: the counter is full, so the fd is readable already.
    [[maybe_unused]] ssize_t r = ::write(fd_, &one, sizeof one);
}

void CompletionQueue::drain_fd() {
    uint64_t n;
    [[maybe_unused]] ssize_t r = ::read(fd_, &n, sizeof n);
}

void CompletionQueue::post(std::function<void()> fn) {
    Entry e{std::move(fn), current_task()};
    if (e.keep) e.keep->ref();
    {
        std::lock_guard<std::mutex> g(mu_);
        if (!closed_) {
            bool was_empty = q_.empty();
            q_.push_back(std::move(e));
            // Under the lock: close() cannot close the fd in between.
            if (was_empty) signal();
            return;
        }
    }
    drop(e);
}

int CompletionQueue::run(int max) {
    std::deque<Entry> batch;
    {
        std::lock_guard<std::mutex> g(mu_);
        if (closed_) return 0;
        drain_fd();
        std::size_t n = (max <= 0 || std::size_t(max) >= q_.size()) ? q_.size() : std::size_t(max);
        for (std::size_t i = 0; i < n; ++i) {
            batch.push_back(std::move(q_.front()));
            q_.pop_front();
        }
        if (!q_.empty()) signal();  // the rest keeps the fd readable
    }
    ref();  // a callback may free the queue
    int ran = 0;
    bool threw = false;
    for (Entry& e : batch) {
        try {
            e.fn();
        } catch (...) {
            threw = true;
        }
        drop(e);
        ++ran;
    }
    unref();
    return threw ? BRAID_EPANIC : ran;
}

std::size_t CompletionQueue::pending() const {
    std::lock_guard<std::mutex> g(mu_);
    return q_.size();
}

int CompletionQueue::close() {
    if (tl_current.q == this) set_current(nullptr);
    {
        std::lock_guard<std::mutex> g(mu_);
        if (closed_) return BRAID_EINVAL;
        if (!q_.empty() || bound_.load(std::memory_order_acquire) > 0) return BRAID_EBUSY;
        closed_ = true;
        ::close(fd_);
        fd_ = -1;
    }
    unref();
    return BRAID_OK;
}

CompletionQueue* CompletionQueue::current() { return tl_current.q; }

void CompletionQueue::set_current(CompletionQueue* q) {
    CompletionQueue* old = std::exchange(tl_current.q, q);
    if (q) {
        q->ref();
        q->bound_.fetch_add(1, std::memory_order_acq_rel);
    }
    if (old) {
        old->bound_.fetch_sub(1, std::memory_order_acq_rel);
        old->unref();
    }
}

}  // namespace braid::detail
