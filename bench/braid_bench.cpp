// braid's benchmark workloads.
//
// Usage: braid_bench <workload|all|--list> [--threads N]
//
// Every workload is defined in shared/bench/WORKLOADS.md. Each one prints one
// JSON line on stdout, checks its own result and makes the process exit
// non-zero when the check fails. The workload body runs as a task on a worker
// thread (Runtime::block_on spawns it onto the workers), and its clock runs
// inside that task.
//
// This file mirrors the Tokio peer (bench/peers/tokio/src/main.rs) section by
// section, so that the two read side by side. Adding a workload is adding
// one function below and one row to kWorkloads.
//
// Not implemented yet (they need oneshot/mpsc channels, an async mutex,
// select, streams or TCP, which braid does not have yet): ping_pong,
// mpsc_spsc, mpsc_contended, mutex_contended, idle_memory, tcp_echo,
// timeout_ready, select_channel, stream_pipeline. They are not listed by
// --list, so bench/compare.py shows them only when asked, as n/a.

#include <braid/braid.hpp>

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kUsage = "usage: braid_bench <workload|all|--list> [--threads N]";
constexpr int kDefaultThreads = 2;

/// What one workload measured.
struct Measurement {
    /// Operations counted.
    uint64_t n = 0;
    /// Wall time of the measured region.
    Clock::duration elapsed{};
    /// A workload-specific extra key, e.g. `overshoot_ms`.
    const char* extra_key = nullptr;
    double extra_value = 0;

    Measurement with_extra(const char* key, double value) && {
        extra_key = key;
        extra_value = value;
        return std::move(*this);
    }
};

/// A failed check: the process exits 1.
struct CheckFailed : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Throws CheckFailed unless `got == want`.
void check(const char* what, uint64_t got, uint64_t want) {
    if (got != want)
        throw CheckFailed("check failed: " + std::string(what) + " is " + std::to_string(got) + ", expected " +
                          std::to_string(want));
}

/// Sum of `0..n`.
constexpr uint64_t sum_below(uint64_t n) { return n * (n - 1) / 2; }

/// Peak resident set size of the process, in KiB (getrusage's ru_maxrss).
long peak_rss_kb() {
    struct rusage usage {};
    if (getrusage(RUSAGE_SELF, &usage) == 0) return usage.ru_maxrss;
    return -1;
}

std::string json_line(const Measurement& m, const char* workload, int threads) {
    double seconds = std::chrono::duration<double>(m.elapsed).count();
    char extra[96] = "";
    if (m.extra_key) std::snprintf(extra, sizeof extra, ",\"%s\":%.3f", m.extra_key, m.extra_value);
    char line[512];
    std::snprintf(line, sizeof line,
                  "{\"impl\":\"braid\",\"workload\":\"%s\",\"threads\":%d,\"n\":%llu,\"seconds\":%.6f,"
                  "\"ops_per_s\":%.0f,\"peak_rss_kb\":%ld%s}",
                  workload, threads, static_cast<unsigned long long>(m.n), seconds, double(m.n) / seconds,
                  peak_rss_kb(), extra);
    return line;
}

/// Awaits every handle and adds up what the tasks returned.
braid::Task<uint64_t> sum_joined(std::vector<braid::JoinHandle<uint64_t>> handles) {
    uint64_t sum = 0;
    for (auto& handle : handles) sum += co_await handle;
    co_return sum;
}

// ------------------------------------------------------------- a oneshot
//
// braid has no oneshot channel yet; chained_spawn needs one (its last task
// "sends the chain length back through a oneshot"). This is the smallest
// honest stand-in, built on what braid exposes: a value slot plus one
// registered waker (the braid_wake_fn/wake_data pair every braid leaf
// awaiter registers, through braid::detail::LeafAwaiter, the building block
// the public headers use for JoinHandle and Sleep). The receiver parks like
// on any braid leaf and is woken exactly once by send(): no polling, no
// sleeping. The mutex is taken twice per use (send, receive), which costs
// nothing measurable against 100,000 spawns; the waker is called under it so
// that it never runs after the receiving awaiter (and so its task) is gone.
// Replace it with braid's own oneshot once there is one.

class OneShot {
public:
    void send(uint64_t value) {
        std::lock_guard<std::mutex> g(mu_);
        value_ = value;
        if (wake_) std::exchange(wake_, nullptr)(wake_data_);
    }

    class Receive : public braid::detail::LeafAwaiter<Receive> {
    public:
        explicit Receive(OneShot& s) : s_(s) {}
        Receive(const Receive&) = delete;
        ~Receive() {
            std::lock_guard<std::mutex> g(s_.mu_);
            s_.wake_ = nullptr;  // unregister: the waker must not outlive us
        }
        bool ready_now() {
            std::lock_guard<std::mutex> g(s_.mu_);
            return s_.value_.has_value();
        }
        int poll(braid_wake_fn wake, void* data) {
            std::lock_guard<std::mutex> g(s_.mu_);
            if (s_.value_) return BRAID_OK;
            s_.wake_ = wake;
            s_.wake_data_ = data;
            return BRAID_PENDING;
        }
        uint64_t finish(int status) {
            if (status < 0) throw braid::Error(status, "oneshot");
            std::lock_guard<std::mutex> g(s_.mu_);
            return *s_.value_;
        }

    private:
        OneShot& s_;
    };
    Receive receive() { return Receive(*this); }

private:
    std::mutex mu_;
    std::optional<uint64_t> value_;
    braid_wake_fn wake_ = nullptr;
    void* wake_data_ = nullptr;
};

// ------------------------------------------------------------- workloads

using Counter = std::shared_ptr<std::atomic<uint64_t>>;

braid::Task<void> bump(Counter counter) {
    counter->fetch_add(1, std::memory_order_relaxed);
    co_return;
}

/// One task spawns 1,000,000 tasks that each bump a shared counter, then
/// awaits all of their join handles.
braid::Task<Measurement> spawn_many() {
    constexpr uint64_t N = 1'000'000;
    auto counter = std::make_shared<std::atomic<uint64_t>>(0);
    auto start = Clock::now();
    std::vector<braid::JoinHandle<void>> handles;
    handles.reserve(N);
    for (uint64_t i = 0; i < N; ++i) handles.push_back(braid::spawn(bump(counter)));
    for (auto& handle : handles) co_await handle;
    auto elapsed = Clock::now() - start;
    check("counter", counter->load(std::memory_order_relaxed), N);
    co_return Measurement{N, elapsed};
}

struct RemoteShared {
    std::atomic<uint64_t> counter{0};
    std::atomic<bool> done{false};
};

braid::Task<void> remote_bump(std::shared_ptr<RemoteShared> shared, uint64_t n) {
    if (shared->counter.fetch_add(1, std::memory_order_acq_rel) + 1 == n) {
        shared->done.store(true, std::memory_order_release);
        shared->done.notify_one();
    }
    co_return;
}

/// A thread outside the runtime (this one) spawns 200,000 counting tasks
/// through the runtime handle, then waits until the counter reaches 200,000.
/// The wait parks on the atomic (C++20 atomic wait: a futex), as Tokio's
/// blocking_recv on a oneshot parks the thread; the task that brings the
/// counter to 200,000 notifies it.
Measurement spawn_remote(braid::Runtime& rt) {
    constexpr uint64_t N = 200'000;
    auto shared = std::make_shared<RemoteShared>();
    braid::Handle handle = rt.handle();
    auto start = Clock::now();
    for (uint64_t i = 0; i < N; ++i) handle.spawn(remote_bump(shared, N)).detach();
    shared->done.wait(false, std::memory_order_acquire);
    auto elapsed = Clock::now() - start;
    check("counter", shared->counter.load(std::memory_order_acquire), N);
    return Measurement{N, elapsed};
}

braid::Task<uint64_t> yielder(uint64_t yields) {
    for (uint64_t i = 0; i < yields; ++i) co_await braid::yield_now();
    co_return yields;
}

/// 1,000 tasks each yield to the scheduler 1,000 times.
braid::Task<Measurement> yield_many() {
    constexpr uint64_t TASKS = 1'000;
    constexpr uint64_t YIELDS = 1'000;
    auto start = Clock::now();
    std::vector<braid::JoinHandle<uint64_t>> handles;
    handles.reserve(TASKS);
    for (uint64_t i = 0; i < TASKS; ++i) handles.push_back(braid::spawn(yielder(YIELDS)));
    uint64_t yields = co_await sum_joined(std::move(handles));
    auto elapsed = Clock::now() - start;
    check("yields", yields, TASKS * YIELDS);
    co_return Measurement{yields, elapsed};
}

/// Link `position` of a chain of `length` tasks: spawns the next link (its
/// join handle is dropped: detached) and exits; the last link sends its
/// position back through `done`.
braid::Task<void> chain_link(uint64_t position, uint64_t length, std::shared_ptr<OneShot> done) {
    if (position == length)
        done->send(position);
    else
        braid::spawn(chain_link(position + 1, length, std::move(done))).detach();
    co_return;
}

/// A chain of 100,000 tasks, each spawning the next and exiting.
braid::Task<Measurement> chained_spawn() {
    constexpr uint64_t N = 100'000;
    auto done = std::make_shared<OneShot>();
    auto start = Clock::now();
    braid::spawn(chain_link(1, N, done)).detach();
    uint64_t length = co_await done->receive();
    auto elapsed = Clock::now() - start;
    check("chain length", length, N);
    co_return Measurement{N, elapsed};
}

/// xorshift64 (13, 7, 17), stepped once before each draw.
struct XorShift64 {
    uint64_t x;
    uint64_t next() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    }
};

constexpr uint64_t kTimerSeed = 42;
constexpr uint64_t kTimerMaxMs = 50;

/// Sleep duration of the next timer task, in ms: 1 + x % 50.
uint64_t next_sleep_ms(XorShift64& rng) { return 1 + rng.next() % kTimerMaxMs; }

braid::Task<uint64_t> sleeper(uint64_t ms) {
    auto duration = std::chrono::milliseconds(ms);
    auto began = braid::Instant::now();
    co_await braid::sleep(duration);
    auto slept = began.elapsed();
    if (slept < duration)
        throw CheckFailed("check failed: a " + std::to_string(ms) + " ms sleep woke after " +
                          std::to_string(slept.count()) + " ns");
    co_return ms;
}

/// 100,000 tasks each sleep 1..50 ms (xorshift64, seed 42); reports how long
/// past the longest sleep (50 ms) it took until all of them woke.
braid::Task<Measurement> timers() {
    constexpr uint64_t N = 100'000;
    constexpr uint64_t TOTAL_MS = 2'538'166;
    XorShift64 rng{kTimerSeed};
    auto start = Clock::now();
    std::vector<braid::JoinHandle<uint64_t>> handles;
    handles.reserve(N);
    for (uint64_t i = 0; i < N; ++i) handles.push_back(braid::spawn(sleeper(next_sleep_ms(rng))));
    uint64_t total_ms = co_await sum_joined(std::move(handles));
    auto elapsed = Clock::now() - start;
    check("total of sleep durations (ms)", total_ms, TOTAL_MS);
    double overshoot_ms = std::chrono::duration<double, std::milli>(elapsed).count() - double(kTimerMaxMs);
    co_return Measurement{N, elapsed}.with_extra("overshoot_ms", overshoot_ms);
}

/// 10,000 blocking closures, each returning its index; awaits all and sums.
braid::Task<Measurement> spawn_blocking() {
    constexpr uint64_t N = 10'000;
    auto start = Clock::now();
    std::vector<braid::JoinHandle<uint64_t>> handles;
    handles.reserve(N);
    for (uint64_t i = 0; i < N; ++i) handles.push_back(braid::spawn_blocking([i] { return i; }));
    uint64_t sum = co_await sum_joined(std::move(handles));
    auto elapsed = Clock::now() - start;
    check("sum", sum, sum_below(N));
    co_return Measurement{N, elapsed};
}

// ---------------------------------------------------------------- driver

/// How a workload is driven: exactly one of the two is set.
struct Workload {
    const char* name;
    /// Spawned onto the runtime (block_on); its clock runs inside that task.
    braid::Task<Measurement> (*in_task)();
    /// Driven from a thread outside the runtime (this one).
    Measurement (*outside_runtime)(braid::Runtime&);
};

/// Every workload, in the order `all` runs them (WORKLOADS.md's order).
constexpr Workload kWorkloads[] = {
    {"spawn_many", spawn_many, nullptr},
    {"spawn_remote", nullptr, spawn_remote},
    {"yield_many", yield_many, nullptr},
    {"chained_spawn", chained_spawn, nullptr},
    {"timers", timers, nullptr},
    {"spawn_blocking", spawn_blocking, nullptr},
};

/// The workload called `name`, if there is one.
const Workload* lookup(std::string_view name) {
    for (const Workload& w : kWorkloads)
        if (name == w.name) return &w;
    return nullptr;
}

/// Runs `workload` on a fresh runtime; runtime start-up and shutdown are
/// outside the measured region.
Measurement run(const Workload& workload, int threads) {
    braid::Runtime rt = braid::Runtime::builder().worker_threads(threads).build();
    if (workload.in_task) return rt.block_on(workload.in_task());
    return workload.outside_runtime(rt);
}

struct Command {
    bool list = false;
    std::vector<std::string> workloads;
    int threads = kDefaultThreads;
};

/// Parses the command line; throws std::invalid_argument with the message
/// (empty for --help).
Command parse_args(int argc, char** argv) {
    Command cmd;
    std::optional<std::string> workload;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        std::optional<std::string> value;
        if (arg == "--threads") {
            if (i + 1 >= argc) throw std::invalid_argument("--threads needs a value");
            value = argv[++i];
        } else if (arg.rfind("--threads=", 0) == 0) {
            value = arg.substr(std::strlen("--threads="));
        }
        if (value) {
            char* end = nullptr;
            long n = std::strtol(value->c_str(), &end, 10);
            if (value->empty() || *end != '\0' || n <= 0 || n > 1024)
                throw std::invalid_argument("bad thread count: " + *value);
            cmd.threads = int(n);
        } else if (arg == "--list") {
            cmd.list = true;
            return cmd;
        } else if (arg == "-h" || arg == "--help") {
            throw std::invalid_argument("");
        } else if (arg.rfind("-", 0) == 0 || workload) {
            throw std::invalid_argument("unexpected argument: " + arg);
        } else {
            workload = arg;
        }
    }
    if (!workload) throw std::invalid_argument("no workload given");
    if (*workload == "all") {
        for (const Workload& w : kWorkloads) cmd.workloads.emplace_back(w.name);
    } else {
        cmd.workloads.push_back(*workload);
    }
    return cmd;
}

}  // namespace

int main(int argc, char** argv) {
    Command cmd;
    try {
        cmd = parse_args(argc, argv);
    } catch (const std::invalid_argument& e) {
        if (*e.what()) std::fprintf(stderr, "braid_bench: %s\n", e.what());
        std::string names;
        for (const Workload& w : kWorkloads) names += (names.empty() ? "" : ", ") + std::string(w.name);
        std::fprintf(stderr, "%s\nworkloads: %s\n", kUsage, names.c_str());
        return 2;
    }
    if (cmd.list) {
        for (const Workload& w : kWorkloads) std::printf("%s\n", w.name);
        return 0;
    }

    // Unknown names are refused before anything runs.
    std::vector<const Workload*> selected;
    for (const std::string& name : cmd.workloads) {
        const Workload* w = lookup(name);
        if (!w) {
            std::fprintf(stderr, "braid_bench: unknown workload: %s\n", name.c_str());
            return 2;
        }
        selected.push_back(w);
    }
    bool failed = false;
    for (const Workload* w : selected) {
        try {
            Measurement m = run(*w, cmd.threads);
            std::printf("%s\n", json_line(m, w->name, cmd.threads).c_str());
            std::fflush(stdout);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "braid_bench: %s: %s\n", w->name, e.what());
            failed = true;
        }
    }
    return failed ? 1 : 0;
}
