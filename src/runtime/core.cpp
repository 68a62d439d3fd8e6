#include "runtime/core.hpp"

#include <braid/error.h>
#include <pthread.h>

#include <fmt/core.h>

#include <cstdlib>
#include <thread>
#include <utility>

#include "io/io_driver.hpp"
#include "runtime/dump_signal.hpp"

namespace braid::detail {

constinit thread_local Core* tl_current_core [[gnu::tls_model("initial-exec")]] = nullptr;
constinit thread_local Core* tl_entered_core [[gnu::tls_model("initial-exec")]] = nullptr;

int Config::resolved_workers() const {
    if (current_thread) return 1;
    if (worker_threads > 0) return worker_threads;
    if (const char* env = std::getenv("BRAID_WORKER_THREADS")) {
        char* end = nullptr;
        long n = std::strtol(env, &end, 10);
        if (end != env && *end == '\0' && n > 0 && n <= 1024) return int(n);
    }
    unsigned hc = std::thread::hardware_concurrency();
    return hc ? int(hc) : 1;
}

Core::Core(const Config& cfg)
    : cfg_(cfg),
      clock_(cfg.start_paused),
      timers_(clock_, &Core::rearm_timers, this),
      reactor_(*this),
      signals_(reactor_),
      sched_(*this, cfg.resolved_workers(), cfg.current_thread),
      pool_(*this, cfg.max_blocking_threads, cfg.blocking_keep_alive_ms) {}

Core::~Core() {
    if (io_kept_) io_kept_->unref();
}

void Core::set_io_driver(IoDriver* d) {
    // Made once per Core (IoDriver::acquire refuses once the reactor stops).
    d->ref();
    io_kept_ = d;
    io_driver_.store(d, std::memory_order_seq_cst);
}

void Core::rearm_timers(void* self) {
    auto* c = static_cast<Core*>(self);
    if (!c->clock_.paused()) {
        c->reactor_.rearm_timer();
        return;
    }
    // Paused: a timer registered while every worker is idle (from outside
    // the runtime, or by a waker) must still be auto-advanced to.  A woken
    // worker that finds nothing to do parks again, and the last one to park
    // advances the clock.
    c->sched_.notify_parked();
}

int Core::start() {
    // The socket first: a bad path is refused before any thread starts.
    if (!cfg_.live_view_path.empty()) {
        if (int rc = live_view_.start(cfg_.live_view_path); rc != BRAID_OK) return rc;
    }
    if (!reactor_.start()) {
        live_view_.stop();
        return BRAID_ETHREAD;
    }
    if (!sched_.start()) {
        live_view_.stop();
        reactor_.stop();
        return BRAID_ETHREAD;
    }
    if (cfg_.slow_poll_ms > 0 && !watchdog_.start()) {
        live_view_.stop();
        sched_.stop();
        reactor_.stop();
        return BRAID_ETHREAD;
    }
    if (cfg_.dump_signal != 0) watch_dump_signal(this, cfg_.dump_signal);
    return BRAID_OK;
}

constinit thread_local CoreRefCache tl_core_refs [[gnu::tls_model("initial-exec")]];

void Core::release_refs(uint64_t k) {
    if (refs_.fetch_sub(k, std::memory_order_acq_rel) == k) delete this;
}

void Core::thread_started(const char* role) {
    current_core() = this;
    tl_core_refs = CoreRefCache{this, 0};
    (void)role;
    pthread_setname_np(pthread_self(), cfg_.thread_name.substr(0, 15).c_str());
    if (cfg_.on_start) cfg_.on_start(cfg_.on_start_data);
}

void Core::thread_stopping() {
    if (cfg_.on_stop) cfg_.on_stop(cfg_.on_stop_data);
    current_core() = nullptr;
    // Last: the cached references may be the last ones (a blocking thread
    // left running past a shutdown's timeout ends after the owner let go).
    uint64_t cached = std::exchange(tl_core_refs, CoreRefCache{}).n;
    if (cached) release_refs(cached);
}

void Core::report_slow_poll(uint64_t task_id, int64_t ns) {
    slow_polls_.fetch_add(1, std::memory_order_relaxed);
    fmt::print(stderr,
               "braid: task {} kept its worker for {:.1f} ms without suspending "
               "(blocking work belongs in spawn_blocking)\n",
               task_id, double(ns) / 1e6);
}

bool Core::is_own_thread() const { return current_core() == this || sched_.in_place_on_this_thread(); }

int Core::start_task(Task* t) {
    if (t->kind == TaskKind::Blocking) {
        if (shutting_down() || !pool_.push(t)) {
            t->complete(BRAID_ESHUTDOWN);  // refused: never started, so no cancel
            return BRAID_ESHUTDOWN;
        }
        return BRAID_OK;
    }
    if (!owned_.insert(t)) {
        t->complete(BRAID_ESHUTDOWN);  // refused: never started, so no cancel
        return BRAID_ESHUTDOWN;
    }
    sched_.schedule_new(t);  // counts the spawn
    return BRAID_OK;
}

namespace {
// Depth of shutdowns running callbacks on this thread (one runtime's
// shutdown may free another runtime from a callback).
int& shutdown_callback_depth() {
    thread_local int depth = 0;
    return depth;
}
struct ShutdownCallbacks {
    ShutdownCallbacks() { ++shutdown_callback_depth(); }
    ~ShutdownCallbacks() { --shutdown_callback_depth(); }
};
}  // namespace

bool Core::in_shutdown_callbacks() { return shutdown_callback_depth() > 0; }

bool Core::may_block_on() {
    // A blocking job's thread that runs a current-thread runtime (its
    // block_on drives it) is that runtime's driver meanwhile: refused there.
    if (Scheduler::on_any_worker() || in_shutdown_callbacks()) return false;
    return current_core() == nullptr || BlockingPool::on_pool_thread();
}

int Core::shutdown(int64_t timeout_ms) {
    if (is_own_thread()) return BRAID_EDEADLK;
    // A callback that this shutdown runs (on this thread) frees the runtime
    // again: the lock below is ours already.
    if (shutdown_owner_.load(std::memory_order_acquire) == std::this_thread::get_id()) return BRAID_EDEADLK;
    std::lock_guard<std::mutex> g(shutdown_mu_);
    shutdown_owner_.store(std::this_thread::get_id(), std::memory_order_release);
    struct Owner {
        std::atomic<std::thread::id>& owner;
        ~Owner() { owner.store(std::thread::id(), std::memory_order_release); }
    } owner{shutdown_owner_};
    if (shut_down_) {
        // Blocking jobs left running by a shutdown that timed out: wait for
        // them again (braid_runtime_free: without limit).
        if (shutdown_result_ == BRAID_ETIMEDOUT && pool_.shutdown(timeout_ms)) shutdown_result_ = BRAID_OK;
        return shutdown_result_;
    }
    ShutdownCallbacks calling_back;
    if (cfg_.dump_signal != 0) unwatch_dump_signal(this);
    live_view_.stop();
    watchdog_.stop();
    {
        // No task dump holds a task while the shutdown cancels them.
        std::lock_guard<std::mutex> dg(dump_mu_);
        shutting_down_.store(true, std::memory_order_release);
    }
    owned_.close();
    sched_.stop();
    // Every worker task that is still alive is cancelled here, on this
    // thread: futures dropped, destructors run, C callbacks told.  They run
    // in the runtime's context, as on a worker: Handle::current() (and
    // whatever else asks for the calling thread's runtime) finds this one,
    // and a destructor that spawns (with no runtime named) reaches it and is
    // refused as during any shutdown (BRAID_ESHUTDOWN; the C++ spawn then
    // drops the task and gives a cancelled handle).
    {
        Core*& cc = current_core();
        Core* prev = std::exchange(cc, this);
        while (Task* t = owned_.pop()) t->cancel_and_complete(BRAID_ECANCELED);
        cc = prev;
    }
    bool drained = pool_.shutdown(timeout_ms);
    timers_.close();
    reactor_.stop();
    shut_down_ = true;
    shutdown_result_ = drained ? BRAID_OK : BRAID_ETIMEDOUT;
    return shutdown_result_;
}

int Core::advance(int64_t ns) {
    if (!clock_.paused() || ns < 0) return BRAID_EINVAL;
    clock_.advance_to(add_sat(clock_.now(), ns));  // saturates short of the far future
    sched_.fire_due_as_driver(timers_, clock_.now());  // in deadline order, from a task too
    return BRAID_OK;
}

int Core::pause() {
    std::lock_guard<std::mutex> g(pause_mu_);
    if (!clock_.pause()) return BRAID_EINVAL;
    // Idle workers park again, and the last one auto-advances.
    sched_.notify_parked();
    return BRAID_OK;
}

int Core::resume() {
    std::lock_guard<std::mutex> g(pause_mu_);
    if (!clock_.resume()) return BRAID_EINVAL;
    reactor_.rearm_timer();  // the timers wait for real time again
    return BRAID_OK;
}

bool Core::auto_advance() {
    // One thread at a time: a second one would read the next deadline while
    // the first one's wakers are still scheduling tasks, and jump past them.
    std::lock_guard<std::mutex> g(auto_advance_mu_);
    bool fired = false;
    // Until something runs: a firing whose wakers scheduled no task (a
    // waker that only counts, a timer freed as it fired) leaves every
    // worker idle, and the next deadline is due next.
    while (pool_.busy() == 0 && sched_.all_idle()) {
        int64_t next = timers_.next_deadline();
        if (next == INT64_MAX) break;  // none, or only the far future
        clock_.advance_to(next);
        timers_.fire_due(clock_.now());
        fired = true;
    }
    return fired;
}

}  // namespace braid::detail
