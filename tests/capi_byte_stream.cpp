// The byte-stream API of the C ABI (braid/byte_stream.h): the view of TCP
// streams, Unix streams and pipes, the repeating read (read_start/read_stop)
// and what its callback may do, the repeating accept of TCP and Unix
// listeners, and braid_tcp_connect_host.  Every wait is a join of the
// operation's task (the final callback runs before the task completes).
#include <catch2/catch.hpp>
#include <braid/braid.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dirent.h>
#include <sys/resource.h>

#include <atomic>
#include <cstring>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "capi_support.hpp"
#include "support.hpp"

namespace test_capi_byte_stream {

using capi_test::IoResult;
using capi_test::join;
using capi_test::Rt;
using capi_test::StreamResult;

namespace {

// What a repeating read's callback saw.  `on_chunk` (may be empty) runs
// inside each chunk callback, after the chunk was recorded.
struct Reader {
    std::mutex mu;
    std::string data;
    std::atomic<int> chunks{0};
    std::atomic<int> finals{0};
    std::atomic<int> final_status{1000};
    std::atomic<bool> chunk_after_final{false};
    braid_byte_stream* bs = nullptr;
    void (*on_chunk)(Reader*) = nullptr;
    void* extra = nullptr;
    static void cb(void* p, int st, const void* data, size_t n) {
        auto* r = static_cast<Reader*>(p);
        if (st == BRAID_OK) {
            if (r->finals.load()) r->chunk_after_final = true;
            EXPECT_ANYWHERE(data != nullptr);
            EXPECT_ANYWHERE(n > 0);
            {
                std::lock_guard<std::mutex> g(r->mu);
                r->data.append(static_cast<const char*>(data), n);
            }
            r->chunks.fetch_add(1);
            if (r->on_chunk) r->on_chunk(r);
            return;
        }
        EXPECT_ANYWHERE(data == nullptr);
        EXPECT_ANYWHERE(n == 0);
        r->final_status.store(st);
        r->finals.fetch_add(1);
    }
};

struct Pair {
    braid_unix_stream* a = nullptr;
    braid_unix_stream* b = nullptr;
    explicit Pair(braid_runtime* rt) { REQUIRE(braid_unix_stream_pair(&a, &b, rt) == BRAID_OK); }
    ~Pair() {
        braid_unix_stream_free(a);
        braid_unix_stream_free(b);
    }
    braid_byte_stream* bs_a() const { return braid_unix_stream_as_byte_stream(a); }
    braid_byte_stream* bs_b() const { return braid_unix_stream_as_byte_stream(b); }
};

void write_all(braid_byte_stream* bs, const char* text) {
    IoResult w;
    braid_task* t = nullptr;
    REQUIRE(braid_byte_stream_write_all(&t, bs, text, std::strlen(text), &IoResult::cb, &w) == BRAID_OK);
    REQUIRE(join(t) == BRAID_OK);
    REQUIRE(w.status == BRAID_OK);
}

struct Listener {
    braid_tcp_listener* l = nullptr;
    sockaddr_storage addr{};
    size_t len = 0;
    explicit Listener(braid_runtime* rt, const char* at = "127.0.0.1:0") {
        sockaddr_storage any{};
        size_t alen = 0;
        REQUIRE(braid_addr_parse(&any, &alen, at) == BRAID_OK);
        REQUIRE(braid_tcp_listener_bind(&l, rt, reinterpret_cast<sockaddr*>(&any), alen, 0) == BRAID_OK);
        REQUIRE(braid_tcp_listener_local_addr(l, &addr, &len) == BRAID_OK);
    }
    ~Listener() { braid_tcp_listener_free(l); }
    int port() const { return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port); }
};

// A connected TCP pair through the listener (callback accept and connect).
void tcp_pair(braid_runtime* rt, Listener& l, braid_tcp_stream** server, braid_tcp_stream** client) {
    StreamResult acc, con;
    braid_task *ta = nullptr, *tc = nullptr;
    REQUIRE(braid_tcp_listener_accept(&ta, l.l, &StreamResult::cb, &acc) == BRAID_OK);
    REQUIRE(braid_tcp_connect(&tc, rt, reinterpret_cast<sockaddr*>(&l.addr), l.len, &StreamResult::cb, &con) ==
            BRAID_OK);
    REQUIRE(join(ta) == BRAID_OK);
    REQUIRE(join(tc) == BRAID_OK);
    REQUIRE(acc.status == BRAID_OK);
    REQUIRE(con.status == BRAID_OK);
    *server = acc.stream;
    *client = con.stream;
}

}  // namespace

TEST_CASE("capi_byte_stream.byte stream: the views of TCP, Unix and pipe handles") {
    Rt r;
    REQUIRE(braid_tcp_stream_as_byte_stream(nullptr) == nullptr);
    REQUIRE(braid_unix_stream_as_byte_stream(nullptr) == nullptr);
    REQUIRE(braid_pipe_as_byte_stream(nullptr) == nullptr);
    Pair p(r.rt);
    REQUIRE(braid_byte_stream_fd(p.bs_a()) == braid_unix_stream_fd(p.a));
    REQUIRE(braid_byte_stream_fd(nullptr) == BRAID_EINVAL);

    write_all(p.bs_a(), "hello");
    char buf[5];
    IoResult rd;
    braid_task* t = nullptr;
    REQUIRE(braid_byte_stream_read_exact(&t, p.bs_b(), buf, sizeof buf, &IoResult::cb, &rd) == BRAID_OK);
    REQUIRE(join(t) == BRAID_OK);
    REQUIRE(rd.status == BRAID_OK);
    REQUIRE(std::string(buf, 5) == "hello");

    // A child's pipes: write to cat's stdin, shut it, read its stdout to the end.
    braid_command* cmd = nullptr;
    REQUIRE(braid_command_new(&cmd, "cat") == BRAID_OK);
    REQUIRE(braid_command_stdin(cmd, BRAID_STDIO_PIPED) == BRAID_OK);
    REQUIRE(braid_command_stdout(cmd, BRAID_STDIO_PIPED) == BRAID_OK);
    braid_child* child = nullptr;
    REQUIRE(braid_command_spawn(&child, cmd, r.rt) == BRAID_OK);
    braid_command_free(cmd);
    braid_pipe *in = nullptr, *out = nullptr;
    REQUIRE(braid_child_take_stdin(child, &in) == BRAID_OK);
    REQUIRE(braid_child_take_stdout(child, &out) == BRAID_OK);
    REQUIRE(braid_byte_stream_shutdown_write(braid_pipe_as_byte_stream(out)) == BRAID_EINVAL);  // a read end
    write_all(braid_pipe_as_byte_stream(in), "through cat");
    REQUIRE(braid_byte_stream_shutdown_write(braid_pipe_as_byte_stream(in)) == BRAID_OK);  // cat reads EOF
    Reader reader;
    char chunk[4];
    REQUIRE(braid_byte_stream_read_start(&t, braid_pipe_as_byte_stream(out), chunk, sizeof chunk, &Reader::cb,
                                         &reader) == BRAID_OK);
    REQUIRE(join(t) == BRAID_OK);
    REQUIRE(reader.finals == 1);
    REQUIRE(reader.final_status == BRAID_EEOF);
    REQUIRE(reader.data == "through cat");
    braid_pipe_free(in);
    braid_pipe_free(out);
    braid_child_free(child);
}

TEST_CASE("capi_byte_stream.byte stream: bad arguments are errors, not crashes") {
    Rt r;
    Pair p(r.rt);
    char buf[4];
    size_t n = 0;
    Reader rd;
    REQUIRE(braid_byte_stream_poll_read(nullptr, buf, 1, &braid_task_wake_fn, nullptr, &n) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_poll_read(p.bs_a(), buf, 1, &braid_task_wake_fn, nullptr, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_poll_write(nullptr, "x", 1, &braid_task_wake_fn, nullptr, &n) == BRAID_EINVAL);
    braid_io_slice slices[2] = {{"ab", 2}, {nullptr, 3}};
    REQUIRE(braid_byte_stream_poll_write_vectored(nullptr, slices, 1, &braid_task_wake_fn, nullptr, &n) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_poll_write_vectored(p.bs_a(), nullptr, 1, &braid_task_wake_fn, nullptr, &n) ==
            BRAID_EINVAL);
    REQUIRE(braid_byte_stream_poll_write_vectored(p.bs_a(), slices, 1, &braid_task_wake_fn, nullptr, nullptr) ==
            BRAID_EINVAL);
    REQUIRE(braid_byte_stream_poll_write_vectored(p.bs_a(), slices, 2, &braid_task_wake_fn, nullptr, &n) ==
            BRAID_EINVAL);  // a slice with no data but a length
    n = 7;
    REQUIRE(braid_byte_stream_poll_write_vectored(p.bs_a(), nullptr, 0, &braid_task_wake_fn, nullptr, &n) == BRAID_OK);
    REQUIRE(n == 0);
    braid_io_slice empties[2] = {{"", 0}, {nullptr, 0}};
    n = 7;
    REQUIRE(braid_byte_stream_poll_write_vectored(p.bs_a(), empties, 2, &braid_task_wake_fn, nullptr, &n) == BRAID_OK);
    REQUIRE(n == 0);
    REQUIRE(braid_byte_stream_read(nullptr, nullptr, buf, 1, &IoResult::cb, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_read(nullptr, p.bs_a(), buf, 0, &IoResult::cb, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_write_all(nullptr, p.bs_a(), nullptr, 3, &IoResult::cb, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_read_start(nullptr, nullptr, buf, 1, &Reader::cb, &rd) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_read_start(nullptr, p.bs_a(), nullptr, 1, &Reader::cb, &rd) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_read_start(nullptr, p.bs_a(), buf, 0, &Reader::cb, &rd) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_read_start(nullptr, p.bs_a(), buf, 1, nullptr, &rd) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_read_stop(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_read_stop(p.bs_a()) == BRAID_OK);  // none runs: nothing to do
    REQUIRE(braid_byte_stream_shutdown_write(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_close(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_byte_stream_close(p.bs_a()) == BRAID_OK);
    REQUIRE(braid_byte_stream_close(p.bs_a()) == BRAID_OK);
    REQUIRE(braid_byte_stream_read_start(nullptr, p.bs_a(), buf, 1, &Reader::cb, &rd) == BRAID_ECLOSED);
    REQUIRE(braid_byte_stream_poll_write(p.bs_a(), "x", 1, &braid_task_wake_fn, nullptr, &n) == BRAID_ECLOSED);
    REQUIRE(braid_byte_stream_poll_write_vectored(p.bs_a(), slices, 1, &braid_task_wake_fn, nullptr, &n) ==
            BRAID_ECLOSED);
    REQUIRE(rd.finals == 0);
}

TEST_CASE("capi_byte_stream.repeating read: every chunk, then end of file once") {
    Rt r;
    Pair p(r.rt);
    Reader rd;
    char buf[3];  // smaller than what is written: several chunks
    braid_task* t = nullptr;
    REQUIRE(braid_byte_stream_read_start(&t, p.bs_b(), buf, sizeof buf, &Reader::cb, &rd) == BRAID_OK);
    // The read side is taken: other reads are refused until the final call.
    char other[1];
    REQUIRE(braid_byte_stream_read(nullptr, p.bs_b(), other, 1, &IoResult::cb, nullptr) == BRAID_EBUSY);
    REQUIRE(braid_byte_stream_read_start(nullptr, p.bs_b(), other, 1, &Reader::cb, &rd) == BRAID_EBUSY);
    write_all(p.bs_a(), "hello, ");
    write_all(p.bs_a(), "repeating world");
    REQUIRE(braid_byte_stream_shutdown_write(p.bs_a()) == BRAID_OK);
    REQUIRE(join(t) == BRAID_OK);
    REQUIRE(rd.finals == 1);
    REQUIRE(rd.final_status == BRAID_EEOF);
    REQUIRE(rd.data == "hello, repeating world");
    REQUIRE(rd.chunks >= 8);  // 22 bytes in chunks of at most 3
    REQUIRE_FALSE(rd.chunk_after_final);
    // The read side is free again.
    Reader again;
    REQUIRE(braid_byte_stream_read_start(&t, p.bs_b(), buf, sizeof buf, &Reader::cb, &again) == BRAID_OK);
    REQUIRE(join(t) == BRAID_OK);
    REQUIRE(again.final_status == BRAID_EEOF);
    REQUIRE(again.chunks == 0);
}

TEST_CASE("capi_byte_stream.repeating read: read_stop inside the callback delivers no further chunk") {
    Rt r;
    Pair p(r.rt);
    write_all(p.bs_a(), "abc");  // queued before the read starts: three chunks of one byte are ready
    Reader rd;
    rd.on_chunk = [](Reader* self) { EXPECT_ANYWHERE(braid_byte_stream_read_stop(self->bs) == BRAID_OK); };
    rd.bs = p.bs_b();
    char buf[1];
    braid_task* t = nullptr;
    REQUIRE(braid_byte_stream_read_start(&t, p.bs_b(), buf, sizeof buf, &Reader::cb, &rd) == BRAID_OK);
    REQUIRE(join(t) == BRAID_ECANCELED);  // a stopped operation's task ends cancelled
    REQUIRE(rd.chunks == 1);
    REQUIRE(rd.data == "a");
    REQUIRE(rd.finals == 1);
    REQUIRE(rd.final_status == BRAID_ECANCELED);
    // Nothing else was consumed: a one-shot read gets the rest.
    char rest[2];
    IoResult got;
    REQUIRE(braid_byte_stream_read_exact(&t, p.bs_b(), rest, 2, &IoResult::cb, &got) == BRAID_OK);
    REQUIRE(join(t) == BRAID_OK);
    REQUIRE(got.status == BRAID_OK);
    REQUIRE(std::string(rest, 2) == "bc");
}

TEST_CASE("capi_byte_stream.repeating read: read_stop and braid_task_abort from another thread") {
    Rt r;
    Pair p(r.rt);
    char buf[8];
    SECTION("read_stop") {
        Reader rd;
        braid_task* t = nullptr;
        REQUIRE(braid_byte_stream_read_start(&t, p.bs_b(), buf, sizeof buf, &Reader::cb, &rd) == BRAID_OK);
        std::thread other([&] { REQUIRE(braid_byte_stream_read_stop(p.bs_b()) == BRAID_OK); });
        other.join();
        REQUIRE(join(t) == BRAID_ECANCELED);
        REQUIRE(rd.finals == 1);
        REQUIRE(rd.final_status == BRAID_ECANCELED);
        REQUIRE(rd.chunks == 0);
    }
    SECTION("abort through the task") {
        Reader rd;
        braid_task* t = nullptr;
        REQUIRE(braid_byte_stream_read_start(&t, p.bs_b(), buf, sizeof buf, &Reader::cb, &rd) == BRAID_OK);
        REQUIRE(braid_task_abort(t) == BRAID_OK);
        REQUIRE(join(t) == BRAID_ECANCELED);
        REQUIRE(rd.finals == 1);
        REQUIRE(rd.final_status == BRAID_ECANCELED);
    }
    SECTION("stopped while data streams in") {
        // The writer keeps the reader busy; the stop still ends it, with one
        // final call and no chunk after it.
        Reader rd;
        braid_task* t = nullptr;
        REQUIRE(braid_byte_stream_read_start(&t, p.bs_b(), buf, sizeof buf, &Reader::cb, &rd) == BRAID_OK);
        write_all(p.bs_a(), "some bytes before the stop");
        REQUIRE(braid_byte_stream_read_stop(p.bs_b()) == BRAID_OK);
        REQUIRE(join(t) == BRAID_ECANCELED);
        REQUIRE(rd.finals == 1);
        REQUIRE(rd.final_status == BRAID_ECANCELED);
        REQUIRE_FALSE(rd.chunk_after_final);
    }
}

TEST_CASE("capi_byte_stream.repeating read: closing or freeing the handle inside the callback") {
    Rt r;
    char buf[1];
    SECTION("close") {
        Pair p(r.rt);
        write_all(p.bs_a(), "xy");
        Reader rd;
        rd.bs = p.bs_b();
        rd.on_chunk = [](Reader* self) { EXPECT_ANYWHERE(braid_byte_stream_close(self->bs) == BRAID_OK); };
        braid_task* t = nullptr;
        REQUIRE(braid_byte_stream_read_start(&t, p.bs_b(), buf, sizeof buf, &Reader::cb, &rd) == BRAID_OK);
        REQUIRE(join(t) == BRAID_OK);
        REQUIRE(rd.chunks == 1);
        REQUIRE(rd.final_status == BRAID_ECLOSED);
    }
    SECTION("free, and free the operation's task") {
        braid_unix_stream *a = nullptr, *b = nullptr;
        REQUIRE(braid_unix_stream_pair(&a, &b, r.rt) == BRAID_OK);
        write_all(braid_unix_stream_as_byte_stream(a), "xy");
        struct Ctx {
            Reader rd;
            braid_unix_stream* s = nullptr;
            braid_task* op = nullptr;  // written before the operation can run
            std::promise<void> final_call;
            static void cb(void* p, int st, const void* d, size_t n) {
                auto* c = static_cast<Ctx*>(p);
                Reader::cb(&c->rd, st, d, n);
                if (st == BRAID_OK) {
                    braid_unix_stream_free(c->s);
                    braid_task_free(c->op);
                } else {
                    c->final_call.set_value();
                }
            }
        } ctx;
        ctx.s = b;
        auto fin = ctx.final_call.get_future();
        REQUIRE(braid_byte_stream_read_start(&ctx.op, braid_unix_stream_as_byte_stream(b), buf, sizeof buf, &Ctx::cb,
                                             &ctx) == BRAID_OK);
        fin.wait();
        REQUIRE(ctx.rd.chunks == 1);
        REQUIRE(ctx.rd.finals == 1);
        REQUIRE(ctx.rd.final_status == BRAID_ECLOSED);
        braid_unix_stream_free(a);
    }
}

TEST_CASE("capi_byte_stream.repeating read: the peer resets the connection") {
    Rt r;
    Listener l(r.rt);
    braid_tcp_stream *server = nullptr, *client = nullptr;
    tcp_pair(r.rt, l, &server, &client);
    Reader rd;
    char buf[16];
    braid_task* t = nullptr;
    REQUIRE(braid_byte_stream_read_start(&t, braid_tcp_stream_as_byte_stream(server), buf, sizeof buf, &Reader::cb,
                                         &rd) == BRAID_OK);
    write_all(braid_tcp_stream_as_byte_stream(client), "before the reset");
    // SO_LINGER 0: close sends RST instead of FIN.
    linger lg{1, 0};
    REQUIRE(::setsockopt(braid_tcp_stream_fd(client), SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    braid_tcp_stream_free(client);
    REQUIRE(join(t) == BRAID_OK);
    REQUIRE(rd.finals == 1);
    // The bytes sent before may or may not have been read before the reset
    // discarded them; the end is the reset.
    REQUIRE(rd.final_status == BRAID_ECONNRESET);
    REQUIRE(std::string("before the reset").rfind(rd.data, 0) == 0);
    braid_tcp_stream_free(server);
}

namespace {
// What a repeating accept's callback saw; stops itself after `stop_after`
// connections (0: never).
struct Acceptor {
    std::atomic<int> accepted{0};
    std::atomic<int> finals{0};
    std::atomic<int> final_status{1000};
    std::atomic<bool> after_final{false};
    int stop_after = 0;
    braid_tcp_listener* l = nullptr;
    static void cb(void* p, int st, braid_tcp_stream* s) {
        auto* a = static_cast<Acceptor*>(p);
        if (a->finals.load()) a->after_final = true;
        if (st == BRAID_OK) {
            EXPECT_ANYWHERE(s != nullptr);
            braid_tcp_stream_free(s);
            int n = a->accepted.fetch_add(1) + 1;
            if (a->stop_after && n == a->stop_after) EXPECT_ANYWHERE(braid_tcp_listener_accept_stop(a->l) == BRAID_OK);
            return;
        }
        EXPECT_ANYWHERE(s == nullptr);
        a->final_status.store(st);
        a->finals.fetch_add(1);
    }
};

// Connects and waits for the connection to be established.
braid_tcp_stream* connect_to(braid_runtime* rt, Listener& l) {
    StreamResult con;
    braid_task* t = nullptr;
    REQUIRE(braid_tcp_connect(&t, rt, reinterpret_cast<sockaddr*>(&l.addr), l.len, &StreamResult::cb, &con) ==
            BRAID_OK);
    REQUIRE(join(t) == BRAID_OK);
    REQUIRE(con.status == BRAID_OK);
    return con.stream;
}
}  // namespace

TEST_CASE("capi_byte_stream.repeating accept: a callback per connection, stopped from inside it") {
    Rt r;
    Listener l(r.rt);
    // One connection queued before the accept starts, two after.
    braid_tcp_stream* c[3] = {};
    c[0] = connect_to(r.rt, l);
    Acceptor a;
    a.l = l.l;
    a.stop_after = 2;  // the third connection stays queued
    braid_task* t = nullptr;
    REQUIRE(braid_tcp_listener_accept_start(&t, l.l, &Acceptor::cb, &a) == BRAID_OK);
    // Still accepting (it stops at the second connection, not made yet): a
    // second accept on the listener is refused.
    StreamResult refused;
    REQUIRE(braid_tcp_listener_accept(nullptr, l.l, &StreamResult::cb, &refused) == BRAID_EBUSY);
    for (int i = 1; i < 3; ++i) c[i] = connect_to(r.rt, l);
    REQUIRE(join(t) == BRAID_ECANCELED);
    REQUIRE(a.accepted == 2);
    REQUIRE(a.finals == 1);
    REQUIRE(a.final_status == BRAID_ECANCELED);
    REQUIRE_FALSE(a.after_final);
    // The third is still there for the next accept.
    StreamResult third;
    REQUIRE(braid_tcp_listener_accept(&t, l.l, &StreamResult::cb, &third) == BRAID_OK);
    REQUIRE(join(t) == BRAID_OK);
    REQUIRE(third.status == BRAID_OK);
    braid_tcp_stream_free(third.stream);
    for (auto* s : c) braid_tcp_stream_free(s);
}

TEST_CASE("capi_byte_stream.repeating accept: stopped from another thread, or by closing the listener") {
    Rt r;
    Listener l(r.rt);
    Acceptor a;
    a.l = l.l;
    braid_task* t = nullptr;
    REQUIRE(braid_tcp_listener_accept_start(&t, l.l, &Acceptor::cb, &a) == BRAID_OK);
    braid_tcp_stream* c = connect_to(r.rt, l);
    SECTION("accept_stop from another thread") {
        std::thread other([&] { REQUIRE(braid_tcp_listener_accept_stop(l.l) == BRAID_OK); });
        other.join();
        REQUIRE(join(t) == BRAID_ECANCELED);
        REQUIRE(a.final_status == BRAID_ECANCELED);
    }
    SECTION("close") {
        REQUIRE(braid_tcp_listener_close(l.l) == BRAID_OK);
        REQUIRE(join(t) == BRAID_OK);
        REQUIRE(a.final_status == BRAID_ECLOSED);
    }
    REQUIRE(a.finals == 1);
    REQUIRE(a.accepted <= 1);
    REQUIRE_FALSE(a.after_final);
    braid_tcp_stream_free(c);
}

TEST_CASE("capi_byte_stream.repeating accept: a failed accept is reported and the callback decides") {
    Rt r;
    Listener l(r.rt);
    braid_tcp_stream* c = connect_to(r.rt, l);
    // Out of file descriptors: the accept fails with BRAID_EMFILE.
    rlimit old{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &old) == 0);
    int fds = 0;
    {
        DIR* d = opendir("/proc/self/fd");
        REQUIRE(d != nullptr);
        while (dirent* e = readdir(d))
            if (e->d_name[0] != '.') ++fds;
        closedir(d);
    }
    struct Failing {
        std::atomic<int> emfile{0};
        std::atomic<int> final_status{1000};
        braid_tcp_listener* l = nullptr;
        static void cb(void* p, int st, braid_tcp_stream* s) {
            auto* f = static_cast<Failing*>(p);
            if (st == BRAID_EMFILE) {
                EXPECT_ANYWHERE(s == nullptr);
                if (f->emfile.fetch_add(1) + 1 == 3) EXPECT_ANYWHERE(braid_tcp_listener_accept_stop(f->l) == BRAID_OK);
                return;  // not stopped yet: it tries again
            }
            if (st == BRAID_OK) {
                braid_tcp_stream_free(s);
                return;
            }
            f->final_status.store(st);
        }
    } f;
    f.l = l.l;
    rlimit lim = old;
    lim.rlim_cur = rlim_t(fds);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &lim) == 0);
    // Fill any hole below the limit: then no fd is left at all.
    std::vector<int> fillers;
    for (int fd; fillers.size() < 4096 && (fd = ::dup(0)) >= 0;) fillers.push_back(fd);
    braid_task* t = nullptr;
    int rc = braid_tcp_listener_accept_start(&t, l.l, &Failing::cb, &f);
    int joined = rc == BRAID_OK ? join(t) : rc;
    for (int fd : fillers) ::close(fd);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &old) == 0);
    REQUIRE(rc == BRAID_OK);
    REQUIRE(joined == BRAID_ECANCELED);
    REQUIRE(f.emfile == 3);
    REQUIRE(f.final_status == BRAID_ECANCELED);
    // The connection stayed queued.
    StreamResult later;
    REQUIRE(braid_tcp_listener_accept(&t, l.l, &StreamResult::cb, &later) == BRAID_OK);
    REQUIRE(join(t) == BRAID_OK);
    REQUIRE(later.status == BRAID_OK);
    braid_tcp_stream_free(later.stream);
    braid_tcp_stream_free(c);
}

TEST_CASE("capi_byte_stream.repeating accept on a Unix listener") {
    Rt r;
    std::string path = "@braid-capi-byte-stream-" + std::to_string(::getpid());
    braid_unix_listener* l = nullptr;
    REQUIRE(braid_unix_listener_bind(&l, r.rt, path.c_str(), 0) == BRAID_OK);
    struct Count {
        std::atomic<int> accepted{0};
        std::atomic<int> final_status{1000};
        braid_unix_listener* l = nullptr;
        static void cb(void* p, int st, braid_unix_stream* s) {
            auto* c = static_cast<Count*>(p);
            if (st != BRAID_OK) {
                c->final_status.store(st);
                return;
            }
            braid_unix_stream_free(s);
            if (c->accepted.fetch_add(1) + 1 == 2) EXPECT_ANYWHERE(braid_unix_listener_accept_stop(c->l) == BRAID_OK);
        }
    } count;
    count.l = l;
    braid_task* t = nullptr;
    REQUIRE(braid_unix_listener_accept_start(&t, l, &Count::cb, &count) == BRAID_OK);
    braid_unix_stream* c[2] = {};
    for (auto*& s : c) {
        struct Con {
            std::atomic<braid_unix_stream*> s{nullptr};
            static void cb(void* p, int st, braid_unix_stream* s) {
                EXPECT_ANYWHERE(st == BRAID_OK);
                static_cast<Con*>(p)->s = s;
            }
        } con;
        braid_task* tc = nullptr;
        REQUIRE(braid_unix_connect(&tc, r.rt, path.c_str(), &Con::cb, &con) == BRAID_OK);
        REQUIRE(join(tc) == BRAID_OK);
        s = con.s;
    }
    REQUIRE(join(t) == BRAID_ECANCELED);
    REQUIRE(count.accepted == 2);
    REQUIRE(count.final_status == BRAID_ECANCELED);
    REQUIRE(braid_unix_listener_accept_start(nullptr, nullptr, &Count::cb, &count) == BRAID_EINVAL);
    REQUIRE(braid_unix_listener_accept_stop(nullptr) == BRAID_EINVAL);
    for (auto* s : c) braid_unix_stream_free(s);
    braid_unix_listener_free(l);
}

TEST_CASE("capi_byte_stream.braid_tcp_connect_host: localhost, and a name that does not resolve") {
    Rt r;
    SECTION("localhost") {
        // Bound on 127.0.0.1 only: if localhost resolves to ::1 first, that
        // address is refused and the next one connects.
        Listener l(r.rt);
        StreamResult con, acc;
        braid_task *tc = nullptr, *ta = nullptr;
        REQUIRE(braid_tcp_listener_accept(&ta, l.l, &StreamResult::cb, &acc) == BRAID_OK);
        REQUIRE(braid_tcp_connect_host(&tc, r.rt, "localhost", l.port(), &StreamResult::cb, &con) == BRAID_OK);
        REQUIRE(join(tc) == BRAID_OK);
        REQUIRE(join(ta) == BRAID_OK);
        REQUIRE(con.status == BRAID_OK);
        REQUIRE(acc.status == BRAID_OK);
        write_all(braid_tcp_stream_as_byte_stream(con.stream), "hi");
        char buf[2];
        IoResult got;
        REQUIRE(braid_byte_stream_read_exact(&ta, braid_tcp_stream_as_byte_stream(acc.stream), buf, 2, &IoResult::cb,
                                             &got) == BRAID_OK);
        REQUIRE(join(ta) == BRAID_OK);
        REQUIRE(std::string(buf, 2) == "hi");
        braid_tcp_stream_free(con.stream);
        braid_tcp_stream_free(acc.stream);
    }
    SECTION("a reserved .invalid name") {
        StreamResult con;
        braid_task* tc = nullptr;
        REQUIRE(braid_tcp_connect_host(&tc, r.rt, "no-such-host.invalid", 80, &StreamResult::cb, &con) == BRAID_OK);
        REQUIRE(join(tc) == BRAID_OK);
        REQUIRE(con.calls == 1);
        REQUIRE(con.status == BRAID_ENOTFOUND);
        REQUIRE(con.stream == nullptr);
    }
    SECTION("nobody listens: the first error") {
        Listener l(r.rt);
        int port = l.port();
        braid_tcp_listener_close(l.l);
        StreamResult con;
        braid_task* tc = nullptr;
        REQUIRE(braid_tcp_connect_host(&tc, r.rt, "127.0.0.1", port, &StreamResult::cb, &con) == BRAID_OK);
        REQUIRE(join(tc) == BRAID_OK);
        REQUIRE(con.status == BRAID_ECONNREFUSED);
    }
    SECTION("bad arguments") {
        StreamResult con;
        REQUIRE(braid_tcp_connect_host(nullptr, r.rt, nullptr, 80, &StreamResult::cb, &con) == BRAID_EINVAL);
        REQUIRE(braid_tcp_connect_host(nullptr, r.rt, "", 80, &StreamResult::cb, &con) == BRAID_EINVAL);
        REQUIRE(braid_tcp_connect_host(nullptr, r.rt, "localhost", 80, nullptr, &con) == BRAID_EINVAL);
        REQUIRE(braid_tcp_connect_host(nullptr, r.rt, "localhost", 65536, &StreamResult::cb, &con) == BRAID_ERANGE);
        REQUIRE(braid_tcp_connect_host(nullptr, r.rt, "localhost", -1, &StreamResult::cb, &con) == BRAID_ERANGE);
        std::string too_long(300, 'a');
        REQUIRE(braid_tcp_connect_host(nullptr, r.rt, too_long.c_str(), 80, &StreamResult::cb, &con) ==
                BRAID_EINVAL);
        REQUIRE(con.calls == 0);
    }
}

TEST_CASE("capi_byte_stream.braid_tcp_listener_bind_host: localhost, a numeric host, failures, bad arguments") {
    Rt r;
    using ListenerResult = capi_test::StreamResultOf<braid_tcp_listener>;
    SECTION("localhost:0 binds a loopback listener that accepts") {
        ListenerResult bound;
        braid_task* tb = nullptr;
        REQUIRE(braid_tcp_listener_bind_host(&tb, r.rt, "localhost", 0, 0, &ListenerResult::cb, &bound) == BRAID_OK);
        REQUIRE(join(tb) == BRAID_OK);
        REQUIRE(bound.calls == 1);
        REQUIRE(bound.status == BRAID_OK);
        braid_tcp_listener* l = bound.stream.load();
        REQUIRE(l != nullptr);
        sockaddr_storage addr{};
        size_t len = 0;
        REQUIRE(braid_tcp_listener_local_addr(l, &addr, &len) == BRAID_OK);
        char text[64];
        REQUIRE(braid_addr_format(text, sizeof text, reinterpret_cast<sockaddr*>(&addr), len) > 0);
        std::string at(text);
        INFO(at);
        REQUIRE((at.rfind("127.0.0.1:", 0) == 0 || at.rfind("[::1]:", 0) == 0));
        StreamResult con, acc;
        braid_task *tc = nullptr, *ta = nullptr;
        REQUIRE(braid_tcp_listener_accept(&ta, l, &StreamResult::cb, &acc) == BRAID_OK);
        REQUIRE(braid_tcp_connect(&tc, r.rt, reinterpret_cast<sockaddr*>(&addr), len, &StreamResult::cb, &con) ==
                BRAID_OK);
        REQUIRE(join(tc) == BRAID_OK);
        REQUIRE(join(ta) == BRAID_OK);
        REQUIRE(con.status == BRAID_OK);
        REQUIRE(acc.status == BRAID_OK);
        braid_tcp_stream_free(con.stream);
        braid_tcp_stream_free(acc.stream);
        braid_tcp_listener_free(l);
    }
    SECTION("a numeric host, and the port taken: the bind's error") {
        ListenerResult first, second;
        braid_task* tb = nullptr;
        REQUIRE(braid_tcp_listener_bind_host(&tb, r.rt, "127.0.0.1", 0, 16, &ListenerResult::cb, &first) ==
                BRAID_OK);
        REQUIRE(join(tb) == BRAID_OK);
        REQUIRE(first.status == BRAID_OK);
        sockaddr_storage addr{};
        size_t len = 0;
        REQUIRE(braid_tcp_listener_local_addr(first.stream, &addr, &len) == BRAID_OK);
        int port = ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
        REQUIRE(braid_tcp_listener_bind_host(&tb, r.rt, "127.0.0.1", port, 0, &ListenerResult::cb, &second) ==
                BRAID_OK);
        REQUIRE(join(tb) == BRAID_OK);
        REQUIRE(second.calls == 1);
        REQUIRE(second.status == BRAID_EADDRINUSE);
        REQUIRE(second.stream == nullptr);
        braid_tcp_listener_free(first.stream);
    }
    SECTION("a reserved .invalid name") {
        ListenerResult bound;
        braid_task* tb = nullptr;
        REQUIRE(braid_tcp_listener_bind_host(&tb, r.rt, "no-such-host.invalid", 0, 0, &ListenerResult::cb, &bound) ==
                BRAID_OK);
        REQUIRE(join(tb) == BRAID_OK);
        REQUIRE(bound.calls == 1);
        REQUIRE(bound.status == BRAID_ENOTFOUND);
        REQUIRE(bound.stream == nullptr);
    }
    SECTION("bad arguments: an error returned, no callback, *out NULL") {
        ListenerResult bound;
        braid_task* tb = reinterpret_cast<braid_task*>(&bound);
        REQUIRE(braid_tcp_listener_bind_host(&tb, r.rt, nullptr, 0, 0, &ListenerResult::cb, &bound) == BRAID_EINVAL);
        REQUIRE(tb == nullptr);
        REQUIRE(braid_tcp_listener_bind_host(nullptr, r.rt, "", 0, 0, &ListenerResult::cb, &bound) == BRAID_EINVAL);
        REQUIRE(braid_tcp_listener_bind_host(nullptr, r.rt, "localhost", 0, 0, nullptr, &bound) == BRAID_EINVAL);
        REQUIRE(braid_tcp_listener_bind_host(nullptr, r.rt, "localhost", 65536, 0, &ListenerResult::cb, &bound) ==
                BRAID_ERANGE);
        REQUIRE(braid_tcp_listener_bind_host(nullptr, r.rt, "localhost", -1, 0, &ListenerResult::cb, &bound) ==
                BRAID_ERANGE);
        std::string too_long(300, 'a');
        REQUIRE(braid_tcp_listener_bind_host(nullptr, r.rt, too_long.c_str(), 0, 0, &ListenerResult::cb, &bound) ==
                BRAID_EINVAL);
        // No runtime given and none running on this thread.
        REQUIRE(braid_tcp_listener_bind_host(nullptr, nullptr, "localhost", 0, 0, &ListenerResult::cb, &bound) ==
                BRAID_EINVAL);
        REQUIRE(bound.calls == 0);
    }
}

}  // namespace test_capi_byte_stream
