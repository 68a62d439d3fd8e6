// braid::io::BytesCodec: no framing at all (tokio_util's BytesCodec): each
// decode takes every byte buffered as one frame (std::string), and encoding
// writes a frame's bytes as they are.
//
//   braid::io::FramedRead chunks(std::move(reader), braid::io::BytesCodec());
//   while (auto bytes = co_await chunks.next()) use(*bytes);   // what each read brought
#pragma once

#include <braid/io/codec.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace braid::io {

class BytesCodec {
public:
    using item_type = std::string;

    std::optional<std::string> decode(ByteBuffer& buf) {
        if (buf.empty()) return std::nullopt;
        return buf.take(buf.size());
    }
    std::optional<std::string> decode_eof(ByteBuffer& buf) { return decode(buf); }
    void encode(std::string_view bytes, std::string& out) const { out.append(bytes); }
};

}  // namespace braid::io
