// copy and copy_bidirectional between any AsyncRead and AsyncWrite.
//
//   uint64_t n = co_await braid::io::copy(reader, writer);        // until EOF; then writer.flush()
//   auto [a_to_b, b_to_a] = co_await braid::io::copy_bidirectional(a, b);
//
// copy reads into a 64 KiB buffer of its own and writes all of each chunk;
// it returns the byte count at end of file.  copy_bidirectional runs both
// directions at once inside the calling task; when one side reaches end of
// file it shuts the other side's write half down (the peer sees EOF) and
// keeps copying the other way until that ends too.  The first error cancels
// both directions and is rethrown.  Neither is cancel-safe: bytes read but
// not yet written are lost with the frame.
#pragma once

#include <braid/io/buffer.hpp>
#include <braid/io/ext.hpp>
#include <braid/io/traits.hpp>
#include <braid/join.hpp>
#include <braid/task.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace braid::io {

inline constexpr std::size_t kCopyBufferSize = 64 * 1024;

template <AsyncRead R, AsyncWrite W>
Task<uint64_t> copy(R& reader, W& writer) {
    std::unique_ptr<std::byte[]> buf(new std::byte[kCopyBufferSize]);
    uint64_t total = 0;
    for (;;) {
        std::size_t n = co_await reader.read(MutableBuffer(buf.get(), kCopyBufferSize));
        if (n == 0) break;
        if constexpr (requires { writer.write_all(ConstBuffer()); })
            co_await writer.write_all(ConstBuffer(buf.get(), n));  // a native one: no frame
        else
            co_await write_all(writer, ConstBuffer(buf.get(), n));
        total += n;
    }
    co_await writer.flush();
    co_return total;
}

namespace detail {
template <AsyncRead R, AsyncWrite W>
Task<uint64_t> copy_then_shutdown(R& reader, W& writer) {
    uint64_t n = co_await copy(reader, writer);
    co_await writer.shutdown();
    co_return n;
}
}  // namespace detail

// Copies a -> b and b -> a at the same time until both reach end of file.
// Returns {bytes a -> b, bytes b -> a}.
template <class A, class B>
    requires AsyncRead<A> && AsyncWrite<A> && AsyncRead<B> && AsyncWrite<B>
Task<std::pair<uint64_t, uint64_t>> copy_bidirectional(A& a, B& b) {
    auto [ab, ba] = co_await braid::try_join(detail::copy_then_shutdown(a, b), detail::copy_then_shutdown(b, a));
    co_return std::make_pair(ab, ba);
}

}  // namespace braid::io
