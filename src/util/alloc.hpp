// Small-object allocation: per-thread caches of freed blocks in front of
// slabs mapped from the system, by 16-byte size class (blocks above 128
// bytes take whole 64-byte cache lines and start on one; larger blocks come
// from malloc).  Task cells and coroutine frames come from here, so a spawn
// costs no trip into malloc in the steady state; slabs that a drained burst
// leaves wholly free are unmapped again.
#pragma once
#include <cstddef>

namespace braid::detail {

// nullptr when memory is exhausted, and for sizes above PTRDIFF_MAX.
void* alloc(std::size_t size) noexcept;
void dealloc(void* p, std::size_t size) noexcept;
// Bytes of the slabs the small blocks are carved from, in use or free (0 in
// sanitizer builds, where every block comes from malloc).
std::size_t slab_bytes() noexcept;

}  // namespace braid::detail
