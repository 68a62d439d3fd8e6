// Conformance: tokio/tests/io_fill_buf.rs (Tokio 1.24), ported from what the
// case asserts: BufReader::fill_buf / consume over a braid::fs::File, in a
// fresh TempDir (Tokio: a NamedTempFile).
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <span>
#include <string>

#include "support.hpp"

namespace conformance_io_fill_buf {

TEST_CASE("io_fill_buf.fill_buf_file") {
    braid_test::TempDir dir;
    auto rt = braid_test::current_thread_runtime();
    std::string contents = rt.block_on([](std::string path) -> braid::Task<std::string> {
        co_await braid::fs::write(path, "hello");

        auto file = co_await braid::fs::File::open(path);
        braid::io::BufReader rd(std::move(file));

        std::string contents;
        for (;;) {
            std::span<const std::byte> buffer = co_await rd.fill_buf();
            if (buffer.empty()) break;
            contents.append(reinterpret_cast<const char*>(buffer.data()), buffer.size());
            rd.consume(buffer.size());
        }
        co_return contents;
    }(dir / "file"));
    REQUIRE(contents == "hello");
}

}  // namespace conformance_io_fill_buf
