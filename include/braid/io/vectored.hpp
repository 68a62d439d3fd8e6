// Vectored writes (Tokio's write_vectored / is_write_vectored): several
// buffers handed to one write, which takes some prefix of their
// concatenation.
//
//   braid::io::ConstBuffer parts[] = {header, body};
//   std::size_t n = co_await braid::io::write_vectored(w, parts);   // maybe fewer than all
//
// A writer that has write_vectored(std::span<const ConstBuffer>) is
// AsyncWriteVectored (Tokio: is_write_vectored() is true): BufWriter, Cursor,
// and the byte streams (TcpStream, UnixStream, pipes: one writev(2) of up
// to BRAID_IO_SLICES_MAX buffers, braid_byte_stream_poll_write_vectored).  For
// any other AsyncWrite, write_vectored writes the first non-empty buffer
// alone, as Tokio's default poll_write_vectored does.  0: every buffer was
// empty (or the writer took nothing).
#pragma once

#include <braid/io/buffer.hpp>
#include <braid/io/traits.hpp>
#include <braid/task.hpp>

#include <cstddef>
#include <span>

namespace braid::io {

template <class W>
concept AsyncWriteVectored = AsyncWrite<W> && requires(W& w, std::span<const ConstBuffer> bufs) {
    { braid::detail::get_awaiter(w.write_vectored(bufs)).await_resume() } -> std::convertible_to<std::size_t>;
};

// The total size of bufs.
inline std::size_t total_size(std::span<const ConstBuffer> bufs) {
    std::size_t n = 0;
    for (const ConstBuffer& b : bufs) n += b.size;
    return n;
}

template <AsyncWrite W>
Task<std::size_t> write_vectored(W& w, std::span<const ConstBuffer> bufs) {
    if constexpr (AsyncWriteVectored<W>) {
        co_return co_await w.write_vectored(bufs);
    } else {
        for (const ConstBuffer& b : bufs)
            if (b.size > 0) co_return co_await w.write(b);
        co_return 0;
    }
}

}  // namespace braid::io
