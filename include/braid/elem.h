/* braid — how channels move values of any type.  Part of the stable C ABI.
 *
 * A channel is created with its element's size, alignment and two optional
 * functions; values are moved into the channel's own storage (no allocation
 * per message).  C users pass plain bytes and NULL functions (the bytes are
 * copied and nothing is destroyed); the C++ layer passes functions that
 * move-construct and destroy a T, so any C++ type travels.
 */
#ifndef BRAID_ELEM_H
#define BRAID_ELEM_H

#include <stddef.h>

#include "export.h"

BRAID_EXTERN_C_BEGIN

/* Moves the value at `src` into the uninitialised storage at `dst`; the
 * value at `src` is dead afterwards (its storage may be reused).  NULL:
 * memcpy of the element size. */
typedef void (*braid_relocate_fn)(void *dst, void *src);
/* Destroys the value at `value` (one that was never received).  NULL:
 * nothing to do. */
typedef void (*braid_drop_fn)(void *value);

/* Both run inside a channel's operations (some with its internal lock held),
 * on whichever thread sends, receives or frees: they must not fail, block,
 * call into the same channel, throw or longjmp.  Nothing is promised for a
 * C++ function that throws; the C++ layer's functions are noexcept, so a
 * throwing move constructor ends the program (std::terminate) rather than
 * leaving a channel halfway through an operation. */

BRAID_EXTERN_C_END

#endif /* BRAID_ELEM_H */
