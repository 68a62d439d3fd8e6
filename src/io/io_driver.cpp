#include "io/io_driver.hpp"

#include <sys/epoll.h>
#include <unistd.h>
#include <uv.h>

#include <memory>
#include <mutex>
#include <new>
#include <unordered_map>

#include "io/reactor.hpp"
#include "runtime/core.hpp"
#include "task/task.hpp"

namespace braid::detail {

namespace {
constexpr uint32_t kDirBits = kIoRead | kIoWrite | kIoReadClosed | kIoWriteClosed;
constexpr uint32_t kTickOne = 1u << 16;
// Set while this thread dispatches events (a waker that closed a source on
// the reactor thread must not wait for the dispatch it is part of).
thread_local bool tl_dispatching = false;
}  // namespace

// One per runtime, made on first use: the epoll instance every IoSource is
// registered with, and the reactor's watch over it.
//
// Who takes the events.  Workers take them whenever one of their tasks is
// about to wait for I/O (harvest): the tasks woken then go to that worker's
// own queue, and nobody sleeps in epoll_wait on a busy runtime, so an event
// costs no thread wake-up.  The reactor thread is the fallback for when the
// workers are idle: it watches the epoll fd with a uv_poll_t ("armed").  A
// sleeping reactor would be woken by every event though (one context switch
// per packet), so when it sees that workers found events since its last look
// (they keep up: a busy runtime) it disarms and only looks again every
// kRecheckMs on a timer; it re-arms once a whole period passes without a
// worker finding events.  A quiet runtime (tasks wait, the events come
// later) keeps it armed, so a lone event is delivered at once.  Nothing is lost
// either way: whatever is ready is taken by the next harvest or the next
// look, at most kRecheckMs after a busy runtime went idle.
class IoDriver final : public ReactorResource {
public:
    static constexpr uint64_t kRecheckMs = 1;

    // The driver of `core`, made if needed; with a reference for the caller.
    // Null (and *err set) when the reactor has stopped or resources ran out.
    static IoDriver* acquire(Core* core, int* err);

    void ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
    void unref() {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }
    int epfd() const { return epfd_; }
    bool gone() const { return gone_.load(std::memory_order_acquire); }

    void link(IoSource* s);
    void unlink(IoSource* s);
    // Waits until no dispatch that may have seen a deregistered source runs.
    void sync_dispatch() {
        if (tl_dispatching) return;
        std::lock_guard<std::mutex> g(dispatch_mu_);
    }

    // A worker whose task is about to wait takes the ready events itself
    // (without blocking; skipped when another thread is at it).
    void harvest() {
        std::unique_lock<std::mutex> g(dispatch_mu_, std::try_to_lock);
        if (!g.owns_lock()) return;
        if (drain() > 0) harvests_.fetch_add(1, std::memory_order_relaxed);
    }

    void close_on_loop() override;

private:
    struct Slot {
        std::mutex mu;                       // held while the driver is made
        std::atomic<IoDriver*> drv{nullptr};
    };
    static std::mutex& map_mu() {
        static std::mutex m;
        return m;
    }
    static std::unordered_map<Core*, std::shared_ptr<Slot>>& map() {
        static auto* m = new std::unordered_map<Core*, std::shared_ptr<Slot>>();
        return *m;
    }

    IoDriver(Core* core, int epfd) : core_(core), epfd_(epfd) {}
    ~IoDriver() {
        if (epfd_ >= 0) ::close(epfd_);
    }
    int init_on_loop();
    static void on_poll(uv_poll_t* h, int status, int events);
    static void on_timer(uv_timer_t* t);
    static void on_close(uv_handle_t* h);
    void look();   // the reactor takes the events (loop thread)
    int drain();  // dispatch_mu_ held; the number of events taken

    Core* core_;
    const int epfd_;
    std::atomic<int> refs_{2};  // one per uv handle (dropped as each closes), one per user
    std::atomic<bool> gone_{false};
    std::atomic<uint64_t> harvests_{0};  // worker harvests that found events
    uv_poll_t poll_;
    uv_timer_t timer_;
    // Loop thread only:
    uint64_t seen_harvests_ = 0;
    bool armed_ = true;
    std::mutex dispatch_mu_;
    std::mutex list_mu_;
    IoSource* head_ = nullptr;
};

IoDriver* IoDriver::acquire(Core* core, int* err) {
    // The reference is taken under the map's lock: on_close drops the map's
    // reference only after taking the driver out of the map.
    auto existing = [&](Slot& s) -> IoDriver* {
        std::lock_guard<std::mutex> g(map_mu());
        IoDriver* d = s.drv.load(std::memory_order_acquire);
        if (!d) return nullptr;
        if (d->gone()) {
            *err = BRAID_ESHUTDOWN;
            return nullptr;
        }
        d->ref();
        return d;
    };
    std::shared_ptr<Slot> slot;
    {
        std::lock_guard<std::mutex> g(map_mu());
        auto& s = map()[core];
        if (!s) s = std::make_shared<Slot>();
        slot = s;
    }
    if (IoDriver* d = existing(*slot)) return d;
    if (*err) return nullptr;
    std::lock_guard<std::mutex> g(slot->mu);
    if (IoDriver* d = existing(*slot)) return d;
    if (*err) return nullptr;
    auto forget = [&] {
        std::lock_guard<std::mutex> m(map_mu());
        auto it = map().find(core);
        if (it != map().end() && it->second == slot) map().erase(it);
    };
    if (core->shutting_down()) {
        forget();
        *err = BRAID_ESHUTDOWN;
        return nullptr;
    }
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) {
        forget();
        *err = os_error(errno);
        return nullptr;
    }
    auto* d = new (std::nothrow) IoDriver(core, epfd);
    if (!d) {
        ::close(epfd);
        forget();
        *err = BRAID_ENOMEM;
        return nullptr;
    }
    int rc = BRAID_ESHUTDOWN;
    bool ran = core->reactor().run_on_loop([&] { rc = d->init_on_loop(); });
    if (!ran || rc != BRAID_OK) {
        delete d;
        forget();
        *err = ran ? rc : BRAID_ESHUTDOWN;
        return nullptr;
    }
    d->ref();
    slot->drv.store(d, std::memory_order_release);
    return d;
}

void IoDriver::link(IoSource* s) {
    std::lock_guard<std::mutex> g(list_mu_);
    s->next_ = head_;
    if (head_) head_->prev_ = s;
    head_ = s;
}

void IoDriver::unlink(IoSource* s) {
    std::lock_guard<std::mutex> g(list_mu_);
    if (s->prev_) s->prev_->next_ = s->next_;
    else head_ = s->next_;
    if (s->next_) s->next_->prev_ = s->prev_;
    s->prev_ = s->next_ = nullptr;
}

int IoDriver::init_on_loop() {
    uv_loop_t* loop = core_->reactor().loop();
    if (uv_poll_init(loop, &poll_, epfd_) < 0) return BRAID_EIO;
    poll_.data = this;
    uv_timer_init(loop, &timer_);
    timer_.data = this;
    uv_poll_start(&poll_, UV_READABLE, &IoDriver::on_poll);
    core_->reactor().add_resource(this);
    return BRAID_OK;
}

void IoDriver::on_poll(uv_poll_t* h, int, int) { static_cast<IoDriver*>(h->data)->look(); }
void IoDriver::on_timer(uv_timer_t* t) { static_cast<IoDriver*>(t->data)->look(); }

void IoDriver::look() {
    {
        std::lock_guard<std::mutex> g(dispatch_mu_);
        drain();
    }
    uint64_t h = harvests_.load(std::memory_order_relaxed);
    bool workers_active = h != seen_harvests_;
    seen_harvests_ = h;
    if (workers_active) {
        if (armed_) {
            armed_ = false;
            uv_poll_stop(&poll_);
        }
        uv_timer_start(&timer_, &IoDriver::on_timer, kRecheckMs, 0);
    } else if (!armed_) {
        armed_ = true;
        uv_timer_stop(&timer_);
        uv_poll_start(&poll_, UV_READABLE, &IoDriver::on_poll);
    }
}

int IoDriver::drain() {
    tl_dispatching = true;
    int taken = 0;
    constexpr int kBatch = 256;
    epoll_event evs[kBatch];
    for (int round = 0; round < 16; ++round) {
        int n = epoll_wait(epfd_, evs, kBatch, 0);
        if (n < 0 && errno == EINTR) continue;
        for (int i = 0; i < n; ++i) {
            uint32_t e = evs[i].events;
            int bits = ((e & (EPOLLIN | EPOLLPRI)) ? kIoRead : 0) | ((e & EPOLLOUT) ? kIoWrite : 0) |
                       ((e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) ? kIoRead | kIoReadClosed : 0) |
                       ((e & (EPOLLHUP | EPOLLERR)) ? kIoWrite | kIoWriteClosed : 0);
            static_cast<IoSource*>(evs[i].data.ptr)->set_ready(bits);
        }
        if (n > 0) taken += n;
        if (n < kBatch) break;
    }
    tl_dispatching = false;
    return taken;
}

void IoDriver::close_on_loop() {
    // The reactor is stopping: no more events.  Waiters are woken and their
    // next poll reports BRAID_ESHUTDOWN.
    gone_.store(true, std::memory_order_release);
    {
        std::lock_guard<std::mutex> g(list_mu_);
        for (IoSource* s = head_; s; s = s->next_) s->driver_gone();
    }
    core_->reactor().remove_resource(this);
    uv_close(reinterpret_cast<uv_handle_t*>(&poll_), &IoDriver::on_close);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &IoDriver::on_close);
}

void IoDriver::on_close(uv_handle_t* h) {
    auto* d = static_cast<IoDriver*>(h->data);
    if (h == reinterpret_cast<uv_handle_t*>(&d->poll_)) {
        // Out of the map with the poll handle (the map holds no reference
        // of its own: acquire refs under the map's lock).
        std::lock_guard<std::mutex> g(map_mu());
        auto it = map().find(d->core_);
        if (it != map().end() && it->second->drv.load(std::memory_order_acquire) == d) map().erase(it);
    }
    d->unref();  // this handle's
}

// ---- IoSource ---------------------------------------------------------------

IoSource::IoSource(IoDriver* d, Core* core, int fd, int initial)
    : drv_(d), core_(core), fd_(fd), readiness_(uint32_t(initial) & kDirBits) {}

int IoSource::create(IoSource** out, Core* core, int fd, int initial) {
    *out = nullptr;
    int err = BRAID_OK;
    IoDriver* d = IoDriver::acquire(core, &err);
    if (!d) return err;
    auto* s = new (std::nothrow) IoSource(d, core, fd, initial);
    if (!s) {
        d->unref();
        return BRAID_ENOMEM;
    }
    d->link(s);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = s;
    if (epoll_ctl(d->epfd(), EPOLL_CTL_ADD, fd, &ev) != 0) {
        int rc = os_error(errno);
        d->unlink(s);
        delete s;
        d->unref();
        return rc;
    }
    *out = s;
    return BRAID_OK;
}

void IoSource::unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
}

void IoSource::destroy() {
    epoll_ctl(drv_->epfd(), EPOLL_CTL_DEL, fd_, nullptr);
    drv_->unlink(this);
    drv_->sync_dispatch();  // an event fetched before the DEL is handled by now
    ::close(fd_);
    IoDriver* d = drv_;
    delete this;
    d->unref();
}

void IoSource::close() {
    closed_.store(true, std::memory_order_release);
    std::lock_guard<SpinLock> g(mu_);
    waiters_.wake(kIoRead | kIoWrite, false);
}

void IoSource::harvest() {
    // Like Tokio's workers, take events eagerly only when running out of
    // work: with tasks queued on this worker they will run anyway, and the
    // events accumulate into bigger batches (one epoll_wait for many).  A
    // worker with a queue still looks every kHarvestEvery waits, so no
    // event waits long behind a busy one.
    constexpr uint32_t kBusy = 2;
    constexpr uint32_t kHarvestEvery = 32;
    thread_local uint32_t skipped = 0;
    if (Worker* w = core_->scheduler().current_worker()) {
        uint32_t queued = w->queue.len() + (w->lifo ? 1 : 0);
        if (queued >= kBusy && ++skipped < kHarvestEvery) return;
    }
    skipped = 0;
    drv_->harvest();
}

int IoSource::poll_ready(int dir, braid_wake_fn wake, void* data, uint32_t* token) {
    if (closed_.load(std::memory_order_acquire)) return BRAID_ECLOSED;
    const uint32_t mask = ready_mask(dir);
    uint32_t r = readiness_.load(std::memory_order_acquire);
    if (wake && (r & mask)) {
        *token = r >> 16;
        return 0;
    }
    std::lock_guard<SpinLock> g(mu_);
    if (!wake) {
        waiters_.disarm(data, dir);
        return BRAID_PENDING;
    }
    r = readiness_.load(std::memory_order_acquire);
    if (r & mask) {
        *token = r >> 16;
        return 0;
    }
    // Again under the lock: close() sets the flag before it takes the lock
    // to wake the waiters, so a waiter armed here is either seen by that
    // wake or sees the flag.
    if (closed_.load(std::memory_order_acquire)) return BRAID_ECLOSED;
    if (drv_->gone()) return BRAID_ESHUTDOWN;
    if (!waiters_.arm(wake, data, dir)) return BRAID_ENOMEM;
    return BRAID_PENDING;
}

void IoSource::clear_ready(int dir, uint32_t token, bool keep_closed) {
    uint32_t bits = uint32_t(dir & (kIoRead | kIoWrite));
    if (!keep_closed) bits |= bits << 2;
    uint32_t r = readiness_.load(std::memory_order_relaxed);
    for (;;) {
        if ((r >> 16) != (token & 0xffff)) return;  // a newer event: keep it
        if (readiness_.compare_exchange_weak(r, r & ~bits, std::memory_order_acq_rel, std::memory_order_relaxed))
            return;
    }
}

void IoSource::unregister(int dir, void* data) {
    std::lock_guard<SpinLock> g(mu_);
    waiters_.disarm(data, dir);
}

void IoSource::set_ready(int bits) {
    uint32_t r = readiness_.load(std::memory_order_relaxed);
    while (!readiness_.compare_exchange_weak(r, ((r & kDirBits) | uint32_t(bits)) | ((r + kTickOne) & ~0xffffu),
                                             std::memory_order_acq_rel, std::memory_order_relaxed)) {
    }
    std::lock_guard<SpinLock> g(mu_);
    waiters_.wake(bits & (kIoRead | kIoWrite), false);
}

void IoSource::driver_gone() {
    std::lock_guard<SpinLock> g(mu_);
    waiters_.wake(kIoRead | kIoWrite, false);
}

void IoSource::set_repeater(Task* t) {
    std::lock_guard<SpinLock> g(rep_mu_);
    repeater_ = t;
}

void IoSource::stop_repeater() {
    std::lock_guard<SpinLock> g(rep_mu_);
    if (repeater_) repeater_->abort();
}

}  // namespace braid::detail
