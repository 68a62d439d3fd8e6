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
// write_vectored takes several buffers at once (all of them, when they fit,
// as Tokio's BufWriter).  When W seeks (braid::fs::File, Cursor), so does
// the writer: seek() flushes the buffer first.
#pragma once

#include <braid/io/buffer.hpp>
#include <braid/io/error.hpp>
#include <braid/io/ext.hpp>
#include <braid/io/seek.hpp>
#include <braid/io/traits.hpp>
#include <braid/io/vectored.hpp>
#include <braid/task.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <type_traits>
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
        append(b);
        co_return b.size;
    }
    Task<void> write_all(ConstBuffer b) {
        if (len_ + b.size > cap_) co_await flush_buf();
        if (b.size >= cap_) {
            co_await io::write_all(inner_, b);
            co_return;
        }
        append(b);
    }
    // Buffers several buffers at once, as Tokio's BufWriter: over an
    // AsyncWriteVectored writer, all of them when their total fits (after
    // flushing if needed), or straight through when it is at least the
    // capacity; over any other, the first non-empty buffer as write() takes
    // it, then each following one that still fits.
    Task<std::size_t> write_vectored(std::span<const ConstBuffer> bufs) {
        if constexpr (AsyncWriteVectored<std::remove_reference_t<W>>) {
            std::size_t total = total_size(bufs);
            if (total > cap_ - len_) co_await flush_buf();
            if (total >= cap_) co_return co_await inner_.write_vectored(bufs);
            for (const ConstBuffer& b : bufs) append(b);
            co_return total;
        } else {
            while (!bufs.empty() && bufs.front().size == 0) bufs = bufs.subspan(1);
            if (bufs.empty()) co_return 0;
            std::size_t first = bufs.front().size;
            if (first > cap_ - len_) co_await flush_buf();
            if (first >= cap_) co_return co_await inner_.write(bufs.front());
            std::size_t total = 0;
            for (const ConstBuffer& b : bufs) {
                if (b.size > cap_ - len_) break;
                append(b);
                total += b.size;
            }
            co_return total;
        }
    }

    // Flushes the buffer, then seeks the inner writer; returns the new
    // position.
    Task<uint64_t> seek(SeekFrom p)
        requires AsyncSeek<std::remove_reference_t<W>>
    {
        co_await flush_buf();
        co_return co_await io::seek(inner_, p);
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
    // The bytes buffered, not sent yet.
    std::span<const std::byte> buffer() const { return {buf_.get(), len_}; }
    std::size_t capacity() const { return cap_; }
    W& get_ref() { return inner_; }
    // The inner writer; unflushed bytes are dropped.
    W into_inner() && { return static_cast<W&&>(inner_); }

private:
    void append(ConstBuffer b) {
        if (b.size) std::memcpy(buf_.get() + len_, b.data, b.size);
        len_ += b.size;
    }
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
