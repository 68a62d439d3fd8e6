// Socket addresses as text: braid_addr_parse and braid_addr_format.
//
// Mode 0 parses fuzzed text and checks it against the header's grammar
// ("1.2.3.4:80", "[::1]:80", "[fe80::1%eth0]:80"; decimal port up to 65535,
// decimal scope up to 2^32-1 or an interface name): malformed text is
// BRAID_EINVAL, a well-formed number too big BRAID_ERANGE, anything else
// parses; what parses formats, and the text formats back to the same bytes.
// Mode 1 formats fuzzed bytes as an address of a fuzzed length, in a heap
// block of exactly that length (AddressSanitizer sees any read past it),
// with a fuzzed output capacity, and parses IPv4/IPv6 results back.
#include <braid/net.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <memory>

#include "fuzz_support.hpp"

using braid_fuzz::Input;

namespace {

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

// The value of a string of digits, saturated at max + 1.
uint64_t decimal(std::string_view s, uint64_t max) {
    uint64_t v = 0;
    for (char c : s) {
        v = v * 10 + uint64_t(c - '0');
        if (v > max) return max + 1;
    }
    return v;
}

// What the header says braid_addr_parse must return for `text` (one of
// BRAID_OK, BRAID_EINVAL, BRAID_ERANGE), and the port/scope it must give.
struct Expected {
    int rc;
    uint16_t port = 0;
    uint32_t scope = 0;
    int family = 0;
};

Expected expected(const std::string& text) {
    if (text.empty() || text.size() > 128) return {BRAID_EINVAL};
    std::string host, port_text, scope_text;
    bool v6 = text[0] == '[';
    bool has_scope = false;
    if (v6) {
        std::size_t close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') return {BRAID_EINVAL};
        host = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
        std::size_t pct = host.find('%');
        if (pct != std::string::npos) {
            has_scope = true;
            scope_text = host.substr(pct + 1);
            host.resize(pct);
        }
    } else {
        std::size_t colon = text.rfind(':');
        if (colon == std::string::npos || text.find(':') != colon) return {BRAID_EINVAL};
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
    }
    // The port is checked first, then the scope, then the host.
    if (!all_digits(port_text)) return {BRAID_EINVAL};
    uint64_t port = decimal(port_text, 65535);
    if (port > 65535) return {BRAID_ERANGE};
    Expected e{BRAID_OK, uint16_t(port)};
    if (has_scope) {
        if (!scope_text.empty() && scope_text[0] >= '0' && scope_text[0] <= '9' && all_digits(scope_text)) {
            uint64_t s = decimal(scope_text, UINT32_MAX);
            if (s > UINT32_MAX) return {BRAID_ERANGE};
            e.scope = uint32_t(s);
        } else {
            unsigned idx = scope_text.empty() || scope_text.find('\0') != std::string::npos
                               ? 0
                               : if_nametoindex(scope_text.c_str());
            if (idx == 0) return {BRAID_EINVAL};
            e.scope = idx;
        }
    }
    unsigned char buf[sizeof(in6_addr)];
    if (host.find('\0') != std::string::npos) return {BRAID_EINVAL};
    if (inet_pton(v6 ? AF_INET6 : AF_INET, host.c_str(), buf) != 1) return {BRAID_EINVAL};
    e.family = v6 ? AF_INET6 : AF_INET;
    return e;
}

uint16_t port_of(const sockaddr_storage& ss) {
    if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
}

// Formats with every capacity around the text's length: too small is
// BRAID_ERANGE, enough gives the same text.
std::string format_checked(const sockaddr* addr, std::size_t len) {
    char buf[BRAID_ADDRSTRLEN];
    int n = braid_addr_format(buf, sizeof buf, addr, len);
    FUZZ_CHECK(n >= 0, "format of a parsed address: %d", n);
    FUZZ_CHECK(std::size_t(n) < sizeof buf && std::strlen(buf) == std::size_t(n));
    std::string text(buf, std::size_t(n));
    for (std::size_t cap = 0; cap <= std::size_t(n) + 1; ++cap) {
        auto small = std::make_unique<char[]>(cap + 1);
        int m = braid_addr_format(small.get(), cap, addr, len);
        if (cap <= std::size_t(n)) FUZZ_CHECK(m == BRAID_ERANGE, "cap %zu of %d: %d", cap, n, m);
        else FUZZ_CHECK(m == n && text == small.get());
    }
    return text;
}

void parse_mode(Input& in) {
    std::string_view raw = in.rest();
    std::string text(raw.data(), strnlen(raw.data(), raw.size()));  // C strings end at NUL
    sockaddr_storage ss;
    std::size_t len = 0;
    int rc = braid_addr_parse(&ss, &len, text.c_str());
    Expected e = expected(text);
    FUZZ_CHECK(rc == e.rc, "parse(\"%s\") = %d, the grammar says %d", text.c_str(), rc, e.rc);
    if (rc != BRAID_OK) return;
    FUZZ_CHECK(ss.ss_family == e.family);
    FUZZ_CHECK(len == (e.family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6)));
    FUZZ_CHECK(port_of(ss) == e.port, "port %u, expected %u", unsigned(port_of(ss)), unsigned(e.port));
    if (e.family == AF_INET6)
        FUZZ_CHECK(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_scope_id == e.scope);
    std::string out = format_checked(reinterpret_cast<sockaddr*>(&ss), len);
    sockaddr_storage back;
    std::size_t back_len = 0;
    FUZZ_CHECK(braid_addr_parse(&back, &back_len, out.c_str()) == BRAID_OK, "formatted \"%s\"", out.c_str());
    FUZZ_CHECK(back_len == len && std::memcmp(&back, &ss, len) == 0, "\"%s\" -> \"%s\"", text.c_str(), out.c_str());
}

void format_mode(Input& in) {
    std::size_t len = in.below(sizeof(sockaddr_storage) + 9);
    int families[] = {AF_INET, AF_INET6, AF_UNIX, int(in.u16())};
    int family = families[in.below(4)];
    std::size_t cap = in.flag() ? BRAID_ADDRSTRLEN : in.below(BRAID_ADDRSTRLEN + 2);
    std::string_view fill = in.bytes(len);
    // Exactly len bytes on the heap: reading past them is reported.
    auto mem = std::make_unique<unsigned char[]>(len ? len : 1);
    unsigned char* addr_bytes = len ? mem.get() : mem.get() + 1;  // len 0: one past the end
    if (len) {
        std::memset(mem.get(), 0, len);
        std::memcpy(mem.get(), fill.data(), fill.size());
        if (len >= sizeof(sa_family_t)) {
            sa_family_t f = sa_family_t(family);
            std::memcpy(mem.get(), &f, sizeof f);
        }
    }
    auto* addr = reinterpret_cast<const sockaddr*>(addr_bytes);
    auto buf = std::make_unique<char[]>(cap + 1);
    int n = braid_addr_format(buf.get(), cap, addr, len);
    FUZZ_CHECK(n >= 0 || n == BRAID_EINVAL || n == BRAID_ERANGE, "format: %d", n);
    bool known = len >= sizeof(sa_family_t) &&
                 ((family == AF_INET && len >= sizeof(sockaddr_in)) || (family == AF_INET6 && len >= sizeof(sockaddr_in6)) ||
                  (family == AF_UNIX && len <= sizeof(sockaddr_un)));
    if (!known) {
        FUZZ_CHECK(n == BRAID_EINVAL, "family %d, length %zu: %d", family, len, n);
        return;
    }
    if (n == BRAID_ERANGE) {
        FUZZ_CHECK(cap < BRAID_ADDRSTRLEN);
        return;
    }
    FUZZ_CHECK(n >= 0 && std::size_t(n) < cap && std::strlen(buf.get()) == std::size_t(n));
    if (family == AF_UNIX) return;
    // IPv4 and IPv6 text parses back to the same address, port and scope.
    sockaddr_storage back;
    std::size_t back_len = 0;
    FUZZ_CHECK(braid_addr_parse(&back, &back_len, buf.get()) == BRAID_OK, "\"%s\"", buf.get());
    if (family == AF_INET) {
        auto* a = reinterpret_cast<const sockaddr_in*>(addr);
        auto* b = reinterpret_cast<const sockaddr_in*>(&back);
        FUZZ_CHECK(back.ss_family == AF_INET && a->sin_port == b->sin_port &&
                   std::memcmp(&a->sin_addr, &b->sin_addr, sizeof a->sin_addr) == 0);
    } else {
        auto* a = reinterpret_cast<const sockaddr_in6*>(addr);
        auto* b = reinterpret_cast<const sockaddr_in6*>(&back);
        FUZZ_CHECK(back.ss_family == AF_INET6 && a->sin6_port == b->sin6_port && a->sin6_scope_id == b->sin6_scope_id &&
                   std::memcmp(&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    Input in(data, size);
    if (in.u8() & 1) format_mode(in);
    else parse_mode(in);
    return 0;
}
