// braid::io::Framed (reading and writing frames over one stream), its parts,
// splitting it into framed halves and joining them again, and the codecs
// BytesCodec and AnyDelimiterCodec over real streams.
#include <catch2/catch.hpp>

#include <braid/braid.hpp>

#include <optional>
#include <string>
#include <vector>

#include "io_support.hpp"
#include "support.hpp"

namespace test_io_framed {

using braid::io::AnyDelimiterCodec;
using braid::io::ByteBuffer;
using braid::io::BytesCodec;
using braid::io::Framed;
using braid::io::LinesCodec;

TEST_CASE("io_framed.Framed reads and writes lines over one duplex stream") {
    auto rt = braid_test::runtime(2);
    rt.block_on([]() -> braid::Task<> {
        auto [a, b] = braid::io::duplex(64);
        Framed left(std::move(a), LinesCodec());
        Framed right(std::move(b), LinesCodec());
        left.feed("one");
        left.feed("two");
        EXPECT(left.buffered() == 8);
        co_await left.flush();
        EXPECT(left.buffered() == 0);
        EXPECT(co_await right.next() == std::optional<std::string>("one"));
        EXPECT(co_await right.next() == std::optional<std::string>("two"));
        co_await right.send("back");
        EXPECT(co_await left.next() == std::optional<std::string>("back"));
        co_await left.close();
        EXPECT(co_await right.next() == std::nullopt);
    }());
}

TEST_CASE("io_framed.Framed::ready writes the buffer out once it reaches the backpressure boundary") {
    auto rt = braid_test::runtime(2);
    rt.block_on([]() -> braid::Task<> {
        auto [a, b] = braid::io::duplex(64);
        Framed left(std::move(a), LinesCodec());
        Framed right(std::move(b), LinesCodec());
        EXPECT(left.backpressure_boundary() == 8 * 1024);
        left.set_backpressure_boundary(8);
        co_await left.ready();  // nothing buffered: nothing to write
        left.feed("one");       // 4 bytes: below the boundary
        co_await left.ready();
        EXPECT(left.buffered() == 4);
        left.feed("two");       // 8 bytes: at the boundary
        co_await left.ready();
        EXPECT(left.buffered() == 0);
        EXPECT(co_await right.next() == std::optional<std::string>("one"));
        EXPECT(co_await right.next() == std::optional<std::string>("two"));
    }());
}

TEST_CASE("io_framed.Framed::into_parts hands back unread and unwritten bytes, and from_parts goes on with them") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid_test::MockIo mock;
        mock.on_read("a\nb\nc").on_write("queued\nlater\n");
        Framed framed(std::move(mock), LinesCodec());
        EXPECT(co_await framed.next() == std::optional<std::string>("a"));
        framed.feed("queued");
        auto parts = std::move(framed).into_parts();
        EXPECT(parts.read_buf.view() == "b\nc");
        EXPECT(parts.write_buf == "queued\n");
        Framed again(std::move(parts));
        EXPECT(co_await again.next() == std::optional<std::string>("b"));
        co_await again.send("later");
        EXPECT(again.get_ref().written() == "queued\nlater\n");
        EXPECT(co_await again.next() == std::optional<std::string>("c"));
        EXPECT(co_await again.next() == std::nullopt);
    }());
}

TEST_CASE("io_framed.a Framed splits into framed halves for two tasks, and unsplit joins them again") {
    auto rt = braid_test::runtime(2);
    rt.block_on([]() -> braid::Task<> {
        auto [a, b] = braid::io::duplex(64);
        Framed peer(std::move(b), LinesCodec());
        Framed framed(std::move(a), LinesCodec());
        co_await peer.send("hello");
        auto [rd, wr] = std::move(framed).into_split();
        auto writer = braid::spawn([](auto wr) -> braid::Task<decltype(wr)> {
            co_await wr.send("from the write half");
            co_return std::move(wr);
        }(std::move(wr)));
        EXPECT(co_await rd.next() == std::optional<std::string>("hello"));
        EXPECT(co_await peer.next() == std::optional<std::string>("from the write half"));
        auto wr2 = co_await writer;
        co_await peer.send("after");
        Framed back = braid::io::unsplit(std::move(rd), std::move(wr2));
        EXPECT(co_await back.next() == std::optional<std::string>("after"));
        co_await back.send("joined");
        EXPECT(co_await peer.next() == std::optional<std::string>("joined"));
    }());
}

TEST_CASE("io_framed.unsplit of framed halves of two streams throws and keeps both halves") {
    auto rt = braid_test::runtime(2);
    rt.block_on([]() -> braid::Task<> {
        auto [a, a_peer] = braid::io::duplex(64);
        auto [b, b_peer] = braid::io::duplex(64);
        auto [rd_a, wr_a] = Framed(std::move(a), LinesCodec()).into_split();
        auto [rd_b, wr_b] = Framed(std::move(b), LinesCodec()).into_split();
        int code = 0;
        try {
            (void)braid::io::unsplit(std::move(rd_a), std::move(wr_b));
        } catch (const braid::Error& e) {
            code = e.code();
        }
        EXPECT(code == BRAID_EINVAL);
        Framed ok = braid::io::unsplit(std::move(rd_a), std::move(wr_a));
        co_await ok.send("still here");
        std::string got;
        braid::io::BufReader peer(std::move(a_peer));
        co_await peer.read_line(got);
        EXPECT(got == "still here\n");
    }());
}

TEST_CASE("io_framed.owned halves reunite into their stream, and refuse halves of another") {
    auto [a, a_peer] = braid::io::duplex(8);
    auto [b, b_peer] = braid::io::duplex(8);
    auto [ra, wa] = braid::io::into_split(std::move(a));
    auto [rb, wb] = braid::io::into_split(std::move(b));
    REQUIRE(ra.is_pair_of(wa));
    REQUIRE_FALSE(ra.is_pair_of(wb));
    REQUIRE(braid_test::error_code_of([&] { (void)std::move(ra).reunite(std::move(wb)); }) == BRAID_EINVAL);
    REQUIRE(ra.is_pair_of(wa));
    braid::io::DuplexStream back = std::move(wa).reunite(std::move(ra));
    (void)back;
}

TEST_CASE("io_framed.BytesCodec gives what each read brought and writes frames as they are") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid_test::MockIo mock;
        mock.on_read("abc").on_read("de");
        braid::io::FramedRead frames(std::move(mock), BytesCodec());
        std::vector<std::string> got;
        while (auto f = co_await frames.next()) got.push_back(*f);
        EXPECT((got == std::vector<std::string>{"abc", "de"}));

        braid_test::MockIo out;
        out.on_write(std::string_view("xy\0z", 4));
        braid::io::FramedWrite w(std::move(out), BytesCodec());
        co_await w.send(std::string("xy\0z", 4));
        EXPECT(w.get_ref().written() == std::string("xy\0z", 4));
    }());
}

// Every way of cutting the input in two gives the same frames and errors
// as the input in one piece: the codec's result does not depend on how the
// bytes arrived.
TEST_CASE("io_framed.AnyDelimiterCodec's frames do not depend on how the bytes are split") {
    const std::string input = "ab,cdefghij;k\n\nlmnopqrstu,v;";
    auto decode_all = [&](std::vector<std::string> pieces) {
        AnyDelimiterCodec codec(",;\n", ",", 5);
        ByteBuffer buf;
        std::vector<std::string> out;
        for (const std::string& p : pieces) {
            buf.append(p.data(), p.size());
            for (;;) {
                try {
                    std::optional<std::string> f = codec.decode(buf);
                    if (!f) break;
                    out.push_back(*f);
                } catch (const braid::Error& e) {
                    REQUIRE(e.code() == BRAID_ERANGE);
                    out.push_back("<too long>");
                }
            }
        }
        if (auto last = codec.decode_eof(buf)) out.push_back(*last);
        return out;
    };
    std::vector<std::string> whole = decode_all({input});
    REQUIRE(whole == std::vector<std::string>{"ab", "<too long>", "k", "", "<too long>", "v"});
    for (std::size_t cut = 0; cut <= input.size(); ++cut) {
        for (std::size_t cut2 = cut; cut2 <= input.size(); ++cut2) {
            INFO("cut at " << cut << " and " << cut2);
            REQUIRE(decode_all({input.substr(0, cut), input.substr(cut, cut2 - cut), input.substr(cut2)}) == whole);
        }
    }
}

TEST_CASE("io_framed.AnyDelimiterCodec over a FramedRead: the last chunk comes at end of file") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid_test::MockIo mock;
        mock.on_read("a,b;").on_read("c");
        braid::io::FramedRead frames(std::move(mock), AnyDelimiterCodec());
        std::vector<std::string> got;
        while (auto f = co_await frames.next()) got.push_back(*f);
        EXPECT((got == std::vector<std::string>{"a", "b", "c"}));
        AnyDelimiterCodec dflt;
        EXPECT(dflt.max_length() == SIZE_MAX);
    }());
}

}  // namespace test_io_framed
