// Conformance: tokio-util 0.7.3, tests/framed_read.rs, ported from what each
// case asserts.  (Debian's copy of the file has its cases commented out,
// since they need tokio-test; they are ported from their text.)  The cases
// poll a FramedRead by hand outside any runtime (tokio_test's
// task::spawn(()).enter): braid_test::PollByHand on the FramedRead, whose
// reader is a braid_test::MockIo (the file's Mock: scripted chunks, Pending
// that wakes nobody, errors, and end of file once the script is done).
// braid's Decoder has no default decode_eof: the cases' decoders spell out
// Tokio's default (the last frame, or an error if bytes are left).
//
// One deliberate difference (docs/io.md, Framing): a braid FramedRead ends
// for good at the first end of file, as every braid stream does, where
// Tokio's goes on reading a reader that has more after an end of file.
// read_eof_then_resume checks braid's rule.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_codec_framed_read {

using namespace std::literals;
using braid::io::ByteBuffer;
using braid::io::FramedRead;
using braid_test::MockIo;
using braid_test::PollByHand;

namespace {
template <class T>
T big_endian(std::string_view s) {
    T v = 0;
    for (char c : s) v = T((v << 8) | T(static_cast<unsigned char>(c)));
    return v;
}

// Tokio's default Decoder::decode_eof: the last frame, nothing when no byte
// is left, else an error.
template <class D>
std::optional<typename D::item_type> default_decode_eof(D& d, ByteBuffer& buf) {
    if (auto frame = d.decode(buf)) return frame;
    if (buf.empty()) return std::nullopt;
    throw braid::IoError(BRAID_EEOF, 0, "bytes remaining on stream");
}

// Big-endian integers of sizeof(T) bytes.
template <class T>
struct IntDecoder {
    using item_type = T;
    std::optional<T> decode(ByteBuffer& buf) {
        if (buf.size() < sizeof(T)) return std::nullopt;
        return big_endian<T>(buf.take(sizeof(T)));
    }
    std::optional<T> decode_eof(ByteBuffer& buf) { return default_decode_eof(*this, buf); }
};
using U32Decoder = IntDecoder<uint32_t>;
using U64Decoder = IntDecoder<uint64_t>;

template <class S>
void next_is(PollByHand<S>& io, const typename S::item_type& want) {
    auto p = io.poll_next();
    REQUIRE(p.ready);
    REQUIRE(p.item);
    REQUIRE(*p.item == want);
}
template <class S>
void next_pending(PollByHand<S>& io) {
    REQUIRE(io.poll_next().is_pending());
}
template <class S>
void next_done(PollByHand<S>& io) {
    REQUIRE(io.poll_next().is_end());
}
// The error the next poll throws (0: none).
template <class S>
int next_err(PollByHand<S>& io) {
    return braid_test::error_code_of([&] { (void)io.poll_next(); });
}
}  // namespace

TEST_CASE("codec_framed_read.read_multi_frame_in_packet") {
    MockIo mock;
    mock.on_read("\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x02"sv);
    FramedRead framed(std::move(mock), U32Decoder{});
    PollByHand io(framed);
    next_is(io, 0);
    next_is(io, 1);
    next_is(io, 2);
    next_done(io);
}

TEST_CASE("codec_framed_read.read_multi_frame_in_packet_after_codec_changed") {
    MockIo mock;
    mock.on_read("\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x08"sv);
    FramedRead framed(std::move(mock), U32Decoder{});
    {
        PollByHand io(framed);
        next_is(io, 0x04);
    }
    auto framed2 = std::move(framed).map_decoder([](U32Decoder) { return U64Decoder{}; });
    PollByHand io(framed2);
    next_is(io, 0x08);
    next_done(io);
}

TEST_CASE("codec_framed_read.read_multi_frame_across_packets") {
    MockIo mock;
    mock.on_read("\x00\x00\x00\x00"sv).on_read("\x00\x00\x00\x01"sv).on_read("\x00\x00\x00\x02"sv);
    FramedRead framed(std::move(mock), U32Decoder{});
    PollByHand io(framed);
    next_is(io, 0);
    next_is(io, 1);
    next_is(io, 2);
    next_done(io);
}

TEST_CASE("codec_framed_read.read_not_ready") {
    MockIo mock;
    mock.on_read_pending().on_read("\x00\x00\x00\x00"sv).on_read("\x00\x00\x00\x01"sv);
    FramedRead framed(std::move(mock), U32Decoder{});
    PollByHand io(framed);
    next_pending(io);
    next_is(io, 0);
    next_is(io, 1);
    next_done(io);
}

TEST_CASE("codec_framed_read.read_partial_then_not_ready") {
    MockIo mock;
    mock.on_read("\x00\x00"sv).on_read_pending().on_read("\x00\x00\x00\x00\x00\x01\x00\x00\x00\x02"sv);
    FramedRead framed(std::move(mock), U32Decoder{});
    PollByHand io(framed);
    next_pending(io);
    next_is(io, 0);
    next_is(io, 1);
    next_is(io, 2);
    next_done(io);
}

TEST_CASE("codec_framed_read.read_err") {
    MockIo mock;
    mock.on_read_error(BRAID_EIO);
    FramedRead framed(std::move(mock), U32Decoder{});
    PollByHand io(framed);
    REQUIRE(next_err(io) == BRAID_EIO);
}

TEST_CASE("codec_framed_read.read_partial_then_err") {
    MockIo mock;
    mock.on_read("\x00\x00"sv).on_read_error(BRAID_EIO);
    FramedRead framed(std::move(mock), U32Decoder{});
    PollByHand io(framed);
    REQUIRE(next_err(io) == BRAID_EIO);
}

TEST_CASE("codec_framed_read.read_partial_would_block_then_err") {
    MockIo mock;
    mock.on_read("\x00\x00"sv).on_read_pending().on_read_error(BRAID_EIO);
    FramedRead framed(std::move(mock), U32Decoder{});
    PollByHand io(framed);
    next_pending(io);
    REQUIRE(next_err(io) == BRAID_EIO);
}

TEST_CASE("codec_framed_read.huge_size") {
    struct BigDecoder {
        using item_type = uint32_t;
        std::optional<uint32_t> decode(ByteBuffer& buf) {
            if (buf.size() < 32 * 1024) return std::nullopt;
            buf.consume(32 * 1024);
            return 0;
        }
        std::optional<uint32_t> decode_eof(ByteBuffer& buf) { return default_decode_eof(*this, buf); }
    };
    MockIo data;
    data.on_read(std::string(32 * 1024, '\0'));
    FramedRead framed(std::move(data), BigDecoder{});
    PollByHand io(framed);
    next_is(io, 0);
    next_done(io);
}

TEST_CASE("codec_framed_read.data_remaining_is_error") {
    MockIo slice;
    slice.on_read(std::string(5, '\0'));
    FramedRead framed(std::move(slice), U32Decoder{});
    PollByHand io(framed);
    next_is(io, 0);
    REQUIRE(next_err(io) == BRAID_EEOF);
}

TEST_CASE("codec_framed_read.multi_frames_on_eof") {
    struct MyDecoder {
        using item_type = uint32_t;
        std::vector<uint32_t> frames;
        int* decode_calls;
        std::optional<uint32_t> decode(ByteBuffer&) {
            ++*decode_calls;  // must not happen: no byte ever came
            return std::nullopt;
        }
        std::optional<uint32_t> decode_eof(ByteBuffer&) {
            if (frames.empty()) return std::nullopt;
            uint32_t f = frames.front();
            frames.erase(frames.begin());
            return f;
        }
    };
    int decode_calls = 0;
    FramedRead framed(MockIo{}, MyDecoder{{0, 1, 2, 3}, &decode_calls});
    PollByHand io(framed);
    next_is(io, 0);
    next_is(io, 1);
    next_is(io, 2);
    next_is(io, 3);
    next_done(io);
    REQUIRE(decode_calls == 0);
}

TEST_CASE("codec_framed_read.read_eof_then_resume") {
    MockIo mock;
    mock.on_read("\x00\x00\x00\x01"sv)
        .on_read(""sv)
        .on_read("\x00\x00\x00\x02"sv)
        .on_read(""sv)
        .on_read("\x00\x00\x00\x03"sv);
    FramedRead framed(std::move(mock), U32Decoder{});
    PollByHand io(framed);
    next_is(io, 1);
    next_done(io);
    // braid: the stream has ended for good; Tokio's would read on (2, then
    // the end, 3, the end).
    next_done(io);
    next_done(io);
    REQUIRE(framed.get_ref().reads_left() == 3);
}

}  // namespace conformance_codec_framed_read
