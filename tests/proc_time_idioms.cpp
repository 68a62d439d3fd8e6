// Child processes, signals, timers and files used the way Tokio users use
// them: a child's wait kept across the selects of a loop, kill then wait,
// wait_with_output with both pipes past a pipe buffer, stdin fed by one task
// while another reads stdout, kill_on_drop in an aborted task, many children
// at once; a kept signal recv against a shutdown token; sleeps reset in a
// loop, timeouts around kept awaitables, DelayQueue in a select loop, many
// timers fired by one advance; file work raced against timeouts and aborts.
#include <catch2/catch.hpp>

#include <braid/delay_queue.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_proc_time_idioms {

using namespace std::chrono_literals;
using braid::process::Command;
using braid::process::Stdio;

// ---- processes ---------------------------------------------------------------------

namespace {

// The read end `rfd` of a pipe whose write ends only children held (the
// test closed its own): end of file once every one of them is dead, which
// a child killed on drop must be.  Closes `rfd`.
void check_eof_once_writers_dead(int rfd) {
    pollfd p{rfd, POLLIN, 0};
    int ready = ::poll(&p, 1, 20000);
    char c;
    CHECK(ready == 1);
    CHECK(::read(rfd, &c, 1) == 0);
    ::close(rfd);
}

}  // namespace

TEST_CASE("proc_time_idioms.process idioms: wait_with_output drains stderr past a pipe buffer written before stdout") {
    auto rt = braid_test::runtime(2);
    auto o = rt.block_on([]() -> braid::Task<braid::process::Output> {
        // 200 KB to stderr first: a collector that reads stdout to its end
        // before it looks at stderr would wait forever (the child blocks on
        // the full stderr pipe and never closes stdout).
        auto child = Command("sh")
                         .args({"-c", "head -c 200000 /dev/zero >&2; head -c 150000 /dev/zero; exit 4"})
                         .set_stdout(Stdio::piped())
                         .set_stderr(Stdio::piped())
                         .kill_on_drop(true)
                         .spawn();
        auto collect = std::move(child).wait_with_output();
        auto r = co_await braid::timeout(20s, std::move(collect));
        if (!r) co_return braid::process::Output{};
        co_return std::move(*r);
    }());
    CHECK(o.err.size() == 200000);
    CHECK(o.out.size() == 150000);
    CHECK(o.status.code() == std::optional<int>(4));
}

TEST_CASE("proc_time_idioms.process idioms: output() collects stderr past a pipe buffer written before stdout") {
    auto rt = braid_test::runtime(2);
    auto o = rt.block_on([]() -> braid::Task<braid::process::Output> {
        auto cmd = Command("sh");
        cmd.args({"-c", "head -c 100000 /dev/zero >&2; head -c 70000 /dev/zero"});
        auto op = cmd.output();
        auto r = co_await braid::timeout(20s, std::move(op));
        if (!r) co_return braid::process::Output{};
        co_return std::move(*r);
    }());
    CHECK(o.err.size() == 100000);
    CHECK(o.out.size() == 70000);
    CHECK(o.status.success());
}

TEST_CASE("proc_time_idioms.process idioms: a kept child wait raced against a channel and an interval") {
    auto rt = braid_test::runtime(2);
    struct R {
        int msgs = 0;
        long ticks = 0;
        std::optional<int> code;
        bool reaped = false;
    };
    auto r = rt.block_on([]() -> braid::Task<R> {
        // cat exits when its stdin closes: the loop closes it after the tenth message.
        auto child = Command("cat").set_stdin(Stdio::piped()).set_stdout(Stdio::null()).spawn();
        auto in = child.take_stdin();
        auto [tx, rx] = braid::mpsc::channel<int>(4);
        auto h = braid::spawn([](braid::mpsc::Sender<int> tx) -> braid::Task<> {
            for (int i = 0; i < 10; ++i) {
                auto back = co_await tx.send(int(i));
                if (back) co_return;
                co_await braid::yield_now();
            }
        }, std::move(tx));
        h.detach();
        R out;
        auto iv = braid::interval(200us);
        auto waited = child.wait();  // kept across the selects
        auto recv = rx.recv();       // kept too
        bool open = true;
        for (;;) {
            auto s = co_await braid::select(waited, braid::when(open, recv), iv.tick());
            if (s.index() == 0) {
                out.code = std::get<0>(s).code();
                break;
            }
            if (s.index() == 1) {
                auto& m = std::get<1>(s);
                if (!m) {
                    open = false;
                    continue;
                }
                ++out.msgs;
                co_await in->write_all(std::string("line\n"));
                if (out.msgs == 10) in->close();
            } else {
                ++out.ticks;
            }
        }
        // The status is kept: a second wait gives it again at once.
        auto again = co_await child.wait();
        out.reaped = again.code() == out.code && !child.id().has_value();
        co_return out;
    }());
    CHECK(r.msgs == 10);
    CHECK(r.code == std::optional<int>(0));
    CHECK(r.reaped);
}

TEST_CASE("proc_time_idioms.process idioms: kill then wait then wait again and try_wait agree") {
    auto rt = braid_test::runtime(2);
    auto [first, second, tried] = rt.block_on([]() -> braid::Task<std::tuple<int, int, int>> {
        auto child = Command("sleep").arg("1000").kill_on_drop(true).spawn();
        auto st = co_await child.kill();
        auto st2 = co_await child.wait();
        auto tw = child.try_wait();
        co_return std::tuple<int, int, int>{st.signal().value_or(-1), st2.signal().value_or(-1),
                                            tw ? tw->signal().value_or(-1) : -2};
    }());
    CHECK(first == SIGKILL);
    CHECK(second == SIGKILL);
    CHECK(tried == SIGKILL);
}

TEST_CASE("proc_time_idioms.process idioms: stdin written by one task while another reads stdout") {
    auto rt = braid_test::runtime(2);
    auto [n, same, code] = rt.block_on([]() -> braid::Task<std::tuple<std::size_t, bool, int>> {
        auto child = Command("cat").set_stdin(Stdio::piped()).set_stdout(Stdio::piped()).spawn();
        std::string payload;
        for (int i = 0; payload.size() < 300000; ++i) payload += std::to_string(i) + ",";
        auto writer = braid::spawn([](braid::process::ChildStdin in, std::string* p) -> braid::Task<> {
            co_await in.write_all(*p);
            co_await in.shutdown();
        }, std::move(*child.take_stdin()), &payload);
        auto reader = braid::spawn([](braid::process::ChildStdout out) -> braid::Task<std::string> {
            co_return co_await braid::io::read_to_string(out);
        }, std::move(*child.take_stdout()));
        co_await std::move(writer);
        std::string got = co_await std::move(reader);
        auto st = co_await child.wait();
        co_return std::tuple<std::size_t, bool, int>{got.size(), got == payload, st.code().value_or(-1)};
    }());
    CHECK(n > 0);
    CHECK(same);
    CHECK(code == 0);
}

TEST_CASE("proc_time_idioms.process idioms: a kill_on_drop child owned by an aborted task is killed") {
    auto rt = braid_test::runtime(2);
    auto [eof, elapsed_ok] = rt.block_on([]() -> braid::Task<std::pair<bool, bool>> {
        auto [tx, rx] = braid::oneshot::channel<braid::process::ChildStdout>();
        auto h = braid::spawn([](braid::oneshot::Sender<braid::process::ChildStdout> tx) -> braid::Task<> {
            auto child = Command("sh")
                             .args({"-c", "echo up; exec sleep 1000"})
                             .set_stdout(Stdio::piped())
                             .kill_on_drop(true)
                             .spawn();
            tx.send(std::move(*child.take_stdout()));
            co_await child.wait();  // until aborted
        }, std::move(tx));
        auto out = co_await std::move(rx);
        char c[3] = {};
        co_await out.read_exact(braid::io::MutableBuffer(c, 3));  // "up\n": the child runs
        h.abort();
        // The child dies with the task: its stdout reaches end of file (sleep
        // held it open), long before sleep's 1000 s.
        auto start = braid::Instant::now();
        auto rest = braid::io::read_to_string(out);
        auto r = co_await braid::timeout(30s, std::move(rest));
        co_return std::pair<bool, bool>{r.has_value() && r->empty(), braid::Instant::now() - start < 30s};
    }());
    CHECK(eof);
    CHECK(elapsed_ok);
}

TEST_CASE("proc_time_idioms.process idioms: many children spawned concurrently on a multi-thread runtime") {
    auto rt = braid_test::runtime(2);
    constexpr int N = 40;
    auto codes = rt.block_on([]() -> braid::Task<std::vector<int>> {
        std::vector<braid::JoinHandle<int>> hs;
        for (int i = 0; i < N; ++i) {
            hs.push_back(braid::spawn([](int i) -> braid::Task<int> {
                auto child = Command("sh").args({"-c", "exit " + std::to_string(i % 50)}).spawn();
                auto st = co_await child.wait();
                co_return st.code().value_or(-1);
            }, i));
        }
        std::vector<int> out;
        for (auto& h : hs) out.push_back(co_await std::move(h));
        co_return out;
    }());
    REQUIRE(codes.size() == std::size_t(N));
    for (int i = 0; i < N; ++i) CHECK(codes[i] == i % 50);
}

TEST_CASE("proc_time_idioms.process idioms: a kept output() losing races to an interval is not cancelled") {
    auto rt = braid_test::runtime(2);
    auto [o, ticks] = rt.block_on([]() -> braid::Task<std::pair<braid::process::Output, long>> {
        auto cmd = Command("sh");
        cmd.args({"-c", "head -c 300000 /dev/zero; echo end >&2; exit 5"});
        auto op = cmd.output();  // kept: a select it loses only unregisters it
        auto iv = braid::interval(50us);
        long ticks = 0;
        for (;;) {
            auto s = co_await braid::select(op, iv.tick());
            if (s.index() == 0) co_return std::pair<braid::process::Output, long>{std::move(std::get<0>(s)), ticks};
            ++ticks;
        }
    }());
    CHECK(o.out.size() == 300000);
    CHECK(o.err == "end\n");
    CHECK(o.status.code() == std::optional<int>(5));
    (void)ticks;
}

TEST_CASE("proc_time_idioms.process idioms: a timeout around a kept child wait expires then the wait completes") {
    auto rt = braid_test::runtime(2);
    auto [expired, code] = rt.block_on([]() -> braid::Task<std::pair<int, int>> {
        // cat runs until its stdin closes: the first timeouts must expire.
        auto child = Command("cat").set_stdin(Stdio::piped()).set_stdout(Stdio::null()).spawn();
        auto in = child.take_stdin();
        auto waited = child.wait();
        int expired = 0;
        for (;;) {
            auto t = co_await braid::timeout(2ms, waited);
            if (t) co_return std::pair<int, int>{expired, t->code().value_or(-1)};
            if (++expired == 3) in->close();  // now it exits
        }
    }());
    CHECK(expired >= 3);
    CHECK(code == 0);
}

TEST_CASE("proc_time_idioms.process idioms: kill and try_wait on a child that already exited give its status") {
    auto rt = braid_test::runtime(2);
    auto [pending_before, waited, killed, tried] = rt.block_on([]() -> braid::Task<std::tuple<bool, int, int, int>> {
        auto child = Command("cat").set_stdin(Stdio::piped()).set_stdout(Stdio::null()).spawn();
        bool pending_before = !child.try_wait().has_value();
        child.take_stdin()->close();
        auto st = co_await child.wait();
        auto k = co_await child.kill();  // exited and reaped: nothing to kill
        auto tw = child.try_wait();
        co_return std::tuple<bool, int, int, int>{pending_before, st.code().value_or(-1), k.code().value_or(-1),
                                                 tw ? tw->code().value_or(-1) : -2};
    }());
    CHECK(pending_before);
    CHECK(waited == 0);
    CHECK(killed == 0);
    CHECK(tried == 0);
}

TEST_CASE("proc_time_idioms.process idioms: status() under an expiring timeout kills a kill_on_drop child") {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    {
        auto rt = braid_test::runtime(2);
        bool expired = rt.block_on([](int wfd) -> braid::Task<bool> {
            auto cmd = Command("sleep");
            cmd.arg("1000").kill_on_drop(true).set_stdout(Stdio::from_fd(wfd));
            auto st = cmd.status();
            auto t = co_await braid::timeout(50ms, std::move(st));
            co_return !t.has_value();
        }(fds[1]));
        CHECK(expired);
    }
    ::close(fds[1]);
    // The pipe's last writer was the child.
    check_eof_once_writers_dead(fds[0]);
}

TEST_CASE("proc_time_idioms.process idioms: a child stdin shut down and dropped while its pipe has another reference") {
    // The pipe's write end has a second fd here (as a child started in
    // between, or a Stdio::from_fd handed on, would hold): shutting the
    // stdin down and dropping it must leave no registration behind that
    // the reactor reports later, when the child exits and the pipe breaks.
    auto rt = braid_test::runtime(2);
    int copy = -1;
    auto sig = rt.block_on([](int* copy) -> braid::Task<int> {
        auto child = Command("cat").set_stdin(Stdio::piped()).set_stdout(Stdio::null()).spawn();
        {
            auto in = child.take_stdin();
            *copy = ::dup(in->fd());
            co_await in->write_all(std::string("x"));
            co_await in->shutdown();
        }  // dropped
        auto st = co_await child.kill();  // the read end closes: the write end's registration would fire
        for (int i = 0; i < 20; ++i) co_await braid::sleep(1ms);  // the workers take their events
        co_return st.signal().value_or(-1);
    }(&copy));
    CHECK(sig == SIGKILL);
    ::close(copy);
}

TEST_CASE("proc_time_idioms.process idioms: concurrent output() and wait_with_output calls each get their own whole output") {
    auto rt = braid_test::runtime(2);
    constexpr int N = 12;
    auto results = rt.block_on([]() -> braid::Task<std::vector<std::tuple<std::size_t, std::string, int>>> {
        std::vector<braid::JoinHandle<std::tuple<std::size_t, std::string, int>>> hs;
        for (int i = 0; i < N; ++i) {
            hs.push_back(braid::spawn([](int i) -> braid::Task<std::tuple<std::size_t, std::string, int>> {
                std::string script = "head -c " + std::to_string(70000 + i * 1000) + " /dev/zero; echo e" +
                                     std::to_string(i) + " >&2; exit " + std::to_string(i);
                braid::process::Output o;
                if (i % 2) {
                    auto cmd = Command("sh");
                    cmd.args({"-c", script});
                    o = co_await cmd.output();
                } else {
                    auto child = Command("sh")
                                     .args({"-c", script})
                                     .set_stdout(Stdio::piped())
                                     .set_stderr(Stdio::piped())
                                     .spawn();
                    o = co_await std::move(child).wait_with_output();
                }
                co_return std::tuple<std::size_t, std::string, int>{o.out.size(), o.err, o.status.code().value_or(-1)};
            }, i));
        }
        std::vector<std::tuple<std::size_t, std::string, int>> out;
        for (auto& h : hs) out.push_back(co_await std::move(h));
        co_return out;
    }());
    REQUIRE(results.size() == std::size_t(N));
    for (int i = 0; i < N; ++i) {
        INFO("child " << i);
        CHECK(std::get<0>(results[i]) == std::size_t(70000 + i * 1000));
        CHECK(std::get<1>(results[i]) == "e" + std::to_string(i) + "\n");
        CHECK(std::get<2>(results[i]) == i);
    }
}

TEST_CASE("proc_time_idioms.process idioms: a JoinSet of tasks owning kill_on_drop children aborted at once kills them all") {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    {
        auto rt = braid_test::runtime(2);
        int started = rt.block_on([](int wfd) -> braid::Task<int> {
            braid::JoinSet<void> set;
            auto [tx, rx] = braid::mpsc::channel<int>(16);
            for (int i = 0; i < 8; ++i) {
                set.spawn([](int wfd, braid::mpsc::Sender<int> tx) -> braid::Task<> {
                    // Each child holds the pipe's write end as its stdout.
                    auto cmd = Command("sleep");
                    cmd.arg("1000").kill_on_drop(true).set_stdout(Stdio::from_fd(wfd));
                    auto child = cmd.spawn();
                    co_await tx.send(1);
                    co_await child.wait();  // until aborted
                }, wfd, tx);
            }
            { auto dropped = std::move(tx); }
            int started = 0;
            for (int i = 0; i < 8; ++i) started += (co_await rx.recv()).value_or(0);
            set.abort_all();
            for (bool more = true; more;) {
                try {
                    more = bool(co_await set.join_next());
                } catch (const braid::TaskCancelled&) {  // each aborted task comes back cancelled
                }
            }
            co_return started;
        }(fds[1]));
        CHECK(started == 8);
    }
    ::close(fds[1]);
    check_eof_once_writers_dead(fds[0]);
}

// ---- signals ---------------------------------------------------------------------

TEST_CASE("proc_time_idioms.signal idioms: a kept recv in a select loop with a shutdown token hears every burst") {
    auto rt = braid_test::runtime(2);
    auto [bursts, heard_all] = rt.block_on([]() -> braid::Task<std::pair<int, bool>> {
        braid::signal::Signal usr1(SIGUSR1);
        braid::CancellationToken stop;
        auto recv = usr1.recv();  // kept across the selects
        auto cancelled = stop.cancelled();
        auto iv = braid::interval(100us);
        int bursts = 0;
        bool heard_all = true;
        for (int b = 0; b < 20; ++b) {
            for (int k = 0; k < 1 + b % 3; ++k) ::raise(SIGUSR1);
            // Wait for at least one delivery of this burst, the interval
            // winning meanwhile as often as it likes.
            bool heard = false;
            for (int spins = 0; !heard && spins < 200000; ++spins) {
                auto s = co_await braid::select(recv, cancelled, iv.tick());
                if (s.index() == 0) heard = true;
                if (s.index() == 1) co_return std::pair<int, bool>{bursts, false};
            }
            heard_all = heard_all && heard;
            ++bursts;
            // Coalesced deliveries of this burst may still be pending: drain
            // them with a short race so the next burst is its own.
            auto extra = braid::select(recv, braid::sleep(1ms));
            co_await std::move(extra);
        }
        stop.cancel();
        auto s = co_await braid::select(recv, cancelled);
        heard_all = heard_all && s.index() == 1;
        co_return std::pair<int, bool>{bursts, heard_all};
    }());
    CHECK(bursts == 20);
    CHECK(heard_all);
}

TEST_CASE("proc_time_idioms.signal idioms: two listeners of SIGUSR2 in two tasks are both woken") {
    auto rt = braid_test::runtime(2);
    auto both = rt.block_on([]() -> braid::Task<bool> {
        braid::Barrier ready(3);
        auto listen = [](braid::Barrier* ready) -> braid::Task<bool> {
            braid::signal::Signal s(SIGUSR2);
            auto r = s.recv();
            co_await ready->wait();
            co_return co_await braid::timeout(20s, r);
        };
        auto a = braid::spawn(listen, &ready);
        auto b = braid::spawn(listen, &ready);
        co_await ready.wait();
        ::raise(SIGUSR2);
        bool ra = co_await std::move(a);
        bool rb = co_await std::move(b);
        co_return ra && rb;
    }());
    CHECK(both);
}

TEST_CASE("proc_time_idioms.signal idioms: kept receivers of SIGUSR1 and SIGUSR2 in one select hear their own signal") {
    auto rt = braid_test::runtime(2);
    auto [right, wrong] = rt.block_on([]() -> braid::Task<std::pair<int, int>> {
        braid::signal::Signal usr1(SIGUSR1), usr2(SIGUSR2);
        auto r1 = usr1.recv();
        auto r2 = usr2.recv();
        auto iv = braid::interval(200us);
        int right = 0, wrong = 0;
        for (int round = 0; round < 30; ++round) {
            int sig = round % 2 ? SIGUSR2 : SIGUSR1;
            ::raise(sig);
            for (;;) {
                auto s = co_await braid::select(r1, r2, iv.tick());
                if (s.index() == 2) continue;
                if ((s.index() == 0) == (sig == SIGUSR1)) ++right;
                else ++wrong;
                break;
            }
        }
        co_return std::pair<int, int>{right, wrong};
    }());
    CHECK(right == 30);
    CHECK(wrong == 0);
}

TEST_CASE("proc_time_idioms.signal idioms: a signal raised from a plain thread wakes a kept recv in a select with a token") {
    auto rt = braid_test::runtime(2);
    auto heard = rt.block_on([]() -> braid::Task<int> {
        braid::signal::Signal usr1(SIGUSR1);
        braid::CancellationToken stop;
        auto recv = usr1.recv();
        auto cancelled = stop.cancelled();
        auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
        // A plain thread sends a signal to the process whenever asked.
        std::thread sender([](braid::mpsc::Receiver<int>* rx) {
            while (auto v = rx->blocking_recv()) ::kill(::getpid(), SIGUSR1);
        }, &rx);
        int heard = 0;
        for (int i = 0; i < 10; ++i) {
            tx.send(int(i));
            auto s = co_await braid::select(recv, cancelled);
            if (s.index() == 0) ++heard;
        }
        stop.cancel();
        auto s = co_await braid::select(cancelled, recv);
        if (s.index() != 0) heard = -1;
        { auto dropped = std::move(tx); }
        sender.join();
        co_return heard;
    }());
    CHECK(heard == 10);
}

// ---- time ------------------------------------------------------------------------

TEST_CASE("proc_time_idioms.time idioms: a kept sleep reset in a loop fires only after the last reset") {
    auto rt = braid_test::paused_runtime();
    auto [activity, fired_at] = rt.block_on([]() -> braid::Task<std::pair<int, long>> {
        auto start = braid::Instant::now();
        auto [tx, rx] = braid::mpsc::channel<int>(1);
        auto h = braid::spawn([](braid::mpsc::Sender<int> tx) -> braid::Task<> {
            for (int i = 0; i < 5; ++i) {
                co_await braid::sleep(30ms);
                co_await tx.send(int(i));
            }
            co_await braid::sleep(1h);  // keeps the channel open
        }, std::move(tx));
        auto idle = braid::sleep(50ms);  // an idle timeout, pushed back by each message
        int activity = 0;
        long fired = -1;
        for (;;) {
            auto recv = rx.recv();
            auto s = co_await braid::select(idle, recv);
            if (s.index() == 0) {
                fired = long((braid::Instant::now() - start) / 1ms);
                break;
            }
            ++activity;
            idle.reset(braid::Instant::now() + 50ms);
        }
        // Reset after it fired, the kept sleep waits again.
        auto again = braid::Instant::now();
        idle.reset(again + 40ms);
        auto recv = rx.recv();
        auto s = co_await braid::select(idle, recv);
        if (s.index() != 0 || braid::Instant::now() - again != 40ms) fired = -2;
        h.abort();
        co_return std::pair<int, long>{activity, fired};
    }());
    CHECK(activity == 5);
    CHECK(fired_at == 150 + 50);
}

TEST_CASE("proc_time_idioms.time idioms: a timeout around a kept awaitable that completes in a later iteration") {
    auto rt = braid_test::paused_runtime();
    auto [n_timeouts, value] = rt.block_on([]() -> braid::Task<std::pair<int, int>> {
        auto [tx, rx] = braid::oneshot::channel<int>();
        auto h = braid::spawn([](braid::oneshot::Sender<int> tx) -> braid::Task<> {
            co_await braid::sleep(35ms);
            tx.send(7);
        }, std::move(tx));
        h.detach();
        auto kept = std::move(rx);
        int timeouts = 0;
        for (;;) {
            auto t = co_await braid::timeout(10ms, kept);
            if (t) co_return std::pair<int, int>{timeouts, *t};
            ++timeouts;
        }
    }());
    CHECK(n_timeouts == 3);
    CHECK(value == 7);
}

TEST_CASE("proc_time_idioms.time idioms: DelayQueue insert remove and reset in a select loop") {
    auto rt = braid_test::paused_runtime();
    auto order = rt.block_on([]() -> braid::Task<std::vector<std::pair<int, long>>> {
        auto start = braid::Instant::now();
        braid::DelayQueue<int> q;
        auto [tx, rx] = braid::mpsc::channel<int>(8);
        auto h = braid::spawn([](braid::mpsc::Sender<int> tx) -> braid::Task<> {
            for (int v : {1, 2, 3, 4, -2, 5, 104}) {
                co_await braid::sleep(5ms);
                co_await tx.send(int(v));
            }
        }, std::move(tx));
        h.detach();
        std::vector<std::pair<int, long>> out;
        std::vector<braid::DelayQueue<int>::Key> keys(8);
        auto next = q.next();  // kept across the selects
        auto recv = rx.recv();
        bool open = true;
        while (open || !q.is_empty()) {
            auto s = co_await braid::select(braid::when(!q.is_empty(), next), braid::when(open, recv));
            if (s.index() == 0) {
                auto& e = std::get<0>(s);
                if (e) out.emplace_back(e->value, long((braid::Instant::now() - start) / 1ms));
                continue;
            }
            auto& m = std::get<1>(s);
            if (!m) {
                open = false;
                continue;
            }
            int v = *m;
            if (v > 100) q.reset(keys[v - 100], 1ms);   // 4 comes out 1 ms after its reset
            else if (v < 0) q.remove(keys[-v]);        // 2 never comes out
            else keys[v] = q.insert(int(v), std::chrono::milliseconds(100 - 10 * v));
        }
        co_return out;
    }());
    // inserted at 5, 10, 15, 20, 30 ms with delays 90, 80, 70, 60, 50: 1 at 95,
    // 3 at 85, 5 at 80; 4 was reset at 35 ms to 36 ms.
    std::vector<std::pair<int, long>> want{{4, 36}, {5, 80}, {3, 85}, {1, 95}};
    CHECK(order == want);
}

TEST_CASE("proc_time_idioms.time idioms: sleep_until in the past completes at once") {
    auto rt = braid_test::paused_runtime();
    auto [moved, late] = rt.block_on([]() -> braid::Task<std::pair<long, bool>> {
        co_await braid::sleep(10ms);
        auto past = braid::Instant::now() - 5ms;
        auto before = braid::Instant::now();
        co_await braid::sleep_until(past);
        auto s = braid::sleep_until(past);
        auto r = co_await braid::select(s, braid::yield_now());
        co_return std::pair<long, bool>{long((braid::Instant::now() - before) / 1us), r.index() == 0};
    }());
    CHECK(moved == 0);
    CHECK(late);
}

namespace {
// 64 tasks sleeping 1..64 ms (spawned in a scrambled order), then one
// advance past them all: the order in which the tasks ran after their sleeps.
braid::Task<std::vector<int>> fire_many_with_one_advance() {
    std::vector<int> order;
    std::vector<braid::JoinHandle<void>> hs;
    constexpr int N = 64;
    for (int i = 0; i < N; ++i) {
        int ms = (i * 37) % N + 1;  // a permutation of 1..N
        hs.push_back(braid::spawn([](std::vector<int>* order, int ms) -> braid::Task<> {
            co_await braid::sleep(std::chrono::milliseconds(ms));
            order->push_back(ms);
        }, &order, ms));
    }
    for (int i = 0; i < 4; ++i) co_await braid::yield_now();  // every sleep registered
    co_await braid::time::advance(std::chrono::milliseconds(N + 1));
    for (auto& h : hs) co_await std::move(h);
    co_return order;
}
std::vector<int> one_to(int n) {
    std::vector<int> v(n);
    for (int i = 0; i < n; ++i) v[i] = i + 1;
    return v;
}
}  // namespace

TEST_CASE("proc_time_idioms.time idioms: one advance fires many timers and their tasks run in deadline order") {
    SECTION("current-thread runtime") {
        auto rt = braid_test::current_thread_runtime(true);
        auto order = rt.block_on(fire_many_with_one_advance());
        CHECK(order == one_to(64));
    }
    SECTION("multi-thread runtime with one worker, advanced from a spawned task") {
        auto rt = braid_test::paused_runtime(1);
        auto order = rt.block_on([]() -> braid::Task<std::vector<int>> {
            co_return co_await braid::spawn(fire_many_with_one_advance());
        }());
        CHECK(order == one_to(64));
    }
}

TEST_CASE("proc_time_idioms.time idioms: a kept interval tick raced against a channel under paused time") {
    auto rt = braid_test::paused_runtime();
    auto [ticks, msgs, instants_ok] = rt.block_on([]() -> braid::Task<std::tuple<int, int, bool>> {
        auto start = braid::Instant::now();
        auto [tx, rx] = braid::mpsc::channel<int>(4);
        auto h = braid::spawn([](braid::mpsc::Sender<int> tx) -> braid::Task<> {
            for (int i = 0; i < 7; ++i) {
                co_await braid::sleep(7ms);
                co_await tx.send(int(i));
            }
        }, std::move(tx));
        h.detach();
        auto iv = braid::interval(10ms);
        auto tick = iv.tick();  // kept: each completion is one tick, the next race waits for the next
        auto recv = rx.recv();
        int ticks = 0, msgs = 0;
        bool ok = true, open = true;
        while (open) {
            auto s = co_await braid::select(tick, braid::when(open, recv));
            if (s.index() == 0) {
                if (std::get<0>(s) != start + std::chrono::milliseconds(10 * ticks)) ok = false;
                ++ticks;
            } else if (std::get<1>(s)) {
                ++msgs;
            } else {
                open = false;
            }
        }
        // The channel closed at 49 ms: ticks at 0, 10, 20, 30, 40.
        co_return std::tuple<int, int, bool>{ticks, msgs, ok};
    }());
    CHECK(ticks == 5);
    CHECK(msgs == 7);
    CHECK(instants_ok);
}

// ---- files ---------------------------------------------------------------------

namespace {
// The file as it is on disk, or nothing when it does not exist (read on the
// test thread, with no runtime running).
std::optional<std::string> slurp(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return std::nullopt;
    std::string s;
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) s.append(buf, n);
    std::fclose(f);
    return s;
}
}  // namespace

TEST_CASE("proc_time_idioms.fs idioms: a write raced against a timeout leaves the file whole or absent") {
    braid_test::TempDir dir;
    std::string data(1 << 20, 'x');
    for (std::size_t i = 0; i < data.size(); i += 4096) data[i] = char('a' + (i / 4096) % 26);
    for (int round = 0; round < 12; ++round) {
        std::string path = dir / ("f" + std::to_string(round));
        {
            auto rt = braid_test::runtime(2);
            rt.block_on([](std::string path, std::string* data, int round) -> braid::Task<> {
                auto w = braid::fs::write(path, *data);
                auto r = co_await braid::timeout(std::chrono::microseconds(round * 40), std::move(w));
                (void)r;
            }(path, &data, round));
        }  // the runtime's shutdown waits for the write the pool started
        auto content = slurp(path);
        INFO("round " << round);
        CHECK((!content || *content == data));
    }
}

TEST_CASE("proc_time_idioms.fs idioms: an aborted task renaming and rewriting never leaves a torn file") {
    braid_test::TempDir dir;
    std::string a(200000, 'a'), b(300000, 'b');
    std::string path = dir / "cfg";
    {
        auto rt = braid_test::runtime(2);
        rt.block_on([](std::string p, std::string* a) -> braid::Task<> { co_await braid::fs::write(p, *a); }(path, &a));
    }
    for (int round = 0; round < 20; ++round) {
        {
            auto rt = braid_test::runtime(2);
            rt.block_on([](std::string path, std::string* b, int round) -> braid::Task<> {
                auto h = braid::spawn([](std::string path, std::string* b) -> braid::Task<> {
                    // The atomic-replace idiom: write a temporary, rename it over.
                    std::string tmp = path + ".tmp";
                    co_await braid::fs::write(tmp, *b);
                    co_await braid::fs::rename(tmp, path);
                }, path, b);
                for (int i = 0; i < round % 5; ++i) co_await braid::yield_now();
                h.abort();
                try {
                    co_await std::move(h);
                } catch (const braid::TaskCancelled&) {
                }
            }(path, &b, round));
        }
        auto content = slurp(path);
        INFO("round " << round);
        REQUIRE(content.has_value());
        CHECK((*content == a || *content == b));
        auto tmp = slurp(path + ".tmp");
        CHECK((!tmp || *tmp == b));
    }
}

TEST_CASE("proc_time_idioms.fs idioms: concurrent appends from several tasks keep every record whole") {
    braid_test::TempDir dir;
    auto rt = braid_test::runtime(2);
    std::string path = dir / "log";
    constexpr int Tasks = 6, Records = 50;
    auto content = rt.block_on([](std::string path) -> braid::Task<std::string> {
        std::vector<braid::JoinHandle<void>> hs;
        for (int t = 0; t < Tasks; ++t) {
            hs.push_back(braid::spawn([](std::string path, int t) -> braid::Task<> {
                braid::fs::OpenOptions opts;
                opts.append(true).create(true).write(true);
                auto f = co_await opts.open(path);
                for (int r = 0; r < Records; ++r) {
                    std::string rec = "<" + std::to_string(t) + ":" + std::to_string(r) + ":" +
                                      std::string(100 + t * 10, char('a' + t)) + ">\n";
                    co_await f.write_all(rec);
                }
            }, path, t));
        }
        for (auto& h : hs) co_await std::move(h);
        co_return co_await braid::fs::read_to_string(path);
    }(path));
    std::vector<int> next(Tasks, 0);
    std::size_t pos = 0;
    int lines = 0;
    bool ok = true;
    while (pos < content.size()) {
        auto nl = content.find('\n', pos);
        if (nl == std::string::npos) {
            ok = false;
            break;
        }
        std::string line = content.substr(pos, nl - pos);
        pos = nl + 1;
        ++lines;
        int t = -1, r = -1;
        if (std::sscanf(line.c_str(), "<%d:%d:", &t, &r) != 2 || t < 0 || t >= Tasks) {
            ok = false;
            continue;
        }
        std::string body = line.substr(line.find(':', line.find(':') + 1) + 1);
        if (body != std::string(100 + t * 10, char('a' + t)) + ">" || r != next[t]) ok = false;
        else ++next[t];
    }
    CHECK(ok);
    CHECK(lines == Tasks * Records);
}

TEST_CASE("proc_time_idioms.fs idioms: a kept file read raced against an interval reads the file once in order") {
    braid_test::TempDir dir;
    auto rt = braid_test::runtime(2);
    std::string path = dir / "data";
    std::string data;
    for (int i = 0; data.size() < 600000; ++i) data += std::to_string(i) + " ";
    auto got = rt.block_on([](std::string path, std::string* data) -> braid::Task<std::string> {
        co_await braid::fs::write(path, *data);
        auto f = co_await braid::fs::File::open(path);
        std::vector<char> buf(8192);
        auto rd = f.read(braid::io::MutableBuffer(buf.data(), buf.size()));  // kept across selects
        auto iv = braid::interval(20us);
        std::string got;
        for (;;) {
            auto s = co_await braid::select(rd, iv.tick());
            if (s.index() != 0) continue;
            std::size_t n = std::get<0>(s);
            if (n == 0) break;
            got.append(buf.data(), n);
        }
        co_return got;
    }(path, &data));
    CHECK(got.size() == data.size());
    CHECK(got == data);
}

TEST_CASE("proc_time_idioms.fs idioms: a kept fs read raced again after it completed reads the file anew") {
    braid_test::TempDir dir;
    auto rt = braid_test::runtime(2);
    std::string path = dir / "v";
    auto [first, second] = rt.block_on([](std::string path) -> braid::Task<std::pair<std::string, std::string>> {
        co_await braid::fs::write(path, std::string("one"));
        auto rd = braid::fs::read_to_string(path);
        auto iv = braid::interval(1h);
        co_await iv.tick();  // the immediate tick: later ones never come
        std::string first, second;
        auto s = co_await braid::select(rd, iv.tick());
        if (s.index() == 0) first = std::get<0>(s);
        co_await braid::fs::write(path, std::string("two!"));
        auto s2 = co_await braid::select(rd, iv.tick());
        if (s2.index() == 0) second = std::get<0>(s2);
        co_return std::pair<std::string, std::string>{first, second};
    }(path));
    CHECK(first == "one");
    CHECK(second == "two!");
}

TEST_CASE("proc_time_idioms.fs idioms: read_dir raced against a timeout lists every entry") {
    braid_test::TempDir dir;
    auto rt = braid_test::runtime(2);
    auto names = rt.block_on([](std::string d) -> braid::Task<std::vector<std::string>> {
        for (int i = 0; i < 40; ++i) co_await braid::fs::write(d + "/e" + std::to_string(i), std::string("x"));
        auto entries = braid::fs::read_dir(d);
        std::vector<std::string> names;
        for (;;) {
            auto nx = entries.next();
            auto t = co_await braid::timeout(10s, std::move(nx));
            if (!t || !*t) break;
            names.push_back((*t)->file_name());
        }
        co_return names;
    }(dir.path));
    std::sort(names.begin(), names.end());
    std::vector<std::string> want;
    for (int i = 0; i < 40; ++i) want.push_back("e" + std::to_string(i));
    std::sort(want.begin(), want.end());
    CHECK(names == want);
}

TEST_CASE("proc_time_idioms.fs idioms: under paused time a timeout around file work never expires while the pool works") {
    braid_test::TempDir dir;
    auto rt = braid_test::paused_runtime(2);
    std::string path = dir / "p";
    auto [ok, elapsed] = rt.block_on([](std::string path) -> braid::Task<std::pair<int, long>> {
        auto start = braid::Instant::now();
        std::string data(100000, 'q');
        int ok = 0;
        for (int i = 0; i < 100; ++i) {
            auto w = braid::fs::write(path, data);
            auto tw = co_await braid::timeout(10ms, std::move(w));
            auto r = braid::fs::read(path);
            auto tr = co_await braid::timeout(10ms, std::move(r));
            if (tw && tr && tr->size() == data.size()) ++ok;
        }
        co_return std::pair<int, long>{ok, long((braid::Instant::now() - start) / 1ms)};
    }(path));
    // The clock jumps only while nothing runs: never past a timeout's
    // deadline while the blocking pool is writing or reading.
    CHECK(ok == 100);
    CHECK(elapsed == 0);
}

}  // namespace test_proc_time_idioms
