// Readiness of a foreign file descriptor: a uv_poll_t on the reactor,
// polled only for the directions somebody waits on (libuv polls are level
// triggered; a socket that is always writable would spin otherwise).
// Readiness is cached until the owner clears it after EAGAIN, Tokio-style.
// Any number of tasks may wait at once (WaitSet, keyed by wake_data): an
// event wakes every waiter of its direction, and each of them is given that
// readiness by its next poll even if another waiter cleared it meanwhile
// (Tokio's AsyncFd: a woken waiter's readiness is its own).
#pragma once

#include <braid/fd.h>
#include <braid/task.h>
#include <uv.h>

#include <mutex>

#include "io/reactor.hpp"
#include "io/wait_set.hpp"

namespace braid::detail {

class Core;

class FdWatch final : public ReactorResource {
public:
    // Checks the fd on the calling thread; returns BRAID_OK, BRAID_EBADF or
    // BRAID_ENOMEM.  The uv handle is made lazily on the loop thread.
    static int create(FdWatch** out, Core* core, int fd);

    int fd() const { return fd_; }
    // 0 with *ready set to the ready bits among interest (those cached, and
    // those an event woke `data` for since it registered), or BRAID_PENDING
    // (waker registered), BRAID_ECANCELED (the reactor is gone), BRAID_ENOMEM
    // (a further waiter could not be recorded).  A NULL wake removes the
    // registration of `data` (NULL: every registration) for `interest` and
    // reports the cached readiness.
    int poll_ready(int interest, braid_wake_fn wake, void* data, int* ready);
    void clear_ready(int interest);
    // Unregisters; the object is freed on the loop thread (or here when the
    // reactor has stopped).
    void release();

    void close_on_loop() override;

private:
    FdWatch(Core* core, int fd) : core_(core), fd_(fd) {}
    void apply_on_loop();            // start/stop uv polling for want_
    static void on_poll(uv_poll_t* h, int status, int events);
    static void on_close(uv_handle_t* h);
    void wake_locked(int bits) { waiters_.wake(bits, true); }

    Core* core_;
    const int fd_;
    std::mutex mu_;
    int ready_ = 0;          // cached readiness bits
    int want_ = 0;           // directions with a waiter
    WaitSet waiters_;
    bool update_queued_ = false;
    bool released_ = false;  // the owner let go
    bool handle_open_ = false;
    bool loop_gone_ = false; // the reactor stopped
    uv_poll_t handle_;
};

// braid_fd_wait's task: watches fd until some bits of `interest` are ready
// and calls cb(ud, BRAID_OK, ready bits), or cb(ud, error, 0); cancelled,
// cb(ud, cancel status, 0).  BRAID_OK, or the error of watching fd
// (nothing is called back then), BRAID_ENOMEM, BRAID_ESHUTDOWN.
int spawn_fd_wait(braid_task** out, Core* core, int fd, int interest, braid_fd_ready_callback cb, void* ud);

}  // namespace braid::detail
