// A string written as a JSON string literal (quotes, escapes), or null.
#pragma once

#include <string>

namespace braid::detail {

// Appends `s` quoted and escaped as RFC 8259 asks ("\"", "\\", control
// characters as \uXXXX; other bytes as they are), or `null` when s is NULL.
inline void append_json_string(std::string& out, const char* s) {
    if (!s) {
        out += "null";
        return;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    for (; *s; ++s) {
        unsigned char c = static_cast<unsigned char>(*s);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    out += kHex[c >> 4];
                    out += kHex[c & 15];
                } else {
                    out += char(c);
                }
        }
    }
    out += '"';
}

}  // namespace braid::detail
