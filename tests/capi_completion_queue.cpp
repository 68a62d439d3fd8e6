// Completion queues (braid/completion_queue.h): callbacks of operations
// started by a thread whose current queue is set are posted there and run
// by that thread, drained here from a plain poll() loop on the queue's fd.
#include <poll.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "capi_support.hpp"

namespace test_capi_completion_queue {

namespace {

using capi_test::Rt;

// A queue, current on the calling thread for the life of the object.
struct Queue {
    braid_completion_queue* q = nullptr;
    Queue() {
        REQUIRE(braid_completion_queue_new(&q) == BRAID_OK);
        REQUIRE(braid_completion_queue_set_current(q) == BRAID_OK);
    }
    ~Queue() {
        braid_completion_queue_set_current(nullptr);
        if (q) {
            while (braid_completion_queue_pending(q) > 0) braid_completion_queue_run(q, 0);
            braid_completion_queue_free(q);
        }
    }
    // The host's loop: poll() on the fd and run what is queued, until
    // done() or 10 s without a completion.  Returns done().
    template <class Done>
    bool drain_until(Done done) {
        int fd = braid_completion_queue_fd(q);
        REQUIRE(fd >= 0);
        while (!done()) {
            pollfd p{fd, POLLIN, 0};
            int n = ::poll(&p, 1, 10000);
            if (n <= 0) return false;
            REQUIRE((p.revents & POLLIN) != 0);
            REQUIRE(braid_completion_queue_run(q, 0) >= 0);
        }
        return true;
    }
};

// One callback's record: not atomic on purpose: under TSan a callback that
// ran on another thread than the test's would be reported as a race.
struct Seen {
    int calls = 0;
    int status = 1000;
    std::thread::id thread;
    static void cb(void* p, int st) {
        auto* s = static_cast<Seen*>(p);
        s->calls++;
        s->status = st;
        s->thread = std::this_thread::get_id();
    }
};

void add_one(void* p) { static_cast<std::atomic<int>*>(p)->fetch_add(1); }

}  // namespace

TEST_CASE("capi_completion_queue.completion queue: bad arguments return codes") {
    REQUIRE(braid_completion_queue_new(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_completion_queue_fd(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_completion_queue_run(nullptr, 0) == BRAID_EINVAL);
    REQUIRE(braid_completion_queue_pending(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_completion_queue_free(nullptr) == BRAID_OK);
    REQUIRE(braid_completion_queue_set_current(nullptr) == BRAID_OK);
    REQUIRE(braid_completion_queue_current() == nullptr);
}

TEST_CASE("capi_completion_queue.completion queue: an empty queue is not readable and runs nothing") {
    braid_completion_queue* q = nullptr;
    REQUIRE(braid_completion_queue_new(&q) == BRAID_OK);
    pollfd p{braid_completion_queue_fd(q), POLLIN, 0};
    REQUIRE(::poll(&p, 1, 0) == 0);
    REQUIRE(braid_completion_queue_run(q, 0) == 0);
    REQUIRE(braid_completion_queue_pending(q) == 0);
    REQUIRE(braid_completion_queue_free(q) == BRAID_OK);
}

TEST_CASE("capi_completion_queue.completion queue: sleeps call back on the thread that drains the queue") {
    Rt rt;
    Queue q;
    REQUIRE(braid_completion_queue_current() == q.q);
    Seen a, b, c;
    REQUIRE(braid_sleep(nullptr, rt.rt, 1, &Seen::cb, &a) == BRAID_OK);
    REQUIRE(braid_sleep(nullptr, rt.rt, 0, &Seen::cb, &b) == BRAID_OK);
    braid_task* t = nullptr;
    REQUIRE(braid_sleep(&t, rt.rt, 100000, &Seen::cb, &c) == BRAID_OK);
    REQUIRE(q.drain_until([&] { return a.calls == 1 && b.calls == 1; }));
    REQUIRE(c.calls == 0);
    REQUIRE(braid_task_abort(t) == BRAID_OK);
    REQUIRE(q.drain_until([&] { return c.calls == 1; }));
    // the callback was posted as the task ended: it finishes (or has) with that status
    REQUIRE(braid_task_join_blocking(t, 10000) == BRAID_ECANCELED);
    braid_task_free(t);
    auto me = std::this_thread::get_id();
    for (Seen* s : {&a, &b}) {
        REQUIRE(s->status == BRAID_OK);
        REQUIRE(s->thread == me);
    }
    REQUIRE(c.status == BRAID_ECANCELED);
    REQUIRE(c.thread == me);
    REQUIRE(a.calls == 1);
    REQUIRE(b.calls == 1);
}

TEST_CASE("capi_completion_queue.completion queue: run(max) runs at most max and keeps the fd readable") {
    Rt rt;
    Queue q;
    Seen s[3];
    for (auto& x : s) {
        // the callback is posted before the task finishes: once joined, it is queued
        braid_task* t = nullptr;
        REQUIRE(braid_sleep(&t, rt.rt, 0, &Seen::cb, &x) == BRAID_OK);
        REQUIRE(braid_task_join_blocking(t, 10000) == BRAID_OK);
        braid_task_free(t);
    }
    REQUIRE(braid_completion_queue_pending(q.q) == 3);
    int fd = braid_completion_queue_fd(q.q);
    pollfd p{fd, POLLIN, 0};
    REQUIRE(::poll(&p, 1, 0) == 1);
    REQUIRE(braid_completion_queue_run(q.q, 1) == 1);
    REQUIRE(s[0].calls == 1);
    REQUIRE(s[1].calls == 0);
    REQUIRE(::poll(&p, 1, 0) == 1);
    REQUIRE(braid_completion_queue_run(q.q, 0) == 2);
    REQUIRE(::poll(&p, 1, 0) == 0);
    for (auto& x : s) {
        REQUIRE(x.calls == 1);
        REQUIRE(x.status == BRAID_OK);
    }
}

TEST_CASE("capi_completion_queue.completion queue: a spawned C function's join comes to the queue") {
    Rt rt;
    Queue q;
    std::atomic<int> done{0};
    braid_task* t = nullptr;
    REQUIRE(braid_spawn(&t, rt.rt, &add_one, &done) == BRAID_OK);
    Seen joined;
    REQUIRE(braid_task_join(t, &Seen::cb, &joined) == BRAID_OK);
    REQUIRE(q.drain_until([&] { return joined.calls == 1; }));
    REQUIRE(joined.status == BRAID_OK);
    REQUIRE(joined.thread == std::this_thread::get_id());
    REQUIRE(done.load() == 1);
    braid_task_free(t);
}

TEST_CASE("capi_completion_queue.completion queue: channel and lock callbacks come to the queue") {
    Rt rt;
    Queue q;
    braid_mpsc_tx* tx = nullptr;
    braid_mpsc_rx* rx = nullptr;
    REQUIRE(braid_mpsc_new(&tx, &rx, 4, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    int got = 0;
    Seen recv;
    REQUIRE(braid_mpsc_recv(nullptr, rt.rt, rx, &got, sizeof got, &Seen::cb, &recv) == BRAID_OK);
    // a sender on another (foreign) thread
    std::atomic<int> sent{1000};  // Catch's REQUIRE is for the test's thread only
    std::thread sender([tx, &sent] {
        int v = 42;
        sent = braid_mpsc_send_blocking(tx, &v, sizeof v, 10000);
    });
    REQUIRE(q.drain_until([&] { return recv.calls == 1; }));
    sender.join();
    REQUIRE(sent.load() == BRAID_OK);
    REQUIRE(recv.status == BRAID_OK);
    REQUIRE(got == 42);
    REQUIRE(recv.thread == std::this_thread::get_id());

    braid_mutex* m = nullptr;
    REQUIRE(braid_mutex_new(&m) == BRAID_OK);
    REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
    Seen locked;
    REQUIRE(braid_mutex_lock(nullptr, rt.rt, m, &Seen::cb, &locked) == BRAID_OK);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    REQUIRE(q.drain_until([&] { return locked.calls == 1; }));
    REQUIRE(locked.status == BRAID_OK);
    REQUIRE(locked.thread == std::this_thread::get_id());
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    braid_mutex_free(m);
    braid_mpsc_tx_free(tx);
    braid_mpsc_rx_free(rx);
}

namespace {
// A listener on 127.0.0.1 (an ephemeral port) and the address it is bound to.
struct Loopback {
    braid_tcp_listener* l = nullptr;
    sockaddr_storage bound{};
    size_t blen = sizeof bound;
    explicit Loopback(Rt& rt) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(braid_tcp_listener_bind(&l, rt.rt, reinterpret_cast<sockaddr*>(&a), sizeof a, 16) == BRAID_OK);
        REQUIRE(braid_tcp_listener_local_addr(l, &bound, &blen) == BRAID_OK);
    }
};
struct Conn {
    int calls = 0;
    int status = 1000;
    braid_tcp_stream* s = nullptr;
    std::thread::id thread;
    static void cb(void* p, int st, braid_tcp_stream* s) {
        auto* c = static_cast<Conn*>(p);
        c->calls++;
        c->status = st;
        c->s = s;
        c->thread = std::this_thread::get_id();
    }
};
struct Chunks {
    std::string data;
    int final_status = 1000;
    bool on_host = true;
    std::thread::id host = std::this_thread::get_id();
    static void cb(void* p, int st, const void* d, size_t n) {
        auto* c = static_cast<Chunks*>(p);
        if (std::this_thread::get_id() != c->host) c->on_host = false;
        if (st == BRAID_OK) c->data.append(static_cast<const char*>(d), n);
        else c->final_status = st;
    }
};
struct Bytes {
    int calls = 0;
    int status = 1000;
    std::string data;
    static void cb(void* p, int st, const void* d, size_t n) {
        auto* b = static_cast<Bytes*>(p);
        b->calls++;
        b->status = st;
        if (d) b->data.assign(static_cast<const char*>(d), n);
    }
};
}  // namespace

TEST_CASE("capi_completion_queue.completion queue: TCP accept, connect and a read loop deliver to the queue") {
    Rt rt;
    Queue q;
    Loopback lb(rt);
    Conn acc, con;
    REQUIRE(braid_tcp_listener_accept(nullptr, lb.l, &Conn::cb, &acc) == BRAID_OK);
    REQUIRE(braid_tcp_connect(nullptr, rt.rt, reinterpret_cast<sockaddr*>(&lb.bound), lb.blen, &Conn::cb, &con) ==
            BRAID_OK);
    REQUIRE(q.drain_until([&] { return acc.calls == 1 && con.calls == 1; }));
    REQUIRE(acc.status == BRAID_OK);
    REQUIRE(con.status == BRAID_OK);
    REQUIRE(acc.thread == std::this_thread::get_id());
    REQUIRE(con.thread == std::this_thread::get_id());

    // A read loop with a 3-byte buffer: every chunk is copied into its
    // completion, so the bytes arrive whole although the buffer is reused.
    char buf[3];
    Chunks chunks;
    REQUIRE(braid_byte_stream_read_start(nullptr, braid_tcp_stream_as_byte_stream(acc.s), buf, sizeof buf,
                                         &Chunks::cb, &chunks) == BRAID_OK);
    std::string msg = "completions on the host thread";
    int cfd = braid_tcp_stream_fd(con.s);
    REQUIRE(::write(cfd, msg.data(), msg.size()) == ssize_t(msg.size()));
    REQUIRE(braid_tcp_stream_close(con.s) == BRAID_OK);
    REQUIRE(q.drain_until([&] { return chunks.final_status != 1000; }));
    REQUIRE(chunks.final_status == BRAID_EEOF);
    REQUIRE(chunks.data == msg);
    REQUIRE(chunks.on_host);
    braid_tcp_stream_free(con.s);
    braid_tcp_stream_free(acc.s);
    braid_tcp_listener_free(lb.l);
}

TEST_CASE("capi_completion_queue.completion queue: a file read on the blocking pool delivers to the queue") {
    Rt rt;
    Queue q;
    char path[] = "/tmp/braid_cq_XXXXXX";
    int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, "hello", 5) == 5);
    ::close(fd);
    Bytes b;
    REQUIRE(braid_fs_read(nullptr, rt.rt, path, &Bytes::cb, &b) == BRAID_OK);
    REQUIRE(q.drain_until([&] { return b.calls == 1; }));
    REQUIRE(b.status == BRAID_OK);
    REQUIRE(b.data == "hello");
    ::unlink(path);
}

TEST_CASE("capi_completion_queue.completion queue: operations started without a current queue call back on braid's threads") {
    Rt rt;
    braid_completion_queue* q = nullptr;
    REQUIRE(braid_completion_queue_new(&q) == BRAID_OK);
    REQUIRE(braid_completion_queue_set_current(q) == BRAID_OK);
    REQUIRE(braid_completion_queue_set_current(nullptr) == BRAID_OK);
    std::atomic<int> calls{0};
    auto cb = [](void* p, int) { static_cast<std::atomic<int>*>(p)->fetch_add(1); };
    braid_task* t = nullptr;
    REQUIRE(braid_sleep(&t, rt.rt, 0, cb, &calls) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, 10000) == BRAID_OK);
    REQUIRE(calls.load() == 1);  // ran before the task finished, on a worker
    REQUIRE(braid_completion_queue_pending(q) == 0);
    braid_task_free(t);
    REQUIRE(braid_completion_queue_free(q) == BRAID_OK);
}

TEST_CASE("capi_completion_queue.completion queue: free refuses while completions are queued or another thread uses it") {
    Rt rt;
    braid_completion_queue* q = nullptr;
    REQUIRE(braid_completion_queue_new(&q) == BRAID_OK);
    REQUIRE(braid_completion_queue_set_current(q) == BRAID_OK);
    Seen s;
    braid_task* t = nullptr;
    REQUIRE(braid_sleep(&t, rt.rt, 0, &Seen::cb, &s) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, 10000) == BRAID_OK);
    braid_task_free(t);
    REQUIRE(braid_completion_queue_pending(q) == 1);
    REQUIRE(braid_completion_queue_free(q) == BRAID_EBUSY);
    REQUIRE(braid_completion_queue_current() == nullptr);  // free unset it here
    REQUIRE(braid_completion_queue_run(q, 0) == 1);
    REQUIRE(s.calls == 1);

    // current on another thread: refused until that thread lets go
    std::atomic<int> phase{0};
    std::thread other([&] {
        braid_completion_queue_set_current(q);
        phase = 1;
        while (phase.load() != 2) std::this_thread::yield();
    });
    while (phase.load() != 1) std::this_thread::yield();
    REQUIRE(braid_completion_queue_free(q) == BRAID_EBUSY);
    phase = 2;
    other.join();  // the thread's end unsets its current queue
    REQUIRE(braid_completion_queue_free(q) == BRAID_OK);
}

TEST_CASE("capi_completion_queue.completion queue: shutdown cancels bound operations into the queue, later ones are dropped") {
    Rt rt;
    braid_completion_queue* q = nullptr;
    REQUIRE(braid_completion_queue_new(&q) == BRAID_OK);
    REQUIRE(braid_completion_queue_set_current(q) == BRAID_OK);
    Seen pending, dropped;
    REQUIRE(braid_sleep(nullptr, rt.rt, 100000, &Seen::cb, &pending) == BRAID_OK);
    rt.free();  // cancels the sleep: its callback is posted, not run
    REQUIRE(pending.calls == 0);
    REQUIRE(braid_completion_queue_run(q, 0) == 1);
    REQUIRE(pending.calls == 1);
    REQUIRE(pending.status == BRAID_ECANCELED);

    // an operation still running when the queue is freed: its callback is dropped
    Rt rt2;
    braid_task* t = nullptr;
    REQUIRE(braid_sleep(&t, rt2.rt, 100000, &Seen::cb, &dropped) == BRAID_OK);
    REQUIRE(braid_completion_queue_free(q) == BRAID_OK);
    REQUIRE(braid_task_abort(t) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, 10000) == BRAID_ECANCELED);
    braid_task_free(t);
    REQUIRE(dropped.calls == 0);
}

TEST_CASE("capi_completion_queue.completion queue: many operations from many threads, each drained by its own thread") {
    Rt rt(4);
    constexpr int kThreads = 4, kOps = 200;
    std::vector<std::thread> hosts;
    std::atomic<int> bad{0};
    for (int h = 0; h < kThreads; ++h) {
        hosts.emplace_back([&] {
            braid_completion_queue* q = nullptr;
            if (braid_completion_queue_new(&q) != BRAID_OK) {
                bad++;
                return;
            }
            braid_completion_queue_set_current(q);
            std::vector<Seen> seen(kOps);
            for (auto& s : seen)
                if (braid_sleep(nullptr, rt.rt, 0, &Seen::cb, &s) != BRAID_OK) bad++;
            int ran = 0;
            while (ran < kOps) {
                pollfd p{braid_completion_queue_fd(q), POLLIN, 0};
                if (::poll(&p, 1, 10000) != 1) {
                    bad++;
                    break;
                }
                int n = braid_completion_queue_run(q, 0);
                if (n < 0) bad++;
                else ran += n;
            }
            for (auto& s : seen)
                if (s.calls != 1 || s.status != BRAID_OK || s.thread != std::this_thread::get_id()) bad++;
            if (braid_completion_queue_free(q) != BRAID_OK) bad++;
        });
    }
    for (auto& t : hosts) t.join();
    REQUIRE(bad.load() == 0);
}

// ---- braid_completion_queue_take: completions as records ---------------------------------

namespace {
// Runs op (which starts one operation and returns its task) and waits until
// its completion is queued: the task ends as its callback is posted.
template <class Start>
void queued(Start start) {
    braid_task* t = start();
    REQUIRE(t != nullptr);
    braid_task_join_blocking(t, 10000);
    braid_task_free(t);
}

// A sleep of no time whose completion, to `seen`, is queued on return.
void queued_sleep(Rt& rt, Seen& seen) {
    queued([&] {
        braid_task* t = nullptr;
        REQUIRE(braid_sleep(&t, rt.rt, 0, &Seen::cb, &seen) == BRAID_OK);
        return t;
    });
}

void no_io(void*, int, size_t) { FAIL("a record's callback was called"); }

struct Ready {
    int calls = 0;
    int status = 1000;
    int ready = 0;
    static void cb(void* p, int st, int r) {
        auto* s = static_cast<Ready*>(p);
        s->calls++;
        s->status = st;
        s->ready = r;
    }
};
}  // namespace

namespace {
// Starts an accept on lb and a connect to it (their callbacks go to the
// calling thread's current queue); returns once the accept's is queued.
void accept_and_connect(Rt& rt, Loopback& lb, Conn& acc, Conn& con) {
    queued([&] {
        braid_task* t = nullptr;
        REQUIRE(braid_tcp_listener_accept(&t, lb.l, &Conn::cb, &acc) == BRAID_OK);
        REQUIRE(braid_tcp_connect(nullptr, rt.rt, reinterpret_cast<sockaddr*>(&lb.bound), lb.blen, &Conn::cb,
                                  &con) == BRAID_OK);
        return t;
    });
}

// Takes the two streams accept_and_connect's completions bring, as records
// (the connect's comes when braid's reactor sees it): {server, client}.
std::pair<braid_tcp_stream*, braid_tcp_stream*> take_streams(Queue& q, Conn& acc, Conn& con) {
    braid_tcp_stream* server = nullptr;
    braid_tcp_stream* client = nullptr;
    braid_completion recs[8];
    int fd = braid_completion_queue_fd(q.q);
    while (!server || !client) {
        pollfd p{fd, POLLIN, 0};
        REQUIRE(::poll(&p, 1, 10000) == 1);
        int n = braid_completion_queue_take(q.q, recs, 8, sizeof recs[0]);
        REQUIRE(n >= 0);
        for (int i = 0; i < n; ++i) {
            REQUIRE(recs[i].kind == BRAID_COMPLETION_HANDLE);
            REQUIRE(recs[i].callback == reinterpret_cast<void (*)(void)>(&Conn::cb));
            REQUIRE(recs[i].status == BRAID_OK);
            REQUIRE(recs[i].handle != nullptr);
            if (recs[i].user_data == &acc) server = static_cast<braid_tcp_stream*>(recs[i].handle);
            else if (recs[i].user_data == &con) client = static_cast<braid_tcp_stream*>(recs[i].handle);
            else FAIL("a record of another operation");
        }
    }
    REQUIRE(acc.calls == 0);
    REQUIRE(con.calls == 0);
    return {server, client};
}
}  // namespace

TEST_CASE("capi_completion_queue.completion queue take: bad arguments return codes") {
    braid_completion_queue* q = nullptr;
    REQUIRE(braid_completion_queue_new(&q) == BRAID_OK);
    braid_completion recs[2];
    REQUIRE(braid_completion_queue_take(nullptr, recs, 2, sizeof recs[0]) == BRAID_EINVAL);
    REQUIRE(braid_completion_queue_take(q, nullptr, 2, sizeof recs[0]) == BRAID_EINVAL);
    REQUIRE(braid_completion_queue_take(q, recs, 0, sizeof recs[0]) == BRAID_EINVAL);
    REQUIRE(braid_completion_queue_take(q, recs, -1, sizeof recs[0]) == BRAID_EINVAL);
    REQUIRE(braid_completion_queue_take(q, recs, 2, sizeof recs[0] - 1) == BRAID_EINVAL);
    REQUIRE(braid_completion_queue_take(q, recs, 2, sizeof recs[0]) == 0);  // empty
    REQUIRE(braid_completion_queue_free(q) == BRAID_OK);
}

TEST_CASE("capi_completion_queue.completion queue take: records of every kind, in order, calling nothing") {
    Rt rt;
    Queue q;
    Loopback lb(rt);
    Seen slept;
    Conn acc, con;
    queued_sleep(rt, slept);
    accept_and_connect(rt, lb, acc, con);
    braid_completion recs[8];
    std::memset(recs, 0xab, sizeof recs);
    int n = braid_completion_queue_take(q.q, recs, 1, sizeof recs[0]);
    REQUIRE(n == 1);
    REQUIRE(recs[0].kind == BRAID_COMPLETION_STATUS);
    REQUIRE(recs[0].callback == reinterpret_cast<void (*)(void)>(&Seen::cb));
    REQUIRE(recs[0].user_data == &slept);
    REQUIRE(recs[0].status == BRAID_OK);
    REQUIRE(slept.calls == 0);
    auto [server, client] = take_streams(q, acc, con);
    int fd = braid_completion_queue_fd(q.q);

    // a write (SIZE), then a read loop with a 3-byte buffer (BYTES: each
    // chunk copied, valid until the next take)
    const char msg[] = "records on the host thread";
    Seen wrote;  // as a braid_io_callback's user_data: never called
    Chunks chunks;
    queued([&] {
        braid_task* t = nullptr;
        REQUIRE(braid_byte_stream_write_all(&t, braid_tcp_stream_as_byte_stream(client), msg, sizeof msg - 1,
                                            &no_io, &wrote) ==
                BRAID_OK);
        return t;
    });
    n = braid_completion_queue_take(q.q, recs, 8, sizeof recs[0]);
    REQUIRE(n == 1);
    REQUIRE(recs[0].kind == BRAID_COMPLETION_SIZE);
    REQUIRE(recs[0].user_data == &wrote);
    REQUIRE(recs[0].status == BRAID_OK);
    REQUIRE(recs[0].size == sizeof msg - 1);
    char buf[3];
    REQUIRE(braid_byte_stream_read_start(nullptr, braid_tcp_stream_as_byte_stream(server), buf, sizeof buf,
                                         &Chunks::cb, &chunks) == BRAID_OK);
    REQUIRE(braid_tcp_stream_close(client) == BRAID_OK);
    std::string got;
    int final_status = 1000;
    while (final_status == 1000) {
        pollfd p{fd, POLLIN, 0};
        REQUIRE(::poll(&p, 1, 10000) == 1);
        n = braid_completion_queue_take(q.q, recs, 2, sizeof recs[0]);
        REQUIRE(n >= 0);
        for (int i = 0; i < n; ++i) {
            REQUIRE(recs[i].kind == BRAID_COMPLETION_BYTES);
            REQUIRE(recs[i].user_data == &chunks);
            if (recs[i].status == BRAID_OK) {
                REQUIRE(recs[i].data != nullptr);
                REQUIRE(recs[i].data != static_cast<const void*>(buf));  // a copy
                REQUIRE(recs[i].size <= sizeof buf);
                got.append(static_cast<const char*>(recs[i].data), recs[i].size);
            } else {
                REQUIRE(final_status == 1000);
                final_status = recs[i].status;
                REQUIRE(recs[i].data == nullptr);
                REQUIRE(recs[i].size == 0);
            }
        }
    }
    REQUIRE(final_status == BRAID_EEOF);
    REQUIRE(got == std::string(msg));
    REQUIRE(chunks.data.empty());
    REQUIRE(slept.calls == 0);
    REQUIRE(braid_completion_queue_pending(q.q) == 0);
    braid_tcp_stream_free(client);
    braid_tcp_stream_free(server);
    braid_tcp_listener_free(lb.l);
}

TEST_CASE("capi_completion_queue.completion queue take_bytes: reads' bytes copied into the caller's buffer") {
    Rt rt;
    Queue q;
    Loopback lb(rt);
    Conn acc, con;
    accept_and_connect(rt, lb, acc, con);
    braid_completion recs[8];
    char arena[7];
    REQUIRE(braid_completion_queue_take_bytes(q.q, recs, 8, sizeof recs[0], nullptr, 1) == BRAID_EINVAL);
    REQUIRE(braid_completion_queue_take_bytes(nullptr, recs, 8, sizeof recs[0], arena, 7) == BRAID_EINVAL);
    auto [server, client] = take_streams(q, acc, con);
    int fd = braid_completion_queue_fd(q.q);
    const std::string msg = "abcdefghijklmnopqrstuvwxyz";
    REQUIRE(::write(braid_tcp_stream_fd(client), msg.data(), msg.size()) == ssize_t(msg.size()));
    REQUIRE(braid_tcp_stream_close(client) == BRAID_OK);
    char buf[3];  // chunks of at most 3 bytes
    Chunks chunks;
    REQUIRE(braid_byte_stream_read_start(nullptr, braid_tcp_stream_as_byte_stream(server), buf, sizeof buf,
                                         &Chunks::cb, &chunks) == BRAID_OK);
    std::string got;
    int final_status = 1000;
    bool first = true;
    while (final_status == 1000) {
        pollfd p{fd, POLLIN, 0};
        REQUIRE(::poll(&p, 1, 10000) == 1);
        // the first take with room for 2 bytes: a 3-byte chunk does not fit
        // at all and keeps pointing at braid's copy; then 7 at a time
        std::size_t cap = first ? 2 : sizeof arena;
        int n = braid_completion_queue_take_bytes(q.q, recs, 8, sizeof recs[0], arena, cap);
        REQUIRE(n >= 0);
        std::size_t used = 0;
        for (int i = 0; i < n; ++i) {
            REQUIRE(recs[i].kind == BRAID_COMPLETION_BYTES);
            REQUIRE(recs[i].user_data == &chunks);
            if (recs[i].status != BRAID_OK) {
                final_status = recs[i].status;
                REQUIRE(recs[i].data == nullptr);
                continue;
            }
            auto* d = static_cast<const char*>(recs[i].data);
            bool inside = d >= arena && d + recs[i].size <= arena + cap;
            if (recs[i].size > cap) {
                REQUIRE(i == 0);  // only the first record of a batch may not fit
                REQUIRE_FALSE(inside);
            } else {
                REQUIRE(inside);
                REQUIRE(d == arena + used);  // one after another
                used += recs[i].size;
            }
            got.append(d, recs[i].size);
        }
        REQUIRE(used <= cap);
        if (n > 0) first = false;
    }
    REQUIRE(final_status == BRAID_EEOF);
    REQUIRE(got == msg);
    REQUIRE(chunks.data.empty());  // no callback was called
    braid_tcp_stream_free(client);
    braid_tcp_stream_free(server);
    braid_tcp_listener_free(lb.l);
}

TEST_CASE("capi_completion_queue.completion queue take: a record may be dispatched through its callback") {
    Rt rt;
    Queue q;
    Seen s;
    queued_sleep(rt, s);
    braid_completion r;
    REQUIRE(braid_completion_queue_take(q.q, &r, 1, sizeof r) == 1);
    REQUIRE(r.kind == BRAID_COMPLETION_STATUS);
    reinterpret_cast<braid_callback>(r.callback)(r.user_data, r.status);
    REQUIRE(s.calls == 1);
    REQUIRE(s.status == BRAID_OK);
    REQUIRE(s.thread == std::this_thread::get_id());
}

TEST_CASE("capi_completion_queue.completion queue take: a larger record size is the stride, extra bytes untouched") {
    Rt rt;
    Queue q;
    struct Later {
        braid_completion c;
        uint64_t extra;
    };
    Seen s[2];
    for (auto& x : s)
        queued([&] {
            braid_task* t = nullptr;
            REQUIRE(braid_sleep(&t, rt.rt, 0, &Seen::cb, &x) == BRAID_OK);
            return t;
        });
    Later recs[2];
    recs[0].extra = recs[1].extra = 77;
    REQUIRE(braid_completion_queue_take(q.q, &recs[0].c, 2, sizeof(Later)) == 2);
    REQUIRE(recs[0].c.user_data == &s[0]);
    REQUIRE(recs[1].c.user_data == &s[1]);
    REQUIRE(recs[0].extra == 77);
    REQUIRE(recs[1].extra == 77);
}

TEST_CASE("capi_completion_queue.completion queue take: other callback types run in order, a batch stops before them") {
    Rt rt;
    Queue q;
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    Seen before, after;
    Ready ready;
    queued_sleep(rt, before);
    queued([&] {
        braid_task* t = nullptr;
        REQUIRE(braid_fd_wait(&t, rt.rt, fds[1], BRAID_WRITABLE, &Ready::cb, &ready) == BRAID_OK);
        return t;
    });
    queued_sleep(rt, after);
    REQUIRE(braid_completion_queue_pending(q.q) == 3);
    braid_completion recs[4];
    REQUIRE(braid_completion_queue_take(q.q, recs, 4, sizeof recs[0]) == 1);
    REQUIRE(recs[0].user_data == &before);
    REQUIRE(ready.calls == 0);  // not yet: it comes after `before`
    pollfd p{braid_completion_queue_fd(q.q), POLLIN, 0};
    REQUIRE(::poll(&p, 1, 0) == 1);  // the rest keeps it readable
    REQUIRE(braid_completion_queue_take(q.q, recs, 4, sizeof recs[0]) == 1);
    REQUIRE(ready.calls == 1);
    REQUIRE(ready.status == BRAID_OK);
    REQUIRE((ready.ready & BRAID_WRITABLE) != 0);
    REQUIRE(recs[0].user_data == &after);
    REQUIRE(::poll(&p, 1, 0) == 0);
    REQUIRE(braid_completion_queue_take(q.q, recs, 4, sizeof recs[0]) == 0);
    REQUIRE(before.calls == 0);
    REQUIRE(after.calls == 0);
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST_CASE("capi_completion_queue.completion queue take: run() still calls plain completions") {
    Rt rt;
    Queue q;
    Seen s;
    queued_sleep(rt, s);
    REQUIRE(braid_completion_queue_run(q.q, 0) == 1);
    REQUIRE(s.calls == 1);
    braid_completion r;
    REQUIRE(braid_completion_queue_take(q.q, &r, 1, sizeof r) == 0);
}

TEST_CASE("capi_completion_queue.completion queue take: freeing the queue after a take releases the records") {
    Rt rt;
    braid_completion_queue* q = nullptr;
    REQUIRE(braid_completion_queue_new(&q) == BRAID_OK);
    REQUIRE(braid_completion_queue_set_current(q) == BRAID_OK);
    static const char text[] = "kept until the next take";
    char path[] = "/tmp/braid_cq_take_XXXXXX";
    int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, text, sizeof text - 1) == ssize_t(sizeof text - 1));
    ::close(fd);
    Bytes b;
    queued([&] {
        braid_task* t = nullptr;
        REQUIRE(braid_fs_read(&t, rt.rt, path, &Bytes::cb, &b) == BRAID_OK);
        return t;
    });
    braid_completion r;
    REQUIRE(braid_completion_queue_take(q, &r, 1, sizeof r) == 1);
    REQUIRE(r.kind == BRAID_COMPLETION_BYTES);
    REQUIRE(std::string(static_cast<const char*>(r.data), r.size) == text);
    REQUIRE(braid_completion_queue_set_current(nullptr) == BRAID_OK);
    REQUIRE(braid_completion_queue_free(q) == BRAID_OK);  // the copy goes with it (ASan: no leak)
    REQUIRE(b.calls == 0);
    ::unlink(path);
}

TEST_CASE("capi_completion_queue.completion queue take: many operations from many threads, each taken exactly once") {
    Rt rt(4);
    constexpr int kThreads = 4, kOps = 500;
    std::vector<std::thread> hosts;
    std::atomic<int> bad{0};
    for (int h = 0; h < kThreads; ++h) {
        hosts.emplace_back([&, h] {
            braid_completion_queue* q = nullptr;
            if (braid_completion_queue_new(&q) != BRAID_OK) {
                bad++;
                return;
            }
            braid_completion_queue_set_current(q);
            std::vector<int> seen(kOps, 0);
            std::vector<int> fds(kOps / 50 * 2);
            for (int i = 0; i < kOps; ++i) {
                if (braid_sleep(nullptr, rt.rt, i % 3, &Seen::cb, &seen[i]) != BRAID_OK) bad++;
            }
            // a few completions that are not records, run by take in between
            Ready ready[kOps / 50];
            for (int i = 0; i < kOps / 50; ++i) {
                if (::pipe(&fds[2 * i]) != 0 ||
                    braid_fd_wait(nullptr, rt.rt, fds[2 * i + 1], BRAID_WRITABLE, &Ready::cb, &ready[i]) != BRAID_OK)
                    bad++;
            }
            braid_completion recs[7];
            int took = 0;
            while (took < kOps || [&] {
                for (auto& r : ready)
                    if (r.calls == 0) return true;
                return false;
            }()) {
                pollfd p{braid_completion_queue_fd(q), POLLIN, 0};
                if (::poll(&p, 1, 10000) != 1) {
                    bad++;
                    break;
                }
                // alternate batch sizes: 1..7
                int n = braid_completion_queue_take(q, recs, 1 + (took + h) % 7, sizeof recs[0]);
                if (n < 0) {
                    bad++;
                    break;
                }
                for (int i = 0; i < n; ++i) {
                    auto* s = static_cast<int*>(recs[i].user_data);
                    if (recs[i].kind != BRAID_COMPLETION_STATUS || recs[i].status != BRAID_OK ||
                        s < seen.data() || s >= seen.data() + kOps)
                        bad++;
                    else
                        ++*s;
                }
                took += n;
            }
            for (int c : seen)
                if (c != 1) bad++;
            for (auto& r : ready)
                if (r.calls != 1 || r.status != BRAID_OK) bad++;
            for (int f : fds) ::close(f);
            if (braid_completion_queue_pending(q) != 0) bad++;
            if (braid_completion_queue_free(q) != BRAID_OK) bad++;
        });
    }
    for (auto& t : hosts) t.join();
    REQUIRE(bad.load() == 0);
}

namespace {
// A non-record completion whose callback takes the records queued behind it.
struct Nested {
    braid_completion_queue* q = nullptr;
    int calls = 0;
    int took = -1000;
    braid_completion recs[4];
    static void cb(void* p, int, int) {
        auto* n = static_cast<Nested*>(p);
        n->calls++;
        n->took = braid_completion_queue_take(n->q, n->recs, 4, sizeof n->recs[0]);
    }
};
}  // namespace

TEST_CASE("capi_completion_queue.completion queue take: a callback that take runs may take the records behind it") {
    Rt rt;
    Queue q;
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    Nested nested;
    nested.q = q.q;
    Seen a, b;
    queued([&] {
        braid_task* t = nullptr;
        REQUIRE(braid_fd_wait(&t, rt.rt, fds[1], BRAID_WRITABLE, &Nested::cb, &nested) == BRAID_OK);
        return t;
    });
    for (Seen* s : {&a, &b})
        queued([&] {
            braid_task* t = nullptr;
            REQUIRE(braid_sleep(&t, rt.rt, 0, &Seen::cb, s) == BRAID_OK);
            return t;
        });
    braid_completion recs[4];
    REQUIRE(braid_completion_queue_take(q.q, recs, 4, sizeof recs[0]) == 0);  // the nested call took them
    REQUIRE(nested.calls == 1);
    REQUIRE(nested.took == 2);
    REQUIRE(nested.recs[0].user_data == &a);
    REQUIRE(nested.recs[1].user_data == &b);
    REQUIRE(braid_completion_queue_pending(q.q) == 0);
    pollfd p{braid_completion_queue_fd(q.q), POLLIN, 0};
    REQUIRE(::poll(&p, 1, 0) == 0);
    REQUIRE(a.calls + b.calls == 0);
    ::close(fds[0]);
    ::close(fds[1]);
}

}  // namespace test_capi_completion_queue
