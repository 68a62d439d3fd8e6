// Conformance: tokio-util 0.7.3, tests/framed_stream.rs, ported from what
// the case asserts.  (The whole file is commented out in this version of
// tokio-util; its one case is ported from its text.)  The FramedRead is
// polled by hand (braid_test::PollByHand) over a braid_test::MockIo.
//
// BytesCodec is missing in braid (codec_codecs.cpp lists it): the case's
// decoder here is the test's own, one that gives every byte that came as a
// frame (what BytesCodec decodes).
//
// One deliberate difference (docs/io.md, Framing): after the error a braid
// FramedRead has ended for good, as every braid stream does after an
// exception; Tokio's gives None once and then goes on reading ("more
// data").  The port checks braid's rule.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_codec_framed_stream {

using braid::io::ByteBuffer;

namespace {
// Every byte that came is a frame (BytesCodec's decoder).
struct AllBytes {
    using item_type = std::string;
    std::optional<std::string> decode(ByteBuffer& buf) {
        if (buf.empty()) return std::nullopt;
        return buf.take(buf.size());
    }
    std::optional<std::string> decode_eof(ByteBuffer& buf) { return decode(buf); }
};
}  // namespace

TEST_CASE("codec_framed_stream.return_none_after_error") {
    braid_test::MockIo mock;
    mock.on_read("abcdef").on_read_error(BRAID_EIO, "Resource errored out").on_read("more data");
    braid::io::FramedRead framed(std::move(mock), AllBytes{});
    braid_test::PollByHand io(framed);

    auto p = io.poll_next();
    REQUIRE(p.ready);
    REQUIRE(p.item);
    REQUIRE(*p.item == "abcdef");

    REQUIRE(braid_test::error_code_of([&] { (void)io.poll_next(); }) == BRAID_EIO);

    REQUIRE(io.poll_next().is_end());
    // braid: ended for good (Tokio reads on and gives "more data").
    REQUIRE(io.poll_next().is_end());
    REQUIRE(framed.get_ref().reads_left() == 1);
}

}  // namespace conformance_codec_framed_stream
