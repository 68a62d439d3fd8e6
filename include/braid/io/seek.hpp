// Seeking (Tokio's AsyncSeek and SeekFrom): where the next read or write of
// a seekable stream happens.
//
//   uint64_t pos = co_await braid::io::seek(file, braid::io::SeekFrom::end(-4));
//
// A seekable stream has seek(SeekFrom) (Cursor) or, as braid::fs::File,
// seek(int64_t offset, int whence); either may return the new position at
// once or as an awaitable.  BufReader and BufWriter seek through to the
// stream they wrap (BufWriter flushes first; BufReader drops its buffer).
// A position before the start throws IoError(BRAID_EINVAL).
#pragma once

#include <braid/fs.h>
#include <braid/task.hpp>

#include <cstdint>
#include <type_traits>
#include <utility>

namespace braid::io {

struct SeekFrom {
    enum Kind { Start = BRAID_SEEK_SET, Current = BRAID_SEEK_CUR, End = BRAID_SEEK_END };
    Kind kind = Start;
    uint64_t start = 0;  // Start: the position
    int64_t offset = 0;  // Current, End: relative to the position, or to the end

    static SeekFrom start_at(uint64_t pos) { return {Start, pos, 0}; }
    static SeekFrom current(int64_t off) { return {Current, 0, off}; }
    static SeekFrom end(int64_t off) { return {End, 0, off}; }
};

template <class S>
concept AsyncSeek = requires(S& s, SeekFrom p) { s.seek(p); } || requires(S& s, int64_t o, int w) { s.seek(o, w); };

namespace detail {
template <class S>
decltype(auto) start_seek(S& s, SeekFrom p) {
    if constexpr (requires { s.seek(p); }) return s.seek(p);
    else return s.seek(p.kind == SeekFrom::Start ? int64_t(p.start) : p.offset, int(p.kind));
}
}  // namespace detail

// Seeks s; the new position from the start.
template <AsyncSeek S>
Task<uint64_t> seek(S& s, SeekFrom p) {
    using R = decltype(detail::start_seek(s, p));
    if constexpr (std::is_convertible_v<R, uint64_t>) {
        co_return uint64_t(detail::start_seek(s, p));
    } else {
        co_return uint64_t(co_await detail::start_seek(s, p));
    }
}

}  // namespace braid::io
