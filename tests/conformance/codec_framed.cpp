// Conformance: tokio-util 0.7.3, tests/framed.rs.  Every case builds a
// Framed (one object that is both a stream of decoded frames and a sink of
// encoded ones) from FramedParts with bytes already in its read buffer.
//
// Gaps: none.
//
// Not applicable:
//   external_buf_grows_to_init, external_buf_does_not_shrink - the capacity
//     BytesMut reserves for the read buffer that into_parts hands back;
//     braid's ByteBuffer grows as the std::string inside it does and has no
//     capacity of its own to set or check.
#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_codec_framed {

using braid::io::ByteBuffer;

namespace {
template <class T>
T big_endian(const std::string& s) {
    T v = 0;
    for (char c : s) v = T((v << 8) | T(static_cast<unsigned char>(c)));
    return v;
}

// Encodes and decodes big-endian integers of N bytes, counting the bytes it
// decoded.
template <class T>
struct IntCodec {
    using item_type = T;
    std::size_t read_bytes = 0;
    std::optional<T> decode(ByteBuffer& buf) {
        if (buf.size() < sizeof(T)) return std::nullopt;
        read_bytes += sizeof(T);
        return big_endian<T>(buf.take(sizeof(T)));
    }
    std::optional<T> decode_eof(ByteBuffer& buf) { return decode(buf); }
    void encode(T item, std::string& dst) const {
        for (int shift = int(sizeof(T)) * 8 - 8; shift >= 0; shift -= 8) dst.push_back(char((item >> shift) & 0xff));
    }
};
using U32Codec = IntCodec<uint32_t>;
using U64Codec = IntCodec<uint64_t>;

// A stream that must not be read (nor written).
struct DontReadIntoThis {
    auto read(braid::io::MutableBuffer) {
        return braid_test::poll_fn<std::size_t>([](braid_wake_fn, void*, std::size_t&) {
            FAIL_CHECK("read into something you weren't supposed to");
            return int(BRAID_EINVAL);
        });
    }
    auto write(braid::io::ConstBuffer) {
        return braid_test::poll_fn<std::size_t>([](braid_wake_fn, void*, std::size_t&) { return int(BRAID_EINVAL); });
    }
    std::suspend_never flush() { return {}; }
    std::suspend_never shutdown() { return {}; }
};

ByteBuffer bytes(const std::string& s) {
    ByteBuffer b;
    b.append(s.data(), s.size());
    return b;
}
}  // namespace

TEST_CASE("codec_framed.can_read_from_existing_buf") {
    auto rt = braid_test::current_thread_runtime();
    uint32_t num = rt.block_on([]() -> braid::Task<uint32_t> {
        braid::io::FramedParts<DontReadIntoThis, U32Codec> parts{DontReadIntoThis{}, U32Codec{}};
        parts.read_buf = bytes(std::string("\0\0\0\x2a", 4));
        braid::io::Framed framed(std::move(parts));
        auto n = co_await framed.next();
        co_return n.value();
    }());
    REQUIRE(num == 42);
}

TEST_CASE("codec_framed.can_read_from_existing_buf_after_codec_changed") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid::io::FramedParts<DontReadIntoThis, U32Codec> parts{DontReadIntoThis{}, U32Codec{}};
        parts.read_buf = bytes(std::string("\0\0\0\x2a\0\0\0\0\0\0\0\x54", 12));
        braid::io::Framed framed(std::move(parts));
        auto num = co_await framed.next();
        EXPECT(num.value() == 42);
        EXPECT(framed.codec().read_bytes == 4);

        auto framed2 = std::move(framed).map_codec([](U32Codec c) { return U64Codec{c.read_bytes}; });
        auto num2 = co_await framed2.next();
        EXPECT(num2.value() == 84);
        EXPECT(framed2.codec().read_bytes == 12);
    }());
}

}  // namespace conformance_codec_framed
