#include "io/io_driver.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <uv.h>

#include <memory>
#include <mutex>
#include <new>
#include <unordered_map>
#include <utility>

#include "io/reactor.hpp"
#include "runtime/core.hpp"
#include "task/task.hpp"

namespace braid::detail {

namespace {
constexpr uint32_t kDirBits = kIoRead | kIoWrite | kIoReadClosed | kIoWriteClosed;
constexpr uint32_t kTickOne = 1u << 16;
// Set while this thread dispatches events (a waker that closes a source
// must not wait for the dispatch it is part of).
thread_local bool tl_dispatching = false;
}  // namespace

namespace {
// The drivers, by runtime.
struct DriverSlot {
    std::mutex mu;  // held while the driver is made
    std::atomic<IoDriver*> drv{nullptr};
};
std::mutex& map_mu() {
    static std::mutex m;
    return m;
}
std::unordered_map<Core*, std::shared_ptr<DriverSlot>>& map() {
    static auto* m = new std::unordered_map<Core*, std::shared_ptr<DriverSlot>>();
    return *m;
}
constexpr int kBatch = 256;
}  // namespace

IoDriver::~IoDriver() {
    ::close(evfd_);
    ::close(epfd_);
}

IoDriver* IoDriver::acquire(Core* core, int* err) {
    // The reference is taken under the map's lock: on_close drops the map's
    // reference only after taking the driver out of the map.
    auto existing = [&](DriverSlot& s) -> IoDriver* {
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
    std::shared_ptr<DriverSlot> slot;
    {
        std::lock_guard<std::mutex> g(map_mu());
        auto& s = map()[core];
        if (!s) s = std::make_shared<DriverSlot>();
        slot = s;
    }
    if (IoDriver* d = existing(*slot)) return d;
    if (*err) return nullptr;
    std::lock_guard<std::mutex> g(slot->mu);
    if (IoDriver* d = existing(*slot)) return d;
    if (*err) return nullptr;
    auto fail = [&](int rc) -> IoDriver* {
        std::lock_guard<std::mutex> m(map_mu());
        auto it = map().find(core);
        if (it != map().end() && it->second == slot) map().erase(it);
        *err = rc;
        return nullptr;
    };
    if (core->shutting_down()) return fail(BRAID_ESHUTDOWN);
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) return fail(os_error(errno));
    int evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (evfd < 0) {
        int rc = os_error(errno);
        ::close(epfd);
        return fail(rc);
    }
    // Level-triggered, and read only by the thread blocked in wait(): a
    // thread that polls without blocking sees it and leaves it, so it never
    // takes the wake-up of the one that sleeps.
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, evfd, &ev) != 0) {
        int rc = os_error(errno);
        ::close(evfd);
        ::close(epfd);
        return fail(rc);
    }
    auto* d = new (std::nothrow) IoDriver(core, epfd, evfd);
    if (!d) {
        ::close(evfd);
        ::close(epfd);
        return fail(BRAID_ENOMEM);
    }
    int rc = BRAID_ESHUTDOWN;
    bool ran = core->reactor().run_on_loop([&] { rc = d->init_on_loop(); });
    if (!ran || rc != BRAID_OK) {
        delete d;
        return fail(ran ? rc : BRAID_ESHUTDOWN);
    }
    d->ref();
    slot->drv.store(d, std::memory_order_release);
    // The workers may take events from now on: a worker asleep on its
    // condition variable comes to sleep in the driver instead.
    core->set_io_driver(d);
    d->sync_fallback();
    core->scheduler().driver_ready();
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

void IoDriver::sync_dispatch() {
    if (tl_dispatching) return;
    std::lock_guard<std::mutex> g(dispatch_mu_);
}

void IoDriver::release(IoSource* s) {
    {
        std::lock_guard<std::mutex> g(list_mu_);
        if (waiting_) {
            s->next_ = graveyard_;
            graveyard_ = s;
            return;
        }
    }
    free_source(s);
}

void IoDriver::free_source(IoSource* s) {
    delete s;
    unref();  // the source's
}

int IoDriver::init_on_loop() {
    uv_loop_t* loop = core_->reactor().loop();
    if (uv_poll_init(loop, &poll_, epfd_) < 0) return BRAID_EIO;
    poll_.data = this;
    core_->reactor().add_resource(this);
    apply_fallback();
    return BRAID_OK;
}

void IoDriver::sync_fallback() {
    // Applied on the loop with the state read there: the last change's
    // submission runs after it, so the watch ends up as the state says.
    core_->reactor().submit([this] { apply_fallback(); });
}

void IoDriver::apply_fallback() {
    if (gone()) return;
    bool want = !core_->scheduler().workers_take_io();
    if (want == watching_) return;
    watching_ = want;
    if (want) uv_poll_start(&poll_, UV_READABLE, &IoDriver::on_poll);
    else uv_poll_stop(&poll_);
}

void IoDriver::on_poll(uv_poll_t* h, int, int) {
    // The reactor stands in for the workers.  A worker that holds the driver
    // (a block_on that just began; the watch stops right after) takes the
    // events itself.
    auto* d = static_cast<IoDriver*>(h->data);
    if (!d->try_lock()) return;
    {
        std::lock_guard<std::mutex> g(d->dispatch_mu_);
        d->drain(true);
    }
    d->unlock();
    // A block_on that began meanwhile found the driver taken and sleeps on
    // its condition variable: send it to the driver (no syscall unless it
    // sleeps).
    d->core_->scheduler().driver_ready();
}

void IoDriver::poll(bool take_wake) {
    std::unique_lock<std::mutex> g(dispatch_mu_, std::try_to_lock);
    if (!g.owns_lock()) return;
    drain(take_wake);
}

void IoDriver::wait(int timeout_ms, void (*woke)(void*), void* ctx) {
    {
        std::lock_guard<std::mutex> g(list_mu_);
        waiting_ = true;
    }
    epoll_event evs[kBatch];
    int n = epoll_wait(epfd_, evs, kBatch, timeout_ms);
    for (int i = 0; i < n; ++i) {
        if (evs[i].data.ptr) {
            woke(ctx);
            break;
        }
    }
    {
        std::lock_guard<std::mutex> g(dispatch_mu_);
        dispatch(evs, n, true);
    }
    IoSource* dead;
    {
        std::lock_guard<std::mutex> g(list_mu_);
        waiting_ = false;
        dead = std::exchange(graveyard_, nullptr);
    }
    while (dead) {
        IoSource* next = dead->next_;
        free_source(dead);
        dead = next;
    }
}

void IoDriver::wake() {
    core_->counters().io_wakeup();
    uint64_t one = 1;
    ssize_t r = ::write(evfd_, &one, sizeof one);
    (void)r;  // EAGAIN: the counter is full, so it is readable anyway
}

int IoDriver::drain(bool take_wake) {
    int taken = 0;
    epoll_event evs[kBatch];
    for (int round = 0; round < 16; ++round) {
        int n = epoll_wait(epfd_, evs, kBatch, 0);
        if (n < 0 && errno == EINTR) continue;
        dispatch(evs, n, take_wake);
        if (n > 0) taken += n;
        if (n < kBatch) break;
    }
    return taken;
}

void IoDriver::dispatch(const epoll_event* evs, int n, bool take_wake) {
    tl_dispatching = true;
    int delivered = 0;
    for (int i = 0; i < n; ++i) {
        uint32_t e = evs[i].events;
        auto* s = static_cast<IoSource*>(evs[i].data.ptr);
        if (!s) {
            if (take_wake) {
                uint64_t v;
                ssize_t r = ::read(evfd_, &v, sizeof v);
                (void)r;
            }
            continue;
        }
        int bits = ((e & (EPOLLIN | EPOLLPRI)) ? kIoRead : 0) | ((e & EPOLLOUT) ? kIoWrite : 0) |
                   ((e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) ? kIoRead | kIoReadClosed : 0) |
                   ((e & (EPOLLHUP | EPOLLERR)) ? kIoWrite | kIoWriteClosed : 0);
        s->set_ready(bits);
        ++delivered;
    }
    if (delivered) core_->counters().io_events(uint64_t(delivered));
    tl_dispatching = false;
}

void IoDriver::close_on_loop() {
    // The reactor is stopping: no more events.  Waiters are woken and their
    // next poll reports BRAID_ESHUTDOWN.
    gone_.store(true, std::memory_order_release);
    core_->clear_io_driver();
    {
        std::lock_guard<std::mutex> g(list_mu_);
        for (IoSource* s = head_; s; s = s->next_) s->driver_gone();
    }
    core_->reactor().remove_resource(this);
    uv_close(reinterpret_cast<uv_handle_t*>(&poll_), &IoDriver::on_close);
}

void IoDriver::on_close(uv_handle_t* h) {
    auto* d = static_cast<IoDriver*>(h->data);
    {
        // Out of the map with the poll handle (the map holds no reference
        // of its own: acquire refs under the map's lock).
        std::lock_guard<std::mutex> g(map_mu());
        auto it = map().find(d->core_);
        if (it != map().end() && it->second->drv.load(std::memory_order_acquire) == d) map().erase(it);
    }
    d->unref();  // the handle's
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
    drv_->release(this);
}

void IoSource::deregister() { epoll_ctl(drv_->epfd(), EPOLL_CTL_DEL, fd_, nullptr); }

void IoSource::close() {
    closed_.store(true, std::memory_order_release);
    std::lock_guard<SpinLock> g(mu_);
    waiters_.wake(kIoRead | kIoWrite, false);
}

void IoSource::harvest() {
    // Like Tokio's workers, take events eagerly only when running out of
    // work: with tasks queued on this worker they will run anyway, and the
    // events accumulate into bigger batches (one epoll_wait for many).  A
    // worker with a queue still looks every kHarvestEvery waits (and every
    // Scheduler::kEventInterval tasks), so no event waits long behind a
    // busy one.
    constexpr uint32_t kBusy = 2;
    constexpr uint32_t kHarvestEvery = 32;
    thread_local uint32_t skipped = 0;
    // The host-driven flavor's turn took the events as it began, and the
    // host's loop calls the next turn as soon as more arrive: a look here
    // would only find none, at the price of a syscall per wait.
    Scheduler& sched = core_->scheduler();
    if (sched.host_driven()) return;
    Worker* w = sched.current_worker();
    if (w) {
        uint32_t queued = w->queue.len() + (w->lifo ? 1 : 0);
        if (queued >= kBusy && ++skipped < kHarvestEvery) return;
    }
    skipped = 0;
    // One driver batch, as between tasks: the tasks these events wake run
    // in the order woken, not the last woken first (each taking the LIFO
    // slot from the one before).
    sched.as_driver(w, [this] { drv_->poll(); });
}

void no_wait(void*) {}

int IoSource::poll_ready(int dir, braid_wake_fn wake, void* data, uint32_t* token) {
    if (closed_.load(std::memory_order_acquire)) return BRAID_ECLOSED;
    const uint32_t mask = ready_mask(dir);
    uint32_t r = readiness_.load(std::memory_order_acquire);
    if (wake && (r & mask)) {
        *token = r >> 16;
        return 0;
    }
    if (wake == kNoWait) return drv_->gone() ? BRAID_ESHUTDOWN : BRAID_EAGAIN;
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

int IoSource::poll_readiness(int interest, braid_wake_fn wake, void* data, int* out) {
    *out = 0;
    const uint32_t mask = ready_mask(interest);
    if (wake && !(readiness_.load(std::memory_order_relaxed) & mask)) harvest();
    for (;;) {
        uint32_t token = 0;
        int rc = poll_ready(interest, wake, data, &token);
        if (rc != 0) return rc;
        // Cleared by another poller since poll_ready saw it: look again.
        *out = int(readiness_.load(std::memory_order_acquire) & mask);
        if (*out) return 0;
    }
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
