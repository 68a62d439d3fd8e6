#include "io/fd_watch.hpp"

#include <braid/error.h>
#include <braid/fd.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <new>

#include "runtime/core.hpp"
#include "task/coop.hpp"
#include "task/spawn.hpp"
#include "task/callback.hpp"

namespace braid::detail {

int FdWatch::create(FdWatch** out, Core* core, int fd) {
    struct stat sb;
    if (fd < 0 || fcntl(fd, F_GETFD) < 0 || fstat(fd, &sb) != 0) return BRAID_EBADF;
    if (S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode)) return BRAID_EBADF;  // epoll refuses them
    if (!core->reactor().claim_fd(fd)) return BRAID_EBUSY;
    auto* w = new (std::nothrow) FdWatch(core, fd);
    if (!w) {
        core->reactor().release_fd(fd);
        return BRAID_ENOMEM;
    }
    *out = w;
    return BRAID_OK;
}

int FdWatch::poll_ready(int interest, braid_wake_fn wake, void* data, int* ready) {
    bool submit = false;
    {
        std::lock_guard<std::mutex> g(mu_);
        if (!wake) {
            *ready = ready_ & interest;
            waiters_.disarm(data, interest);
            return *ready ? BRAID_OK : BRAID_PENDING;
        }
        *ready = (ready_ | waiters_.fired(data, interest)) & interest;
        if (*ready) {
            if (!coop::proceed(wake, data)) {
                *ready = 0;
                return BRAID_PENDING;  // woken at once; what fired stays for the next poll
            }
            waiters_.take_fired(data, interest);
            return BRAID_OK;
        }
        if (loop_gone_) return BRAID_ECANCELED;
        if (!waiters_.arm(wake, data, interest)) return BRAID_ENOMEM;
        if ((interest & ~want_) != 0) {
            want_ |= interest;
            if (!update_queued_) submit = update_queued_ = true;
        }
    }
    if (submit && !core_->reactor().submit([this] { apply_on_loop(); })) {
        std::lock_guard<std::mutex> g(mu_);
        update_queued_ = false;
        loop_gone_ = true;
        waiters_.wake(BRAID_READABLE | BRAID_WRITABLE, false);  // the others' next poll: BRAID_ECANCELED
        return BRAID_ECANCELED;
    }
    return BRAID_PENDING;
}

void FdWatch::clear_ready(int interest) {
    std::lock_guard<std::mutex> g(mu_);
    ready_ &= ~interest;
}

void FdWatch::apply_on_loop() {
    std::unique_lock<std::mutex> lk(mu_);
    update_queued_ = false;
    if (released_ || loop_gone_) return;
    if (!handle_open_) {
        int rc = uv_poll_init(core_->reactor().loop(), &handle_, fd_);
        if (rc < 0) {
            // Not pollable after all: report readiness so the waiter's
            // syscall surfaces the error.
            ready_ |= want_;
            int bits = want_;
            want_ = 0;
            wake_locked(bits);
            return;
        }
        handle_.data = this;
        handle_open_ = true;
        core_->reactor().add_resource(this);
    }
    int events = ((want_ & BRAID_READABLE) ? UV_READABLE : 0) | ((want_ & BRAID_WRITABLE) ? UV_WRITABLE : 0);
    if (events) {
        if (uv_poll_start(&handle_, events, &FdWatch::on_poll) < 0) {
            ready_ |= want_;
            int bits = want_;
            want_ = 0;
            wake_locked(bits);
        }
    } else {
        uv_poll_stop(&handle_);
    }
}

void FdWatch::on_poll(uv_poll_t* h, int status, int events) {
    auto* self = static_cast<FdWatch*>(h->data);
    std::lock_guard<std::mutex> g(self->mu_);
    int bits;
    if (status < 0) {
        bits = self->want_;  // error: let every waiter try its syscall and see it
    } else {
        bits = ((events & (UV_READABLE | UV_DISCONNECT)) ? BRAID_READABLE : 0) |
               ((events & UV_WRITABLE) ? BRAID_WRITABLE : 0);
    }
    self->ready_ |= bits;
    self->want_ &= ~bits;
    self->wake_locked(bits);
    int rest = ((self->want_ & BRAID_READABLE) ? UV_READABLE : 0) |
               ((self->want_ & BRAID_WRITABLE) ? UV_WRITABLE : 0);
    if (rest) uv_poll_start(h, rest, &FdWatch::on_poll);
    else uv_poll_stop(h);
}

void FdWatch::on_close(uv_handle_t* h) {
    auto* self = static_cast<FdWatch*>(h->data);
    bool free_now;
    {
        std::lock_guard<std::mutex> g(self->mu_);
        self->handle_open_ = false;
        free_now = self->released_;
    }
    if (free_now) delete self;
}

void FdWatch::close_on_loop() {
    // The reactor is stopping.
    {
        std::lock_guard<std::mutex> g(mu_);
        loop_gone_ = true;
        waiters_.wake(BRAID_READABLE | BRAID_WRITABLE, false);  // their next poll: BRAID_ECANCELED
        want_ = 0;
    }
    core_->reactor().remove_resource(this);
    uv_close(reinterpret_cast<uv_handle_t*>(&handle_), &FdWatch::on_close);
}

void FdWatch::release() {
    {
        std::lock_guard<std::mutex> g(mu_);
        released_ = true;
        waiters_.disarm(nullptr, BRAID_READABLE | BRAID_WRITABLE);
    }
    // The owner may close the fd as soon as this returns, so the loop must
    // have taken it out of epoll by then: wait for the loop to do it.
    Reactor& reactor = core_->reactor();
    const int fd = fd_;
    bool ran = reactor.run_on_loop([this] {
        bool open;
        {
            std::lock_guard<std::mutex> g(mu_);
            open = handle_open_;
        }
        if (open) {
            core_->reactor().remove_resource(this);
            uv_close(reinterpret_cast<uv_handle_t*>(&handle_), &FdWatch::on_close);  // frees us
        } else {
            delete this;
        }
    });
    // The reactor stopped: its handles are closed already (or were never
    // made), and any update closure that referred to us ran before the stop.
    if (!ran) delete this;
    reactor.release_fd(fd);  // `this` may be gone: only locals from here
}

namespace {

// braid_fd_wait's operation.
struct FdWaitOp {
    FdWatch* watch;
    int interest;
    Callback<braid_fd_ready_callback> cb;
    void* ud;
    FdWaitOp(FdWatch* w, int i, braid_fd_ready_callback c, void* u) : watch(w), interest(i), cb(c), ud(u) {}
    void drop_watch() {
        if (watch) watch->release();
        watch = nullptr;
    }
    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<FdWaitOp*>(self);
        int ready = 0;
        int rc = s->watch->poll_ready(s->interest, &braid_task_wake_fn, me, &ready);
        if (rc == BRAID_PENDING) return BRAID_PENDING;
        s->drop_watch();
        s->cb(s->ud, rc, rc == BRAID_OK ? ready : 0);
        return BRAID_OK;
    }
    static void cancel(void* self) {
        auto* s = static_cast<FdWaitOp*>(self);
        s->drop_watch();
        s->cb(s->ud, current_cancel_status(), 0);
    }
    ~FdWaitOp() {
        drop_watch();
    }
};

}  // namespace

int spawn_fd_wait(braid_task** out, Core* core, int fd, int interest, braid_fd_ready_callback cb, void* ud) {
    FdWatch* w = nullptr;
    int rc = FdWatch::create(&w, core, fd);
    if (rc != BRAID_OK) return rc;
    rc = spawn_op<FdWaitOp>(out, core, TaskKind::Worker, w, interest, cb, ud);
    if (rc == BRAID_ENOMEM) w->release();  // the state that owns it was never made
    return rc;
}

}  // namespace braid::detail
