#include "runtime/stall_watchdog.hpp"

#include <braid/stall.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <fmt/core.h>

#if defined(__linux__) && defined(__GLIBC__)
#include <execinfo.h>
#define BRAID_STALL_BACKTRACE 1
#endif

#include "runtime/core.hpp"
#include "task/task.hpp"

namespace braid::detail {

constinit thread_local PollWatch* tl_poll_watch [[gnu::tls_model("initial-exec")]] = nullptr;

namespace {

#ifdef BRAID_STALL_BACKTRACE
int stall_signal() { return SIGRTMIN + 6; }

// On the stuck worker's thread: only async-signal-safe work (loads, copies,
// clock_gettime, backtrace with libgcc loaded already).
void on_stall_signal(int) {
    int saved = errno;
    PollWatch* w = tl_poll_watch;
    if (w && w->done.load(std::memory_order_acquire) == 0) {
        int64_t wanted = w->wanted.load(std::memory_order_acquire);
        int64_t start = w->poll_start.load(std::memory_order_acquire);
        Task* t = current_task();
        if (wanted != 0 && start == wanted && t) {
            w->task_id = t->id;
            const char* n = t->name();
            std::size_t len = 0;
            if (n)
                while (len + 1 < sizeof w->name && n[len]) {
                    w->name[len] = n[len];
                    ++len;
                }
            w->name[len] = '\0';
            Task::Site site = t->site();
            w->file = site.file;
            w->function = site.function;
            w->line = site.line;
            w->elapsed_ns = monotonic_ns() - start;
            w->frame_count = backtrace(w->frames, PollWatch::kMaxFrames);
            w->done.store(1, std::memory_order_release);
        } else {
            w->done.store(2, std::memory_order_release);
        }
    }
    errno = saved;
}

void install_handler() {
    static std::once_flag once;
    std::call_once(once, [] {
        // Loads libgcc's unwinder now: backtrace() may not load it inside
        // the handler (dlopen is not async-signal-safe).
        void* warm[2];
        backtrace(warm, 2);
        struct sigaction sa {};
        sa.sa_handler = &on_stall_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        sigaction(stall_signal(), &sa, nullptr);
    });
}
#endif

}  // namespace

bool StallWatchdog::start() {
    if (core_.config().slow_poll_ms <= 0) return false;
#ifdef BRAID_STALL_BACKTRACE
    install_handler();
#endif
    try {
        thread_ = std::thread([this] { run(); });
    } catch (...) {
        return false;
    }
    return true;
}

void StallWatchdog::stop() {
    {
        std::lock_guard<std::mutex> g(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void StallWatchdog::run() {
    const int64_t threshold = core_.config().slow_poll_ms * 1000000;
    const auto period = std::chrono::nanoseconds(threshold / 4 > 1000000 ? threshold / 4 : 1000000);
    Scheduler& sched = core_.scheduler();
    std::vector<int64_t> reported(std::size_t(sched.worker_count()), 0);  // the last poll reported, per worker
    std::unique_lock<std::mutex> lk(mu_);
    while (!cv_.wait_for(lk, period, [&] { return stopping_; })) {
        lk.unlock();
        int64_t now = monotonic_ns();
        for (int i = 0; i < sched.worker_count(); ++i) check(i, sched.poll_watch(i), now, reported[std::size_t(i)]);
        lk.lock();
    }
}

void StallWatchdog::check(int index, PollWatch& w, int64_t now, int64_t& reported) {
    int64_t start = w.poll_start.load(std::memory_order_acquire);
    int64_t threshold = core_.config().slow_poll_ms * 1000000;
    if (start == 0 || start == reported || now - start < threshold) return;
    reported = start;
#ifdef BRAID_STALL_BACKTRACE
    w.done.store(0, std::memory_order_relaxed);
    w.wanted.store(start, std::memory_order_release);
    if (pthread_kill(w.thread.load(std::memory_order_acquire), stall_signal()) == 0) {
        // The handler answers at once unless the thread is blocked in a
        // system call that does not return on signals; give up after 1 s.
        for (int i = 0; i < 1000 && w.done.load(std::memory_order_acquire) == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    int done = w.done.load(std::memory_order_acquire);
    w.wanted.store(0, std::memory_order_release);
    if (done == 2) return;  // the poll ended meanwhile: the slow-poll line reports it
    if (done == 1) return report(index, w, true, w.elapsed_ns);
    // No answer: report without the stack (task unknown: it may be gone).
#endif
    report(index, w, false, now - start);
}

void StallWatchdog::report(int index, PollWatch& w, bool captured, int64_t elapsed) {
    stalls_.fetch_add(1, std::memory_order_relaxed);
    int n = captured ? w.frame_count : 0;
    const Config& cfg = core_.config();
    if (cfg.on_stall) {
        char** symbols = nullptr;
#ifdef BRAID_STALL_BACKTRACE
        if (n > 0) symbols = backtrace_symbols(w.frames, n);
#endif
        braid_stall_report r{};
        r.size = sizeof r;
        r.task_id = captured ? w.task_id : 0;
        r.name = captured && w.name[0] ? w.name : nullptr;
        r.file = captured ? w.file : nullptr;
        r.line = captured ? w.line : 0;
        r.function = captured ? w.function : nullptr;
        r.worker = index;
        r.elapsed_ns = elapsed;
        r.frame_count = symbols ? std::size_t(n) : 0;
        r.frames = w.frames;
        r.symbols = symbols;
        cfg.on_stall(cfg.on_stall_data, &r);
        std::free(symbols);
        return;
    }
    if (!captured) {
        fmt::print(stderr, "braid: worker {} is stuck in a task poll for {:.1f} ms (its stack could not be taken)\n",
                   index, double(elapsed) / 1e6);
        return;
    }
    fmt::print(stderr, "braid: task {}{}{}{} has kept worker {} for {:.1f} ms without suspending", w.task_id,
               w.name[0] ? " \"" : "", w.name, w.name[0] ? "\"" : "", index, double(elapsed) / 1e6);
    if (w.file) fmt::print(stderr, " (spawned at {}:{}{}{})", w.file, w.line, w.function ? " in " : "",
                           w.function ? w.function : "");
    fmt::print(stderr, "; its stack now:\n");
    std::fflush(stderr);
#ifdef BRAID_STALL_BACKTRACE
    backtrace_symbols_fd(w.frames, n, 2);
#endif
}

}  // namespace braid::detail
