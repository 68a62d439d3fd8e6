// Conformance: tokio/tests/io_copy.rs (Tokio 1.24), ported from what each
// case asserts.  Tokio's hand-written readers and writers are types whose
// read()/write() are poll functions (braid_test::poll_fn) or coroutines.
//
// proxy reads through AsyncReadExt::take(1024), which braid lacks (io_take.cpp
// lists it as a gap): here the reader is limited by a small adapter of the
// test's own.  What the case checks is copy's: it must flush a buffering
// writer whenever its reader would wait, or this copy never ends.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <coroutine>
#include <cstdint>
#include <string>
#include <utility>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_io_copy {

namespace {
// Rust's Vec<u8> as a writer: takes everything.
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
}  // namespace

TEST_CASE("io_copy.copy") {
    auto rt = braid_test::current_thread_runtime();
    auto [n, wr] = rt.block_on([]() -> braid::Task<std::pair<uint64_t, std::string>> {
        braid_test::MockIo rd;  // "hello world" once, then end of file
        rd.on_read("hello world");
        VecWriter wr;
        uint64_t n = co_await braid::io::copy(rd, wr);
        co_return std::make_pair(n, wr.data);
    }());
    REQUIRE(n == 11);
    REQUIRE(wr == "hello world");
}

namespace {
// A writer that only buffers; flush() sends the buffer down the duplex.
struct BufferedWd {
    std::string buf;
    braid::io::DuplexStream writer;
    auto write(braid::io::ConstBuffer b) {
        return braid_test::poll_fn<std::size_t>([this, b](braid_wake_fn, void*, std::size_t& n) {
            buf.append(static_cast<const char*>(b.data), b.size);
            n = b.size;
            return 0;
        });
    }
    braid::Task<void> flush() {
        while (!buf.empty()) {
            std::size_t n = co_await writer.write(buf);
            buf.erase(0, n);
        }
        co_await writer.flush();
    }
    braid::Task<void> shutdown() { co_await writer.shutdown(); }
};

// Reads at most `left` bytes of `inner`, then reports end of file (what
// Tokio's take() does).
struct Limited {
    braid::io::DuplexStream* inner;
    std::size_t left;
    braid::Task<std::size_t> read(braid::io::MutableBuffer b) {
        if (left == 0) co_return 0;
        b.size = std::min(b.size, left);
        std::size_t n = co_await inner->read(b);
        left -= n;
        co_return n;
    }
};
}  // namespace

TEST_CASE("io_copy.proxy") {
    auto rt = braid_test::current_thread_runtime();
    uint64_t n = rt.block_on([]() -> braid::Task<uint64_t> {
        auto [rd, wd_end] = braid::io::duplex(1024);
        Limited limited{&rd, 1024};
        BufferedWd wd{{}, std::move(wd_end)};

        // write start bytes
        std::array<char, 512> start;
        start.fill(0x42);
        co_await braid::io::write_all(wd, start);
        co_await wd.flush();

        co_return co_await braid::io::copy(limited, wd);
    }());
    REQUIRE(n == 1024);
}

}  // namespace conformance_io_copy
