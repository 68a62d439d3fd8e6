#include "task/local_set.hpp"

#include <braid/error.h>

#include <utility>
#include <vector>

#include "runtime/core.hpp"
#include "task/task.hpp"

namespace braid::detail {
namespace {
thread_local LocalSet* tl_local_set = nullptr;

struct CurrentSet {
    LocalSet* saved;
    explicit CurrentSet(LocalSet* s) : saved(std::exchange(tl_local_set, s)) {}
    ~CurrentSet() { tl_local_set = saved; }
};
}  // namespace

LocalSet* LocalSet::current() { return tl_local_set; }

namespace {
// Every live set, for the task dump (sets are made rarely: one lock).
constinit std::mutex g_live_mu;
constinit LocalSet* g_live_head = nullptr;
}  // namespace

LocalSet::LocalSet() {
    std::lock_guard<std::mutex> g(g_live_mu);
    live_next_ = g_live_head;
    if (g_live_head) g_live_head->live_prev_ = this;
    g_live_head = this;
}

LocalSet::~LocalSet() {
    // First: a dump that found the set in the registry meanwhile sees its
    // last reference gone (try_ref fails) and lets it be.
    std::lock_guard<std::mutex> g(g_live_mu);
    if (live_prev_) live_prev_->live_next_ = live_next_;
    else g_live_head = live_next_;
    if (live_next_) live_next_->live_prev_ = live_prev_;
}

bool LocalSet::try_ref() {
    uint64_t n = refs_.load(std::memory_order_relaxed);
    do {
        if (n == 0) return false;
    } while (!refs_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
    return true;
}

void LocalSet::reference_tasks(const Core* core, std::vector<Task*>& out) {
    // The sets are referenced under the registry lock and looked at after
    // it: a set's lock is held while its driver's waker runs, which may
    // drop the last reference of another set (whose destructor takes the
    // registry lock).
    struct Sets {
        std::vector<LocalSet*> v;
        ~Sets() {
            for (LocalSet* s : v) s->unref();
        }
    } sets;
    {
        std::lock_guard<std::mutex> g(g_live_mu);
        for (LocalSet* s = g_live_head; s; s = s->live_next_) {
            sets.v.push_back(s);  // may throw: before the reference
            if (!s->try_ref()) sets.v.pop_back();
        }
    }
    for (LocalSet* s : sets.v) {
        std::lock_guard<std::mutex> g(s->mu_);
        // A task in tasks_ has not completed: it still holds its own
        // reference, so taking one here is safe.
        for (Task* t : s->tasks_) {
            if (t->core != core) continue;
            out.push_back(t);  // may throw: before the reference
            t->ref();
        }
    }
}

int LocalSet::enter(LocalSet** prev) {
    *prev = nullptr;
    if (!on_own_thread()) return BRAID_EINVAL;
    ref();  // the entered thread's, dropped by exit
    *prev = std::exchange(tl_local_set, this);
    return BRAID_OK;
}

int LocalSet::exit(LocalSet* prev) {
    if (tl_local_set != this) return BRAID_EINVAL;
    tl_local_set = prev;
    unref();
    return BRAID_OK;
}

int LocalSet::start(Task* t) {
    if (!t->mark_started()) return BRAID_EBUSY;
    t->kind = TaskKind::Local;
    t->local_set = this;
    ref();  // the task's, dropped when its memory goes
    std::unique_lock<std::mutex> lk(mu_);
    if (closed_) {
        lk.unlock();
        t->complete(BRAID_ECANCELED);  // never ran: no cancel call
        return BRAID_ECLOSED;
    }
    tasks_.insert(t);
    lk.unlock();
    schedule(t);
    return BRAID_OK;
}

void LocalSet::schedule(Task* t) {
    std::lock_guard<std::mutex> g(mu_);
    if (closed_) return;  // close() cancels it
    t->queue_next = nullptr;
    bool was_empty = head_ == nullptr;
    if (tail_) tail_->queue_next = t;
    else head_ = t;
    tail_ = t;
    // Under the lock: the driver's waker is a task wake or a condition
    // variable's notify (neither calls back into the set).
    if (was_empty && wake_) wake_(wake_data_);
}

void LocalSet::forget(Task* t) {
    std::lock_guard<std::mutex> g(mu_);
    tasks_.erase(t);
}

bool LocalSet::on_own_thread() {
    std::thread::id me = std::this_thread::get_id();
    std::thread::id none{};
    if (owner_.compare_exchange_strong(none, me, std::memory_order_acq_rel)) return true;
    return none == me;
}

bool LocalSet::run_ready(int n) {
    CurrentSet cur(this);
    for (int i = 0; i < n; ++i) {
        Task* t;
        {
            std::lock_guard<std::mutex> g(mu_);
            t = head_;
            if (!t) return false;
            head_ = t->queue_next;
            if (!head_) tail_ = nullptr;
        }
        if (t->run()) schedule(t);  // woken during its own poll: behind the others
    }
    std::lock_guard<std::mutex> g(mu_);
    return head_ != nullptr;
}

int LocalSet::poll(braid_wake_fn wake, void* data) {
    if (!on_own_thread()) return BRAID_EINVAL;
    if (!wake) {
        std::lock_guard<std::mutex> g(mu_);
        wake_ = nullptr;
        wake_data_ = nullptr;
        return BRAID_PENDING;
    }
    bool more = run_ready(kTasksPerPoll);
    std::lock_guard<std::mutex> g(mu_);
    wake_ = wake;
    wake_data_ = data;
    if (more || head_) wake(data);  // yield to the driver's other work, then go on
    return BRAID_PENDING;
}

int LocalSet::block_on(Core* core, Task* main) {
    if (main->kind != TaskKind::Local || main->local_set != this) return BRAID_EINVAL;
    if (current_core() != nullptr || Core::in_shutdown_callbacks()) return BRAID_EDEADLK;
    if (!on_own_thread()) return BRAID_EINVAL;
    if (core->scheduler().current_thread()) return block_on_current_thread(core, main);
    return block_on_plain(core, main);
}

int LocalSet::block_on_plain(Core* core, Task* main) {
    // This thread is a plain one entered into the runtime meanwhile.
    Core* prev = std::exchange(tl_entered_core, core);
    struct Cv {
        std::mutex mu;
        std::condition_variable cv;
        bool woken = false;
        static void wake(void* p) {
            auto* c = static_cast<Cv*>(p);
            {
                std::lock_guard<std::mutex> g(c->mu);
                c->woken = true;
            }
            c->cv.notify_one();
        }
    } cv;
    while (!main->is_complete()) {
        poll(&Cv::wake, &cv);
        if (main->is_complete()) break;
        std::unique_lock<std::mutex> lk(cv.mu);
        cv.cv.wait(lk, [&] { return cv.woken; });
        cv.woken = false;
    }
    poll(nullptr, nullptr);  // the waker goes with this frame
    tl_entered_core = prev;
    return main->poll_join(nullptr, nullptr);
}

namespace {
// The task that drives a set on a current-thread runtime's block_on thread.
struct Driver {
    LocalSet* set;
    Task* main;
    static int poll(void* p, braid_task* self) {
        auto* d = static_cast<Driver*>(p);
        int rc = d->set->poll(&braid_task_wake_fn, self);
        if (rc < 0) return rc;
        if (!d->main->is_complete()) return BRAID_PENDING;
        d->set->poll(nullptr, nullptr);
        return BRAID_OK;
    }
    static void cancel(void* p) { static_cast<Driver*>(p)->set->poll(nullptr, nullptr); }
};
}  // namespace

int LocalSet::block_on_current_thread(Core* core, Task* main) {
    Task* t = Task::create(core, sizeof(Driver), &task_vtable<Driver>, 2);
    if (!t) return BRAID_ENOMEM;
    new (t->state_ptr()) Driver{this, main};
    int rc = t->start(TaskKind::Worker);
    if (rc == BRAID_OK) rc = core->scheduler().block_on(t);
    t->drop_handle();
    if (rc < 0 && rc != BRAID_EPANIC) return rc;
    return main->is_complete() ? main->poll_join(nullptr, nullptr) : BRAID_ESHUTDOWN;
}

int LocalSet::close() {
    std::thread::id owner = owner_.load(std::memory_order_acquire);
    if (owner != std::thread::id{} && owner != std::this_thread::get_id()) return BRAID_EINVAL;
    std::vector<Task*> live;
    {
        std::lock_guard<std::mutex> g(mu_);
        closed_ = true;
        head_ = tail_ = nullptr;
        wake_ = nullptr;
        for (Task* t : tasks_) {
            t->ref();
            live.push_back(t);
        }
    }
    CurrentSet cur(this);
    for (Task* t : live) {
        if (t->seize_for_close()) t->cancel_and_complete(BRAID_ECANCELED);
        t->unref();
    }
    return BRAID_OK;
}

}  // namespace braid::detail
