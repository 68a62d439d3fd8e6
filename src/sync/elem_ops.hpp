// An element type as the C ABI describes it: size, alignment, relocate and
// drop.  Validated once at channel creation.
#pragma once

#include <braid/elem.h>

#include <cstddef>
#include <cstring>

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
        if (relocate) relocate(dst, src);
        else if (size) std::memcpy(dst, src, size);
    }
    void destroy(void* v) const {
        if (drop) drop(v);
    }
    // Bytes of storage for one element (at least 1, a multiple of align).
    std::size_t stride() const { return size == 0 ? align : (size + align - 1) / align * align; }
};

}  // namespace braid::detail
