// Socket addresses as text (braid_addr_parse, braid_addr_format): ports,
// IPv6 scope ids, lengths shorter than a family, round trips.
#include <catch2/catch.hpp>
#include <braid/net.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace test_io_addr {

namespace {

struct Parsed {
    int rc = 0;
    sockaddr_storage ss{};
    size_t len = 0;
};

Parsed parse(const char* text) {
    Parsed p;
    p.rc = braid_addr_parse(&p.ss, &p.len, text);
    return p;
}

uint16_t port_of(const Parsed& p) {
    if (p.ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&p.ss)->sin_port);
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&p.ss)->sin6_port);
}

uint32_t scope_of(const Parsed& p) { return reinterpret_cast<const sockaddr_in6*>(&p.ss)->sin6_scope_id; }

std::string format(const sockaddr_storage& ss, size_t len) {
    char buf[BRAID_ADDRSTRLEN];
    int n = braid_addr_format(buf, sizeof buf, reinterpret_cast<const sockaddr*>(&ss), len);
    return n < 0 ? std::string("error ") + braid_err_name(n) : std::string(buf, size_t(n));
}

// Two pages, the second one inaccessible: bytes placed at the end of the
// first one are followed by a fault, so reading past them crashes in every
// build (not only under AddressSanitizer).
struct GuardedBytes {
    long page = sysconf(_SC_PAGESIZE);
    char* base = nullptr;
    GuardedBytes() {
        void* m = mmap(nullptr, size_t(2 * page), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        REQUIRE(m != MAP_FAILED);
        base = static_cast<char*>(m);
        REQUIRE(mprotect(base + page, size_t(page), PROT_NONE) == 0);
    }
    ~GuardedBytes() { munmap(base, size_t(2 * page)); }
    // n bytes that end where the inaccessible page begins.
    char* last(size_t n) { return base + page - n; }
};

}  // namespace

TEST_CASE("io_addr.addr: ports are decimal digits up to 65535, leading zeros allowed") {
    auto p = parse("1.2.3.4:0000080");
    REQUIRE(p.rc == BRAID_OK);
    REQUIRE(port_of(p) == 80);
    p = parse("[::1]:000000000000000000000000000000000000000000000000443");
    REQUIRE(p.rc == BRAID_OK);
    REQUIRE(port_of(p) == 443);
    REQUIRE(port_of(parse("1.2.3.4:65535")) == 65535);
    REQUIRE(port_of(parse("1.2.3.4:0")) == 0);
    REQUIRE(parse("1.2.3.4:65536").rc == BRAID_ERANGE);
    REQUIRE(parse("1.2.3.4:1234567").rc == BRAID_ERANGE);
    REQUIRE(parse("1.2.3.4:99999999999999999999999").rc == BRAID_ERANGE);
    // Anything but digits is malformed, wherever it is.
    REQUIRE(parse("1.2.3.4:1234567x").rc == BRAID_EINVAL);
    REQUIRE(parse("1.2.3.4:123456x").rc == BRAID_EINVAL);
    REQUIRE(parse("1.2.3.4:8x").rc == BRAID_EINVAL);
    REQUIRE(parse("1.2.3.4:+80").rc == BRAID_EINVAL);
    REQUIRE(parse("1.2.3.4:-80").rc == BRAID_EINVAL);
    REQUIRE(parse("1.2.3.4: 80").rc == BRAID_EINVAL);
    REQUIRE(parse("1.2.3.4:").rc == BRAID_EINVAL);
    REQUIRE(parse("[::1]:99999x").rc == BRAID_EINVAL);
}

TEST_CASE("io_addr.addr: IPv6 scope ids are decimal digits up to 2^32 - 1, or an interface name") {
    auto p = parse("[fe80::1%7]:6");
    REQUIRE(p.rc == BRAID_OK);
    REQUIRE(scope_of(p) == 7);
    p = parse("[fe80::1%0007]:6");
    REQUIRE(p.rc == BRAID_OK);
    REQUIRE(scope_of(p) == 7);
    p = parse("[fe80::1%4294967295]:6");
    REQUIRE(p.rc == BRAID_OK);
    REQUIRE(scope_of(p) == 4294967295u);
    p = parse("[fe80::1%lo]:6");  // the loopback interface exists everywhere
    REQUIRE(p.rc == BRAID_OK);
    REQUIRE(scope_of(p) != 0);
    REQUIRE(parse("[::1%4294967296]:6").rc == BRAID_ERANGE);
    REQUIRE(parse("[::1%99999999999999999999]:6").rc == BRAID_ERANGE);
    REQUIRE(parse("[::1%-5]:6").rc == BRAID_EINVAL);
    REQUIRE(parse("[::1%+7]:6").rc == BRAID_EINVAL);
    REQUIRE(parse("[::1% 7]:6").rc == BRAID_EINVAL);
    REQUIRE(parse("[::1%]:6").rc == BRAID_EINVAL);
    REQUIRE(parse("[::1%no-such-interface]:6").rc == BRAID_EINVAL);
}

TEST_CASE("io_addr.addr: format never reads past the length it is given") {
    GuardedBytes g;
    char buf[BRAID_ADDRSTRLEN];
    // No room for the family at all, then one byte of it.
    REQUIRE(braid_addr_format(buf, sizeof buf, reinterpret_cast<const sockaddr*>(g.last(0)), 0) == BRAID_EINVAL);
    char* one = g.last(1);
    *one = char(AF_INET);
    REQUIRE(braid_addr_format(buf, sizeof buf, reinterpret_cast<const sockaddr*>(one), 1) == BRAID_EINVAL);
    // Each family one byte short of its structure.
    for (int family : {AF_INET, AF_INET6}) {
        size_t full = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
        char* at = g.last(full - 1);
        std::memset(at, 0, full - 1);
        sa_family_t f = sa_family_t(family);
        std::memcpy(at, &f, sizeof f);
        REQUIRE(braid_addr_format(buf, sizeof buf, reinterpret_cast<const sockaddr*>(at), full - 1) == BRAID_EINVAL);
    }
    // A Unix address of just its family is the unnamed one.
    char* un = g.last(sizeof(sa_family_t));
    sa_family_t f = AF_UNIX;
    std::memcpy(un, &f, sizeof f);
    int n = braid_addr_format(buf, sizeof buf, reinterpret_cast<const sockaddr*>(un), sizeof f);
    REQUIRE(n == int(std::strlen("(unnamed)")));
    REQUIRE(std::string(buf) == "(unnamed)");
}

TEST_CASE("io_addr.addr: what format writes, parse reads back to the same address") {
    for (const char* text : {"1.2.3.4:0000080", "0.0.0.0:0", "255.255.255.255:65535", "[::]:1", "[::ffff:1.2.3.4]:9",
                             "[fe80::1%42]:8080", "[2001:db8::1]:00443"}) {
        INFO(text);
        auto p = parse(text);
        REQUIRE(p.rc == BRAID_OK);
        std::string s = format(p.ss, p.len);
        auto q = parse(s.c_str());
        REQUIRE(q.rc == BRAID_OK);
        REQUIRE(q.len == p.len);
        REQUIRE(std::memcmp(&p.ss, &q.ss, p.len) == 0);
        REQUIRE(format(q.ss, q.len) == s);
    }
}

}  // namespace test_io_addr
