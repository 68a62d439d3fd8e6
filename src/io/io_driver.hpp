// Readiness of the sockets and pipes braid owns: one epoll instance per
// runtime with every fd registered once, edge-triggered, for both
// directions (mio's and Tokio's design).  libuv stays the reactor: the
// reactor thread watches that epoll fd with one uv_poll_t and, when it is
// readable, drains it without blocking and hands the readiness to the
// sources.  Registering, waiting and closing cost no reactor round trip:
//
//   - a worker makes the non-blocking syscall itself; only on EAGAIN does it
//     clear the readiness it saw and register a waker (poll_op below);
//   - registration is one epoll_ctl(ADD) from the calling thread, made once
//     per fd (no per-wait epoll_ctl, unlike a level-triggered uv_poll_t that
//     must be started and stopped around every wait, as FdWatch does for
//     foreign fds);
//   - closing is epoll_ctl(DEL) plus a short handshake with the dispatching
//     reactor thread, never a submission to the loop.
//
// Readiness is a word of bits plus a 16-bit tick that every event bumps:
// clearing after EAGAIN only succeeds when no event arrived since the
// readiness was observed, so an event that races with the syscall is never
// lost.
#pragma once

#include <braid/error.h>
#include <braid/fd.h>
#include <braid/task.h>
#include <sys/types.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

#include "io/os_error.hpp"
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

    // 0 when `dir` is ready (*token: the tick observed, for clear_ready),
    // BRAID_PENDING after registering wake(data) for `dir`, BRAID_ECLOSED
    // after close, BRAID_ESHUTDOWN once the reactor has stopped, BRAID_ENOMEM
    // when a second (third ...) waiter could not be recorded.  Any number of
    // waiters, keyed by `data` (see WaitSet): an event wakes all of those
    // registered for its direction.  A NULL wake removes the registration of
    // `data` for `dir` (data NULL: every registration of `dir`) and returns
    // BRAID_PENDING.
    int poll_ready(int dir, braid_wake_fn wake, void* data, uint32_t* token);
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
    // returned, with nothing done.
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
            if (!budget_taken) {
                if (!coop::proceed(wake, data)) return BRAID_PENDING;
                budget_taken = true;
            }
            ssize_t n = op();
            // A close that raced with the syscall shut the socket down
            // under it: the end of file it saw is the close's, not the
            // peer's (a reader woken by the close reports BRAID_ECLOSED
            // whichever side of the check it was on).
            if (n == 0 && full && closed()) return BRAID_ECLOSED;
            if (n >= 0) {
                if (full && n > 0 && size_t(n) < full) clear_ready(dir, token, true);  // EOF (0) keeps it
                *out = n;
                return 0;
            }
            int e = errno;
            if (e == EAGAIN || e == EWOULDBLOCK) {
                clear_ready(dir, token);
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

}  // namespace braid::detail
