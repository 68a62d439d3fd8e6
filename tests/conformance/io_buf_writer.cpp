// Conformance: tokio/tests/io_buf_writer.rs (Tokio 1.24; futures-rs's
// io_buf_writer.rs), ported from what each case asserts.  Rust's Vec<u8> as
// a writer and the case's MaybePending writer are types whose write() is a
// poll function (braid_test::poll_fn).  braid's BufWriter tells how many
// bytes it holds (buffered()) but does not show them (Tokio's buffer()): the
// cases check that count, and the bytes once they reach the inner writer.
// #[tokio::test] runs on a current-thread runtime.
//
// Gaps:
//   buf_writer_seek - seeking through a BufWriter (AsyncSeek, which flushes
//     first, over an in-memory Cursor): braid's BufWriter has no seek, and
//     braid has no in-memory Cursor.
//   maybe_pending_buf_writer_seek - the same seek, over a seek that is
//     pending once.
//   write_vectored_empty_on_non_vectored, write_vectored_empty_on_vectored,
//   write_vectored_basic_on_non_vectored, write_vectored_basic_on_vectored,
//   write_vectored_large_total_on_non_vectored,
//   write_vectored_large_total_on_vectored,
//   write_vectored_odd_on_non_vectored, write_vectored_odd_on_vectored,
//   write_vectored_large_slice_on_non_vectored,
//   write_vectored_large_slice_on_vectored - vectored writes
//     (poll_write_vectored / is_write_vectored, several IoSlices in one
//     write): braid's writers take one ConstBuffer a write.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <coroutine>
#include <string>
#include <utility>

#include "io_support.hpp"
#include "support.hpp"

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

TEST_CASE("buf_writer") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on(buf_writer_sequence(VecWriter{}, &vec_contents));
}

TEST_CASE("buf_writer_inner_flushes") {
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

TEST_CASE("maybe_pending_buf_writer") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on(buf_writer_sequence(MaybePending{}, &pending_contents));
}

TEST_CASE("maybe_pending_buf_writer_inner_flushes") {
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
