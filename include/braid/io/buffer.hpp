// Byte buffers for the I/O calls: MutableBuffer (what a read fills) and
// ConstBuffer (what a write sends), made from a pointer and a size, a span or
// any contiguous range of bytes (std::string, std::vector<char>,
// std::array<std::byte, N>, ...).  They refer to memory the caller owns.
#pragma once

#include <cstddef>
#include <ranges>
#include <span>
#include <string_view>
#include <type_traits>

namespace braid::io {

namespace detail {
template <class R>
concept byte_range = std::ranges::contiguous_range<R> && std::ranges::sized_range<R> &&
                     sizeof(std::ranges::range_value_t<R>) == 1 && std::is_trivially_copyable_v<std::ranges::range_value_t<R>>;
template <class R>
concept mutable_byte_range =
    byte_range<R> && !std::is_const_v<std::remove_reference_t<std::ranges::range_reference_t<R>>>;
}  // namespace detail

struct MutableBuffer {
    void* data = nullptr;
    std::size_t size = 0;
    MutableBuffer() = default;
    MutableBuffer(void* d, std::size_t n) : data(d), size(n) {}
    template <class R>
        requires detail::mutable_byte_range<R>
    MutableBuffer(R&& r) : data(std::ranges::data(r)), size(std::ranges::size(r)) {}
    std::byte* bytes() const { return static_cast<std::byte*>(data); }
    MutableBuffer subspan(std::size_t off) const { return {bytes() + off, size - off}; }
};

struct ConstBuffer {
    const void* data = nullptr;
    std::size_t size = 0;
    ConstBuffer() = default;
    ConstBuffer(const void* d, std::size_t n) : data(d), size(n) {}
    ConstBuffer(MutableBuffer b) : data(b.data), size(b.size) {}
    ConstBuffer(const char* s) : data(s), size(std::string_view(s).size()) {}
    template <class R>
        requires detail::byte_range<R>
    ConstBuffer(R&& r) : data(std::ranges::data(r)), size(std::ranges::size(r)) {}
    const std::byte* bytes() const { return static_cast<const std::byte*>(data); }
    ConstBuffer subspan(std::size_t off) const { return {bytes() + off, size - off}; }
};

}  // namespace braid::io
