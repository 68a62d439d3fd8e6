// braid::io::Cursor (reading, writing and seeking bytes in memory), and
// seeking through BufReader and BufWriter over a braid::fs::File.
#include <catch2/catch.hpp>

#include <braid/braid.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "support.hpp"

namespace test_io_cursor {

using braid::io::Cursor;
using braid::io::SeekFrom;

namespace {
std::string str(std::span<const std::byte> s) { return std::string(reinterpret_cast<const char*>(s.data()), s.size()); }
}  // namespace

TEST_CASE("io_cursor.a growable cursor reads what was written, and writes past the end fill the gap with zeros") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        Cursor<std::string> c;
        co_await braid::io::write_all(c, "hello");
        EXPECT(c.position() == 5);
        c.set_position(0);
        EXPECT(co_await braid::io::read_to_string(c) == "hello");
        c.set_position(7);
        EXPECT(co_await c.write("!") == 1);
        EXPECT(c.get_ref() == std::string("hello\0\0!", 8));
        // Overwrites in the middle, and grows at the end.
        EXPECT(c.seek(SeekFrom::start_at(3)) == 3);
        EXPECT(co_await c.write("LOWORLD") == 7);
        EXPECT(c.get_ref() == "helLOWORLD");
        // Reads past the end give 0.
        c.set_position(100);
        char b[4];
        EXPECT(co_await c.read(b) == 0);
    }());
}

TEST_CASE("io_cursor.a cursor over a span stops writing at its end, one over a string_view only reads") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        std::vector<char> v(4, '.');
        Cursor<std::span<char>> fixed{std::span<char>(v)};
        EXPECT(co_await fixed.write("abcdef") == 4);
        EXPECT(co_await fixed.write("x") == 0);
        EXPECT(std::string(v.begin(), v.end()) == "abcd");

        Cursor<std::string_view> ro("read only");
        static_assert(!braid::io::AsyncWrite<Cursor<std::string_view>>);
        static_assert(braid::io::AsyncRead<Cursor<std::string_view>>);
        char b[4];
        EXPECT(co_await ro.read(b) == 4);
        EXPECT(str(ro.remaining()) == " only");
    }());
}

TEST_CASE("io_cursor.cursor seeks: from the start, the end and the position, and before the start is an error") {
    Cursor<std::string> c(std::string("0123456789"));
    REQUIRE(c.seek(SeekFrom::end(-3)) == 7);
    REQUIRE(c.seek(SeekFrom::current(-2)) == 5);
    REQUIRE(c.seek(SeekFrom::current(10)) == 15);  // past the end is allowed
    REQUIRE(braid_test::error_code_of([&] { c.seek(SeekFrom::current(-16)); }) == BRAID_EINVAL);
    REQUIRE(braid_test::error_code_of([&] { c.seek(SeekFrom::end(INT64_MIN)); }) == BRAID_EINVAL);
    REQUIRE(c.position() == 15);  // a failed seek moves nothing
    REQUIRE(c.seek(SeekFrom::start_at(0)) == 0);
    char b[1];
    REQUIRE(braid_test::error_code_of([&] { (void)c.read(braid::io::MutableBuffer(b, 0)); }) == BRAID_EINVAL);
}

TEST_CASE("io_cursor.cursor write_vectored takes the buffers in turn, up to the end of a fixed range") {
    std::vector<char> v(5, '.');
    Cursor<std::span<char>> c{std::span<char>(v)};
    braid::io::ConstBuffer parts[] = {braid::io::ConstBuffer("ab"), braid::io::ConstBuffer(""), braid::io::ConstBuffer("cdef")};
    REQUIRE(c.write_vectored(parts).await_resume() == 5);
    REQUIRE(std::string(v.begin(), v.end()) == "abcde");
}

TEST_CASE("io_cursor.BufReader seeks through a file, counting from the next byte it gives") {
    braid_test::TempDir dir;
    std::string path = dir / "f";
    auto rt = braid_test::runtime(2);
    rt.block_on([](std::string path) -> braid::Task<> {
        co_await braid::fs::write(path, "0123456789");
        braid::io::BufReader r(co_await braid::fs::File::open(path), 4);
        char b[2];
        co_await braid::io::read_exact(r, b);  // "01"; "23" stays buffered
        EXPECT(std::string(b, 2) == "01");
        EXPECT(co_await r.seek(SeekFrom::current(1)) == 3);
        EXPECT(r.buffer().empty());
        co_await braid::io::read_exact(r, b);
        EXPECT(std::string(b, 2) == "34");
        EXPECT(co_await r.seek(SeekFrom::end(-1)) == 9);
        EXPECT(co_await braid::io::read_to_string(r) == "9");
        EXPECT(co_await r.seek(SeekFrom::start_at(0)) == 0);
        EXPECT(co_await braid::io::read_to_string(r) == "0123456789");
    }(path));
}

TEST_CASE("io_cursor.BufWriter flushes before it seeks a file") {
    braid_test::TempDir dir;
    std::string path = dir / "f";
    auto rt = braid_test::runtime(2);
    std::string contents = rt.block_on([](std::string path) -> braid::Task<std::string> {
        braid::io::BufWriter w(co_await braid::fs::File::create(path), 64);
        co_await w.write_all("hello world");
        EXPECT(w.buffered() == 11);
        EXPECT(co_await w.seek(SeekFrom::start_at(6)) == 6);
        EXPECT(w.buffered() == 0);
        co_await w.write_all("WORLD");
        co_await w.flush();
        co_return co_await braid::fs::read_to_string(path);
    }(path));
    REQUIRE(contents == "hello WORLD");
}

}  // namespace test_io_cursor
