// braid::net::SocketAddr: an IPv4, IPv6 or Unix socket address (a
// sockaddr_storage and its length), with its text form.
//
//   auto a = braid::net::SocketAddr::parse("127.0.0.1:8080");
//   auto b = braid::net::SocketAddr("::1", 0);          // any IP text and a port
//   std::string s = a.to_string();                     // "127.0.0.1:8080"
#pragma once

#include <braid/error.hpp>
#include <braid/net.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace braid::net {

class SocketAddr {
public:
    SocketAddr() { std::memset(&ss_, 0, sizeof ss_); }
    SocketAddr(const sockaddr* a, std::size_t len) : SocketAddr() {
        if (!a || len > sizeof ss_) throw Error(BRAID_EINVAL, "SocketAddr: bad address");
        std::memcpy(&ss_, a, len);
        len_ = len;
    }
    // An IP address in text ("10.0.0.1", "::1", "fe80::1%eth0") and a port.
    // Throws braid::Error(BRAID_EINVAL) for text that is not an IP address.
    SocketAddr(std::string_view ip, uint16_t port) : SocketAddr() {
        std::string text = ip.find(':') != std::string_view::npos ? "[" + std::string(ip) + "]:" : std::string(ip) + ":";
        text += std::to_string(port);
        detail::check(braid_addr_parse(&ss_, &len_, text.c_str()), "SocketAddr");
    }
    // "1.2.3.4:80", "[::1]:80".  Throws braid::Error: BRAID_EINVAL for text
    // that is not an address with a port, BRAID_ERANGE for a port > 65535.
    static SocketAddr parse(std::string_view text) {
        SocketAddr a;
        detail::check(braid_addr_parse(&a.ss_, &a.len_, std::string(text).c_str()), "SocketAddr::parse");
        return a;
    }
    // A Unix socket path ("@name": the abstract namespace).  Throws
    // braid::Error(BRAID_EINVAL) for a path with an embedded NUL or too long.
    static SocketAddr unix_path(std::string_view path) {
        SocketAddr a;
        auto* un = reinterpret_cast<sockaddr_un*>(&a.ss_);
        if (path.empty() || path.size() >= sizeof un->sun_path) throw Error(BRAID_EINVAL, "unix socket path: empty or too long");
        bool abstract = path[0] == '@';
        if (!abstract && path.find('\0') != std::string_view::npos)
            throw Error(BRAID_EINVAL, "unix socket path: embedded NUL");
        un->sun_family = AF_UNIX;
        std::memcpy(un->sun_path, path.data(), path.size());
        if (abstract) un->sun_path[0] = '\0';
        a.len_ = offsetof(sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1);
        return a;
    }

    int family() const { return ss_.ss_family; }
    bool is_ipv4() const { return family() == AF_INET; }
    bool is_ipv6() const { return family() == AF_INET6; }
    bool is_unix() const { return family() == AF_UNIX; }
    uint16_t port() const {
        if (is_ipv4()) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss_)->sin_port);
        if (is_ipv6()) return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss_)->sin6_port);
        return 0;
    }
    void set_port(uint16_t p) {
        if (is_ipv4()) reinterpret_cast<sockaddr_in*>(&ss_)->sin_port = htons(p);
        else if (is_ipv6()) reinterpret_cast<sockaddr_in6*>(&ss_)->sin6_port = htons(p);
    }
    // The host part alone: "127.0.0.1", "::1", or the Unix path.
    std::string ip() const {
        std::string s = to_string();
        if (is_ipv4()) return s.substr(0, s.rfind(':'));
        if (is_ipv6()) return s.substr(1, s.rfind(']') - 1);
        return s;
    }
    std::string to_string() const {
        char buf[BRAID_ADDRSTRLEN];
        int n = braid_addr_format(buf, sizeof buf, as_sockaddr(), len_);
        return n < 0 ? std::string("(invalid)") : std::string(buf, std::size_t(n));
    }

    const sockaddr* as_sockaddr() const { return reinterpret_cast<const sockaddr*>(&ss_); }
    std::size_t size() const { return len_; }
    sockaddr_storage* storage() { return &ss_; }
    std::size_t* size_ptr() { return &len_; }

    friend bool operator==(const SocketAddr& a, const SocketAddr& b) {
        return a.len_ == b.len_ && std::memcmp(&a.ss_, &b.ss_, a.len_) == 0;
    }

private:
    sockaddr_storage ss_;
    std::size_t len_ = 0;
};

}  // namespace braid::net
