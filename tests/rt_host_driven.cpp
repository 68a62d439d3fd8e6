// The host-driven flavor (braid_runtime_builder_host_driven): a plain
// poll() loop on the test's thread watches braid_runtime_fd and calls
// braid_runtime_turn when it is readable, as an asyncio, GLib or Node loop
// would.  Every task runs on that thread, inside a turn; work from other
// threads (wakes, spawns), I/O events and timers make the fd readable.
#include <catch2/catch.hpp>
#include <braid/braid.h>
#include <braid/braid.hpp>
#include <poll.h>

#include <atomic>
#include <memory>
#include <new>
#include <optional>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_rt_host_driven {

using namespace std::chrono_literals;
using braid::net::TcpListener;
using braid::net::TcpStream;

namespace {

braid::Runtime host_driven() { return braid::Runtime::builder().host_driven().build(); }

// The same through the C builder.
braid_runtime* host_driven_c() {
    braid_runtime_builder* b = nullptr;
    REQUIRE(braid_runtime_builder_new(&b) == BRAID_OK);
    REQUIRE(braid_runtime_builder_host_driven(b) == BRAID_OK);
    braid_runtime* rt = nullptr;
    REQUIRE(braid_runtime_build(&rt, b) == BRAID_OK);
    braid_runtime_builder_free(b);
    return rt;
}

// poll()s the runtime's fd and turns it until done() holds.  A wait of 10 s
// with the fd never readable fails the test (a lost wake-up) instead of
// hanging it.  Returns the number of turns.
template <class Done>
int drive(braid::Runtime& rt, Done done) {
    int turns = 0;
    while (!done()) {
        pollfd p{rt.fd(), POLLIN, 0};
        int n = ::poll(&p, 1, 10000);
        REQUIRE(n == 1);  // 0: nothing made the fd readable although work is due
        rt.turn();
        ++turns;
    }
    return turns;
}

bool readable_now(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
}

}  // namespace

TEST_CASE("rt_host_driven.host-driven runtime: tasks and timers run only inside turns on the turning thread") {
    auto rt = host_driven();
    CHECK(rt.worker_count() == 1);
    std::thread::id host = std::this_thread::get_id();
    std::atomic<int> stage{0};
    std::thread::id ran_on{};
    auto jh = rt.spawn([](std::atomic<int>* st, std::thread::id* on) -> braid::Task<int> {
        st->store(1);
        co_await braid::sleep(2ms);
        *on = std::this_thread::get_id();
        st->store(2);
        co_return 7;
    }(&stage, &ran_on));
    // No thread of braid's runs tasks: until the host turns, nothing ran.
    CHECK(stage.load() == 0);
    CHECK(readable_now(rt.fd()));
    int turns = drive(rt, [&] { return stage.load() == 2; });
    CHECK(turns >= 2);  // the spawn, then the timer's wake-up
    CHECK(ran_on == host);
    bool joined = false;
    int value = 0;
    rt.spawn([](braid::JoinHandle<int> h, bool* j, int* v) -> braid::Task<> {
        *v = co_await std::move(h);
        *j = true;
    }(std::move(jh), &joined, &value)).detach();
    drive(rt, [&] { return joined; });
    CHECK(value == 7);
}

TEST_CASE("rt_host_driven.host-driven runtime: a C timer callback and block_on between turns") {
    braid_runtime* rt = host_driven_c();
    int fd = braid_runtime_fd(rt);
    REQUIRE(fd >= 0);
    struct Fired {
        std::thread::id on;
        int status = 1;
    } fired;
    braid_task* sleep = nullptr;
    REQUIRE(braid_sleep(&sleep, rt, 1, [](void* p, int st) {
        auto* f = static_cast<Fired*>(p);
        f->on = std::this_thread::get_id();
        f->status = st;
    }, &fired) == BRAID_OK);
    while (fired.status == 1) {
        pollfd p{fd, POLLIN, 0};
        REQUIRE(::poll(&p, 1, 10000) == 1);
        REQUIRE(braid_runtime_turn(rt, 0) >= 0);
    }
    CHECK(fired.status == BRAID_OK);
    CHECK(fired.on == std::this_thread::get_id());
    braid_task_free(sleep);
    // block_on runs the runtime on the calling thread until the task is done.
    struct Countdown {
        int left;
        std::thread::id on;
        static int poll(void* s, braid_task* self) {
            auto* c = static_cast<Countdown*>(s);
            c->on = std::this_thread::get_id();
            if (c->left-- == 0) return BRAID_OK;
            braid_task_wake(self);
            return BRAID_PENDING;
        }
    };
    braid_task* t = nullptr;
    void* state = nullptr;
    REQUIRE(braid_task_new(&t, &state, rt, sizeof(Countdown), &Countdown::poll, nullptr, nullptr) == BRAID_OK);
    auto* cd = new (state) Countdown{5, {}};
    CHECK(braid_runtime_block_on(rt, t) == BRAID_OK);
    CHECK(cd->left == -1);
    CHECK(cd->on == std::this_thread::get_id());
    braid_task_free(t);
    CHECK(braid_runtime_turn(rt, 0) >= 0);
    CHECK(braid_runtime_free(rt) == BRAID_OK);
}

TEST_CASE("rt_host_driven.host-driven runtime: a turn stops at max_polls and leaves the fd readable") {
    auto rt = host_driven();
    int ran = 0;
    for (int i = 0; i < 10; ++i) {
        rt.spawn([](int* r) -> braid::Task<> {
            ++*r;
            co_return;
        }(&ran)).detach();
    }
    CHECK(readable_now(rt.fd()));
    CHECK(rt.turn(3) == 3);
    CHECK(ran == 3);
    CHECK(readable_now(rt.fd()));  // the rest waits for the next turn
    CHECK(rt.turn() == 7);
    CHECK(ran == 10);
    CHECK_FALSE(readable_now(rt.fd()));  // nothing left: the loop may sleep
    CHECK(rt.turn() == 0);
}

TEST_CASE("rt_host_driven.host-driven runtime: plain threads sending to a task wake the host's loop") {
    auto rt = host_driven();
    constexpr int kPerThread = 2000;
    auto [tx, rx] = braid::mpsc::channel<int>(16);
    long sum = 0;
    int got = 0;
    std::thread::id host = std::this_thread::get_id();
    bool off_thread = false;
    rt.spawn([](braid::mpsc::Receiver<int> r, long* s, int* g, std::thread::id h, bool* off) -> braid::Task<> {
        while (auto v = co_await r.recv()) {
            *s += *v;
            ++*g;
            if (std::this_thread::get_id() != h) *off = true;
        }
    }(std::move(rx), &sum, &got, host, &off_thread)).detach();
    std::atomic<int> refused{0};  // Catch2's CHECK is for the test's thread only
    std::vector<std::thread> senders;
    for (int t = 0; t < 2; ++t) {
        senders.emplace_back([t, tx = tx, &refused] {
            for (int i = 1; i <= kPerThread; ++i)
                if (tx.blocking_send(t * kPerThread + i).has_value()) refused.fetch_add(1);
        });
    }
    { auto drop = std::move(tx); }
    drive(rt, [&] { return got == 2 * kPerThread; });
    for (auto& s : senders) s.join();
    CHECK(refused.load() == 0);
    CHECK(sum == long(2 * kPerThread) * (2 * kPerThread + 1) / 2);
    CHECK_FALSE(off_thread);
}

TEST_CASE("rt_host_driven.host-driven runtime: tasks spawned from plain threads run on the host's thread") {
    auto rt = host_driven();
    braid::Handle h = rt.handle();
    std::atomic<int> done{0};
    std::atomic<int> off_thread{0};
    std::thread::id host = std::this_thread::get_id();
    constexpr int kEach = 500;
    std::vector<std::thread> spawners;
    for (int t = 0; t < 2; ++t) {
        spawners.emplace_back([&] {
            for (int i = 0; i < kEach; ++i) {
                h.spawn([](std::atomic<int>* d, std::atomic<int>* off, std::thread::id host) -> braid::Task<> {
                    if (std::this_thread::get_id() != host) off->fetch_add(1);
                    d->fetch_add(1);
                    co_return;
                }(&done, &off_thread, host)).detach();
            }
        });
    }
    drive(rt, [&] { return done.load() == 2 * kEach; });
    for (auto& s : spawners) s.join();
    CHECK(off_thread.load() == 0);
}

TEST_CASE("rt_host_driven.host-driven runtime: TCP echo with both ends in turns") {
    auto rt = host_driven();
    std::string back;
    bool done = false;
    rt.spawn([](std::string* out, bool* d) -> braid::Task<> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto addr = l.local_addr();
        auto server = braid::spawn([](TcpListener l) -> braid::Task<> {
            auto [s, peer] = co_await l.accept();
            char buf[64];
            for (;;) {
                std::size_t n = co_await s.read(braid::io::MutableBuffer(buf, sizeof buf));
                if (n == 0) break;
                co_await s.write_all(braid::io::ConstBuffer(buf, n));
            }
        }(std::move(l)));
        auto c = co_await TcpStream::connect(addr);
        std::string msg(10000, 'x');
        for (std::size_t i = 0; i < msg.size(); ++i) msg[i] = char('a' + i % 26);
        auto writer = braid::spawn([](TcpStream* c, const std::string* m) -> braid::Task<> {
            co_await c->write_all(*m);
            c->shutdown_write();
        }(&c, &msg));
        std::string got(msg.size(), '\0');
        co_await c.read_exact(got);
        co_await writer;
        co_await server;
        EXPECT(got == msg);
        *out = std::move(got);
        *d = true;
    }(&back, &done)).detach();
    drive(rt, [&] { return done; });
    CHECK(back.size() == 10000);
}

TEST_CASE("rt_host_driven.host-driven runtime: misuse is refused with a code") {
    braid::Runtime multi = braid_test::runtime(1);
    CHECK(braid_runtime_fd(multi.native_handle()) == BRAID_ENOTSUP);
    CHECK(braid_runtime_turn(multi.native_handle(), 0) == BRAID_ENOTSUP);
    CHECK(braid_runtime_fd(nullptr) == BRAID_EINVAL);
    CHECK(braid_runtime_turn(nullptr, 0) == BRAID_EINVAL);
    auto rt = host_driven();
    CHECK(braid_runtime_turn(rt.native_handle(), -1) == BRAID_EINVAL);
    int inside = 0;
    bool done = false;
    rt.spawn([](braid_runtime* r, int* in, bool* d) -> braid::Task<> {
        *in = braid_runtime_turn(r, 0);  // from inside a task of its own
        *d = true;
        co_return;
    }(rt.native_handle(), &inside, &done)).detach();
    drive(rt, [&] { return done; });
    CHECK(inside == BRAID_EDEADLK);
}

TEST_CASE("rt_host_driven.host-driven runtime: freeing it with tasks waiting cancels them") {
    auto token = std::make_shared<int>(0);
    std::optional<braid::oneshot::Sender<int>> keep;
    {
        auto rt = host_driven();
        auto [tx, rx] = braid::oneshot::channel<int>();
        keep.emplace(std::move(tx));
        rt.spawn([](braid::oneshot::Receiver<int> r, std::shared_ptr<int> t) -> braid::Task<> {
            (void)t;
            (void)co_await std::move(r);
        }(std::move(rx), token)).detach();
        rt.turn();  // the task waits on the oneshot now
        CHECK(token.use_count() == 2);
    }
    CHECK(token.use_count() == 1);  // the runtime's shutdown dropped the frame
}


TEST_CASE("rt_host_driven.host-driven runtime: turn_take takes what the turn posted without signalling the queue") {
    braid_runtime* rt = host_driven_c();
    braid_completion_queue* q = nullptr;
    REQUIRE(braid_completion_queue_new(&q) == BRAID_OK);
    REQUIRE(braid_completion_queue_set_current(q) == BRAID_OK);
    int rfd = braid_runtime_fd(rt);
    int qfd = braid_completion_queue_fd(q);
    braid_completion recs[8];
    char bytes[64];
    CHECK(braid_runtime_turn_take(nullptr, 0, q, recs, 8, sizeof recs[0], bytes, sizeof bytes) == BRAID_EINVAL);
    CHECK(braid_runtime_turn_take(rt, 0, nullptr, recs, 8, sizeof recs[0], bytes, sizeof bytes) == BRAID_EINVAL);
    CHECK(braid_runtime_turn_take(rt, -1, q, recs, 8, sizeof recs[0], bytes, sizeof bytes) == BRAID_EINVAL);
    CHECK(braid_runtime_turn_take(rt, 0, q, recs, 0, sizeof recs[0], bytes, sizeof bytes) == BRAID_EINVAL);

    // Five sleeps of no time whose callbacks go to q: their tasks run, and
    // post, inside the turn; turn_take hands them over with q's fd never
    // readable, two now (max 2) and the rest later.
    static int marks[5];
    for (int& m : marks) REQUIRE(braid_sleep(nullptr, rt, 0, [](void*, int) { FAIL("called"); }, &m) == BRAID_OK);
    int got = 0;
    bool first = true;
    while (got < 5) {
        pollfd p{rfd, POLLIN, 0};
        if (first) {
            REQUIRE(::poll(&p, 1, 10000) == 1);
            int n = braid_runtime_turn_take(rt, 0, q, recs, 2, sizeof recs[0], bytes, sizeof bytes);
            REQUIRE(n == 2);
            first = false;
            got += n;
            CHECK(readable_now(qfd));  // three more wait in q
            continue;
        }
        int n = braid_completion_queue_take(q, recs, 8, sizeof recs[0]);
        REQUIRE(n >= 0);
        for (int i = 0; i < n; ++i) CHECK(recs[i].kind == BRAID_COMPLETION_STATUS);
        got += n;
        if (got < 5) REQUIRE(::poll(&p, 1, 10000) == 1);
    }
    CHECK_FALSE(readable_now(qfd));

    // One sleep more: posted during the turn, taken by it, and q's fd was
    // never made readable for it.
    REQUIRE(braid_sleep(nullptr, rt, 0, [](void*, int) { FAIL("called"); }, &marks[0]) == BRAID_OK);
    int n = 0;
    while (n == 0) {
        pollfd p{rfd, POLLIN, 0};
        REQUIRE(::poll(&p, 1, 10000) == 1);
        n = braid_runtime_turn_take(rt, 0, q, recs, 8, sizeof recs[0], bytes, sizeof bytes);
        REQUIRE(n >= 0);
        CHECK_FALSE(readable_now(qfd));
    }
    CHECK(n == 1);
    CHECK(recs[0].user_data == &marks[0]);

    // The same posted during a plain braid_runtime_turn: q's fd becomes
    // readable, as for any post.
    REQUIRE(braid_sleep(nullptr, rt, 0, [](void*, int) { FAIL("called"); }, &marks[1]) == BRAID_OK);
    while (!readable_now(qfd)) {
        pollfd p{rfd, POLLIN, 0};
        REQUIRE(::poll(&p, 1, 10000) == 1);
        REQUIRE(braid_runtime_turn(rt, 0) >= 0);
    }
    CHECK(braid_completion_queue_take(q, recs, 8, sizeof recs[0]) == 1);
    CHECK(recs[0].user_data == &marks[1]);
    CHECK_FALSE(readable_now(qfd));

    REQUIRE(braid_runtime_free(rt) == BRAID_OK);
    while (braid_completion_queue_pending(q) > 0) braid_completion_queue_run(q, 0);
    REQUIRE(braid_completion_queue_free(q) == BRAID_OK);
}

TEST_CASE("rt_host_driven.host-driven runtime: paused time jumps to the next timer once a turn leaves nothing to run") {
    auto rt = braid::Runtime::builder().host_driven().start_paused().build();
    int64_t slept_ns = -1;
    bool done = false;
    rt.spawn([](int64_t* slept, bool* d) -> braid::Task<> {
        auto t0 = braid::Instant::now();
        co_await braid::sleep(std::chrono::hours(1));
        *slept = (braid::Instant::now() - t0).count();
        *d = true;
    }(&slept_ns, &done)).detach();
    auto started = std::chrono::steady_clock::now();
    drive(rt, [&] { return done; });
    CHECK(slept_ns >= std::chrono::nanoseconds(std::chrono::hours(1)).count());
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::minutes(1));  // not an hour of real time
}

}  // namespace test_rt_host_driven
