// Tokio's try_recv_buf / try_recv_buf_from, once for the datagram sockets
// (UdpSocket, UnixDatagram): a mixin (CRTP) over the derived class's
// try_recv(MutableBuffer) and try_recv_from(MutableBuffer).
#pragma once

#include <braid/io/buffer.hpp>
#include <braid/io/spare.hpp>
#include <braid/net/addr.hpp>

#include <cstddef>
#include <optional>
#include <utility>

namespace braid::net::detail {

template <class D>
class RecvBuf {
public:
    // try_recv / try_recv_from into the spare capacity of `out` (std::string
    // or a vector of bytes; grown first when it has none, as io::read_buf),
    // which grows by the datagram (cut to that room, as a recv into a short
    // buffer is).  nullopt or a throw leave its size as it was.
    template <class Container>
    std::optional<std::size_t> try_recv_buf(Container& out) {
        return io::detail::append_spare(out, [&](io::MutableBuffer room) { return self().try_recv(room); });
    }
    template <class Container>
    std::optional<std::pair<std::size_t, SocketAddr>> try_recv_buf_from(Container& out) {
        return io::detail::append_spare(out, [&](io::MutableBuffer room) { return self().try_recv_from(room); });
    }

private:
    D& self() { return static_cast<D&>(*this); }
};

}  // namespace braid::net::detail
