// extern "C" shims: UDP sockets.
#include <braid/udp.h>
#include <netinet/in.h>
#include <unistd.h>

#include "io_shim.hpp"

using braid::capi::core_or_current;
using braid::capi::guarded;
using braid::capi::io::Handle;
using braid::capi::io::usable;
using braid::detail::Core;
using braid::detail::IoSource;
namespace net = braid::detail::net;
namespace io = braid::capi::io;

struct braid_udp_socket {
    Handle io;
};

namespace {

int family_of(const braid_udp_socket* s) {
    sockaddr_storage ss;
    size_t len = 0;
    if (net::local_addr(s->io.src->fd(), &ss, &len) != BRAID_OK) return AF_INET;
    return ss.ss_family;
}

int membership(braid_udp_socket* s, const sockaddr* group, size_t len, unsigned ifindex, bool join) {
    if (int rc = usable(s ? &s->io : nullptr)) return rc;
    if (int rc = net::check_inet(group, len)) return rc;
    int fd = s->io.src->fd();
    if (group->sa_family == AF_INET) {
        auto* g = reinterpret_cast<const sockaddr_in*>(group);
        if (!IN_MULTICAST(ntohl(g->sin_addr.s_addr))) return BRAID_EINVAL;
        ip_mreqn m{};
        m.imr_multiaddr = g->sin_addr;
        m.imr_address.s_addr = htonl(INADDR_ANY);
        m.imr_ifindex = int(ifindex);
        if (setsockopt(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &m, sizeof m) != 0)
            return braid::detail::os_error(errno);
        return BRAID_OK;
    }
    auto* g = reinterpret_cast<const sockaddr_in6*>(group);
    if (!IN6_IS_ADDR_MULTICAST(&g->sin6_addr)) return BRAID_EINVAL;
    ipv6_mreq m{};
    m.ipv6mr_multiaddr = g->sin6_addr;
    m.ipv6mr_interface = ifindex;
    if (setsockopt(fd, IPPROTO_IPV6, join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP, &m, sizeof m) != 0)
        return braid::detail::os_error(errno);
    return BRAID_OK;
}

// An option that has an IPv4 and an IPv6 spelling.
int set_ip_opt(braid_udp_socket* s, int v4opt, int v6opt, int value) {
    if (int rc = usable(s ? &s->io : nullptr)) return rc;
    bool v6 = family_of(s) == AF_INET6;
    return net::set_flag(s->io.src->fd(), v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? v6opt : v4opt, value);
}

}  // namespace

extern "C" {

BRAID_API int braid_udp_bind(braid_udp_socket** out, braid_runtime* rt, const struct sockaddr* addr,
                             size_t addr_len) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (int rc = net::check_inet(addr, addr_len)) return rc;
    braid::detail::Core* core = core_or_current(rt);
    if (!core) return BRAID_EINVAL;
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return guarded([&] {
        IoSource* src = nullptr;
        int rc = net::open_bound(&src, core, addr->sa_family, SOCK_DGRAM, addr, addr_len, 0, false);
        if (rc != BRAID_OK) return rc;
        auto* s = new (std::nothrow) braid_udp_socket;
        if (!s) {
            src->close();
            src->unref();
            return int(BRAID_ENOMEM);
        }
        s->io.adopt(core, src);
        *out = s;
        return int(BRAID_OK);
    });
}

BRAID_API int braid_udp_from_fd(braid_udp_socket** out, braid_runtime* rt, int fd) {
    return io::adopt_fd(out, rt, fd, net::SocketKind{AF_INET, AF_INET6, SOCK_DGRAM, IPPROTO_UDP, false});
}

BRAID_API int braid_udp_connect(braid_udp_socket* s, const struct sockaddr* addr, size_t addr_len) {
    if (int rc = usable(s ? &s->io : nullptr)) return rc;
    if (int rc = net::check_inet(addr, addr_len)) return rc;
    if (::connect(s->io.src->fd(), addr, socklen_t(addr_len)) != 0) return braid::detail::os_error(errno);
    return BRAID_OK;
}

BRAID_API int braid_udp_local_addr(const braid_udp_socket* s, struct sockaddr_storage* out, size_t* out_len) {
    if (!out || !out_len) return BRAID_EINVAL;
    if (int rc = usable(s ? &s->io : nullptr)) return rc;
    return net::local_addr(s->io.src->fd(), out, out_len);
}

BRAID_API int braid_udp_peer_addr(const braid_udp_socket* s, struct sockaddr_storage* out, size_t* out_len) {
    if (!out || !out_len) return BRAID_EINVAL;
    if (int rc = usable(s ? &s->io : nullptr)) return rc;
    return net::peer_addr(s->io.src->fd(), out, out_len);
}

BRAID_API int braid_udp_poll_send_to(braid_udp_socket* s, const void* buf, size_t len, const struct sockaddr* addr,
                                     size_t addr_len, braid_wake_fn wake, void* wake_data, size_t* out_n) {
    if (!s || !s->io.src || !out_n) return BRAID_EINVAL;
    if (addr) {
        if (int rc = net::check_inet(addr, addr_len)) return rc;
    }
    return net::poll_send_to(s->io.src, buf, len, addr, addr_len, wake, wake_data, out_n);
}

BRAID_API int braid_udp_poll_recv_from(braid_udp_socket* s, void* buf, size_t len, struct sockaddr_storage* from,
                                       size_t* from_len, braid_wake_fn wake, void* wake_data, size_t* out_n) {
    if (!s || !s->io.src || !out_n) return BRAID_EINVAL;
    return net::poll_recv_from(s->io.src, buf, len, 0, from, from_len, wake, wake_data, out_n);
}

BRAID_API int braid_udp_poll_peek_from(braid_udp_socket* s, void* buf, size_t len, struct sockaddr_storage* from,
                                       size_t* from_len, braid_wake_fn wake, void* wake_data, size_t* out_n) {
    if (!s || !s->io.src || !out_n) return BRAID_EINVAL;
    return net::poll_recv_from(s->io.src, buf, len, MSG_PEEK, from, from_len, wake, wake_data, out_n);
}

BRAID_API int braid_udp_poll_ready(braid_udp_socket* s, int interest, braid_wake_fn wake, void* wake_data,
                                   int* out_ready) {
    return Handle::poll_ready(s ? &s->io : nullptr, interest, wake, wake_data, out_ready);
}

BRAID_API int braid_udp_try_send_to(braid_udp_socket* s, const void* buf, size_t len, const struct sockaddr* addr,
                                    size_t addr_len, size_t* out_n) {
    return braid_udp_poll_send_to(s, buf, len, addr, addr_len, braid::detail::kNoWait, nullptr, out_n);
}

BRAID_API int braid_udp_try_recv_from(braid_udp_socket* s, void* buf, size_t len, struct sockaddr_storage* from,
                                      size_t* from_len, size_t* out_n) {
    return braid_udp_poll_recv_from(s, buf, len, from, from_len, braid::detail::kNoWait, nullptr, out_n);
}

BRAID_API int braid_udp_try_peek_from(braid_udp_socket* s, void* buf, size_t len, struct sockaddr_storage* from,
                                      size_t* from_len, size_t* out_n) {
    return braid_udp_poll_peek_from(s, buf, len, from, from_len, braid::detail::kNoWait, nullptr, out_n);
}

BRAID_API int braid_udp_send_to(braid_task** out, braid_udp_socket* s, const void* buf, size_t len,
                                const struct sockaddr* addr, size_t addr_len, braid_io_callback cb, void* user_data) {
    if (out) *out = nullptr;
    if (addr) {
        if (int rc = net::check_inet(addr, addr_len)) return rc;
    }
    return braid::detail::io_op::start_dgram(out, s ? &s->io : nullptr, false, const_cast<void*>(buf), len, addr,
                                             addr_len, nullptr,
                           nullptr, cb, user_data);
}

BRAID_API int braid_udp_recv_from(braid_task** out, braid_udp_socket* s, void* buf, size_t len,
                                  struct sockaddr_storage* from, size_t* from_len, braid_io_callback cb,
                                  void* user_data) {
    return braid::detail::io_op::start_dgram(out, s ? &s->io : nullptr, true, buf, len, nullptr, 0, from, from_len,
                                             cb, user_data);
}

BRAID_API int braid_udp_set_broadcast(braid_udp_socket* s, int on) {
    if (int rc = usable(s ? &s->io : nullptr)) return rc;
    return net::set_flag(s->io.src->fd(), SOL_SOCKET, SO_BROADCAST, on ? 1 : 0);
}

BRAID_API int braid_udp_broadcast(const braid_udp_socket* s) {
    if (int rc = usable(s ? &s->io : nullptr)) return rc;
    return net::get_flag(s->io.src->fd(), SOL_SOCKET, SO_BROADCAST);
}

BRAID_API int braid_udp_join_multicast(braid_udp_socket* s, const struct sockaddr* group, size_t group_len,
                                       unsigned ifindex) {
    return membership(s, group, group_len, ifindex, true);
}

BRAID_API int braid_udp_leave_multicast(braid_udp_socket* s, const struct sockaddr* group, size_t group_len,
                                        unsigned ifindex) {
    return membership(s, group, group_len, ifindex, false);
}

BRAID_API int braid_udp_set_multicast_loop(braid_udp_socket* s, int on) {
    return set_ip_opt(s, IP_MULTICAST_LOOP, IPV6_MULTICAST_LOOP, on ? 1 : 0);
}

BRAID_API int braid_udp_set_multicast_ttl(braid_udp_socket* s, int ttl) {
    if (ttl < 0 || ttl > 255) return BRAID_ERANGE;
    return set_ip_opt(s, IP_MULTICAST_TTL, IPV6_MULTICAST_HOPS, ttl);
}

BRAID_API int braid_udp_set_ttl(braid_udp_socket* s, int ttl) {
    if (ttl < 1 || ttl > 255) return BRAID_ERANGE;
    return set_ip_opt(s, IP_TTL, IPV6_UNICAST_HOPS, ttl);
}

BRAID_API int braid_udp_fd(const braid_udp_socket* s) { return s && s->io.src ? s->io.src->fd() : BRAID_EINVAL; }
BRAID_API int braid_udp_into_fd(braid_udp_socket* s) { return io::into_fd(s); }
BRAID_API int braid_udp_close(braid_udp_socket* s) { return s ? s->io.close() : BRAID_EINVAL; }

BRAID_API void braid_udp_free(braid_udp_socket* s) {
    if (!s) return;
    s->io.free();
    delete s;
}

}  // extern "C"
