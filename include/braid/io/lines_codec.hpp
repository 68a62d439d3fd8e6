// braid::io::LinesCodec: frames are lines of text ending in "\n" (a "\r"
// before it is dropped too); encoding appends "\n".  Tokio's LinesCodec.
//
//   braid::io::FramedRead lines(std::move(stream), braid::io::LinesCodec(8192));  // at most 8 KiB a line
//
// A line longer than max_length (counted without its "\r\n" or "\n") throws
// IoError(BRAID_ERANGE) from decode; the codec then skips the rest of that
// line, so the next decode goes on with the line after it.  At end of file,
// a last line without "\n" is still a frame (a lone "\r" is not: it is the
// start of a "\r\n" that never came).  The result never depends on how the
// bytes arrived: a last "\r" that may be the start of "\r\n" does not count
// against max_length while the "\n" is still to come.
#pragma once

#include <braid/io/codec.hpp>

#include <cstddef>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace braid::io {

class LinesCodec {
public:
    using item_type = std::string;

    LinesCodec() = default;
    explicit LinesCodec(std::size_t max_length) : max_(max_length) {}
    std::size_t max_length() const { return max_; }

    std::optional<std::string> decode(ByteBuffer& buf) {
        if (discarding_ && !discard(buf)) return std::nullopt;
        std::string_view v = buf.view();
        std::size_t from = std::min(searched_, v.size());
        std::size_t nl = v.find('\n', from);
        if (nl == std::string_view::npos) {
            searched_ = v.size();
            // A last '\r' may be half of "\r\n": not part of the line yet.
            std::size_t len = v.size();
            if (len > 0 && v[len - 1] == '\r') --len;
            if (len > max_) too_long();
            return std::nullopt;
        }
        searched_ = 0;
        std::size_t len = nl;
        if (len > 0 && v[len - 1] == '\r') --len;
        if (len > max_) too_long();
        std::string line(v.substr(0, len));
        buf.consume(nl + 1);
        return line;
    }
    std::optional<std::string> decode_eof(ByteBuffer& buf) {
        if (auto line = decode(buf)) return line;
        if (buf.empty() || buf.view() == "\r") return std::nullopt;
        searched_ = 0;
        std::string_view v = buf.view();
        if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
        std::string line(v);
        buf.consume(buf.size());
        return line;
    }
    void encode(std::string_view line, std::string& out) const {
        out.append(line);
        out.push_back('\n');
    }

private:
    // The line in front is too long: report it, and skip it from the next
    // decode on.
    [[noreturn]] void too_long() {
        discarding_ = true;
        throw IoError(BRAID_ERANGE, 0, "LinesCodec: line longer than max_length");
    }
    // Drops bytes up to and including the next '\n'; false when none came
    // yet (everything is dropped and the skipping goes on).
    bool discard(ByteBuffer& buf) {
        std::string_view v = buf.view();
        std::size_t nl = v.find('\n', std::min(searched_, v.size()));
        searched_ = 0;
        if (nl == std::string_view::npos) {
            buf.consume(v.size());
            return false;
        }
        buf.consume(nl + 1);
        discarding_ = false;
        return true;
    }

    std::size_t max_ = std::numeric_limits<std::size_t>::max();
    std::size_t searched_ = 0;  // bytes already known to hold no '\n'
    bool discarding_ = false;   // skipping the rest of a line that was too long
};

}  // namespace braid::io
