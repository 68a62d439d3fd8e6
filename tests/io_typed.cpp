// Reading and writing numbers in a byte order, take(), read_buf() and the
// vectored-write fallback, over in-memory streams.
#include <catch2/catch.hpp>

#include <braid/braid.hpp>

#include <bit>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "io_support.hpp"
#include "support.hpp"

namespace test_io_typed {

using braid::io::ConstBuffer;
using braid::io::Cursor;

TEST_CASE("io_typed.integers and floats are written and read back big-endian, or little-endian with _le") {
    auto rt = braid_test::current_thread_runtime();
    std::string bytes = rt.block_on([]() -> braid::Task<std::string> {
        Cursor<std::string> c;
        co_await braid::io::write_u8(c, 0x01);
        co_await braid::io::write_u16(c, 0x0203);
        co_await braid::io::write_u16_le(c, 0x0203);
        co_await braid::io::write_u32(c, 0x04050607);
        co_await braid::io::write_i32_le(c, -2);
        co_await braid::io::write_u64(c, 0x08090a0b0c0d0e0fULL);
        co_await braid::io::write_i64_le(c, INT64_MIN);
        co_await braid::io::write_i8(c, -1);
        co_await braid::io::write_i16(c, -300);
        co_await braid::io::write_f32(c, 1.5f);
        co_await braid::io::write_f64_le(c, -0.25);
        co_await braid::io::write_int<uint32_t>(c, 0xdeadbeef, std::endian::little);

        c.set_position(0);
        EXPECT(co_await braid::io::read_u8(c) == 0x01);
        EXPECT(co_await braid::io::read_u16(c) == 0x0203);
        EXPECT(co_await braid::io::read_u16_le(c) == 0x0203);
        EXPECT(co_await braid::io::read_u32(c) == 0x04050607u);
        EXPECT(co_await braid::io::read_i32_le(c) == -2);
        EXPECT(co_await braid::io::read_u64(c) == 0x08090a0b0c0d0e0fULL);
        EXPECT(co_await braid::io::read_i64_le(c) == INT64_MIN);
        EXPECT(co_await braid::io::read_i8(c) == -1);
        EXPECT(co_await braid::io::read_i16(c) == -300);
        EXPECT(co_await braid::io::read_f32(c) == 1.5f);
        EXPECT(co_await braid::io::read_f64_le(c) == -0.25);
        EXPECT(co_await braid::io::read_int<uint32_t>(c, std::endian::little) == 0xdeadbeefu);
        co_return std::move(c).into_inner();
    }());
    REQUIRE(bytes.substr(0, 11) == std::string("\x01\x02\x03\x03\x02\x04\x05\x06\x07\xfe\xff", 11));
    REQUIRE(bytes.substr(13, 8) == "\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f");
}

TEST_CASE("io_typed.an integer read that meets end of file first throws BRAID_EEOF") {
    auto rt = braid_test::current_thread_runtime();
    int code = rt.block_on([]() -> braid::Task<int> {
        Cursor<std::string_view> c("\x01\x02\x03");
        co_return co_await braid_test::code_of(braid::io::read_u32(c));
    }());
    REQUIRE(code == BRAID_EEOF);
}

TEST_CASE("io_typed.take gives at most its limit, then end of file without reading the inner reader") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid_test::MockIo mock;
        mock.on_read("hello").on_read(" world");
        auto limited = braid::io::take(mock, 7);  // borrows the mock (a Take<MockIo&>)
        EXPECT(co_await braid::io::read_to_string(limited) == "hello w");
        EXPECT(limited.limit() == 0);
        EXPECT(mock.read_polls() == 2);
        char b[8];
        EXPECT(co_await limited.read(b) == 0);
        EXPECT(mock.read_polls() == 2);
        // A larger limit lets the rest through.
        limited.set_limit(100);
        EXPECT(co_await braid::io::read_to_string(limited) == "orld");
        EXPECT(limited.limit() == 96);
    }());
}

TEST_CASE("io_typed.read_buf appends one read to the spare capacity, growing a full container") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        Cursor<std::string> src(std::string(100, 'x'));
        std::string out = "ab";
        out.shrink_to_fit();
        std::size_t cap = out.capacity();
        std::size_t n = co_await braid::io::read_buf(src, out);
        EXPECT(n == out.size() - 2);
        EXPECT(n >= 1);
        EXPECT(out.substr(0, 2) == "ab");
        EXPECT(out.capacity() > cap || n == cap - 2);
        // Spare capacity is used as it is.
        std::vector<char> v;
        v.reserve(10);
        src.set_position(0);
        EXPECT(co_await braid::io::read_buf(src, v) == 10);
        EXPECT(v.size() == 10);
        // End of file: 0, nothing appended.
        src.set_position(100);
        EXPECT(co_await braid::io::read_buf(src, v) == 0);
        EXPECT(v.size() == 10);
    }());
}

TEST_CASE("io_typed.read_buf leaves the container as it was when the read fails") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid_test::MockIo mock;
        mock.on_read_error(BRAID_ECONNRESET);
        std::string out = "kept";
        EXPECT(co_await braid_test::code_of(braid::io::read_buf(mock, out)) == BRAID_ECONNRESET);
        EXPECT(out == "kept");
    }());
}

TEST_CASE("io_typed.write_vectored over a writer without it writes the first non-empty buffer") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid_test::MockIo mock;
        mock.on_write("two");
        static_assert(!braid::io::AsyncWriteVectored<braid_test::MockIo>);
        ConstBuffer parts[] = {ConstBuffer(""), ConstBuffer("two"), ConstBuffer("three")};
        EXPECT(co_await braid::io::write_vectored(mock, parts) == 3);
        EXPECT(mock.written() == "two");
        ConstBuffer empties[] = {ConstBuffer(""), ConstBuffer("")};
        EXPECT(co_await braid::io::write_vectored(mock, empties) == 0);
    }());
}

TEST_CASE("io_typed.write_vectored over a cursor takes every buffer in one call") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        Cursor<std::string> c;
        ConstBuffer parts[] = {ConstBuffer("one "), ConstBuffer(""), ConstBuffer("two")};
        EXPECT(co_await braid::io::write_vectored(c, parts) == 7);
        EXPECT(c.get_ref() == "one two");
    }());
}

TEST_CASE("io_typed.a byte stream writes several buffers with one writev") {
    static_assert(braid::io::AsyncWriteVectored<braid::net::UnixStream>);
    static_assert(braid::io::AsyncWriteVectored<braid::net::TcpStream>);
    auto rt = braid_test::runtime(2);
    rt.block_on([]() -> braid::Task<> {
        auto [a, b] = braid::net::UnixStream::pair();
        ConstBuffer parts[] = {ConstBuffer("one "), ConstBuffer(""), ConstBuffer("two "), ConstBuffer("three")};
        std::size_t n = co_await a.write_vectored(parts);
        EXPECT(n == 13);  // a socket pair takes 13 bytes at once
        EXPECT(co_await a.write_vectored(std::span<const ConstBuffer>()) == 0);
        // More buffers than one call looks at: a prefix is taken.
        std::vector<std::string> many;
        for (int i = 0; i < BRAID_IO_SLICES_MAX + 10; ++i) many.push_back(std::to_string(i % 10));
        std::vector<ConstBuffer> bufs(many.begin(), many.end());
        std::size_t m = co_await braid::io::write_vectored(a, bufs);
        EXPECT(m == BRAID_IO_SLICES_MAX);
        // Through a BufWriter whose buffer the total does not fit: straight through.
        braid::io::BufWriter w(std::move(a), 4);
        ConstBuffer big[] = {ConstBuffer("-abc"), ConstBuffer("def")};
        EXPECT(co_await braid::io::write_vectored(w, big) == 7);
        EXPECT(w.buffered() == 0);
        co_await w.shutdown();
        std::string got = co_await braid::io::read_to_string(b);
        std::string want = "one two three";
        for (int i = 0; i < BRAID_IO_SLICES_MAX; ++i) want += std::to_string(i % 10);
        EXPECT(got == want + "-abcdef");
    }());
}

}  // namespace test_io_typed
