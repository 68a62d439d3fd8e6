// Runtime metrics (braid/metrics.h, braid/metrics.hpp): exact values in
// deterministic scenarios (a current-thread runtime, paused time: the order
// in which its one worker runs tasks is fixed), the C ABI's size rules and
// bad input, and the Prometheus / JSON export.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstring>
#include <future>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"

namespace test_rt_metrics {

using namespace std::chrono_literals;

namespace {

braid::Task<> quick() { co_return; }
braid::Task<> sleeper(std::chrono::seconds d) { co_await braid::sleep(d); }

// Every line of the Prometheus text has the format's grammar (0.0.4): HELP
// and TYPE lines, then samples `name{label="v"} value`; every sample follows
// the TYPE of its metric.
void check_prometheus_grammar(const std::string& text) {
    static const std::regex help(R"(# HELP (braid_[a-z_]+) [^\n]+)");
    static const std::regex type(R"(# TYPE (braid_[a-z_]+) (counter|gauge))");
    static const std::regex sample(R"((braid_[a-z_]+)(\{worker="[0-9]+"\})? [0-9]+(\.[0-9]+)?)");
    std::istringstream in(text);
    std::string line, typed;
    std::smatch m;
    REQUIRE(!text.empty());
    REQUIRE(text.back() == '\n');
    while (std::getline(in, line)) {
        INFO(line);
        if (std::regex_match(line, m, help)) continue;
        if (std::regex_match(line, m, type)) {
            typed = m[1];
            CHECK((m[2] != "counter" || typed.ends_with("_total")));
            continue;
        }
        REQUIRE(std::regex_match(line, m, sample));
        CHECK(m[1] == typed);
    }
}

}  // namespace

TEST_CASE("rt_metrics.tasks spawned, completed, aborted and alive, and polls, are exact on a current-thread runtime") {
    auto rt = braid_test::current_thread_runtime(true);
    braid::RuntimeMetrics inside;
    rt.block_on([&]() -> braid::Task<> {
        auto a = braid::spawn(quick());
        auto b = braid::spawn(quick());
        auto c = braid::spawn(sleeper(3600s));
        co_await a;
        co_await b;
        // a, b, c ran once each (c sleeps); this task twice so far (this
        // poll included: a poll is counted as it begins).
        inside = braid::Handle::current().metrics();
        c.abort();
        try {
            co_await c;
        } catch (const braid::TaskCancelled&) {
        }
    }());
    // The main task (spawned from outside, by block_on) and three others.
    CHECK(inside.tasks_spawned == 4);
    CHECK(inside.tasks_completed == 2);
    CHECK(inside.tasks_aborted == 0);
    CHECK(inside.tasks_alive == 2);
    CHECK(inside.timers_pending == 1);
    CHECK(inside.polls == 5);
    auto m = rt.metrics();
    CHECK(m.workers == 1);
    CHECK(m.worker.size() == 1);
    CHECK(m.tasks_spawned == 4);
    CHECK(m.tasks_completed == 3);
    CHECK(m.tasks_aborted == 1);
    CHECK(m.tasks_alive == 0);
    CHECK(m.timers_pending == 0);
    // main: 3 polls (start, after a and b, after c); a, b, c: 1 each (c's
    // second run, after the abort, drops it).
    CHECK(m.polls == 7);
    CHECK(m.worker[0].polls == 7);
    // c, woken by the abort that main made, ran from the LIFO slot.
    CHECK(m.lifo_slot_hits == 1);
    CHECK(m.steals == 0);
    CHECK(m.parks == 0);
    CHECK(m.budget_forced_yields == 0);
    CHECK(m.inject_queue_depth == 0);
    CHECK(m.local_queue_depth == 0);
    // Scheduled by the worker: a, b, c (spawned), main woken once for a's
    // and b's ends (b ended while main was queued already), c woken by the
    // abort, main woken by c's end.  From outside: main, by block_on.
    CHECK(m.local_schedules == 6);
    CHECK(m.worker[0].local_schedules == 6);
    CHECK(m.remote_schedules == 1);
    CHECK(m.overflows == 0);
    CHECK(m.blocking_threads == 0);
    CHECK(m.slow_polls == rt.slow_polls());
    CHECK(m.busy_ns == m.worker[0].busy_ns);
    CHECK(m.busy_ns > 0);
}

TEST_CASE("rt_metrics.spawns through a handle from a plain thread are remote schedules and spawns, each counted once") {
    // A spawn from outside adds to one counter, which the snapshot reports
    // in both figures: neither may miss it or count it twice.
    auto rt = braid_test::runtime(2);
    braid::Handle h = rt.handle();
    std::vector<braid::JoinHandle<void>> hs;
    for (int i = 0; i < 5; ++i) hs.push_back(h.spawn(quick()));
    for (auto& j : hs) REQUIRE(braid_task_join_blocking(j.native_handle(), -1) == BRAID_OK);
    braid::RuntimeMetrics m = rt.metrics();
    CHECK(m.remote_schedules == 5);
    CHECK(m.tasks_spawned == 5);
    CHECK(m.tasks_completed == 5);
}

TEST_CASE("rt_metrics.timers pending is the number of sleeping tasks, with paused time") {
    auto rt = braid_test::current_thread_runtime(true);
    std::vector<uint64_t> seen;
    rt.block_on([&]() -> braid::Task<> {
        auto h = braid::Handle::current();
        std::vector<braid::JoinHandle<void>> s;
        for (int i = 1; i <= 3; ++i) s.push_back(braid::spawn(sleeper(std::chrono::seconds(10 * i))));
        seen.push_back(h.metrics().timers_pending);  // none ran yet
        co_await braid::yield_now();                 // behind the three: each registers its sleep
        seen.push_back(h.metrics().timers_pending);
        co_await braid::sleep(15s);  // the 10 s sleeper woke and finished
        seen.push_back(h.metrics().timers_pending);
        auto m = h.metrics();
        seen.push_back(m.tasks_alive);  // this one and the 20 s and 30 s sleepers
        // The worker parked twice to let the clock jump: to 10 s (the first
        // sleeper ran and finished), then to 15 s.
        seen.push_back(m.parks);
        for (auto& j : s) co_await j;
        seen.push_back(h.metrics().timers_pending);
    }());
    CHECK(seen == std::vector<uint64_t>{0, 3, 2, 3, 2, 0});
}

TEST_CASE("rt_metrics.blocking pool threads, idle and queued with known jobs") {
    auto rt = braid::Runtime::builder().worker_threads(1).max_blocking_threads(1).build();
    std::promise<void> started, release;
    auto released = release.get_future().share();
    auto h = rt.handle();
    braid::JoinHandle<void> first = rt.block_on([&]() -> braid::Task<braid::JoinHandle<void>> {
        co_return braid::spawn_blocking([&, released] {
            started.set_value();
            released.wait();
        });
    }());
    started.get_future().wait();
    auto second = rt.block_on([]() -> braid::Task<braid::JoinHandle<void>> {
        co_return braid::spawn_blocking([] {});
    }());
    auto m = h.metrics();
    CHECK(m.blocking_threads == 1);
    CHECK(m.blocking_idle == 0);
    CHECK(m.blocking_queued == 1);
    // blocking jobs are not tasks
    CHECK(m.tasks_spawned == 2);
    release.set_value();
    rt.block_on([&]() -> braid::Task<> {
        co_await first;
        co_await second;
    }());
    m = h.metrics();
    CHECK(m.blocking_queued == 0);
    CHECK(m.blocking_threads == 1);
}

TEST_CASE("rt_metrics.a poll that uses up its cooperative budget counts one forced yield") {
    auto rt = braid_test::current_thread_runtime(true);
    rt.block_on([]() -> braid::Task<> {
        // An unbounded channel with more ready items than a poll's budget:
        // the receive that finds the budget gone yields once.
        auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
        for (int i = 0; i < 200; ++i) tx.send(i);
        for (int i = 0; i < 200; ++i) co_await rx.recv();
    }());
    auto m = rt.metrics();
    CHECK(m.budget_forced_yields == 1);
    CHECK(m.worker[0].budget_forced_yields == 1);
}

TEST_CASE("rt_metrics.metrics through the C ABI: sizes, bad input, and what a handle sees after shutdown") {
    braid_runtime* rt = nullptr;
    braid_runtime_builder* b = nullptr;
    REQUIRE(braid_runtime_builder_new(&b) == BRAID_OK);
    REQUIRE(braid_runtime_builder_worker_threads(b, 2) == BRAID_OK);
    REQUIRE(braid_runtime_build(&rt, b) == BRAID_OK);
    braid_runtime_builder_free(b);

    braid_metrics m;
    std::memset(&m, 0xab, sizeof m);
    braid_metrics before = m;
    CHECK(braid_runtime_metrics(nullptr, &m, sizeof m) == BRAID_EINVAL);
    CHECK(braid_runtime_metrics(rt, nullptr, sizeof m) == BRAID_EINVAL);
    CHECK(braid_runtime_metrics(rt, &m, BRAID_METRICS_MIN_SIZE - 1) == BRAID_EINVAL);
    CHECK(braid_runtime_metrics(rt, &m, 0) == BRAID_EINVAL);
    CHECK(std::memcmp(&m, &before, sizeof m) == 0);

    braid_worker_metrics w;
    std::memset(&w, 0xab, sizeof w);
    braid_worker_metrics wbefore = w;
    CHECK(braid_runtime_worker_metrics(nullptr, 0, &w, sizeof w) == BRAID_EINVAL);
    CHECK(braid_runtime_worker_metrics(rt, 0, nullptr, sizeof w) == BRAID_EINVAL);
    CHECK(braid_runtime_worker_metrics(rt, -1, &w, sizeof w) == BRAID_EINVAL);
    CHECK(braid_runtime_worker_metrics(rt, 2, &w, sizeof w) == BRAID_EINVAL);
    CHECK(braid_runtime_worker_metrics(rt, 0, &w, BRAID_WORKER_METRICS_MIN_SIZE - 1) == BRAID_EINVAL);
    CHECK(std::memcmp(&w, &wbefore, sizeof w) == 0);

    // A caller compiled against a newer, bigger struct: what this library
    // knows is filled, the rest zeroed, and size says how much was filled.
    struct Bigger {
        braid_metrics m;
        uint64_t later[3];
    } big;
    std::memset(&big, 0xab, sizeof big);
    REQUIRE(braid_runtime_metrics(rt, &big.m, sizeof big) == BRAID_OK);
    CHECK(big.m.size == sizeof(braid_metrics));
    CHECK(big.m.workers == 2);
    CHECK(big.later[0] == 0);
    CHECK(big.later[2] == 0);
    REQUIRE(braid_runtime_worker_metrics(rt, 1, &w, sizeof w) == BRAID_OK);
    CHECK(w.size == sizeof w);

    // Format: the size asked first, a buffer too small left untouched.
    size_t needed = 0;
    CHECK(braid_runtime_metrics_format(rt, BRAID_METRICS_JSON, nullptr, 0, &needed) == BRAID_ERANGE);
    CHECK(needed > 2);
    CHECK(braid_runtime_metrics_format(rt, BRAID_METRICS_JSON, nullptr, 8, &needed) == BRAID_EINVAL);
    CHECK(braid_runtime_metrics_format(rt, 3, nullptr, 0, &needed) == BRAID_EINVAL);
    CHECK(braid_runtime_metrics_format(rt, 0, nullptr, 0, &needed) == BRAID_EINVAL);
    CHECK(braid_runtime_metrics_format(nullptr, BRAID_METRICS_JSON, nullptr, 0, &needed) == BRAID_EINVAL);
    std::vector<char> small(8, 'x');
    CHECK(braid_runtime_metrics_format(rt, BRAID_METRICS_PROMETHEUS, small.data(), small.size(), &needed) ==
          BRAID_ERANGE);
    CHECK(std::string(small.begin(), small.end()) == "xxxxxxxx");
    std::vector<char> buf(needed + 256);
    size_t got = 0;
    REQUIRE(braid_runtime_metrics_format(rt, BRAID_METRICS_PROMETHEUS, buf.data(), buf.size(), &got) == BRAID_OK);
    CHECK(std::strlen(buf.data()) + 1 == got);
    REQUIRE(braid_runtime_metrics_format(rt, BRAID_METRICS_JSON, buf.data(), buf.size(), nullptr) == BRAID_OK);

    // Through a handle, also once the runtime is gone.
    braid_handle* h = nullptr;
    REQUIRE(braid_runtime_handle(&h, rt) == BRAID_OK);
    CHECK(braid_handle_metrics(nullptr, &m, sizeof m) == BRAID_EINVAL);
    CHECK(braid_handle_worker_metrics(nullptr, 0, &w, sizeof w) == BRAID_EINVAL);
    CHECK(braid_handle_metrics_format(nullptr, BRAID_METRICS_JSON, nullptr, 0, &needed) == BRAID_EINVAL);
    REQUIRE(braid_runtime_free(rt) == BRAID_OK);
    REQUIRE(braid_handle_metrics(h, &m, sizeof m) == BRAID_OK);
    CHECK(m.workers == 2);
    CHECK(m.tasks_alive == 0);
    REQUIRE(braid_handle_worker_metrics(h, 1, &w, sizeof w) == BRAID_OK);
    CHECK(w.local_queue_depth == 0);
    CHECK(braid_handle_metrics_format(h, BRAID_METRICS_JSON, buf.data(), buf.size(), nullptr) == BRAID_OK);
    braid_handle_free(h);
}

TEST_CASE("rt_metrics.Prometheus text: HELP and TYPE for every metric, a worker label, exact values") {
    auto rt = braid::Runtime::builder().worker_threads(3).start_paused().build();
    rt.block_on(quick());
    std::string text = rt.metrics_text(braid::MetricsFormat::Prometheus);
    check_prometheus_grammar(text);
    CHECK(text.find("# TYPE braid_tasks_spawned_total counter\nbraid_tasks_spawned_total 1\n") != std::string::npos);
    CHECK(text.find("# TYPE braid_workers gauge\nbraid_workers 3\n") != std::string::npos);
    CHECK(text.find("braid_tasks_alive 0\n") != std::string::npos);
    for (int i = 0; i < 3; ++i)
        CHECK(text.find("braid_worker_local_queue_depth{worker=\"" + std::to_string(i) + "\"} 0\n") !=
              std::string::npos);
    CHECK(std::regex_search(text, std::regex(R"(braid_worker_busy_seconds_total\{worker="0"\} [0-9]+\.[0-9]{9}\n)")));
}

TEST_CASE("rt_metrics.JSON: one object with every field and one entry per worker") {
    auto rt = braid_test::current_thread_runtime(true);
    rt.block_on(quick());
    std::string json = rt.metrics_text(braid::MetricsFormat::Json);
    CHECK(json.starts_with("{\"workers\":1,\"tasks_spawned\":1,\"tasks_alive\":0,\"tasks_completed\":1,"
                           "\"tasks_aborted\":0,"));
    CHECK(json.find("\"per_worker\":[{\"worker\":0,\"polls\":1,\"steals\":0,\"parks\":0,\"busy_ns\":") !=
          std::string::npos);
    CHECK(json.ends_with("}]}\n"));
}

}  // namespace test_rt_metrics
