// Small-object allocation: per-thread caches of freed blocks in front of
// malloc, by 16-byte size class.  Task cells and coroutine frames come from
// here, so a spawn costs no trip into malloc in the steady state.
#pragma once
#include <cstddef>

namespace braid::detail {

// nullptr when memory is exhausted, and for sizes above PTRDIFF_MAX.
void* alloc(std::size_t size) noexcept;
void dealloc(void* p, std::size_t size) noexcept;

}  // namespace braid::detail
