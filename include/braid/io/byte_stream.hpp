// The reading and writing that TcpStream, UnixStream and the process pipes
// share, once, over the C byte-stream view (braid/byte_stream.h): two mixins
// a handle class derives from (CRTP).  The derived class provides
//
//   braid_byte_stream* byte_stream() const;   // throws IoError(BRAID_ECLOSED) when empty
//   static constexpr io::StreamNames names{...};
//
// and befriends the mixins it uses.
#pragma once

#include <braid/byte_stream.h>
#include <braid/detail/io_awaiter.hpp>
#include <braid/io/buffer.hpp>
#include <braid/io/error.hpp>
#include <braid/io/ready.hpp>
#include <braid/io/spare.hpp>

#include <algorithm>
#include <coroutine>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>

namespace braid::io {

// The names errors are thrown with ("TcpStream::read", ...).
struct StreamNames {
    const char* read;
    const char* read_exact;
    const char* write;
    const char* write_all;
    const char* shutdown;
};

namespace detail {
inline int byte_stream_write(braid_byte_stream* s, void* b, std::size_t l, braid_wake_fn w, void* d, std::size_t* n) {
    return braid_byte_stream_poll_write(s, b, l, w, d, n);
}
// b: an array of l slices.
inline int byte_stream_write_vectored(braid_byte_stream* s, void* b, std::size_t l, braid_wake_fn w, void* d,
                                      std::size_t* n) {
    return braid_byte_stream_poll_write_vectored(s, static_cast<const braid_io_slice*>(b), l, w, d, n);
}

// One vectored write.  The slices live on the heap so that the pointer the
// base awaiter keeps survives a move of the awaiter.
class [[nodiscard]] VectoredWriteAwaiter
    : public braid::detail::XferAwaiter<braid_byte_stream, &byte_stream_write_vectored, false> {
    using Base = braid::detail::XferAwaiter<braid_byte_stream, &byte_stream_write_vectored, false>;

public:
    VectoredWriteAwaiter(braid_byte_stream* s, std::unique_ptr<braid_io_slice[]> slices, std::size_t n, const char* what)
        : Base(s, slices.get(), n, what), slices_(std::move(slices)) {}

private:
    std::unique_ptr<braid_io_slice[]> slices_;
};
}  // namespace detail

// read (cancel-safe) and read_exact (not cancel-safe): an AsyncRead.
template <class D>
class ByteReader {
public:
    using ReadAwaiter = braid::detail::XferAwaiter<braid_byte_stream, &braid_byte_stream_poll_read, false>;
    using ReadExactAwaiter = braid::detail::XferAwaiter<braid_byte_stream, &braid_byte_stream_poll_read, true>;

    // Some bytes (at most b.size; 0: end of file).  A zero-length buffer
    // throws (BRAID_EINVAL).  Cancel-safe.
    ReadAwaiter read(MutableBuffer b) { return ReadAwaiter(bs(), b.data, b.size, D::names.read); }
    // Fills b; end of file first throws IoError(BRAID_EEOF).  Not cancel-safe.
    ReadExactAwaiter read_exact(MutableBuffer b) {
        return ReadExactAwaiter(bs(), b.data, b.size, D::names.read_exact);
    }

private:
    braid_byte_stream* bs() const { return static_cast<const D*>(this)->byte_stream(); }
};

// write and write_vectored (cancel-safe), write_all (not cancel-safe),
// flush, shutdown: an AsyncWrite (and an AsyncWriteVectored).
template <class D>
class ByteWriter {
public:
    using WriteAwaiter = braid::detail::XferAwaiter<braid_byte_stream, &detail::byte_stream_write, false>;
    using WriteAllAwaiter = braid::detail::XferAwaiter<braid_byte_stream, &detail::byte_stream_write, true>;

    // Some bytes of b (maybe fewer).  Cancel-safe.
    WriteAwaiter write(ConstBuffer b) {
        return WriteAwaiter(bs(), const_cast<void*>(b.data), b.size, D::names.write);
    }
    // All of b.  Not cancel-safe (a prefix may have been written).
    WriteAllAwaiter write_all(ConstBuffer b) {
        return WriteAllAwaiter(bs(), const_cast<void*>(b.data), b.size, D::names.write_all);
    }
    // Several buffers in one writev(2): some prefix of their concatenation
    // (the first BRAID_IO_SLICES_MAX buffers at most).  Cancel-safe.
    detail::VectoredWriteAwaiter write_vectored(std::span<const ConstBuffer> bufs) {
        std::size_t n = std::min<std::size_t>(bufs.size(), BRAID_IO_SLICES_MAX);
        std::unique_ptr<braid_io_slice[]> slices(new braid_io_slice[n ? n : 1]);
        for (std::size_t i = 0; i < n; ++i) slices[i] = braid_io_slice{bufs[i].data, bufs[i].size};
        return detail::VectoredWriteAwaiter(bs(), std::move(slices), n, D::names.write);
    }
    // Nothing is buffered: ready at once.
    std::suspend_never flush() { return {}; }
    // Shuts the write side down (the reader sees end of file), as an
    // awaitable for the AsyncWrite shape; ready at once.
    std::suspend_never shutdown() {
        shutdown_write();
        return {};
    }
    void shutdown_write() { braid::detail::check_io(braid_byte_stream_shutdown_write(bs()), D::names.shutdown); }

private:
    braid_byte_stream* bs() const { return static_cast<const D*>(this)->byte_stream(); }
};

// Readiness and attempts that never wait (Tokio's readable(), writable(),
// ready(Interest), try_read, try_read_vectored, try_read_buf, try_write,
// try_write_vectored).  The pattern:
//
//   for (;;) {
//       co_await s.readable();
//       if (auto n = s.try_read(buf)) { use(*n); break; }   // nullopt: not ready after all
//   }
template <class D>
class ByteReadiness {
public:
    using ReadyAwaiter = braid::detail::ReadyAwaiter<braid_byte_stream, &braid_byte_stream_poll_ready>;

    // Some bit of `interest` is ready (braid::Readable, braid::Writable or
    // both): the Ready says which.  Cancel-safe.
    ReadyAwaiter ready(int interest) { return ReadyAwaiter(bs(), interest, D::names.read); }
    ReadyAwaiter readable() { return ready(braid::Readable); }
    ReadyAwaiter writable() { return ready(braid::Writable); }

    // One read that never waits: the bytes read (0: end of file), nullopt
    // when nothing is there.  Throws IoError for failures.
    std::optional<std::size_t> try_read(MutableBuffer b) {
        std::size_t n = 0;
        return braid::detail::attempt(braid_byte_stream_try_read(bs(), b.data, b.size, &n), n, D::names.read);
    }
    // One write that never waits: the bytes taken, nullopt when the socket
    // buffer is full.
    std::optional<std::size_t> try_write(ConstBuffer b) {
        std::size_t n = 0;
        return braid::detail::attempt(braid_byte_stream_try_write(bs(), b.data, b.size, &n), n, D::names.write);
    }
    std::optional<std::size_t> try_write_vectored(std::span<const ConstBuffer> bufs) {
        braid_io_slice slices[BRAID_IO_SLICES_MAX];
        std::size_t cnt = std::min<std::size_t>(bufs.size(), BRAID_IO_SLICES_MAX);
        for (std::size_t i = 0; i < cnt; ++i) slices[i] = braid_io_slice{bufs[i].data, bufs[i].size};
        std::size_t n = 0;
        return braid::detail::attempt(braid_byte_stream_try_write_vectored(bs(), slices, cnt, &n), n, D::names.write);
    }
    // One read into the buffers in order (readv), never waiting, as
    // try_read: the bytes read (0: end of file), nullopt when nothing is
    // there.  Only the first BRAID_IO_SLICES_MAX buffers are filled; buffers
    // with no room at all throw IoError(BRAID_EINVAL), as try_read of 0 bytes.
    std::optional<std::size_t> try_read_vectored(std::span<const MutableBuffer> bufs) {
        braid_io_mut_slice slices[BRAID_IO_SLICES_MAX];
        std::size_t cnt = std::min<std::size_t>(bufs.size(), BRAID_IO_SLICES_MAX);
        for (std::size_t i = 0; i < cnt; ++i) slices[i] = braid_io_mut_slice{bufs[i].data, bufs[i].size};
        std::size_t n = 0;
        return braid::detail::attempt(braid_byte_stream_try_read_vectored(bs(), slices, cnt, &n), n, D::names.read);
    }
    // try_read into the spare capacity of `out` (std::string or a vector of
    // bytes; grown first when it has none, as read_buf), which grows by the
    // bytes read (0: end of file).  nullopt or a throw leave its size as it
    // was.
    template <class Container>
    std::optional<std::size_t> try_read_buf(Container& out) {
        return detail::append_spare(out, [&](MutableBuffer room) { return try_read(room); });
    }

private:
    braid_byte_stream* bs() const { return static_cast<const D*>(this)->byte_stream(); }
};

}  // namespace braid::io
