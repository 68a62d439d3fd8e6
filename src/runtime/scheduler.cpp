#include "runtime/scheduler.hpp"

#include <braid/error.h>

#include <algorithm>
#include <climits>
#include <utility>

#include "io/io_driver.hpp"
#include "runtime/core.hpp"
#include "task/coop.hpp"
#include "task/poll_end.hpp"

namespace braid::detail {
namespace {

constinit thread_local Worker* tl_worker [[gnu::tls_model("initial-exec")]] = nullptr;
// The scheduler whose worker the calling thread lent (block_in_place).
thread_local const Scheduler* tl_lent_from = nullptr;

// Metrics (runtime/metrics.hpp), kept out of run_worker's loop so that it
// compiles as before (next_task stays inlined there): a worker is busy
// while it runs the loop, except while it parks.
// Without metrics (kMetricsOn false) they read no clock.
struct BusyStretch {
    WorkerCounters& c;
    explicit BusyStretch(WorkerCounters& counters) : c(counters) {
        if constexpr (kMetricsOn) c.busy_begin(monotonic_ns());
    }
    ~BusyStretch() {
        if constexpr (kMetricsOn) c.busy_end(monotonic_ns());
    }
};
struct ParkStretch {
    WorkerCounters& c;
    explicit ParkStretch(WorkerCounters& counters) : c(counters) {
        if constexpr (!kMetricsOn) return;
        c.parks.add();
        c.busy_end(monotonic_ns());
    }
    ~ParkStretch() {
        if constexpr (kMetricsOn) c.busy_begin(monotonic_ns());
    }
};

inline uint64_t xorshift(uint64_t& s) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

}  // namespace

Scheduler::Scheduler(Core& core, int workers, bool current_thread)
    : core_(core),
      current_thread_(current_thread),
      host_driven_(current_thread && core.config().host_driven),
      slow_poll_ns_(core.config().slow_poll_ms * 1000000),
      idle_(workers, current_thread) {
    for (int i = 0; i < workers; ++i) {
        auto w = std::make_unique<Worker>();
        w->sched = this;
        w->index = i;
        w->rng = 0x9E3779B97F4A7C15ull * uint64_t(i + 1);
        w->counters.owner = &core.counters();
        workers_.push_back(std::move(w));
    }
}

Scheduler::~Scheduler() = default;

Worker* Scheduler::current_worker() const {
    Worker* w = tl_worker;
    return (w && w->sched == this) ? w : nullptr;
}

bool Scheduler::on_any_worker() { return tl_worker != nullptr; }

struct Scheduler::OnThisThread {
    WorkerCounters* prev_counters;
    Core* prev_core;
    OnThisThread(Scheduler& s, Worker& w)
        : prev_counters(std::exchange(tl_worker_counters, &w.counters)),
          prev_core(std::exchange(current_core(), &s.core_)) {
        tl_worker = &w;
    }
    ~OnThisThread() {
        current_core() = prev_core;
        tl_worker = nullptr;
        tl_worker_counters = prev_counters;
    }
    OnThisThread(const OnThisThread&) = delete;
    OnThisThread& operator=(const OnThisThread&) = delete;
};

bool Scheduler::start() {
    if (host_driven_) {
        // The driver's epoll fd is what the host watches: made now.
        int err = 0;
        IoDriver* d = IoDriver::acquire(&core_, &err);
        if (!d) return false;
        d->unref();  // the core keeps its own reference
        hand_to_host(*workers_[0]);
        return true;
    }
    if (current_thread_) return true;
    for (std::size_t i = 0; i < workers_.size(); ++i) {
        Worker& w = *workers_[i];
        try {
            w.thread = std::thread([this, &w] { worker_main(w); });
        } catch (...) {
            stop();
            return false;
        }
    }
    return true;
}

void Scheduler::worker_main(Worker& w) {
    tl_worker = &w;
    tl_worker_counters = &w.counters;
    core_.thread_started("worker");
    {
        BusyStretch busy(w.counters);
        run_worker(w, [this] { return stopping_.load(std::memory_order_acquire); });
    }
    core_.thread_stopping();
    tl_worker = nullptr;
    tl_worker_counters = nullptr;
}

void Scheduler::push_local(Worker& w, Task* t) {
    if (w.queue.push(t)) return;
    // Full: move half of it and t to the inject queue, so other workers
    // (and this one, later) pick them up from there.
    w.counters.overflows.add();
    Task* batch[LocalQueue::kCapacity / 2 + 1];
    uint32_t n = w.queue.take_half(batch);
    if (n == 0) {
        if (w.queue.push(t)) return;  // a thief made room
        inject_.push(t);
        return;
    }
    batch[n++] = t;
    for (uint32_t i = 0; i + 1 < n; ++i) batch[i]->queue_next = batch[i + 1];
    inject_.push_batch(batch[0], batch[n - 1], n);
}

void Scheduler::schedule(Task* t) {
    perturb::Region region;
    Worker* w = current_worker();
    if (w && (current_task() != nullptr || w->in_driver)) {
        // Woken by the task running on this worker, or by the events or
        // timers it takes: run it next.
        w->counters.local_schedules.add();
        if (w->in_driver) {
            // One batch of events or due timers: the first task woken takes
            // the LIFO slot and the rest queue behind it, in the order they
            // were woken (timers in deadline order), shared once the driver
            // is done (park, as_driver).  Each taking the slot from the one
            // before would run the last woken first.
            if (!w->lifo) w->lifo = t;
            else push_local(*w, t);
            return;
        }
        Task* prev = std::exchange(w->lifo, t);
        if (!prev) return;  // this worker gets to it right after the running task
        t = prev;           // the one it displaces waits in the queue
        enqueue(t, Count::No);  // counted already
        return;
    }
    enqueue(t, Count::Schedule);
}

void Scheduler::schedule_new(Task* t) { enqueue(t, Count::Spawn); }

void Scheduler::enqueue(Task* t, Count count) {
    perturb::Region region;
    if (Worker* w = current_worker()) {
        // Counted before it is queued: once queued it may finish (and be
        // counted finished) on another worker.
        // (A spawn is one local schedule too: the snapshot adds the two.)
        if (count == Count::Spawn) w->counters.tasks[kTaskSpawned].add();
        else if (count == Count::Schedule) w->counters.local_schedules.add();
        // Spawned by the task running on this worker: the worker runs it
        // once that task returns, so another worker is woken to share the
        // load only when this one has other work queued.  A chain of tasks
        // each spawning the next (or a task spawning one child and exiting)
        // stays on one worker, with no wake-up of a parked worker that
        // would steal the child and bounce the chain between threads
        // (Tokio's workers notify on a spawn only when they had work
        // already, too).  Outside a task poll (a timer fired by a worker
        // that is about to park, say) nobody is sure to come back to this
        // queue: always notify.
        bool notify = current_task() == nullptr || w->lifo != nullptr || !w->queue.empty();
        push_local(*w, t);
        if (notify) notify_parked();
        return;
    }
    // A spawn from outside is counted once, as a spawn (the snapshot adds
    // those to the remote schedules): one atomic add per remote spawn.
    if (count == Count::Spawn) core_.counters().external_event(kTaskSpawned);
    else if (count == Count::Schedule) core_.counters().remote_schedule();
    if (inject_.push(t)) notify_parked();
    // else: shut down; the task is cancelled through the owned-tasks list.
}

void Scheduler::notify_parked() {
    perturb::Region region;
    // The work this call announces was published before it: order that
    // store before the loads of the idle state (see park).
    perturb::fence(std::memory_order_seq_cst);
    int idx = idle_.worker_to_notify();
    if (idx >= 0) workers_[std::size_t(idx)]->parker.unpark();
}

Task* Scheduler::pop_inject(Worker& w) {
    // A few at a time, and only while the local queue has room to spare:
    // refilling it to the brim makes the next push overflow straight back.
    constexpr std::size_t kMax = 8;
    Task* batch[kMax];
    std::size_t want = w.queue.len() < LocalQueue::kCapacity / 2 ? kMax : 1;
    std::size_t n = inject_.pop_batch(batch, want);
    if (n == 0) return nullptr;
    for (std::size_t i = 1; i < n; ++i) push_local(w, batch[i]);
    return batch[0];
}

// Always inlined into run_worker, as GCC did on its own until the metrics'
// counters tipped its size estimate (then 5 % more instructions a poll).
[[gnu::always_inline]] inline Task* Scheduler::next_task(Worker& w) {
    if (w.lifo) {
        Task* t = w.lifo;
        w.lifo = nullptr;
        if (w.lifo_polls < kMaxLifoPolls) {
            ++w.lifo_polls;
            w.counters.lifo_hits.add();
            return t;
        }
        push_local(w, t);  // let the others run first
    }
    w.lifo_polls = 0;
    // Every kInjectInterval polls, LIFO runs included, the inject queue
    // goes first (a tick-modulo test would skip the turns that fall inside
    // a run of LIFO polls).
    if (w.tick - w.inject_tick >= kInjectInterval) {
        w.inject_tick = w.tick;
        if (Task* t = pop_inject(w)) return t;
    }
    if (Task* t = w.queue.pop()) return t;
    return pop_inject(w);
}

Task* Scheduler::search(Worker& w) {
    if (!w.searching) {
        if (!idle_.transition_to_searching()) return nullptr;
        w.searching = true;
    }
    std::size_t n = workers_.size();
    std::size_t start = std::size_t(xorshift(w.rng) % n);
    for (std::size_t i = 0; i < n; ++i) {
        Worker& victim = *workers_[(start + i) % n];
        if (&victim == &w) continue;
        if (Task* t = victim.queue.steal_into(w.queue)) {
            w.counters.steals.add();
            return t;
        }
    }
    return pop_inject(w);
}

// Inlined into the worker loops (a call, its frame and its return on every
// poll otherwise); the timed poll of a runtime that reports slow polls is
// out of line.
[[gnu::always_inline]] inline void Scheduler::run_task(Worker& w, Task* t) {
    ++w.tick;
    w.counters.polls.add();
    bool again = slow_poll_ns_ > 0 ? run_timed(w, t) : t->run(&w.counters);
    if (again) push_local(w, t);  // woken during its own poll (yield): back of the queue
}

bool Scheduler::run_timed(Worker& w, Task* t) {
    uint64_t id = t->id;  // t may be gone once run() returns
    PollTiming timing{monotonic_ns(), 0};
    w.watch.begin(timing.start);  // the stall watchdog looks at it
    bool again = t->run(&w.counters, &timing);
    w.watch.end();
    if (timing.took > slow_poll_ns_) core_.report_slow_poll(id, timing.took);
    return again;
}

bool Scheduler::work_visible() const {
    if (!inject_.empty()) return true;
    for (const auto& w : workers_)
        if (!w->queue.empty()) return true;
    return false;
}

bool Scheduler::all_idle() const {
    return !stopping_.load(std::memory_order_acquire) && idle_.unparked() == 0 &&
           in_place_.load(std::memory_order_acquire) == 0 && !work_visible();
}

bool Scheduler::in_place_on_this_thread() const { return tl_lent_from == this; }

int Scheduler::block_in_place(void (*fn)(void*), void* arg) {
    Worker& w = *tl_worker;
    in_place_.fetch_add(1, std::memory_order_acq_rel);
    w.reclaim.store(false, std::memory_order_relaxed);
    // The stand-in runs this worker's loop: its LIFO slot, its queue, its
    // place in the idle set, until told to give it back.
    std::thread stand_in;
    try {
        stand_in = std::thread([this, &w] {
            tl_worker = &w;
            core_.thread_started("worker");
            run_worker(w, [this, &w] {
                return stopping_.load(std::memory_order_acquire) || w.reclaim.load(std::memory_order_acquire);
            });
            core_.thread_stopping();
            tl_worker = nullptr;
        });
    } catch (...) {
        in_place_.fetch_sub(1, std::memory_order_acq_rel);
        return BRAID_ETHREAD;
    }
    // This thread is a plain thread of the runtime meanwhile.
    Core*& cc = current_core();
    Core* prev_entered = std::exchange(tl_entered_core, cc);
    cc = nullptr;
    tl_worker = nullptr;
    tl_lent_from = this;
    int* budget = &coop::budget();
    int saved_budget = std::exchange(*budget, -1);
    struct Reclaim {
        Scheduler* s;
        Worker& w;
        std::thread& stand_in;
        Core* prev_entered;
        int* budget;
        int saved_budget;
        ~Reclaim() {
            w.reclaim.store(true, std::memory_order_release);
            w.parker.unpark();
            stand_in.join();  // its loop ended after its current poll; the worker is this thread's again
            *budget = saved_budget;
            tl_lent_from = nullptr;
            tl_worker = &w;
            current_core() = std::exchange(tl_entered_core, prev_entered);
            s->in_place_.fetch_sub(1, std::memory_order_acq_rel);
        }
    } reclaim{this, w, stand_in, prev_entered, budget, saved_budget};
    poll_end::Closed no_deferring;  // what the poll deferred runs now, not after the blocking code
    fn(arg);
    return BRAID_OK;
}

template <class Stop>
bool Scheduler::park(Worker& w, Stop stop) {
    perturb::Region region;
    ParkStretch parked(w.counters);
    Idle::Parked p = idle_.transition_to_parked(w.index, w.searching);
    w.searching = false;
    // Dekker's pattern against notify_parked: a notifier publishes work and
    // then reads the idle state; this worker updated the idle state and
    // now reads the queues.  Without a seq_cst fence on both sides each
    // load may pass its own thread's earlier store (x86 allows exactly
    // this), the notifier sees a searcher that is leaving and this worker
    // sees no work: a task left queued with every worker asleep.
    perturb::fence(std::memory_order_seq_cst);
    if (p.last_searcher && work_visible()) notify_parked();
    if (p.still_unparked == 0 && core_.clock().paused()) core_.auto_advance();
    for (;;) {
        if (stop()) {
            // A notifier that took us off the list counted us as searching.
            if (!idle_.unpark_self(w.index)) w.searching = true;
            return false;
        }
        switch (sleep(w)) {
        case kLeftSelf:
            // Awake for the tasks its events or timers woke (onto its own
            // queue); a worker with nothing to run parks again, the normal
            // way (auto-advance included).
            if (!w.queue.empty()) notify_parked();  // more than it runs next: share
            return false;
        case kSearcher:
            return true;
        case kListed:
            break;
        }
        if (!idle_.is_parked(w.index)) return true;  // woken on purpose, as a searcher
    }
}

Scheduler::Woke Scheduler::sleep(Worker& w) {
    // Before taking the driver: a worker that holds it while it yields
    // leaves nobody in epoll_wait.
    if (w.parker.take_early_notification()) return kListed;
    IoDriver* d = core_.io_driver();
    if (!d || !d->try_lock()) {
        w.parker.park();
        return kListed;
    }
    // Off the sleeper list before the first task is woken onto this worker:
    // until then it still counts as idle (paused time jumps while every
    // worker is idle), and a task in its LIFO slot is seen by nobody else.
    struct Leave {
        Scheduler* s;
        Worker* w;
        Woke woke = kListed;
        static void leave(void* p) {
            auto* l = static_cast<Leave*>(p);
            if (l->woke == kListed) l->woke = l->s->idle_.unpark_self(l->w->index) ? kLeftSelf : kSearcher;
        }
    } lv{this, &w};
    w.in_driver = true;
    w.parker.park_in(
        [&] {
            int64_t next = INT64_MAX;
            d->wait(timer_timeout_ms(&next), &Leave::leave, &lv);
            if (next == INT64_MAX) return;
            int64_t now = core_.clock().now();
            if (now < next) return;
            Leave::leave(&lv);
            core_.timers().fire_due(now);
        },
        &IoDriver::wake_fn, d);
    w.in_driver = false;
    d->unlock();
    return lv.woke;
}

int Scheduler::timer_timeout_ms(int64_t* next) {
    // Paused time jumps when every worker is idle (park), not on a timeout.
    if (core_.clock().paused()) return -1;
    *next = core_.timers().next_deadline();
    if (*next == INT64_MAX) return -1;
    int64_t now = core_.clock().now();
    if (*next <= now) return 0;
    return int(std::min<int64_t>((*next - now + 999999) / 1000000, INT_MAX));
}

void Scheduler::fire_due_as_driver(TimerDriver& timers, int64_t now) {
    as_driver(current_worker(), [&] { timers.fire_due(now); });
}

void Scheduler::poll_driver(Worker& w) {
    if (IoDriver* d = core_.io_driver()) as_driver(&w, [d] { d->poll(); });
}

void Scheduler::driver_ready() {
    // Once per runtime: a spurious wake-up of a running worker costs one
    // more look at the queues.
    for (auto& w : workers_) w->parker.unpark();
}

bool Scheduler::workers_take_io() {
    // The host-driven flavor's events wait for the host's next turn (the
    // host watches the epoll fd), never for the reactor thread.
    if (!current_thread_ || host_driven_) return true;
    std::lock_guard<std::mutex> g(block_on_mu_);
    return block_on_active_;
}

void Scheduler::io_owner_changed() {
    // Under block_on_mu_: the runtime's shutdown (stop) waits for it before
    // the reactor, and with it the driver, goes away.
    if (IoDriver* d = core_.io_driver()) d->sync_fallback();
}

template <class Stop>
void Scheduler::run_worker(Worker& w, Stop stop) {
    tl_poll_watch = &w.watch;
    w.watch.thread.store(pthread_self(), std::memory_order_release);
    while (!stop()) {
        Task* t = next_task(w);
        if (!t) t = search(w);
        if (t) {
            if (w.searching) {
                w.searching = false;
                if (idle_.transition_from_searching()) notify_parked();
            }
            run_task(w, t);
            if (w.tick % kEventInterval == 0) poll_driver(w);
            continue;
        }
        // A worker woken on purpose starts out searching (the notifier counted it).
        if (park(w, stop)) w.searching = true;
    }
    stop_searching(w);
    tl_poll_watch = nullptr;
}

int Scheduler::block_on(Task* target) {
    {
        std::unique_lock<std::mutex> lk(block_on_mu_);
        while (block_on_active_) {
            // Another thread's block_on (or a host's turn) runs the
            // scheduler, and may run the target to its end: be told, and
            // take the turn when that one returns (Tokio's current-thread
            // block_on, called from several threads at once, does the same).
            struct Waiter {
                Scheduler* s;
                static void wake(void* p) {
                    auto* self = static_cast<Waiter*>(p)->s;
                    { std::lock_guard<std::mutex> g(self->block_on_mu_); }
                    self->block_on_cv_.notify_all();
                }
            } waiter{this};
            lk.unlock();
            int st = target->poll_join(&Waiter::wake, &waiter);
            if (st != BRAID_PENDING) return st;
            lk.lock();
            block_on_cv_.wait(lk, [&] {
                return !block_on_active_ || target->is_complete() || stopping_.load(std::memory_order_acquire);
            });
            lk.unlock();
            target->unregister_join();  // waits out a waker being called
            if (target->is_complete()) return target->poll_join(nullptr, nullptr);
            lk.lock();
            if (stopping_.load(std::memory_order_acquire)) return BRAID_ESHUTDOWN;
        }
        if (stopping_.load(std::memory_order_acquire)) return BRAID_ESHUTDOWN;
        block_on_active_ = true;
        io_owner_changed();
    }
    Worker& w = *workers_[0];
    int st;
    {
        OnThisThread on(*this, w);
        if (host_driven_) w.parker.back();
        if (!idle_.unpark_self(0)) w.searching = true;  // a notifier counted it as searching
        // The target's completion unparks this thread.
        st = target->poll_join([](void* p) { static_cast<Worker*>(p)->parker.unpark(); }, &w);
        if (st == BRAID_PENDING) {
            BusyStretch busy(w.counters);
            run_worker(w, [&] { return stopping_.load(std::memory_order_acquire) || target->is_complete(); });
            target->unregister_join();
            st = target->poll_join(nullptr, nullptr);
        }
        stop_searching(w);
        idle_.transition_to_parked(0, false);
        if (host_driven_) hand_to_host(w);
    }
    {
        std::lock_guard<std::mutex> g(block_on_mu_);
        block_on_active_ = false;
        io_owner_changed();
    }
    block_on_cv_.notify_all();
    return st == BRAID_PENDING ? BRAID_ESHUTDOWN : st;
}

int Scheduler::turn(int max_polls) {
    if (!host_driven_) return BRAID_ENOTSUP;
    {
        std::lock_guard<std::mutex> g(block_on_mu_);
        if (block_on_active_) return BRAID_EBUSY;
        if (stopping_.load(std::memory_order_acquire)) return BRAID_ESHUTDOWN;
        block_on_active_ = true;
    }
    Worker& w = *workers_[0];
    w.parker.back();
    int polls = 0;
    {
        OnThisThread on(*this, w);
        if (!idle_.unpark_self(0)) w.searching = true;  // a notifier counted it as searching
        BusyStretch busy(w.counters);
        tl_poll_watch = &w.watch;
        w.watch.thread.store(pthread_self(), std::memory_order_release);
        // The events (and the wake-up that made the fd readable) and the due
        // timers first: what they wake runs in this turn.
        w.in_driver = true;
        if (IoDriver* d = core_.io_driver()) d->poll(true);
        int64_t now = core_.clock().now();
        if (core_.timers().next_deadline() <= now) core_.timers().fire_due(now);
        w.in_driver = false;
        while (polls < max_polls) {
            Task* t = next_task(w);
            if (!t) break;
            run_task(w, t);
            ++polls;
            if (w.tick % kEventInterval == 0) poll_driver(w);
        }
        stop_searching(w);
        tl_poll_watch = nullptr;
        idle_.transition_to_parked(0, false);
        hand_to_host(w);
    }
    {
        std::lock_guard<std::mutex> g(block_on_mu_);
        block_on_active_ = false;
    }
    block_on_cv_.notify_all();  // a Handle::block_on waiting for its turn
    // Paused time jumps while nothing runs, as when every worker parks.
    if (core_.clock().paused()) core_.auto_advance();
    return polls;
}

void Scheduler::stop_searching(Worker& w) {
    if (!w.searching) return;
    w.searching = false;
    idle_.transition_from_searching();
}

void Scheduler::hand_to_host(Worker& w) {
    IoDriver* d = core_.io_driver();
    if (!d) return;  // the reactor stopped: shutting down
    // Dekker's pattern against notify_parked, as in park: the idle state was
    // updated (transition_to_parked) and the queues are read after this fence.
    perturb::fence(std::memory_order_seq_cst);
    w.parker.away(&IoDriver::wake_fn, d);
    if (w.lifo || work_visible()) d->wake();
}

void Scheduler::stop() {
    stopping_.store(true, std::memory_order_release);
    idle_.clear();
    for (auto& w : workers_) w->parker.unpark();
    for (auto& w : workers_)
        if (w->thread.joinable()) w->thread.join();
    if (current_thread_) {
        std::unique_lock<std::mutex> lk(block_on_mu_);
        block_on_cv_.wait(lk, [&] { return !block_on_active_; });
    }
    inject_.close();
    for (auto& w : workers_) {
        w->lifo = nullptr;
        while (w->queue.pop()) {
        }
    }
}

}  // namespace braid::detail
