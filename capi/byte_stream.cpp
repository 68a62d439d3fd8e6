// extern "C" shims: byte streams (the view of TCP streams, Unix streams and
// pipes).
#include <braid/byte_stream.h>

#include "io/byte_stream.hpp"
#include "io_shim.hpp"

using braid::capi::io::handle_of;
using braid::detail::IoHandle;
namespace bs_ = braid::detail::byte_stream;
using Xfer = braid::detail::byte_stream::Xfer;

namespace {
// A poll function's handle: BRAID_EINVAL for NULL arguments.
bool pollable(braid_byte_stream* bs, size_t* out_n) { return bs && handle_of(bs)->src && out_n; }
}  // namespace

extern "C" {

BRAID_API int braid_byte_stream_poll_read(braid_byte_stream* bs, void* buf, size_t len, braid_wake_fn wake,
                                          void* wake_data, size_t* out_n) {
    if (!pollable(bs, out_n)) return BRAID_EINVAL;
    return bs_::poll_read(handle_of(bs), buf, len, wake, wake_data, out_n);
}

BRAID_API int braid_byte_stream_poll_write(braid_byte_stream* bs, const void* buf, size_t len, braid_wake_fn wake,
                                           void* wake_data, size_t* out_n) {
    if (!pollable(bs, out_n)) return BRAID_EINVAL;
    return bs_::poll_write(handle_of(bs), buf, len, wake, wake_data, out_n);
}

BRAID_API int braid_byte_stream_poll_write_vectored(braid_byte_stream* bs, const braid_io_slice* bufs, size_t count,
                                                    braid_wake_fn wake, void* wake_data, size_t* out_n) {
    if (!pollable(bs, out_n) || (count && !bufs)) return BRAID_EINVAL;
    return bs_::poll_write_vectored(handle_of(bs), bufs, count, wake, wake_data, out_n);
}

BRAID_API int braid_byte_stream_poll_ready(braid_byte_stream* bs, int interest, braid_wake_fn wake,
                                           void* wake_data, int* out_ready) {
    return IoHandle::poll_ready(handle_of(bs), interest, wake, wake_data, out_ready);
}

BRAID_API int braid_byte_stream_try_read(braid_byte_stream* bs, void* buf, size_t len, size_t* out_n) {
    if (!pollable(bs, out_n)) return BRAID_EINVAL;
    return bs_::poll_read(handle_of(bs), buf, len, braid::detail::kNoWait, nullptr, out_n);
}

BRAID_API int braid_byte_stream_try_write(braid_byte_stream* bs, const void* buf, size_t len, size_t* out_n) {
    if (!pollable(bs, out_n)) return BRAID_EINVAL;
    return bs_::poll_write(handle_of(bs), buf, len, braid::detail::kNoWait, nullptr, out_n);
}

BRAID_API int braid_byte_stream_try_write_vectored(braid_byte_stream* bs, const braid_io_slice* bufs, size_t count,
                                                   size_t* out_n) {
    if (!pollable(bs, out_n) || (count && !bufs)) return BRAID_EINVAL;
    return bs_::poll_write_vectored(handle_of(bs), bufs, count, braid::detail::kNoWait, nullptr, out_n);
}

BRAID_API int braid_byte_stream_try_read_vectored(braid_byte_stream* bs, const braid_io_mut_slice* bufs, size_t count,
                                                  size_t* out_n) {
    if (!pollable(bs, out_n) || (count && !bufs)) return BRAID_EINVAL;
    return bs_::poll_read_vectored(handle_of(bs), bufs, count, braid::detail::kNoWait, nullptr, out_n);
}

BRAID_API int braid_byte_stream_read(braid_task** out, braid_byte_stream* bs, void* buf, size_t len,
                                     braid_io_callback cb, void* user_data) {
    return bs_::start(out, handle_of(bs), Xfer::Read, buf, len, cb, user_data);
}

BRAID_API int braid_byte_stream_read_exact(braid_task** out, braid_byte_stream* bs, void* buf, size_t len,
                                           braid_io_callback cb, void* user_data) {
    return bs_::start(out, handle_of(bs), Xfer::ReadExact, buf, len, cb, user_data);
}

BRAID_API int braid_byte_stream_write(braid_task** out, braid_byte_stream* bs, const void* buf, size_t len,
                                      braid_io_callback cb, void* user_data) {
    return bs_::start(out, handle_of(bs), Xfer::Write, const_cast<void*>(buf), len, cb, user_data);
}

BRAID_API int braid_byte_stream_write_all(braid_task** out, braid_byte_stream* bs, const void* buf, size_t len,
                                          braid_io_callback cb, void* user_data) {
    return bs_::start(out, handle_of(bs), Xfer::WriteAll, const_cast<void*>(buf), len, cb, user_data);
}

BRAID_API int braid_byte_stream_read_start(braid_task** out, braid_byte_stream* bs, void* buf, size_t len,
                                           braid_read_callback cb, void* user_data) {
    return bs_::read_start(out, handle_of(bs), buf, len, cb, user_data);
}

BRAID_API int braid_byte_stream_read_stop(braid_byte_stream* bs) { return bs_::read_stop(handle_of(bs)); }

BRAID_API int braid_byte_stream_shutdown_write(braid_byte_stream* bs) {
    return bs_::shutdown_write(handle_of(bs));
}

BRAID_API int braid_byte_stream_fd(const braid_byte_stream* bs) { return IoHandle::fd(handle_of(bs)); }

BRAID_API int braid_byte_stream_close(braid_byte_stream* bs) { return bs ? handle_of(bs)->close() : BRAID_EINVAL; }

}  // extern "C"
