// braid's benchmark workloads.
//
// Usage: braid_bench <workload|all|--list> [--threads N]
//
// Every workload is defined in bench/WORKLOADS.md. Each one prints one
// JSON line on stdout, checks its own result and makes the process exit
// non-zero when the check fails. The workload body runs as a task on a worker
// thread (Runtime::block_on spawns it onto the workers), and its clock runs
// inside that task.
//
// This file mirrors the Tokio peer (bench/peers/tokio/src/main.rs) section by
// section, so that the two read side by side. Adding a workload is adding
// one function below and one row to kWorkloads.  Every workload of
// WORKLOADS.md is here.

#include <braid/braid.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kUsage = "usage: braid_bench <workload|all|--list> [--threads N]";
constexpr int kDefaultThreads = 2;

/// What one workload measured.
struct Measurement {
    /// Operations counted.
    uint64_t n;
    /// Wall time of the measured region.
    Clock::duration elapsed;
    /// Workload-specific extra keys, e.g. `overshoot_ms`.
    std::vector<std::pair<const char*, double>> extras;

    Measurement(uint64_t ops, Clock::duration took) : n(ops), elapsed(took) {}

    Measurement with_extra(const char* key, double value) && {
        extras.emplace_back(key, value);
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

/// Current resident set size (VmRSS of /proc/self/status), in KiB.
uint64_t vm_rss_kb() {
    std::FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) throw std::runtime_error("cannot open /proc/self/status");
    char line[256];
    long long kb = -1;
    while (std::fgets(line, sizeof line, f))
        if (std::sscanf(line, "VmRSS: %lld kB", &kb) == 1) break;
    std::fclose(f);
    if (kb < 0) throw std::runtime_error("no VmRSS line in /proc/self/status");
    return uint64_t(kb);
}

std::string json_line(const Measurement& m, const char* workload, int threads) {
    double seconds = std::chrono::duration<double>(m.elapsed).count();
    char line[512];
    std::snprintf(line, sizeof line,
                  "{\"impl\":\"braid\",\"workload\":\"%s\",\"threads\":%d,\"n\":%llu,\"seconds\":%.6f,"
                  "\"ops_per_s\":%.0f,\"peak_rss_kb\":%ld",
                  workload, threads, static_cast<unsigned long long>(m.n), seconds, double(m.n) / seconds,
                  peak_rss_kb());
    std::string json = line;
    for (const auto& [key, value] : m.extras) {
        std::snprintf(line, sizeof line, ",\"%s\":%.3f", key, value);
        json += line;
    }
    return json + "}";
}

/// Awaits every handle and adds up what the tasks returned.
braid::Task<uint64_t> sum_joined(std::vector<braid::JoinHandle<uint64_t>> handles) {
    uint64_t sum = 0;
    for (auto& handle : handles) sum += co_await handle;
    co_return sum;
}

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
    std::mutex mu;
    std::optional<braid::oneshot::Sender<bool>> done;
};

braid::Task<void> remote_bump(std::shared_ptr<RemoteShared> shared, uint64_t n) {
    if (shared->counter.fetch_add(1, std::memory_order_acq_rel) + 1 == n) {
        std::lock_guard<std::mutex> g(shared->mu);
        if (shared->done) {
            (void)shared->done->send(true);
            shared->done.reset();
        }
    }
    co_return;
}

/// A thread outside the runtime (this one) spawns 200,000 counting tasks
/// through the runtime handle, then waits until the counter reaches 200,000:
/// the task that brings it there sends on a oneshot, and this thread waits in
/// blocking_recv (as the Tokio peer does).
Measurement spawn_remote(braid::Runtime& rt) {
    constexpr uint64_t N = 200'000;
    auto [done_tx, done_rx] = braid::oneshot::channel<bool>();
    auto shared = std::make_shared<RemoteShared>();
    shared->done.emplace(std::move(done_tx));
    braid::Handle handle = rt.handle();
    auto start = Clock::now();
    for (uint64_t i = 0; i < N; ++i) handle.spawn(remote_bump(shared, N)).detach();
    done_rx.blocking_recv();
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

/// Spawns link `position` of a chain of `length` tasks; the link spawns the
/// next one (its join handle is dropped: detached) and exits, and the last
/// link sends its position back through `done`.
braid::Task<void> chain_link(uint64_t position, uint64_t length, braid::oneshot::Sender<uint64_t> done) {
    if (position == length)
        (void)done.send(position);
    else
        braid::spawn(chain_link(position + 1, length, std::move(done))).detach();
    co_return;
}

/// A chain of 100,000 tasks, each spawning the next and exiting.
braid::Task<Measurement> chained_spawn() {
    constexpr uint64_t N = 100'000;
    auto [done_tx, done_rx] = braid::oneshot::channel<uint64_t>();
    auto start = Clock::now();
    braid::spawn(chain_link(1, N, std::move(done_tx))).detach();
    uint64_t length = co_await std::move(done_rx);
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

struct ParkShared {
    std::atomic<uint64_t> parked{0};
    std::mutex mu;
    std::optional<braid::oneshot::Sender<bool>> all_parked;
};

/// Counts itself as parked, then awaits `rx`, which is never sent to: it
/// ends (true) only when the sender is dropped.
braid::Task<bool> idle_task(std::shared_ptr<ParkShared> shared, braid::oneshot::Receiver<bool> rx, uint64_t n) {
    if (shared->parked.fetch_add(1, std::memory_order_acq_rel) + 1 == n) {
        std::lock_guard<std::mutex> g(shared->mu);
        if (shared->all_parked) {
            (void)shared->all_parked->send(true);
            shared->all_parked.reset();
        }
    }
    shared.reset();
    try {
        co_await std::move(rx);
    } catch (const braid::RecvError&) {
        co_return true;
    }
    co_return false;
}

/// 100,000 tasks each await a oneshot receiver that is never sent to;
/// reports the RSS growth per parked task, then drops the senders.
braid::Task<Measurement> idle_memory() {
    constexpr uint64_t N = 100'000;
    auto [all_parked_tx, all_parked_rx] = braid::oneshot::channel<bool>();
    auto shared = std::make_shared<ParkShared>();
    shared->all_parked.emplace(std::move(all_parked_tx));
    std::vector<braid::oneshot::Sender<bool>> senders;
    senders.reserve(N);
    std::vector<braid::JoinHandle<bool>> handles;
    handles.reserve(N);
    uint64_t rss_before_kb = vm_rss_kb();
    auto start = Clock::now();
    for (uint64_t i = 0; i < N; ++i) {
        auto [tx, rx] = braid::oneshot::channel<bool>();
        senders.push_back(std::move(tx));
        handles.push_back(braid::spawn(idle_task(shared, std::move(rx), N)));
    }
    co_await std::move(all_parked_rx);
    auto elapsed = Clock::now() - start;
    uint64_t rss_after_kb = vm_rss_kb();
    senders.clear();
    uint64_t ended = 0;
    for (auto& handle : handles)
        if (co_await handle) ++ended;
    check("tasks ended by a dropped sender", ended, N);
    double bytes_per_task = (double(rss_after_kb) - double(rss_before_kb)) * 1024.0 / double(N);
    co_return Measurement{N, elapsed}.with_extra("bytes_per_task", bytes_per_task);
}

constexpr std::size_t kEchoMessageLen = 64;

/// Writes back whatever it reads (into a 4 KiB buffer) until EOF.
braid::Task<void> echo_connection(braid::net::TcpStream stream) {
    std::vector<char> buf(4096);
    for (;;) {
        std::size_t read = co_await stream.read(buf);
        if (read == 0) co_return;
        co_await stream.write_all(braid::io::ConstBuffer(buf.data(), read));
    }
}

/// Accepts `connections` clients and echoes each one on its own task.
braid::Task<void> echo_server(braid::net::TcpListener listener, uint64_t connections) {
    for (uint64_t i = 0; i < connections; ++i) {
        auto [stream, peer] = co_await listener.accept();
        stream.set_nodelay(true);
        braid::spawn(echo_connection(std::move(stream))).detach();
    }
}

/// Connects and does `rounds` 64-byte round trips, checking every echo.
braid::Task<uint64_t> echo_client(braid::net::SocketAddr addr, uint64_t id, uint64_t rounds) {
    auto stream = co_await braid::net::TcpStream::connect(addr);
    stream.set_nodelay(true);
    std::array<char, kEchoMessageLen> message{};
    std::array<char, kEchoMessageLen> reply{};
    for (uint64_t round = 0; round < rounds; ++round) {
        message.fill(char(uint8_t(id + round)));
        co_await stream.write_all(message);
        co_await stream.read_exact(reply);
        if (reply != message)
            throw CheckFailed("check failed: client " + std::to_string(id) + " got a wrong echo in round " +
                              std::to_string(round));
    }
    co_return rounds;
}

/// Loopback TCP echo: 50 clients each do 10,000 round trips of 64 bytes.
braid::Task<Measurement> tcp_echo() {
    constexpr uint64_t CLIENTS = 50;
    constexpr uint64_t ROUNDS = 10'000;
    constexpr uint64_t N = CLIENTS * ROUNDS;
    auto listener = braid::net::TcpListener::bind("127.0.0.1:0");
    auto addr = listener.local_addr();
    auto start = Clock::now();
    auto server = braid::spawn(echo_server(std::move(listener), CLIENTS));
    std::vector<braid::JoinHandle<uint64_t>> clients;
    clients.reserve(CLIENTS);
    for (uint64_t id = 0; id < CLIENTS; ++id) clients.push_back(braid::spawn(echo_client(addr, id, ROUNDS)));
    uint64_t round_trips = co_await sum_joined(std::move(clients));
    auto elapsed = Clock::now() - start;
    co_await server;
    check("round trips", round_trips, N);
    co_return Measurement{N, elapsed};
}

constexpr uint64_t kCopyBytes = uint64_t(1) << 30;
constexpr std::size_t kCopyChunk = 64 * 1024;

/// An AsyncWrite that counts and drops what it is given (tokio::io::sink).
struct CountingSink {
    uint64_t bytes = 0;
    std::suspend_never flush() { return {}; }
    std::suspend_never shutdown() { return {}; }
    struct Write {
        std::size_t n;
        bool await_ready() const noexcept { return true; }
        void await_suspend(std::coroutine_handle<>) const noexcept {}
        std::size_t await_resume() const noexcept { return n; }
    };
    Write write(braid::io::ConstBuffer b) {
        bytes += b.size;
        return Write{b.size};
    }
};

/// One loopback TCP connection streams 1 GiB: a writer task sends it in
/// 64 KiB chunks; the receiving side moves it with braid::io::copy into a
/// sink. n = bytes; mb_per_s = bytes / s / 10^6. Connecting is outside the
/// timed part (as in the Tokio peer).
braid::Task<Measurement> copy_1gib() {
    auto listener = braid::net::TcpListener::bind("127.0.0.1:0");
    auto client = co_await braid::net::TcpStream::connect(listener.local_addr());
    auto [server, peer] = co_await listener.accept();
    auto start = Clock::now();
    auto writer = braid::spawn([](braid::net::TcpStream c) -> braid::Task<uint64_t> {
        std::vector<char> chunk(kCopyChunk, char(0x5a));
        uint64_t sent = 0;
        while (sent < kCopyBytes) {
            co_await c.write_all(chunk);
            sent += kCopyChunk;
        }
        c.shutdown_write();
        co_return sent;
    }(std::move(client)));
    CountingSink sink;
    uint64_t copied = co_await braid::io::copy(server, sink);
    auto elapsed = Clock::now() - start;
    uint64_t sent = co_await writer;
    check("bytes sent", sent, kCopyBytes);
    check("bytes copied", copied, kCopyBytes);
    check("bytes in the sink", sink.bytes, kCopyBytes);
    double mb_per_s = double(kCopyBytes) / std::chrono::duration<double>(elapsed).count() / 1e6;
    co_return Measurement{kCopyBytes, elapsed}.with_extra("mb_per_s", mb_per_s);
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

/// 1,000 task pairs play 100 rounds each: A sends B a oneshot sender
/// through a capacity-1 mpsc channel, B answers with the round number.
braid::Task<Measurement> ping_pong() {
    constexpr uint64_t PAIRS = 1'000, ROUNDS = 100;
    auto start = Clock::now();
    std::vector<braid::JoinHandle<uint64_t>> pairs;
    pairs.reserve(PAIRS);
    for (uint64_t p = 0; p < PAIRS; ++p) {
        auto [tx, rx] = braid::mpsc::channel<braid::oneshot::Sender<uint64_t>>(1);
        braid::spawn([](braid::mpsc::Receiver<braid::oneshot::Sender<uint64_t>> requests) -> braid::Task<> {
            uint64_t round = 0;
            while (auto reply = co_await requests.recv()) (void)reply->send(++round);
        }, std::move(rx)).detach();
        pairs.push_back(braid::spawn([](braid::mpsc::Sender<braid::oneshot::Sender<uint64_t>> b) -> braid::Task<uint64_t> {
            uint64_t sum = 0;
            for (uint64_t r = 0; r < ROUNDS; ++r) {
                auto [otx, orx] = braid::oneshot::channel<uint64_t>();
                (void)co_await b.send(std::move(otx));
                sum += co_await std::move(orx);
            }
            co_return sum;
        }, std::move(tx)));
    }
    uint64_t sum = co_await sum_joined(std::move(pairs));
    auto elapsed = Clock::now() - start;
    check("sum of replies", sum, PAIRS * ROUNDS * (ROUNDS + 1) / 2);
    co_return Measurement{PAIRS * ROUNDS, elapsed};
}

/// Sends `count` values from `first` on, then drops the sender.
braid::Task<> produce(braid::mpsc::Sender<uint64_t> tx, uint64_t first, uint64_t count) {
    for (uint64_t x = first; x < first + count; ++x) (void)co_await tx.send(x);
}

/// Sums what a receiver gets until every sender is gone.
braid::Task<uint64_t> consume(braid::mpsc::Receiver<uint64_t> rx) {
    uint64_t sum = 0;
    while (auto v = co_await rx.recv()) sum += *v;
    co_return sum;
}

/// One producer sends 10,000,000 u64s through a bounded channel of 1,024.
braid::Task<Measurement> mpsc_spsc() {
    constexpr uint64_t N = 10'000'000;
    auto start = Clock::now();
    auto [tx, rx] = braid::mpsc::channel<uint64_t>(1024);
    braid::spawn(produce(std::move(tx), 0, N)).detach();
    uint64_t sum = co_await braid::spawn(consume(std::move(rx)));
    auto elapsed = Clock::now() - start;
    check("sum", sum, sum_below(N));
    co_return Measurement{N, elapsed};
}

/// 8 producers send 1,000,000 u64s each through one bounded channel of 1,024.
braid::Task<Measurement> mpsc_contended() {
    constexpr uint64_t PRODUCERS = 8, EACH = 1'000'000, N = PRODUCERS * EACH;
    auto start = Clock::now();
    auto [tx, rx] = braid::mpsc::channel<uint64_t>(1024);
    for (uint64_t p = 0; p < PRODUCERS; ++p) braid::spawn(produce(tx, p * EACH, EACH)).detach();
    { auto last = std::move(tx); }  // only the producers keep the channel open
    uint64_t sum = co_await braid::spawn(consume(std::move(rx)));
    auto elapsed = Clock::now() - start;
    check("sum", sum, sum_below(N));
    co_return Measurement{N, elapsed};
}

/// 64 tasks lock one async mutex 10,000 times each and increment its u64.
braid::Task<Measurement> mutex_contended() {
    constexpr uint64_t TASKS = 64, EACH = 10'000;
    auto start = Clock::now();
    auto counter = std::make_shared<braid::Mutex<uint64_t>>(0);
    std::vector<braid::JoinHandle<void>> hs;
    hs.reserve(TASKS);
    for (uint64_t t = 0; t < TASKS; ++t)
        hs.push_back(braid::spawn([](std::shared_ptr<braid::Mutex<uint64_t>> m) -> braid::Task<> {
            for (uint64_t i = 0; i < EACH; ++i) {
                auto guard = co_await m->lock();
                ++*guard;
            }
        }, counter));
    for (auto& h : hs) co_await h;
    auto elapsed = Clock::now() - start;
    uint64_t total = *(co_await counter->lock());
    check("counter", total, TASKS * EACH);
    co_return Measurement{TASKS * EACH, elapsed};
}

braid::Task<uint64_t> ready_value(uint64_t v) { co_return v; }

/// One task awaits timeout(1 s, f) 1,000,000 times on an f that is ready.
braid::Task<Measurement> timeout_ready() {
    constexpr uint64_t N = 1'000'000;
    auto start = Clock::now();
    uint64_t sum = 0;
    for (uint64_t i = 0; i < N; ++i) {
        auto r = co_await braid::timeout(std::chrono::seconds(1), ready_value(i));
        sum += r.value_or(0);
    }
    auto elapsed = Clock::now() - start;
    check("sum", sum, sum_below(N));
    co_return Measurement{N, elapsed};
}

/// Two bounded channels, a producer each (1,000,000 u64s); one consumer
/// selects over both receives until both are closed and drained.
braid::Task<Measurement> select_channel() {
    constexpr uint64_t EACH = 1'000'000, N = 2 * EACH;
    auto start = Clock::now();
    auto [atx, arx] = braid::mpsc::channel<uint64_t>(1024);
    auto [btx, brx] = braid::mpsc::channel<uint64_t>(1024);
    braid::spawn(produce(std::move(atx), 0, EACH)).detach();
    braid::spawn(produce(std::move(btx), EACH, EACH)).detach();
    uint64_t sum = 0;
    bool a_open = true, b_open = true;
    while (a_open && b_open) {
        auto r = co_await braid::select(arx.recv(), brx.recv());
        if (r.index() == 0) {
            if (auto v = std::get<0>(r)) sum += *v;
            else a_open = false;
        } else {
            if (auto v = std::get<1>(r)) sum += *v;
            else b_open = false;
        }
    }
    auto& rest = a_open ? arx : brx;  // one is closed: drain the other
    while (auto v = co_await rest.recv()) sum += *v;
    auto elapsed = Clock::now() - start;
    check("sum", sum, sum_below(N));
    co_return Measurement{N, elapsed};
}

/// The async generator of stream_pipeline: 0, 1, ..., n - 1.
braid::Stream<uint64_t> numbers(uint64_t n) {
    for (uint64_t x = 0; x < n; ++x) co_yield x;
}

/// An async generator yields 0..9,999,999 through map(x*3), filter(even),
/// then fold(sum).  Also reports `sync_fraction`: braid's items per second
/// as a fraction of a plain synchronous loop's over the same numbers (the
/// best of 5 loops, timed in the same task right after).
braid::Task<Measurement> stream_pipeline() {
    namespace bs = braid::stream;
    constexpr uint64_t N = 10'000'000;
    // 3x is even exactly when x is: 3 * (0 + 2 + ... + (N - 2)).
    constexpr uint64_t EXPECTED = 3 * 2 * ((N / 2) * (N / 2 - 1) / 2);
    auto start = Clock::now();
    uint64_t sum = co_await (numbers(N) | bs::map([](uint64_t x) { return x * 3; })
                             | bs::filter([](const uint64_t& x) { return x % 2 == 0; })
                             | bs::fold(uint64_t(0), [](uint64_t acc, uint64_t x) { return acc + x; }));
    auto elapsed = Clock::now() - start;
    check("sum", sum, EXPECTED);

    // The plain loop is a lambda, not part of this coroutine's body: a
    // coroutine keeps its locals in its frame (g++ stores them every time).
    auto plain_loop = [](uint64_t n) {
        uint64_t total = 0;
        for (uint64_t x = 0; x < n; ++x) {
            uint64_t y = x * 3;
            if (y % 2 == 0) total += y;
        }
        return total;
    };
    Clock::duration sync_best = Clock::duration::max();
    for (int run = 0; run < 5; ++run) {
        volatile uint64_t limit = N;  // not a constant: the loop runs
        auto sync_start = Clock::now();
        uint64_t sync_sum = plain_loop(limit);
        auto took = Clock::now() - sync_start;
        if (took < sync_best) sync_best = took;
        check("sync sum", sync_sum, EXPECTED);
    }
    double fraction = std::chrono::duration<double>(sync_best).count() / std::chrono::duration<double>(elapsed).count();
    co_return Measurement{N, elapsed}.with_extra("sync_fraction", fraction);
}

// --------------------------------------------------------------- latency
//
// The clients of tcp_latency and the sender of wake_latency are plain
// threads outside the runtime with blocking calls (POSIX sockets, mpsc
// blocking_send), so that what is measured is the runtime's side only: its
// time to notice readiness or a message while it was idle, and to run the
// task. The Tokio peer's clients are the same code on std::net.

/// Awaits a task from outside the runtime, through block_on.
template <class T>
braid::Task<T> joined(braid::JoinHandle<T> handle) {
    co_return co_await handle;
}

/// p50, p99 and max of latency samples, in µs (nearest rank: the p-th
/// percentile is the ceil(p/100 * n)-th smallest sample).
struct Percentiles {
    double p50_us = 0, p99_us = 0, max_us = 0;
};

Percentiles percentiles(std::vector<Clock::duration> samples) {
    if (samples.empty()) throw CheckFailed("check failed: no latency samples");
    std::sort(samples.begin(), samples.end());
    auto at_rank = [&](std::size_t percent) {
        std::size_t rank = (percent * samples.size() + 99) / 100;
        return std::chrono::duration<double, std::micro>(samples[rank - 1]).count();
    };
    return {at_rank(50), at_rank(99), at_rank(100)};
}

/// A blocking loopback TCP connection (TCP_NODELAY) of a plain thread.
class BlockingConn {
public:
    explicit BlockingConn(const braid::net::SocketAddr& addr)
        : fd_(::socket(addr.as_sockaddr()->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
        int one = 1;
        if (::connect(fd_, addr.as_sockaddr(), socklen_t(addr.size())) != 0 ||
            ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
            int err = errno;
            ::close(fd_);
            throw std::system_error(err, std::generic_category(), "connect");
        }
    }
    BlockingConn(BlockingConn&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    BlockingConn& operator=(BlockingConn&&) = delete;
    ~BlockingConn() {
        if (fd_ >= 0) ::close(fd_);
    }

    void write_all(const char* data, std::size_t len) {
        while (len > 0) {
            ssize_t sent = ::send(fd_, data, len, MSG_NOSIGNAL);
            if (sent < 0 && errno == EINTR) continue;
            if (sent < 0) throw std::system_error(errno, std::generic_category(), "send");
            data += sent;
            len -= std::size_t(sent);
        }
    }

    void read_exact(char* data, std::size_t len) {
        while (len > 0) {
            ssize_t got = ::recv(fd_, data, len, 0);
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) throw std::system_error(errno, std::generic_category(), "recv");
            if (got == 0) throw CheckFailed("check failed: the echo server closed a connection");
            data += got;
            len -= std::size_t(got);
        }
    }

private:
    int fd_;
};

constexpr auto kPingInterval = std::chrono::milliseconds(2);
constexpr uint64_t kIdlePings = 1'000;
constexpr uint64_t kBurstRounds = 5;
constexpr uint64_t kBurstPings = 50;
constexpr uint64_t kBlasters = 8;
constexpr auto kBlastTime = std::chrono::milliseconds(300);
constexpr std::size_t kBlastMessageLen = 4096;

/// One 64-byte round trip of ping number `seq`; checks the echo and
/// returns the round trip time.
Clock::duration ping(BlockingConn& conn, uint64_t seq) {
    std::array<char, kEchoMessageLen> message{};
    std::array<char, kEchoMessageLen> reply{};
    for (std::size_t i = 0; i < message.size(); ++i) message[i] = char(uint8_t(seq + i));
    auto start = Clock::now();
    conn.write_all(message.data(), message.size());
    conn.read_exact(reply.data(), reply.size());
    auto round_trip = Clock::now() - start;
    if (reply != message) throw CheckFailed("check failed: ping " + std::to_string(seq) + " got a wrong echo");
    return round_trip;
}

/// `count` pings 2 ms apart, numbered on from `seq`; the first one waits 2 ms
/// too unless `first_at_once`. Appends the round trip times to `samples`.
void ping_phase(BlockingConn& conn, uint64_t& seq, uint64_t count, bool first_at_once,
                std::vector<Clock::duration>& samples) {
    for (uint64_t i = 0; i < count; ++i) {
        if (i > 0 || !first_at_once) std::this_thread::sleep_for(kPingInterval);
        samples.push_back(ping(conn, seq++));
    }
}

/// Echoes 4 KiB messages over `conn` until `stop` is set, checking each;
/// returns the round trips. The connection closes when it returns.
uint64_t blast(BlockingConn conn, const std::atomic<bool>& stop, uint64_t id) {
    std::vector<char> message(kBlastMessageLen);
    std::vector<char> reply(kBlastMessageLen);
    uint64_t rounds = 0;
    while (!stop.load(std::memory_order_relaxed)) {
        std::fill(message.begin(), message.end(), char(uint8_t(id + rounds)));
        conn.write_all(message.data(), message.size());
        conn.read_exact(reply.data(), reply.size());
        if (reply != message)
            throw CheckFailed("check failed: blaster " + std::to_string(id) + " got a wrong echo");
        ++rounds;
    }
    return rounds;
}

/// Binds an ephemeral loopback port, sends back its address, and echoes the
/// next `connections` clients (each on its own task); returns how many it
/// accepted.
braid::Task<uint64_t> bound_echo_server(braid::oneshot::Sender<braid::net::SocketAddr> addr_tx, uint64_t connections) {
    auto listener = braid::net::TcpListener::bind("127.0.0.1:0");
    (void)addr_tx.send(listener.local_addr());
    co_await echo_server(std::move(listener), connections);
    co_return connections;
}

/// Round trip times of 64-byte pings to an echo server on the runtime: 1,000
/// pings 2 ms apart on an idle runtime; then 5 rounds of: 8 connections blast
/// 4 KiB echoes for 300 ms, stop, and 50 pings follow at once (2 ms apart).
/// The clients are plain threads with blocking sockets.
Measurement tcp_latency(braid::Runtime& rt) {
    constexpr uint64_t CONNECTIONS = 1 + kBurstRounds * kBlasters;
    constexpr uint64_t PINGS = kIdlePings + kBurstRounds * kBurstPings;
    auto [addr_tx, addr_rx] = braid::oneshot::channel<braid::net::SocketAddr>();
    auto server = rt.handle().spawn(bound_echo_server(std::move(addr_tx), CONNECTIONS));
    braid::net::SocketAddr addr = addr_rx.blocking_recv();
    auto start = Clock::now();
    std::vector<Clock::duration> idle, after_burst;
    uint64_t seq = 0, blast_round_trips = 0;
    {
        BlockingConn pinger(addr);
        ping_phase(pinger, seq, kIdlePings, false, idle);
        for (uint64_t round = 0; round < kBurstRounds; ++round) {
            std::vector<BlockingConn> conns;
            for (uint64_t b = 0; b < kBlasters; ++b) conns.emplace_back(addr);
            std::atomic<bool> stop{false};
            std::vector<std::future<uint64_t>> blasters;
            for (uint64_t b = 0; b < kBlasters; ++b)
                blasters.push_back(std::async(std::launch::async, blast, std::move(conns[b]), std::cref(stop), b));
            std::this_thread::sleep_for(kBlastTime);
            stop.store(true, std::memory_order_relaxed);
            for (auto& blaster : blasters) blast_round_trips += blaster.get();
            ping_phase(pinger, seq, kBurstPings, true, after_burst);
        }
    }
    auto elapsed = Clock::now() - start;
    check("connections accepted", rt.block_on(joined(std::move(server))), CONNECTIONS);
    check("pings answered", seq, PINGS);
    check("idle samples", idle.size(), kIdlePings);
    check("after-burst samples", after_burst.size(), kBurstRounds * kBurstPings);
    if (blast_round_trips == 0) throw CheckFailed("check failed: no blast round trip");
    Percentiles i = percentiles(std::move(idle)), b = percentiles(std::move(after_burst));
    return Measurement{PINGS, elapsed}
        .with_extra("p50_us", i.p50_us)
        .with_extra("p99_us", i.p99_us)
        .with_extra("max_us", i.max_us)
        .with_extra("burst_p50_us", b.p50_us)
        .with_extra("burst_p99_us", b.p99_us)
        .with_extra("burst_max_us", b.max_us)
        .with_extra("blast_round_trips", double(blast_round_trips));
}

constexpr uint64_t kWakeMessages = 1'000;
constexpr auto kWakeInterval = std::chrono::milliseconds(2);

/// A wake_latency message: its number and the time just before its send.
struct Stamped {
    uint64_t seq;
    Clock::time_point sent;
};

/// Receives until the sender is gone, checking the numbering; returns each
/// message's delay from just before its send to this task running with it.
braid::Task<std::vector<Clock::duration>> wake_receiver(braid::mpsc::Receiver<Stamped> rx) {
    std::vector<Clock::duration> delays;
    delays.reserve(kWakeMessages);
    while (auto message = co_await rx.recv()) {
        auto now = Clock::now();
        check("message number", message->seq, delays.size());
        delays.push_back(now - message->sent);
    }
    co_return delays;
}

/// A plain thread (this one) sends 1,000 timestamped messages 2 ms apart on
/// a bounded mpsc channel (blocking_send); one task receives them. Reports
/// the delay from send to the task having the message.
Measurement wake_latency(braid::Runtime& rt) {
    auto [tx, rx] = braid::mpsc::channel<Stamped>(1024);
    auto receiver = rt.handle().spawn(wake_receiver(std::move(rx)));
    auto start = Clock::now();
    for (uint64_t seq = 0; seq < kWakeMessages; ++seq) {
        std::this_thread::sleep_for(kWakeInterval);
        if (tx.blocking_send(Stamped{seq, Clock::now()})) throw CheckFailed("check failed: the receiver is gone");
    }
    { auto last = std::move(tx); }  // closes the channel: the receiver ends
    std::vector<Clock::duration> delays = rt.block_on(joined(std::move(receiver)));
    auto elapsed = Clock::now() - start;
    check("messages received", delays.size(), kWakeMessages);
    Percentiles p = percentiles(std::move(delays));
    return Measurement{kWakeMessages, elapsed}
        .with_extra("p50_us", p.p50_us)
        .with_extra("p99_us", p.p99_us)
        .with_extra("max_us", p.max_us);
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
    {"ping_pong", ping_pong, nullptr},
    {"chained_spawn", chained_spawn, nullptr},
    {"mpsc_spsc", mpsc_spsc, nullptr},
    {"mpsc_contended", mpsc_contended, nullptr},
    {"mutex_contended", mutex_contended, nullptr},
    {"timers", timers, nullptr},
    {"idle_memory", idle_memory, nullptr},
    {"tcp_echo", tcp_echo, nullptr},
    {"spawn_blocking", spawn_blocking, nullptr},
    {"timeout_ready", timeout_ready, nullptr},
    {"select_channel", select_channel, nullptr},
    {"stream_pipeline", stream_pipeline, nullptr},
    {"copy_1gib", copy_1gib, nullptr},
    {"tcp_latency", nullptr, tcp_latency},
    {"wake_latency", nullptr, wake_latency},
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
