#include "io/signal.hpp"

#include <braid/error.h>
#include <signal.h>

#include <algorithm>
#include <new>

#include "runtime/core.hpp"
#include "task/coop.hpp"

namespace braid::detail {

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
        // The last listener went: stop watching, so the default action applies again.
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

}  // namespace braid::detail
