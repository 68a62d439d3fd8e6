// A small JSON reader for braid_top: the live view's snapshot documents
// (objects, arrays, strings, numbers, true/false/null), no dependency.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace braid_top {

struct Json {
    enum Type { Null, Bool, Number, String, Array, Object } type = Null;
    bool b = false;
    std::string text;  // a String's value, or a Number as written
    std::vector<Json> items;
    std::map<std::string, Json> fields;

    // A field of an object (a null value when absent or not an object).
    const Json& operator[](const std::string& key) const;
    uint64_t u64() const;  // a Number as an unsigned integer (0 otherwise)
    int64_t i64() const;
    const std::string& str() const { return text; }
    bool is_null() const { return type == Null; }
};

// Parses a whole document; false (and `error` says where) when it is not JSON.
bool parse_json(const std::string& in, Json& out, std::string& error);

}  // namespace braid_top
