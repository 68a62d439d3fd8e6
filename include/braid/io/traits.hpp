// The shapes of braid's byte streams, as concepts (Tokio's AsyncRead and
// AsyncWrite):
//
//   AsyncRead:  co_await r.read(MutableBuffer) -> std::size_t (0: end of file)
//   AsyncWrite: co_await w.write(ConstBuffer)  -> std::size_t
//               co_await w.flush(), co_await w.shutdown()
//
// TcpStream, UnixStream, the process pipes, DuplexStream, BufReader and
// BufWriter have them; the utilities (copy, read_to_end, codecs) take any.
#pragma once

#include <braid/detail/branch.hpp>
#include <braid/io/buffer.hpp>

#include <cstddef>
#include <type_traits>

namespace braid::io {

template <class R>
concept AsyncRead = requires(R& r, MutableBuffer b) {
    { braid::detail::get_awaiter(r.read(b)).await_resume() } -> std::convertible_to<std::size_t>;
};

template <class W>
concept AsyncWrite = requires(W& w, ConstBuffer b) {
    { braid::detail::get_awaiter(w.write(b)).await_resume() } -> std::convertible_to<std::size_t>;
    w.flush();
    w.shutdown();
};

}  // namespace braid::io
