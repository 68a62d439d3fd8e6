// braid::io::take: a reader that gives at most `limit` bytes of another one,
// then end of file (Tokio's AsyncReadExt::take).
//
//   braid::io::Take<braid::net::TcpStream&> head(stream, 512);    // borrows stream
//   auto body = braid::io::take(std::move(stream), 1024);         // owns it
//   std::string s = co_await braid::io::read_to_string(body);     // at most 1024 bytes
//
// A read asks the inner reader for at most what is left of the limit; once
// the limit is reached, reads give 0 without touching the inner reader.  R
// may be a reference type.  Cancel-safe when R's read is.
#pragma once

#include <braid/io/buffer.hpp>
#include <braid/io/error.hpp>
#include <braid/io/traits.hpp>
#include <braid/task.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace braid::io {

template <AsyncRead R>
class Take {
public:
    Take(R inner, uint64_t limit) : inner_(static_cast<R&&>(inner)), limit_(limit) {}

    Task<std::size_t> read(MutableBuffer b) {
        if (b.size == 0) throw IoError(BRAID_EINVAL, 0, "Take::read: zero-length buffer");
        if (limit_ == 0) co_return 0;
        std::size_t want = std::size_t(std::min<uint64_t>(limit_, b.size));
        std::size_t n = co_await inner_.read(MutableBuffer(b.data, want));
        limit_ -= std::min<uint64_t>(n, limit_);
        co_return n;
    }

    // The bytes still allowed; changing it lets more (or fewer) through.
    uint64_t limit() const { return limit_; }
    void set_limit(uint64_t n) { limit_ = n; }
    R& get_ref() { return inner_; }
    R into_inner() && { return static_cast<R&&>(inner_); }

private:
    R inner_;
    uint64_t limit_;
};

template <class R>
Take(R, uint64_t) -> Take<R>;

// take(std::move(r), n) owns r; take(r, n) with an lvalue borrows it.
template <class R>
    requires AsyncRead<std::remove_cvref_t<R>>
Take<R> take(R&& r, uint64_t limit) {
    return Take<R>(std::forward<R>(r), limit);
}

}  // namespace braid::io
