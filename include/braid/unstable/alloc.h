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
 * in front of slabs mapped from the system (blocks up to 512 bytes; larger
 * ones come from malloc); blocks are aligned to 16 bytes, and a block of
 * more than 128 bytes takes whole 64-byte cache lines and starts on one (no
 * false sharing with its neighbours: a task polled on one worker does not
 * slow the one next to it on another).  braid_free must get
 * the size that was asked for (NULL ok).  braid_alloc returns NULL when
 * memory is exhausted, and for a size above PTRDIFF_MAX (half the address
 * space: no allocator can give it). */
BRAID_API void *braid_alloc(size_t size);
BRAID_API void braid_free(void *ptr, size_t size);

/* Bytes of the slabs that small blocks are carved from, in use or free: it
 * grows with a burst of tasks or queued messages and falls again once they
 * are gone (slabs left wholly free are unmapped, past a small reserve per
 * size class).  0 in sanitizer builds, where every block comes from
 * malloc. */
BRAID_API size_t braid_alloc_slab_bytes(void);

BRAID_EXTERN_C_END

#endif /* BRAID_UNSTABLE_ALLOC_H */
