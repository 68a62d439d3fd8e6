// Waiting for another thread that is a few instructions from done (a lock
// holder, a sender between claiming a slot and publishing it): the CPU's
// pause hint while that is likely, then the CPU given away, in case the
// other thread was preempted.
#pragma once

#include <thread>

namespace braid::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// One step of a wait that has taken `spins` steps so far.
inline void backoff(int spins) noexcept {
    if (spins < 64) cpu_relax();
    else std::this_thread::yield();
}

}  // namespace braid::detail
