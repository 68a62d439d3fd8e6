// braid::io::LengthDelimitedCodec: each frame is a length field (1, 2, 4 or
// 8 bytes, big-endian by default) followed by that many bytes.  Tokio's
// LengthDelimitedCodec with its common options.
//
//   braid::io::LengthDelimitedCodec codec;                   // 4-byte big-endian length, frames up to 8 MiB
//   auto c2 = braid::io::LengthDelimitedCodec().length_field_length(2).little_endian().max_frame_length(1024);
//
// Frames are std::string (bytes).  A frame longer than max_frame_length
// throws IoError(BRAID_ERANGE) when encoded or decoded; end of file inside a
// frame throws IoError(BRAID_EEOF).
#pragma once

#include <braid/io/codec.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace braid::io {

class LengthDelimitedCodec {
public:
    using item_type = std::string;

    LengthDelimitedCodec& length_field_length(std::size_t n) {
        if (n != 1 && n != 2 && n != 4 && n != 8) throw IoError(BRAID_EINVAL, 0, "length field of 1, 2, 4 or 8 bytes");
        field_ = n;
        return *this;
    }
    LengthDelimitedCodec& big_endian() {
        big_ = true;
        return *this;
    }
    LengthDelimitedCodec& little_endian() {
        big_ = false;
        return *this;
    }
    LengthDelimitedCodec& max_frame_length(std::size_t n) {
        max_ = n;
        return *this;
    }
    std::size_t max_frame_length() const { return max_; }

    // A head once read is kept (its bytes consumed) until its frame is
    // complete, so changing max_frame_length affects only frames whose head
    // comes later.
    std::optional<std::string> decode(ByteBuffer& buf) {
        if (!head_) {
            if (buf.size() < field_) return std::nullopt;
            uint64_t len = 0;
            auto* p = reinterpret_cast<const unsigned char*>(buf.data());
            for (std::size_t i = 0; i < field_; ++i) {
                unsigned char b = big_ ? p[i] : p[field_ - 1 - i];
                len = (len << 8) | b;
            }
            if (len > max_) throw IoError(BRAID_ERANGE, 0, "LengthDelimitedCodec: frame longer than max_frame_length");
            buf.consume(field_);
            head_ = len;
        }
        if (buf.size() < *head_) return std::nullopt;
        std::size_t len = std::size_t(*head_);
        head_.reset();
        return buf.take(len);
    }
    std::optional<std::string> decode_eof(ByteBuffer& buf) {
        if (auto frame = decode(buf)) return frame;
        if (buf.empty() && !head_) return std::nullopt;
        throw IoError(BRAID_EEOF, 0, "LengthDelimitedCodec: end of file inside a frame");
    }
    void encode(std::string_view frame, std::string& out) const {
        if (frame.size() > max_) throw IoError(BRAID_ERANGE, 0, "LengthDelimitedCodec: frame longer than max_frame_length");
        if (field_ < 8 && uint64_t(frame.size()) >> (8 * field_))
            throw IoError(BRAID_ERANGE, 0, "LengthDelimitedCodec: frame too long for the length field");
        uint64_t len = frame.size();
        for (std::size_t i = 0; i < field_; ++i) {
            std::size_t shift = big_ ? 8 * (field_ - 1 - i) : 8 * i;
            out.push_back(char((len >> shift) & 0xff));
        }
        out.append(frame);
    }

private:
    std::size_t field_ = 4;
    bool big_ = true;
    std::size_t max_ = 8 * 1024 * 1024;
    std::optional<uint64_t> head_;  // the length of the frame whose head was read
};

}  // namespace braid::io
