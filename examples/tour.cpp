// A tour of braid: every feature, in the order of the Tokio cheat sheet.
// Run it: ./build/examples/tour
#include <braid/braid.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <functional>
#include <optional>
#include <ranges>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

long ms(braid::Duration d) { return long(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()); }

void section(const char* title) { std::printf("\n== %s\n", title); }

// ---- async/await ---------------------------------------------------------------
braid::Task<int> compute() { co_return 42; }  // lazy: runs when awaited or spawned

braid::Task<std::string> fetch_data(std::string url) {
    co_await braid::sleep(5ms);  // stands in for network I/O
    co_return "data from " + url;
}

// ---- spawning --------------------------------------------------------------------
braid::Task<> spawning() {
    section("spawning tasks");
    braid::JoinHandle<int> h = braid::spawn(compute());
    std::printf("spawned task %llu, joined: %d\n", (unsigned long long)h.id(), co_await h);

    // Arguments are moved into the task's frame: they live as long as it.
    auto h2 = braid::spawn([](std::string who) -> braid::Task<std::string> {
        co_await braid::yield_now();
        co_return "hello, " + who;
    }, std::string("braid"));
    std::printf("%s\n", (co_await h2).c_str());

    // Many tasks at once; join them in any order.
    std::vector<braid::JoinHandle<std::string>> hs;
    for (const char* u : {"a.example", "b.example", "c.example"}) hs.push_back(braid::spawn(fetch_data(u)));
    for (auto& x : hs) std::printf("  %s\n", (co_await x).c_str());

    // An exception that escapes a task is rethrown where it is joined.
    auto failing = braid::spawn([]() -> braid::Task<int> {
        co_await braid::yield_now();
        throw std::runtime_error("request failed");
    }());
    try {
        co_await failing;
    } catch (const std::exception& e) {
        std::printf("joined a failed task: %s\n", e.what());
    }

    // abort() cancels at the next suspension point: the frame is destroyed.
    auto forever = braid::spawn([]() -> braid::Task<> { co_await braid::sleep(std::chrono::hours(1)); }());
    forever.abort();
    try {
        co_await forever;
    } catch (const braid::TaskCancelled&) {
        std::printf("aborted a sleeping task\n");
    }

    // Dropping the handle detaches the task: it keeps running.
    std::atomic<bool> done{false};
    braid::spawn([](std::atomic<bool>* d) -> braid::Task<> {
        co_await braid::sleep(1ms);
        d->store(true);
    }(&done)).detach();
    while (!done.load()) co_await braid::yield_now();
    std::printf("a detached task finished on its own\n");
}

// ---- concurrency patterns ------------------------------------------------------------
braid::TaskLocal<std::string> REQUEST_ID;

braid::Task<std::string> who_am_i() {
    co_await braid::yield_now();
    co_return REQUEST_ID.get();  // visible at any depth, across suspensions
}

braid::Task<> patterns() {
    section("join, select, timeout, JoinSet, cancellation");
    // join: run concurrently inside this task, wait for all.
    auto t0 = braid::Instant::now();
    auto [a, b, c] = co_await braid::join(fetch_data("one"), fetch_data("two"), compute());
    std::printf("join: %s, %s, %d in %ld ms (concurrently)\n", a.c_str(), b.c_str(), c, ms(t0.elapsed()));

    // select: the first to finish wins, the loser is cancelled.
    auto r = co_await braid::select(braid::sleep(50ms), fetch_data("fast"));
    std::printf("select: branch %zu won: %s\n", r.index(), r.index() == 1 ? std::get<1>(r).c_str() : "sleep");

    // timeout: the value, or nothing (and the awaitable is cancelled).
    std::optional<std::string> d = co_await braid::timeout(1ms, fetch_data("slow"));
    std::printf("timeout: %s\n", d ? d->c_str() : "timed out");

    // select in a loop: what is passed by lvalue is kept across iterations
    // (one deadline for the whole loop, a task that goes on while it loses);
    // braid::when disables a branch, braid::otherwise runs when all are.
    {
        auto [tx, rx] = braid::mpsc::channel<int>(8);
        braid::spawn([](braid::mpsc::Sender<int> t) -> braid::Task<> {
            for (int i = 1; i <= 3; ++i) {
                co_await braid::sleep(2ms);
                co_await t.send(i);
            }
        }, std::move(tx)).detach();
        auto deadline = braid::sleep(200ms);
        auto work = braid::pin(fetch_data("pinned"));
        bool open = true, have_work = false;
        int got = 0;
        for (;;) {
            auto r = co_await braid::select(deadline, braid::when(!work.done(), work),
                                            braid::when(open, rx.recv()), braid::otherwise());
            if (r.index() == 0 || r.index() == 3) break;  // deadline, or nothing left to wait for
            if (r.index() == 1) have_work = true;
            if (r.index() == 2) {
                if (auto m = std::get<2>(r)) got += *m;
                else open = false;  // every sender gone: disable the branch
            }
        }
        std::printf("select loop: received %d, pinned task %s\n", got, have_work ? "finished" : "unfinished");
    }

    // JoinSet: results in completion order.
    braid::JoinSet<int> set;
    for (int delay : {30, 10, 20})
        set.spawn([](int ms_) -> braid::Task<int> {
            co_await braid::sleep(std::chrono::milliseconds(ms_));
            co_return ms_;
        }, delay);
    std::printf("JoinSet order:");
    while (auto v = co_await set.join_next()) std::printf(" %d", *v);
    std::printf("\n");

    // CancellationToken: cancel a tree of work from anywhere.
    braid::CancellationToken token;
    auto worker = braid::spawn([](braid::CancellationToken child) -> braid::Task<bool> {
        auto res = co_await braid::select(braid::sleep(std::chrono::hours(1)), child.cancelled());
        co_return res.index() == 1;
    }, token.child_token());
    token.cancel();
    std::printf("child token saw the cancel: %s\n", (co_await worker) ? "yes" : "no");

    // Task-local values.
    std::printf("task-local: %s\n", (co_await REQUEST_ID.scope("req-42", who_am_i())).c_str());
}

// ---- time ----------------------------------------------------------------------
braid::Task<> time_tour() {
    section("time");
    auto t0 = braid::Instant::now();
    co_await braid::sleep(20ms);
    std::printf("slept %ld ms (at least 20)\n", ms(t0.elapsed()));

    auto start = braid::Instant::now();
    auto iv = braid::interval_at(start, 10ms);
    for (int i = 0; i < 3; ++i) {
        auto tick = co_await iv.tick();
        std::printf("  tick %d at +%ld ms\n", i, ms(tick - start));
    }
}

// ---- blocking work ---------------------------------------------------------------
braid::Task<> blocking_tour() {
    section("spawn_blocking");
    long sum = co_await braid::spawn_blocking([] {
        long s = 0;  // CPU-heavy work belongs on the blocking pool, not a worker
        for (long i = 0; i < 10'000'000; ++i) s += i % 7;
        return s;
    });
    std::printf("computed %ld on the blocking pool\n", sum);
}

// ---- readiness of a file descriptor --------------------------------------------------
braid::Task<> fd_tour() {
    section("AsyncFd");
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    {
        braid::AsyncFd reader(fds[0]);
        auto writer = braid::spawn([](int w) -> braid::Task<> {
            co_await braid::sleep(5ms);
            if (::write(w, "ping", 4) != 4) throw std::runtime_error("write");
        }(fds[1]));
        char buf[16];
        for (;;) {
            auto guard = co_await reader.readable();
            ssize_t n = ::read(fds[0], buf, sizeof buf);
            if (n > 0) {
                std::printf("read \"%.*s\" once the pipe was readable\n", int(n), buf);
                break;
            }
            guard.clear_ready();  // EAGAIN: wait for the next readiness
        }
        co_await writer;
    }
    ::close(fds[0]);
    ::close(fds[1]);
}

// ---- streams --------------------------------------------------------------------------
// The seed's countdown: an async generator.  It runs only when asked for the
// next value, and may await anything in between.
braid::Stream<uint32_t> countdown(uint32_t from) {
    for (uint32_t i = from + 1; i-- > 0;) {
        co_yield i;
        co_await braid::sleep(1s);
    }
}

braid::Task<> streams_tour() {
    namespace bs = braid::stream;
    section("streams");
    auto s = bs::iter(std::vector{1, 2, 3});
    while (auto v = co_await s.next()) std::printf("  iter: %d\n", *v);

    // Combinators chain with |; consumers (fold, collect, count...) end a pipe.
    long squares = co_await (bs::iter(std::views::iota(1, 11)) | bs::map([](int x) { return long(x) * x; })
                             | bs::filter([](const long& x) { return x % 2 == 1; }) | bs::fold(0L, std::plus<>()));
    std::printf("sum of the odd squares up to 10^2: %ld\n", squares);

    // A channel-fed pipeline: a producer task sends lines, the stream parses,
    // filters and numbers them.
    auto [tx, rx] = braid::mpsc::channel<std::string>(8);
    braid::spawn([](braid::mpsc::Sender<std::string> tx) -> braid::Task<> {
        for (const char* line : {"12", "x", "7", "30", "oops", "5"}) co_await tx.send(line);
    }, std::move(tx)).detach();
    auto numbers = bs::from_receiver(std::move(rx))
                 | bs::filter_map([](std::string line) -> std::optional<int> {
                       if (line.empty() || line.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
                       return std::stoi(line);
                   })
                 | bs::enumerate();
    while (auto n = co_await numbers.next()) std::printf("  parsed #%zu: %d\n", n->first, n->second);

    // A log shipper: batch lines, ship a batch when it has 4 lines or when
    // 20 ms passed since its first line, whichever comes first.
    auto [ltx, lrx] = braid::mpsc::unbounded_channel<std::string>();
    braid::spawn([](braid::mpsc::UnboundedSender<std::string> log) -> braid::Task<> {
        for (int burst = 0; burst < 3; ++burst) {
            for (int i = 0; i < 3 + burst * 2; ++i) log.send("burst " + std::to_string(burst) + " line " + std::to_string(i));
            co_await braid::sleep(50ms);  // quiet: the partial batch goes out on time
        }
    }, std::move(ltx)).detach();
    auto batches = bs::from_receiver(std::move(lrx)) | bs::chunks_timeout(4, 20ms);
    while (auto batch = co_await batches.next())
        std::printf("  shipped %zu line(s), first \"%s\"\n", batch->size(), batch->front().c_str());

    // select over streams: next() is cancel-safe, the loser loses nothing.
    auto fast = bs::from_interval(braid::interval(7ms)) | bs::map([](braid::Instant) { return 'f'; });
    auto slow = bs::from_interval(braid::interval(20ms)) | bs::map([](braid::Instant) { return 's'; });
    std::string order;
    for (int i = 0; i < 8; ++i) {
        auto r = co_await braid::select(fast.next(), slow.next());
        order += r.index() == 0 ? *std::get<0>(r) : *std::get<1>(r);
    }
    std::printf("select over two interval streams: %s\n", order.c_str());
}

// ---- I/O: TCP, DNS, files, processes, framing ---------------------------------------------
braid::Task<> io_tour() {
    section("I/O");
    // TCP: a listener on an ephemeral loopback port, an echo task, a client
    // with a connect timeout.
    auto listener = braid::net::TcpListener::bind("127.0.0.1:0");
    auto addr = listener.local_addr();
    auto server = braid::spawn([](braid::net::TcpListener l) -> braid::Task<> {
        auto [conn, peer] = co_await l.accept();
        auto [rd, wr] = braid::io::split(conn);
        co_await braid::io::copy(rd, wr);  // echo until the client shuts its side
        conn.shutdown_write();
    }(std::move(listener)));
    auto client = co_await braid::timeout(1s, braid::net::TcpStream::connect(addr));
    if (client) {
        co_await client->write_all("ping");
        client->shutdown_write();
        std::printf("TCP echo from %s: %s\n", addr.to_string().c_str(),
                    (co_await braid::io::read_to_string(*client)).c_str());
    }
    co_await server;

    // DNS through libuv's getaddrinfo; names under .invalid fail at once.
    auto addrs = co_await braid::net::lookup_host("localhost", 80);
    std::printf("localhost:80 resolves to %zu address(es), the first %s\n", addrs.size(), addrs.front().to_string().c_str());

    // Framing: lines over an in-memory duplex pipe.
    auto [a, b] = braid::io::duplex(1024);
    braid::io::FramedWrite out(std::move(a), braid::io::LinesCodec());
    co_await out.send(std::string_view("first line"));
    co_await out.send(std::string_view("second line"));
    co_await out.close();
    braid::io::FramedRead in(std::move(b), braid::io::LinesCodec());
    while (auto line = co_await in.next()) std::printf("  framed: %s\n", line->c_str());

    // Files, on the blocking pool.
    std::string path = "/tmp/braid-tour-" + std::to_string(::getpid()) + ".txt";
    co_await braid::fs::write(path, "written by the tour\n");
    std::printf("file says: %s", (co_await braid::fs::read_to_string(path)).c_str());
    co_await braid::fs::remove_file(path);

    // Processes: collect a child's output and exit status.
    braid::process::Command cmd("sh");
    cmd.arg("-c").arg("echo hello from a child; echo and its stderr >&2; exit 7");
    braid::process::Output o = co_await cmd.output();
    std::printf("child exited with %d; stdout: %s", o.status.code().value_or(-1), o.out.c_str());
    std::printf("                    stderr: %s", o.err.c_str());
}

braid::Task<int> async_main() {
    section("async/await");
    std::printf("compute() = %d\n", co_await compute());
    std::printf("%s\n", (co_await fetch_data("https://api.example.com")).c_str());
    co_await spawning();
    co_await patterns();
    co_await time_tour();
    co_await blocking_tour();
    co_await fd_tour();
    co_await streams_tour();
    co_await io_tour();
    co_return 0;
}

// ---- C, the same runtime -----------------------------------------------------------------
void c_tour() {
    section("the C ABI");
    braid_runtime* rt = nullptr;
    braid_runtime_new(&rt);
    std::atomic<int> fired{0};
    braid_task* t = nullptr;
    braid_sleep(&t, rt, 5, [](void* p, int status) { static_cast<std::atomic<int>*>(p)->store(status == BRAID_OK); },
                &fired);
    braid_task_join_blocking(t, BRAID_WAIT_FOREVER);
    braid_task_free(t);
    std::printf("braid_sleep called back on a worker: %s\n", fired.load() ? "yes" : "no");
    std::printf("braid_strerror(BRAID_ETIMEDOUT) = \"%s\"\n", braid_strerror(BRAID_ETIMEDOUT));
    braid_runtime_free(rt);
}

}  // namespace

int main() {
    std::printf("braid %s tour\n", braid_version());

    section("runtime setup");
    int rc = braid::run(async_main());  // multi-thread, one worker per core

    {
        auto rt = braid::Runtime::builder().current_thread().build();  // single-threaded
        std::printf("\ncurrent-thread runtime: compute() = %d\n", rt.block_on(compute()));
    }
    {
        // Paused time, for tests: an hour passes at once.
        auto rt = braid::Runtime::builder().worker_threads(1).start_paused().build();
        long virt = rt.block_on([]() -> braid::Task<long> {
            auto t0 = braid::Instant::now();
            co_await braid::sleep(std::chrono::hours(1));
            co_return long(std::chrono::duration_cast<std::chrono::seconds>(t0.elapsed()).count());
        }());
        std::printf("paused runtime: slept %ld virtual seconds at once\n", virt);
    }
    {
        // The seed's countdown (one second between values) on paused time.
        auto rt = braid::Runtime::builder().worker_threads(1).start_paused().build();
        rt.block_on([]() -> braid::Task<> {
            auto t0 = braid::Instant::now();
            auto s = countdown(3);
            while (auto v = co_await s.next()) std::printf("countdown: %u at +%ld s (virtual)\n", *v, ms(t0.elapsed()) / 1000);
        }());
    }
    {
        // Shutdown is total: freeing a runtime cancels its sleeping tasks.
        auto rt = braid::Runtime::builder().worker_threads(2).build();
        for (int i = 0; i < 1000; ++i)
            rt.spawn([]() -> braid::Task<> { co_await braid::sleep(std::chrono::hours(1)); }()).detach();
        std::printf("dropping a runtime with 1000 sleeping tasks...\n");
    }
    std::printf("...every one cancelled, every thread joined\n");

    c_tour();
    std::printf("\ntour finished\n");
    return rc;
}
