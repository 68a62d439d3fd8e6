// Reading and writing integers and floats in a byte order (Tokio's
// AsyncReadExt::read_u32, read_i16_le, ... and AsyncWriteExt::write_u32,
// write_f64_le, ...): big-endian (network order) by default, `_le` for
// little-endian.
//
//   uint32_t len = co_await braid::io::read_u32(r);        // 4 bytes, big-endian
//   co_await braid::io::write_u16_le(w, 0x1234);          // writes 34 12
//   auto v = co_await braid::io::read_int<int64_t>(r, std::endian::little);
//
// A read is read_exact of the value's size: end of file first throws
// IoError(BRAID_EEOF).  A write is write_all: a writer that takes no bytes
// throws IoError(BRAID_EPIPE).  Neither is cancel-safe (part of the value
// may have moved).
#pragma once

#include <braid/io/ext.hpp>
#include <braid/io/traits.hpp>
#include <braid/task.hpp>

#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace braid::io {

namespace detail {
template <class T>
concept wire_number = (std::integral<T> && !std::same_as<T, bool>) || std::same_as<T, float> || std::same_as<T, double>;

template <class U>
U byte_swap(U v) {
    U out = 0;
    for (std::size_t i = 0; i < sizeof(U); ++i) out = U((out << 8) | ((v >> (8 * i)) & 0xff));
    return out;
}
template <std::size_t N>
using uint_of = std::conditional_t<N == 1, uint8_t, std::conditional_t<N == 2, uint16_t, std::conditional_t<N == 4, uint32_t, uint64_t>>>;

// The bytes of v in the given order.
template <class T>
void to_bytes(T v, std::endian order, unsigned char* out) {
    using U = uint_of<sizeof(T)>;
    U u;
    std::memcpy(&u, &v, sizeof u);
    if (order != std::endian::native) u = byte_swap(u);
    std::memcpy(out, &u, sizeof u);
}
template <class T>
T from_bytes(const unsigned char* in, std::endian order) {
    using U = uint_of<sizeof(T)>;
    U u;
    std::memcpy(&u, in, sizeof u);
    if (order != std::endian::native) u = byte_swap(u);
    T v;
    std::memcpy(&v, &u, sizeof v);
    return v;
}
}  // namespace detail

template <detail::wire_number T, AsyncRead R>
Task<T> read_int(R& r, std::endian order = std::endian::big) {
    unsigned char b[sizeof(T)];
    co_await read_exact(r, MutableBuffer(b, sizeof b));
    co_return detail::from_bytes<T>(b, order);
}

template <detail::wire_number T, AsyncWrite W>
Task<void> write_int(W& w, T v, std::endian order = std::endian::big) {
    unsigned char b[sizeof(T)];
    detail::to_bytes(v, order, b);
    co_await write_all(w, ConstBuffer(b, sizeof b));
}

#define BRAID_IO_WIRE_NUMBER(name, T)                                                                 \
    template <AsyncRead R>                                                                            \
    Task<T> read_##name(R& r) { return read_int<T>(r, std::endian::big); }                            \
    template <AsyncRead R>                                                                            \
    Task<T> read_##name##_le(R& r) { return read_int<T>(r, std::endian::little); }                    \
    template <AsyncWrite W>                                                                           \
    Task<void> write_##name(W& w, T v) { return write_int<T>(w, v, std::endian::big); }               \
    template <AsyncWrite W>                                                                           \
    Task<void> write_##name##_le(W& w, T v) { return write_int<T>(w, v, std::endian::little); }

BRAID_IO_WIRE_NUMBER(u8, uint8_t)
BRAID_IO_WIRE_NUMBER(i8, int8_t)
BRAID_IO_WIRE_NUMBER(u16, uint16_t)
BRAID_IO_WIRE_NUMBER(i16, int16_t)
BRAID_IO_WIRE_NUMBER(u32, uint32_t)
BRAID_IO_WIRE_NUMBER(i32, int32_t)
BRAID_IO_WIRE_NUMBER(u64, uint64_t)
BRAID_IO_WIRE_NUMBER(i64, int64_t)
BRAID_IO_WIRE_NUMBER(f32, float)
BRAID_IO_WIRE_NUMBER(f64, double)
#undef BRAID_IO_WIRE_NUMBER

}  // namespace braid::io
