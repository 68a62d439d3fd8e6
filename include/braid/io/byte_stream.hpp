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

#include <coroutine>
#include <cstddef>

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

// write (cancel-safe), write_all (not cancel-safe), flush, shutdown: an
// AsyncWrite.
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

}  // namespace braid::io
