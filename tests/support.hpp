// Shared test helpers, one header for every test file:
//  - EXPECT(cond) inside tasks (throws; the failure reaches the test through
//    the join handle), EXPECT_ANYWHERE(cond) on any thread, C callbacks
//    included (recorded; the test process fails when it ends);
//  - code_of / error_code_of: the BRAID_E* code an operation throws;
//  - TempDir: a fresh temporary directory, removed with everything in it;
//  - Tracked: counts constructions and destructions;
//  - CountingWaker, PolledWait: poll functions of the C ABI driven by hand,
//    as tokio_test's mock task polls a future;
//  - PollByHand / as_stream: a stream or an awaitable polled one step at a
//    time with a waker that records its calls (tokio_test's task::spawn);
//    unbounded_channel_stream (tokio-stream's test support);
//  - value_after, range, ms_since: a value after a sleep, a stream of
//    numbers, the milliseconds since an instant;
//  - runtimes built the way the tests need them;
//  - pending(): an awaitable that never completes (futures' pending()).
#pragma once

#include <braid/braid.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <stdlib.h>

namespace braid_test {

// Sanitizer builds run 5-20x slower: stress tests run the same code on fewer
// items there (n / kStressDivisor).  Their blocks all come from malloc (the
// small-object allocator keeps no slabs: braid_alloc_slab_bytes() is 0).
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif
inline constexpr int kStressDivisor = kSanitized ? 10 : 1;

// ---- checks off the test's own thread ----------------------------------------
// Catch's REQUIRE/CHECK are not thread-safe and must not run on workers.

// In a task: a failed EXPECT throws; the exception travels through the join
// handle to block_on, and the test fails on the main thread.
[[noreturn]] inline void expectation_failed(const char* what, const char* file, int line) {
    throw std::logic_error(std::string(file) + ":" + std::to_string(line) + ": expected " + what);
}
#define EXPECT(cond) ((cond) ? void() : ::braid_test::expectation_failed(#cond, __FILE__, __LINE__))

// Anywhere (a C callback, a waker, a plain thread): a failed check is
// recorded; tests/main.cpp fails the process after Catch's run, and
// worker_failures() lets a test REQUIRE on them itself.
inline std::mutex& failures_mu() {
    static std::mutex mu;
    return mu;
}
inline std::vector<std::string>& failures() {
    static std::vector<std::string> v;
    return v;
}
inline void record_failure(const char* what, const char* file, int line) {
    std::lock_guard<std::mutex> g(failures_mu());
    failures().push_back(std::string(file) + ":" + std::to_string(line) + ": expected " + what);
}
inline std::size_t worker_failures() {
    std::lock_guard<std::mutex> g(failures_mu());
    return failures().size();
}
#define EXPECT_ANYWHERE(cond) ((cond) ? void() : ::braid_test::record_failure(#cond, __FILE__, __LINE__))

// ---- error codes ----------------------------------------------------------------

// Runs body and returns the BRAID_E* code of the braid::Error it throws
// (0 when it throws nothing).
template <class F>
int error_code_of(F&& body) {
    try {
        body();
    } catch (const braid::Error& e) {
        return e.code();
    }
    return 0;
}

// Awaits `a` and returns the BRAID_E* code of the braid::Error it throws
// (0 when it completes).
template <class A>
braid::Task<int> code_of(A a) {
    try {
        co_await std::move(a);
    } catch (const braid::Error& e) {
        co_return e.code();
    }
    co_return 0;
}

// ---- files ----------------------------------------------------------------------

// A fresh directory under $TMPDIR (or /tmp), removed with its contents
// (immutable flags cleared first) when the object goes.  Tests that touch the
// file system work only inside one.
struct TempDir {
    std::string path;
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base && *base ? base : "/tmp") + "/braid-test-XXXXXX";
        std::vector<char> buf(tmpl.begin(), tmpl.end());
        buf.push_back('\0');
        if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
        path = buf.data();
    }
    ~TempDir() {
        std::string cmd = "chattr -R -i '" + path + "' 2>/dev/null; rm -rf '" + path + "'";
        (void)!std::system(cmd.c_str());
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string operator/(const std::string& name) const { return path + "/" + name; }
};

// ---- polling by hand ---------------------------------------------------------------

// A waker that counts its calls: pass &CountingWaker::wake and the object to
// a poll function (braid_*_poll_*), then look at what woke it.
struct CountingWaker {
    std::atomic<int> wakes{0};
    static void wake(void* self) { static_cast<CountingWaker*>(self)->wakes.fetch_add(1, std::memory_order_relaxed); }
    bool woken() const { return wakes.load(std::memory_order_relaxed) > 0; }
    int count() const { return wakes.load(std::memory_order_relaxed); }
    void clear() { wakes.store(0, std::memory_order_relaxed); }
};

// One wait of the braid_waiter protocol (braid/unstable/waiter.h) polled by hand, as
// tokio_test polls a future in a mock task: its waiter node, a waker that
// counts, and the cancel that runs if it is destroyed while still queued
// (dropping the future).
//
//   braid_test::PolledWait lock(m.native_handle(), braid_mutex_poll_lock, braid_mutex_cancel_lock);
//   REQUIRE(lock.poll() == BRAID_PENDING);
//   guard.unlock();
//   REQUIRE(lock.is_woken());
//   REQUIRE(lock.poll() == BRAID_OK);     // then the lock is ours (braid_mutex_unlock)
class PolledWait {
public:
    using PollFn = std::function<int(braid_waiter**, braid_wake_fn, void*)>;
    using CancelFn = std::function<void(braid_waiter**)>;

    PolledWait(PollFn poll, CancelFn cancel) : poll_(std::move(poll)), cancel_(std::move(cancel)) {}
    template <class H>
    PolledWait(H* h, int (*poll)(H*, braid_waiter**, braid_wake_fn, void*), void (*cancel)(H*, braid_waiter**))
        : PolledWait([h, poll](braid_waiter** w, braid_wake_fn f, void* d) { return poll(h, w, f, d); },
                     [h, cancel](braid_waiter** w) { cancel(h, w); }) {}
    PolledWait(const PolledWait&) = delete;
    PolledWait& operator=(const PolledWait&) = delete;
    ~PolledWait() { cancel(); }

    // Polls once with this wait's own waker, clearing "woken" first (as
    // tokio_test's poll does): the poll function's result.
    int poll() {
        waker_.clear();
        return poll_(&w_, &CountingWaker::wake, &waker_);
    }
    // Polls once with another waker (the future moved to another task).
    int poll_with(CountingWaker& other) { return poll_(&w_, &CountingWaker::wake, &other); }
    // Whether this wait's waker was called since the last poll().
    bool is_woken() const { return waker_.woken(); }
    int wake_count() const { return waker_.count(); }
    // Still in the primitive's wait list.
    bool queued() const { return w_ != nullptr; }
    // The waiter slot, for the protocol's other calls (e.g. Notify's enable).
    braid_waiter** waiter() { return &w_; }
    // Leaves the wait list (what dropping the future does).
    void cancel() {
        if (w_) cancel_(&w_);
    }

private:
    PollFn poll_;
    CancelFn cancel_;
    braid_waiter* w_ = nullptr;
    CountingWaker waker_;
};

// ---- values and runtimes ------------------------------------------------------------

// Counts live instances; every test that moves things through tasks checks
// that what was constructed was destroyed.
struct Tracked {
    static inline std::atomic<long> constructed{0};
    static inline std::atomic<long> destroyed{0};
    int value = 0;
    explicit Tracked(int v = 0) : value(v) { ++constructed; }
    Tracked(const Tracked& o) : value(o.value) { ++constructed; }
    Tracked(Tracked&& o) noexcept : value(o.value) { ++constructed; }
    Tracked& operator=(const Tracked&) = default;
    Tracked& operator=(Tracked&&) = default;
    ~Tracked() { ++destroyed; }
    static long live() { return constructed.load() - destroyed.load(); }
    // Both counts back to zero, at the start of a test that checks them.
    static void reset() {
        constructed = 0;
        destroyed = 0;
    }
};

// How many rounds a stress test runs: `rounds`, or, when
// BRAID_STRESS_SECONDS is set (the schedule-perturbation run of
// scripts/check.sh), as many as fit in that many seconds of this test (at
// least one; the clock only bounds the work, it never decides a result).
class StressRounds {
public:
    explicit StressRounds(int rounds) : rounds_(rounds) {
        if (const char* s = std::getenv("BRAID_STRESS_SECONDS")) {
            seconds_ = std::atoi(s);
            start_ = std::chrono::steady_clock::now();
        }
    }
    // Whether round `r` (0-based) should run.
    bool more(int r) const {
        if (seconds_ <= 0) return r < rounds_;
        return r == 0 || std::chrono::steady_clock::now() - start_ < std::chrono::seconds(seconds_);
    }

private:
    int rounds_;
    int seconds_ = 0;
    std::chrono::steady_clock::time_point start_{};
};

inline braid::Runtime paused_runtime(int workers = 1) {
    return braid::Runtime::builder().worker_threads(workers).start_paused().build();
}

// #[tokio::test]: a current-thread runtime (tasks run only inside block_on),
// paused on request (start_paused = true).
inline braid::Runtime current_thread_runtime(bool paused = false) {
    return braid::Runtime::builder().current_thread().start_paused(paused).build();
}

// A paused runtime of either flavour: current-thread, or two workers.
inline braid::Runtime paused_runtime_of_flavour(bool current_thread) {
    return current_thread ? current_thread_runtime(true) : paused_runtime(2);
}

// An async #[tokio::test] body: runs `body` on a fresh current-thread
// runtime, which shuts down when it returns.
inline void run_current_thread(braid::Task<> body) { current_thread_runtime().block_on(std::move(body)); }

// time::advance(d).await in Tokio's tests: moves the clock of the paused
// runtime the calling task runs on (and fires the timers that became due).
inline void advance(braid::Duration d) {
    braid::detail::check(braid_runtime_advance(braid_runtime_current(), d.count()), "advance");
}

inline braid::Runtime runtime(int workers = 2) { return braid::Runtime::builder().worker_threads(workers).build(); }

// Tokio's tests poll a stream or a future themselves (tokio_test's
// task::spawn, assert_pending!, assert_ready!, is_woken).  PollByHand does
// the same with braid's stream protocol (docs/streams.md, "Writing a stream
// by hand"): poll_next() polls once, never waits, and gives the Poll; the
// waker it polls with only records that it was called, and is_woken() says
// whether it was called since the last poll.  It borrows the stream (which
// must outlive it), so the test may use the stream between polls (a
// StreamMap's insert and remove).  Poll on a runtime thread (inside
// block_on) when the stream waits on channels or timers.
template <class S>
class PollByHand {
public:
    explicit PollByHand(S& s) : s_(&s) {
        cx_.wake_fn = &CountingWaker::wake;
        cx_.wake_data = &waker_;
    }
    PollByHand(const PollByHand&) = delete;
    PollByHand& operator=(const PollByHand&) = delete;
    // A poll left pending: the stream forgets the waker (as a cancelled next()).
    ~PollByHand() {
        if (waiting_) s_->detach();
    }

    braid::stream::Poll<braid::stream::item_t<S>> poll_next() {
        waker_.clear();
        waiting_ = true;  // a poll that throws is detached too (as next() does)
        auto p = s_->poll_next(cx_);
        waiting_ = p.is_pending();
        return p;
    }
    bool is_woken() const { return waker_.woken(); }
    S& operator*() noexcept { return *s_; }
    S* operator->() noexcept { return s_; }

private:
    S* s_;
    braid::detail::Context cx_;
    CountingWaker waker_;
    bool waiting_ = false;
};

// A task that sleeps for d, then gives v.
inline braid::Task<int> value_after(std::chrono::milliseconds d, int v) {
    co_await braid::sleep(d);
    co_return v;
}

// The stream of from, from + 1, ..., to - 1 (a generator).
inline braid::Stream<int> range(int from, int to) {
    for (int i = from; i < to; ++i) co_yield i;
}

// Milliseconds on braid's clock (paused or not) since t0.
inline long ms_since(braid::Instant t0) {
    return long(std::chrono::duration_cast<std::chrono::milliseconds>(braid::Instant::now() - t0).count());
}

// An awaitable as a stream of one item (its result), so that PollByHand can
// poll a future: pending until the awaitable finishes, then its result.
template <class A, class R = std::remove_cvref_t<braid::detail::await_result_t<A>>>
braid::Stream<R> as_stream(A a) {
    co_yield co_await std::move(a);
}

// tokio-stream's tests/support/mpsc.rs: an unbounded channel whose receiving
// side is a stream (a generator over recv()).  The sender comes in an
// optional so that a test can drop it (reset()): the stream then ends.
template <class T>
std::pair<std::optional<braid::mpsc::UnboundedSender<T>>, braid::Stream<T>> unbounded_channel_stream() {
    auto [tx, rx] = braid::mpsc::unbounded_channel<T>();
    return {std::optional<braid::mpsc::UnboundedSender<T>>(std::move(tx)), braid::stream::from_receiver(std::move(rx))};
}

// ---- never ready ---------------------------------------------------------------------

// futures::future::pending(): co_await braid_test::pending() never completes;
// the task waits there until it is cancelled (abort, a select it loses, a
// runtime shutdown).  Nothing is registered, so nothing ever wakes it.
class [[nodiscard]] Pending : public braid::detail::LeafAwaiter<Pending> {
public:
    bool ready_now() const noexcept { return false; }
    int poll(braid_wake_fn, void*) const noexcept { return BRAID_PENDING; }
    void finish(int) const noexcept {}
};
inline Pending pending() { return {}; }

// A task that counts its turns, yielding after each, until stopped: whether
// it ran between two readings tells whether the task reading yielded (on a
// runtime where nothing else could run it meanwhile).
class Ticker {
public:
    Ticker()
        : ticks_(std::make_shared<std::atomic<int>>(0)),
          stop_(std::make_shared<std::atomic<bool>>(false)),
          h_(braid::spawn([](std::shared_ptr<std::atomic<int>> t, std::shared_ptr<std::atomic<bool>> s) -> braid::Task<> {
              while (!s->load()) {
                  t->fetch_add(1);
                  co_await braid::yield_now();
              }
          }(ticks_, stop_))) {}
    int ticks() const { return ticks_->load(); }
    braid::Task<> stop() {
        stop_->store(true);
        co_await h_;
    }

private:
    std::shared_ptr<std::atomic<int>> ticks_;
    std::shared_ptr<std::atomic<bool>> stop_;
    braid::JoinHandle<void> h_;
};

// The BRAID_E* code that task::block_in_place throws in a task of `rt`
// (0 when the function ran).
inline int block_in_place_code(braid::Runtime& rt) {
    return rt.block_on([]() -> braid::Task<int> {
        co_return error_code_of([] { braid::task::block_in_place([] {}); });
    }());
}

}  // namespace braid_test
