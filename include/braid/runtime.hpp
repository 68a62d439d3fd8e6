// braid::Runtime, its Builder, Handle, and braid::run.
#pragma once

#include <braid/detail/spawn_state.hpp>
#include <braid/error.hpp>
#include <braid/join_handle.hpp>
#include <braid/metrics.hpp>
#include <braid/runtime.h>
#include <braid/stall.h>
#include <braid/task_dump.h>
#include <braid/task.hpp>
#include <braid/time.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace braid {

namespace detail {
struct ThreadHooks {
    std::function<void()> on_start, on_stop;
    static void start(void* p) { static_cast<ThreadHooks*>(p)->on_start(); }
    static void stop(void* p) { static_cast<ThreadHooks*>(p)->on_stop(); }
};
struct HandleDeleter {
    void operator()(braid_handle* h) const noexcept { braid_handle_free(h); }
};

// Runs a spawned task to completion on the calling thread's behalf and gives
// its value.  `Owner`: braid_runtime (braid_runtime_block_on) or braid_handle
// (braid_handle_block_on).
template <class T, class Owner>
T finish_block_on(int (*block_on)(Owner*, braid_task*), Owner* owner, braid_task* t, Result<T>* result) {
    JoinHandle<T> h(t, result);
    int st = block_on(owner, t);
    if (st == BRAID_EDEADLK || st == BRAID_EBUSY || st == BRAID_EINVAL) throw Error(st, "block_on");
    return h.take();
}
}  // namespace detail

// The runtime entered on this thread (Runtime::enter, Handle::enter) until
// the guard goes: Handle::current(), spawn and timers find it there, while
// the thread stays a plain one (it may block and block_on).  Guards nest;
// destroy them in reverse order on the thread that made them (a guard
// destroyed out of order or elsewhere leaves the runtime entered).
class [[nodiscard]] EnterGuard {
public:
    explicit EnterGuard(braid_enter_guard* g) noexcept : g_(g) {}
    EnterGuard(const EnterGuard&) = delete;
    EnterGuard& operator=(const EnterGuard&) = delete;
    ~EnterGuard() { braid_runtime_exit(g_); }

private:
    braid_enter_guard* g_;
};

// A reference to a runtime that any thread can keep and spawn through.
class Handle {
public:
    explicit Handle(braid_handle* h) : h_(h) {}
    // The runtime of the calling worker or blocking thread.
    static Handle current() {
        braid_handle* h = nullptr;
        detail::check(braid_handle_current(&h), "Handle::current (not on a runtime thread)");
        return Handle(h);
    }
    // The runtime of the calling thread (as current()), or std::nullopt on a
    // thread in no runtime (Tokio's try_current).
    static std::optional<Handle> try_current() {
        braid_handle* h = nullptr;
        if (braid_handle_current(&h) != BRAID_OK) return std::nullopt;
        return Handle(h);
    }
    Handle clone() const {
        braid_handle* h = nullptr;
        detail::check(braid_handle_clone(&h, h_.get()), "Handle::clone");
        return Handle(h);
    }

    // From any thread.  Once the runtime is shutting down (or gone) the
    // task is dropped and the handle reports it cancelled (braid/spawn.hpp).
    template <class T>
    JoinHandle<T> spawn(Task<T> task, std::source_location loc = std::source_location::current()) const {
        return detail::spawn_or_cancelled<T, braid_handle>(&braid_handle_task_new_in, h_.get(), std::move(task),
                                                           {loc});
    }
    // spawn, reporting a refusal (BRAID_ESHUTDOWN).
    template <class T>
    SpawnResult<T> try_spawn(Task<T> task, std::source_location loc = std::source_location::current()) const {
        return detail::try_spawn_with<T, braid_handle>(&braid_handle_task_new_in, h_.get(), std::move(task), {loc});
    }

    // A snapshot of the runtime's metrics, and the same as text
    // (braid/metrics.hpp; also once the runtime is shut down).
    RuntimeMetrics metrics() const { return RuntimeMetrics::take(h_.get()); }
    std::string metrics_text(MetricsFormat f) const { return RuntimeMetrics::text(h_.get(), f); }

    // Runs f() on the runtime's blocking pool, from any thread (as
    // braid::spawn_blocking, braid/spawn.hpp).
    template <class F>
    auto spawn_blocking(F f, std::source_location loc = std::source_location::current()) const
        -> JoinHandle<std::invoke_result_t<F&>> {
        using R = std::invoke_result_t<F&>;
        braid_task* t = nullptr;
        detail::Result<R>* result = nullptr;
        int rc = detail::try_spawn_blocking_task(std::move(f), &t, &result, h_.get(), {loc});
        if (rc == BRAID_ESHUTDOWN) return JoinHandle<R>::cancelled();
        detail::check(rc, "Handle::spawn_blocking");
        return JoinHandle<R>(t, result);
    }

    // Runs `task` to completion from a thread that is no runtime's worker
    // (a plain thread, a blocking job: spawn_blocking([h] { return
    // h.block_on(work()); }) runs async code from a job), and returns its
    // value (or rethrows); Tokio's Handle::block_on.
    // On a current-thread runtime whose block_on runs on another thread,
    // it waits for the task to finish there or for its turn.  Throws
    // braid::Error(BRAID_EDEADLK) on a worker or the thread running a
    // current-thread runtime (inside a task: use task::block_in_place
    // first), BRAID_ESHUTDOWN once the runtime is shut down.
    template <class T>
    T block_on(Task<T> task, std::source_location loc = std::source_location::current()) const {
        braid_task* t = nullptr;
        detail::Result<T>* result = nullptr;
        detail::check(detail::try_spawn_task<T, braid_handle>(&braid_handle_task_new_in, h_.get(), std::move(task), &t,
                                                              &result, {loc}),
                      "Handle::block_on");
        return detail::finish_block_on<T, braid_handle>(&braid_handle_block_on, h_.get(), t, result);
    }

    // Enters the runtime on this thread until the guard goes (EnterGuard).
    EnterGuard enter() const {
        braid_enter_guard* g = nullptr;
        detail::check(braid_handle_enter(&g, h_.get()), "Handle::enter");
        return EnterGuard(g);
    }

    braid_handle* native_handle() const noexcept { return h_.get(); }

private:
    std::unique_ptr<braid_handle, detail::HandleDeleter> h_;
};

class Runtime {
public:
    class Builder {
    public:
        Builder() { detail::check(braid_runtime_builder_new(&b_), "Runtime::builder"); }
        Builder(Builder&& o) noexcept : b_(std::exchange(o.b_, nullptr)), hooks_(std::move(o.hooks_)) {}
        Builder(const Builder&) = delete;
        ~Builder() { braid_runtime_builder_free(b_); }

        Builder& worker_threads(int n) { return set(braid_runtime_builder_worker_threads(b_, n)); }
        Builder& current_thread() { return set(braid_runtime_builder_current_thread(b_)); }
        // Driven by the host's event loop: watch fd(), call turn() when it is
        // readable (braid_runtime_builder_host_driven).
        Builder& host_driven() { return set(braid_runtime_builder_host_driven(b_)); }
        Builder& thread_name(const std::string& name) {
            return set(braid_runtime_builder_thread_name(b_, name.c_str()));
        }
        Builder& max_blocking_threads(int n) { return set(braid_runtime_builder_max_blocking_threads(b_, n)); }
        // Durations (keep-alive, slow-poll limit): 0 .. 10^12 ms; beyond
        // that braid::Error(BRAID_ERANGE), below 0 BRAID_EINVAL.
        Builder& thread_keep_alive(std::chrono::milliseconds d) {
            return set(braid_runtime_builder_blocking_keep_alive_ms(b_, d.count()));
        }
        Builder& start_paused(bool paused = true) { return set(braid_runtime_builder_start_paused(b_, paused)); }
        // Report polls that keep a worker longer than `limit` (0: off).
        Builder& slow_poll_warning(std::chrono::milliseconds limit) {
            return set(braid_runtime_builder_slow_poll_ms(b_, limit.count()));
        }
        // Stall reports (braid/stall.h) go to `fn` instead of stderr.
        Builder& on_stall(braid_stall_fn fn, void* user_data) {
            return set(braid_runtime_builder_on_stall(b_, fn, user_data));
        }
        // Print the task dump to stderr on `signo` (braid/task_dump.h).
        Builder& dump_signal(int signo) { return set(braid_runtime_builder_dump_signal(b_, signo)); }
        // The live view's Unix socket (braid_runtime_builder_live_view; "" turns it
        // off): tools/braid_top reads snapshots from it.
        Builder& live_view(const std::string& path) {
            return set(braid_runtime_builder_live_view(b_, path.c_str()));
        }
        Builder& on_thread_start(std::function<void()> f) {
            hooks()->on_start = std::move(f);
            return set(braid_runtime_builder_on_thread_start(b_, &detail::ThreadHooks::start, hooks_.get()));
        }
        Builder& on_thread_stop(std::function<void()> f) {
            hooks()->on_stop = std::move(f);
            return set(braid_runtime_builder_on_thread_stop(b_, &detail::ThreadHooks::stop, hooks_.get()));
        }
        Runtime build() {
            braid_runtime* rt = nullptr;
            detail::check(braid_runtime_build(&rt, b_), "Runtime::build");
            return Runtime(rt, hooks_);
        }

    private:
        Builder& set(int rc) {
            detail::check(rc, "Runtime::Builder");
            return *this;
        }
        std::shared_ptr<detail::ThreadHooks> hooks() {
            if (!hooks_) hooks_ = std::make_shared<detail::ThreadHooks>();
            return hooks_;
        }
        braid_runtime_builder* b_ = nullptr;
        std::shared_ptr<detail::ThreadHooks> hooks_;
    };

    static Builder builder() { return Builder(); }

    // A multi-thread runtime with the defaults.
    Runtime() { detail::check(braid_runtime_new(&rt_), "Runtime"); }
    Runtime(Runtime&& o) noexcept : rt_(std::exchange(o.rt_, nullptr)), hooks_(std::move(o.hooks_)) {}
    Runtime& operator=(Runtime&& o) noexcept {
        if (this != &o) {
            close();
            rt_ = std::exchange(o.rt_, nullptr);
            hooks_ = std::move(o.hooks_);
        }
        return *this;
    }
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;
    // Shuts down (cancels every task, joins every thread) and frees.
    ~Runtime() { close(); }

    // Runs `task` to completion and returns its value (or rethrows).  Throws
    // braid::Error(BRAID_EDEADLK) when called on a runtime's worker or on
    // the thread running a current-thread runtime (a blocking job may).
    // braid::Error(BRAID_ESHUTDOWN) once the runtime was shut down.  On a
    // current-thread runtime several threads may block_on at once: one
    // runs the scheduler, the others wait for their task or their turn.
    template <class T>
    T block_on(Task<T> task, std::source_location loc = std::source_location::current()) {
        braid_task* t = nullptr;
        detail::Result<T>* result = nullptr;
        detail::check(
            detail::try_spawn_task<T, braid_runtime>(&braid_task_new_in, native(), std::move(task), &t, &result, {loc}),
            "block_on");
        return detail::finish_block_on<T, braid_runtime>(&braid_runtime_block_on, rt_, t, result);
    }

    // After shutdown_timeout: the task is dropped and the handle reports it
    // cancelled (braid/spawn.hpp).
    template <class T>
    JoinHandle<T> spawn(Task<T> task, std::source_location loc = std::source_location::current()) {
        return detail::spawn_or_cancelled<T, braid_runtime>(&braid_task_new_in, native(), std::move(task), {loc});
    }
    // spawn, reporting a refusal (BRAID_ESHUTDOWN).
    template <class T>
    SpawnResult<T> try_spawn(Task<T> task, std::source_location loc = std::source_location::current()) {
        return detail::try_spawn_with<T, braid_runtime>(&braid_task_new_in, native(), std::move(task), {loc});
    }

    Handle handle() const {
        braid_handle* h = nullptr;
        detail::check(braid_runtime_handle(&h, native()), "Runtime::handle");
        return Handle(h);
    }

    // Shuts down now, waiting at most `timeout` for blocking jobs.  Returns
    // false when some were still running (they are left to finish; the
    // Runtime's destructor waits for them).
    bool shutdown_timeout(std::chrono::milliseconds timeout) {
        int rc = braid_runtime_shutdown(native(), timeout.count());
        if (rc == BRAID_ETIMEDOUT) return false;
        detail::check(rc, "Runtime::shutdown_timeout");
        return true;
    }

    // Shuts down without waiting for blocking jobs (Tokio's
    // shutdown_background); the Runtime is empty afterwards (its destructor
    // does nothing more).  Jobs still running finish on their own threads.
    // Throws braid::Error(BRAID_EDEADLK) on one of the runtime's own threads.
    void shutdown_background() {
        int rc = braid_runtime_shutdown_background(native());
        if (rc == BRAID_EDEADLK) throw Error(rc, "Runtime::shutdown_background");
        rt_ = nullptr;
    }

    // Enters the runtime on this thread until the guard goes (EnterGuard):
    // Handle::current(), spawn and timers work on a plain thread.
    EnterGuard enter() const {
        braid_enter_guard* g = nullptr;
        detail::check(braid_runtime_enter(&g, native()), "Runtime::enter");
        return EnterGuard(g);
    }

    // Paused runtimes: moves the clock forward and fires the timers due.
    void advance(std::chrono::nanoseconds d) { detail::check(braid_runtime_advance(native(), d.count()), "advance"); }

    // Host-driven runtimes (Builder::host_driven): the fd to watch for
    // reading, and one turn on this thread (never blocks; the number of
    // polls it ran).  Throw braid::Error on another flavor
    // (BRAID_ENOTSUP), or for turn() from inside the runtime (BRAID_EDEADLK)
    // or while another thread turns it (BRAID_EBUSY).
    int fd() const { return detail::check(braid_runtime_fd(native()), "Runtime::fd"); }
    int turn(int max_polls = 0) { return detail::check(braid_runtime_turn(native(), max_polls), "Runtime::turn"); }

    int worker_count() const { return braid_runtime_worker_count(native()); }
    // Polls reported as slow so far (Builder::slow_poll_warning).
    uint64_t slow_polls() const { return braid_runtime_slow_polls(native()); }
    // A snapshot of every metric (braid/metrics.hpp), and the same as text.
    RuntimeMetrics metrics() const { return RuntimeMetrics::take(native()); }
    std::string metrics_text(MetricsFormat f) const { return RuntimeMetrics::text(native(), f); }
    // Stuck polls reported while they ran (Builder::on_stall).
    uint64_t stalls() const { return braid_runtime_stalls(native()); }
    braid_runtime* native_handle() const noexcept { return rt_; }

private:
    Runtime(braid_runtime* rt, std::shared_ptr<detail::ThreadHooks> hooks) : rt_(rt), hooks_(std::move(hooks)) {}
    braid_runtime* native() const {
        if (!rt_) throw Error(BRAID_EINVAL, "moved-from Runtime");
        return rt_;
    }
    // Destroying a Runtime on one of its own threads cannot shut it down
    // (braid_runtime_free returns BRAID_EDEADLK and frees nothing); like any
    // destructor this one cannot report that, so don't.
    void close() noexcept {
        if (rt_) braid_runtime_free(rt_);
        rt_ = nullptr;
    }
    braid_runtime* rt_ = nullptr;
    std::shared_ptr<detail::ThreadHooks> hooks_;
};

// Builds a multi-thread runtime with the defaults, runs `task` on it, and
// shuts it down: the C++ counterpart of #[tokio::main].
template <class T>
T run(Task<T> task) {
    Runtime rt;
    return rt.block_on(std::move(task));
}

}  // namespace braid
