// Byte streams: the reading and writing that TCP streams, Unix streams and
// pipes share (braid/byte_stream.h), once, over an IoHandle.  The handle's
// kind picks the syscalls (recv/send for sockets, read/write for pipes).
#pragma once

#include <braid/byte_stream.h>

#include <cstddef>

#include "io/io_handle.hpp"

namespace braid::detail::byte_stream {

// Poll functions: 0 with *n, BRAID_PENDING, or an error (io.h).
int poll_read(IoHandle* h, void* buf, std::size_t len, braid_wake_fn wake, void* data, std::size_t* n);
int poll_write(IoHandle* h, const void* buf, std::size_t len, braid_wake_fn wake, void* data, std::size_t* n);
// Up to BRAID_IO_SLICES_MAX of the slices, in one writev(2) / sendmsg(2).
int poll_write_vectored(IoHandle* h, const braid_io_slice* bufs, std::size_t count, braid_wake_fn wake, void* data,
                        std::size_t* n);
// Up to BRAID_IO_SLICES_MAX of the slices, filled in order by one readv(2) /
// recvmsg(2).
int poll_read_vectored(IoHandle* h, const braid_io_mut_slice* bufs, std::size_t count, braid_wake_fn wake,
                       void* data, std::size_t* n);
// Sockets only (TCP's peek): the bytes stay queued.
int poll_peek(IoHandle* h, void* buf, std::size_t len, braid_wake_fn wake, void* data, std::size_t* n);

// A socket shuts its write side down; a pipe's write end is closed; a pipe's
// read end is BRAID_EINVAL.
int shutdown_write(IoHandle* h);

// The one-shot callback operations.
enum class Xfer : unsigned char { Read, ReadExact, Peek, Write, WriteAll };
// Starts one; a call that fails never runs cb.  BRAID_EINVAL, BRAID_ECLOSED,
// BRAID_ESHUTDOWN, BRAID_EBUSY (that side has an operation already),
// BRAID_ENOMEM.
int start(braid_task** out, IoHandle* h, Xfer what, void* buf, std::size_t len, braid_io_callback cb, void* ud);

// The repeating read (braid_byte_stream_read_start / _read_stop).
int read_start(braid_task** out, IoHandle* h, void* buf, std::size_t len, braid_read_callback cb, void* ud);
int read_stop(IoHandle* h);

}  // namespace braid::detail::byte_stream
