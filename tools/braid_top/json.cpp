#include "json.hpp"

#include <cctype>
#include <cstdlib>

namespace braid_top {
namespace {

struct Parser {
    const std::string& s;
    std::size_t i = 0;

    void ws() {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
    }
    bool lit(const char* w) {
        std::size_t n = std::char_traits<char>::length(w);
        if (s.compare(i, n, w) != 0) return false;
        i += n;
        return true;
    }
    static void utf8(std::string& out, unsigned cp) {
        if (cp < 0x80) {
            out += char(cp);
        } else if (cp < 0x800) {
            out += char(0xc0 | (cp >> 6));
            out += char(0x80 | (cp & 0x3f));
        } else {
            out += char(0xe0 | (cp >> 12));
            out += char(0x80 | ((cp >> 6) & 0x3f));
            out += char(0x80 | (cp & 0x3f));
        }
    }
    bool string(std::string& out) {
        if (i >= s.size() || s[i] != '"') return false;
        ++i;
        while (i < s.size()) {
            char c = s[i++];
            if (c == '"') return true;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (i >= s.size()) return false;
            char e = s[i++];
            switch (e) {
                case '"': case '\\': case '/': out += e; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    if (i + 4 > s.size()) return false;
                    char* end = nullptr;
                    std::string hex = s.substr(i, 4);
                    unsigned long cp = std::strtoul(hex.c_str(), &end, 16);
                    if (end != hex.c_str() + 4) return false;
                    i += 4;
                    utf8(out, unsigned(cp));
                    break;
                }
                default: return false;
            }
        }
        return false;
    }
    // The items of an object or array, from its opening bracket to `close`,
    // separated by commas; `item` reads one.
    template <class F>
    bool list(char close, F&& item) {
        ++i;
        ws();
        if (i < s.size() && s[i] == close) return ++i, true;
        for (;;) {
            if (!item()) return false;
            ws();
            if (i < s.size() && s[i] == ',') {
                ++i;
                continue;
            }
            if (i < s.size() && s[i] == close) return ++i, true;
            return false;
        }
    }
    bool value(Json& v, int depth) {
        if (depth > 64) return false;
        ws();
        if (i >= s.size()) return false;
        char c = s[i];
        if (c == '{') {
            v.type = Json::Object;
            return list('}', [&] {
                ws();
                std::string key;
                if (!string(key)) return false;
                ws();
                if (i >= s.size() || s[i++] != ':') return false;
                return value(v.fields[key], depth + 1);
            });
        }
        if (c == '[') {
            v.type = Json::Array;
            return list(']', [&] {
                v.items.emplace_back();
                return value(v.items.back(), depth + 1);
            });
        }
        if (c == '"') {
            v.type = Json::String;
            return string(v.text);
        }
        if (lit("true")) return v.type = Json::Bool, v.b = true, true;
        if (lit("false")) return v.type = Json::Bool, true;
        if (lit("null")) return v.type = Json::Null, true;
        std::size_t start = i;
        while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '-' || s[i] == '+' ||
                                s[i] == '.' || s[i] == 'e' || s[i] == 'E'))
            ++i;
        if (i == start) return false;
        v.type = Json::Number;
        v.text = s.substr(start, i - start);
        return true;
    }
};

const Json& null_json() {
    static const Json n;
    return n;
}

}  // namespace

const Json& Json::operator[](const std::string& key) const {
    if (type != Object) return null_json();
    auto it = fields.find(key);
    return it == fields.end() ? null_json() : it->second;
}

uint64_t Json::u64() const { return type == Number ? std::strtoull(text.c_str(), nullptr, 10) : 0; }
int64_t Json::i64() const { return type == Number ? std::strtoll(text.c_str(), nullptr, 10) : 0; }

bool parse_json(const std::string& in, Json& out, std::string& error) {
    Parser p{in};
    out = Json{};
    if (!p.value(out, 0)) {
        error = "not JSON at byte " + std::to_string(p.i);
        return false;
    }
    p.ws();
    if (p.i != in.size()) {
        error = "trailing bytes at " + std::to_string(p.i);
        return false;
    }
    return true;
}

}  // namespace braid_top
