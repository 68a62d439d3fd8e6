// Conformance: tokio/tests/io_buf_reader.rs (Tokio 1.24; futures-rs's
// io_buf_reader.rs), ported from what each case asserts.  Rust's in-memory
// reader (&[u8]) is a braid_test::MockIo holding the bytes; the cases' own
// readers (MaybePending, ShortReader) are types whose read() is a poll
// function (braid_test::poll_fn).  A future polled by hand (tokio_test's
// spawn(read.fill_buf())) is braid_test::as_stream + PollByHand.
// #[tokio::test] runs on a current-thread runtime.
//
// Gaps:
//   test_buffered_reader_seek - seeking through a BufReader (AsyncSeek over
//     an in-memory Cursor): braid's BufReader has no seek, and braid has no
//     in-memory Cursor.
//   test_buffered_reader_seek_underflow - the same seek (SeekFrom::End,
//     SeekFrom::Current(i64::MIN) split into two seeks of the inner reader).
//   maybe_pending_seek - the same seek, over a seek that is pending once.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <deque>
#include <span>
#include <string>
#include <vector>

#include "io_support.hpp"
#include "support.hpp"

using braid_test::MockIo;

namespace {
std::string str(std::span<const std::byte> s) { return std::string(reinterpret_cast<const char*>(s.data()), s.size()); }
template <std::size_t N>
std::string str(const std::array<char, N>& a) {
    return std::string(a.data(), N);
}
std::string bytes(std::initializer_list<int> v) {
    std::string s;
    for (int b : v) s.push_back(char(b));
    return s;
}

// Before every read: pending once (waking its task), then the bytes.
struct MaybePending {
    std::string inner;
    bool ready_read = false;
    auto read(braid::io::MutableBuffer b) {
        return braid_test::poll_fn<std::size_t>([this, b](braid_wake_fn w, void* d, std::size_t& n) {
            if (!ready_read) {
                ready_read = true;
                w(d);
                return int(BRAID_PENDING);
            }
            ready_read = false;
            n = std::min(b.size, inner.size());
            std::memcpy(b.data, inner.data(), n);
            inner.erase(0, n);
            return 0;
        });
    }
};
}  // namespace

TEST_CASE("test_buffered_reader") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        MockIo inner;
        inner.on_read(bytes({5, 6, 7, 0, 1, 2, 3, 4}));
        braid::io::BufReader reader(std::move(inner), 2);

        std::array<char, 3> buf{};
        std::size_t nread = co_await reader.read(buf);
        EXPECT(nread == 3);
        EXPECT(str(buf) == bytes({5, 6, 7}));
        EXPECT(reader.buffer().empty());

        std::array<char, 2> buf2{};
        nread = co_await reader.read(buf2);
        EXPECT(nread == 2);
        EXPECT(str(buf2) == bytes({0, 1}));
        EXPECT(reader.buffer().empty());

        std::array<char, 1> buf1{};
        nread = co_await reader.read(buf1);
        EXPECT(nread == 1);
        EXPECT(str(buf1) == bytes({2}));
        EXPECT(str(reader.buffer()) == bytes({3}));

        buf = {};
        nread = co_await reader.read(buf);
        EXPECT(nread == 1);
        EXPECT(str(buf) == bytes({3, 0, 0}));
        EXPECT(reader.buffer().empty());

        nread = co_await reader.read(buf);
        EXPECT(nread == 1);
        EXPECT(str(buf) == bytes({4, 0, 0}));
        EXPECT(reader.buffer().empty());

        EXPECT(co_await reader.read(buf) == 0);
    }());
}

TEST_CASE("test_short_reads") {
    // A reader whose reads report the given lengths, then 0 for ever.
    struct ShortReader {
        std::deque<std::size_t> lengths;
        auto read(braid::io::MutableBuffer b) {
            return braid_test::poll_fn<std::size_t>([this, b](braid_wake_fn, void*, std::size_t& n) {
                n = 0;
                if (!lengths.empty()) {
                    n = std::min(b.size, lengths.front());
                    lengths.pop_front();
                    std::memset(b.data, 0, n);
                }
                return 0;
            });
        }
    };
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid::io::BufReader reader(ShortReader{{0, 1, 2, 0, 1, 0}});
        std::array<char, 2> buf{};
        EXPECT(co_await reader.read(buf) == 0);
        EXPECT(co_await reader.read(buf) == 1);
        EXPECT(co_await reader.read(buf) == 2);
        EXPECT(co_await reader.read(buf) == 0);
        EXPECT(co_await reader.read(buf) == 1);
        EXPECT(co_await reader.read(buf) == 0);
        EXPECT(co_await reader.read(buf) == 0);
    }());
}

TEST_CASE("maybe_pending") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid::io::BufReader reader(MaybePending{bytes({5, 6, 7, 0, 1, 2, 3, 4})}, 2);

        std::array<char, 3> buf{};
        std::size_t nread = co_await reader.read(buf);
        EXPECT(nread == 3);
        EXPECT(str(buf) == bytes({5, 6, 7}));
        EXPECT(reader.buffer().empty());

        std::array<char, 2> buf2{};
        nread = co_await reader.read(buf2);
        EXPECT(nread == 2);
        EXPECT(str(buf2) == bytes({0, 1}));
        EXPECT(reader.buffer().empty());

        std::array<char, 1> buf1{};
        nread = co_await reader.read(buf1);
        EXPECT(nread == 1);
        EXPECT(str(buf1) == bytes({2}));
        EXPECT(str(reader.buffer()) == bytes({3}));

        buf = {};
        nread = co_await reader.read(buf);
        EXPECT(nread == 1);
        EXPECT(str(buf) == bytes({3, 0, 0}));
        EXPECT(reader.buffer().empty());

        nread = co_await reader.read(buf);
        EXPECT(nread == 1);
        EXPECT(str(buf) == bytes({4, 0, 0}));
        EXPECT(reader.buffer().empty());

        EXPECT(co_await reader.read(buf) == 0);
    }());
}

TEST_CASE("maybe_pending_buf_read") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid::io::BufReader reader(MaybePending{bytes({0, 1, 2, 3, 1, 0})}, 2);
        std::string v;
        co_await reader.read_until(3, v);
        EXPECT(v == bytes({0, 1, 2, 3}));
        v.clear();
        co_await reader.read_until(1, v);
        EXPECT(v == bytes({1}));
        v.clear();
        co_await reader.read_until(8, v);
        EXPECT(v == bytes({0}));
        v.clear();
        co_await reader.read_until(9, v);
        EXPECT(v.empty());
    }());
}

// This tests the AsyncBufReadExt::fill_buf wrapper.
TEST_CASE("test_fill_buf_wrapper") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [write, read_end] = braid::io::duplex(16);
        braid::io::BufReader read(std::move(read_end));
        co_await write.write_all("hello world");

        EXPECT(str(co_await read.fill_buf()) == "hello world");
        read.consume(std::string("hello ").size());
        EXPECT(str(co_await read.fill_buf()) == "world");
        EXPECT(str(co_await read.fill_buf()) == "world");
        read.consume(std::string("world").size());

        {
            auto fill = braid_test::as_stream(read.fill_buf());
            braid_test::PollByHand polled(fill);
            EXPECT(polled.poll_next().is_pending());

            co_await write.write_all("foo bar");
            EXPECT(polled.is_woken());
            auto p = polled.poll_next();
            EXPECT(p.ready && p.item && str(*p.item) == "foo bar");
        }  // drop(fill)

        { braid::io::DuplexStream gone = std::move(write); }  // drop(write)
        EXPECT(str(co_await read.fill_buf()) == "foo bar");
        read.consume(std::string("foo bar").size());
        EXPECT((co_await read.fill_buf()).empty());
    }());
}
