// I/O utilities: the in-memory duplex pipe, copy, copy_bidirectional,
// BufReader (read_line, lines), BufWriter, and the LinesCodec and
// LengthDelimitedCodec framing as streams and sinks.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <vector>
#include <tuple>

#include "io_support.hpp"
#include "support.hpp"

namespace test_io_util {

using namespace std::chrono_literals;
namespace bio = braid::io;

namespace {

using braid_test::code_of;

// Writes `text` in chunks of `chunk` bytes, then shuts the write side.
template <class W>
braid::Task<> write_chunked(W& w, std::string text, std::size_t chunk) {
    for (std::size_t off = 0; off < text.size(); off += chunk)
        co_await w.write_all(bio::ConstBuffer(text.data() + off, std::min(chunk, text.size() - off)));
    co_await w.shutdown();
}

// An AsyncWrite that counts the writes that reach it.
struct CountingWriter {
    bio::DuplexStream inner;
    std::shared_ptr<int> writes = std::make_shared<int>(0);
    auto write(bio::ConstBuffer b) {
        ++*writes;
        return inner.write(b);
    }
    auto flush() { return inner.flush(); }
    auto shutdown() { return inner.shutdown(); }
};

std::string big_text(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = char('a' + (i * 7 + i / 13) % 26);
    return s;
}

}  // namespace

TEST_CASE("io_util.duplex: bytes flow both ways, with backpressure, EOF and EPIPE") {
    auto rt = braid_test::runtime(2);
    auto [got, back, eof, pipe_code, zero_code] = rt.block_on([]() -> braid::Task<std::tuple<std::string, std::string, std::size_t, int, int>> {
        auto [a, b] = bio::duplex(16);  // tiny: writes must wait for the reader
        std::string text = big_text(5000);
        auto writer = braid::spawn([](bio::DuplexStream& a, std::string t) -> braid::Task<> {
            co_await a.write_all(t);
            a.shutdown_write();
        }(a, text));
        std::string got = co_await bio::read_to_string(b);
        co_await writer;
        co_await b.write_all("reply");
        std::string back(5, '\0');
        co_await a.read_exact(back);
        char c;
        std::size_t eof = co_await b.read(bio::MutableBuffer(&c, 1));  // a shut its write side
        int zero = co_await code_of(b.read(bio::MutableBuffer(&c, 0)));
        { bio::DuplexStream gone = std::move(a); }
        int pipe = co_await code_of(b.write_all("to nobody"));
        co_return std::make_tuple(got, back, eof, pipe, zero);
    }());
    REQUIRE(got == big_text(5000));
    REQUIRE(back == "reply");
    REQUIRE(eof == 0);
    REQUIRE(pipe_code == BRAID_EPIPE);
    REQUIRE(zero_code == BRAID_EINVAL);
}

TEST_CASE("io_util.duplex: a read cancelled in select loses nothing") {
    auto rt = braid_test::runtime(2);
    std::string got = rt.block_on([]() -> braid::Task<std::string> {
        auto [a, b] = bio::duplex(64);
        auto writer = braid::spawn([](bio::DuplexStream& a) -> braid::Task<> {
            for (int i = 0; i < 300; ++i) {
                char ch = char('A' + i % 26);
                co_await a.write_all(bio::ConstBuffer(&ch, 1));
                if (i % 10 == 0) co_await braid::sleep(1ms);
            }
            a.shutdown_write();
        }(a));
        std::string all;
        char buf[8];
        for (;;) {
            auto r = co_await braid::select(b.read(buf), braid::sleep(200us));
            if (r.index() == 1) continue;
            std::size_t n = std::get<0>(r);
            if (n == 0) break;
            all.append(buf, n);
        }
        co_await writer;
        co_return all;
    }());
    std::string want;
    for (int i = 0; i < 300; ++i) want += char('A' + i % 26);
    REQUIRE(got == want);
}

TEST_CASE("io_util.copy: duplex to duplex and over TCP, with byte counts") {
    auto rt = braid_test::runtime(2);
    auto [n, got, tcp_n, tcp_ok] = rt.block_on([]() -> braid::Task<std::tuple<uint64_t, std::string, uint64_t, bool>> {
        auto [src_w, src_r] = bio::duplex(4096);
        auto [dst_w, dst_r] = bio::duplex(4096);
        std::string text = big_text(300000);
        auto producer = braid::spawn(write_chunked(src_w, text, 777));
        auto consumer = braid::spawn([](bio::DuplexStream& r) -> braid::Task<std::string> {
            co_return co_await bio::read_to_string(r);
        }(dst_r));
        uint64_t n = co_await bio::copy(src_r, dst_w);
        dst_w.shutdown_write();
        co_await producer;
        std::string got = co_await consumer;

        // 4 MiB through a TCP connection.
        auto l = braid::net::TcpListener::bind("127.0.0.1:0");
        auto c = co_await braid::net::TcpStream::connect(l.local_addr());
        auto [s, peer] = co_await l.accept();
        std::string big = big_text(4u << 20);
        auto [in_w, in_r] = bio::duplex(1 << 16);
        auto feed = braid::spawn(write_chunked(in_w, big, 100000));
        auto sink = braid::spawn([](braid::net::TcpStream s) -> braid::Task<std::string> {
            co_return co_await bio::read_to_string(s);
        }(std::move(s)));
        uint64_t tn = co_await bio::copy(in_r, c);
        c.shutdown_write();
        co_await feed;
        bool ok = co_await sink == big;
        co_return std::make_tuple(n, got, tn, ok);
    }());
    REQUIRE(n == 300000);
    REQUIRE(got == big_text(300000));
    REQUIRE(tcp_n == (4u << 20));
    REQUIRE(tcp_ok);
}

TEST_CASE("io_util.copy_bidirectional: a proxy between a client and an echo server") {
    auto rt = braid_test::runtime(2);
    auto [reply, up, down] = rt.block_on([]() -> braid::Task<std::tuple<std::string, uint64_t, uint64_t>> {
        auto [client, proxy_a] = bio::duplex(1024);
        // The server end is TCP: the proxy joins a duplex and a socket.
        auto l = braid::net::TcpListener::bind("127.0.0.1:0");
        auto addr = l.local_addr();
        auto server = braid::spawn([](braid::net::TcpListener l) -> braid::Task<> {
            auto [s, peer] = co_await l.accept();
            std::string all = co_await bio::read_to_string(s);
            co_await s.write_all(all + all);
            s.shutdown_write();
        }(std::move(l)));
        auto upstream = co_await braid::net::TcpStream::connect(addr);
        auto proxy = braid::spawn([](bio::DuplexStream a, braid::net::TcpStream b) -> braid::Task<std::pair<uint64_t, uint64_t>> {
            co_return co_await bio::copy_bidirectional(a, b);
        }(std::move(proxy_a), std::move(upstream)));
        std::string msg = big_text(10000);
        co_await client.write_all(msg);
        client.shutdown_write();
        std::string reply = co_await bio::read_to_string(client);
        auto [up, down] = co_await proxy;
        co_await server;
        co_return std::make_tuple(reply, up, down);
    }());
    REQUIRE(reply == big_text(10000) + big_text(10000));
    REQUIRE(up == 10000);
    REQUIRE(down == 20000);
}

TEST_CASE("io_util.BufReader: read_line keeps the newline, lines() strips it, the last line may lack one") {
    auto rt = braid_test::runtime(2);
    auto [first, second, rest] = rt.block_on([]() -> braid::Task<std::tuple<std::string, std::string, std::vector<std::string>>> {
        auto [w, r] = bio::duplex(32);
        auto producer = braid::spawn(write_chunked(w, "alpha\nbeta\r\n\ngamma\r\ndelta without newline", 3));
        bio::BufReader reader(std::move(r), 4);  // a tiny buffer: lines span many fills
        std::string a, b;
        co_await reader.read_line(a);
        co_await reader.read_line(b);
        std::vector<std::string> others;
        auto lines = reader.lines();
        while (auto l = co_await lines.next()) others.push_back(*l);
        co_await producer;
        co_return std::make_tuple(a, b, others);
    }());
    REQUIRE(first == "alpha\n");
    REQUIRE(second == "beta\r\n");
    REQUIRE(rest == std::vector<std::string>{"", "gamma", "delta without newline"});
}

TEST_CASE("io_util.BufWriter: small writes are batched until flush") {
    auto rt = braid_test::runtime(2);
    auto [writes, got] = rt.block_on([]() -> braid::Task<std::pair<int, std::string>> {
        auto [a, b] = bio::duplex(1 << 20);
        CountingWriter cw{std::move(a)};
        auto counter = cw.writes;
        bio::BufWriter w(std::move(cw), 1024);
        for (int i = 0; i < 1000; ++i) co_await w.write_all(std::to_string(i % 10));
        co_await w.flush();
        co_await w.shutdown();
        std::string got = co_await bio::read_to_string(b);
        co_return std::make_pair(*counter, got);
    }());
    REQUIRE(got.size() == 1000);
    REQUIRE(writes <= 2);  // 1000 bytes through a 1 KiB buffer: one or two writes, not 1000
}

TEST_CASE("io_util.LinesCodec: FramedRead as a stream, FramedWrite as a sink") {
    auto rt = braid_test::runtime(2);
    auto [lines, too_long] = rt.block_on([]() -> braid::Task<std::pair<std::vector<std::string>, int>> {
        auto [a, b] = bio::duplex(64);
        auto writer = braid::spawn([](bio::DuplexStream a) -> braid::Task<> {
            bio::FramedWrite out(std::move(a), bio::LinesCodec());
            co_await out.send(std::string("one"));
            out.feed(std::string_view("two"));
            out.feed(std::string_view("three"));
            co_await out.flush();
            co_await out.close();
        }(std::move(a)));
        bio::FramedRead in(std::move(b), bio::LinesCodec());
        std::vector<std::string> got;
        while (auto l = co_await in.next()) got.push_back(*l);
        co_await writer;
        // A line over the limit fails the stream.
        auto [c, d] = bio::duplex(64);
        co_await c.write_all("much too long a line\n");
        c.shutdown_write();
        bio::FramedRead limited(std::move(d), bio::LinesCodec(5));
        int code = co_await code_of(limited.next());
        co_return std::make_pair(got, code);
    }());
    REQUIRE(lines == std::vector<std::string>{"one", "two", "three"});
    REQUIRE(too_long == BRAID_ERANGE);
}

namespace {
// Decodes `text` the way FramedRead does, fed in pieces that end at `cuts`:
// after each piece every frame decode() gives, at the end decode_eof().
// The frames, then "error <name>" if decoding threw.
std::vector<std::string> decode_pieces(bio::LinesCodec codec, const std::string& text, const std::vector<std::size_t>& cuts) {
    std::vector<std::string> out;
    bio::ByteBuffer buf;
    std::size_t at = 0;
    try {
        for (std::size_t i = 0; i <= cuts.size(); ++i) {
            std::size_t end = i < cuts.size() ? cuts[i] : text.size();
            buf.append(text.data() + at, end - at);
            at = end;
            while (auto line = codec.decode(buf)) out.push_back(*line);
        }
        while (auto line = codec.decode_eof(buf)) out.push_back(*line);
    } catch (const braid::Error& e) {
        out.push_back(std::string("error ") + braid_err_name(e.code()));
    }
    return out;
}
}  // namespace

TEST_CASE("io_util.LinesCodec: the result does not depend on how the bytes were chunked") {
    using V = std::vector<std::string>;
    const std::size_t max = 3;
    REQUIRE(decode_pieces(bio::LinesCodec(max), "abc\r\n", {}) == V{"abc"});
    REQUIRE(decode_pieces(bio::LinesCodec(max), "abc\r\n", {4}) == V{"abc"});  // "abc\r" + "\n"
    REQUIRE(decode_pieces(bio::LinesCodec(max), "abc\r", {}) == V{"abc"});     // "\r" at end of file
    REQUIRE(decode_pieces(bio::LinesCodec(max), "abcd\r\n", {}) == V{"error ERANGE"});
    REQUIRE(decode_pieces(bio::LinesCodec(max), "abc\rd\n", {4}) == V{"error ERANGE"});
    REQUIRE(decode_pieces(bio::LinesCodec(max), "abc\r\r\n", {4}) == V{"error ERANGE"});
    for (std::string text : {"abc\r\n", "abc\r", "ab\r\ncd\r\n", "abcd\r\n", "abc\r\r\n", "\r\n\r\n", "abc\rd\n",
                             "a\nbc\r\nabc", "abc\r\nabcd", "\r", "abc\n\r"}) {
        for (std::size_t m : {std::size_t(0), std::size_t(1), std::size_t(3), std::size_t(4), SIZE_MAX}) {
            INFO(text << " max " << m);
            V whole = decode_pieces(bio::LinesCodec(m), text, {});
            std::vector<std::size_t> each;
            for (std::size_t i = 1; i < text.size(); ++i) {
                REQUIRE(decode_pieces(bio::LinesCodec(m), text, {i}) == whole);
                each.push_back(i);
            }
            REQUIRE(decode_pieces(bio::LinesCodec(m), text, each) == whole);
        }
    }
}

TEST_CASE("io_util.LinesCodec: a CR at the end of a read does not count against max_length") {
    auto rt = braid_test::runtime(1);
    auto lines = rt.block_on([]() -> braid::Task<std::vector<std::string>> {
        auto [a, b] = bio::duplex(64);
        co_await a.write_all("abc\r");
        bio::FramedRead in(std::move(b), bio::LinesCodec(3));
        auto pending = braid::spawn([](bio::DuplexStream a) -> braid::Task<> {
            co_await braid::yield_now();
            co_await a.write_all("\nxyz\r");
            co_await a.shutdown();
        }(std::move(a)));
        std::vector<std::string> got;
        while (auto l = co_await in.next()) got.push_back(*l);
        co_await pending;
        co_return got;
    }());
    REQUIRE(lines == std::vector<std::string>{"abc", "xyz"});
}

TEST_CASE("io_util.LengthDelimitedCodec: frames of any size, options, errors") {
    auto rt = braid_test::runtime(2);
    auto [frames, eof_code, big_code, le] = rt.block_on([]() -> braid::Task<std::tuple<std::vector<std::size_t>, int, int, std::string>> {
        auto [a, b] = bio::duplex(4096);
        auto writer = braid::spawn([](bio::DuplexStream a) -> braid::Task<> {
            bio::FramedWrite out(std::move(a), bio::LengthDelimitedCodec());
            co_await out.send(std::string());
            co_await out.send(std::string("x"));
            co_await out.send(big_text(1 << 20));
            co_await out.close();
        }(std::move(a)));
        bio::FramedRead in(std::move(b), bio::LengthDelimitedCodec());
        std::vector<std::size_t> sizes;
        while (auto f = co_await in.next()) sizes.push_back(f->size());
        co_await writer;

        // End of file inside a frame.
        auto [c, d] = bio::duplex(64);
        co_await c.write_all(std::string("\0\0\0\x10half", 8));
        c.shutdown_write();
        bio::FramedRead cut(std::move(d), bio::LengthDelimitedCodec());
        int eof = co_await code_of(cut.next());
        // A frame over the limit.
        std::string out;
        int big = braid_test::error_code_of([&] { bio::LengthDelimitedCodec().max_frame_length(4).encode("12345", out); });
        // 2-byte little-endian lengths.
        std::string enc;
        bio::LengthDelimitedCodec().length_field_length(2).little_endian().encode("abc", enc);
        co_return std::make_tuple(sizes, eof, big, enc);
    }());
    REQUIRE(frames == std::vector<std::size_t>{0, 1, 1u << 20});
    REQUIRE(eof_code == BRAID_EEOF);
    REQUIRE(big_code == BRAID_ERANGE);
    REQUIRE(le == std::string("\x03\x00" "abc", 5));
}

TEST_CASE("io_util.FramedRead works with the stream combinators") {
    auto rt = braid_test::runtime(2);
    std::size_t total = rt.block_on([]() -> braid::Task<std::size_t> {
        auto [a, b] = bio::duplex(256);
        auto writer = braid::spawn(write_chunked(a, "1\n22\n333\n4444\n", 5));
        namespace bs = braid::stream;
        std::size_t sum = co_await (bio::FramedRead(std::move(b), bio::LinesCodec()) |
                                    bs::map([](std::string s) { return s.size(); }) |
                                    bs::fold(std::size_t(0), std::plus<>()));
        co_await writer;
        co_return sum;
    }());
    REQUIRE(total == 10);
}

namespace {
// Reads exactly n bytes (or to end of file) into a string.
template <class R>
braid::Task<std::string> read_n(R& r, std::size_t n) {
    std::string s(n, '\0');
    std::size_t got = 0;
    while (got < n) {
        std::size_t k = co_await r.read(bio::MutableBuffer(s.data() + got, n - got));
        if (k == 0) break;
        got += k;
    }
    s.resize(got);
    co_return s;
}
}  // namespace

TEST_CASE("io_util.copy into a BufWriter flushes whenever the reader would block so a proxy never stalls") {
    // Tokio's copy: when the read is pending and bytes were written since
    // the last flush, flush.  Here the reader delivers "hello" and then has
    // nothing until the test has seen "hello" at the far end of the TCP
    // connection behind the BufWriter (8 KiB: "hello" alone never fills it).
    auto rt = braid_test::runtime(2);
    auto [first, rest, n] = rt.block_on([]() -> braid::Task<std::tuple<std::string, std::string, uint64_t>> {
        auto [src_w, src_r] = bio::duplex(4096);
        auto l = braid::net::TcpListener::bind("127.0.0.1:0");
        auto c = co_await braid::net::TcpStream::connect(l.local_addr());
        auto [far, peer] = co_await l.accept();
        auto proxy = braid::spawn([](bio::DuplexStream r, braid::net::TcpStream out) -> braid::Task<uint64_t> {
            bio::BufWriter w(std::move(out), 8192);
            uint64_t n = co_await bio::copy(r, w);
            co_await w.shutdown();
            co_return n;
        }(std::move(src_r), std::move(c)));
        co_await src_w.write_all("hello");
        auto first = co_await braid::timeout(20s, read_n(far, 5));
        EXPECT(first.has_value());  // without the flush "hello" sits in the BufWriter for ever
        co_await src_w.write_all(", world");
        co_await src_w.shutdown();
        std::string rest = co_await bio::read_to_string(far);
        uint64_t n = co_await proxy;
        co_return std::make_tuple(*first, rest, n);
    }());
    REQUIRE(first == "hello");
    REQUIRE(rest == ", world");
    REQUIRE(n == 12);
}

TEST_CASE("io_util.copy into a BufWriter does not flush while the reader keeps up") {
    // Everything is readable at once: the copy never waits for its reader,
    // so the BufWriter (larger than the data) reaches its writer once, at
    // the end, as before.
    auto rt = braid_test::runtime(2);
    auto [writes, got] = rt.block_on([]() -> braid::Task<std::pair<int, std::string>> {
        auto [src_w, src_r] = bio::duplex(1 << 20);
        std::string text = big_text(200000);
        co_await src_w.write_all(text);
        co_await src_w.shutdown();
        auto [a, b] = bio::duplex(1 << 20);
        CountingWriter cw{std::move(a)};
        auto counter = cw.writes;
        bio::BufWriter w(std::move(cw), 1 << 20);
        uint64_t n = co_await bio::copy(src_r, w);
        EXPECT(n == text.size());
        co_await w.shutdown();
        std::string got = co_await bio::read_to_string(b);
        co_return std::make_pair(*counter, got);
    }());
    REQUIRE(got == big_text(200000));
    REQUIRE(writes == 1);
}

}  // namespace test_io_util
