#include "io/reactor.hpp"

#include <condition_variable>

#include "runtime/core.hpp"

namespace braid::detail {

Reactor::Reactor(Core& core) : core_(core) {
    uv_loop_init(&loop_);
    uv_async_init(&loop_, &async_, &Reactor::on_async);
    async_.data = this;
    uv_timer_init(&loop_, &timer_);
    timer_.data = this;
}

Reactor::~Reactor() {
    if (!started_) {
        // Never ran: close the handles here.
        uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
        uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
        uv_run(&loop_, UV_RUN_DEFAULT);
    }
    uv_loop_close(&loop_);
}

bool Reactor::start() {
    try {
        thread_ = std::thread([this] { thread_main(); });
    } catch (...) {
        return false;
    }
    started_ = true;
    return true;
}

void Reactor::thread_main() {
    core_.thread_started("reactor");
    uv_run(&loop_, UV_RUN_DEFAULT);
    core_.thread_stopping();
}

bool Reactor::submit(std::function<void()> fn) {
    {
        std::lock_guard<std::mutex> g(mu_);
        if (stopping_) return false;
        pending_.push_back(std::move(fn));
    }
    uv_async_send(&async_);
    return true;
}

bool Reactor::run_on_loop(const std::function<void()>& fn) {
    if (on_loop_thread()) {
        fn();
        return true;
    }
    struct Latch {
        std::mutex mu;
        std::condition_variable cv;
        bool done = false;
    } latch;
    bool queued = submit([&fn, &latch] {
        fn();
        std::lock_guard<std::mutex> g(latch.mu);
        latch.done = true;
        latch.cv.notify_all();
    });
    if (!queued) return false;
    std::unique_lock<std::mutex> lk(latch.mu);
    latch.cv.wait(lk, [&] { return latch.done; });
    return true;
}

void Reactor::rearm_timer() {
    if (!rearm_.exchange(true, std::memory_order_acq_rel)) uv_async_send(&async_);
}

void Reactor::drain() {
    std::vector<std::function<void()>> batch;
    {
        std::lock_guard<std::mutex> g(mu_);
        batch.swap(pending_);
    }
    for (auto& fn : batch) fn();
}

void Reactor::arm_timer() {
    // Paused: the clock moves only by advancing (and auto-advance); a real
    // timeout would only wake this thread for nothing.
    int64_t next = core_.clock().paused() ? INT64_MAX : core_.timers().take_next_deadline();
    if (next == INT64_MAX) {
        uv_timer_stop(&timer_);
        return;
    }
    int64_t now = core_.clock().now();
    int64_t ms = next <= now ? 0 : (next - now + 999999) / 1000000;
    uv_update_time(&loop_);
    uv_timer_start(&timer_, &Reactor::on_timer, uint64_t(ms), 0);
}

void Reactor::on_timer(uv_timer_t* t) {
    auto* self = static_cast<Reactor*>(t->data);
    self->core_.timers().fire_due(self->core_.clock().now());
    self->arm_timer();
}

void Reactor::on_async(uv_async_t* a) {
    auto* self = static_cast<Reactor*>(a->data);
    self->drain();
    if (self->rearm_.exchange(false, std::memory_order_acq_rel) && !self->core_.clock().paused())
        self->arm_timer();
    bool stop;
    {
        std::lock_guard<std::mutex> g(self->mu_);
        stop = self->stopping_;
    }
    if (stop) {
        self->drain();
        // Close every handle still open; uv_run returns once all are closed.
        std::vector<ReactorResource*> rs(self->resources_.begin(), self->resources_.end());
        for (ReactorResource* r : rs) r->close_on_loop();
        uv_close(reinterpret_cast<uv_handle_t*>(&self->timer_), nullptr);
        uv_close(reinterpret_cast<uv_handle_t*>(&self->async_), nullptr);
    }
}

void Reactor::stop() {
    if (!started_) return;
    {
        std::lock_guard<std::mutex> g(mu_);
        if (stopping_) return;
        stopping_ = true;
    }
    uv_async_send(&async_);
    if (thread_.joinable()) thread_.join();
}

}  // namespace braid::detail
