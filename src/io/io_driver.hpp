// Readiness of the sockets and pipes braid owns: one epoll instance per
// runtime with every fd registered once, edge-triggered, for both
// directions (mio's and Tokio's design).  The workers take the events
// themselves: an idle worker sleeps in epoll_wait on it (one at a time, as
// Tokio's driver lock), busy ones look without blocking now and then, and a
// task about to wait for I/O looks first.  Registering, waiting and closing
// cost no reactor round trip:
//
//   - a worker makes the non-blocking syscall itself; only on EAGAIN does it
//     clear the readiness it saw and register a waker (poll_op below);
//   - registration is one epoll_ctl(ADD) from the calling thread, made once
//     per fd (no per-wait epoll_ctl, unlike a level-triggered uv_poll_t that
//     must be started and stopped around every wait, as FdWatch does for
//     foreign fds);
//   - closing is epoll_ctl(DEL) plus a short handshake with a dispatching
//     thread, never a submission to the loop.
//
// Readiness is a word of bits plus a 16-bit tick that every event bumps:
// clearing after EAGAIN only succeeds when no event arrived since the
// readiness was observed, so an event that races with the syscall is never
// lost.
#pragma once

#include <braid/error.h>
#include <braid/fd.h>
#include <braid/task.h>
#include <sys/epoll.h>
#include <sys/types.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>

#include "io/os_error.hpp"
#include "io/reactor.hpp"
#include "io/wait_set.hpp"
#include "task/coop.hpp"
#include "util/spin_lock.hpp"

namespace braid::detail {

class Core;
class IoDriver;
struct Task;

// Directions (the same bits as braid_interest).
constexpr int kIoRead = BRAID_READABLE;
constexpr int kIoWrite = BRAID_WRITABLE;
// Sticky: the peer closed (RDHUP/HUP) or the socket failed (ERR).  Kept
// until a syscall says EAGAIN: after end of file or an error every read
// (write) must go to the syscall, which reports it, however many times it is
// asked.
constexpr int kIoReadClosed = 4;
constexpr int kIoWriteClosed = 8;
// The readiness bits that let `dir` proceed.
constexpr uint32_t ready_mask(int dir) { return uint32_t(dir) | (uint32_t(dir) << 2); }

// The waker of an attempt that must not wait (Tokio's try_read, try_send,
// ...): passed as the wake function of a poll, it registers nothing, and the
// poll returns BRAID_EAGAIN where it would have returned BRAID_PENDING.
void no_wait(void*);
constexpr braid_wake_fn kNoWait = &no_wait;

class IoSource {
public:
    // Registers `fd` (non-blocking) with core's driver; from then on the
    // source owns the fd and closes it when the last reference goes.  On
    // failure the fd stays the caller's.  `initial` is the readiness assumed
    // before the first event (kIoRead | kIoWrite: try the syscalls at once;
    // 0 for a connect in progress, which must wait for its event).
    // BRAID_OK, BRAID_ESHUTDOWN, BRAID_ENOMEM, or the registration's error.
    static int create(IoSource** out, Core* core, int fd, int initial = kIoRead | kIoWrite);

    int fd() const { return fd_; }
    Core* core() const { return core_; }

    void ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
    // The last reference deregisters, closes the fd and frees the source.
    void unref();
    // Marks the source closed (every poll then reports BRAID_ECLOSED) and
    // wakes whoever waits.  The fd stays open until the last reference goes,
    // so a syscall racing with close never reaches a reused fd number.
    void close();
    bool closed() const { return closed_.load(std::memory_order_acquire); }
    // Takes the fd out of the epoll set now (the last reference's DEL then
    // finds nothing).  Before the fd number is pointed at another file
    // (dup3): epoll keys a registration on the open file, so a DEL through
    // the reused number misses it, and while anything else still holds the
    // old file (a dup, a child between fork and exec) the registration
    // would outlive the source and report events carrying a freed pointer.
    void deregister();

    // 0 when `dir` is ready (*token: the tick observed, for clear_ready),
    // BRAID_PENDING after registering wake(data) for `dir`, BRAID_ECLOSED
    // after close, BRAID_ESHUTDOWN once the reactor has stopped, BRAID_ENOMEM
    // when a second (third ...) waiter could not be recorded.  Any number of
    // waiters, keyed by `data` (see WaitSet): an event wakes all of those
    // registered for its direction.  A NULL wake removes the registration of
    // `data` for `dir` (data NULL: every registration of `dir`) and returns
    // BRAID_PENDING.
    // wake kNoWait: BRAID_EAGAIN instead of registering.
    int poll_ready(int dir, braid_wake_fn wake, void* data, uint32_t* token);
    // The readiness itself (Tokio's ready(Interest)): 0 with *out the bits
    // of `interest` that are ready (kIoRead, kIoWrite, and the sticky
    // kIoReadClosed / kIoWriteClosed of those directions), or what
    // poll_ready returns.  Takes the runtime's events first when none is.
    int poll_readiness(int interest, braid_wake_fn wake, void* data, int* out);
    // Forgets the readiness of `dir` unless an event arrived after `token`:
    // after EAGAIN also its sticky closed bit (the syscall just showed it was
    // not terminal: a UDP socket's ICMP error, read once, for one), after a
    // short read or write only the direction (keep_closed: an end of file
    // queued behind the data must still be seen).
    void clear_ready(int dir, uint32_t token, bool keep_closed = false);
    // Whether the sticky closed bit of `dir` is set.
    bool closed_seen(int dir) const {
        return readiness_.load(std::memory_order_acquire) & (uint32_t(dir) << 2);
    }
    // Removes the registration of `data` for `dir` (data NULL: every
    // registration of `dir`): when this returns its waker is not running
    // and will not be called.
    void unregister(int dir, void* data);
    // Takes the runtime's ready events on this thread (see IoDriver::harvest).
    void harvest();

    // The Tokio pattern in one call: wait until `dir` is (believed) ready,
    // run `op` (a non-blocking syscall: >= 0, or -1 with errno), on EAGAIN
    // clear the readiness and wait again.  Returns 0 with *out = op's
    // result, BRAID_PENDING (waker registered), or a negative code (errno
    // mapped; the errno is kept for braid_last_os_error).  When `full` is
    // not 0 and op moved fewer bytes than that (a short read or write on a
    // stream), the readiness is cleared too: the kernel buffer was drained
    // (or filled), and the next call waits for an event instead of paying
    // for an EAGAIN.  Cooperative budget: an op that would complete at once
    // takes a unit; with none left the task is woken and BRAID_PENDING
    // returned, with nothing done.  wake kNoWait: one attempt, no budget;
    // BRAID_EAGAIN when the direction is not ready or the syscall says
    // EAGAIN (its readiness is cleared then, as after any EAGAIN).
    template <class Op>
    int poll_op(int dir, braid_wake_fn wake, void* data, size_t full, ssize_t* out, Op&& op) {
        if (!wake) {
            unregister(dir, data);
            return BRAID_PENDING;
        }
        bool budget_taken = false;
        bool harvested = false;
        for (;;) {
            if (!harvested && !(readiness_.load(std::memory_order_relaxed) & ready_mask(dir))) {
                // About to wait: take the runtime's ready events first (ours
                // among them, perhaps), on this worker.
                harvested = true;
                harvest();
            }
            uint32_t token = 0;
            int rc = poll_ready(dir, wake, data, &token);
            if (rc != 0) return rc;
            if (!budget_taken && wake != kNoWait) {
                if (!coop::proceed(wake, data)) return BRAID_PENDING;
                budget_taken = true;
            }
            ssize_t n = op();
            // A close that raced with the syscall shut the socket down
            // under it: the end of file it saw is the close's, not the
            // peer's (a reader woken by the close reports BRAID_ECLOSED
            // whichever side of the check it was on).
            if (n == 0 && full && closed()) return BRAID_ECLOSED;
            // Likewise a failure: accept4 on a listener shut down under it
            // fails with EINVAL, a send with EPIPE; the cause is the close.
            if (n < 0 && closed()) return BRAID_ECLOSED;
            if (n >= 0) {
                if (full && n > 0 && size_t(n) < full) clear_ready(dir, token, true);  // EOF (0) keeps it
                *out = n;
                return 0;
            }
            int e = errno;
            if (e == EAGAIN || e == EWOULDBLOCK) {
                clear_ready(dir, token);
                if (wake == kNoWait) return BRAID_EAGAIN;
                continue;
            }
            if (e == EINTR) continue;
            return os_error(e);
        }
    }

    // One callback operation per side at a time (bits chosen by the C shims):
    // false when `bit` is taken already.
    bool try_claim(uint8_t bit) { return !(claims_.fetch_or(bit, std::memory_order_acq_rel) & bit); }
    void release_claim(uint8_t bit) { claims_.fetch_and(uint8_t(~bit), std::memory_order_acq_rel); }

    // The repeating read-side operation running on this source (a repeating
    // read or accept: it holds the read claim), so that a stop through the
    // handle finds its task.  The operation publishes its task before it can
    // run and withdraws it before it completes; stop_repeater aborts it.
    void set_repeater(Task* t);
    void clear_repeater() { set_repeater(nullptr); }
    void stop_repeater();

private:
    friend class IoDriver;
    IoSource(IoDriver* d, Core* core, int fd, int initial);
    ~IoSource() = default;
    void set_ready(int bits);   // the dispatching thread
    void driver_gone();         // the reactor stopped
    void destroy();

    IoDriver* drv_;
    Core* core_;
    const int fd_;
    std::atomic<uint32_t> readiness_;  // bits 0-3: kIo*; 16-31: tick
    std::atomic<int> refs_{1};
    std::atomic<bool> closed_{false};
    std::atomic<uint8_t> claims_{0};
    SpinLock rep_mu_;                  // guards repeater_
    Task* repeater_ = nullptr;
    SpinLock mu_;                      // guards the waiters
    WaitSet waiters_;                  // direction bits kIoRead / kIoWrite
    IoSource* prev_ = nullptr;         // the driver's list (for the reactor stop)
    IoSource* next_ = nullptr;
};

// One per runtime, made on first use: the epoll instance every IoSource is
// registered with, and an eventfd in the same set that wakes the worker
// sleeping in it.
//
// Who takes the events.  The workers (see Scheduler::park and run_worker):
//   - an idle worker that holds the driver (try_lock; the others sleep on
//     their condition variables) blocks in wait(), with the next timer
//     deadline as its timeout; an unpark of that worker writes the eventfd
//     (wake), and only while it sleeps there;
//   - a busy worker looks without blocking every Scheduler::kEventInterval
//     tasks (poll), so events are not starved when no worker is idle;
//   - a task about to wait for I/O looks first (IoSource::harvest).
// The tasks woken go to that worker's own queue, the first woken next and
// the rest in the order woken (one driver batch: Scheduler::as_driver): no
// cross-thread hand-off.
// The reactor thread watches the epoll fd (a uv_poll_t) only while no
// worker can: a current-thread runtime outside block_on (sync_fallback).
class IoDriver final : public ReactorResource {
public:
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
    void sync_dispatch();
    // Frees a deregistered source: at once, or, while a blocking wait is in
    // progress (its events may name the source), once it has dispatched.
    void release(IoSource* s);

    // Takes the ready events on this thread without blocking (skipped when
    // another thread is dispatching).  With take_wake, the wake-up too
    // (only a thread that nobody else may be waiting in wait() beside: the
    // host-driven flavor's turn).
    void poll(bool take_wake = false);

    // The right to block in wait(): one thread at a time.
    bool try_lock() { return !owned_.exchange(true, std::memory_order_acquire); }
    void unlock() { owned_.store(false, std::memory_order_release); }
    // With the lock: blocks until an event, wake() or timeout_ms (-1: no
    // limit), then dispatches what it got on this thread, after calling
    // woke(ctx) if that is more than the eventfd's wake-up.
    void wait(int timeout_ms, void (*woke)(void*), void* ctx);
    // Ends a wait() in progress, or the next one.
    void wake();
    static void wake_fn(void* self) { static_cast<IoDriver*>(self)->wake(); }

    // Whether the workers can take events changed (a current-thread
    // runtime's block_on began or ended): the reactor watches the epoll fd
    // exactly while they cannot.
    void sync_fallback();

    void close_on_loop() override;

private:
    IoDriver(Core* core, int epfd, int evfd) : core_(core), epfd_(epfd), evfd_(evfd) {}
    ~IoDriver();
    int init_on_loop();
    void apply_fallback();  // loop thread
    static void on_poll(uv_poll_t* h, int status, int events);
    static void on_close(uv_handle_t* h);
    int drain(bool take_wake);  // dispatch_mu_ held; the number of events taken
    void dispatch(const epoll_event* evs, int n, bool take_wake);
    void free_source(IoSource* s);

    Core* core_;
    const int epfd_;
    const int evfd_;            // the wake eventfd, registered with data.ptr = null
    std::atomic<int> refs_{1};  // the uv handle's (dropped when it closes), and one per user
    std::atomic<bool> gone_{false};
    std::atomic<bool> owned_{false};  // try_lock
    uv_poll_t poll_;
    bool watching_ = false;     // loop thread: poll_ started
    std::mutex dispatch_mu_;
    std::mutex list_mu_;        // guards the list, waiting_ and graveyard_
    IoSource* head_ = nullptr;
    bool waiting_ = false;      // a wait() is between its epoll_wait and the end of its dispatch
    IoSource* graveyard_ = nullptr;  // released during that wait (linked by next_)
};

}  // namespace braid::detail
