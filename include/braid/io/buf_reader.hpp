// braid::io::BufReader<R>: a buffer in front of any AsyncRead, with
// line-oriented reading (Tokio's BufReader + AsyncBufReadExt).
//
//   braid::io::BufReader r(std::move(stream));
//   std::string line;
//   for (;;) {                                   // keeps the '\n'; 0 at the end
//       std::size_t n = co_await r.read_line(line);   // not in the loop's condition: docs/compilers.md
//       if (n == 0) break;
//       use(line); line.clear();
//   }
//   auto lines = r.lines();                                             // braid::Stream<std::string>
//   while (auto l = co_await lines.next()) use(*l);                     // without "\n" / "\r\n"
//
// R may be a reference type (BufReader<TcpStream&>).
// Cancel safety: read() is cancel-safe when R's read is.  read_line and
// read_until append what they found to the caller's string as they go, so a
// cancelled call loses nothing as long as the caller keeps that string (the
// partial line is in it).  lines() is a stream: a cancelled next() keeps its
// place.
// When R seeks (braid::fs::File, Cursor), so does the reader: seek() drops
// the buffer and moves R, counting SeekFrom::current from the position of
// the next byte read() would give (not R's, which is ahead by the buffer).
#pragma once

#include <braid/io/buffer.hpp>
#include <braid/io/error.hpp>
#include <braid/io/seek.hpp>
#include <braid/io/traits.hpp>
#include <braid/stream/generator.hpp>
#include <braid/task.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <utility>

namespace braid::io {

template <AsyncRead R>
class BufReader {
public:
    static constexpr std::size_t kDefaultCapacity = 8 * 1024;

    explicit BufReader(R inner, std::size_t capacity = kDefaultCapacity)
        : inner_(static_cast<R&&>(inner)), cap_(capacity ? capacity : 1), buf_(new std::byte[cap_]) {}
    BufReader(BufReader&&) noexcept = default;
    BufReader& operator=(BufReader&&) noexcept = default;

    // Some bytes: from the buffer if it holds any; a read at least as large
    // as the buffer while it is empty goes straight to the inner reader.
    Task<std::size_t> read(MutableBuffer b) {
        if (b.size == 0) throw IoError(BRAID_EINVAL, 0, "BufReader::read: zero-length buffer");
        if (pos_ == end_ && b.size >= cap_) co_return co_await inner_.read(b);
        std::span<const std::byte> avail = co_await fill_buf();
        std::size_t n = std::min(avail.size(), b.size);
        std::memcpy(b.data, avail.data(), n);
        consume(n);
        co_return n;
    }

    // The buffered bytes, reading more when there are none (empty: end of
    // file).  Valid until the next call on this reader.  Cancel-safe.
    Task<std::span<const std::byte>> fill_buf() {
        if (pos_ == end_) {
            pos_ = end_ = 0;
            end_ = co_await inner_.read(MutableBuffer(buf_.get(), cap_));
        }
        co_return std::span<const std::byte>(buf_.get() + pos_, end_ - pos_);
    }
    // Marks n buffered bytes as read.
    void consume(std::size_t n) { pos_ = std::min(end_, pos_ + n); }
    // The bytes buffered now (without reading).
    std::span<const std::byte> buffer() const { return {buf_.get() + pos_, end_ - pos_}; }

    // Appends bytes up to and including `delim` (or up to end of file) to
    // out; returns how many were appended (0: end of file).
    template <class Container>
    Task<std::size_t> read_until(char delim, Container& out) {
        static_assert(sizeof(typename Container::value_type) == 1, "read_until needs a container of bytes");
        std::size_t total = 0;
        for (;;) {
            std::span<const std::byte> avail = co_await fill_buf();
            if (avail.empty()) co_return total;
            auto* first = reinterpret_cast<const typename Container::value_type*>(avail.data());
            const void* hit = std::memchr(avail.data(), delim, avail.size());
            std::size_t take = hit ? std::size_t(static_cast<const std::byte*>(hit) - avail.data()) + 1 : avail.size();
            out.insert(out.end(), first, first + take);
            consume(take);
            total += take;
            if (hit) co_return total;
        }
    }
    // One line, '\n' included, appended to `line` (0: end of file).
    Task<std::size_t> read_line(std::string& line) { return read_until('\n', line); }

    // The lines that remain, without their "\n" or "\r\n", as a stream.  The
    // reader must outlive the stream.
    braid::Stream<std::string> lines() { return lines_of(*this); }

    // Seeks the inner reader and drops the buffer; returns the new position.
    // A seek that fails leaves the buffer (and the position) as they were,
    // except a SeekFrom::current too far back to count in one step: its
    // first step moves the inner reader back over the buffer.
    Task<uint64_t> seek(SeekFrom p)
        requires AsyncSeek<std::remove_reference_t<R>>
    {
        uint64_t pos = 0;
        if (p.kind == SeekFrom::Current) {
            int64_t buffered = int64_t(end_ - pos_);
            if (p.offset >= std::numeric_limits<int64_t>::min() + buffered) {
                pos = co_await io::seek(inner_, SeekFrom::current(p.offset - buffered));
            } else {
                // offset - buffered would overflow: two seeks.
                co_await io::seek(inner_, SeekFrom::current(-buffered));
                pos_ = end_ = 0;
                pos = co_await io::seek(inner_, p);
            }
        } else {
            pos = co_await io::seek(inner_, p);
        }
        pos_ = end_ = 0;
        co_return pos;
    }

    R& get_ref() { return inner_; }
    const R& get_ref() const { return inner_; }
    // The inner reader; whatever is still buffered is dropped.
    R into_inner() && { return static_cast<R&&>(inner_); }

private:
    static braid::Stream<std::string> lines_of(BufReader& self) {
        for (;;) {
            std::string line;
            std::size_t n = co_await self.read_line(line);  // not in the condition: g++ 12.2 (docs/compilers.md)
            if (n == 0) co_return;
            if (!line.empty() && line.back() == '\n') line.pop_back();
            if (!line.empty() && line.back() == '\r') line.pop_back();
            co_yield std::move(line);
        }
    }

    R inner_;
    std::size_t cap_;
    std::unique_ptr<std::byte[]> buf_;
    std::size_t pos_ = 0;
    std::size_t end_ = 0;
};

template <class R>
BufReader(R) -> BufReader<R>;

}  // namespace braid::io
