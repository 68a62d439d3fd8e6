// Signals: ctrl_c, any signal, several listeners, repeated deliveries, bad
// signal numbers, the C ABI.
#include <catch2/catch.hpp>
#include <braid/signal.h>
#include <signal.h>
#include <unistd.h>

#include <memory>

#include "support.hpp"

namespace test_io_signal {

using namespace std::chrono_literals;

TEST_CASE("io_signal.a signal sent after listening started is heard by every listener") {
    auto rt = braid_test::runtime(2);
    int heard = rt.block_on([]() -> braid::Task<int> {
        braid::signal::Signal a(SIGUSR1), b(SIGUSR1);
        REQUIRE(::kill(::getpid(), SIGUSR1) == 0);
        co_await a.recv();
        co_await b.recv();
        co_return 2;
    }());
    REQUIRE(heard == 2);
}

TEST_CASE("io_signal.a Signal is a repeatable receiver of deliveries") {
    auto rt = braid_test::runtime(2);
    int n = rt.block_on([]() -> braid::Task<int> {
        braid::signal::Signal hup(SIGHUP);
        int count = 0;
        for (int i = 0; i < 3; ++i) {
            REQUIRE(::kill(::getpid(), SIGHUP) == 0);
            co_await hup.recv();
            ++count;
        }
        co_return count;
    }());
    REQUIRE(n == 3);
}

TEST_CASE("io_signal.ctrl_c completes on SIGINT, and select with it is a shutdown switch") {
    auto rt = braid_test::runtime(2);
    size_t idx = rt.block_on([]() -> braid::Task<size_t> {
        auto stop = braid::signal::ctrl_c();  // listening from here on
        auto raiser = braid::spawn([]() -> braid::Task<> {
            co_await braid::sleep(1ms);
            ::kill(::getpid(), SIGINT);
        }());
        auto r = co_await braid::select(braid::sleep(std::chrono::hours(1)), std::move(stop));
        co_await raiser;
        co_return r.index();
    }());
    REQUIRE(idx == 1);
}

TEST_CASE("io_signal.a signal number libuv cannot watch is an error, not a crash") {
    auto rt = braid_test::runtime(1);
    rt.block_on([]() -> braid::Task<> {
        for (int bad : {0, -1, SIGKILL, SIGSTOP, 4096}) {
            try {
                braid::signal::Signal s(bad);
                FAIL("must throw for " << bad);
            } catch (const braid::Error& e) {
                REQUIRE(e.code() == BRAID_EINVAL);
            }
        }
        co_return;
    }());
    braid_signal* s = nullptr;
    REQUIRE(braid_signal_new(&s, rt.native_handle(), SIGKILL) == BRAID_EINVAL);
    REQUIRE(s == nullptr);
    REQUIRE(braid_signal_wait(nullptr, rt.native_handle(), 0, [](void*, int) {}, nullptr) == BRAID_EINVAL);
}

TEST_CASE("io_signal.C: braid_signal_wait calls back once per wait") {
    auto rt = braid_test::runtime(2);
    std::atomic<int> calls{0}, status{1000};
    struct Ctx {
        std::atomic<int>* calls;
        std::atomic<int>* status;
    } ctx{&calls, &status};
    braid_task* op = nullptr;
    REQUIRE(braid_signal_wait(&op, rt.native_handle(), SIGUSR2, [](void* p, int st) {
        auto* c = static_cast<Ctx*>(p);
        c->status->store(st);
        c->calls->fetch_add(1);
    }, &ctx) == BRAID_OK);
    REQUIRE(::kill(::getpid(), SIGUSR2) == 0);
    REQUIRE(braid_task_join_blocking(op, BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_task_free(op);
    REQUIRE(calls.load() == 1);
    REQUIRE(status.load() == BRAID_OK);
}

namespace {
// Whether the process's action for `signum` is the default one.
bool default_action(int signum) {
    struct sigaction sa {};
    REQUIRE(::sigaction(signum, nullptr, &sa) == 0);
    return !(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_DFL;
}
}  // namespace

TEST_CASE("io_signal.dropping the last listener keeps the handler: a delivery is ignored and a new listener hears the next") {
    // Tokio's rule: once a signal was listened for, the process-wide handler
    // stays for the life of the process; deliveries nobody listens to are
    // dropped (the default action, terminating, never comes back).
    auto rt = braid_test::runtime(2);
    rt.block_on([]() -> braid::Task<> {
        braid::signal::Signal s(SIGUSR1);
        co_return;
    }());
    REQUIRE_FALSE(default_action(SIGUSR1));
    REQUIRE(::raise(SIGUSR1) == 0);  // delivered to this thread before raise returns: we are still here
    bool heard = rt.block_on([]() -> braid::Task<bool> {
        braid::signal::Signal again(SIGUSR1);
        EXPECT(::kill(::getpid(), SIGUSR1) == 0);
        auto r = co_await braid::timeout(20s, again.recv());
        co_return r;
    }());
    REQUIRE(heard);
    // Listeners of other signals dropping leave it alone too (Tokio's signal_drop_signal.rs).
    rt.block_on([]() -> braid::Task<> {
        braid::signal::Signal a(SIGUSR1);
        {
            braid::signal::Signal b(SIGUSR1), c(SIGUSR1);
        }
        EXPECT(::kill(::getpid(), SIGUSR1) == 0);
        co_await a.recv();
    }());
}

TEST_CASE("io_signal.dropping the runtime keeps the handler installed") {
    {
        auto rt = braid_test::runtime(1);
        rt.block_on([]() -> braid::Task<> {
            braid::signal::Signal s(SIGALRM);
            co_return;
        }());
    }
    REQUIRE_FALSE(default_action(SIGALRM));
    REQUIRE(::raise(SIGALRM) == 0);
    {
        // And a listener that is still alive when its runtime goes.
        auto rt = braid_test::runtime(1);
        auto* s = new braid::signal::Signal(rt.block_on([]() -> braid::Task<braid::signal::Signal> {
            co_return braid::signal::Signal(SIGVTALRM);
        }()));
        rt.shutdown_timeout(std::chrono::seconds(10));
        delete s;
    }
    REQUIRE_FALSE(default_action(SIGVTALRM));
    REQUIRE(::raise(SIGVTALRM) == 0);
}

TEST_CASE("io_signal.two runtimes listening: dropping one leaves the other hearing (Tokio's signal_drop_rt.rs)") {
    auto second = braid_test::runtime(1);
    auto first = std::make_unique<braid::Runtime>(braid_test::runtime(1));
    auto mk = []() -> braid::Task<braid::signal::Signal> { co_return braid::signal::Signal(SIGUSR2); };
    auto first_signal = std::make_unique<braid::signal::Signal>(first->block_on(mk()));
    auto second_signal = second.block_on(mk());
    REQUIRE(::kill(::getpid(), SIGUSR2) == 0);
    first->block_on([](braid::signal::Signal& s) -> braid::Task<> { co_await s.recv(); }(*first_signal));
    first.reset();
    first_signal.reset();
    REQUIRE(::kill(::getpid(), SIGUSR2) == 0);
    bool heard = second.block_on([](braid::signal::Signal& s) -> braid::Task<bool> {
        // the delivery before and the one after: two
        auto a = co_await braid::timeout(20s, s.recv());
        auto b = co_await braid::timeout(20s, s.recv());
        co_return a && b;
    }(second_signal));
    REQUIRE(heard);
}

}  // namespace test_io_signal
