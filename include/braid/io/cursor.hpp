// braid::io::Cursor<T>: reading, writing and seeking over bytes in memory
// (Tokio's use of std::io::Cursor as an AsyncRead + AsyncWrite + AsyncSeek).
//
//   braid::io::Cursor<std::string> c;                     // grows as it is written
//   co_await braid::io::write_all(c, "hello");
//   c.set_position(0);
//   std::string s = co_await braid::io::read_to_string(c);
//
//   std::vector<char> v(16);
//   braid::io::Cursor<std::span<char>> fixed(v);          // writes stop at the end
//   braid::io::Cursor<std::string_view> ro("read only");  // no write()
//
// T is a growable container of bytes (std::string, std::vector<char>,
// std::vector<std::byte>, ...: writes past the end extend it, a gap before
// the position filled with zeros) or a fixed range (a span or string_view:
// writes take what fits, 0 at the end).  Every operation completes at once.
// A read or write starts at position() and moves it; reads past the end
// give 0.  seek() to a position before the start throws
// IoError(BRAID_EINVAL).
#pragma once

#include <braid/io/buffer.hpp>
#include <braid/io/error.hpp>
#include <braid/io/seek.hpp>

#include <algorithm>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <ranges>
#include <span>
#include <utility>

namespace braid::io {

namespace detail {
// An awaitable whose value is there already.
template <class T>
struct Ready {
    T value;
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    T await_resume() { return std::move(value); }
};
}  // namespace detail

template <class T>
class Cursor {
    static constexpr bool growable = requires(T& t, std::size_t n) { t.resize(n); };
    static constexpr bool writable = detail::mutable_byte_range<T&>;

public:
    Cursor() = default;
    explicit Cursor(T inner) : inner_(std::move(inner)) {}

    // Some bytes from the position (0: at or past the end).  A zero-length
    // buffer throws (BRAID_EINVAL).
    detail::Ready<std::size_t> read(MutableBuffer b) {
        if (b.size == 0) throw IoError(BRAID_EINVAL, 0, "Cursor::read: zero-length buffer");
        std::span<const std::byte> rest = remaining();
        std::size_t n = std::min(rest.size(), b.size);
        if (n) std::memcpy(b.data, rest.data(), n);
        pos_ += n;
        return {n};
    }

    // Writes b at the position, over what is there and beyond the end when
    // T grows (otherwise only what fits).
    detail::Ready<std::size_t> write(ConstBuffer b)
        requires writable
    {
        return {put(b)};
    }
    // Several buffers, as one write of their concatenation.
    detail::Ready<std::size_t> write_vectored(std::span<const ConstBuffer> bufs)
        requires writable
    {
        std::size_t total = 0;
        for (const ConstBuffer& b : bufs) {
            std::size_t n = put(b);
            total += n;
            if (n < b.size) break;
        }
        return {total};
    }
    std::suspend_never flush() const noexcept { return {}; }
    std::suspend_never shutdown() const noexcept { return {}; }

    // Moves the position; returns it.
    uint64_t seek(SeekFrom p) {
        uint64_t base = p.kind == SeekFrom::Start ? 0 : p.kind == SeekFrom::End ? size() : pos_;
        int64_t off = p.kind == SeekFrom::Start ? 0 : p.offset;
        uint64_t to = p.kind == SeekFrom::Start ? p.start : base + uint64_t(off);
        if (p.kind != SeekFrom::Start && (off < 0 ? uint64_t(0) - uint64_t(off) > base : to < base))
            throw IoError(BRAID_EINVAL, 0, "Cursor::seek: invalid seek to a negative or overflowing position");
        pos_ = to;
        return pos_;
    }

    uint64_t position() const noexcept { return pos_; }
    void set_position(uint64_t pos) noexcept { pos_ = pos; }
    // The bytes from the position to the end.
    std::span<const std::byte> remaining() const {
        auto all = std::as_bytes(std::span(std::ranges::data(inner_), std::ranges::size(inner_)));
        return pos_ >= all.size() ? all.subspan(all.size()) : all.subspan(std::size_t(pos_));
    }
    const T& get_ref() const noexcept { return inner_; }
    T& get_mut() noexcept { return inner_; }
    T into_inner() && { return std::move(inner_); }

private:
    std::size_t size() const { return std::ranges::size(inner_); }
    std::size_t put(ConstBuffer b) {
        if (b.size == 0) return 0;
        std::size_t n = b.size;
        if constexpr (growable) {
            if (pos_ > std::numeric_limits<std::size_t>::max() - n)
                throw IoError(BRAID_EINVAL, 0, "Cursor::write: position past the largest size");
            if (pos_ + n > size()) inner_.resize(std::size_t(pos_ + n));
        } else {
            n = pos_ >= size() ? 0 : std::min<std::size_t>(n, size() - std::size_t(pos_));
        }
        if (n) std::memcpy(reinterpret_cast<std::byte*>(std::ranges::data(inner_)) + pos_, b.data, n);
        pos_ += n;
        return n;
    }

    T inner_{};
    uint64_t pos_ = 0;
};

template <class T>
Cursor(T) -> Cursor<T>;

}  // namespace braid::io
