// Conformance: tokio/tests/io_write_buf.rs (Tokio 1.24), ported from what the
// case asserts.  Tokio's bytes::Buf (a Cursor over bytes) is a
// braid::io::ConstBuffer here, which write_buf advances past what was
// written; the hand-written AsyncWrite is a braid_test::FnWriter.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_io_write_buf {

// (Tokio's name; it tests write_buf.)
TEST_CASE("io_write_buf.write_all") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        std::string got;
        int cnt = 0;
        braid_test::FnWriter wr([&](braid::io::ConstBuffer b, std::size_t& n) {
            EXPECT_ANYWHERE(cnt == 0);  // one write
            ++cnt;
            n = std::min<std::size_t>(4, b.size);
            got.append(static_cast<const char*>(b.data), n);
            return 0;
        });
        const std::string data = "hello world";
        braid::io::ConstBuffer buf(data);
        std::size_t n = co_await braid::io::write_buf(wr, buf);
        EXPECT(n == 4);
        EXPECT(got == "hell");
        // the buffer's position: 4 bytes in
        EXPECT(buf.data == data.data() + 4);
        EXPECT(buf.size == data.size() - 4);
    }());
}

}  // namespace conformance_io_write_buf
