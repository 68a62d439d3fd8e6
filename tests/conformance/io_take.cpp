// Conformance: tokio/tests/io_take.rs (Tokio 1.24), ported from what each
// case asserts.  Rust's in-memory reader (&[u8]) is a braid::io::Cursor over
// a string_view; Rust's ReadBuf with a filled prefix is the part of the
// buffer after that prefix.
//
// Gaps: none.
//
// Not applicable:
//   bad_reader_fails - a reader that swaps Rust's ReadBuf for another one,
//     which take must catch (a panic); braid's MutableBuffer is a pointer
//     and a size, which a reader cannot replace.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "support.hpp"

namespace conformance_io_take {

TEST_CASE("io_take.take") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        char buf[6] = {0};
        braid::io::Cursor<std::string_view> rd("hello world");
        auto limited = braid::io::take(std::move(rd), 4);
        std::size_t n = co_await limited.read(buf);
        EXPECT(n == 4);
        EXPECT(std::string(buf, 6) == std::string("hell\0\0", 6));
    }());
}

TEST_CASE("io_take.issue_4435") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        char buf[8] = {0};
        braid::io::Cursor<std::string_view> rd("hello world");
        braid::io::Take limited(std::move(rd), 4);
        buf[0] = 'A';
        buf[1] = 'B';
        co_await limited.read(braid::io::MutableBuffer(buf + 2, 6));
        EXPECT(std::string(buf, 8) == std::string("ABhell\0\0", 8));
    }());
}

}  // namespace conformance_io_take
