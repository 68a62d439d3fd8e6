// An element type as the C ABI describes it: size, alignment, relocate and
// drop.  Validated once at channel creation.
#pragma once

#include <braid/elem.h>

#include <cstddef>
#include <cstring>
#include <new>

#include "util/alloc.hpp"

namespace braid::detail {

struct ElemOps {
    std::size_t size = 0;
    std::size_t align = 1;
    braid_relocate_fn relocate = nullptr;
    braid_drop_fn drop = nullptr;

    // Sizes up to 1 MiB, power-of-two alignment up to 4096.
    static bool valid(std::size_t size, std::size_t align) {
        return size <= (std::size_t(1) << 20) && align > 0 && align <= 4096 && (align & (align - 1)) == 0;
    }
    void move(void* dst, void* src) const {
        if (relocate) {
            relocate(dst, src);
            return;
        }
        // The common sizes of plain values as inline loads and stores, not a
        // call into the C library's memcpy (every message moves twice).
        switch (size) {
        case 8: std::memcpy(dst, src, 8); break;
        case 4: std::memcpy(dst, src, 4); break;
        case 16: std::memcpy(dst, src, 16); break;
        case 0: break;
        default: std::memcpy(dst, src, size);
        }
    }
    void destroy(void* v) const {
        if (drop) drop(v);
    }
    // Bytes of storage for one element (at least 1, a multiple of align).
    std::size_t stride() const { return size == 0 ? align : (size + align - 1) / align * align; }
};

// Objects followed by element storage: where the storage starts after a
// header of `header` bytes, and memory aligned for both (the per-thread
// allocator up to 16-byte alignment, aligned operator new beyond).
inline std::size_t elem_offset(std::size_t header, std::size_t align) { return (header + align - 1) / align * align; }
inline void* alloc_aligned(std::size_t size, std::size_t align) {
    return align <= 16 ? alloc(size) : ::operator new(size, std::align_val_t(align), std::nothrow);
}
inline void free_aligned(void* p, std::size_t size, std::size_t align) {
    if (align <= 16) dealloc(p, size);
    else ::operator delete(p, std::align_val_t(align));
}

}  // namespace braid::detail
