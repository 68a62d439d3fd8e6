// Conformance: tokio/tests/io_buf_reader.rs (Tokio 1.24; futures-rs's
// io_buf_reader.rs), ported from what each case asserts.  Rust's in-memory
// reader (&[u8]) is a braid_test::MockIo holding the bytes; the cases' own
// readers (MaybePending, ShortReader) are types whose read() is a poll
// function (braid_test::poll_fn).  A future polled by hand (tokio_test's
// spawn(read.fill_buf())) is braid_test::as_stream + PollByHand.
// #[tokio::test] runs on a current-thread runtime.
//
// Gaps: none.
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

namespace conformance_io_buf_reader {

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

TEST_CASE("io_buf_reader.test_buffered_reader") {
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

TEST_CASE("io_buf_reader.test_short_reads") {
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

TEST_CASE("io_buf_reader.maybe_pending") {
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

TEST_CASE("io_buf_reader.maybe_pending_buf_read") {
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
TEST_CASE("io_buf_reader.test_fill_buf_wrapper") {
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

namespace {
using braid::io::SeekFrom;

// The bytes from, from + 1, ..., to - 1.  (No initializer lists: g++ 12
// cannot compile one inside a co_await expression.)
std::string run(int from, int to) {
    std::string s;
    for (int b = from; b < to; ++b) s.push_back(char(b));
    return s;
}

// Tokio's run_fill_buf!: the bytes fill_buf gives.
template <class R>
braid::Task<std::string> fill(R& reader) {
    co_return str(co_await reader.fill_buf());
}

// An in-memory reader whose seek is pending once (waking its task) before
// it completes.
struct MaybePendingSeek {
    braid::io::Cursor<std::string> inner;
    bool ready = true;
    auto read(braid::io::MutableBuffer b) { return inner.read(b); }
    auto seek(SeekFrom p) {
        return braid_test::poll_fn<uint64_t>([this, p](braid_wake_fn w, void* d, uint64_t& pos) {
            if (!ready) {
                ready = true;
                w(d);
                return int(BRAID_PENDING);
            }
            ready = false;
            try {
                pos = inner.seek(p);
            } catch (const braid::Error& e) {
                return e.code();
            }
            return 0;
        });
    }
};

// The cases' sequence over an inner reader of the bytes 5, 6, 7, 0, 1, 2, 3, 4.
template <class R>
braid::Task<> seek_sequence(R inner, SeekFrom first, uint64_t first_pos) {
    braid::io::BufReader reader(std::move(inner), 2);
    EXPECT(co_await reader.seek(first) == first_pos);
    EXPECT(co_await fill(reader) == run(0, 2));
    EXPECT(co_await braid_test::code_of(reader.seek(SeekFrom::current(INT64_MIN))) == BRAID_EINVAL);
    EXPECT(co_await fill(reader) == run(0, 2));
    EXPECT(co_await reader.seek(SeekFrom::current(1)) == 4);
    EXPECT(co_await fill(reader) == run(1, 3));
    reader.consume(1);
    EXPECT(co_await reader.seek(SeekFrom::current(-2)) == 3);
}
}  // namespace

TEST_CASE("io_buf_reader.test_buffered_reader_seek") {
    auto rt = braid_test::current_thread_runtime();
    braid::io::Cursor<std::string> inner(bytes({5, 6, 7, 0, 1, 2, 3, 4}));
    rt.block_on(seek_sequence(std::move(inner), SeekFrom::start_at(3), 3));
}

TEST_CASE("io_buf_reader.test_buffered_reader_seek_underflow") {
    // A reader that gives its position modulo 256 for each byte, and whose
    // position wraps around as it seeks.
    struct PositionReader {
        uint64_t pos = 0;
        auto read(braid::io::MutableBuffer b) {
            return braid_test::poll_fn<std::size_t>([this, b](braid_wake_fn, void*, std::size_t& n) {
                for (std::size_t i = 0; i < b.size; ++i) static_cast<unsigned char*>(b.data)[i] = (unsigned char)(pos + i);
                pos += b.size;
                n = b.size;
                return 0;
            });
        }
        uint64_t seek(SeekFrom p) {
            switch (p.kind) {
                case SeekFrom::Start: pos = p.start; break;
                case SeekFrom::Current: pos += uint64_t(p.offset); break;
                case SeekFrom::End: pos = UINT64_MAX + uint64_t(p.offset); break;
            }
            return pos;
        }
    };
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid::io::BufReader reader(PositionReader{}, 5);
        EXPECT(co_await fill(reader) == run(0, 5));
        EXPECT(co_await reader.seek(SeekFrom::end(-5)) == UINT64_MAX - 5);
        EXPECT((co_await fill(reader)).size() == 5);
        // the following seek will require two underlying seeks
        const uint64_t expected = 9'223'372'036'854'775'802ULL;
        EXPECT(co_await reader.seek(SeekFrom::current(INT64_MIN)) == expected);
        EXPECT((co_await fill(reader)).size() == 5);
        // seeking to 0 should empty the buffer.
        EXPECT(co_await reader.seek(SeekFrom::current(0)) == expected);
        EXPECT(reader.get_ref().pos == expected);
    }());
}

TEST_CASE("io_buf_reader.maybe_pending_seek") {
    auto rt = braid_test::current_thread_runtime();
    MaybePendingSeek inner{braid::io::Cursor<std::string>(bytes({5, 6, 7, 0, 1, 2, 3, 4}))};
    rt.block_on(seek_sequence(std::move(inner), SeekFrom::current(3), 3));
}

}  // namespace conformance_io_buf_reader
