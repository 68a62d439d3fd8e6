#include "io/signal.hpp"

#include <braid/error.h>
#include <signal.h>

#include <algorithm>
#include <mutex>
#include <new>

#include "runtime/core.hpp"
#include "task/coop.hpp"
#include "task/spawn.hpp"
#include "task/callback.hpp"

namespace braid::detail {

namespace {

// Once braid has listened for a signal, its process-wide handler stays
// installed for the life of the process (Tokio's rule): deliveries nobody
// listens to are dropped, and the default action (terminating, for most
// signals) never comes back when the last listener, or the last runtime,
// goes.  libuv restores the default action when the last uv_signal_t of a
// signal number stops, in any loop; so the first listen for a number also
// starts a uv_signal_t on a loop of braid's own that is never run and never
// closed.  Its handles keep libuv's handler installed; what libuv writes to
// that loop's signal pipe for them is never read (once the pipe is full,
// libuv drops those writes).  Called on a reactor thread while that
// reactor's own handle for `signum` is started, so the handler never lapses
// in between.
void keep_handler(int signum) {
    struct Keeper {
        std::mutex mu;
        uv_loop_t loop;
        bool loop_ok = false;
        bool tried = false;
        bool kept[NSIG] = {};
    };
    static Keeper* k = new Keeper();  // never destroyed: the handlers outlive every runtime
    std::lock_guard<std::mutex> g(k->mu);
    if (!k->tried) {
        k->tried = true;
        k->loop_ok = uv_loop_init(&k->loop) == 0;
    }
    if (!k->loop_ok || k->kept[signum]) return;
    k->kept[signum] = true;  // one attempt per signal number
    auto* h = new (std::nothrow) uv_signal_t;
    if (!h) return;
    uv_signal_init(&k->loop, h);
    // The handle stays in the loop's list even if it cannot start (it cannot
    // be closed without running the loop), so it is never freed.
    uv_signal_start(h, [](uv_signal_t*, int) {}, signum);
}

}  // namespace

int SignalListener::create(SignalListener** out, Core* core, int signum) {
    if (signum <= 0 || signum >= NSIG || signum == SIGKILL || signum == SIGSTOP) return BRAID_EINVAL;
    auto* l = new (std::nothrow) SignalListener(core, signum);
    if (!l) return BRAID_ENOMEM;
    int rc = BRAID_ESHUTDOWN;
    core->reactor().run_on_loop([&] { rc = core->signals().add(l); });
    if (rc != BRAID_OK) {
        delete l;
        return rc;
    }
    *out = l;
    return BRAID_OK;
}

void SignalListener::release() {
    Core* core = core_;
    if (!core->reactor().run_on_loop([&] { core->signals().remove(this); })) {
        // the reactor stopped: the registry let go of every listener already
    }
    delete this;
}

int SignalListener::poll_recv(braid_wake_fn wake, void* data) {
    std::lock_guard<std::mutex> g(mu_);
    if (pending_ > 0) {
        if (wake && !coop::proceed(wake, data)) return BRAID_PENDING;
        --pending_;
        return BRAID_OK;
    }
    if (closed_) return BRAID_ECANCELED;
    if (wake) waker_.set(wake, data);
    return BRAID_PENDING;
}

void SignalListener::unregister() {
    std::lock_guard<std::mutex> g(mu_);
    waker_.clear();
}

void SignalListener::deliver() {
    std::lock_guard<std::mutex> g(mu_);
    ++pending_;
    waker_.wake();
}

void SignalListener::close() {
    std::lock_guard<std::mutex> g(mu_);
    closed_ = true;
    waker_.wake();
}

int SignalRegistry::add(SignalListener* l) {
    if (closed_) return BRAID_ESHUTDOWN;
    auto it = watches_.find(l->signum());
    if (it == watches_.end()) {
        auto* w = new (std::nothrow) Watch();
        if (!w) return BRAID_ENOMEM;
        uv_signal_init(reactor_.loop(), &w->handle);
        w->handle.data = w;
        int rc = uv_signal_start(&w->handle, &SignalRegistry::on_signal, l->signum());
        if (rc < 0) {
            uv_close(reinterpret_cast<uv_handle_t*>(&w->handle),
                     [](uv_handle_t* h) { delete static_cast<Watch*>(h->data); });
            return BRAID_EINVAL;
        }
        it = watches_.emplace(l->signum(), w).first;
        keep_handler(l->signum());
        if (!registered_) {
            reactor_.add_resource(this);
            registered_ = true;
        }
    }
    it->second->listeners.push_back(l);
    return BRAID_OK;
}

void SignalRegistry::remove(SignalListener* l) {
    auto it = watches_.find(l->signum());
    if (it == watches_.end()) return;
    auto& ls = it->second->listeners;
    ls.erase(std::remove(ls.begin(), ls.end(), l), ls.end());
    if (ls.empty()) {
        // The last listener went: stop watching (braid's handler stays
        // installed, see keep_handler: the delivery is dropped).
        uv_close(reinterpret_cast<uv_handle_t*>(&it->second->handle),
                 [](uv_handle_t* h) { delete static_cast<Watch*>(h->data); });
        watches_.erase(it);
    }
}

void SignalRegistry::on_signal(uv_signal_t* h, int) {
    for (SignalListener* l : static_cast<Watch*>(h->data)->listeners) l->deliver();
}

void SignalRegistry::close_on_loop() {
    closed_ = true;
    reactor_.remove_resource(this);
    for (auto& [signum, w] : watches_) {
        for (SignalListener* l : w->listeners) l->close();
        uv_close(reinterpret_cast<uv_handle_t*>(&w->handle),
                 [](uv_handle_t* h) { delete static_cast<Watch*>(h->data); });
    }
    watches_.clear();
}

namespace {

// braid_signal_wait's operation.
struct SignalWaitOp {
    SignalListener* listener;
    Callback<braid_callback> cb;
    void* ud;
    SignalWaitOp(SignalListener* l, braid_callback c, void* u) : listener(l), cb(c), ud(u) {}
    void drop_listener() {
        if (listener) listener->release();
        listener = nullptr;
    }
    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<SignalWaitOp*>(self);
        int rc = s->listener->poll_recv(&braid_task_wake_fn, me);
        if (rc == BRAID_PENDING) return BRAID_PENDING;
        s->drop_listener();
        s->cb(s->ud, rc);
        return BRAID_OK;
    }
    static void cancel(void* self) {
        auto* s = static_cast<SignalWaitOp*>(self);
        s->drop_listener();
        s->cb(s->ud, current_cancel_status());
    }
    ~SignalWaitOp() {
        drop_listener();
    }
};

}  // namespace

int wait_signal(braid_task** out, Core* core, int signum, braid_callback cb, void* ud) {
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    SignalListener* l = nullptr;
    int rc = SignalListener::create(&l, core, signum);
    if (rc != BRAID_OK) return rc;
    rc = spawn_op<SignalWaitOp>(out, core, TaskKind::Worker, l, cb, ud);
    if (rc == BRAID_ENOMEM) l->release();  // the operation was never made (a refused one released it)
    return rc;
}

}  // namespace braid::detail
