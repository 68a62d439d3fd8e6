// Every codec (LinesCodec, LengthDelimitedCodec) over fuzzed bytes, fed in
// fuzzed chunk sizes: the frames (and the error that ends them, if any)
// must not depend on the chunking.  Checked three ways against decoding
// the whole input at once: the codec fed by hand, FramedRead over a reader
// that returns the chunks (sometimes suspending first), and, for the frames
// decoded, encode followed by decode giving them back.
#include <braid/io/codec.hpp>
#include <braid/io/length_delimited_codec.hpp>
#include <braid/io/lines_codec.hpp>

#include <vector>

#include "fuzz_support.hpp"

using braid_fuzz::Input;
namespace bio = braid::io;

namespace {

struct Outcome {
    std::vector<std::string> frames;
    int error = 0;  // the code of the error that ended decoding, 0: none
    bool operator==(const Outcome&) const = default;
};

std::string show(const Outcome& o) {
    std::string s = std::to_string(o.frames.size()) + " frames, error " + std::to_string(o.error) + ":";
    for (auto& f : o.frames) s += " [" + std::to_string(f.size()) + "]";
    return s;
}

// The codec fed by hand, pieces of the given sizes (cycled; 0 stands for 1).
template <class Codec>
Outcome by_hand(Codec codec, std::string_view data, const std::vector<std::size_t>& chunks) {
    Outcome o;
    bio::ByteBuffer buf;
    std::size_t at = 0, k = 0;
    try {
        while (at < data.size()) {
            std::size_t n = chunks.empty() ? data.size() : std::max<std::size_t>(1, chunks[k++ % chunks.size()]);
            n = std::min(n, data.size() - at);
            buf.append(data.data() + at, n);
            at += n;
            while (auto f = codec.decode(buf)) o.frames.push_back(std::move(*f));
        }
        while (auto f = codec.decode_eof(buf)) o.frames.push_back(std::move(*f));
    } catch (const braid::Error& e) {
        o.error = e.code();
    }
    return o;
}

// An AsyncRead that gives `data` in the given chunk sizes, suspending
// (yield_now) before a read when the next bit of `yields` says so.
struct ChunkReader {
    std::string_view data;
    std::vector<std::size_t> chunks;
    uint64_t yields = 0;
    std::size_t at = 0, k = 0;
    braid::Task<std::size_t> read(bio::MutableBuffer b) {
        if ((yields >> (k % 64)) & 1) co_await braid::yield_now();
        std::size_t n = chunks.empty() ? b.size : std::max<std::size_t>(1, chunks[k % chunks.size()]);
        ++k;
        n = std::min({n, b.size, data.size() - at});
        std::memcpy(b.data, data.data() + at, n);
        at += n;
        co_return n;
    }
};

template <class Codec>
Outcome framed(Codec codec, std::string_view data, const std::vector<std::size_t>& chunks, uint64_t yields) {
    return braid_fuzz::fuzz_runtime().block_on([](Codec codec, ChunkReader r) -> braid::Task<Outcome> {
        Outcome o;
        bio::FramedRead in(std::move(r), std::move(codec));
        try {
            while (auto f = co_await in.next()) o.frames.push_back(std::move(*f));
        } catch (const braid::Error& e) {
            o.error = e.code();
        }
        co_return o;
    }(std::move(codec), ChunkReader{data, chunks, yields}));
}

template <class Codec>
void check(const Codec& codec, std::string_view data, const std::vector<std::size_t>& chunks, uint64_t yields,
           bool round_trip) {
    Outcome whole = by_hand(codec, data, {});
    Outcome pieces = by_hand(codec, data, chunks);
    FUZZ_CHECK(pieces == whole, "chunked: %s\nwhole: %s", show(pieces).c_str(), show(whole).c_str());
    Outcome stream = framed(codec, data, chunks, yields);
    FUZZ_CHECK(stream == whole, "FramedRead: %s\nwhole: %s", show(stream).c_str(), show(whole).c_str());
    if (!round_trip) return;
    std::string encoded;
    for (auto& f : whole.frames) codec.encode(f, encoded);
    Outcome again = by_hand(codec, encoded, chunks);
    FUZZ_CHECK(again.error == 0 && again.frames == whole.frames, "round trip: %s", show(again).c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    Input in(data, size);
    uint8_t kind = in.u8();
    std::vector<std::size_t> chunks(in.below(8));
    for (auto& c : chunks) c = in.u8() % 32 == 0 ? in.u16() : in.below(32);
    uint64_t yields = in.u64();
    if (kind & 1) {
        // LinesCodec: max_length small, large or unlimited.
        std::size_t max = in.flag() ? SIZE_MAX : in.below(64);
        std::string_view bytes = in.rest();
        bio::LinesCodec codec(max);
        Outcome whole = by_hand(codec, bytes, {});
        // A frame ending in '\r' comes back without it after encode + decode
        // ("x\r" + "\n" is the line "x"): the round trip holds for the others.
        bool round_trip = whole.error == 0;
        for (auto& f : whole.frames) round_trip = round_trip && (f.empty() || f.back() != '\r');
        check(codec, bytes, chunks, yields, round_trip);
    } else {
        static constexpr std::size_t kFields[] = {1, 2, 4, 8};
        bio::LengthDelimitedCodec codec;
        codec.length_field_length(kFields[in.below(4)]);
        if (in.flag()) codec.little_endian();
        codec.max_frame_length(in.flag() ? in.below(1 << 16) : in.below(64));
        std::string_view bytes = in.rest();
        check(codec, bytes, chunks, yields, by_hand(codec, bytes, {}).error == 0);
    }
    return 0;
}
