// Conformance: tokio/tests/io_buf_writer.rs (Tokio 1.24; futures-rs's
// io_buf_writer.rs), ported from what each case asserts.  Rust's Vec<u8> as
// a writer and the case's MaybePending writer are types whose write() is a
// poll function (braid_test::poll_fn).  braid's BufWriter tells how many
// bytes it holds (buffered()) but does not show them (Tokio's buffer()): the
// cases check that count, and the bytes once they reach the inner writer.
// #[tokio::test] runs on a current-thread runtime.
//
// Tokio's MockWriter, vectored or not, is two types here: braid tells a
// vectored writer by its write_vectored() (the AsyncWriteVectored concept),
// at compile time, where Tokio asks is_write_vectored().
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <algorithm>
#include <coroutine>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_io_buf_writer {

namespace {
// The bytes from, from + 1, ..., to - 1.  (No initializer lists: g++ 12
// cannot compile one inside a co_await expression.)
std::string seq(int from, int to) {
    std::string s;
    for (int b = from; b < to; ++b) s.push_back(char(b));
    return s;
}

// Rust's Vec<u8> as a writer: takes everything, at once.
struct VecWriter {
    std::string data;
    auto write(braid::io::ConstBuffer b) {
        return braid_test::poll_fn<std::size_t>([this, b](braid_wake_fn, void*, std::size_t& n) {
            data.append(static_cast<const char*>(b.data), b.size);
            n = b.size;
            return 0;
        });
    }
    std::suspend_never flush() { return {}; }
    std::suspend_never shutdown() { return {}; }
};

// Every write is pending once (waking its task) before it takes everything.
struct MaybePending {
    std::string inner;
    bool ready = false;
    auto write(braid::io::ConstBuffer b) {
        return braid_test::poll_fn<std::size_t>([this, b](braid_wake_fn w, void* d, std::size_t& n) {
            if (!ready) {
                ready = true;
                w(d);
                return int(BRAID_PENDING);
            }
            ready = false;
            inner.append(static_cast<const char*>(b.data), b.size);
            n = b.size;
            return 0;
        });
    }
    std::suspend_never flush() { return {}; }
    std::suspend_never shutdown() { return {}; }
};

// The sequence of buf_writer and maybe_pending_buf_writer, over any inner
// writer; contents(w) is what reached it.
template <class W, class Contents>
braid::Task<> buf_writer_sequence(W inner, Contents contents) {
    braid::io::BufWriter writer(std::move(inner), 2);

    EXPECT(co_await writer.write(seq(0, 2)) == 2);
    EXPECT(writer.buffered() == 0);
    EXPECT(contents(writer.get_ref()) == seq(0, 2));

    EXPECT(co_await writer.write(seq(2, 3)) == 1);
    EXPECT(writer.buffered() == 1);
    EXPECT(contents(writer.get_ref()) == seq(0, 2));

    EXPECT(co_await writer.write(seq(3, 4)) == 1);
    EXPECT(writer.buffered() == 2);
    EXPECT(contents(writer.get_ref()) == seq(0, 2));

    co_await writer.flush();
    EXPECT(writer.buffered() == 0);
    EXPECT(contents(writer.get_ref()) == seq(0, 4));

    EXPECT(co_await writer.write(seq(4, 5)) == 1);
    EXPECT(co_await writer.write(seq(5, 6)) == 1);
    EXPECT(writer.buffered() == 2);
    EXPECT(contents(writer.get_ref()) == seq(0, 4));

    EXPECT(co_await writer.write(seq(6, 7)) == 1);
    EXPECT(writer.buffered() == 1);
    EXPECT(contents(writer.get_ref()) == seq(0, 6));

    EXPECT(co_await writer.write(seq(7, 9)) == 2);
    EXPECT(writer.buffered() == 0);
    EXPECT(contents(writer.get_ref()) == seq(0, 9));

    EXPECT(co_await writer.write(seq(9, 12)) == 3);
    EXPECT(writer.buffered() == 0);
    EXPECT(contents(writer.get_ref()) == seq(0, 12));

    co_await writer.flush();
    EXPECT(writer.buffered() == 0);
    EXPECT(contents(writer.get_ref()) == seq(0, 12));
}

std::string vec_contents(const VecWriter& w) { return w.data; }
std::string pending_contents(const MaybePending& w) { return w.inner; }
}  // namespace

TEST_CASE("io_buf_writer.buf_writer") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on(buf_writer_sequence(VecWriter{}, &vec_contents));
}

TEST_CASE("io_buf_writer.buf_writer_inner_flushes") {
    auto rt = braid_test::current_thread_runtime();
    std::string w = rt.block_on([]() -> braid::Task<std::string> {
        braid::io::BufWriter w(VecWriter{}, 3);
        EXPECT(co_await w.write(seq(0, 2)) == 2);
        EXPECT(w.get_ref().data.empty());
        co_await w.flush();
        VecWriter inner = std::move(w).into_inner();
        co_return inner.data;
    }());
    REQUIRE(w == seq(0, 2));
}

TEST_CASE("io_buf_writer.maybe_pending_buf_writer") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on(buf_writer_sequence(MaybePending{}, &pending_contents));
}

TEST_CASE("io_buf_writer.maybe_pending_buf_writer_inner_flushes") {
    auto rt = braid_test::current_thread_runtime();
    std::string w = rt.block_on([]() -> braid::Task<std::string> {
        braid::io::BufWriter w(MaybePending{}, 3);
        EXPECT(co_await w.write(seq(0, 2)) == 2);
        EXPECT(w.get_ref().inner.empty());
        co_await w.flush();
        co_return std::move(w).into_inner().inner;
    }());
    REQUIRE(w == seq(0, 2));
}

namespace {
using braid::io::ConstBuffer;
using braid::io::SeekFrom;

// A Cursor over a vector whose every write and seek is pending once
// (waking its task) before it completes.
struct MaybePendingSeek {
    braid::io::Cursor<std::string> inner;
    bool ready_write = false;
    bool ready_seek = false;
    auto write(ConstBuffer b) {
        return braid_test::poll_fn<std::size_t>([this, b](braid_wake_fn w, void* d, std::size_t& n) {
            if (!std::exchange(ready_write, !ready_write)) {
                w(d);
                return int(BRAID_PENDING);
            }
            n = inner.write(b).await_resume();
            return 0;
        });
    }
    std::suspend_never flush() { return {}; }
    std::suspend_never shutdown() { return {}; }
    auto seek(SeekFrom p) {
        return braid_test::poll_fn<uint64_t>([this, p](braid_wake_fn w, void* d, uint64_t& pos) {
            if (!std::exchange(ready_seek, !ready_seek)) {
                w(d);
                return int(BRAID_PENDING);
            }
            pos = inner.seek(p);
            return 0;
        });
    }
};

template <class W>
braid::Task<> seek_sequence(W inner, std::string (*contents)(const W&), std::string (*into)(W&&)) {
    braid::io::BufWriter w(std::move(inner), 3);
    co_await w.write_all(seq(0, 6));
    co_await w.write_all(seq(6, 8));
    EXPECT(co_await w.seek(SeekFrom::current(0)) == 8);
    EXPECT(contents(w.get_ref()) == seq(0, 8));
    EXPECT(co_await w.seek(SeekFrom::start_at(2)) == 2);
    co_await w.write_all(seq(8, 10));
    co_await w.flush();
    EXPECT(into(std::move(w).into_inner()) == seq(0, 2) + seq(8, 10) + seq(4, 8));
}
std::string cursor_contents(const braid::io::Cursor<std::string>& c) { return c.get_ref(); }
std::string cursor_into(braid::io::Cursor<std::string>&& c) { return std::move(c).into_inner(); }
std::string pending_seek_contents(const MaybePendingSeek& c) { return c.inner.get_ref(); }
std::string pending_seek_into(MaybePendingSeek&& c) { return std::move(c.inner).into_inner(); }

// Takes at most write_len bytes a write; the vectored one takes them across
// its buffers.
struct MockWriter {
    std::string data;
    std::size_t write_len = 0;
    std::size_t write_up_to(ConstBuffer b, std::size_t limit) {
        std::size_t n = std::min(b.size, limit);
        data.append(static_cast<const char*>(b.data), n);
        return n;
    }
    auto write(ConstBuffer b) {
        return braid_test::poll_fn<std::size_t>([this, b](braid_wake_fn, void*, std::size_t& n) {
            n = write_up_to(b, write_len);
            return 0;
        });
    }
    std::suspend_never flush() { return {}; }
    std::suspend_never shutdown() { return {}; }
};
struct VectoredMockWriter : MockWriter {
    auto write_vectored(std::span<const ConstBuffer> bufs) {
        return braid_test::poll_fn<std::size_t>([this, bufs](braid_wake_fn, void*, std::size_t& n) {
            n = 0;
            for (const ConstBuffer& b : bufs) {
                n += write_up_to(b, write_len - n);
                if (n == write_len) break;
            }
            return 0;
        });
    }
};

template <class W>
W writer(std::size_t write_len) {
    W w;
    w.write_len = write_len;
    return w;
}

std::string str(std::span<const std::byte> s) { return std::string(reinterpret_cast<const char*>(s.data()), s.size()); }

const std::string MSG = "foo bar baz";
std::vector<ConstBuffer> slices(std::initializer_list<std::pair<std::size_t, std::size_t>> ranges) {
    std::vector<ConstBuffer> v;
    for (auto [from, to] : ranges) v.emplace_back(MSG.data() + from, to - from);
    return v;
}
// Tokio's IoBufs::advance: drops n bytes off the front of the slices.
void advance(std::vector<ConstBuffer>& bufs, std::size_t n) {
    while (!bufs.empty() && n >= bufs.front().size) {
        n -= bufs.front().size;
        bufs.erase(bufs.begin());
    }
    if (n) bufs.front() = bufs.front().subspan(n);
}

template <class W>
braid::Task<> empty_case() {
    braid::io::BufWriter w(writer<W>(4));
    EXPECT(co_await braid::io::write_vectored(w, std::span<const ConstBuffer>()) == 0);
    std::vector<ConstBuffer> io_vec(3);
    EXPECT(co_await braid::io::write_vectored(w, io_vec) == 0);
    co_await w.flush();
    EXPECT(w.get_ref().data.empty());
}

template <class W>
braid::Task<> basic_case() {
    std::vector<ConstBuffer> bufs = slices({{0, 4}, {4, 8}, {8, 11}});
    braid::io::BufWriter w(writer<W>(4));
    EXPECT(co_await braid::io::write_vectored(w, bufs) == MSG.size());
    EXPECT(str(w.buffer()) == MSG);
    co_await w.flush();
    EXPECT(w.get_ref().data == MSG);
}

// Tokio's VectoredWriteHarness::write_all over a BufWriter of capacity 8;
// what reached the writer once flushed.
template <class W>
braid::Task<std::string> harness(std::vector<ConstBuffer> io_vec) {
    const std::size_t buf_capacity = 8;
    braid::io::BufWriter w(writer<W>(4), buf_capacity);
    std::size_t total_written = 0;
    while (!io_vec.empty()) {
        std::size_t n = co_await braid::io::write_vectored(w, io_vec);
        EXPECT(n != 0);
        EXPECT(w.buffer().size() <= buf_capacity);
        total_written += n;
        advance(io_vec, n);
    }
    EXPECT(total_written == MSG.size());
    co_await w.flush();
    co_return w.get_ref().data;
}
}  // namespace

TEST_CASE("io_buf_writer.buf_writer_seek") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on(seek_sequence(braid::io::Cursor<std::string>(), &cursor_contents, &cursor_into));
}

TEST_CASE("io_buf_writer.maybe_pending_buf_writer_seek") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on(seek_sequence(MaybePendingSeek{}, &pending_seek_contents, &pending_seek_into));
}

TEST_CASE("io_buf_writer.write_vectored_empty_on_non_vectored") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on(empty_case<MockWriter>());
}

TEST_CASE("io_buf_writer.write_vectored_empty_on_vectored") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on(empty_case<VectoredMockWriter>());
}

TEST_CASE("io_buf_writer.write_vectored_basic_on_non_vectored") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on(basic_case<MockWriter>());
}

TEST_CASE("io_buf_writer.write_vectored_basic_on_vectored") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on(basic_case<VectoredMockWriter>());
}

TEST_CASE("io_buf_writer.write_vectored_large_total_on_non_vectored") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        std::vector<ConstBuffer> io_vec = slices({{0, 4}, {4, 8}, {8, 11}});
        braid::io::BufWriter w(writer<MockWriter>(4), 8);
        std::size_t n = co_await braid::io::write_vectored(w, io_vec);
        EXPECT(n == 8);
        EXPECT(str(w.buffer()) == MSG.substr(0, 8));
        advance(io_vec, n);
        n = co_await braid::io::write_vectored(w, io_vec);
        EXPECT(n == 3);
        EXPECT(w.get_ref().data == MSG.substr(0, 8));
        EXPECT(str(w.buffer()) == MSG.substr(8));
    }());
}

TEST_CASE("io_buf_writer.write_vectored_large_total_on_vectored") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        std::vector<ConstBuffer> io_vec = slices({{0, 4}, {4, 8}, {8, 11}});
        braid::io::BufWriter w(writer<VectoredMockWriter>(10), 8);
        std::size_t n = co_await braid::io::write_vectored(w, io_vec);
        EXPECT(n == 10);
        EXPECT(w.buffer().empty());
        advance(io_vec, n);
        n = co_await braid::io::write_vectored(w, io_vec);
        EXPECT(n == 1);
        EXPECT(w.get_ref().data == MSG.substr(0, 10));
        EXPECT(str(w.buffer()) == MSG.substr(10));
    }());
}

TEST_CASE("io_buf_writer.write_vectored_odd_on_non_vectored") {
    auto rt = braid_test::current_thread_runtime();
    REQUIRE(rt.block_on(harness<MockWriter>(slices({{0, 4}, {0, 0}, {4, 9}, {9, 11}}))) == MSG);
}

TEST_CASE("io_buf_writer.write_vectored_odd_on_vectored") {
    auto rt = braid_test::current_thread_runtime();
    REQUIRE(rt.block_on(harness<VectoredMockWriter>(slices({{0, 4}, {0, 0}, {4, 9}, {9, 11}}))) == MSG);
}

TEST_CASE("io_buf_writer.write_vectored_large_slice_on_non_vectored") {
    auto rt = braid_test::current_thread_runtime();
    REQUIRE(rt.block_on(harness<MockWriter>(slices({{0, 0}, {0, 9}, {9, 11}}))) == MSG);
}

TEST_CASE("io_buf_writer.write_vectored_large_slice_on_vectored") {
    auto rt = braid_test::current_thread_runtime();
    REQUIRE(rt.block_on(harness<VectoredMockWriter>(slices({{0, 0}, {0, 9}, {9, 11}}))) == MSG);
}

}  // namespace conformance_io_buf_writer
