// braid::io::chain: a reader that reads one reader to its end of file, then
// another (Tokio's AsyncReadExt::chain).
//
//   braid::io::Cursor<std::string_view> head("hello "), tail("world");
//   auto both = braid::io::chain(head, tail);                      // borrows both
//   std::string s = co_await braid::io::read_to_string(both);      // "hello world"
//
// A read goes to the first reader until it gives 0 (end of file), then to
// the second; the chain's end of file is the second's.  R1 and R2 may be
// reference types (chain(a, b) with lvalues borrows them; with rvalues it
// owns them).  Cancel-safe when both readers' reads are.
#pragma once

#include <braid/io/buffer.hpp>
#include <braid/io/traits.hpp>
#include <braid/task.hpp>

#include <cstddef>
#include <type_traits>
#include <utility>

namespace braid::io {

template <class R1, class R2>
    requires AsyncRead<std::remove_cvref_t<R1>> && AsyncRead<std::remove_cvref_t<R2>>
class Chain {
public:
    Chain(R1 first, R2 second) : first_(static_cast<R1&&>(first)), second_(static_cast<R2&&>(second)) {}

    Task<std::size_t> read(MutableBuffer b) {
        if (!first_done_) {
            std::size_t n = co_await first_.read(b);
            if (n > 0 || b.size == 0) co_return n;
            first_done_ = true;
        }
        co_return co_await second_.read(b);
    }

    // The two readers (Tokio's get_ref / get_mut), and whether the first
    // one has reached its end of file.
    std::pair<R1&, R2&> get_ref() { return {first_, second_}; }
    bool first_done() const { return first_done_; }
    std::pair<R1, R2> into_inner() && { return {static_cast<R1&&>(first_), static_cast<R2&&>(second_)}; }

private:
    R1 first_;
    R2 second_;
    bool first_done_ = false;
};

// chain(a, b): a's bytes, then b's.  An lvalue is borrowed, an rvalue owned.
template <class R1, class R2>
    requires AsyncRead<std::remove_cvref_t<R1>> && AsyncRead<std::remove_cvref_t<R2>>
Chain<R1, R2> chain(R1&& first, R2&& second) {
    return Chain<R1, R2>(std::forward<R1>(first), std::forward<R2>(second));
}

}  // namespace braid::io
