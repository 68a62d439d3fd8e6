// Observability: the task dump (what every task waits on, its awaiting
// chain, states and counters), task names and spawn locations, the dump on
// a signal, and stall reports taken while the stuck poll still runs.
#include <braid/braid.hpp>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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

TEST_CASE("the dump shows a task blocked on a channel recv, its spawn location and its awaiting chain") {
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

TEST_CASE("states, polls and ages are exact on a current-thread runtime with paused time") {
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

TEST_CASE("C: names, locations, the per-task callback and the text dump into a caller's buffer") {
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

TEST_CASE("the dump signal prints the dump to stderr") {
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

TEST_CASE("a poll stuck for more than the threshold is reported while it runs, with its stack") {
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

TEST_CASE("C: a task's vtable gives its chain and location and those set on the task come first") {
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
