// braid::io::AnyDelimiterCodec: frames end at any one of a set of delimiter
// bytes; encoding appends a given sequence (tokio_util's AnyDelimiterCodec).
//
//   braid::io::AnyDelimiterCodec codec(",;\n\r", ",");        // split at any of , ; \n \r; write ","
//   braid::io::AnyDelimiterCodec capped(",;", ";", 256);     // chunks of at most 256 bytes
//   braid::io::AnyDelimiterCodec dflt;                       // ",;\n\r" and ","
//
// Frames are std::string, without their delimiter; two delimiters in a row
// make an empty frame ("\r\n" is two delimiters).  A chunk longer than
// max_length throws IoError(BRAID_ERANGE) from decode; the codec then
// skips the rest of that chunk (up to and including its delimiter), so a
// later decode goes on with the chunk after it.  At end of file what is
// left without a delimiter is a last frame.
//
// The result never depends on how the bytes arrived: a chunk of more than
// max_length bytes is an error whether its delimiter came with it or later
// (a delimiter is looked for in the first max_length + 1 bytes only).
#pragma once

#include <braid/io/codec.hpp>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace braid::io {

class AnyDelimiterCodec {
public:
    using item_type = std::string;

    AnyDelimiterCodec() : AnyDelimiterCodec(",;\n\r", ",") {}
    AnyDelimiterCodec(std::string_view seek_delimiters, std::string_view sequence_writer,
                      std::size_t max_length = std::numeric_limits<std::size_t>::max())
        : delims_(seek_delimiters), writer_(sequence_writer), max_(max_length) {}

    std::size_t max_length() const { return max_; }

    std::optional<std::string> decode(ByteBuffer& buf) {
        for (;;) {
            std::string_view v = buf.view();
            // How far a delimiter is looked for: one byte past max_length.
            std::size_t read_to = std::min(max_ == std::numeric_limits<std::size_t>::max() ? max_ : max_ + 1, v.size());
            std::size_t from = std::min(next_, read_to);
            std::size_t hit = v.substr(0, read_to).find_first_of(delims_, from);
            if (discarding_) {
                next_ = 0;
                if (hit != std::string_view::npos) {
                    buf.consume(hit + 1);  // the rest of the long chunk, delimiter included
                    discarding_ = false;
                    continue;
                }
                buf.consume(read_to);
                if (buf.empty()) return std::nullopt;
                continue;  // more bytes of the long chunk than max_length + 1: drop on
            }
            if (hit != std::string_view::npos) {
                next_ = 0;
                std::string chunk(v.substr(0, hit));
                buf.consume(hit + 1);
                return chunk;
            }
            if (v.size() > max_) {
                discarding_ = true;
                throw IoError(BRAID_ERANGE, 0, "AnyDelimiterCodec: chunk longer than max_length");
            }
            next_ = read_to;
            return std::nullopt;
        }
    }
    std::optional<std::string> decode_eof(ByteBuffer& buf) {
        if (auto chunk = decode(buf)) return chunk;
        if (buf.empty()) return std::nullopt;
        next_ = 0;
        return buf.take(buf.size());
    }
    void encode(std::string_view chunk, std::string& out) const {
        out.append(chunk);
        out.append(writer_);
    }

private:
    std::string delims_;
    std::string writer_;
    std::size_t max_;
    std::size_t next_ = 0;     // bytes already known to hold no delimiter
    bool discarding_ = false;  // skipping the rest of a chunk that was too long
};

}  // namespace braid::io
