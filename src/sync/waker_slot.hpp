// One registered waker, guarded by the lock of the object that owns it.
// Registering replaces; taking clears (so it is called at most once per
// registration).
#pragma once

#include <braid/task.h>

namespace braid::detail {

struct WakerSlot {
    braid_wake_fn fn = nullptr;
    void* data = nullptr;

    void set(braid_wake_fn f, void* d) {
        fn = f;
        data = d;
    }
    void clear() { fn = nullptr; }
    bool empty() const { return fn == nullptr; }
    // Calls and clears the waker, if any.  Call with the owner's lock held, so
    // that clear() under the same lock means "never called after this".
    void wake() {
        if (braid_wake_fn f = fn) {
            fn = nullptr;
            f(data);
        }
    }
};

}  // namespace braid::detail
