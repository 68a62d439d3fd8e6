// The spare room of a growable byte container (std::string, a vector of
// bytes) that the *_buf reads fill: Tokio's reads into a BufMut's spare
// capacity.  The container's size is what holds data; the room is between
// its size and its capacity.
//
//   std::size_t used = braid::io::detail::open_spare(out);   // out.size() is now its capacity
//   ... read into out.data() + used ...
//
// read_buf (ext.hpp) and the try_*_buf attempts of the sockets use these.
#pragma once

#include <braid/io/buffer.hpp>

#include <algorithm>
#include <cstddef>
#include <utility>

namespace braid::io::detail {

// While armed, gives the container back its first `keep` bytes when it goes
// (a read into its resized tail was cancelled or failed).
template <class Container>
struct Trim {
    Container& c;
    std::size_t keep = 0;
    bool armed = false;
    ~Trim() {
        if (armed) c.resize(keep);
    }
};

// Makes the spare capacity of `out` readable as its tail: grows it first
// when it has none (to twice its size, at least 64 bytes), then resizes it to
// its capacity.  Returns the old size, where the room starts.
template <class Container>
std::size_t open_spare(Container& out) {
    static_assert(sizeof(typename Container::value_type) == 1, "a *_buf read needs a container of bytes");
    std::size_t used = out.size();
    if (out.capacity() == used) out.reserve(std::max<std::size_t>(64, used * 2));
    out.resize(out.capacity());
    return used;
}

inline std::size_t count_of(std::size_t n) { return n; }
template <class A>
std::size_t count_of(const std::pair<std::size_t, A>& p) {
    return p.first;
}

// One attempt that never waits, into the spare room of `out`: fill(room)
// returns an optional of the bytes read (or of a pair whose first member they
// are); `out` grows by them.  nullopt or a throw leaves `out` as it was
// (its capacity perhaps grown).
template <class Container, class Fill>
auto append_spare(Container& out, Fill fill) {
    std::size_t used = open_spare(out);
    Trim<Container> trim{out, used, true};
    auto got = fill(MutableBuffer(out.data() + used, out.size() - used));
    if (got) trim.keep = used + count_of(*got);
    return got;
}

}  // namespace braid::io::detail
