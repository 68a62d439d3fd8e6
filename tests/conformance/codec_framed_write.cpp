// Conformance: tokio-util 0.7.3, tests/framed_write.rs, ported from what
// each case asserts.  (Debian's copy of the file has its cases commented
// out, since they need tokio-test; they are ported from their text.)  The
// file's Mock writer (each write must start with the next scripted chunk
// and takes exactly it) is a braid_test::MockIo; Tokio's Sink calls
// (poll_ready, start_send, poll_flush) are FramedWrite's ready, feed and
// flush.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_codec_framed_write {

using namespace std::literals;
using braid_test::MockIo;

namespace {
struct U32Encoder {
    void encode(uint32_t item, std::string& dst) const {
        for (int shift = 24; shift >= 0; shift -= 8) dst.push_back(char((item >> shift) & 0xff));
    }
};
struct U64Encoder {
    void encode(uint64_t item, std::string& dst) const {
        for (int shift = 56; shift >= 0; shift -= 8) dst.push_back(char((item >> shift) & 0xff));
    }
};

// Polls an awaitable of nothing once by hand: true when it finished.
braid::Task<bool> done(braid::Task<> t) {
    co_await std::move(t);
    co_return true;
}
}  // namespace

TEST_CASE("codec_framed_write.write_multi_frame_in_packet") {
    MockIo mock;
    mock.on_write("\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x02"sv);
    braid::io::FramedWrite framed(std::move(mock), U32Encoder{});

    framed.feed(uint32_t(0));
    framed.feed(uint32_t(1));
    framed.feed(uint32_t(2));

    // Nothing written yet
    REQUIRE(framed.get_ref().writes_left() == 1);
    REQUIRE(framed.get_ref().write_polls() == 0);

    // Flush the writes
    auto flush = braid_test::as_stream(done(framed.flush()));
    braid_test::PollByHand polled(flush);
    auto p = polled.poll_next();
    REQUIRE(p.ready);
    REQUIRE(p.item);

    REQUIRE(framed.get_ref().writes_left() == 0);
}

TEST_CASE("codec_framed_write.write_multi_frame_after_codec_changed") {
    MockIo mock;
    mock.on_write("\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x08"sv);
    braid::io::FramedWrite framed(std::move(mock), U32Encoder{});
    framed.feed(uint32_t(0x04));

    auto framed2 = std::move(framed).map_encoder([](U32Encoder) { return U64Encoder{}; });
    framed2.feed(uint64_t(0x08));

    // Nothing written yet
    REQUIRE(framed2.get_ref().writes_left() == 1);

    // Flush the writes
    auto flush = braid_test::as_stream(done(framed2.flush()));
    braid_test::PollByHand polled(flush);
    auto p = polled.poll_next();
    REQUIRE(p.ready);
    REQUIRE(p.item);

    REQUIRE(framed2.get_ref().writes_left() == 0);
}

TEST_CASE("codec_framed_write.write_hits_backpressure") {
    constexpr uint32_t kIter = 2 * 1024;
    U32Encoder enc;
    std::string full, last;
    for (uint32_t i = 0; i < kIter; ++i) enc.encode(i, full);  // 8 KiB: the boundary
    enc.encode(kIter, last);
    MockIo mock;
    mock.on_write_pending();  // blocks the flush that ready() starts, once
    mock.on_write(full).on_flush();  // ready() flushes the writer too, as poll_ready does
    mock.on_write(last);
    braid::io::FramedWrite framed(std::move(mock), U32Encoder{});

    // Send 8 KiB: each ready() is ready at once, as the buffer fills up.
    for (uint32_t i = 0; i < kIter; ++i) {
        auto ready = braid_test::as_stream(done(framed.ready()));
        braid_test::PollByHand polled(ready);
        REQUIRE(polled.poll_next().ready);
        framed.feed(i);
    }
    REQUIRE(framed.get_ref().write_polls() == 0);

    // Now ready() flushes: the mock blocks the first write...
    auto ready = braid_test::as_stream(done(framed.ready()));
    braid_test::PollByHand polled(ready);
    REQUIRE_FALSE(polled.poll_next().ready);
    // ...and polled again the whole 8 KiB go in one write.
    REQUIRE(polled.poll_next().ready);
    REQUIRE(framed.buffered() == 0);

    // More data: the mock's last write.
    framed.feed(kIter);
    auto flush = braid_test::as_stream(done(framed.flush()));
    braid_test::PollByHand flushed(flush);
    REQUIRE(flushed.poll_next().ready);
    REQUIRE(framed.get_ref().writes_left() == 0);
}

}  // namespace conformance_codec_framed_write
