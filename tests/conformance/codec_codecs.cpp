// Conformance: tokio-util 0.7.3, tests/codecs.rs, ported from what each case
// asserts: braid::io::LinesCodec's decode / decode_eof / encode on a
// ByteBuffer (Tokio: a BytesMut).
//
// One deliberate difference: braid measures a line against max_length
// without its "\r\n" (or "\n"); Tokio counts the '\r'.  So in
// lines_decoder_max_length, "line 3\r\n" under a limit of 6 is the line
// "line 3" in braid and an error in Tokio (docs/io.md, Framing).
//
// Gaps:
//   bytes_decoder, bytes_encoder - BytesCodec (every byte that came is a
//     frame; frames are written as they are): braid has none.
//   any_delimiters_decoder_any_character, any_delimiters_decoder_max_length,
//   any_delimiter_decoder_max_length_underrun,
//   any_delimiter_decoder_max_length_underrun_twice,
//   any_delimiter_decoder_max_length_bursts,
//   any_delimiter_decoder_max_length_big_burst,
//   any_delimiter_decoder_max_length_delimiter_between_decodes,
//   any_delimiter_decoder_discard_repeat, any_delimiter_encoder -
//     AnyDelimiterCodec (frames split at any of a set of delimiter bytes,
//     written with a given delimiter): braid has none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "support.hpp"

using braid::io::ByteBuffer;
using braid::io::LinesCodec;
using braid_test::error_code_of;

namespace {
void put(ByteBuffer& buf, std::string_view s) { buf.append(s.data(), s.size()); }

// decode gives this line.
void decoded(LinesCodec& codec, ByteBuffer& buf, std::string_view want) {
    std::optional<std::string> line = codec.decode(buf);
    REQUIRE(line);
    REQUIRE(*line == want);
}
void decoded_eof(LinesCodec& codec, ByteBuffer& buf, std::string_view want) {
    std::optional<std::string> line = codec.decode_eof(buf);
    REQUIRE(line);
    REQUIRE(*line == want);
}
// decode fails: the line is longer than max_length.
void too_long(LinesCodec& codec, ByteBuffer& buf) {
    REQUIRE(error_code_of([&] { (void)codec.decode(buf); }) == BRAID_ERANGE);
}
}  // namespace

TEST_CASE("lines_decoder") {
    LinesCodec codec;
    ByteBuffer buf;
    put(buf, "line 1\nline 2\r\nline 3\n\r\n\r");
    decoded(codec, buf, "line 1");
    decoded(codec, buf, "line 2");
    decoded(codec, buf, "line 3");
    decoded(codec, buf, "");
    REQUIRE_FALSE(codec.decode(buf));
    REQUIRE_FALSE(codec.decode_eof(buf));
    put(buf, "k");
    REQUIRE_FALSE(codec.decode(buf));
    decoded_eof(codec, buf, "\rk");
    REQUIRE_FALSE(codec.decode(buf));
    REQUIRE_FALSE(codec.decode_eof(buf));
}

TEST_CASE("lines_decoder_max_length") {
    const std::size_t MAX_LENGTH = 6;
    LinesCodec codec(MAX_LENGTH);
    ByteBuffer buf;
    put(buf, "line 1 is too long\nline 2\nline 3\r\nline 4\n\r\n\r");

    too_long(codec, buf);
    decoded(codec, buf, "line 2");
    // Tokio: an error (it counts the '\r'); braid: "line 3" is 6 bytes long.
    decoded(codec, buf, "line 3");
    decoded(codec, buf, "line 4");
    decoded(codec, buf, "");

    REQUIRE_FALSE(codec.decode(buf));
    REQUIRE_FALSE(codec.decode_eof(buf));
    put(buf, "k");
    REQUIRE_FALSE(codec.decode(buf));
    decoded_eof(codec, buf, "\rk");

    REQUIRE_FALSE(codec.decode(buf));
    REQUIRE_FALSE(codec.decode_eof(buf));

    // A line one byte too long: reading past its end would be out of bounds.
    put(buf, "aaabbbc");
    too_long(codec, buf);
}

TEST_CASE("lines_decoder_max_length_underrun") {
    LinesCodec codec(6);
    ByteBuffer buf;
    put(buf, "line ");
    REQUIRE_FALSE(codec.decode(buf));
    put(buf, "too l");
    too_long(codec, buf);
    put(buf, "ong\n");
    REQUIRE_FALSE(codec.decode(buf));

    put(buf, "line 2");
    REQUIRE_FALSE(codec.decode(buf));
    put(buf, "\n");
    decoded(codec, buf, "line 2");
}

TEST_CASE("lines_decoder_max_length_bursts") {
    LinesCodec codec(10);
    ByteBuffer buf;
    put(buf, "line ");
    REQUIRE_FALSE(codec.decode(buf));
    put(buf, "too l");
    REQUIRE_FALSE(codec.decode(buf));
    put(buf, "ong\n");
    too_long(codec, buf);
}

TEST_CASE("lines_decoder_max_length_big_burst") {
    LinesCodec codec(10);
    ByteBuffer buf;
    put(buf, "line ");
    REQUIRE_FALSE(codec.decode(buf));
    put(buf, "too long!\n");
    too_long(codec, buf);
}

TEST_CASE("lines_decoder_max_length_newline_between_decodes") {
    LinesCodec codec(5);
    ByteBuffer buf;
    put(buf, "hello");
    REQUIRE_FALSE(codec.decode(buf));
    put(buf, "\nworld");
    decoded(codec, buf, "hello");
}

// Regression test for an infinite loop in Tokio's discarding.
TEST_CASE("lines_decoder_discard_repeat") {
    LinesCodec codec(1);
    ByteBuffer buf;
    put(buf, "aa");
    too_long(codec, buf);
    put(buf, "a");
    REQUIRE_FALSE(codec.decode(buf));
}

// Regression test for later decodes after a too-long line.
TEST_CASE("lines_decoder_max_length_underrun_twice") {
    LinesCodec codec(11);
    ByteBuffer buf;
    put(buf, "line ");
    REQUIRE_FALSE(codec.decode(buf));
    put(buf, "too very l");
    too_long(codec, buf);
    put(buf, "aaaaaaaaaaaaaaaaaaaaaaa");
    REQUIRE_FALSE(codec.decode(buf));
    put(buf, "ong\nshort\n");
    decoded(codec, buf, "short");
}

TEST_CASE("lines_encoder") {
    LinesCodec codec;
    std::string buf;
    codec.encode("line 1", buf);
    REQUIRE(buf == "line 1\n");
    codec.encode("line 2", buf);
    REQUIRE(buf == "line 1\nline 2\n");
}
