#include "task/completion_queue.hpp"

#include <braid/error.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
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
// The queue whose posts from this thread stay quiet (CompletionQueue::Quiet).
thread_local CompletionQueue* tl_quiet = nullptr;

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
    for (Entry& e : taken_) drop(e);
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
    if (signalled_) return;
    signalled_ = true;
    uint64_t one = 1;
    // EAGAIN: the counter is full, so the fd is readable already.
    [[maybe_unused]] ssize_t r = ::write(fd_, &one, sizeof one);
}

void CompletionQueue::drain_fd() {
    if (!signalled_) return;
    signalled_ = false;
    uint64_t n;
    [[maybe_unused]] ssize_t r = ::read(fd_, &n, sizeof n);
}

CompletionQueue::Quiet::Quiet(CompletionQueue* q) : prev_(std::exchange(tl_quiet, q)) {}
CompletionQueue::Quiet::~Quiet() { tl_quiet = prev_; }

void CompletionQueue::push(Entry e) {
    e.keep = current_task();
    if (e.keep) e.keep->ref();
    {
        std::lock_guard<std::mutex> g(mu_);
        if (!closed_) {
            bool was_empty = q_.empty();
            q_.push_back(std::move(e));
            // Under the lock: close() cannot close the fd in between.
            if (was_empty && tl_quiet != this) signal();
            return;
        }
    }
    drop(e);
}

void CompletionQueue::post(std::function<void()> fn) { push(Entry{std::move(fn), Plain{}, nullptr}); }

void CompletionQueue::post(Plain p) { push(Entry{nullptr, std::move(p), nullptr}); }

void CompletionQueue::call(Entry& e) {
    if (e.fn) {
        e.fn();
        return;
    }
    const braid_completion& c = e.plain.rec;
    const void* data = e.plain.owns_bytes ? e.plain.bytes.data() : c.data;
    switch (c.kind) {
        case BRAID_COMPLETION_STATUS:
            reinterpret_cast<void (*)(void*, int)>(c.callback)(c.user_data, c.status);
            break;
        case BRAID_COMPLETION_SIZE:
            reinterpret_cast<void (*)(void*, int, std::size_t)>(c.callback)(c.user_data, c.status, c.size);
            break;
        case BRAID_COMPLETION_HANDLE:
            reinterpret_cast<void (*)(void*, int, void*)>(c.callback)(c.user_data, c.status, c.handle);
            break;
        case BRAID_COMPLETION_BYTES:
            reinterpret_cast<void (*)(void*, int, const void*, std::size_t)>(c.callback)(c.user_data, c.status,
                                                                                          data, c.size);
            break;
        default:
            break;
    }
}

bool CompletionQueue::run_batch(std::deque<Entry>& batch) {
    bool threw = false;
    for (Entry& e : batch) {
        try {
            call(e);
        } catch (...) {
            threw = true;
        }
        drop(e);
    }
    return !threw;
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
    int ran = int(batch.size());
    bool ok = run_batch(batch);
    unref();
    return ok ? ran : BRAID_EPANIC;
}

int CompletionQueue::take(braid_completion* out, int max, std::size_t stride, char* bytes, std::size_t cap) {
    std::deque<Entry> released, others;
    ref();  // a callback run here may free the queue
    {
        std::lock_guard<std::mutex> g(mu_);
        released.swap(taken_);  // the last take's records are done with
        if (closed_) {
            unref();
            return 0;
        }
        // The fd is left readable here: the records' part below drains it.
        while (!q_.empty() && q_.front().fn) {
            others.push_back(std::move(q_.front()));
            q_.pop_front();
        }
    }
    for (Entry& e : released) drop(e);
    released.clear();
    bool ok = run_batch(others);
    int n = 0;
    if (ok) {
        std::lock_guard<std::mutex> g(mu_);
        // A take from a callback that ran above left its records here:
        // they were that call's and are done with too.
        released.swap(taken_);
        if (!closed_) {
            drain_fd();
            auto* rec = reinterpret_cast<char*>(out);
            std::size_t used = 0;
            while (n < max && !q_.empty() && !q_.front().fn) {
                const Plain& head = q_.front().plain;
                bool copy = bytes && head.rec.kind == BRAID_COMPLETION_BYTES && head.rec.size > 0;
                if (copy && head.rec.size > cap - used) {
                    if (n > 0) break;  // for the next call, which has all of cap
                    copy = false;      // never fits: braid's copy, as take gives it
                }
                taken_.push_back(std::move(q_.front()));
                q_.pop_front();
                Plain& p = taken_.back().plain;
                braid_completion c = p.rec;
                if (p.owns_bytes) c.data = p.bytes.data();
                if (copy && c.data) {
                    std::memcpy(bytes + used, c.data, c.size);
                    c.data = bytes + used;
                    used += c.size;
                }
                std::memcpy(rec + std::size_t(n) * stride, &c, sizeof c);
                ++n;
            }
            if (!q_.empty()) signal();
        }
    } else {
        // What stays queued keeps the fd readable (posts made quiet for
        // this take, braid_runtime_turn_take, had not raised it).
        std::lock_guard<std::mutex> g(mu_);
        if (!closed_ && !q_.empty()) signal();
    }
    for (Entry& e : released) drop(e);
    unref();
    return ok ? n : BRAID_EPANIC;
}

std::size_t CompletionQueue::pending() const {
    std::lock_guard<std::mutex> g(mu_);
    return q_.size();
}

int CompletionQueue::close() {
    std::deque<Entry> released;
    if (tl_current.q == this) set_current(nullptr);
    {
        std::lock_guard<std::mutex> g(mu_);
        if (closed_) return BRAID_EINVAL;
        if (!q_.empty() || bound_.load(std::memory_order_acquire) > 0) return BRAID_EBUSY;
        closed_ = true;
        ::close(fd_);
        fd_ = -1;
        released.swap(taken_);  // the last take's records end with the queue
    }
    for (Entry& e : released) drop(e);
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
