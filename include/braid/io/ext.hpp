// Reading and writing helpers over any AsyncRead / AsyncWrite:
//
//   co_await braid::io::read_exact(r, buf);          // EOF first: IoError(BRAID_EEOF)
//   co_await braid::io::write_all(w, data);
//   std::size_t n = co_await braid::io::read_to_end(r, bytes);    // appends until EOF
//   std::string s = co_await braid::io::read_to_string(r);
//   std::size_t n = co_await braid::io::read_buf(r, bytes);       // one read, appended
//   std::size_t n = co_await braid::io::write_buf(w, buf);        // one write; buf advances by n
//   co_await braid::io::write_all_buf(w, buf);                    // until buf is empty
//
// write_buf / write_all_buf (Tokio's, over a bytes::Buf): the buffer is a
// ConstBuffer, or a std::span<ConstBuffer> for several pieces in a row
// (Tokio's Buf::chain); it is advanced past what was written, also when a
// write fails, so what is left is what was not written.  Over a span, each
// write is a vectored one (io::write_vectored: the first non-empty piece
// alone for a writer without write_vectored).
//
// None of them is cancel-safe: what was read or written before the
// cancellation is gone with the frame (docs/cancellation.md).
#pragma once

#include <braid/io/buffer.hpp>
#include <braid/io/error.hpp>
#include <braid/io/spare.hpp>
#include <braid/io/traits.hpp>
#include <braid/io/vectored.hpp>
#include <braid/task.hpp>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <span>
#include <string>

namespace braid::io {

template <AsyncRead R>
Task<void> read_exact(R& r, MutableBuffer b) {
    std::size_t done = 0;
    while (done < b.size) {
        std::size_t n = co_await r.read(b.subspan(done));
        if (n == 0) throw IoError(BRAID_EEOF, 0, "read_exact");
        done += n;
    }
}

template <AsyncWrite W>
Task<void> write_all(W& w, ConstBuffer b) {
    std::size_t done = 0;
    while (done < b.size) {
        std::size_t n = co_await w.write(b.subspan(done));
        if (n == 0) throw IoError(BRAID_EPIPE, 0, "write_all: the writer took no bytes");
        done += n;
    }
}

// Appends everything up to end of file to `out` (std::string, or a vector of
// bytes); returns how many bytes were appended.
template <AsyncRead R, class Container>
Task<std::size_t> read_to_end(R& r, Container& out) {
    static_assert(sizeof(typename Container::value_type) == 1, "read_to_end needs a container of bytes");
    std::size_t start = out.size();
    std::size_t chunk = 4096;
    // On an error the bytes read so far stay appended; the unfilled tail
    // of the last chunk is trimmed again.
    detail::Trim<Container> trim{out};
    for (;;) {
        std::size_t used = out.size();
        out.resize(used + chunk);
        trim.keep = used;
        trim.armed = true;
        std::size_t n = co_await r.read(MutableBuffer(out.data() + used, chunk));
        trim.armed = false;
        out.resize(used + n);
        if (n == 0) co_return out.size() - start;
        if (n == chunk && chunk < (std::size_t(1) << 20)) chunk *= 2;
    }
}

// One read appended to `out` (std::string, or a vector of bytes), into its
// spare capacity (Tokio's read_buf): when it has none, it grows first (to
// twice its size, at least 64 bytes).  Returns the bytes read (0: end of
// file).  On an error or a cancellation `out` is left as it was.
template <AsyncRead R, class Container>
Task<std::size_t> read_buf(R& r, Container& out) {
    std::size_t used = detail::open_spare(out);
    detail::Trim<Container> trim{out, used, true};  // cancelled or failed: the unfilled tail goes again
    std::size_t n = co_await r.read(MutableBuffer(out.data() + used, out.size() - used));
    trim.armed = false;
    out.resize(used + n);
    co_return n;
}

namespace detail {
inline void advance(ConstBuffer& b, std::size_t n) { b = b.subspan(n); }
// Drops the pieces written whole and advances the one written in part.
inline void advance(std::span<ConstBuffer>& bufs, std::size_t n) {
    while (!bufs.empty() && n >= bufs.front().size) {
        n -= bufs.front().size;
        bufs = bufs.subspan(1);
    }
    if (!bufs.empty()) bufs.front() = bufs.front().subspan(n);
}
inline std::size_t remaining(ConstBuffer b) { return b.size; }
inline std::size_t remaining(std::span<ConstBuffer> bufs) { return total_size(bufs); }

template <AsyncWrite W>
Task<std::size_t> write_some(W& w, ConstBuffer b) {
    co_return co_await w.write(b);
}
template <AsyncWrite W>
Task<std::size_t> write_some(W& w, std::span<ConstBuffer> bufs) {
    co_return co_await write_vectored(w, std::span<const ConstBuffer>(bufs));
}
}  // namespace detail

// One write from `buf` (a ConstBuffer or a std::span<ConstBuffer>), which
// advances past the bytes written; returns them (0: buf was empty, or the
// writer took nothing).
template <AsyncWrite W, class Buf>
    requires std::same_as<Buf, ConstBuffer> || std::same_as<Buf, std::span<ConstBuffer>>
Task<std::size_t> write_buf(W& w, Buf& buf) {
    if (detail::remaining(buf) == 0) co_return 0;
    std::size_t n = co_await detail::write_some(w, buf);
    detail::advance(buf, n);
    co_return n;
}

// Writes until `buf` is empty, advancing it after every write: on an error
// (or a writer that takes nothing: IoError(BRAID_EPIPE)) buf holds what was
// not written.
template <AsyncWrite W, class Buf>
    requires std::same_as<Buf, ConstBuffer> || std::same_as<Buf, std::span<ConstBuffer>>
Task<void> write_all_buf(W& w, Buf& buf) {
    while (detail::remaining(buf) > 0) {
        std::size_t n = co_await detail::write_some(w, buf);
        if (n == 0) throw IoError(BRAID_EPIPE, 0, "write_all_buf: the writer took no bytes");
        detail::advance(buf, n);
    }
}

template <AsyncRead R>
Task<std::string> read_to_string(R& r) {
    std::string s;
    co_await read_to_end(r, s);
    co_return s;
}

}  // namespace braid::io
