// Network I/O written the way Tokio users write it: accept and read
// awaitables kept across select loops next to channels, tokens and
// intervals; split halves used by two tasks; half-close; reads under a
// timeout; read_exact aborted mid-transfer; streams and listeners closed
// under a waiting task; an echo server of many connections shut down by a
// token; UDP and Unix sockets in select loops.  Nothing may be lost when
// another branch wins.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "io_support.hpp"
#include "support.hpp"

namespace test_io_idioms {

using namespace std::chrono_literals;
using braid::net::SocketAddr;
using braid::net::TcpListener;
using braid::net::TcpStream;
using braid::net::UdpSocket;
using braid::net::UnixListener;
using braid::net::UnixStream;

namespace {

std::string chunk_of(int i) { return "chunk-" + std::to_string(i) + std::string(std::size_t(i % 5), '.'); }

// Writes `n` chunks; before each, a message on `side` when i is even (so
// the select's other branch has something to win with); waits for the
// reader's ack of each chunk before the next.
braid::Task<> chunk_writer(TcpStream* s, braid::mpsc::Sender<int>* side, braid::mpsc::Receiver<int>* acks, int n) {
    for (int i = 0; i < n; ++i) {
        if (i % 2 == 0) (void)co_await side->send(i);
        std::string c = chunk_of(i);
        co_await s->write_all(c);
        auto a = co_await acks->recv();
        EXPECT(a && *a == i);
    }
}

struct KeptReadResult {
    std::vector<std::string> chunks;
    int side_msgs = 0;
};

// Tokio: `let read = s.read(&mut buf); loop { select! { n = &mut read => ..,
// m = rx.recv() => .. } }` -- the read awaitable is kept (by lvalue) and
// raced again after it completed: each completion is a new read into the
// start of the buffer.
braid::Task<KeptReadResult> kept_read_loop(TcpStream* s, braid::mpsc::Receiver<int>* side,
                                           braid::mpsc::Sender<int>* acks, int n) {
    KeptReadResult out;
    std::vector<char> buf(256);
    auto rd = s->read(buf);
    std::string pending;
    int next = 0;
    bool side_open = true;
    while (next < n) {
        auto r = co_await braid::select(rd, braid::when(side_open, side->recv()));
        if (r.index() == 1) {
            if (std::get<1>(r)) ++out.side_msgs;
            else side_open = false;
            continue;
        }
        std::size_t got = std::get<0>(r);
        EXPECT(got > 0);
        EXPECT(got <= buf.size());
        pending.append(buf.data(), std::min(got, buf.size()));
        while (next < n && pending.size() >= chunk_of(next).size()) {
            std::string c = chunk_of(next);
            out.chunks.push_back(pending.substr(0, c.size()));
            pending.erase(0, c.size());
            (void)co_await acks->send(next);
            ++next;
        }
    }
    co_return out;
}

// Accepts every connection with one kept accept awaitable, raced against a
// channel of side messages and a shutdown token.
struct AcceptLoopResult {
    int accepted = 0;
    int side_msgs = 0;
    std::vector<TcpStream> conns;
};

braid::Task<AcceptLoopResult> kept_accept_loop(TcpListener* l, braid::mpsc::Receiver<int>* side,
                                               braid::CancellationToken tok) {
    AcceptLoopResult out;
    auto acc = l->accept();
    auto stop = tok.cancelled();
    bool side_open = true;
    for (;;) {
        auto r = co_await braid::select(acc, stop, braid::when(side_open, side->recv()));
        if (r.index() == 1) break;
        if (r.index() == 2) {
            if (std::get<2>(r)) ++out.side_msgs;
            else side_open = false;
            continue;
        }
        ++out.accepted;
        out.conns.push_back(std::move(std::get<0>(r).first));
    }
    co_return out;
}

braid::Task<> connect_n(SocketAddr addr, braid::mpsc::Sender<int> side, int n, std::vector<TcpStream>* keep) {
    for (int i = 0; i < n; ++i) {
        (void)co_await side.send(i);
        auto c = co_await TcpStream::connect(addr);
        keep->push_back(std::move(c));
    }
}

// Reads until end of file; the bytes.
template <class R>
braid::Task<std::string> read_all(R* r) {
    std::string out;
    std::vector<char> buf(4096);
    for (;;) {
        std::size_t n = co_await r->read(buf);
        if (n == 0) co_return out;
        out.append(buf.data(), n);
    }
}

// One connection of the echo server: echoes until EOF or the token.
braid::Task<> serve_conn(TcpStream s, braid::CancellationToken tok, std::atomic<int>* served,
                         std::atomic<int>* ended) {
    std::vector<char> buf(1024);
    std::size_t total = 0;
    for (;;) {
        auto rd = s.read(buf);
        auto stop = tok.cancelled();
        auto r = co_await braid::select(std::move(rd), std::move(stop));
        if (r.index() == 1) break;
        std::size_t n = std::get<0>(r);
        if (n == 0) break;
        co_await s.write_all(braid::io::ConstBuffer(buf.data(), n));
        total += n;
    }
    if (total > 0) served->fetch_add(1);
    ended->fetch_add(1);
}

braid::Task<int> echo_server(TcpListener l, braid::CancellationToken tok, braid::TaskTracker* tracker,
                             std::atomic<int>* served, std::atomic<int>* ended) {
    int accepted = 0;
    auto acc = l.accept();
    auto stop = tok.cancelled();
    for (;;) {
        auto r = co_await braid::select(acc, stop);
        if (r.index() == 1) break;
        ++accepted;
        tracker->spawn(serve_conn(std::move(std::get<0>(r).first), tok.child_token(), served, ended)).detach();
    }
    co_return accepted;
}

braid::Task<bool> echo_client(SocketAddr addr, int id) {
    auto s = co_await TcpStream::connect(addr);
    std::string msg = "client " + std::to_string(id) + " says hello";
    for (int round = 0; round < 3; ++round) {
        co_await s.write_all(msg);
        std::string back(msg.size(), '\0');
        co_await s.read_exact(back);
        if (back != msg) co_return false;
    }
    co_return true;
}

}  // namespace

TEST_CASE("io_idioms.io idioms: a kept TCP read raced against a channel returns each read at the start of the buffer") {
    auto rt = braid_test::current_thread_runtime();
    auto res = rt.block_on([]() -> braid::Task<KeptReadResult> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto c = co_await TcpStream::connect(l.local_addr());
        auto [s, peer] = co_await l.accept();
        auto [stx, srx] = braid::mpsc::channel<int>(64);
        auto [atx, arx] = braid::mpsc::channel<int>(64);
        constexpr int kN = 20;
        auto w = braid::spawn(chunk_writer(&c, &stx, &arx, kN));
        auto out = co_await kept_read_loop(&s, &srx, &atx, kN);
        co_await w;
        co_return out;
    }());
    REQUIRE(res.chunks.size() == 20);
    for (int i = 0; i < 20; ++i) CHECK(res.chunks[std::size_t(i)] == chunk_of(i));
}

TEST_CASE("io_idioms.io idioms: a kept read_exact raced again reads the next frame") {
    auto rt = braid_test::current_thread_runtime();
    auto frames = rt.block_on([]() -> braid::Task<std::vector<std::string>> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto c = co_await TcpStream::connect(l.local_addr());
        auto [s, peer] = co_await l.accept();
        auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
        char hdr[4];
        auto rd = s.read_exact(braid::io::MutableBuffer(hdr, sizeof hdr));
        std::vector<std::string> got;
        for (int i = 0; i < 6; ++i) {
            std::string f = "f" + std::to_string(i) + "__";
            tx.send(i);
            co_await c.write_all(f);
            // The channel is ready first: either branch may win; the frame
            // must still be read, exactly once.
            for (;;) {
                auto r = co_await braid::select(rd, rx.recv());
                if (r.index() == 0) break;
            }
            got.emplace_back(hdr, sizeof hdr);
        }
        co_return got;
    }());
    REQUIRE(frames.size() == 6);
    for (int i = 0; i < 6; ++i) CHECK(frames[std::size_t(i)] == "f" + std::to_string(i) + "__");
}

TEST_CASE("io_idioms.io idioms: a kept accept raced against a channel and a token loses no connection") {
    auto rt = braid_test::runtime(2);
    for (int rep = 0; rep < 3; ++rep) {
        auto [accepted, msgs] = rt.block_on([]() -> braid::Task<std::pair<int, int>> {
            auto l = TcpListener::bind("127.0.0.1:0");
            auto [tx, rx] = braid::mpsc::channel<int>(4);
            braid::CancellationToken tok;
            std::vector<TcpStream> clients;
            constexpr int kN = 40;
            auto cl = braid::spawn(connect_n(l.local_addr(), std::move(tx), kN, &clients));
            auto loop = braid::spawn(kept_accept_loop(&l, &rx, tok));
            co_await cl;
            // Every connect completed: each connection was accepted by the
            // loop or waits in the backlog.
            tok.cancel();
            auto out = co_await loop;
            // Side messages the token beat stay in the channel.
            while (rx.try_recv()) ++out.side_msgs;
            // A kept accept that lost to the token took nothing: what is
            // left is still in the backlog.
            int more = 0;
            for (;;) {
                auto r = co_await braid::select_biased(l.accept(), braid::yield_now());
                if (r.index() == 1) break;
                ++more;
            }
            co_return std::make_pair(out.accepted + more, out.side_msgs);
        }());
        REQUIRE(accepted == 40);
        REQUIRE(msgs == 40);
    }
}

TEST_CASE("io_idioms.io idioms: a read that timed out consumed nothing and the next read gets the bytes") {
    auto rt = braid_test::runtime(2);
    auto got = rt.block_on([]() -> braid::Task<std::string> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto c = co_await TcpStream::connect(l.local_addr());
        auto [s, peer] = co_await l.accept();
        std::vector<char> buf(64);
        std::string out;
        for (int i = 0; i < 3; ++i) {
            // Nothing was written yet: this read must time out.
            auto rd = s.read(buf);
            auto r = co_await braid::timeout(5ms, std::move(rd));
            EXPECT(!r.has_value());
            std::string m = "after timeout " + std::to_string(i) + ";";
            co_await c.write_all(m);
            std::string back(m.size(), '\0');
            auto rx = s.read_exact(back);
            auto r2 = co_await braid::timeout(10s, std::move(rx));
            EXPECT(r2);
            out += back;
        }
        co_return out;
    }());
    REQUIRE(got == "after timeout 0;after timeout 1;after timeout 2;");
}

namespace {

braid::Task<std::string> half_reader(braid::io::OwnedReadHalf<TcpStream> rd) { co_return co_await read_all(&rd); }

braid::Task<> half_writer(braid::io::OwnedWriteHalf<TcpStream> wr, int n) {
    for (int i = 0; i < n; ++i) {
        std::string m = "w" + std::to_string(i) + ";";
        co_await wr.write_all(m);
        if (i % 3 == 0) co_await braid::yield_now();
    }
    // Dropping the write half shuts the write side down: the peer reads EOF.
}

// The peer: reads everything to EOF, then writes its answer and closes.
braid::Task<std::string> half_close_peer(TcpStream s, int n) {
    std::string in = co_await read_all(&s);
    std::string expect;
    for (int i = 0; i < n; ++i) expect += "w" + std::to_string(i) + ";";
    EXPECT(in == expect);
    std::string reply = "got " + std::to_string(in.size()) + " bytes";
    co_await s.write_all(reply);
    co_return in;
}

}  // namespace

TEST_CASE("io_idioms.io idioms: into_split halves in two tasks with the write half dropped as a half-close") {
    auto rt = braid_test::runtime(2);
    for (int rep = 0; rep < 3; ++rep) {
        auto [peer_in, reply] = rt.block_on([]() -> braid::Task<std::pair<std::string, std::string>> {
            auto l = TcpListener::bind("127.0.0.1:0");
            auto c = co_await TcpStream::connect(l.local_addr());
            auto [s, addr] = co_await l.accept();
            constexpr int kN = 200;
            auto peer = braid::spawn(half_close_peer(std::move(s), kN));
            auto [rd, wr] = braid::io::into_split(std::move(c));
            auto r = braid::spawn(half_reader(std::move(rd)));
            auto w = braid::spawn(half_writer(std::move(wr), kN));
            co_await w;
            std::string in = co_await peer;
            std::string back = co_await r;
            co_return std::make_pair(in, back);
        }());
        REQUIRE(peer_in.size() > 0);
        REQUIRE(reply == "got " + std::to_string(peer_in.size()) + " bytes");
    }
}

TEST_CASE("io_idioms.io idioms: shutdown is seen as EOF by the peer while the other direction keeps working") {
    auto rt = braid_test::runtime(2);
    auto got = rt.block_on([]() -> braid::Task<std::string> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto c = co_await TcpStream::connect(l.local_addr());
        auto [s, addr] = co_await l.accept();
        co_await c.write_all(std::string_view("request"));
        co_await c.shutdown();
        std::string req = co_await read_all(&s);
        EXPECT(req == "request");
        // The server's direction is still open after the client's half-close.
        for (int i = 0; i < 3; ++i) co_await s.write_all(std::string_view("part;"));
        s.shutdown_write();
        co_return co_await read_all(&c);
    }());
    REQUIRE(got == "part;part;part;");
}

namespace {

braid::Task<int> read_exact_forever(TcpStream s, std::atomic<bool>* started) {
    std::string buf(1 << 16, '\0');
    started->store(true);
    co_await s.read_exact(buf);
    co_return 1;
}

}  // namespace

TEST_CASE("io_idioms.io idioms: a task aborted inside read_exact drops its stream and the peer reads EOF") {
    auto rt = braid_test::current_thread_runtime();
    auto [cancelled, eof] = rt.block_on([]() -> braid::Task<std::pair<bool, bool>> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto c = co_await TcpStream::connect(l.local_addr());
        auto [s, addr] = co_await l.accept();
        std::atomic<bool> started{false};
        auto h = braid::spawn(read_exact_forever(std::move(s), &started));
        // Half of what it waits for, then let it take that half.
        std::string half(1 << 15, 'h');
        co_await c.write_all(half);
        while (!started.load()) co_await braid::yield_now();
        for (int i = 0; i < 10; ++i) co_await braid::yield_now();
        h.abort();
        bool was_cancelled = false;
        try {
            co_await h;
        } catch (const braid::TaskCancelled&) {
            was_cancelled = true;
        }
        // The stream went with the task: the peer sees its end (EOF, or a
        // reset if the bytes had not all been taken).
        std::vector<char> buf(16);
        int code = co_await braid_test::code_of(c.read(buf));
        bool closed = code == 0 || code == BRAID_ECONNRESET;
        co_return std::make_pair(was_cancelled, closed);
    }());
    REQUIRE(cancelled);
    REQUIRE(eof);
}

namespace {

braid::Task<int> wait_read(TcpStream* s, std::atomic<bool>* started) {
    std::vector<char> buf(16);
    started->store(true);
    co_return co_await braid_test::code_of(s->read(buf));
}

braid::Task<int> wait_accept(TcpListener* l, std::atomic<bool>* started) {
    started->store(true);
    co_return co_await braid_test::code_of(l->accept());
}

}  // namespace

TEST_CASE("io_idioms.io idioms: closing a stream under a read waiting in another task wakes it with ECLOSED") {
    auto rt = braid_test::current_thread_runtime();
    auto code = rt.block_on([]() -> braid::Task<int> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto c = co_await TcpStream::connect(l.local_addr());
        auto [s, addr] = co_await l.accept();
        std::atomic<bool> started{false};
        auto h = braid::spawn(wait_read(&s, &started));
        while (!started.load()) co_await braid::yield_now();
        co_await braid::yield_now();
        s.close();
        auto r = co_await braid::timeout(10s, h);
        co_return r ? *r : -1;
    }());
    REQUIRE(code == BRAID_ECLOSED);
}

TEST_CASE("io_idioms.io idioms: closing a listener under an accept waiting in another task wakes it with ECLOSED") {
    auto rt = braid_test::current_thread_runtime();
    auto code = rt.block_on([]() -> braid::Task<int> {
        auto l = TcpListener::bind("127.0.0.1:0");
        std::atomic<bool> started{false};
        auto h = braid::spawn(wait_accept(&l, &started));
        while (!started.load()) co_await braid::yield_now();
        co_await braid::yield_now();
        l.close();
        auto r = co_await braid::timeout(10s, h);
        co_return r ? *r : -1;
    }());
    REQUIRE(code == BRAID_ECLOSED);
}

TEST_CASE("io_idioms.io idioms: an echo server of many connections shut down by a token serves every connection") {
    auto rt = braid_test::runtime(4);
    for (int rep = 0; rep < 2; ++rep) {
        std::atomic<int> served{0}, ended{0};
        constexpr int kN = 64;
        using Out = std::tuple<int, int, std::size_t>;
        auto body = [](std::atomic<int>* served, std::atomic<int>* ended) -> braid::Task<Out> {
            auto l = TcpListener::bind("127.0.0.1:0");
            SocketAddr addr = l.local_addr();
            braid::CancellationToken tok;
            braid::TaskTracker tracker;
            auto server = braid::spawn(echo_server(std::move(l), tok, &tracker, served, ended));
            braid::JoinSet<bool> clients;
            for (int i = 0; i < kN; ++i) clients.spawn(echo_client(addr, i));
            int ok = 0;
            while (auto r = co_await clients.join_next()) ok += *r ? 1 : 0;
            tok.cancel();
            int accepted = co_await server;
            tracker.close();
            co_await tracker.wait();
            co_return std::make_tuple(accepted, ok, tracker.len());
        };
        auto [accepted, ok, tracked] = rt.block_on(body(&served, &ended));
        REQUIRE(ok == kN);
        REQUIRE(accepted == kN);
        REQUIRE(served.load() == kN);
        REQUIRE(ended.load() == kN);
        REQUIRE(tracked == 0);
    }
}

namespace {

braid::Task<> udp_sender(UdpSocket* s, SocketAddr to, braid::mpsc::Sender<int> side, braid::mpsc::Receiver<int>* acks,
                         int n) {
    for (int i = 0; i < n; ++i) {
        if (i % 2 == 0) (void)co_await side.send(i);
        std::string d = "dgram " + std::to_string(i);
        co_await s->send_to(d, to);
        auto a = co_await acks->recv();
        EXPECT(a && *a == i);
    }
}

}  // namespace

TEST_CASE("io_idioms.io idioms: a kept UDP recv_from raced against a channel and an interval loses no datagram") {
    auto rt = braid_test::runtime(2);
    auto [got, from_ok] = rt.block_on([]() -> braid::Task<std::pair<std::vector<std::string>, bool>> {
        auto a = UdpSocket::bind("127.0.0.1:0");
        auto b = UdpSocket::bind("127.0.0.1:0");
        auto [stx, srx] = braid::mpsc::channel<int>(64);
        auto [atx, arx] = braid::mpsc::channel<int>(64);
        constexpr int kN = 30;
        auto w = braid::spawn(udp_sender(&a, b.local_addr(), std::move(stx), &arx, kN));
        std::vector<char> buf(256);
        auto rd = b.recv_from(buf);
        auto iv = braid::interval(1ms);
        std::vector<std::string> out;
        bool from_ok = true;
        bool side_open = true;
        while (out.size() < std::size_t(kN)) {
            auto r = co_await braid::select(rd, iv.tick(), braid::when(side_open, srx.recv()));
            if (r.index() == 2 && !std::get<2>(r)) side_open = false;
            if (r.index() != 0) continue;
            auto [n, from] = std::get<0>(r);
            if (!(from == a.local_addr())) from_ok = false;
            out.emplace_back(buf.data(), n);
            (void)co_await atx.send(int(out.size()) - 1);
        }
        co_await w;
        co_return std::make_pair(out, from_ok);
    }());
    REQUIRE(from_ok);
    REQUIRE(got.size() == 30);
    for (int i = 0; i < 30; ++i) CHECK(got[std::size_t(i)] == "dgram " + std::to_string(i));
}

namespace {

braid::Task<std::string> unix_client(std::string path, int id) {
    auto s = co_await UnixStream::connect(path);
    std::string m = "unix " + std::to_string(id);
    co_await s.write_all(m);
    co_await s.shutdown();
    co_return co_await read_all(&s);
}

braid::Task<> unix_serve(UnixStream s) {
    std::string in = co_await read_all(&s);
    std::string reply = "re: " + in;
    co_await s.write_all(reply);
}

}  // namespace

TEST_CASE("io_idioms.io idioms: a kept Unix accept in a select loop with half-closed connections") {
    braid_test::TempDir dir;
    std::string path = dir.path + "/idioms.sock";
    auto rt = braid_test::runtime(2);
    auto replies = rt.block_on([](std::string path) -> braid::Task<std::vector<std::string>> {
        auto l = UnixListener::bind(path);
        braid::CancellationToken tok;
        braid::TaskTracker tracker;
        constexpr int kN = 16;
        braid::JoinSet<std::string> clients;
        for (int i = 0; i < kN; ++i) clients.spawn(unix_client(path, i));
        auto acc = l.accept();
        auto stop = tok.cancelled();
        int accepted = 0;
        auto done = braid::spawn([](braid::JoinSet<std::string>* cs, braid::CancellationToken t)
                                     -> braid::Task<std::vector<std::string>> {
            std::vector<std::string> out;
            while (auto r = co_await cs->join_next()) out.push_back(*r);
            t.cancel();
            co_return out;
        }(&clients, tok));
        for (;;) {
            auto r = co_await braid::select(acc, stop);
            if (r.index() == 1) break;
            ++accepted;
            tracker.spawn(unix_serve(std::move(std::get<0>(r).first))).detach();
        }
        EXPECT(accepted == kN);
        tracker.close();
        co_await tracker.wait();
        co_return co_await done;
    }(path));
    REQUIRE(replies.size() == 16);
    std::vector<std::string> sorted = replies;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::string> want;
    for (int i = 0; i < 16; ++i) want.push_back("re: unix " + std::to_string(i));
    std::sort(want.begin(), want.end());
    REQUIRE(sorted == want);
}

namespace {

braid::Task<int> acceptor(TcpListener* l, braid::CancellationToken tok, braid::mpsc::UnboundedSender<TcpStream> out) {
    int mine = 0;
    auto stop = tok.cancelled();
    for (;;) {
        auto acc = l->accept();
        auto r = co_await braid::select(std::move(acc), stop);
        if (r.index() == 1) break;
        ++mine;
        out.send(std::move(std::get<0>(r).first));
    }
    co_return mine;
}

braid::Task<> connector(SocketAddr addr, int n, std::atomic<int>* connected) {
    std::vector<TcpStream> cs;
    for (int i = 0; i < n; ++i) {
        cs.push_back(co_await TcpStream::connect(addr));
        connected->fetch_add(1);
    }
    // Each connection is kept open until the peer is done with it.
    for (auto& c : cs) {
        char b;
        (void)co_await braid_test::code_of(c.read(braid::io::MutableBuffer(&b, 1)));
    }
}

}  // namespace

TEST_CASE("io_idioms.io idioms: several tasks accepting on one listener share every connection") {
    auto rt = braid_test::runtime(4);
    for (int rep = 0; rep < 3; ++rep) {
        auto [sum, total] = rt.block_on([]() -> braid::Task<std::pair<int, int>> {
            auto l = TcpListener::bind("127.0.0.1:0");
            braid::CancellationToken tok;
            std::atomic<int> connected{0};
            auto [tx, rx] = braid::mpsc::unbounded_channel<TcpStream>();
            constexpr int kAcceptors = 4, kConnectors = 4, kPer = 25;
            std::vector<braid::JoinHandle<int>> acc;
            for (int i = 0; i < kAcceptors; ++i) acc.push_back(braid::spawn(acceptor(&l, tok, tx)));
            std::vector<braid::JoinHandle<void>> conns;
            for (int i = 0; i < kConnectors; ++i)
                conns.push_back(braid::spawn(connector(l.local_addr(), kPer, &connected)));
            // Every connection reaches an acceptor: no wake of the listener
            // is lost between the tasks waiting on it (a lost one hangs
            // here until the 20s guard).
            std::vector<TcpStream> keep;
            while (keep.size() < std::size_t(kConnectors * kPer)) {
                auto r = co_await braid::timeout(20s, rx.recv());
                if (!r || !*r) break;
                keep.push_back(std::move(**r));
            }
            int total = int(keep.size());
            tok.cancel();
            int sum = 0;
            for (auto& a : acc) sum += co_await a;
            keep.clear();  // the connectors read EOF and end
            for (auto& c : conns) co_await c;
            co_return std::make_pair(sum, total);
        }());
        REQUIRE(total == 100);
        REQUIRE(sum == 100);
    }
}

namespace {

braid::Task<std::size_t> turn_reader(TcpStream* s, std::atomic<std::size_t>* total, std::size_t want) {
    std::vector<char> buf(7);
    std::size_t mine = 0;
    while (total->load() < want) {
        auto rd = s->read(buf);
        auto r = co_await braid::timeout(20s, std::move(rd));
        if (!r || *r == 0) break;
        mine += *r;
        total->fetch_add(*r);
        for (std::size_t i = 0; i < *r; ++i) EXPECT(buf[i] == 'z');
    }
    co_return mine;
}

}  // namespace

TEST_CASE("io_idioms.io idioms: two tasks reading one stream take turns and lose no byte") {
    auto rt = braid_test::runtime(4);
    for (int rep = 0; rep < 3; ++rep) {
        auto [a, b, total] = rt.block_on([]() -> braid::Task<std::tuple<std::size_t, std::size_t, std::size_t>> {
            auto l = TcpListener::bind("127.0.0.1:0");
            auto c = co_await TcpStream::connect(l.local_addr());
            auto [s, addr] = co_await l.accept();
            constexpr std::size_t kWant = 20000;
            std::atomic<std::size_t> total{0};
            auto r1 = braid::spawn(turn_reader(&s, &total, kWant));
            auto r2 = braid::spawn(turn_reader(&s, &total, kWant));
            std::string piece(13, 'z');
            std::size_t sent = 0;
            while (sent < kWant) {
                std::size_t k = std::min(piece.size(), kWant - sent);
                co_await c.write_all(braid::io::ConstBuffer(piece.data(), k));
                sent += k;
                if (sent % 1300 == 0) co_await braid::yield_now();
            }
            c.shutdown_write();  // a reader left waiting sees EOF
            std::size_t a = co_await r1;
            std::size_t b = co_await r2;
            co_return std::make_tuple(a, b, total.load());
        }());
        REQUIRE(total == 20000);
        REQUIRE(a + b == 20000);
    }
}

namespace {

braid::Task<std::size_t> streaming_writer(TcpStream* c, std::size_t n) {
    std::size_t sent = 0;
    uint32_t x = 7;
    while (sent < n) {
        x = x * 1664525u + 1013904223u;
        std::size_t k = std::min<std::size_t>(1 + (x >> 24) % 200, n - sent);
        std::string piece(k, '\0');
        for (std::size_t i = 0; i < k; ++i) piece[i] = char((sent + i) % 251);
        co_await c->write_all(piece);
        sent += k;
        if ((x >> 20) % 4 == 0) co_await braid::yield_now();
    }
    c->shutdown_write();
    co_return sent;
}

}  // namespace

TEST_CASE("io_idioms.io idioms: reads under short timeouts in a loop lose no byte while a writer streams") {
    auto rt = braid_test::runtime(2);
    for (int rep = 0; rep < 3; ++rep) {
        auto [sent, got, bad, timeouts] = rt.block_on([]() -> braid::Task<std::tuple<std::size_t, std::size_t,
                                                                                       std::size_t, int>> {
            auto l = TcpListener::bind("127.0.0.1:0");
            auto c = co_await TcpStream::connect(l.local_addr());
            auto [s, addr] = co_await l.accept();
            constexpr std::size_t kN = 200000;
            auto w = braid::spawn(streaming_writer(&c, kN));
            std::vector<char> buf(97);
            std::size_t got = 0, bad = 0;
            int timeouts = 0;
            for (;;) {
                auto rd = s.read(buf);
                auto r = co_await braid::timeout(50us, std::move(rd));
                if (!r) {
                    ++timeouts;
                    continue;
                }
                if (*r == 0) break;
                for (std::size_t i = 0; i < *r; ++i)
                    if (buf[i] != char((got + i) % 251)) ++bad;
                got += *r;
            }
            std::size_t sent = co_await w;
            co_return std::make_tuple(sent, got, bad, timeouts);
        }());
        (void)timeouts;
        REQUIRE(sent == 200000);
        REQUIRE(got == sent);
        REQUIRE(bad == 0);
    }
}

namespace {

// The echo peer of the chat idiom.
braid::Task<> echo_peer(TcpStream s) {
    std::vector<char> buf(512);
    for (;;) {
        std::size_t n = co_await s.read(buf);
        if (n == 0) co_return;
        co_await s.write_all(braid::io::ConstBuffer(buf.data(), n));
    }
}

braid::Task<> line_feeder(braid::mpsc::Sender<std::string> tx, int n) {
    for (int i = 0; i < n; ++i) {
        std::string m = "line " + std::to_string(i) + "\n";
        (void)co_await tx.send(std::move(m));
    }
}

}  // namespace

TEST_CASE("io_idioms.io idioms: a chat loop with a kept socket read and a channel of lines to write") {
    auto rt = braid_test::runtime(2);
    auto [echoed, want] = rt.block_on([]() -> braid::Task<std::pair<std::string, std::string>> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto c = co_await TcpStream::connect(l.local_addr());
        auto [s, addr] = co_await l.accept();
        braid::spawn(echo_peer(std::move(s))).detach();
        auto [tx, rx] = braid::mpsc::channel<std::string>(4);
        constexpr int kN = 300;
        braid::spawn(line_feeder(std::move(tx), kN)).detach();
        std::string want;
        for (int i = 0; i < kN; ++i) want += "line " + std::to_string(i) + "\n";
        std::vector<char> buf(64);
        auto rd = c.read(buf);
        std::string echoed;
        bool open = true;
        while (echoed.size() < want.size()) {
            auto r = co_await braid::select(rd, braid::when(open, rx.recv()));
            if (r.index() == 1) {
                auto& m = std::get<1>(r);
                if (!m) {
                    open = false;
                    continue;
                }
                co_await c.write_all(*m);
                continue;
            }
            std::size_t n = std::get<0>(r);
            if (n == 0) break;
            echoed.append(buf.data(), n);
        }
        co_return std::make_pair(echoed, want);
    }());
    REQUIRE(echoed == want);
}

namespace {

braid::Task<> ack_writer(TcpStream* c, braid::mpsc::Receiver<int>* acks, int n) {
    for (int i = 0; i < n; ++i) {
        std::string m = "r" + std::to_string(i) + ";";
        co_await c->write_all(m);
        auto a = co_await acks->recv();
        EXPECT(a && *a == i);
    }
}

}  // namespace

TEST_CASE("io_idioms.io idioms: a kept readable raced against a channel with try_read until it would block") {
    auto rt = braid_test::current_thread_runtime();
    auto [got, want, spurious] = rt.block_on([]() -> braid::Task<std::tuple<std::string, std::string, int>> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto c = co_await TcpStream::connect(l.local_addr());
        auto [s, addr] = co_await l.accept();
        auto [atx, arx] = braid::mpsc::channel<int>(64);
        auto [stx, srx] = braid::mpsc::unbounded_channel<int>();
        constexpr int kN = 40;
        std::string want;
        for (int i = 0; i < kN; ++i) want += "r" + std::to_string(i) + ";";
        auto w = braid::spawn(ack_writer(&c, &arx, kN));
        auto rdy = s.readable();
        std::string got;
        std::vector<char> buf(5);
        int spurious = 0, next = 0;
        while (next < kN) {
            stx.send(next);
            auto r = co_await braid::select(rdy, srx.recv());
            if (r.index() == 1) continue;
            bool any = false;
            for (;;) {
                auto n = s.try_read(buf);
                if (!n) break;
                EXPECT(*n > 0);
                got.append(buf.data(), *n);
                any = true;
            }
            if (!any) ++spurious;
            // Ack every message read whole.
            for (;;) {
                std::string m = "r" + std::to_string(next) + ";";
                std::string done = want.substr(0, got.size());
                if (next >= kN || done.size() < want.find(m) + m.size()) break;
                (void)co_await atx.send(next);
                ++next;
            }
        }
        co_await w;
        co_return std::make_tuple(got, want, spurious);
    }());
    REQUIRE(got == want);
    // try_read that would block clears the readiness: readable() then
    // waits for new bytes instead of waking the loop again and again.
    REQUIRE(spurious <= 40);
}

namespace {

braid::Task<std::pair<uint64_t, uint64_t>> proxy(TcpListener* front, SocketAddr back) {
    auto [in, peer] = co_await front->accept();
    auto out = co_await TcpStream::connect(back);
    co_return co_await braid::io::copy_bidirectional(in, out);
}

braid::Task<std::size_t> backend(TcpListener* l) {
    auto [s, peer] = co_await l->accept();
    std::string req = co_await read_all(&s);
    std::string resp(100000, 'R');
    resp += "|" + req;
    co_await s.write_all(resp);
    co_return resp.size();
}

}  // namespace

TEST_CASE("io_idioms.io idioms: a copy_bidirectional proxy carries a half-close both ways") {
    auto rt = braid_test::runtime(2);
    for (int rep = 0; rep < 3; ++rep) {
        auto [resp, up, down, sent] = rt.block_on([]() -> braid::Task<std::tuple<std::string, uint64_t, uint64_t,
                                                                                    std::size_t>> {
            auto front = TcpListener::bind("127.0.0.1:0");
            auto back = TcpListener::bind("127.0.0.1:0");
            auto p = braid::spawn(proxy(&front, back.local_addr()));
            auto b = braid::spawn(backend(&back));
            auto c = co_await TcpStream::connect(front.local_addr());
            std::string req(50000, 'q');
            co_await c.write_all(req);
            co_await c.shutdown();  // the backend reads EOF through the proxy
            std::string resp = co_await read_all(&c);
            std::size_t sent = co_await b;
            auto [up, down] = co_await p;
            co_return std::make_tuple(resp, up, down, sent);
        }());
        REQUIRE(up == 50000);
        REQUIRE(down == sent);
        REQUIRE(resp.size() == sent);
        REQUIRE(resp.substr(100000) == "|" + std::string(50000, 'q'));
    }
}

namespace {

braid::Task<> piecewise_writer(TcpStream c, std::string text, braid::mpsc::Sender<int> side) {
    std::size_t at = 0;
    int i = 0;
    while (at < text.size()) {
        std::size_t k = std::min<std::size_t>(1 + std::size_t(i * 7) % 11, text.size() - at);
        co_await c.write_all(braid::io::ConstBuffer(text.data() + at, k));
        at += k;
        (void)co_await side.send(i++);
    }
}

}  // namespace

TEST_CASE("io_idioms.io idioms: framed lines raced against a channel lose no partial line") {
    auto rt = braid_test::runtime(2);
    auto lines = rt.block_on([]() -> braid::Task<std::vector<std::string>> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto c = co_await TcpStream::connect(l.local_addr());
        auto [s, addr] = co_await l.accept();
        std::string text;
        for (int i = 0; i < 100; ++i) text += "line number " + std::to_string(i) + "\n";
        auto [tx, rx] = braid::mpsc::channel<int>(2);
        braid::spawn(piecewise_writer(std::move(c), text, std::move(tx))).detach();
        braid::io::FramedRead framed(std::move(s), braid::io::LinesCodec());
        std::vector<std::string> out;
        bool open = true;
        for (;;) {
            auto r = co_await braid::select(framed.next(), braid::when(open, rx.recv()));
            if (r.index() == 1) {
                if (!std::get<1>(r)) open = false;
                continue;
            }
            auto& line = std::get<0>(r);
            if (!line) break;
            out.push_back(std::move(*line));
        }
        co_return out;
    }());
    REQUIRE(lines.size() == 100);
    for (int i = 0; i < 100; ++i) CHECK(lines[std::size_t(i)] == "line number " + std::to_string(i));
}

TEST_CASE("io_idioms.io idioms: a kept connected UDP recv raced against an interval") {
    auto rt = braid_test::runtime(2);
    auto got = rt.block_on([]() -> braid::Task<std::vector<std::string>> {
        auto a = UdpSocket::bind("127.0.0.1:0");
        auto b = UdpSocket::bind("127.0.0.1:0");
        a.connect(b.local_addr());
        b.connect(a.local_addr());
        std::vector<char> buf(64);
        auto rd = b.recv(buf);
        auto iv = braid::interval(100us);
        std::vector<std::string> out;
        int sent = 0;
        while (out.size() < 50) {
            if (sent == int(out.size())) {
                std::string d = "u" + std::to_string(sent++);
                co_await a.send(d);
            }
            auto r = co_await braid::select(rd, iv.tick());
            if (r.index() == 1) continue;
            out.emplace_back(buf.data(), std::get<0>(r));
        }
        co_return out;
    }());
    REQUIRE(got.size() == 50);
    for (int i = 0; i < 50; ++i) CHECK(got[std::size_t(i)] == "u" + std::to_string(i));
}

namespace {

template <class R>
braid::Task<std::string> read_all_ref(R* r) {
    co_return co_await read_all(r);
}

template <class W>
braid::Task<> write_then_shutdown(W* w, std::string data) {
    co_await w->write_all(data);
    co_await w->shutdown();
}

}  // namespace

TEST_CASE("io_idioms.io idioms: borrowed split halves joined in one task echo through a peer") {
    auto rt = braid_test::runtime(2);
    auto back = rt.block_on([]() -> braid::Task<std::string> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto c = co_await TcpStream::connect(l.local_addr());
        auto [s, addr] = co_await l.accept();
        braid::spawn(echo_peer(std::move(s))).detach();
        auto [rd, wr] = braid::io::split(c);
        std::string data(300000, 'e');
        for (std::size_t i = 0; i < data.size(); ++i) data[i] = char('a' + i % 26);
        auto reading = read_all_ref(&rd);
        auto writing = write_then_shutdown(&wr, data);
        auto [got, unit] = co_await braid::join(std::move(reading), std::move(writing));
        (void)unit;
        EXPECT(got == data);
        co_return got.substr(0, 26);
    }());
    REQUIRE(back == "abcdefghijklmnopqrstuvwxyz");
}

namespace {

braid::Task<> connect_each(SocketAddr addr, braid::mpsc::Sender<int> side, int n) {
    std::vector<TcpStream> keep;
    for (int i = 0; i < n; ++i) {
        keep.push_back(co_await TcpStream::connect(addr));
        std::string id = std::to_string(i) + ";";
        co_await keep.back().write_all(id);
        (void)co_await side.send(i);
    }
    for (auto& c : keep) {
        char b;
        (void)co_await braid_test::code_of(c.read(braid::io::MutableBuffer(&b, 1)));
    }
}

}  // namespace

TEST_CASE("io_idioms.io idioms: the incoming stream raced against a channel loses no connection") {
    auto rt = braid_test::runtime(2);
    auto [accepted, ids] = rt.block_on([]() -> braid::Task<std::pair<int, std::string>> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto [tx, rx] = braid::mpsc::channel<int>(1);
        constexpr int kN = 30;
        auto cl = braid::spawn(connect_each(l.local_addr(), std::move(tx), kN));
        auto incoming = l.incoming();
        std::vector<TcpStream> conns;
        bool open = true;
        while (int(conns.size()) < kN) {
            auto r = co_await braid::select(incoming.next(), braid::when(open, rx.recv()));
            if (r.index() == 1) {
                if (!std::get<1>(r)) open = false;
                continue;
            }
            auto& s = std::get<0>(r);
            EXPECT(s.has_value());
            if (!s) break;
            conns.push_back(std::move(*s));
        }
        rx.close();  // the connector's last send fails instead of waiting for room
        std::string ids;
        for (auto& c : conns) {
            char b = 0;
            while (b != ';') {
                co_await c.read_exact(braid::io::MutableBuffer(&b, 1));
                ids += b;
            }
        }
        int n = int(conns.size());
        conns.clear();
        co_await cl;
        co_return std::make_pair(n, ids);
    }());
    REQUIRE(accepted == 30);
    std::string want;
    for (int i = 0; i < 30; ++i) want += std::to_string(i) + ";";
    REQUIRE(ids == want);
}

namespace {

braid::Task<std::string> slow_drain(TcpStream* s, std::size_t want, braid::mpsc::Sender<int> side) {
    std::string out;
    std::vector<char> buf(3000);
    int i = 0;
    while (out.size() < want) {
        std::size_t n = co_await s->read(buf);
        if (n == 0) break;
        out.append(buf.data(), n);
        (void)co_await side.send(i++);
    }
    co_return out;
}

}  // namespace

TEST_CASE("io_idioms.io idioms: a kept write_all losing races to a channel sends every byte once") {
    auto rt = braid_test::runtime(2);
    auto [sent, got, losses] = rt.block_on([]() -> braid::Task<std::tuple<std::string, std::string, int>> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto c = co_await TcpStream::connect(l.local_addr());
        auto [s, addr] = co_await l.accept();
        std::string data(4 << 20, '\0');
        for (std::size_t i = 0; i < data.size(); ++i) data[i] = char((i * 31 + i / 4096) % 253);
        auto [tx, rx] = braid::mpsc::channel<int>(1);
        auto reader = braid::spawn(slow_drain(&s, data.size(), std::move(tx)));
        auto wr = c.write_all(data);
        int losses = 0;
        for (;;) {
            auto r = co_await braid::select(wr, rx.recv());
            if (r.index() == 0) break;
            ++losses;
        }
        rx.close();  // the reader's last sends fail instead of waiting for room
        std::string got = co_await reader;
        co_return std::make_tuple(std::move(data), std::move(got), losses);
    }());
    REQUIRE(got.size() == sent.size());
    REQUIRE(got == sent);
    (void)losses;
}

TEST_CASE("io_idioms.io idioms: a kept read_exact losing races keeps what it read") {
    auto rt = braid_test::runtime(2);
    auto [frame, losses] = rt.block_on([]() -> braid::Task<std::pair<std::string, int>> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto c = co_await TcpStream::connect(l.local_addr());
        auto [s, addr] = co_await l.accept();
        auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
        std::string frame(64, '\0');
        auto rd = s.read_exact(frame);
        int losses = 0;
        bool done = false;
        for (int i = 0; i < 8; ++i) {
            // A piece of the frame, then a message: the read takes the
            // piece and waits for more; the channel wins.
            std::string piece(8, char('A' + i));
            co_await c.write_all(piece);
            tx.send(i);
            auto r = co_await braid::select(rd, rx.recv());
            if (r.index() == 1) ++losses;
            else done = true;
        }
        while (!done) {
            auto r = co_await braid::select(rd, rx.recv());
            done = r.index() == 0;
        }
        co_return std::make_pair(frame, losses);
    }());
    // The last piece completes the frame: the kept read_exact wins then or
    // (when the message was there first) at a later select.
    std::string want;
    for (int i = 0; i < 8; ++i) want += std::string(8, char('A' + i));
    REQUIRE(losses <= 8);
    REQUIRE(frame == want);
}

namespace {

// A connection handler that reads until EOF; counts the handlers that ran
// and whose frames were destroyed.
struct HandlerCount {
    std::atomic<int>* gone;
    explicit HandlerCount(std::atomic<int>* g) : gone(g) {}
    HandlerCount(const HandlerCount&) = delete;
    ~HandlerCount() { gone->fetch_add(1); }
};

braid::Task<std::size_t> idle_handler(TcpStream s, std::atomic<int>* started, std::atomic<int>* gone) {
    HandlerCount c(gone);
    started->fetch_add(1);
    co_return (co_await read_all(&s)).size();
}

// 0: end of file; a BRAID_E* code: the read threw it; -1: bytes came.
braid::Task<int> closed_code(TcpStream* c) {
    std::vector<char> buf(8);
    int code = 0;
    std::size_t n = 0;
    try {
        n = co_await c->read(buf);
    } catch (const braid::Error& e) {
        code = e.code();
    }
    co_return code != 0 ? code : (n == 0 ? 0 : -1);
}

}  // namespace

TEST_CASE("io_idioms.io idioms: a JoinSet of connection handlers shut down while they wait in read closes every stream") {
    auto rt = braid_test::runtime(2);
    for (int rep = 0; rep < 3; ++rep) {
        std::atomic<int> gone{0};
        auto [eofs, started] = rt.block_on([](std::atomic<int>* gone) -> braid::Task<std::pair<int, int>> {
            auto l = TcpListener::bind("127.0.0.1:0");
            constexpr int kN = 20;
            std::vector<TcpStream> clients;
            braid::JoinSet<std::size_t> handlers;
            std::atomic<int> started{0};
            for (int i = 0; i < kN; ++i) {
                clients.push_back(co_await TcpStream::connect(l.local_addr()));
                auto [s, peer] = co_await l.accept();
                handlers.spawn(idle_handler(std::move(s), &started, gone));
            }
            // Half of them get a byte first (they read it and wait again).
            for (int i = 0; i < kN; i += 2) co_await clients[std::size_t(i)].write_all(std::string_view("b"));
            // Every handler waits in read (a task aborted before its first
            // poll would never run its body at all).
            while (started.load() < kN) co_await braid::yield_now();
            co_await handlers.shutdown();
            // shutdown() waited for every task: every frame is gone.
            EXPECT(gone->load() == kN);
            // Each client sees its stream closed: EOF, or a reset where
            // the handler went before it took the byte sent to it.
            int eofs = 0;
            for (auto& c : clients) {
                auto r = co_await braid::timeout(10s, closed_code(&c));
                if (r && (*r == 0 || *r == BRAID_ECONNRESET)) ++eofs;
            }
            co_return std::make_pair(eofs, started.load());
        }(&gone));
        REQUIRE(gone.load() == 20);
        REQUIRE(eofs == 20);
        (void)started;
    }
}

namespace {
// Tasks `h1` and `h2` wait on `a` and `b`; once both have started, this
// worker closes `a` and `b` (after `yields` more turns, to vary where the
// waits are).  Counts in `closed` each wait that ended with BRAID_ECLOSED;
// any other code goes to `odd` (the second wait's + 1000; -1 and -1001:
// the wait did not end).
template <class A, class B>
braid::Task<> close_under_waits(A* a, B* b, braid::JoinHandle<int> h1, braid::JoinHandle<int> h2,
                                std::atomic<bool>* s1, std::atomic<bool>* s2, int yields,
                                std::pair<int, int>* closed, std::vector<int>* odd) {
    while (!s1->load() || !s2->load()) co_await braid::yield_now();
    for (int k = 0; k < yields; ++k) co_await braid::yield_now();
    a->close();
    b->close();
    auto r1 = co_await braid::timeout(10s, h1);
    auto r2 = co_await braid::timeout(10s, h2);
    if (r1 && *r1 == BRAID_ECLOSED)
        ++closed->first;
    else
        odd->push_back(r1 ? *r1 : -1);
    if (r2 && *r2 == BRAID_ECLOSED)
        ++closed->second;
    else
        odd->push_back(r2 ? 1000 + *r2 : -1001);
}
}  // namespace

TEST_CASE("io_idioms.io idioms: closing a stream or a listener from another worker while a task waits on it") {
    auto rt = braid_test::runtime(4);
    std::vector<int> odd;  // the codes other than ECLOSED (accept's + 1000; -1: timed out)
    auto [reads, accepts] = rt.block_on([](std::vector<int>& odd) -> braid::Task<std::pair<int, int>> {
        std::pair<int, int> closed{0, 0};
        for (int i = 0; i < 40; ++i) {
            auto l = TcpListener::bind("127.0.0.1:0");
            auto c = co_await TcpStream::connect(l.local_addr());
            auto [s, addr] = co_await l.accept();
            std::atomic<bool> s1{false}, s2{false};
            auto hr = braid::spawn(wait_read(&s, &s1));
            auto ha = braid::spawn(wait_accept(&l, &s2));
            co_await close_under_waits(&s, &l, std::move(hr), std::move(ha), &s1, &s2, i % 2, &closed, &odd);
        }
        co_return closed;
    }(odd));
    CHECK(odd == std::vector<int>{});
    REQUIRE(reads == 40);
    REQUIRE(accepts == 40);
}

namespace {

braid::Task<int> udp_worker(UdpSocket* s, braid::CancellationToken tok, braid::mpsc::UnboundedSender<int> got) {
    std::vector<char> buf(64);
    int mine = 0;
    auto stop = tok.cancelled();
    for (;;) {
        auto rd = s->recv_from(buf);
        auto r = co_await braid::select(std::move(rd), stop);
        if (r.index() == 1) break;
        auto [n, from] = std::get<0>(r);
        got.send(std::stoi(std::string(buf.data(), n)));
        ++mine;
    }
    co_return mine;
}

}  // namespace

TEST_CASE("io_idioms.io idioms: several tasks receiving on one UDP socket share every datagram") {
    auto rt = braid_test::runtime(4);
    auto [seen, sum] = rt.block_on([]() -> braid::Task<std::pair<std::vector<int>, int>> {
        auto a = UdpSocket::bind("127.0.0.1:0");
        auto b = UdpSocket::bind("127.0.0.1:0");
        braid::CancellationToken tok;
        auto [tx, rx] = braid::mpsc::unbounded_channel<int>();
        std::vector<braid::JoinHandle<int>> ws;
        for (int i = 0; i < 4; ++i) ws.push_back(braid::spawn(udp_worker(&b, tok, tx)));
        constexpr int kN = 400, kBatch = 20;
        std::vector<int> seen(kN, 0);
        int received = 0;
        for (int i = 0; i < kN; ++i) {
            std::string d = std::to_string(i);
            co_await a.send_to(d, b.local_addr());
            if ((i + 1) % kBatch != 0) continue;
            // The batch is taken (by any of the workers) before the next is
            // sent, so the socket's buffer never drops one.
            while (received < i + 1) {
                auto r = co_await braid::timeout(20s, rx.recv());
                if (!r || !*r) co_return std::make_pair(seen, -1);
                int v = **r;
                if (v >= 0 && v < kN) ++seen[std::size_t(v)];
                ++received;
            }
        }
        tok.cancel();
        int sum = 0;
        for (auto& w : ws) sum += co_await w;
        co_return std::make_pair(seen, sum);
    }());
    REQUIRE(sum == 400);
    for (int i = 0; i < 400; ++i) CHECK(seen[std::size_t(i)] == 1);
}

namespace {

braid::Task<std::string> unix_half_reader(braid::io::OwnedReadHalf<UnixStream> rd) { co_return co_await read_all(&rd); }

braid::Task<> unix_half_writer(braid::io::OwnedWriteHalf<UnixStream> wr, std::string data) {
    co_await wr.write_all(data);
}

braid::Task<> unix_echo(UnixStream s) {
    std::vector<char> buf(4096);
    for (;;) {
        std::size_t n = co_await s.read(buf);
        if (n == 0) co_return;
        co_await s.write_all(braid::io::ConstBuffer(buf.data(), n));
    }
}

}  // namespace

TEST_CASE("io_idioms.io idioms: a Unix stream pair split into halves in two tasks through an echo") {
    auto rt = braid_test::runtime(2);
    auto [back, want] = rt.block_on([]() -> braid::Task<std::pair<std::string, std::string>> {
        auto [x, y] = UnixStream::pair();
        braid::spawn(unix_echo(std::move(y))).detach();
        auto [rd, wr] = braid::io::into_split(std::move(x));
        std::string data(500000, '\0');
        for (std::size_t i = 0; i < data.size(); ++i) data[i] = char(i % 241);
        auto r = braid::spawn(unix_half_reader(std::move(rd)));
        // The write half is dropped when its task ends: the echo sees EOF,
        // closes, and the reader sees EOF after every byte came back.
        auto w = braid::spawn(unix_half_writer(std::move(wr), data));
        co_await w;
        std::string back = co_await r;
        co_return std::make_pair(back, data);
    }());
    REQUIRE(back.size() == want.size());
    REQUIRE(back == want);
}

TEST_CASE("io_idioms.io idioms: a kept read under repeated timeouts gets every message once") {
    auto rt = braid_test::runtime(2);
    auto [got, timeouts] = rt.block_on([]() -> braid::Task<std::pair<std::string, int>> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto c = co_await TcpStream::connect(l.local_addr());
        auto [s, addr] = co_await l.accept();
        std::vector<char> buf(32);
        // Tokio: `let rd = s.read(&mut buf); pin!(rd); timeout(d, &mut rd)`.
        auto rd = s.read(buf);
        std::string got;
        int timeouts = 0;
        for (int i = 0; i < 10; ++i) {
            // Nothing is there: the kept read times out and keeps waiting.
            auto r = co_await braid::timeout(2ms, rd);
            EXPECT(!r.has_value());
            if (!r) ++timeouts;
            std::string m = "m" + std::to_string(i) + ";";
            co_await c.write_all(m);
            auto r2 = co_await braid::timeout(10s, rd);
            EXPECT(r2.has_value());
            if (r2) got.append(buf.data(), *r2);
        }
        co_return std::make_pair(got, timeouts);
    }());
    REQUIRE(timeouts == 10);
    REQUIRE(got == "m0;m1;m2;m3;m4;m5;m6;m7;m8;m9;");
}

TEST_CASE("io_idioms.io idioms: a Framed lines chat loop sends from a channel and reads echoed lines") {
    auto rt = braid_test::runtime(2);
    auto lines = rt.block_on([]() -> braid::Task<std::vector<std::string>> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto c = co_await TcpStream::connect(l.local_addr());
        auto [s, addr] = co_await l.accept();
        braid::spawn(echo_peer(std::move(s))).detach();
        auto [tx, rx] = braid::mpsc::channel<std::string>(2);
        constexpr int kN = 200;
        braid::spawn(line_feeder(std::move(tx), kN)).detach();
        braid::io::Framed conn(std::move(c), braid::io::LinesCodec());
        std::vector<std::string> out;
        bool open = true;
        while (int(out.size()) < kN) {
            auto r = co_await braid::select(conn.next(), braid::when(open, rx.recv()));
            if (r.index() == 1) {
                auto& m = std::get<1>(r);
                if (!m) {
                    open = false;
                    continue;
                }
                m->pop_back();  // the codec adds the newline
                co_await conn.send(*m);
                continue;
            }
            auto& line = std::get<0>(r);
            if (!line) break;
            out.push_back(std::move(*line));
        }
        co_return out;
    }());
    REQUIRE(lines.size() == 200);
    for (int i = 0; i < 200; ++i) CHECK(lines[std::size_t(i)] == "line " + std::to_string(i));
}

namespace {

braid::Task<int> wait_write_all(TcpStream* s, std::atomic<bool>* started) {
    std::string big(8 << 20, 'w');  // more than the socket buffers hold: it waits
    started->store(true);
    co_return co_await braid_test::code_of(s->write_all(big));
}

braid::Task<int> wait_recv_from(UdpSocket* u, std::atomic<bool>* started) {
    std::vector<char> buf(16);
    started->store(true);
    co_return co_await braid_test::code_of(u->recv_from(buf));
}

}  // namespace

TEST_CASE("io_idioms.io idioms: closing a stream under a waiting write_all or a UDP socket under a waiting recv_from") {
    auto rt = braid_test::runtime(4);
    std::vector<int> odd;  // the codes other than ECLOSED (recv_from's + 1000; -1: timed out)
    auto [writes, recvs] = rt.block_on([](std::vector<int>& odd) -> braid::Task<std::pair<int, int>> {
        std::pair<int, int> closed{0, 0};
        for (int i = 0; i < 30; ++i) {
            auto l = TcpListener::bind("127.0.0.1:0");
            auto c = co_await TcpStream::connect(l.local_addr());
            auto [s, addr] = co_await l.accept();
            auto u = UdpSocket::bind("127.0.0.1:0");
            std::atomic<bool> s1{false}, s2{false};
            auto hw = braid::spawn(wait_write_all(&c, &s1));
            auto hr = braid::spawn(wait_recv_from(&u, &s2));
            co_await close_under_waits(&c, &u, std::move(hw), std::move(hr), &s1, &s2, i % 4, &closed, &odd);
        }
        co_return closed;
    }(odd));
    CHECK(odd == std::vector<int>{});
    REQUIRE(writes == 30);
    REQUIRE(recvs == 30);
}

namespace {

braid::Task<int> wait_peek(TcpStream* s, std::atomic<bool>* started) {
    std::vector<char> buf(16);
    started->store(true);
    int code = 0;
    std::size_t n = 99;
    try {
        n = co_await s->peek(buf);
    } catch (const braid::Error& e) {
        code = e.code();
    }
    co_return code != 0 ? code : int(n);  // 0: it reported end of file
}

}  // namespace

TEST_CASE("io_idioms.io idioms: closing a stream under a peek waiting in another worker wakes it with ECLOSED") {
    auto rt = braid_test::runtime(4);
    std::vector<int> odd;  // what the peeks that did not report ECLOSED gave (0: end of file)
    auto peeks = rt.block_on([](std::vector<int>& odd) -> braid::Task<int> {
        int peeks = 0;
        for (int i = 0; i < 60; ++i) {
            auto l = TcpListener::bind("127.0.0.1:0");
            auto c = co_await TcpStream::connect(l.local_addr());
            auto [s, addr] = co_await l.accept();
            std::atomic<bool> started{false};
            auto h = braid::spawn(wait_peek(&s, &started));
            while (!started.load()) co_await braid::yield_now();
            for (int k = 0; k < i % 3; ++k) co_await braid::yield_now();
            s.close();
            auto r = co_await braid::timeout(10s, h);
            if (r && *r == BRAID_ECLOSED) ++peeks;
            else odd.push_back(r ? *r : -1000);
        }
        co_return peeks;
    }(odd));
    CHECK(odd == std::vector<int>{});
    REQUIRE(peeks == 60);
}

TEST_CASE("io_idioms.io idioms: BufReader read_line over a read half raced against a channel keeps partial lines") {
    auto rt = braid_test::runtime(2);
    auto lines = rt.block_on([]() -> braid::Task<std::vector<std::string>> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto c = co_await TcpStream::connect(l.local_addr());
        auto [s, addr] = co_await l.accept();
        std::string text;
        for (int i = 0; i < 120; ++i) text += "row " + std::to_string(i) + " of the table\n";
        auto [tx, rx] = braid::mpsc::channel<int>(2);
        braid::spawn(piecewise_writer(std::move(c), text, std::move(tx))).detach();
        auto [rd, wr] = braid::io::into_split(std::move(s));
        braid::io::BufReader reader(std::move(rd));
        std::vector<std::string> out;
        std::string line;  // kept across the selects: a partial line stays in it
        bool open = true;
        for (;;) {
            auto r = co_await braid::select(reader.read_line(line), braid::when(open, rx.recv()));
            if (r.index() == 1) {
                if (!std::get<1>(r)) open = false;
                continue;
            }
            if (std::get<0>(r) == 0) break;
            out.push_back(line);
            line.clear();
        }
        co_return out;
    }());
    REQUIRE(lines.size() == 120);
    for (int i = 0; i < 120; ++i) CHECK(lines[std::size_t(i)] == "row " + std::to_string(i) + " of the table\n");
}

TEST_CASE("io_idioms.io idioms: a kept connect losing races to an interval connects once") {
    auto rt = braid_test::current_thread_runtime();
    for (int rep = 0; rep < 5; ++rep) {
        auto [echo, extra] = rt.block_on([]() -> braid::Task<std::pair<std::string, int>> {
            auto l = TcpListener::bind("127.0.0.1:0");
            // Tokio: `let c = TcpStream::connect(a); pin!(c); loop { select! {
            // s = &mut c => break s, _ = iv.tick() => log() } }`.
            auto conn = TcpStream::connect(l.local_addr());
            auto iv = braid::interval(10us);
            std::optional<TcpStream> c;
            while (!c) {
                auto r = co_await braid::select(conn, iv.tick());
                if (r.index() == 0) c.emplace(std::move(std::get<0>(r)));
            }
            auto [s, peer] = co_await l.accept();
            EXPECT(peer == c->local_addr());
            co_await c->write_all(std::string_view("hi"));
            std::string got(2, '\0');
            co_await s.read_exact(got);
            // Exactly one connection was made: nothing else is queued.
            int extra = 0;
            for (;;) {
                auto r = co_await braid::select_biased(l.accept(), braid::yield_now());
                if (r.index() == 1) break;
                ++extra;
            }
            co_return std::make_pair(got, extra);
        }());
        REQUIRE(echo == "hi");
        REQUIRE(extra == 0);
    }
}

TEST_CASE("io_idioms.io idioms: a kept connect raced again after it completed connects anew") {
    // The address forms (TCP and Unix) make a new connection each time they
    // win; the TcpSocket form's socket became the first stream, so raced
    // again it fails with BRAID_EINVAL rather than touch a freed socket.
    braid_test::TempDir dir;
    std::string path = dir.path + "/again.sock";
    auto rt = braid_test::runtime(2);
    auto [tcp_peers, unix_conns, socket_again] = rt.block_on([](std::string path)
                                                                 -> braid::Task<std::tuple<int, int, int>> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto ul = UnixListener::bind(path);
        auto [tx, rx] = braid::mpsc::channel<int>(1);
        auto conn = TcpStream::connect(l.local_addr());
        auto uconn = UnixStream::connect(path);
        int tcp_peers = 0, unix_conns = 0;
        for (int round = 0; round < 3; ++round) {
            auto r = co_await braid::select(conn, rx.recv());
            EXPECT(r.index() == 0);
            if (r.index() != 0) co_return std::make_tuple(-1, -1, -1);
            TcpStream c = std::move(std::get<0>(r));
            auto [s, peer] = co_await l.accept();
            if (peer == c.local_addr()) ++tcp_peers;  // a new connection each round
            auto u = co_await braid::select(uconn, rx.recv());
            EXPECT(u.index() == 0);
            if (u.index() != 0) co_return std::make_tuple(-1, -1, -1);
            UnixStream uc = std::move(std::get<0>(u));
            auto us = co_await ul.accept();
            co_await uc.write_all(std::string_view("u"));
            std::string b(1, '\0');
            std::size_t got = co_await us.first.read(b);  // (g++ 12: never a co_await in a condition expression)
            if (got == 1 && b == "u") ++unix_conns;
        }
        auto from_socket = braid::net::TcpSocket::new_v4().connect(l.local_addr());
        auto first = co_await braid::select(from_socket, rx.recv());
        EXPECT(first.index() == 0);
        (void)co_await l.accept();
        int again = 1000;
        try {
            (void)co_await braid::select(from_socket, rx.recv());
            again = 0;
        } catch (const braid::Error& e) {
            again = e.code();
        }
        (void)tx;
        co_return std::make_tuple(tcp_peers, unix_conns, again);
    }(path));
    REQUIRE(tcp_peers == 3);
    REQUIRE(unix_conns == 3);
    REQUIRE(socket_again == BRAID_EINVAL);
}

}  // namespace test_io_idioms
