// Entering a runtime on a plain thread (Tokio's Runtime::enter): while the
// guard is held, the thread's spawns, timers and Handle::current reach that
// runtime, without the thread becoming one of the runtime's own (it may
// still block and call block_on).  Guards nest and are left in reverse
// order, on the thread that made them.
#pragma once

#include <cstdint>
#include <thread>

namespace braid::detail {

class Core;

class EnterGuard {
public:
    // Enters `core` on the calling thread, holding a reference to it.
    explicit EnterGuard(Core* core);
    // Leaves: BRAID_OK, or BRAID_EINVAL when called on another thread or
    // out of order (the guard stays entered and alive then).
    int exit();
    ~EnterGuard();
    EnterGuard(const EnterGuard&) = delete;
    EnterGuard& operator=(const EnterGuard&) = delete;

private:
    Core* core_;
    Core* prev_;
    std::thread::id thread_;
    uint32_t depth_;
};

}  // namespace braid::detail
