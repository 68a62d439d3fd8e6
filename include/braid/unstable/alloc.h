/* braid — the small-object allocator of the C++ layer.  UNSTABLE: outside
 * the C ABI's stability promise (docs/c-api.md, "ABI stability"); define
 * BRAID_UNSTABLE_API before including it (the C++ headers do).  The symbols
 * carry the version BRAID_UNSTABLE_0.1.
 */
#ifndef BRAID_UNSTABLE_ALLOC_H
#define BRAID_UNSTABLE_ALLOC_H

#ifndef BRAID_UNSTABLE_API
#error "braid/unstable/alloc.h is outside braid's ABI stability promise: #define BRAID_UNSTABLE_API before including it"
#endif

#include <stddef.h>

#include "../export.h"

BRAID_EXTERN_C_BEGIN

/* Fast allocation for small objects (coroutine frames): per-thread caches
 * in front of malloc; blocks are aligned to 16 bytes.  braid_free must get
 * the size that was asked for (NULL ok).  braid_alloc returns NULL when
 * memory is exhausted, and for a size above PTRDIFF_MAX (half the address
 * space: no allocator can give it). */
BRAID_API void *braid_alloc(size_t size);
BRAID_API void braid_free(void *ptr, size_t size);

BRAID_EXTERN_C_END

#endif /* BRAID_UNSTABLE_ALLOC_H */
