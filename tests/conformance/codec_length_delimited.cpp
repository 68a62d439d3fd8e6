// Conformance: tokio-util 0.7.3, tests/length_delimited.rs, ported from what
// each case asserts.  (Debian's copy of the file has its cases commented
// out, since they need tokio-test; they are ported from their text.)  The
// file's Mock (scripted reads, writes that must start with the next
// scripted chunk and take exactly it, expected flushes, Pending that wakes
// nobody) is a braid_test::MockIo; tokio_test's task::spawn(()).enter polls
// are braid_test::PollByHand outside any runtime; Tokio's Sink calls
// (poll_ready + start_send, poll_flush) are FramedWrite's feed and a flush
// polled by hand.  length_delimited::Builder is LengthDelimitedCodec's own
// setters (new_read / new_write: a FramedRead / FramedWrite with it).
//
// Gaps:
//   read_single_frame_one_packet_native_endian - Builder::native_endian:
//     braid's codec has big_endian() and little_endian() only.
//   read_header_offset - Builder::length_field_offset (bytes before the
//     length field): braid has none.
//   read_single_multi_frame_one_packet_skip_none_adjusted - length_field_offset,
//     num_skip (how much of the head to drop) and length_adjustment (the
//     length counts more or less than the payload): braid has none.
//   read_single_frame_length_adjusted - a 3-byte length field (braid: 1, 2,
//     4 or 8 bytes) and num_skip.
//   read_single_multi_frame_one_packet_length_includes_head,
//   write_single_frame_length_adjusted - length_adjustment.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_codec_length_delimited {

using namespace std::literals;
using braid::io::FramedRead;
using braid::io::FramedWrite;
using braid::io::LengthDelimitedCodec;
using braid_test::MockIo;
using braid_test::PollByHand;

namespace {
template <class S>
void next_eq(PollByHand<S>& io, std::string_view want) {
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

braid::Task<bool> done(braid::Task<> t) {
    co_await std::move(t);
    co_return true;
}

// A flush (Sink::poll_flush) polled by hand, possibly several times.
template <class W>
class Flush {
public:
    explicit Flush(W& w) : s_(braid_test::as_stream(done(w.flush()))), polled_(s_) {}
    // true: it finished; false: pending.  Throws what the flush throws.
    bool poll() { return polled_.poll_next().ready; }

private:
    braid::Stream<bool> s_;
    PollByHand<braid::Stream<bool>> polled_;
};
// A flush that must finish at the first poll.
template <class W>
void flush_ready(W& w) {
    Flush<W> f(w);
    REQUIRE(f.poll());
}
}  // namespace

// ---- reading ------------------------------------------------------------------

TEST_CASE("codec_length_delimited.read_empty_io_yields_nothing") {
    FramedRead framed(MockIo{}, LengthDelimitedCodec());
    PollByHand io(framed);
    next_done(io);
}

TEST_CASE("codec_length_delimited.read_single_frame_one_packet") {
    MockIo mock;
    mock.on_read("\x00\x00\x00\x09" "abcdefghi"sv);
    FramedRead framed(std::move(mock), LengthDelimitedCodec());
    PollByHand io(framed);
    next_eq(io, "abcdefghi");
    next_done(io);
}

TEST_CASE("codec_length_delimited.read_single_frame_one_packet_little_endian") {
    MockIo mock;
    mock.on_read("\x09\x00\x00\x00" "abcdefghi"sv);
    FramedRead framed(std::move(mock), LengthDelimitedCodec().little_endian());
    PollByHand io(framed);
    next_eq(io, "abcdefghi");
    next_done(io);
}

TEST_CASE("codec_length_delimited.read_single_multi_frame_one_packet") {
    std::string d;
    d += "\x00\x00\x00\x09" "abcdefghi"sv;
    d += "\x00\x00\x00\x03" "123"sv;
    d += "\x00\x00\x00\x0b" "hello world"sv;
    MockIo mock;
    mock.on_read(d);
    FramedRead framed(std::move(mock), LengthDelimitedCodec());
    PollByHand io(framed);
    next_eq(io, "abcdefghi");
    next_eq(io, "123");
    next_eq(io, "hello world");
    next_done(io);
}

TEST_CASE("codec_length_delimited.read_single_frame_multi_packet") {
    MockIo mock;
    mock.on_read("\x00\x00"sv).on_read("\x00\x09" "abc"sv).on_read("defghi"sv);
    FramedRead framed(std::move(mock), LengthDelimitedCodec());
    PollByHand io(framed);
    next_eq(io, "abcdefghi");
    next_done(io);
}

TEST_CASE("codec_length_delimited.read_multi_frame_multi_packet") {
    MockIo mock;
    mock.on_read("\x00\x00"sv)
        .on_read("\x00\x09" "abc"sv)
        .on_read("defghi"sv)
        .on_read("\x00\x00\x00\x03" "12"sv)
        .on_read("3\x00\x00\x00\x0b" "hello world"sv);
    FramedRead framed(std::move(mock), LengthDelimitedCodec());
    PollByHand io(framed);
    next_eq(io, "abcdefghi");
    next_eq(io, "123");
    next_eq(io, "hello world");
    next_done(io);
}

TEST_CASE("codec_length_delimited.read_single_frame_multi_packet_wait") {
    MockIo mock;
    mock.on_read("\x00\x00"sv)
        .on_read_pending()
        .on_read("\x00\x09" "abc"sv)
        .on_read_pending()
        .on_read("defghi"sv)
        .on_read_pending();
    FramedRead framed(std::move(mock), LengthDelimitedCodec());
    PollByHand io(framed);
    next_pending(io);
    next_pending(io);
    next_eq(io, "abcdefghi");
    next_pending(io);
    next_done(io);
}

TEST_CASE("codec_length_delimited.read_multi_frame_multi_packet_wait") {
    MockIo mock;
    mock.on_read("\x00\x00"sv)
        .on_read_pending()
        .on_read("\x00\x09" "abc"sv)
        .on_read_pending()
        .on_read("defghi"sv)
        .on_read_pending()
        .on_read("\x00\x00\x00\x03" "12"sv)
        .on_read_pending()
        .on_read("3\x00\x00\x00\x0b" "hello world"sv)
        .on_read_pending();
    FramedRead framed(std::move(mock), LengthDelimitedCodec());
    PollByHand io(framed);
    next_pending(io);
    next_pending(io);
    next_eq(io, "abcdefghi");
    next_pending(io);
    next_pending(io);
    next_eq(io, "123");
    next_eq(io, "hello world");
    next_pending(io);
    next_done(io);
}

TEST_CASE("codec_length_delimited.read_incomplete_head") {
    MockIo mock;
    mock.on_read("\x00\x00"sv);
    FramedRead framed(std::move(mock), LengthDelimitedCodec());
    PollByHand io(framed);
    REQUIRE(next_err(io) == BRAID_EEOF);
}

TEST_CASE("codec_length_delimited.read_incomplete_head_multi") {
    MockIo mock;
    mock.on_read_pending().on_read("\x00"sv).on_read_pending();
    FramedRead framed(std::move(mock), LengthDelimitedCodec());
    PollByHand io(framed);
    next_pending(io);
    next_pending(io);
    REQUIRE(next_err(io) == BRAID_EEOF);
}

TEST_CASE("codec_length_delimited.read_incomplete_payload") {
    MockIo mock;
    mock.on_read("\x00\x00\x00\x09" "ab"sv).on_read_pending().on_read("cd"sv).on_read_pending();
    FramedRead framed(std::move(mock), LengthDelimitedCodec());
    PollByHand io(framed);
    next_pending(io);
    next_pending(io);
    REQUIRE(next_err(io) == BRAID_EEOF);
}

TEST_CASE("codec_length_delimited.read_max_frame_len") {
    MockIo mock;
    mock.on_read("\x00\x00\x00\x09" "abcdefghi"sv);
    FramedRead framed(std::move(mock), LengthDelimitedCodec().max_frame_length(5));
    PollByHand io(framed);
    REQUIRE(next_err(io) == BRAID_ERANGE);
}

TEST_CASE("codec_length_delimited.read_update_max_frame_len_at_rest") {
    MockIo mock;
    mock.on_read("\x00\x00\x00\x09" "abcdefghi"sv).on_read("\x00\x00\x00\x09" "abcdefghi"sv);
    FramedRead framed(std::move(mock), LengthDelimitedCodec());
    PollByHand io(framed);
    next_eq(io, "abcdefghi");
    framed.decoder().max_frame_length(5);
    REQUIRE(next_err(io) == BRAID_ERANGE);
}

TEST_CASE("codec_length_delimited.read_update_max_frame_len_in_flight") {
    MockIo mock;
    mock.on_read("\x00\x00\x00\x09" "abcd"sv)
        .on_read_pending()
        .on_read("efghi"sv)
        .on_read("\x00\x00\x00\x09" "abcdefghi"sv);
    FramedRead framed(std::move(mock), LengthDelimitedCodec());
    PollByHand io(framed);
    next_pending(io);
    // The frame whose head was read keeps its length; the next one is held
    // to the new limit.
    framed.decoder().max_frame_length(5);
    next_eq(io, "abcdefghi");
    REQUIRE(next_err(io) == BRAID_ERANGE);
}

TEST_CASE("codec_length_delimited.read_one_byte_length_field") {
    MockIo mock;
    mock.on_read("\x09" "abcdefghi"sv);
    FramedRead framed(std::move(mock), LengthDelimitedCodec().length_field_length(1));
    PollByHand io(framed);
    next_eq(io, "abcdefghi");
    next_done(io);
}

// ---- writing ------------------------------------------------------------------

TEST_CASE("codec_length_delimited.write_nothing_yields_nothing") {
    FramedWrite io(MockIo{}, LengthDelimitedCodec());
    flush_ready(io);
    REQUIRE(io.get_ref().write_polls() == 0);
}

TEST_CASE("codec_length_delimited.write_single_frame_one_packet") {
    MockIo mock;
    mock.on_write("\x00\x00\x00\x09"sv).on_write("abcdefghi"sv).on_flush();
    FramedWrite io(std::move(mock), LengthDelimitedCodec());
    io.feed("abcdefghi"sv);
    flush_ready(io);
    REQUIRE(io.get_ref().writes_left() == 0);
}

TEST_CASE("codec_length_delimited.write_single_multi_frame_one_packet") {
    MockIo mock;
    mock.on_write("\x00\x00\x00\x09"sv)
        .on_write("abcdefghi"sv)
        .on_write("\x00\x00\x00\x03"sv)
        .on_write("123"sv)
        .on_write("\x00\x00\x00\x0b"sv)
        .on_write("hello world"sv)
        .on_flush();
    FramedWrite io(std::move(mock), LengthDelimitedCodec());
    io.feed("abcdefghi"sv);
    io.feed("123"sv);
    io.feed("hello world"sv);
    flush_ready(io);
    REQUIRE(io.get_ref().writes_left() == 0);
}

TEST_CASE("codec_length_delimited.write_single_multi_frame_multi_packet") {
    MockIo mock;
    mock.on_write("\x00\x00\x00\x09"sv)
        .on_write("abcdefghi"sv)
        .on_flush()
        .on_write("\x00\x00\x00\x03"sv)
        .on_write("123"sv)
        .on_flush()
        .on_write("\x00\x00\x00\x0b"sv)
        .on_write("hello world"sv)
        .on_flush();
    FramedWrite io(std::move(mock), LengthDelimitedCodec());
    io.feed("abcdefghi"sv);
    flush_ready(io);
    io.feed("123"sv);
    flush_ready(io);
    io.feed("hello world"sv);
    flush_ready(io);
    REQUIRE(io.get_ref().writes_left() == 0);
}

TEST_CASE("codec_length_delimited.write_single_frame_would_block") {
    MockIo mock;
    mock.on_write_pending()
        .on_write("\x00\x00"sv)
        .on_write_pending()
        .on_write("\x00\x09"sv)
        .on_write("abcdefghi"sv)
        .on_flush();
    FramedWrite io(std::move(mock), LengthDelimitedCodec());
    io.feed("abcdefghi"sv);

    Flush f(io);
    REQUIRE_FALSE(f.poll());
    REQUIRE_FALSE(f.poll());
    REQUIRE(f.poll());

    REQUIRE(io.get_ref().writes_left() == 0);
}

TEST_CASE("codec_length_delimited.write_single_frame_little_endian") {
    MockIo mock;
    mock.on_write("\x09\x00\x00\x00"sv).on_write("abcdefghi"sv).on_flush();
    FramedWrite io(std::move(mock), LengthDelimitedCodec().little_endian());
    io.feed("abcdefghi"sv);
    flush_ready(io);
    REQUIRE(io.get_ref().writes_left() == 0);
}

TEST_CASE("codec_length_delimited.write_single_frame_with_short_length_field") {
    MockIo mock;
    mock.on_write("\x09"sv).on_write("abcdefghi"sv).on_flush();
    FramedWrite io(std::move(mock), LengthDelimitedCodec().length_field_length(1));
    io.feed("abcdefghi"sv);
    flush_ready(io);
    REQUIRE(io.get_ref().writes_left() == 0);
}

TEST_CASE("codec_length_delimited.write_max_frame_len") {
    FramedWrite io(MockIo{}, LengthDelimitedCodec().max_frame_length(5));
    REQUIRE(braid_test::error_code_of([&] { io.feed("abcdef"sv); }) == BRAID_ERANGE);
    REQUIRE(io.buffered() == 0);
    REQUIRE(io.get_ref().write_polls() == 0);
}

TEST_CASE("codec_length_delimited.write_update_max_frame_len_at_rest") {
    MockIo mock;
    mock.on_write("\x00\x00\x00\x06"sv).on_write("abcdef"sv).on_flush();
    FramedWrite io(std::move(mock), LengthDelimitedCodec());
    io.feed("abcdef"sv);
    flush_ready(io);

    io.encoder().max_frame_length(5);

    REQUIRE(braid_test::error_code_of([&] { io.feed("abcdef"sv); }) == BRAID_ERANGE);
    REQUIRE(io.get_ref().writes_left() == 0);
}

TEST_CASE("codec_length_delimited.write_update_max_frame_len_in_flight") {
    MockIo mock;
    mock.on_write("\x00\x00\x00\x06"sv).on_write("ab"sv).on_write_pending().on_write("cdef"sv).on_flush();
    FramedWrite io(std::move(mock), LengthDelimitedCodec());
    io.feed("abcdef"sv);

    Flush f(io);
    REQUIRE_FALSE(f.poll());

    io.encoder().max_frame_length(5);

    REQUIRE(f.poll());  // the frame already encoded goes out whole

    REQUIRE(braid_test::error_code_of([&] { io.feed("abcdef"sv); }) == BRAID_ERANGE);
    REQUIRE(io.get_ref().writes_left() == 0);
}

TEST_CASE("codec_length_delimited.write_zero") {
    FramedWrite io(MockIo{}, LengthDelimitedCodec());
    io.feed("abcdef"sv);

    // The writer takes no byte: the flush fails (Tokio: WriteZero).
    Flush f(io);
    REQUIRE(braid_test::error_code_of([&] { (void)f.poll(); }) == BRAID_EPIPE);

    REQUIRE(io.get_ref().writes_left() == 0);
}

TEST_CASE("codec_length_delimited.encode_overflow") {
    // Encoding the head must grow the buffer when it does not fit.
    LengthDelimitedCodec codec;
    std::string buf(1024, 'a');
    codec.encode("hello", buf);
    REQUIRE(buf.size() == 1024 + 4 + 5);
    REQUIRE(buf.substr(1024) == "\x00\x00\x00\x05" "hello"sv);
}

}  // namespace conformance_codec_length_delimited
