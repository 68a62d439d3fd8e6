// braid::io::BufWriter<W>: a buffer in front of any AsyncWrite, so many small
// writes become few syscalls (Tokio's BufWriter).
//
//   braid::io::BufWriter w(std::move(stream));
//   for (auto& rec : records) co_await w.write_all(rec);
//   co_await w.flush();                // nothing is sent before flush (or a full buffer)
//
// Call flush() (or shutdown(), which flushes) before dropping it: bytes still
// buffered at destruction are lost, as in Tokio.  W may be a reference type
// (BufWriter<TcpStream&>).  Cancelling a flush loses nothing (what was sent
// leaves the buffer, the rest stays); write_all of a large buffer is not
// cancel-safe (a prefix may have been sent).
#pragma once

#include <braid/io/buffer.hpp>
#include <braid/io/error.hpp>
#include <braid/io/ext.hpp>
#include <braid/io/traits.hpp>
#include <braid/task.hpp>

#include <cstddef>
#include <cstring>
#include <memory>
#include <utility>

namespace braid::io {

template <AsyncWrite W>
class BufWriter {
public:
    static constexpr std::size_t kDefaultCapacity = 8 * 1024;

    explicit BufWriter(W inner, std::size_t capacity = kDefaultCapacity)
        : inner_(static_cast<W&&>(inner)), cap_(capacity ? capacity : 1), buf_(new std::byte[cap_]) {}
    BufWriter(BufWriter&&) noexcept = default;
    BufWriter& operator=(BufWriter&&) noexcept = default;

    // Takes all of b into the buffer when it fits (flushing first if
    // needed); a write larger than the buffer goes straight through.
    Task<std::size_t> write(ConstBuffer b) {
        if (len_ + b.size > cap_) co_await flush_buf();
        if (b.size >= cap_) co_return co_await inner_.write(b);
        std::memcpy(buf_.get() + len_, b.data, b.size);
        len_ += b.size;
        co_return b.size;
    }
    Task<void> write_all(ConstBuffer b) {
        if (len_ + b.size > cap_) co_await flush_buf();
        if (b.size >= cap_) {
            co_await io::write_all(inner_, b);
            co_return;
        }
        std::memcpy(buf_.get() + len_, b.data, b.size);
        len_ += b.size;
    }
    // Sends what is buffered, then flushes the inner writer.
    Task<void> flush() {
        co_await flush_buf();
        co_await inner_.flush();
    }
    // Flushes, then shuts the inner writer down.
    Task<void> shutdown() {
        co_await flush_buf();
        co_await inner_.shutdown();
    }

    std::size_t buffered() const { return len_; }
    W& get_ref() { return inner_; }
    // The inner writer; unflushed bytes are dropped.
    W into_inner() && { return static_cast<W&&>(inner_); }

private:
    // Each write takes what it sent off the front of the buffer, so a
    // cancelled flush never sends a byte twice.
    Task<void> flush_buf() {
        while (len_ > 0) {
            std::size_t n = co_await inner_.write(ConstBuffer(buf_.get(), len_));
            if (n == 0) throw IoError(BRAID_EPIPE, 0, "BufWriter: the writer took no bytes");
            std::memmove(buf_.get(), buf_.get() + n, len_ - n);
            len_ -= n;
        }
    }

    W inner_;
    std::size_t cap_;
    std::unique_ptr<std::byte[]> buf_;
    std::size_t len_ = 0;
};

template <class W>
BufWriter(W) -> BufWriter<W>;

}  // namespace braid::io
