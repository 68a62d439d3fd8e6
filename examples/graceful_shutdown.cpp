// Graceful shutdown: a small server loop (no TCP) fed by a timer.  Every
// tick starts a job in a JoinSet.  On ctrl_c or SIGTERM the loop stops,
// cancels its token (running jobs notice and stop early), drains the JoinSet
// with a deadline (whatever is still running then is aborted), reports how
// every job ended, and exits 0.
//
//   ./build/examples/graceful_shutdown      # then press ctrl-c, or: kill -TERM <pid>
#include <braid/braid.hpp>

#include <csignal>
#include <cstdio>

using namespace std::chrono_literals;

namespace {

struct Stats {
    std::atomic<int> started{0}, finished{0}, cancelled{0};
};

// Records how one job ended, exactly once: finished, or cancelled (stopped
// by the token, or its frame destroyed by an abort).
class Outcome {
public:
    explicit Outcome(Stats* s) : s_(s) { s_->started.fetch_add(1); }
    Outcome(const Outcome&) = delete;
    ~Outcome() {
        if (!done_) s_->cancelled.fetch_add(1);
    }
    void finished() {
        done_ = true;
        s_->finished.fetch_add(1);
    }

private:
    Stats* s_;
    bool done_ = false;
};

braid::Task<> job(int id, braid::CancellationToken token, Stats* stats) {
    Outcome outcome(stats);
    std::printf("job %d started\n", id);
    std::fflush(stdout);
    // The work: 20..200 ms, unless the token is cancelled first.
    auto work = braid::sleep(std::chrono::milliseconds(20 + (id * 37) % 180));
    auto r = co_await braid::select(std::move(work), token.cancelled());
    if (r.index() == 0) outcome.finished();
}

// Waits for every job.  Jobs end on their own once the token is cancelled,
// and none is aborted before this finishes, so join_next does not throw here.
braid::Task<> drain(braid::JoinSet<void>& jobs) {
    for (;;) {
        auto ended = co_await jobs.join_next();
        if (!ended) break;
    }
}

braid::Task<int> serve() {
    Stats stats;
    braid::CancellationToken token;
    braid::signal::Signal term(SIGTERM), interrupt(SIGINT);  // listening from here on
    braid::JoinSet<void> jobs;
    auto ticks = braid::interval(10ms);
    std::printf("ready\n");
    std::fflush(stdout);

    for (int id = 0;; ++id) {
        auto r = co_await braid::select(ticks.tick(), term.recv(), interrupt.recv());
        if (r.index() != 0) break;
        jobs.spawn(job(id, token, &stats));
        while (jobs.try_join_next()) {
        }  // reap the finished ones
    }

    std::printf("shutting down: %zu jobs in flight\n", jobs.len());
    token.cancel();
    bool drained = co_await braid::timeout(2s, drain(jobs));
    if (!drained) co_await jobs.shutdown();  // abort what is left, wait for it

    int s = stats.started.load(), f = stats.finished.load(), c = stats.cancelled.load();
    std::printf("jobs: started=%d finished=%d cancelled=%d\n", s, f, c);
    co_return s == f + c ? 0 : 1;
}

}  // namespace

int main() { return braid::run(serve()); }
