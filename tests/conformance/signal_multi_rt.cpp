// Conformance: tokio/tests/signal_multi_rt.rs (Tokio 1.24), ported from
// what the case asserts: one signal wakes a listener on each of several
// runtimes, each current-thread runtime on its own thread, ten times over.
// Tokio's std::sync::mpsc "ready" channel is a counter under a mutex.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <csignal>
#include <mutex>
#include <thread>
#include <unistd.h>
#include <vector>

#include "support.hpp"

namespace conformance_signal_multi_rt {

namespace {
// Each thread says once that it listens.
struct Ready {
    std::mutex mu;
    std::condition_variable cv;
    int count = 0;
    void send() {
        std::lock_guard<std::mutex> g(mu);
        ++count;
        cv.notify_all();
    }
    void recv_all(int n) {
        std::unique_lock<std::mutex> g(mu);
        cv.wait(g, [&] { return count >= n; });
        count -= n;
    }
};
}  // namespace

TEST_CASE("signal_multi_rt.multi_loop") {
    Ready ready;
    // several times, to catch races
    for (int round = 0; round < 10; ++round) {
        // several event loops, each on its own thread
        std::vector<std::thread> threads;
        for (int i = 0; i < 4; ++i) {
            threads.emplace_back([&ready] {
                auto rt = braid::Runtime::builder().current_thread().build();
                rt.block_on([](Ready& ready) -> braid::Task<> {
                    braid::signal::Signal signal(SIGHUP);
                    ready.send();
                    co_await signal.recv();
                }(ready));
            });
        }
        // they listen
        ready.recv_all(4);
        // one signal
        REQUIRE(::kill(::getpid(), SIGHUP) == 0);
        // and every thread ends
        for (auto& t : threads) t.join();
    }
}

}  // namespace conformance_signal_multi_rt
