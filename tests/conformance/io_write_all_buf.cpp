// Conformance: tokio/tests/io_write_all_buf.rs (Tokio 1.24), ported from what
// the cases assert.  Tokio's chained bytes::Buf (`hello`.chain(`world`)) is
// a std::span<braid::io::ConstBuffer> of the two pieces, which write_all_buf
// advances past what was written; the hand-written AsyncWrites are
// braid_test::FnWriters.  They have no write_vectored, so each write is of
// the first piece left, as in Tokio.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <algorithm>
#include <span>
#include <string>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_io_write_all_buf {

namespace {
// Tokio's Bytes::from_static(b"hello").chain(Bytes::from_static(b"world")).
struct HelloWorld {
    braid::io::ConstBuffer pieces[2] = {"hello", "world"};
    std::span<braid::io::ConstBuffer> buf{pieces};
    // What is left, concatenated (Tokio's copy_to_bytes).
    std::string rest() const {
        std::string s;
        for (auto b : buf) s.append(static_cast<const char*>(b.data), b.size);
        return s;
    }
};
}  // namespace

TEST_CASE("io_write_all_buf.write_all_buf") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        std::string got;
        int cnt = 0;
        braid_test::FnWriter wr([&](braid::io::ConstBuffer b, std::size_t& n) {
            n = std::min<std::size_t>(4, b.size);  // at most 4 bytes a write
            ++cnt;
            got.append(static_cast<const char*>(b.data), n);
            return 0;
        });
        HelloWorld hw;
        co_await braid::io::write_all_buf(wr, hw.buf);
        EXPECT(hw.rest().empty());
        EXPECT(got == "helloworld");
        // 4 writes: [hell], [o], [worl], [d]
        EXPECT(cnt == 4);
    }());
}

TEST_CASE("io_write_all_buf.write_buf_err") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        int cnt = 0;
        // takes 4 bytes, then fails ("whoops")
        braid_test::FnWriter wr([&](braid::io::ConstBuffer, std::size_t& n) {
            if (++cnt == 2) return int(BRAID_EIO);
            n = 4;
            return 0;
        });
        HelloWorld hw;
        int code = 0;
        try {
            co_await braid::io::write_all_buf(wr, hw.buf);
        } catch (const braid::IoError& e) {
            code = e.code();
        }
        EXPECT(code == BRAID_EIO);
        EXPECT(hw.rest() == "oworld");
    }());
}

}  // namespace conformance_io_write_all_buf
