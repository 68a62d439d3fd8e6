// Observability: the task dump (what every task waits on, its awaiting
// chain, states and counters), task names and spawn locations, the dump on
// a signal, and stall reports taken while the stuck poll still runs.
#include <braid/braid.hpp>
#include <braid/unstable/task_trace.h>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace test_obs_dump {

using namespace std::chrono_literals;

namespace {

uint32_t g_middle_line = 0;
uint32_t g_outer_line = 0;

braid::Task<int> middle(braid::mpsc::Receiver<int>& rx) {
    g_middle_line = __LINE__; auto v = co_await rx.recv();
    co_return v ? *v : -1;
}

braid::Task<int> outer(braid::mpsc::Receiver<int>& rx) {
    g_outer_line = __LINE__; int v = co_await middle(rx);
    co_return v + 1;
}

bool ends_with(const std::string& s, const char* suffix) {
    std::size_t n = std::strlen(suffix);
    return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

braid::Runtime paused_current_thread() { return braid::Runtime::builder().current_thread().start_paused().build(); }

}  // namespace

TEST_CASE("obs_dump.the dump shows a task blocked on a channel recv, its spawn location and its awaiting chain") {
    auto rt = paused_current_thread();
    rt.block_on([&]() -> braid::Task<void> {
        auto [tx, rx] = braid::mpsc::channel<int>(4);
        const uint32_t spawn_line = __LINE__; auto h = braid::spawn(outer(rx));
        co_await braid::yield_now();  // outer runs up to its recv
        co_await braid::sleep(1s);    // paused time: the clock jumps 1 s

        braid::TaskDump d = braid::TaskDump::capture(rt);
        const braid::TaskDumpEntry* e = d.find(h.id());
        REQUIRE(e != nullptr);
        CHECK(e->state == BRAID_TASK_IDLE);
        CHECK(e->polls == 1);
        CHECK(e->age == 1s);
        CHECK(ends_with(e->file, "obs_dump.cpp"));
        CHECK(e->line == spawn_line);
        CHECK(e->wait_kind == BRAID_WAIT_RECV);
        CHECK(e->wait_object == uint64_t(reinterpret_cast<uintptr_t>(tx.native_handle())));
        CHECK(e->wait.rfind("recv on channel 0x", 0) == 0);
        // The chain, innermost first: middle at its recv, outer at its
        // co_await middle().
        REQUIRE(e->frames.size() == 2);
        CHECK(ends_with(e->frames[0].file, "obs_dump.cpp"));
        CHECK(e->frames[0].line == g_middle_line);
        CHECK(e->frames[0].function.find("middle") != std::string::npos);
        CHECK(e->frames[1].line == g_outer_line);
        CHECK(e->frames[1].function.find("outer") != std::string::npos);
        // The text form says the same.
        std::string text = d.to_string();
        CHECK(text.find("braid task dump: ") == 0);
        CHECK(text.find(e->wait) != std::string::npos);
        CHECK(text.find("obs_dump.cpp:" + std::to_string(spawn_line)) != std::string::npos);
        CHECK(text.find("obs_dump.cpp:" + std::to_string(g_middle_line)) != std::string::npos);
        CHECK(text.find("obs_dump.cpp:" + std::to_string(g_outer_line)) != std::string::npos);

        co_await tx.send(41);
        CHECK(co_await std::move(h) == 42);
    }());
}

TEST_CASE("obs_dump.states, polls and ages are exact on a current-thread runtime with paused time") {
    auto rt = paused_current_thread();
    rt.block_on([&]() -> braid::Task<void> {
        auto root_id = braid::task::id();
        auto sleeper = braid::spawn_named("sleeper", []() -> braid::Task<void> {
            co_await braid::sleep(5s);
        }());
        auto queued = braid::task::Builder().name("queued").spawn([]() -> braid::Task<void> { co_return; }());
        {
            // Nothing ran yet: both queued, never polled; this task runs.
            braid::TaskDump d = braid::TaskDump::capture(rt);
            REQUIRE(d.find(sleeper.id()) != nullptr);
            CHECK(d.find(sleeper.id())->state == BRAID_TASK_SCHEDULED);
            CHECK(d.find(sleeper.id())->polls == 0);
            CHECK(d.find(sleeper.id())->name == "sleeper");
            CHECK(d.find(queued.id())->name == "queued");
            const braid::TaskDumpEntry* root = d.find(root_id);
            REQUIRE(root != nullptr);
            CHECK(root->state == BRAID_TASK_RUNNING);
            CHECK(root->polls == 1);
        }
        co_await std::move(queued);   // runs both; the sleeper waits on its timer
        co_await braid::sleep(1500ms);
        braid::TaskDump d = braid::TaskDump::capture(rt);
        const braid::TaskDumpEntry* s = d.find(sleeper.id());
        REQUIRE(s != nullptr);
        CHECK(s->state == BRAID_TASK_IDLE);
        CHECK(s->polls == 1);
        CHECK(s->age == 1500ms);
        CHECK(s->wait_kind == BRAID_WAIT_SLEEP);
        CHECK(s->wait == "sleep until +3500.000 ms");
        CHECK(d.find(queued.id()) == nullptr);  // finished: gone from the list
        CHECK(d.find(root_id)->polls == 3);
        co_await std::move(sleeper);
    }());
}

// The time a task's polls took is kept while slow-poll detection is on (in
// the record a task gets on demand, not in its header), and only then.
TEST_CASE("obs_dump.a task's poll time is measured while slow-poll detection is on and only then") {
    for (bool detect : {true, false}) {
        // on and never reached, or off (debug builds of the library default to on)
        auto rt = braid::Runtime::builder()
                      .current_thread()
                      .slow_poll_warning(detect ? std::chrono::milliseconds(std::chrono::hours(1)) : 0ms)
                      .build();
        rt.block_on([](bool on, braid::Runtime* r) -> braid::Task<void> {
            auto [tx, rx] = braid::mpsc::channel<int>(1);
            auto h = braid::spawn([](braid::mpsc::Receiver<int>* r) -> braid::Task<int> {
                // The first poll takes at least 2 ms of the monotonic clock, then waits.
                auto until = std::chrono::steady_clock::now() + 2ms;
                while (std::chrono::steady_clock::now() < until) {
                }
                auto v = co_await r->recv();
                co_return v ? *v : -1;
            }(&rx));
            co_await braid::yield_now();  // the task runs up to its recv
            braid::TaskDump d = braid::TaskDump::capture(*r);
            const braid::TaskDumpEntry* e = d.find(h.id());
            REQUIRE(e != nullptr);
            CHECK(e->state == BRAID_TASK_IDLE);
            CHECK(e->polls == 1);
            if (on)
                CHECK(e->poll_time >= 2ms);
            else
                CHECK(e->poll_time == 0ns);
            auto back = co_await tx.send(7);  // the value comes back only when the channel is closed
            REQUIRE_FALSE(back.has_value());
            CHECK(co_await std::move(h) == 7);
        }(detect, &rt));
    }
}

TEST_CASE("obs_dump.a task that wakes itself shows notified in its own dump and runs again once behind the queued ones") {
    auto rt = paused_current_thread();
    rt.block_on([&]() -> braid::Task<void> {
        auto me = braid::task::id();
        std::vector<int> order;
        auto other = braid::spawn([](std::vector<int>* seen) -> braid::Task<void> {
            seen->push_back(1);
            co_return;
        }(&order));
        uint64_t polls_before = braid::TaskDump::capture(rt).find(me)->polls;
        braid_task_wake(braid_task_current());  // woken while running: runs again after this poll
        {
            braid::TaskDump d = braid::TaskDump::capture(rt);
            const braid::TaskDumpEntry* self = d.find(me);
            REQUIRE(self != nullptr);
            CHECK(self->state == BRAID_TASK_NOTIFIED);
            CHECK(self->text.find(" notified") != std::string::npos);
        }
        braid_task_wake(braid_task_current());  // a second wake adds nothing
        co_await braid::yield_now();            // (and a third)
        order.push_back(2);
        CHECK(order == std::vector<int>{1, 2});  // the queued task ran first
        braid::TaskDump d = braid::TaskDump::capture(rt);
        CHECK(d.find(me)->state == BRAID_TASK_RUNNING);
        CHECK(d.find(me)->polls == polls_before + 1);  // three wakes, one more poll
        co_await std::move(other);
    }());
}

TEST_CASE("obs_dump.a task that woke itself and then runs a local set's task shows notified in that task's dump") {
    auto rt = paused_current_thread();
    rt.block_on([&]() -> braid::Task<void> {
        braid::LocalSet local;
        uint64_t outer = braid::task::id();
        braid_task_wake(braid_task_current());  // the outer task wakes itself...
        // ...then polls a local task inside its own poll, which dumps both.
        using States = std::pair<int, int>;
        auto seen = co_await local.run_until([](braid::Runtime* rt, uint64_t outer) -> braid::Task<States> {
            co_return co_await braid::spawn_local([](braid::Runtime* rt, uint64_t outer) -> braid::Task<States> {
                braid::TaskDump d = braid::TaskDump::capture(*rt);
                braid_task_wake(braid_task_current());
                braid::TaskDump after = braid::TaskDump::capture(*rt);
                co_return States{d.find(outer)->state, after.find(braid::task::id())->state};
            }(rt, outer));
        }(&rt, outer));
        CHECK(seen.first == BRAID_TASK_NOTIFIED);   // the outer one's wake was not lost in the nesting
        CHECK(seen.second == BRAID_TASK_NOTIFIED);  // and the local task's own
    }());
}

namespace {
struct CTask {
    int polls = 0;
    static int poll(void* p, braid_task*) {
        ++static_cast<CTask*>(p)->polls;
        return BRAID_PENDING;  // registers nothing: woken only by an abort
    }
};
int count_tasks(void* ud, const braid_task_info* t) {
    auto* seen = static_cast<std::vector<braid_task_info>*>(ud);
    seen->push_back(*t);
    seen->back().name = nullptr;  // valid during the call only
    return 0;
}
}  // namespace

TEST_CASE("obs_dump.C: names, locations, the per-task callback and the text dump into a caller's buffer") {
    braid_runtime* rt = nullptr;
    REQUIRE(braid_runtime_new(&rt) == BRAID_OK);
    braid_task* t = nullptr;
    void* state = nullptr;
    REQUIRE(braid_task_new(&t, &state, rt, sizeof(CTask), &CTask::poll, nullptr, nullptr) == BRAID_OK);
    new (state) CTask;
    REQUIRE(braid_task_set_location(t, "server.c", 77, "accept_loop") == BRAID_OK);
    std::string long_name(200, 'n');
    REQUIRE(braid_task_set_name(t, long_name.c_str()) == BRAID_OK);
    CHECK(braid_task_set_name(t, "again") == BRAID_EBUSY);
    REQUIRE(braid_task_start(t) == BRAID_OK);
    CHECK(braid_task_set_location(t, "late.c", 1, nullptr) == BRAID_EBUSY);

    // The task polls once and stays idle (its poll returns PENDING, no waker).
    std::string text;
    for (;;) {
        std::size_t need = 0;
        char small[8];
        int rc = braid_runtime_task_dump_text(rt, small, sizeof small, &need);
        REQUIRE(rc == BRAID_ERANGE);
        CHECK(std::strlen(small) == sizeof small - 1);  // cut, NUL-terminated
        text.assign(need + 256, '\0');
        REQUIRE(braid_runtime_task_dump_text(rt, text.data(), text.size(), &need) == BRAID_OK);
        text.resize(need - 1);
        if (text.find(" idle,") != std::string::npos) break;
        std::this_thread::yield();  // not polled yet: look again
    }
    CHECK(text.find("\"" + std::string(BRAID_TASK_NAME_MAX, 'n') + "\"") != std::string::npos);
    CHECK(text.find("spawned at server.c:77 in accept_loop") != std::string::npos);
    CHECK(text.find("awaits (a waker braid does not know)") != std::string::npos);

    std::vector<braid_task_info> seen;
    REQUIRE(braid_runtime_task_dump(rt, &count_tasks, &seen) == BRAID_OK);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].size == sizeof(braid_task_info));
    CHECK(seen[0].id == braid_task_id(t));
    CHECK(seen[0].state == BRAID_TASK_IDLE);
    CHECK(seen[0].polls == 1);
    CHECK(seen[0].wait_kind == BRAID_WAIT_UNKNOWN);
    CHECK(seen[0].line == 77);

    // Bad arguments are refused.
    std::size_t need = 1;
    CHECK(braid_runtime_task_dump(nullptr, &count_tasks, nullptr) == BRAID_EINVAL);
    CHECK(braid_runtime_task_dump(rt, nullptr, nullptr) == BRAID_EINVAL);
    CHECK(braid_runtime_task_dump_text(nullptr, nullptr, 0, &need) == BRAID_EINVAL);
    CHECK(need == 0);
    CHECK(braid_runtime_task_dump_text(rt, nullptr, 5, nullptr) == BRAID_EINVAL);
    CHECK(braid_task_info_format(nullptr, nullptr, 0, nullptr) == BRAID_EINVAL);
    braid_task_info tiny{};
    tiny.size = sizeof(size_t);
    CHECK(braid_task_info_format(&tiny, nullptr, 0, nullptr) == BRAID_EINVAL);
    CHECK(braid_task_set_name(nullptr, "x") == BRAID_EINVAL);
    CHECK(braid_task_set_name(t, nullptr) == BRAID_EINVAL);
    CHECK(braid_task_set_location(nullptr, "f", 1, nullptr) == BRAID_EINVAL);
    CHECK(braid_task_set_location(t, nullptr, 1, nullptr) == BRAID_EINVAL);
    braid_runtime_builder* b = nullptr;
    REQUIRE(braid_runtime_builder_new(&b) == BRAID_OK);
    CHECK(braid_runtime_builder_dump_signal(b, SIGKILL) == BRAID_EINVAL);
    CHECK(braid_runtime_builder_dump_signal(b, -1) == BRAID_EINVAL);
    CHECK(braid_runtime_builder_dump_signal(b, 0) == BRAID_OK);
    CHECK(braid_runtime_builder_dump_signal(nullptr, SIGQUIT) == BRAID_EINVAL);
    CHECK(braid_runtime_builder_on_stall(nullptr, nullptr, nullptr) == BRAID_EINVAL);
    CHECK(braid_runtime_stalls(nullptr) == 0);
    braid_runtime_builder_free(b);

    REQUIRE(braid_task_abort(t) == BRAID_OK);
    CHECK(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_ECANCELED);
    braid_task_free(t);
    REQUIRE(braid_runtime_shutdown(rt, BRAID_WAIT_FOREVER) == BRAID_OK);
    CHECK(braid_runtime_task_dump(rt, &count_tasks, &seen) == BRAID_ESHUTDOWN);
    braid_runtime_free(rt);
}

TEST_CASE("obs_dump.the dump signal prints the dump to stderr") {
    // stderr goes to a pipe while the signal is raised.
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    int saved = dup(2);
    REQUIRE(saved >= 0);
    std::signal(SIGPIPE, SIG_IGN);  // a write racing the pipe's close fails instead of killing the test
    auto rt = braid::Runtime::builder().worker_threads(1).dump_signal(SIGUSR2).build();
    auto [tx, rx] = braid::mpsc::channel<int>(1);
    auto h = rt.spawn([](braid::mpsc::Receiver<int> r) -> braid::Task<int> {
        auto v = co_await r.recv();
        co_return v ? *v : 0;
    }(std::move(rx)));
    // Once it waits (the dump says so), raise the signal with stderr redirected.
    while (braid::TaskDump::capture(rt).find(h.id())->wait_kind != BRAID_WAIT_RECV) std::this_thread::yield();
    REQUIRE(dup2(fds[1], 2) == 2);
    REQUIRE(raise(SIGUSR2) == 0);
    std::string out;
    bool complete = false;
    const std::string want = "awaits recv on channel";
    while (!complete) {
        pollfd p{fds[0], POLLIN, 0};
        if (poll(&p, 1, 30000) <= 0) break;  // nothing for 30 s: fail below
        char buf[4096];
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, std::size_t(n));
        complete = out.find(want) != std::string::npos && out.back() == '\n';
    }
    dup2(saved, 2);
    close(saved);
    close(fds[0]);
    close(fds[1]);
    CHECK(complete);
    CHECK(out.find("braid task dump: ") != std::string::npos);
    CHECK(out.find("task " + std::to_string(h.id()) + " ") != std::string::npos);
    CHECK(!tx.try_send(7));
    CHECK(rt.block_on([&]() -> braid::Task<int> { co_return co_await h; }()) == 7);
}

// ---- every kind of task: local sets' tasks and blocking jobs -------------------

TEST_CASE("obs_dump.the dump lists a local set's task idle on a channel recv, with its location and chain") {
    auto rt = braid::Runtime::builder().current_thread().build();
    braid::LocalSet local;
    local.block_on(rt, [&]() -> braid::Task<void> {
        auto [tx, rx] = braid::mpsc::channel<int>(4);
        const uint32_t spawn_line = __LINE__; auto h = braid::spawn_local(outer(rx));
        co_await braid::yield_now();  // outer runs up to its recv (the set's queue is FIFO)

        braid::TaskDump d = braid::TaskDump::capture(rt);
        const braid::TaskDumpEntry* e = d.find(h.id());
        REQUIRE(e != nullptr);
        CHECK(e->kind == BRAID_TASK_KIND_LOCAL);
        CHECK(e->state == BRAID_TASK_IDLE);
        CHECK(e->polls == 1);
        CHECK(ends_with(e->file, "obs_dump.cpp"));
        CHECK(e->line == spawn_line);
        CHECK(e->wait_kind == BRAID_WAIT_RECV);
        CHECK(e->wait_object == uint64_t(reinterpret_cast<uintptr_t>(tx.native_handle())));
        REQUIRE(e->frames.size() == 2);
        CHECK(e->frames[0].line == g_middle_line);
        CHECK(e->frames[1].line == g_outer_line);
        CHECK(e->text.find("task " + std::to_string(h.id()) + " [local] idle, ") == 0);
        CHECK(e->text.find("awaits recv on channel 0x") != std::string::npos);
        // This task (the set's too) is the one running.
        const braid::TaskDumpEntry* self = d.find(braid::task::id());
        REQUIRE(self != nullptr);
        CHECK(self->kind == BRAID_TASK_KIND_LOCAL);
        CHECK(self->state == BRAID_TASK_RUNNING);

        // The dump held the task and let it go: a send wakes it on its set.
        co_await tx.send(41);
        CHECK(co_await std::move(h) == 42);
    }());
}

namespace {
// The worker tasks of the test below: each waits until its channel closes.
braid::Task<void> wait_closed(braid::mpsc::Receiver<int> rx) {
    for (;;) {
        auto v = co_await rx.recv();  // not in a while condition: built by g++ 12, that form never woke
        if (!v) break;
    }
}
}  // namespace

TEST_CASE("obs_dump.the dump lists blocking jobs running and queued, local tasks, and counts every live task") {
    auto rt = braid::Runtime::builder().worker_threads(1).max_blocking_threads(1).build();
    auto entered = rt.enter();
    std::latch started(1), release(1);
    auto running = braid::task::Builder().name("busy-job").spawn_blocking([&] {
        started.count_down();
        release.wait();  // the test lets it go
        return 1;
    });
    started.wait();  // the pool's one thread runs it: the next job waits in the queue
    auto queued = braid::spawn_blocking([] { return 2; });

    std::vector<braid::mpsc::Sender<int>> senders;
    std::vector<braid::JoinHandle<void>> workers;
    for (int i = 0; i < 3; ++i) {
        auto [tx, rx] = braid::mpsc::channel<int>(1);
        senders.push_back(std::move(tx));
        workers.push_back(rt.spawn(wait_closed(std::move(rx))));
    }
    std::vector<braid::JoinHandle<void>> locals;
    auto local = std::make_unique<braid::LocalSet>();
    {
        auto in_set = local->enter();  // spawned into the set, never driven: queued
        for (int i = 0; i < 2; ++i) locals.push_back(braid::spawn_local([]() -> braid::Task<void> { co_return; }()));
    }

    braid::TaskDump d = braid::TaskDump::capture(rt);
    INFO(d.to_string());
    CHECK(d.entries.size() == 7);  // 3 worker tasks, 2 jobs, 2 local tasks: nothing else lives
    int kinds[3] = {};
    for (const auto& e : d.entries) {
        REQUIRE(e.kind >= 0);
        REQUIRE(e.kind < 3);
        ++kinds[e.kind];
    }
    CHECK(kinds[BRAID_TASK_KIND_WORKER] == 3);
    CHECK(kinds[BRAID_TASK_KIND_BLOCKING] == 2);
    CHECK(kinds[BRAID_TASK_KIND_LOCAL] == 2);
    const braid::TaskDumpEntry* r = d.find(running.id());
    REQUIRE(r != nullptr);
    CHECK(r->kind == BRAID_TASK_KIND_BLOCKING);
    CHECK(r->state == BRAID_TASK_RUNNING);
    CHECK(r->name == "busy-job");
    CHECK(r->polls == 1);
    CHECK(r->text.find("task " + std::to_string(running.id()) + " \"busy-job\" [blocking] running, ") == 0);
    const braid::TaskDumpEntry* q = d.find(queued.id());
    REQUIRE(q != nullptr);
    CHECK(q->kind == BRAID_TASK_KIND_BLOCKING);
    CHECK(q->state == BRAID_TASK_SCHEDULED);
    CHECK(q->polls == 0);
    CHECK(q->text.find("[blocking] scheduled, ") != std::string::npos);
    // A C++ spawn_blocking records where it was called, as spawn does.
    CHECK(ends_with(r->file, "obs_dump.cpp"));
    CHECK(ends_with(q->file, "obs_dump.cpp"));
    CHECK(q->line > 0);
    CHECK(q->text.find("spawned at ") != std::string::npos);
    for (const auto& h : locals) {
        const braid::TaskDumpEntry* l = d.find(h.id());
        REQUIRE(l != nullptr);
        CHECK(l->kind == BRAID_TASK_KIND_LOCAL);
        CHECK(l->state == BRAID_TASK_SCHEDULED);
        CHECK(ends_with(l->file, "obs_dump.cpp"));
    }
    for (const auto& h : workers) {
        REQUIRE(d.find(h.id()) != nullptr);
        CHECK(d.find(h.id())->kind == BRAID_TASK_KIND_WORKER);
        CHECK(d.find(h.id())->text.find(" [") == std::string::npos);  // a worker's line is as it was
    }
    CHECK(d.to_string().find("braid task dump: 7 tasks\n") == 0);

    // Each one leaves the dump as it ends.
    release.count_down();
    CHECK(rt.block_on([&]() -> braid::Task<int> { co_return co_await std::move(running) + co_await std::move(queued); }()) == 3);
    CHECK(braid::TaskDump::capture(rt).entries.size() == 5);
    local.reset();  // cancels its tasks, on this thread
    for (auto& h : locals) CHECK(braid_task_try_join(h.native_handle()) == BRAID_ECANCELED);
    CHECK(braid::TaskDump::capture(rt).entries.size() == 3);
    senders.clear();
    rt.block_on([&]() -> braid::Task<void> {
        for (auto& h : workers) co_await std::move(h);
    }());
    CHECK(braid::TaskDump::capture(rt).entries.empty());
}

namespace {
struct CJob {
    std::latch* started;
    std::latch* release;
};
void c_job(void* arg) {
    auto* j = static_cast<CJob*>(arg);
    j->started->count_down();
    j->release->wait();
}
void c_nothing(void*) {}
struct Seen {
    uint64_t id;
    int kind;
    int state;
    std::string text;
};
int collect_kinds(void* ud, const braid_task_info* t) {
    std::size_t need = 0;
    braid_task_info_format(t, nullptr, 0, &need);
    std::string text(need, '\0');
    braid_task_info_format(t, text.data(), need, nullptr);
    text.resize(need ? need - 1 : 0);
    static_cast<std::vector<Seen>*>(ud)->push_back({t->id, t->kind, t->state, text});
    return 0;
}
}  // namespace

TEST_CASE("obs_dump.C: the dump's kinds, a struct without kind, and every task leaving it") {
    braid_runtime_builder* b = nullptr;
    REQUIRE(braid_runtime_builder_new(&b) == BRAID_OK);
    REQUIRE(braid_runtime_builder_worker_threads(b, 1) == BRAID_OK);
    REQUIRE(braid_runtime_builder_max_blocking_threads(b, 1) == BRAID_OK);
    braid_runtime* rt = nullptr;
    REQUIRE(braid_runtime_build(&rt, b) == BRAID_OK);
    braid_runtime_builder_free(b);

    std::latch started(1), release(1);
    CJob job{&started, &release};
    braid_task* busy = nullptr;
    REQUIRE(braid_spawn_blocking(&busy, rt, &c_job, &job) == BRAID_OK);
    started.wait();
    braid_task* waiting = nullptr;
    REQUIRE(braid_spawn_blocking(&waiting, rt, &c_nothing, nullptr) == BRAID_OK);
    braid_local_set* set = nullptr;
    REQUIRE(braid_local_set_new(&set) == BRAID_OK);
    braid_task* lt = nullptr;
    void* state = nullptr;
    REQUIRE(braid_task_new(&lt, &state, rt, sizeof(CTask), &CTask::poll, nullptr, nullptr) == BRAID_OK);
    new (state) CTask;
    REQUIRE(braid_task_set_location(lt, "local.c", 9, "main") == BRAID_OK);
    REQUIRE(braid_local_set_start(set, lt) == BRAID_OK);

    std::vector<Seen> seen;
    REQUIRE(braid_runtime_task_dump(rt, &collect_kinds, &seen) == BRAID_OK);
    REQUIRE(seen.size() == 3);
    for (const Seen& s : seen) {
        if (s.id == braid_task_id(busy)) {
            CHECK(s.kind == BRAID_TASK_KIND_BLOCKING);
            CHECK(s.state == BRAID_TASK_RUNNING);
            CHECK(s.text.find(" [blocking] running, ") != std::string::npos);
        } else if (s.id == braid_task_id(waiting)) {
            CHECK(s.kind == BRAID_TASK_KIND_BLOCKING);
            CHECK(s.state == BRAID_TASK_SCHEDULED);
        } else {
            CHECK(s.id == braid_task_id(lt));
            CHECK(s.kind == BRAID_TASK_KIND_LOCAL);
            CHECK(s.state == BRAID_TASK_SCHEDULED);
            CHECK(s.text.find(" [local] scheduled, ") != std::string::npos);
            CHECK(s.text.find("spawned at local.c:9 in main") != std::string::npos);
        }
    }
    std::size_t need = 0;
    REQUIRE(braid_runtime_task_dump_text(rt, nullptr, 0, &need) == BRAID_ERANGE);
    std::string text(need, '\0');
    REQUIRE(braid_runtime_task_dump_text(rt, text.data(), text.size(), &need) == BRAID_OK);
    CHECK(text.find("braid task dump: 3 tasks\n") == 0);

    // A struct filled by a library from before `kind` (its size ends
    // before the field) formats as a worker task's; one without frames is
    // refused.
    braid_task_info old{};
    old.size = offsetof(braid_task_info, kind);
    old.id = 5;
    old.kind = BRAID_TASK_KIND_BLOCKING;  // beyond its size: not read
    std::string line(256, '\0');
    REQUIRE(braid_task_info_format(&old, line.data(), line.size(), nullptr) == BRAID_OK);
    CHECK(std::string(line.c_str()) == "task 5 idle, age 0.000 ms, 0 polls\n  awaits (a waker braid does not know)\n");
    old.size = offsetof(braid_task_info, frames);
    CHECK(braid_task_info_format(&old, line.data(), line.size(), nullptr) == BRAID_EINVAL);

    release.count_down();
    CHECK(braid_task_join_blocking(busy, BRAID_WAIT_FOREVER) == BRAID_OK);
    CHECK(braid_task_join_blocking(waiting, BRAID_WAIT_FOREVER) == BRAID_OK);
    REQUIRE(braid_local_set_free(set) == BRAID_OK);  // cancels lt
    CHECK(braid_task_try_join(lt) == BRAID_ECANCELED);
    seen.clear();
    REQUIRE(braid_runtime_task_dump(rt, &collect_kinds, &seen) == BRAID_OK);
    CHECK(seen.empty());
    braid_task_free(busy);
    braid_task_free(waiting);
    braid_task_free(lt);
    braid_runtime_free(rt);
}

namespace {
// A local set's C task whose trace function (run by the dump while it holds
// the task) wakes or aborts it: a wake-up that comes while the dump holds it.
struct HeldTask {
    braid_task* self = nullptr;
    bool abort_in_trace = false;
    int polls = 0;
    std::thread::id polled_on[2];
    std::thread::id cancelled_on;
    static int poll(void* p, braid_task*) {
        auto* h = static_cast<HeldTask*>(p);
        h->polled_on[h->polls < 2 ? h->polls : 1] = std::this_thread::get_id();
        return ++h->polls == 1 ? BRAID_PENDING : BRAID_OK;  // idle after its first poll, no waker
    }
    static void cancel(void* p) { static_cast<HeldTask*>(p)->cancelled_on = std::this_thread::get_id(); }
    static void trace(void* p, braid_trace_frame_fn frame, void* ud) {
        auto* h = static_cast<HeldTask*>(p);
        if (h->abort_in_trace) braid_task_abort(h->self);
        else braid_task_wake(h->self);
        frame(ud, "held.c", 1, "trace");
    }
};
void count_wake(void* p) { static_cast<std::atomic<int>*>(p)->fetch_add(1); }
}  // namespace

TEST_CASE("obs_dump.a local set's task woken or aborted while the dump holds it goes back to its set") {
    auto rt = braid::Runtime::builder().worker_threads(1).build();  // a worker that must not poll it
    braid_local_set* set = nullptr;
    REQUIRE(braid_local_set_new(&set) == BRAID_OK);
    HeldTask* states[2] = {};
    braid_task* tasks[2] = {};
    for (int i = 0; i < 2; ++i) {
        void* st = nullptr;
        REQUIRE(braid_task_new(&tasks[i], &st, rt.native_handle(), sizeof(HeldTask), &HeldTask::poll, &HeldTask::cancel,
                               nullptr) == BRAID_OK);
        states[i] = new (st) HeldTask;
        states[i]->self = tasks[i];
        states[i]->abort_in_trace = i == 1;
        REQUIRE(braid_task_set_trace(tasks[i], &HeldTask::trace) == BRAID_OK);
        REQUIRE(braid_local_set_start(set, tasks[i]) == BRAID_OK);
    }
    std::atomic<int> set_woken{0};
    CHECK(braid_local_set_poll_run(set, &count_wake, &set_woken) == BRAID_PENDING);  // both poll once: idle
    REQUIRE(states[0]->polls == 1);
    REQUIRE(states[1]->polls == 1);
    set_woken = 0;

    braid::TaskDump d = braid::TaskDump::capture(rt);
    for (braid_task* t : tasks) {
        const braid::TaskDumpEntry* e = d.find(braid_task_id(t));
        REQUIRE(e != nullptr);
        CHECK(e->kind == BRAID_TASK_KIND_LOCAL);
        CHECK(e->state == BRAID_TASK_IDLE);  // held: the trace ran
        REQUIRE(e->frames.size() == 1);
        CHECK(e->frames[0].file == "held.c");
    }
    // Both were queued on the set when the dump let go (its driver was
    // woken), not on the runtime's worker.
    CHECK(set_woken.load() >= 1);
    CHECK(states[0]->polls == 1);
    CHECK(braid_local_set_poll_run(set, &count_wake, &set_woken) == BRAID_PENDING);
    CHECK(braid_task_try_join(tasks[0]) == BRAID_OK);
    CHECK(states[0]->polls == 2);
    CHECK(states[0]->polled_on[1] == std::this_thread::get_id());
    CHECK(braid_task_try_join(tasks[1]) == BRAID_ECANCELED);
    CHECK(states[1]->polls == 1);
    CHECK(states[1]->cancelled_on == std::this_thread::get_id());
    CHECK(braid_local_set_poll_run(set, nullptr, nullptr) == BRAID_PENDING);  // withdraws the waker
    for (braid_task* t : tasks) braid_task_free(t);
    CHECK(braid_local_set_free(set) == BRAID_OK);
}

namespace {
// A local set's task whose trace (run by a dump holding it) goes on until
// the set's thread has started freeing the set, and then a while longer.
struct SlowTrace {
    std::atomic<bool>* freeing;
    std::atomic<bool> held{false};
    std::atomic<bool> traced{false};
    std::atomic<bool> traced_before_cancel{false};
    static int poll(void*, braid_task*) { return BRAID_PENDING; }  // idle, no waker
    static void cancel(void* p) {
        auto* s = static_cast<SlowTrace*>(p);
        s->traced_before_cancel = s->traced.load();
    }
    static void trace(void* p, braid_trace_frame_fn frame, void* ud) {
        auto* s = static_cast<SlowTrace*>(p);
        s->held = true;
        while (!s->freeing->load()) std::this_thread::yield();
        for (int i = 0; i < 1000; ++i) std::this_thread::yield();  // the free is under way meanwhile
        frame(ud, "slow.c", 1, "trace");
        s->traced = true;
    }
};
}  // namespace

TEST_CASE("obs_dump.freeing a local set waits for a dump that holds one of its tasks before dropping its future") {
    auto rt = braid::Runtime::builder().worker_threads(1).build();
    braid_local_set* set = nullptr;
    REQUIRE(braid_local_set_new(&set) == BRAID_OK);
    std::atomic<bool> freeing{false};
    braid_task* t = nullptr;
    void* st = nullptr;
    REQUIRE(braid_task_new(&t, &st, rt.native_handle(), sizeof(SlowTrace), &SlowTrace::poll, &SlowTrace::cancel,
                           nullptr) == BRAID_OK);
    auto* s = new (st) SlowTrace{&freeing};
    REQUIRE(braid_task_set_trace(t, &SlowTrace::trace) == BRAID_OK);
    REQUIRE(braid_local_set_start(set, t) == BRAID_OK);
    CHECK(braid_local_set_poll_run(set, nullptr, nullptr) == BRAID_PENDING);  // withdraw: nothing ran
    std::atomic<int> woken{0};
    CHECK(braid_local_set_poll_run(set, &count_wake, &woken) == BRAID_PENDING);  // the task polls once: idle
    CHECK(braid_local_set_poll_run(set, nullptr, nullptr) == BRAID_PENDING);

    std::thread dumper([&] { braid::TaskDump::capture(rt); });
    while (!s->held.load()) std::this_thread::yield();  // the dump holds the task (its trace runs)
    freeing = true;  // the trace goes on a while; the set is freed here, on its thread, meanwhile
    CHECK(braid_local_set_free(set) == BRAID_OK);
    dumper.join();
    CHECK(braid_task_try_join(t) == BRAID_ECANCELED);
    CHECK(s->traced_before_cancel);  // cancelled only once the dump let go
    braid_task_free(t);
}

TEST_CASE("obs_dump.dumps in a loop while local sets' tasks and blocking jobs start, wait and end (every one ends)") {
    auto rt = braid::Runtime::builder().worker_threads(2).max_blocking_threads(2).build();
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> dumps{0};
    std::thread dumper([&] {
        while (!stop.load(std::memory_order_acquire)) {
            braid::TaskDump d = braid::TaskDump::capture(rt);
            std::string text = d.to_string();  // every entry formatted too
            dumps.fetch_add(text.empty() ? 0 : 1, std::memory_order_relaxed);
        }
    });
    struct Ends {
        std::atomic<int>* n;
        ~Ends() { n->fetch_add(1, std::memory_order_relaxed); }
    };
    std::atomic<int> spawned{0}, ended{0}, jobs{0};
    constexpr int kRounds = 30, kTasks = 8;
    for (int round = 0; round < kRounds; ++round) {
        braid::LocalSet local;
        local.block_on(rt, [&]() -> braid::Task<void> {
            std::vector<braid::JoinHandle<void>> hs;
            for (int i = 0; i < kTasks; ++i) {
                auto [tx, rx] = braid::mpsc::channel<int>(1);
                spawned.fetch_add(2, std::memory_order_relaxed);
                // A local task woken from a worker (racing the dump's hold)...
                hs.push_back(braid::spawn_local([](braid::mpsc::Receiver<int> r, std::atomic<int>* n,
                                                   std::atomic<int>* jobs) -> braid::Task<void> {
                    Ends e{n};
                    auto v = co_await r.recv();
                    int got = co_await braid::spawn_blocking([jobs] { return jobs->fetch_add(1) >= 0 ? 1 : 0; });
                    CHECK((v && *v == 1 && got == 1));
                }(std::move(rx), &ended, &jobs)));
                braid::spawn([](braid::mpsc::Sender<int> s) -> braid::Task<void> {
                    co_await braid::yield_now();
                    co_await s.send(1);
                }(std::move(tx))).detach();
                // ... and one that waits forever: the set's close cancels it.
                auto [never_tx, never_rx] = braid::mpsc::channel<int>(1);
                braid::spawn_local([](braid::mpsc::Receiver<int> r, braid::mpsc::Sender<int>,
                                      std::atomic<int>* n) -> braid::Task<void> {
                    Ends e{n};
                    co_await r.recv();
                }(std::move(never_rx), std::move(never_tx), &ended)).detach();
            }
            // At least one dump completes while this round's tasks live (on
            // a fast machine the rounds could otherwise all end before the
            // dumper's first capture).
            uint64_t before = dumps.load(std::memory_order_relaxed);
            while (dumps.load(std::memory_order_relaxed) == before) co_await braid::yield_now();
            for (auto& h : hs) co_await std::move(h);
        }());
    }  // each set's destructor cancels its waiting tasks
    // Every job, local task and worker task ended: the dump is empty again
    // (the worker tasks that sent may still be finishing).
    for (;;) {
        braid::TaskDump d = braid::TaskDump::capture(rt);
        if (d.entries.empty()) break;
        std::this_thread::yield();
    }
    stop.store(true, std::memory_order_release);
    dumper.join();
    CHECK(spawned.load() == 2 * kRounds * kTasks);
    CHECK(ended.load() == spawned.load());
    CHECK(jobs.load() == kRounds * kTasks);
    CHECK(dumps.load() >= uint64_t(kRounds));
}

// ---- stall detection ---------------------------------------------------------

namespace {
struct StallReport {
    uint64_t task_id = 0;
    std::string name;
    std::string file;
    int64_t elapsed_ns = 0;
    std::vector<std::string> symbols;
};
struct StallSeen {
    std::atomic<bool> fired{false};  // a report about the task named "busy" came
    std::mutex mu;
    std::vector<StallReport> reports;  // every report (a loaded machine may stall other polls too)
};

void on_stall(void* ud, const braid_stall_report* r) {
    auto* s = static_cast<StallSeen*>(ud);
    StallReport rep;
    rep.task_id = r->task_id;
    rep.name = r->name ? r->name : "";
    rep.file = r->file ? r->file : "";
    rep.elapsed_ns = r->elapsed_ns;
    for (std::size_t i = 0; i < r->frame_count; ++i) rep.symbols.emplace_back(r->symbols[i]);
    bool busy = rep.name == "busy";
    {
        std::lock_guard<std::mutex> g(s->mu);
        s->reports.push_back(std::move(rep));
    }
    if (busy) s->fired.store(true, std::memory_order_release);  // last: the busy poll ends on it
}
}  // namespace

// Spins until the stall callback fired: the report can only have come while
// this poll still ran.  Not inlined, exported (-rdynamic): its name shows in
// the symbolised stack.
[[gnu::noinline]] void braid_test_busy_poll(std::atomic<bool>& fired) {
    auto give_up = std::chrono::steady_clock::now() + 30s;
    while (!fired.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < give_up) {
    }
    asm volatile("" ::: "memory");  // keeps the frame (no tail call)
}

TEST_CASE("obs_dump.a poll stuck for more than the threshold is reported while it runs, with its stack") {
    StallSeen seen;
    auto rt = braid::Runtime::builder()
                  .worker_threads(1)
                  .slow_poll_warning(50ms)
                  .on_stall(&on_stall, &seen)
                  .build();
    uint64_t busy_id = rt.block_on([&]() -> braid::Task<uint64_t> {
        co_return co_await braid::spawn_named("busy", [](std::atomic<bool>* f) -> braid::Task<uint64_t> {
            braid_test_busy_poll(*f);
            co_return braid::task::id();
        }(&seen.fired));
    }());
    REQUIRE(seen.fired.load());
    std::lock_guard<std::mutex> g(seen.mu);
    int about_busy = 0;
    for (const StallReport& r : seen.reports) {
        if (r.task_id != busy_id) continue;
        ++about_busy;
        CHECK(r.name == "busy");
        CHECK(ends_with(r.file, "obs_dump.cpp"));
        CHECK(r.elapsed_ns >= 50'000'000);
        bool found = false;
        for (const auto& sym : r.symbols) found = found || sym.find("braid_test_busy_poll") != std::string::npos;
        CHECK(found);
    }
    CHECK(about_busy == 1);  // once per stuck poll
    CHECK(rt.stalls() >= 1);
}

namespace {
// A C task's awaiting chain (two frames) and a location kept in its state
// (the line is the state's first word), as a vtable gives them.
void two_frames(void*, braid_trace_frame_fn frame, void* ud) {
    frame(ud, "leaf.c", 10, "leaf");
    frame(ud, "root.c", 20, nullptr);
}
int pending_untouched(void*, braid_task*) { return BRAID_PENDING; }  // leaves the state as it is
void location_in_state(void* state, const char** file, uint32_t* line, const char** function) {
    *file = "kept.c";
    *line = *static_cast<uint32_t*>(state);
    *function = "kept_fn";
}
struct SeenTask {
    uint64_t id = 0;
    int state = -1;
    std::string file, function;
    uint32_t line = 0;
    std::vector<std::string> frames;
};
int collect_seen(void* ud, const braid_task_info* t) {
    SeenTask s;
    s.id = t->id;
    s.state = t->state;
    s.file = t->file ? t->file : "";
    s.function = t->function ? t->function : "";
    s.line = t->line;
    for (std::size_t k = 0; k < t->frame_count; ++k)
        s.frames.push_back(std::string(t->frames[k].file) + ":" + std::to_string(t->frames[k].line));
    static_cast<std::vector<SeenTask>*>(ud)->push_back(s);
    return 0;
}
// A task of `vt` in a block of its own (braid_task_new_in), its state the line.
braid_task* task_in_block(braid_runtime* rt, const braid_task_vtable* vt, uint32_t line) {
    std::size_t size = BRAID_TASK_HEADER_SIZE + 16;
    void* block = braid_alloc(size);
    REQUIRE(block != nullptr);
    std::memcpy(static_cast<char*>(block) + BRAID_TASK_HEADER_SIZE, &line, sizeof line);
    braid_task* t = nullptr;
    REQUIRE(braid_task_new_in(&t, rt, block, size, vt) == BRAID_OK);
    return t;
}
}  // namespace

TEST_CASE("obs_dump.C: a task's vtable gives its chain and location and those set on the task come first") {
    static const braid_task_vtable vt{&pending_untouched, nullptr, nullptr, &two_frames, &location_in_state};
    braid_runtime* rt = nullptr;
    REQUIRE(braid_runtime_new(&rt) == BRAID_OK);
    braid_task* from_vtable = task_in_block(rt, &vt, 33);
    braid_task* overridden = task_in_block(rt, &vt, 44);
    REQUIRE(braid_task_set_location(overridden, "own.c", 5, nullptr) == BRAID_OK);
    braid_task* set_on_task = nullptr;
    void* state = nullptr;
    REQUIRE(braid_task_new(&set_on_task, &state, rt, sizeof(CTask), &CTask::poll, nullptr, nullptr) == BRAID_OK);
    new (state) CTask;
    REQUIRE(braid_task_set_trace(set_on_task, &two_frames) == BRAID_OK);
    CHECK(braid_task_set_trace(nullptr, &two_frames) == BRAID_EINVAL);
    braid_task* tasks[] = {from_vtable, overridden, set_on_task};
    for (braid_task* t : tasks) REQUIRE(braid_task_start(t) == BRAID_OK);
    CHECK(braid_task_set_trace(set_on_task, nullptr) == BRAID_EBUSY);

    // Each polls once and stays idle (no waker): look until all three are.
    std::vector<SeenTask> seen;
    for (;;) {
        seen.clear();
        REQUIRE(braid_runtime_task_dump(rt, &collect_seen, &seen) == BRAID_OK);
        REQUIRE(seen.size() == 3);
        bool idle = true;
        for (const SeenTask& s : seen) idle = idle && s.state == BRAID_TASK_IDLE;
        if (idle) break;
        std::this_thread::yield();
    }
    auto find = [&](braid_task* t) {
        for (const SeenTask& s : seen)
            if (s.id == braid_task_id(t)) return s;
        FAIL("task not in the dump");
        return SeenTask{};
    };
    std::vector<std::string> chain{"leaf.c:10", "root.c:20"};
    SeenTask a = find(from_vtable);
    CHECK(a.file == "kept.c");
    CHECK(a.line == 33);
    CHECK(a.function == "kept_fn");
    CHECK(a.frames == chain);
    SeenTask b = find(overridden);
    CHECK(b.file == "own.c");
    CHECK(b.line == 5);
    CHECK(b.function.empty());
    CHECK(b.frames == chain);
    SeenTask c = find(set_on_task);
    CHECK(c.file.empty());  // no location: none set, none in its vtable
    CHECK(c.frames == chain);

    for (braid_task* t : tasks) {
        REQUIRE(braid_task_abort(t) == BRAID_OK);
        CHECK(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_ECANCELED);
        braid_task_free(t);
    }
    REQUIRE(braid_runtime_shutdown(rt, BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_runtime_free(rt);
}

}  // namespace test_obs_dump
